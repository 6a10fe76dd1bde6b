//! `musicrec tracks [QUERY]`: find tracks and their ids in the catalog, with the catalog's text
//! search (`CatalogStore::search`, the one `/api/tracks` uses: artist, title, album and path,
//! ignoring case), optionally only those of one genre.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use musicrec_catalog::{CatalogStore, EmbeddingSet, Track};
use serde::Serialize;

use crate::table::{Align, Column, Fit};

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
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// Output: table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

#[derive(Serialize)]
struct Output {
    /// Matching tracks in the catalog (all of them, not only those listed).
    total: u64,
    tracks: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    id: i64,
    artist: Option<String>,
    title: Option<String>,
    album: Option<String>,
    /// The model's most probable genre (absent until the track is embedded).
    genre: Option<String>,
    /// The file's genre tag.
    genre_tag: Option<String>,
    duration_secs: Option<f64>,
    path: PathBuf,
}

/// Search results are read this many at a time (the search's largest page).
const PAGE: u64 = 1000;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.limit == 0 {
        bail!("--limit must be at least 1");
    }
    let store = musicrec_app::store::open_existing(args.db.as_deref())?;
    let set = embeddings_for_genres(store.as_ref())?;
    let genre_of = |track: &Track| -> Option<String> {
        let set = set.as_ref()?;
        let row = set.row_of(track.id)?;
        set.top_genre(row).map(|g| set.model.genres[g].clone())
    };
    let query = args.query.trim();
    let wanted = args.genre.as_deref().map(|g| g.trim().to_lowercase());
    let keep = |track: &Track, genre: &Option<String>| match &wanted {
        None => true,
        Some(wanted) => [genre.as_deref(), track.tags.genre.as_deref()]
            .into_iter()
            .flatten()
            .any(|g| g.trim().to_lowercase() == *wanted),
    };
    // The search has no genre filter: with one, page through every hit and keep the genre's.
    let mut entries = Vec::new();
    let (mut hits, mut matching, mut offset) = (0, 0, 0);
    loop {
        let room = args.limit - entries.len() as u64;
        let page_size = if wanted.is_some() {
            PAGE
        } else {
            room.min(PAGE)
        };
        if page_size == 0 {
            break;
        }
        let page = store.search(query, offset, page_size)?;
        hits = page.total;
        for track in &page.items {
            let genre = genre_of(track);
            if keep(track, &genre) {
                matching += 1;
                if (entries.len() as u64) < args.limit {
                    entries.push(entry(track, genre));
                }
            }
        }
        offset += page.items.len() as u64;
        if page.items.is_empty() || offset >= page.total {
            break;
        }
    }
    let total = if wanted.is_some() { matching } else { hits };

    if args.format == "json" {
        outln!(
            "{}",
            serde_json::to_string_pretty(&Output {
                total,
                tracks: entries
            })?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        eprintln!(
            "no track in the catalog matches{}",
            describe(query, &args.genre)
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&entries)?;
    if total > entries.len() as u64 {
        eprintln!(
            "{} of {total} tracks shown{}; --limit N shows more",
            entries.len(),
            describe(query, &args.genre)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The embeddings of the model `recommend` would use, for the genre column; `None` when the
/// catalog has no model yet.
fn embeddings_for_genres(store: &dyn CatalogStore) -> anyhow::Result<Option<EmbeddingSet>> {
    if store.model_ids()?.is_empty() {
        return Ok(None);
    }
    let model_id = crate::models::choose(store, None)?;
    Ok(Some(store.load_embeddings(&model_id)?))
}

fn entry(track: &Track, genre: Option<String>) -> Entry {
    Entry {
        id: track.id.0,
        artist: track.tags.artist.clone(),
        title: track.tags.title.clone(),
        album: track.tags.album.clone(),
        genre,
        genre_tag: track.tags.genre.clone(),
        duration_secs: track.duration_secs,
        path: track.path.clone(),
    }
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

const TABLE: [Column; 6] = [
    Column::new("id", Align::Right, Fit::Fixed),
    Column::new("song", Align::Left, Fit::CutEnd),
    Column::new("album", Align::Left, Fit::CutEnd),
    Column::new("genre", Align::Left, Fit::Fixed),
    Column::new("length", Align::Right, Fit::Fixed),
    Column::new("path", Align::Left, Fit::CutStart),
];

fn print_table(entries: &[Entry]) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let song = match (&e.artist, &e.title) {
                (Some(artist), Some(title)) => format!("{artist} - {title}"),
                (None, Some(title)) => title.clone(),
                _ => e
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            };
            let length = e.duration_secs.map_or_else(
                || "-".to_owned(),
                |d| {
                    let secs = d.round() as u64;
                    format!("{}:{:02}", secs / 60, secs % 60)
                },
            );
            vec![
                e.id.to_string(),
                song,
                e.album.clone().unwrap_or_else(|| "-".to_owned()),
                e.genre.clone().unwrap_or_else(|| "-".to_owned()),
                length,
                e.path.display().to_string(),
            ]
        })
        .collect();
    for line in crate::table::render(&TABLE, &rows, crate::table::output_width()) {
        outln!("{line}")?;
    }
    Ok(())
}
