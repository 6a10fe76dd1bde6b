//! `musicrec tracks [QUERY]`: find tracks and their ids in the catalog with
//! `musicrec_app::search_tracks` (the catalog's text search, the one `/api/tracks` uses: artist,
//! title, album and path, ignoring case), optionally only those of one genre.

use std::process::ExitCode;

use anyhow::bail;
use musicrec_app::table::Table;

/// Find tracks (and their ids) by artist, title, album or file name.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
The ids are what `recommend --seed`, `feedback --track` and the web API take.

Examples:
  musicrec tracks frontiers
  musicrec tracks \"miles davis\" --limit 50
  musicrec tracks --genre jazz --format json")]
pub struct Args {
    /// Text to look for in the artist, title, album or path (case-insensitive) [default: every
    /// track].
    #[arg(value_name = "QUERY", default_value = "")]
    query: String,
    /// Only tracks of this genre: the one the model finds most probable, or the file's genre tag
    /// (case-insensitive).
    #[arg(long, value_name = "G")]
    genre: Option<String>,
    /// At most this many tracks.
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: u64,
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// Output: table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.limit == 0 {
        bail!("--limit must be at least 1");
    }
    let store = musicrec_app::store::open_existing(args.db.as_deref())?;
    let found = musicrec_app::search_tracks(
        store.as_ref(),
        &crate::models::request(None)?,
        &args.query,
        args.genre.as_deref(),
        args.limit,
    )?;
    if let Some(note) = &found.note {
        eprintln!("note: {note}");
    }
    let query = args.query.trim();
    if args.format == "json" {
        outln!("{}", serde_json::to_string_pretty(&found)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if found.tracks.is_empty() {
        eprintln!(
            "no track in the catalog matches{}",
            describe(query, &args.genre)
        );
        return Ok(ExitCode::SUCCESS);
    }
    crate::playlist::print_table(&Table::tracks(&found.tracks))?;
    if found.total > found.tracks.len() as u64 {
        eprintln!(
            "{} of {} tracks shown{}; --limit N shows more",
            found.tracks.len(),
            found.total,
            describe(query, &args.genre)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// " 'query' of genre G", for messages.
fn describe(query: &str, genre: &Option<String>) -> String {
    let mut text = String::new();
    if !query.is_empty() {
        text.push_str(&format!(" '{query}'"));
    }
    if let Some(genre) = genre {
        text.push_str(&format!(" of genre {}", genre.trim()));
    }
    text
}
