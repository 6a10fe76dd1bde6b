//! `musicrec features`: decode music files, compute their log-mel spectrograms and write them as `.npy`
//! (float32, `[n_mels, n_frames]`), one file or a parallel batch.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_datasets::extract::{self, extract_file};
use musicrec_features::{MelConfig, MelExtractor, MelOverrides};

use crate::progress::files_bar;

/// Compute log-mel spectrograms (librosa-compatible) and write them as .npy files.
///
/// Each input is decoded (any format `musicrec decode` reads), mixed to mono, resampled to the
/// preset's sample rate and turned into a dB log-mel exactly as librosa 0.11 computes
/// `power_to_db(melspectrogram(y, sr, n_fft, hop_length, n_mels, fmin, fmax), top_db=80)`.
/// Output: float32 array of shape [n_mels, n_frames], C order, written atomically.
#[derive(clap::Args, Debug)]
#[command(
    group(clap::ArgGroup::new("output").required(true).args(["out", "out_dir"])),
    after_help = "Each input is decoded, mixed to mono, resampled to the preset's sample rate and turned \
        into the dB log-mel that librosa 0.11 computes: power_to_db(melspectrogram(y, sr, n_fft, \
        hop_length, n_mels, fmin, fmax), ref=1.0, amin=1e-10, top_db) with a periodic Hann window, \
        centred zero-padded frames and Slaney mels. Output: float32 .npy of shape [n_mels, n_frames], \
        written atomically (temporary file, then rename).\n\n\
        Examples:\n  \
        musicrec features song.mp3 --out song.npy\n  \
        musicrec features music/*.flac --out-dir mels/ --jobs 4\n  \
        musicrec features clip.wav --out clip.npy --preset choi --n-mels 64\n\n\
        In a batch (--out-dir) a file that cannot be decoded is skipped and listed at the end; the \
        exit status is then non-zero."
)]
pub struct Args {
    /// Input audio files (WAV, FLAC, MP3, Ogg Vorbis/Opus, AAC/M4A, AIFF, AU, ...).
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<PathBuf>,

    /// Output .npy file (exactly one input).
    #[arg(short, long, value_name = "OUT.npy")]
    out: Option<PathBuf>,

    /// Output directory: one <input stem>.npy per input (created if missing). Inputs that share a
    /// stem are written as <file name>.npy (song.mp3.npy, song.wav.npy), then numbered.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,

    /// Worker threads: files in parallel, and a long file (20 s or more per thread) in segments
    /// [default: all cores].
    #[arg(short, long, value_name = "N")]
    jobs: Option<NonZeroUsize>,

    /// Parameter preset: librosa (22050 Hz, n_fft 2048, hop 512, 128 mels) or choi (12000 Hz,
    /// n_fft 512, hop 256, 96 mels; Choi et al. 2017). The options below override single values.
    #[arg(long, default_value = "librosa", value_parser = MelConfig::PRESETS)]
    preset: String,

    /// Sample rate to resample to before analysis, Hz.
    #[arg(long, value_name = "HZ")]
    sr: Option<u32>,

    /// FFT size = window length, samples.
    #[arg(long, value_name = "N")]
    n_fft: Option<usize>,

    /// Hop between frames, samples.
    #[arg(long, value_name = "N")]
    hop: Option<usize>,

    /// Number of mel bands.
    #[arg(long, value_name = "N")]
    n_mels: Option<usize>,

    /// Lowest mel filter edge, Hz.
    #[arg(long, value_name = "HZ")]
    fmin: Option<f32>,

    /// Highest mel filter edge, Hz [preset: sr/2].
    #[arg(long, value_name = "HZ")]
    fmax: Option<f32>,

    /// Clip the output at this many dB below its maximum; "none" keeps the full range (floor -100 dB).
    #[arg(long, value_name = "DB|none", value_parser = parse_top_db)]
    top_db: Option<TopDb>,
}

/// `--top-db` value: a number, or `none` to disable clipping.
#[derive(Clone, Copy, Debug)]
struct TopDb(Option<f32>);

