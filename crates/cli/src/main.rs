//! `musicrec`: the thin command-line front of the pipeline. Each subcommand lives in `cmd/` and only
//! parses arguments, calls the stage crates and reports; no stage logic lives here.

mod cmd;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Content-based music recommender: audio -> log-mel -> CRNN embeddings -> similar songs.
#[derive(Parser, Debug)]
#[command(name = "musicrec", version, about, long_about = None, propagate_version = true)]
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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Features(args) => cmd::features::run(args),
        Command::Decode(args) => cmd::decode::run(args),
        Command::Dataset(command) => cmd::dataset::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
