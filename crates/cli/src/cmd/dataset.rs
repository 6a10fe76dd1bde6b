//! `musicrec dataset ...`: build manifests from GTZAN, the FMA, label folders or a hand-written CSV
//! (screening, genre choice, per-genre cap, splits), fill the feature cache, and print statistics.
//! All logic lives in `musicrec_datasets`; this module parses options and reports.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::progress::files_bar;
use anyhow::{Context, bail};
use indicatif::ProgressBar;
use musicrec_datasets::fma::{FmaSource, FmaSubset};
use musicrec_datasets::steps;
use musicrec_datasets::{BuildOptions, DatasetStats, Loaded, ScreenConfig, SplitMode, SplitRatio};
use musicrec_features::MelConfig;

const BUILD_NOTES: &str = "\
Screening (unless --no-screen) decodes every candidate in parallel and drops files that do not decode, \
are shorter than --min-duration or quieter than --silence-db. Every dropped track is listed with its \
reason in <OUT stem>.dropped.csv next to the manifest. Both files are written atomically.";

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Manifest from a GTZAN tree: DIR/<genre>/<genre>.NNNNN.{wav,au}; genres are the folder names.
    #[command(after_help = format!("Example:\n  musicrec dataset gtzan ../shared/data/gtzan-mini --out data/gtzan.csv --seed 1\n\n{BUILD_NOTES}"))]
    Gtzan(FolderArgs),
    /// Manifest from the Free Music Archive (tracks.csv + genres.csv + audio/NNN/NNNNNN.mp3).
    ///
    /// A track's genre is its single top-level genre, derived from track,genres_all through
    /// genres.csv's top_level column; tracks spanning several top-level genres, with no genre, with a
    /// malformed row or a missing mp3 are dropped. Labels are genres.csv titles (Hip-Hop, Rock, ...).
    #[command(after_help = format!("Example, the paper's data set (7 genres x 1000 single-genre clips, split 8:1:1):\n  \
        musicrec dataset fma --tracks fma_metadata/tracks.csv --genres-csv fma_metadata/genres.csv \\\n    \
        --audio fma_large --subset large \\\n    \
        --genres classical,electronic,folk,hip-hop,instrumental,jazz,rock --per-genre 1000 --out data/fma7.csv\n\n{BUILD_NOTES}"))]
    Fma(FmaArgs),
    /// Manifest from any folder with one sub-folder per label (audio found recursively inside each).
    #[command(after_help = format!("Example:\n  musicrec dataset folder my-music/ --out data/mine.csv\n\n{BUILD_NOTES}"))]
    Folder(FolderArgs),
    /// Screen, cap and split a hand-written manifest (CSV with at least path,label columns).
    ///
    /// Columns: path,label[,artist,title,split,track_id,duration]; relative paths are relative to the
    /// CSV's folder. Malformed rows are dropped and listed; --split keep uses the CSV's split column.
    #[command(after_help = format!("Example:\n  musicrec dataset manifest my-list.csv --out data/mine.csv --artist-filter\n\n{BUILD_NOTES}"))]
    Manifest(ManifestArgs),
    /// Compute every clip's log-mel once into a feature cache (resumable, parallel).
    ///
    /// Entries are keyed by the blake3 hash of the audio file and by the feature parameters, so
    /// renamed files are found again and changed parameters never reuse stale entries. Killed at any
    /// moment and rerun, it resumes where it stopped; entries are written atomically. Files that cannot
    /// be decoded are listed and skipped (exit status 1), the rest is computed.
    #[command(
        after_help = "Example:\n  musicrec dataset prepare data/gtzan.csv --cache cache/ --jobs 2"
    )]
    Prepare(PrepareArgs),
    /// Clips per genre and split, durations, and dropped tracks by reason.
    #[command(
        after_help = "Example:\n  musicrec dataset stats data/gtzan.csv   (reads data/gtzan.dropped.csv too when present)"
    )]
    Stats(StatsArgs),
}

#[derive(clap::Args, Debug)]
pub struct FolderArgs {
    /// Root folder.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    #[command(flatten)]
    build: BuildArgs,
}