fn parse_top_db(s: &str) -> Result<TopDb, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(TopDb(None));
    }
    s.parse::<f32>()
        .map(|v| TopDb(Some(v)))
        .map_err(|_| format!("expected a number of dB or \"none\", got {s:?}"))
}

impl Args {
    fn mel_config(&self) -> anyhow::Result<MelConfig> {
        let preset = MelConfig::from_preset(&self.preset)
            .with_context(|| format!("unknown preset {:?}", self.preset))?;
        let overrides = MelOverrides {
            sample_rate: self.sr,
            n_fft: self.n_fft,
            hop_length: self.hop,
            n_mels: self.n_mels,
            fmin: self.fmin,
            fmax: self.fmax,
            top_db: self.top_db.map(|TopDb(top_db)| top_db),
        };
        Ok(overrides.apply(preset)?)
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = args.mel_config()?;
    let extractor = MelExtractor::new(&cfg)?;
    match (&args.out, &args.out_dir) {
        (Some(out), None) => {
            let [input] = &args.inputs[..] else {
                bail!(
                    "--out takes exactly one input ({} given); use --out-dir for several",
                    args.inputs.len()
                );
            };
            extract_file(&extractor, input, out).with_context(|| input.display().to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(dir)) => run_batch(&extractor, &args.inputs, dir, args.jobs),
        // clap's "output" group makes exactly one of them present.
        _ => bail!("give either --out or --out-dir"),
    }
}

fn run_batch(
    extractor: &MelExtractor,
    inputs: &[PathBuf],
    out_dir: &Path,
    jobs: Option<NonZeroUsize>,
) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let plan = extract::plan_batch(inputs);
    for (input, name) in plan.iter().filter(|(i, n)| extract::is_renamed(i, n)) {
        eprintln!(
            "note: {} -> {name} (another input has the same stem)",
            input.display()
        );
    }
    let pool = extract::thread_pool(jobs).context("cannot start worker threads")?;
    let progress = files_bar(
        plan.len() as u64,
        "{bar:40} {pos}/{len} files  {elapsed} (eta {eta})  {wide_msg}",
    );
    let failures = pool.install(|| extract::extract_batch(extractor, &plan, out_dir, &progress));
    progress.finish_and_clear();

    let total = plan.len();
    if failures.is_empty() {
        eprintln!("wrote {total} log-mel files to {}", out_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let failed = failures.len();
    eprintln!("{failed} of {total} files failed:");
    for (input, err) in failures {
        let reason = crate::report::one_line(&err.into());
        eprintln!("  {}: {reason}", input.display());
    }
    eprintln!(
        "wrote the other {} to {}",
        total - failed,
        out_dir.display()
    );
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_overrides_apply_one_by_one() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let parse = |extra: &[&str]| {
            let argv = [&["x", "in.wav", "--out", "o.npy"], extra].concat();
            Cli::try_parse_from(argv).unwrap().args.mel_config()
        };
        assert_eq!(parse(&[]).unwrap(), MelConfig::librosa());
        assert_eq!(parse(&["--preset", "choi"]).unwrap(), MelConfig::choi());
        let cfg = parse(&[
            "--preset", "choi", "--n-mels", "64", "--top-db", "none", "--fmax", "5000",
        ])
        .unwrap();
        assert_eq!(
            cfg,
            MelConfig {
                n_mels: 64,
                top_db: None,
                fmax: Some(5000.0),
                ..MelConfig::choi()
            }
        );
        let cfg = parse(&[
            "--sr", "16000", "--n-fft", "1024", "--hop", "160", "--fmin", "30",
        ])
        .unwrap();
        assert_eq!(
            cfg,
            MelConfig {
                sample_rate: 16000,
                n_fft: 1024,
                hop_length: 160,
                fmin: 30.0,
                ..MelConfig::librosa()
            }
        );
        assert!(parse(&["--fmax", "20000"]).is_err());
        assert!(
            Cli::try_parse_from(["x", "in.wav"]).is_err(),
            "an output is required"
        );
        assert!(Cli::try_parse_from(["x", "in.wav", "--out", "a", "--out-dir", "b"]).is_err());
    }
}
