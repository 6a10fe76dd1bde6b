//! `musicrec recommend`: songs from the catalog that sound like the seed songs. Seeds are resolved
//! in the catalog (path, id, or "artist - title"), the model's stored embeddings are loaded in one
//! query, and `musicrec_recommend` ranks them; this module only resolves, reports and formats.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_catalog::{CatalogStore, EmbeddingSet, Track, TrackId, TrackMatch};
use musicrec_recommend::{GenreBlend, Method, Metric, RecommendRequest};
use musicrec_train::ModelDirConfig;
use serde::Serialize;

use crate::embedder::model_id_of;

/// Recommend songs similar to seed songs from the scanned library.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
TRACK is a file path, a catalog id, or \"artist - title\" (or a title) as tagged; an ambiguous one \
is an error that lists the candidates. Seeds are never recommended back.

Examples:
  musicrec recommend --seed ~/Music/a.mp3 --seed ~/Music/b.flac -k 5
  musicrec recommend --seed \"Miles Davis - So What\" --method genre --format m3u > mix.m3u
  musicrec recommend --seed 12 --seed 40 --metric pnorm:1 --max-per-artist 1 --format json")]
pub struct Args {
    /// A seed song (repeat for several).
    #[arg(long = "seed", value_name = "TRACK", required = true)]
    seeds: Vec<String>,
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// Model directory whose embeddings to use [default: the catalog's only model, or the one
    /// with the most embedded tracks].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// How many songs.
    #[arg(short, default_value_t = 5)]
    k: usize,
    /// similarity (method 1: embeddings only) or genre (method 2: plus genre probabilities).
    #[arg(long, default_value = "similarity", value_parser = ["similarity", "genre"])]
    method: String,
    /// cosine, euclidean, or pnorm:P (Minkowski with P > 0).
    #[arg(long, default_value = "cosine", value_parser = parse_metric)]
    metric: Metric,
    /// At most N songs by one artist.
    #[arg(long, value_name = "N")]
    max_per_artist: Option<usize>,
    /// Output: table, json, or m3u (a playlist of absolute paths).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "m3u"])]
    format: String,
}

fn parse_metric(text: &str) -> Result<Metric, String> {
    text.parse().map_err(|e| format!("{e}"))
}

#[derive(Serialize)]
struct Output {
    seeds: Vec<Entry>,
    recommendations: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    id: i64,
    path: PathBuf,
    artist: Option<String>,
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f32>,
    genre: Option<String>,
    #[serde(skip)]
    duration_secs: Option<f64>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.k == 0 {
        bail!("-k must be at least 1");
    }
    let store = crate::store::open_existing(args.db.as_deref())?;
    let model_id = choose_model(store.as_ref(), args.model.as_deref())?;
    let set = store.load_embeddings(&model_id)?;
    if set.is_empty() {
        bail!(
            "the catalog has no track embedded with model {model_id}: run `musicrec scan DIR --model MODEL_DIR`"
        );
    }

    let mut seed_ids: Vec<TrackId> = Vec::new();
    for query in &args.seeds {
        let id = resolve_seed(store.as_ref(), &set, query)?;
        if !seed_ids.contains(&id) {
            seed_ids.push(id);
        }
    }

    let index = musicrec_recommend::index_from_embedding_set(&set)
        .context("stored embeddings do not form a valid index")?;
    let mut request = RecommendRequest::new(seed_ids.iter().map(|id| id.0).collect(), args.k);
    request.metric = args.metric;
    request.max_per_artist = args.max_per_artist;
    if args.method == "genre" {
        if set.model.genres.is_empty() {
            bail!("--method genre needs genre probabilities, and model {model_id} has no genres");
        }
        request.method = Method::SimilarityAndGenre(GenreBlend::default());
    }
    let result = index.recommend(&request).context("recommendation failed")?;
    if result.fewer_than_requested {
        eprintln!(
            "note: {} of {} songs returned: the catalog has {} embedded tracks, {} of them seeds{}",
            result.tracks.len(),
            args.k,
            set.len(),
            seed_ids.len(),
            if args.max_per_artist.is_some() {
                ", and --max-per-artist limits the rest"
            } else {
                ""
            }
        );
    }

    let entry = |id: TrackId, score: Option<f32>| -> anyhow::Result<Entry> {
        let row = set
            .row_of(id)
            .with_context(|| format!("track {id} vanished from the embedding set"))?;
        let track = &set.tracks[row];
        let duration_secs = store.track(id)?.and_then(|t| t.duration_secs);
        Ok(Entry {
            id: id.0,
            path: track.path.clone(),
            artist: track.artist.clone(),
            title: track.title.clone(),
            score,
            genre: set.top_genre(row).map(|g| set.model.genres[g].clone()),
            duration_secs,
        })
    };
    let output = Output {
        seeds: seed_ids
            .iter()
            .map(|&id| entry(id, None))
            .collect::<anyhow::Result<_>>()?,
        recommendations: result
            .tracks
            .iter()
            .map(|hit| entry(TrackId(hit.id), Some(hit.score)))
            .collect::<anyhow::Result<_>>()?,
    };
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&output)?),
        "m3u" => print!("{}", m3u(&output.recommendations)),
        _ => print_table(&output, &model_id, args.metric),
    }
    Ok(ExitCode::SUCCESS)
}