#[derive(clap::Args, Debug)]
pub struct ManifestArgs {
    /// Input manifest CSV.
    #[arg(value_name = "IN.csv")]
    input: PathBuf,
    #[command(flatten)]
    build: BuildArgs,
}

#[derive(clap::Args, Debug)]
pub struct FmaArgs {
    /// FMA tracks.csv (fma_metadata/tracks.csv).
    #[arg(long, value_name = "FILE")]
    tracks: PathBuf,
    /// FMA genres.csv (fma_metadata/genres.csv).
    #[arg(long = "genres-csv", value_name = "FILE")]
    genres_csv: PathBuf,
    /// Audio folder holding NNN/NNNNNN.mp3 (fma_small, fma_large, ...).
    #[arg(long, value_name = "DIR")]
    audio: PathBuf,
    /// FMA subset; they nest: small ⊂ medium ⊂ large ⊂ full.
    #[arg(long, default_value = "large", value_parser = ["small", "medium", "large", "full"])]
    subset: String,
    #[command(flatten)]
    build: BuildArgs,
}

/// How splits are assigned.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum SplitArg {
    /// Stratified per genre at --split-ratio, seeded (--artist-filter: no artist in two splits).
    Stratified,
    /// Keep the source's own split (the FMA's training/validation/test, a manifest's split column);
    /// tracks without one are dropped.
    #[value(alias = "fma")]
    Keep,
    /// Leave splits empty.
    None,
}

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// Output manifest CSV (the dropped report goes next to it as <stem>.dropped.csv).
    #[arg(short, long, value_name = "OUT.csv")]
    out: PathBuf,
    /// Keep only these genres, comma-separated (case and punctuation ignored: hip-hop = Hip-Hop). An
    /// unknown name is an error listing the available ones.
    #[arg(long, value_delimiter = ',', value_name = "G1,G2,...")]
    genres: Option<Vec<String>>,
    /// At most N clips per genre, drawn at random (seeded) among those that pass screening.
    #[arg(long, value_name = "N")]
    per_genre: Option<usize>,
    /// Seed of every random choice (cap draw, splits): same seed, same data set.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Split assignment: stratified, keep (alias fma: the FMA's own split), none.
    #[arg(long, value_enum, default_value_t = SplitArg::Stratified)]
    split: SplitArg,
    /// train:validation:test proportions for --split stratified.
    #[arg(long, default_value = "8:1:1", value_name = "T:V:T")]
    split_ratio: SplitRatio,
    /// No artist in two splits (tracks without an artist count as their own artist).
    #[arg(long)]
    artist_filter: bool,
    /// Drop clips shorter than this, seconds.
    #[arg(long, default_value_t = ScreenConfig::default().min_duration_secs, value_name = "SECS")]
    min_duration: f64,
    /// Drop clips whose RMS level is below this, dBFS (full scale = 0).
    #[arg(long, default_value_t = ScreenConfig::default().silence_dbfs, allow_hyphen_values = true, value_name = "DB")]
    silence_db: f32,
    /// Skip decoding-based screening (decode errors, duration, silence); durations stay empty.
    #[arg(long)]
    no_screen: bool,
    /// Files decoded in parallel [default: all cores].
    #[arg(short, long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
}

#[derive(clap::Args, Debug)]
pub struct PrepareArgs {
    /// Manifest CSV whose clips to compute.
    #[arg(value_name = "MANIFEST.csv")]
    manifest: PathBuf,
    /// Cache folder (created if missing; shared by every manifest and preset).
    #[arg(long, value_name = "DIR")]
    cache: PathBuf,
    /// Feature preset: choi (12000 Hz, n_fft 512, hop 256, 96 mels; what `train` uses by default)
    /// or librosa (22050 Hz, n_fft 2048, hop 512, 128 mels).
    #[arg(long, default_value = "choi", value_parser = MelConfig::PRESETS)]
    preset: String,
    /// Files processed in parallel [default: all cores].
    #[arg(short, long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// Manifest CSV.
    #[arg(value_name = "MANIFEST.csv")]
    manifest: PathBuf,
    /// Dropped report [default: <stem>.dropped.csv next to the manifest, when present].
    #[arg(long, value_name = "FILE")]
    dropped: Option<PathBuf>,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Gtzan(a) => {
            let loaded = musicrec_datasets::gtzan::load_gtzan(&a.dir)?;
            build_and_write(loaded, &a.build)
        }
        Command::Folder(a) => {
            let loaded = musicrec_datasets::folder::load_folder(&a.dir)?;
            build_and_write(loaded, &a.build)
        }
        Command::Manifest(a) => {
            let loaded = Loaded::from_manifest(&a.input)?;
            build_and_write(loaded, &a.build)
        }
        Command::Fma(a) => {
            let subset: FmaSubset = a.subset.parse().map_err(anyhow::Error::msg)?;
            let loaded = musicrec_datasets::fma::load_fma(&FmaSource {
                tracks_csv: a.tracks,
                genres_csv: a.genres_csv,
                audio_dir: a.audio,
                subset,
            })?;
            build_and_write(loaded, &a.build)
        }
        Command::Prepare(a) => prepare(a),
        Command::Stats(a) => stats(a),
    }
}

