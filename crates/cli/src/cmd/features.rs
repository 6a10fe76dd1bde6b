//! `musicrec features`: decode music files, compute their log-mel spectrograms and write them as `.npy`
//! (float32, `[n_mels, n_frames]`), one file or a parallel batch.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use musicrec_features::{MelConfig, MelExtractor, write_npy};
use rayon::prelude::*;

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

    /// Files processed in parallel [default: all cores].
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
        let mut cfg = MelConfig::from_preset(&self.preset)
            .with_context(|| format!("unknown preset {:?}", self.preset))?;
        if let Some(sr) = self.sr {
            cfg.sample_rate = sr;
        }
        if let Some(n_fft) = self.n_fft {
            cfg.n_fft = n_fft;
        }
        if let Some(hop) = self.hop {
            cfg.hop_length = hop;
        }
        if let Some(n_mels) = self.n_mels {
            cfg.n_mels = n_mels;
        }
        if let Some(fmin) = self.fmin {
            cfg.fmin = fmin;
        }
        if let Some(fmax) = self.fmax {
            cfg.fmax = Some(fmax);
        }
        if let Some(TopDb(top_db)) = self.top_db {
            cfg.top_db = top_db;
        }
        cfg.validate()?;
        Ok(cfg)
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
            extract_one(&extractor, input, out).with_context(|| input.display().to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(dir)) => run_batch(&extractor, &args.inputs, dir, args.jobs),
        // clap's "output" group makes exactly one of them present.
        _ => bail!("give either --out or --out-dir"),
    }
}

/// Decode, resample, compute and atomically write one log-mel.
fn extract_one(extractor: &MelExtractor, input: &Path, out: &Path) -> anyhow::Result<()> {
    // The audio error's Display is the whole one-line reason; keep its source chain out of the message.
    let audio = musicrec_audio::load(input, Some(extractor.config().sample_rate))
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let mel = extractor.log_mel(&audio.samples);
    write_npy(out, &mel).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

fn run_batch(
    extractor: &MelExtractor,
    inputs: &[PathBuf],
    out_dir: &Path,
    jobs: Option<NonZeroUsize>,
) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let mut seen = HashSet::new();
    let inputs: Vec<&PathBuf> = inputs.iter().filter(|p| seen.insert(*p)).collect();
    let names = output_names(&inputs);
    for (input, name) in inputs.iter().zip(&names) {
        let stem = input.file_stem().unwrap_or_default().to_string_lossy();
        if *name != format!("{stem}.npy") {
            eprintln!(
                "note: {} -> {name} (another input has the same stem)",
                input.display()
            );
        }
    }

    let jobs = jobs.map_or_else(rayon::current_num_threads, NonZeroUsize::get);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start worker threads")?;
    let progress = ProgressBar::with_draw_target(
        Some(inputs.len() as u64),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    progress.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files  {elapsed} (eta {eta})  {wide_msg}",
        )
        .expect("static template is valid"),
    );
    let failures = Mutex::new(Vec::new());
    pool.install(|| {
        inputs.par_iter().zip(&names).for_each(|(input, name)| {
            progress.set_message(input.display().to_string());
            if let Err(err) = extract_one(extractor, input, &out_dir.join(name)) {
                failures
                    .lock()
                    .unwrap()
                    .push((input.to_path_buf(), crate::report::one_line(&err)));
            }
            progress.inc(1);
        });
    });
    progress.finish_and_clear();

    let mut failures = failures.into_inner().unwrap();
    let total = inputs.len();
    if failures.is_empty() {
        eprintln!("wrote {total} log-mel files to {}", out_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    failures.sort();
    eprintln!("{} of {total} files failed:", failures.len());
    for (input, reason) in &failures {
        eprintln!("  {}: {reason}", input.display());
    }
    eprintln!(
        "wrote the other {} to {}",
        total - failures.len(),
        out_dir.display()
    );
    Ok(ExitCode::FAILURE)
}

/// One distinct output file name per input: `<stem>.npy`; inputs sharing a stem get
/// `<file name>.npy`, and those still sharing one (same name in different folders) are numbered
/// `<file name>-2.npy`, `-3`, ... in input order. Never two inputs on one output.
fn output_names(inputs: &[&PathBuf]) -> Vec<String> {
    let stem = |p: &Path| {
        p.file_stem()
            .unwrap_or(p.as_os_str())
            .to_string_lossy()
            .into_owned()
    };
    let file_name = |p: &Path| {
        p.file_name()
            .unwrap_or(p.as_os_str())
            .to_string_lossy()
            .into_owned()
    };
    let mut stem_counts: HashMap<String, usize> = HashMap::new();
    for p in inputs {
        *stem_counts.entry(stem(p)).or_default() += 1;
    }
    let mut used: HashSet<String> = inputs
        .iter()
        .map(|p| stem(p))
        .filter(|s| stem_counts[s] == 1)
        .map(|s| format!("{s}.npy"))
        .collect();
    inputs
        .iter()
        .map(|p| {
            let s = stem(p);
            if stem_counts[&s] == 1 {
                return format!("{s}.npy");
            }
            let base = file_name(p);
            let mut name = format!("{base}.npy");
            let mut n = 1;
            while !used.insert(name.clone()) {
                n += 1;
                name = format!("{base}-{n}.npy");
            }
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_are_stems_unless_they_collide() {
        let paths: Vec<PathBuf> = [
            "a/blues.00000.wav",
            "a/song.mp3",
            "b/song.wav",
            "c/song.mp3",
            "d/other.flac",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let refs: Vec<&PathBuf> = paths.iter().collect();
        let names = output_names(&refs);
        assert_eq!(
            names,
            [
                "blues.00000.npy",
                "song.mp3.npy",
                "song.wav.npy",
                "song.mp3-2.npy",
                "other.npy"
            ]
        );
    }

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
