//! `musicrec path`: a playlist that walks from one song to another, each song sounding more like
//! the end and less like the start than the one before (`musicrec_app::path`, over
//! `EmbeddingIndex::path`); this module parses and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_app::table::Table;
use musicrec_app::{Song, Step, resolve_seed};
use musicrec_recommend::MAX_PATH_LEN;

use crate::playlist::m3u;

/// A playlist that moves step by step from one song to another.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Every song of the path is more similar to --to and less similar to --from than the song before \
it (cosine similarity of the model's embeddings), and no song comes twice; among such paths, the \
one whose songs lie nearest evenly spaced points between the two is taken. When the catalog holds \
too few songs between the two, the path is shorter than --count (a note says so).

Examples:
  musicrec path --from \"Miles Davis - So What\" --to ~/Music/metal/track.flac --count 12
  musicrec path --from 12 --to 40 --format m3u --base ~/Music > journey.m3u")]
pub struct Args {
    /// The first song (path, catalog id, or \"artist - title\").
    #[arg(long, value_name = "TRACK")]
    from: String,
    /// The last song.
    #[arg(long, value_name = "TRACK")]
    to: String,
    /// Songs in the path, both ends included (2 to 100).
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// Model whose embeddings to use, as for `recommend`.
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// Output: table, json, or m3u.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "m3u"])]
    format: String,
    /// With --format m3u: paths relative to this folder.
    #[arg(long, value_name = "DIR")]
    base: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(2..=MAX_PATH_LEN).contains(&args.count) {
        bail!("--count must be 2 to {MAX_PATH_LEN} (both ends included)");
    }
    let (store, model) = crate::models::load(args.db.as_deref(), args.model.as_deref())?;
    let from = resolve_seed(store.as_ref(), &model.set, &args.from).context("--from")?;
    let to = resolve_seed(store.as_ref(), &model.set, &args.to).context("--to")?;
    let walk = musicrec_app::path(store.as_ref(), &model, from, to, args.count)?;
    if let Some(note) = &walk.note {
        eprintln!("note: {note}");
    }
    match args.format.as_str() {
        "json" => outln!("{}", serde_json::to_string_pretty(&walk.steps)?)?,
        "m3u" => {
            let songs: Vec<Song> = walk.steps.into_iter().map(|s| s.song).collect();
            out!("{}", m3u(&songs, args.base.as_deref())?)?;
        }
        _ => print_table(&walk.steps, &model.model_id)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(steps: &[Step], model_id: &str) -> anyhow::Result<()> {
    outln!(
        "path of {} songs (model {model_id}; ~from, ~to: cosine similarity to the first and last song)",
        steps.len()
    )?;
    crate::playlist::print_table(&Table::path(steps))
}