fn build_and_write(loaded: Loaded, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    if !args.min_duration.is_finite() || args.min_duration < 0.0 {
        bail!("--min-duration must be a number of seconds >= 0");
    }
    if !args.silence_db.is_finite() {
        bail!("--silence-db must be a finite dBFS level, e.g. -60");
    }
    let options = BuildOptions {
        genres: args.genres.clone(),
        per_genre: args.per_genre,
        screen: (!args.no_screen).then_some(ScreenConfig {
            min_duration_secs: args.min_duration,
            silence_dbfs: args.silence_db,
        }),
        split: match args.split {
            SplitArg::Stratified => SplitMode::Stratified {
                ratio: args.split_ratio,
                artist_filter: args.artist_filter,
            },
            SplitArg::Keep => SplitMode::Keep,
            SplitArg::None => SplitMode::None,
        },
        seed: args.seed,
    };
    let candidates = loaded.entries.len();
    let pool = thread_pool(args.jobs)?;
    let progress = progress_bar(0, "screening");
    let started = Instant::now();
    let built = pool.install(|| musicrec_datasets::build(loaded, &options, &progress))?;
    progress.finish_and_clear();
    let report = steps::write_built(&built, candidates, &args.out)?;
    outln!(
        "wrote {} clips in {} genres to {} ({:.1} s); {} dropped, listed in {}",
        built.manifest.entries.len(),
        built.manifest.labels().len(),
        args.out.display(),
        started.elapsed().as_secs_f64(),
        built.dropped.len(),
        report.display()
    )?;
    out!(
        "{}",
        DatasetStats::new(&built.manifest, Some(&built.dropped))
    )?;
    Ok(ExitCode::SUCCESS)
}

fn prepare(args: PrepareArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(args.jobs)?;
    let progress = progress_bar(0, "log-mel");
    let started = Instant::now();
    let prepared = pool.install(|| {
        steps::prepare_manifest(&args.manifest, &args.cache, &args.preset, &progress)
    })?;
    progress.finish_and_clear();
    let report = prepared.report;
    let secs = started.elapsed().as_secs_f64();
    outln!(
        "{} files: {} computed, {} already cached, {} failed in {secs:.2} s ({:.1} computed/s, {} threads); cache {}",
        report.total,
        report.computed,
        report.cached,
        report.failed.len(),
        report.computed as f64 / secs.max(1e-9),
        pool.current_num_threads(),
        prepared.config_dir.display()
    )?;
    if report.failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("skipped {} files:", report.failed.len());
    for (path, reason) in &report.failed {
        eprintln!("  {}: {reason}", path.display());
    }
    Ok(ExitCode::FAILURE)
}

fn stats(args: StatsArgs) -> anyhow::Result<ExitCode> {
    out!(
        "{}",
        steps::read_stats(&args.manifest, args.dropped.as_deref())?
    )?;
    Ok(ExitCode::SUCCESS)
}

fn thread_pool(jobs: Option<NonZeroUsize>) -> anyhow::Result<rayon::ThreadPool> {
    musicrec_datasets::extract::thread_pool(jobs).context("cannot start worker threads")
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = files_bar(
        len,
        "{prefix} {bar:40} {pos}/{len} files  {elapsed} (eta {eta})",
    );
    bar.set_prefix(what.to_string());
    bar
}
