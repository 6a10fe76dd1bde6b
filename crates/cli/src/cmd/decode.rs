//! `musicrec decode`: write the mono float WAV that the features stage computes from, to listen to
//! or to compare with other tools.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Decode a music file to the mono float WAV that the features stage sees.
///
/// The file is decoded (encoder delay and padding removed), mixed to mono by averaging the
/// channels, and resampled when --sr is given, exactly as `musicrec features` does before its STFT.
/// The output is a 32-bit float WAV, written atomically.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "The file is decoded (encoder delay and padding removed), mixed to mono by averaging \
        the channels and resampled when --sr is given, exactly as `musicrec features` does before its \
        STFT. The output is a 32-bit float WAV, written atomically.\n\n\
        Examples:\n  \
    musicrec decode song.mp3 --out song.wav             # native sample rate\n  \
    musicrec decode song.mp3 --out song.wav --sr 22050  # what `features --preset librosa` sees"
)]
pub struct Args {
    /// Input audio file (WAV, FLAC, MP3, Ogg Vorbis/Opus, AAC/M4A, AIFF, AU, ...).
    #[arg(value_name = "FILE")]
    input: PathBuf,

    /// Output WAV file (mono, 32-bit float).
    #[arg(short, long, value_name = "OUT.wav")]
    out: PathBuf,

    /// Resample to this rate, Hz [default: the file's own rate].
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(1..))]
    sr: Option<u32>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The audio error's Display is the whole one-line reason; keep its source chain out of the message.
    let audio = musicrec_audio::load(&args.input, args.sr)
        .map_err(|err| anyhow::anyhow!("{}: {err}", args.input.display()))?;
    // Written under a temporary name beside the target, then renamed: never a half-written WAV.
    let dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".musicrec-").suffix(".wav.tmp");
    // A temporary file is private (0600); the WAV it becomes is an ordinary file: 0666 less the
    // umask, 0644 as a rule.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    musicrec_audio::write_wav_f32(tmp.path(), &audio)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    tmp.persist(&args.out)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    tracing::info!(
        "{}: {} samples at {} Hz ({:.2} s)",
        args.out.display(),
        audio.samples.len(),
        audio.sample_rate,
        audio.duration_secs()
    );
    Ok(ExitCode::SUCCESS)
}