/// The model whose embeddings to use: `--model`'s id (which must have been scanned into this
/// catalog), else the catalog's only model, else the one with the most embedded tracks.
fn choose_model(store: &dyn CatalogStore, model_dir: Option<&Path>) -> anyhow::Result<String> {
    let known = store.model_ids()?;
    if let Some(dir) = model_dir {
        let config = ModelDirConfig::read(dir)?;
        let id = model_id_of(dir, &config.arch)?;
        if !known.contains(&id) {
            bail!(
                "model {} (id {id}) was never used to scan this catalog{}: run `musicrec scan DIR --model {}` first",
                dir.display(),
                if known.is_empty() {
                    String::new()
                } else {
                    format!(" (it holds embeddings of {})", known.join(", "))
                },
                dir.display()
            );
        }
        return Ok(id);
    }
    match known.len() {
        0 => bail!("the catalog is empty: run `musicrec scan DIR --model MODEL_DIR` first"),
        1 => Ok(known[0].clone()),
        _ => {
            // The catalog API does not expose registration times, so "most embedded tracks"
            // stands in for "the one in use"; the note says which was taken.
            let stats = store.stats()?;
            let best = stats
                .models
                .iter()
                .max_by_key(|m| m.embedded_tracks)
                .map(|m| m.model_id.clone())
                .context("the catalog lists models but has no statistics for them")?;
            eprintln!(
                "note: the catalog holds {} models ({}); using {best} (most embedded tracks); pass --model to choose",
                known.len(),
                known.join(", ")
            );
            Ok(best)
        }
    }
}

/// A seed as typed: a catalog id, a file path, or "artist - title" / title text.
fn resolve_seed(
    store: &dyn CatalogStore,
    set: &EmbeddingSet,
    query: &str,
) -> anyhow::Result<TrackId> {
    let trimmed = query.trim();
    if trimmed.is_empty() {
        bail!("empty --seed");
    }
    let mut track: Option<Track> = None;
    if let Ok(id) = trimmed.parse::<i64>() {
        track = store.track(TrackId(id))?;
    }
    let on_disk = Path::new(trimmed);
    if track.is_none() && on_disk.exists() {
        let canonical = std::fs::canonicalize(on_disk)
            .with_context(|| format!("cannot resolve seed path {trimmed}"))?;
        match store.track_by_path(&canonical)? {
            Some(found) => track = Some(found),
            None => bail!(
                "seed {trimmed} is not in the catalog: run `musicrec scan` on its folder first"
            ),
        }
    }
    let track = match track {
        Some(track) => track,
        None => match store.find_track(trimmed)? {
            TrackMatch::Found(track) => *track,
            TrackMatch::Ambiguous(candidates) => {
                let listed: Vec<String> = candidates
                    .iter()
                    .take(10)
                    .map(|t| format!("{} [id {}] {}", t.display_name(), t.id, t.path.display()))
                    .collect();
                bail!(
                    "seed '{trimmed}' is ambiguous, {} candidates (give a path or id): {}{}",
                    candidates.len(),
                    listed.join("; "),
                    if candidates.len() > 10 { "; ..." } else { "" }
                );
            }
            TrackMatch::NotFound => bail!(
                "no track in the catalog matches seed '{trimmed}' (give a path, a catalog id, or \"artist - title\")"
            ),
        },
    };
    if set.row_of(track.id).is_none() {
        bail!(
            "seed {} ({}) has no embedding from model {}{}",
            track.display_name(),
            track.path.display(),
            set.model_id,
            if track.missing_since.is_some() {
                ": its file was missing at the last scan"
            } else {
                ": rescan its folder with this model"
            }
        );
    }
    Ok(track.id)
}

fn display(entry: &Entry) -> String {
    match (&entry.artist, &entry.title) {
        (Some(artist), Some(title)) => format!("{artist} - {title}"),
        _ => entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| entry.path.display().to_string()),
    }
}

/// Extended M3U: `#EXTINF:<seconds>,<artist - title>` then the absolute path.
fn m3u(entries: &[Entry]) -> String {
    let mut out = String::from("#EXTM3U\n");
    for entry in entries {
        let secs = entry.duration_secs.map_or(-1, |d| d.round() as i64);
        out.push_str(&format!("#EXTINF:{secs},{}\n", display(entry)));
        out.push_str(&format!("{}\n", entry.path.display()));
    }
    out
}

fn print_table(output: &Output, model_id: &str, metric: Metric) {
    let seeds: Vec<String> = output.seeds.iter().map(display).collect();
    println!("seeds: {}  (model {model_id}, {metric})", seeds.join(", "));
    println!(
        "{:>3}  {:>7}  {:<10}  {:<40}  path",
        "#", "score", "genre", "song"
    );
    for (rank, entry) in output.recommendations.iter().enumerate() {
        println!(
            "{:>3}  {:>7.4}  {:<10}  {:<40}  {}",
            rank + 1,
            entry.score.unwrap_or(f32::NAN),
            entry.genre.as_deref().unwrap_or("-"),
            display(entry),
            entry.path.display()
        );
    }
}
