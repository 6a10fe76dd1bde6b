//! `musicrec`: the thin command-line front of the pipeline. Each subcommand lives in `cmd/` and only
//! parses arguments, calls the stage crates and reports; no stage logic lives here.

// First: the `outln!`/`out!` macros the commands print with.
#[macro_use]
mod stdout;

mod allocator;
mod cmd;
mod models;
mod playlist;
mod progress;
mod report;
mod upstream_args;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// mimalloc, tuned in `allocator.rs`: Burn's per-op buffers are reused, not page-faulted in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Content-based music recommender: audio -> log-mel -> CNN/CRNN embeddings -> similar songs.
#[derive(Parser, Debug)]
#[command(name = "musicrec", version, about, long_about = None, propagate_version = true,
    after_help = "\
Exit status:
  0  done. Files that could not be read are listed on stderr (and by `scan --failed`); a library \
with a few broken files is not a failure.
  1  some of the files named on the command line failed (predict, features, dataset prepare, \
eval-recs); the others were processed.
  2  nothing could be done: bad arguments, no catalog, an unreadable model, no music files found, \
or not one file could be read.

Output ends quietly when its reader goes away (`musicrec recommend ... | head -2`).")]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compute log-mel spectrograms (librosa-compatible) and write them as .npy files.
    Features(cmd::features::Args),
    /// Decode a music file to the mono float WAV that the features stage sees.
    Decode(cmd::decode::Args),
    /// Build, screen, split and cache data sets (GTZAN, FMA, folders, manifests).
    #[command(subcommand)]
    Dataset(cmd::dataset::Command),
    /// Train a genre classifier (CRNN or CNN) on cached log-mel windows into a model directory.
    Train(cmd::train::Args),
    /// Genre probabilities and top genre of audio files with a trained model directory.
    Predict(cmd::predict::Args),
    /// Show a model's summary and model card (the built-in model unless --model).
    Model(cmd::model::Args),
    /// Embed music folders into the catalog with a trained model (incremental), or list failures.
    Scan(cmd::scan::Args),
    /// Summarise the catalog: tracks, failures, models, genres.
    Stats(cmd::stats::Args),
    /// Recommend songs from the catalog that sound like the seed songs.
    Recommend(cmd::recommend::Args),
    /// A longer playlist like the seed songs (or an M3U), varied, as M3U for a player.
    Mix(cmd::mix::Args),
    /// A playlist that moves step by step from one song to another.
    Path(cmd::path::Args),
    /// Keep an MPD queue going with songs like the ones it plays, or queue a mix (--mix K).
    Mpd(cmd::mpd::Args),
    /// Find tracks in the catalog (and their ids) by artist, title, album or file name.
    Tracks(cmd::tracks::Args),
    /// Serve the web page, the JSON API and OpenSubsonic similar songs over the catalog.
    Serve(cmd::serve::Args),
    /// Scan a music folder with the built-in model and recommend songs like five of it.
    Quickstart(cmd::quickstart::Args),
    /// Offline recommendation quality: genre precision@k of both methods, MFCC and random baselines.
    EvalRecs(cmd::eval_recs::Args),
    /// Record that a user likes or dislikes a song (it steers their recommendations).
    Feedback(cmd::feedback::Args),
    /// Listening experiments: blind sessions with decoys, ratings, analysis, simulation.
    #[command(subcommand)]
    Experiment(cmd::experiment::Command),
    /// Evaluate genre classifiers on a test split: per-genre metrics, significance, plots, noise.
    Eval(cmd::eval::Args),
    /// The paper end to end: features, CNN and CRNN, evaluation, catalog, recommendations, report.
    Reproduce(cmd::reproduce::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    if !matches!(cli.command, Command::Serve(_)) {
        // A one-shot job's memory goes back to the kernel when it exits; a server's should not stay at its peak.
        allocator::keep_freed_memory();
    }
    let result = match cli.command {
        Command::Features(args) => cmd::features::run(args),
        Command::Decode(args) => cmd::decode::run(args),
        Command::Dataset(command) => cmd::dataset::run(command),
        Command::Train(args) => cmd::train::run(args),
        Command::Predict(args) => cmd::predict::run(args),
        Command::Model(args) => cmd::model::run(args),
        Command::Scan(args) => cmd::scan::run(args),
        Command::Stats(args) => cmd::stats::run(args),
        Command::Recommend(args) => cmd::recommend::run(args),
        Command::Mix(args) => cmd::mix::run(args),
        Command::Path(args) => cmd::path::run(args),
        Command::Mpd(args) => cmd::mpd::run(args),
        Command::Tracks(args) => cmd::tracks::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Quickstart(args) => cmd::quickstart::run(args),
        Command::EvalRecs(args) => cmd::eval_recs::run(args),
        Command::Feedback(args) => cmd::feedback::run(args),
        Command::Experiment(command) => cmd::experiment::run(command),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Reproduce(args) => cmd::reproduce::run(args),
    };
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): done, as ripgrep and coreutils end.
        Err(err) if stdout::is_closed_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", report::one_line(&err));
            // Nothing could be done; 2 as for clap's usage errors (see the exit status in --help).
            std::process::ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // Symphonia logs its own view of a bad packet; musicrec reports each bad file in one line of
    // its own, so the decoder's chatter is off unless RUST_LOG asks for it. The tag reader's
    // (lofty's) warnings about odd tags are for -v: the audio is fine, and the tags read are used.
    // They carry the file's name (the catalog's `tags` span).
    let quiet_tags = if verbose == 0 { ",lofty=error" } else { "" };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default},symphonia=off{quiet_tags}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| progress::LogWriter)
        .with_ansi(progress::stderr_is_terminal())
        .init();
}
