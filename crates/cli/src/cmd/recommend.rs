//! `musicrec recommend`: songs from the catalog that sound like the seed songs. Seeds are resolved
//! in the catalog (path, id, or "artist - title"), the model's stored embeddings are loaded in one
//! query, and `musicrec_recommend` ranks them; this module only resolves, reports and formats.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_catalog::{CatalogStore, EmbeddingSet, Track, TrackId, TrackMatch};
use musicrec_recommend::cf::{
    CfModel, CfParams, DEFAULT_HYBRID_WEIGHT, Ranker, interactions_from_catalog, rank_for_user,
};
use musicrec_recommend::{
    EmbeddingIndex, GenreBlend, Hit, MAX_SEEDS, Method, Metric, RecommendRequest, Rocchio,
    feedback_for_index,
};
use serde::Serialize;

use crate::embedder::ModelChoice;
use crate::table::{Align, Column, Fit};

/// Recommend songs similar to seed songs from the scanned library.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
TRACK is a file path, a catalog id (`musicrec tracks QUERY` finds it), or \"artist - title\", a \
title, or an untagged file's name. Text that matches one track is that track; several matches are \
listed with their ids. At most 5 seeds, as in the web API. Seeds are never recommended back.

Scores: higher is more similar (cosine similarity under the default metric, at most 1). With \
--user, the user's likes and dislikes join the seeds (Rocchio feedback): score = similarity to the \
seeds + 0.75 x similarity to the liked songs - 0.15 x similarity to the disliked ones, so a score \
can exceed 1; only the order matters. The table's first line says how its scores were made.

Examples:
  musicrec recommend --seed ~/Music/a.mp3 --seed ~/Music/b.flac -k 5
  musicrec recommend --seed \"Miles Davis - So What\" --method genre --format m3u > mix.m3u
  musicrec recommend --seed 12 --seed 40 --metric pnorm:1 --max-per-artist 1 --format json
  musicrec recommend --user ann -k 10                  # seeded by ann's likes
  musicrec recommend --user ann --method hybrid -k 10  # plus what similar listeners liked")]
pub struct Args {
    /// A seed song (repeat for several). Optional with --user: their liked songs seed it.
    #[arg(long = "seed", value_name = "TRACK", required_unless_present = "user")]
    seeds: Vec<String>,
    /// Recommend for this user: their likes move the query towards, their dislikes away from
    /// (Rocchio), and nothing they rated is recommended back (see `musicrec feedback`).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// Model whose embeddings to use: `musicnn`, `cnn` or a directory, as for `scan` [default:
    /// the default model (MusiCNN) when the catalog holds its embeddings, else the catalog's only model, or
    /// the one with the most embedded tracks].
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// How many songs.
    #[arg(short, default_value_t = 5)]
    k: usize,
    /// similarity (method 1: embeddings only), genre (method 2: plus genre probabilities), cf
    /// (collaborative filtering over every user's likes; needs --user) or hybrid (CF blended
    /// with content similarity, content alone for songs nobody rated; needs --user).
    #[arg(long, default_value = "similarity", value_parser = ["similarity", "genre", "cf", "hybrid"])]
    method: String,
    /// Weight of the CF score in --method hybrid (content gets 1 - W).
    #[arg(long, value_name = "W", default_value_t = DEFAULT_HYBRID_WEIGHT)]
    hybrid_weight: f32,
    /// cosine, euclidean, or pnorm:P (Minkowski with P > 0).
    #[arg(long, default_value = "cosine", value_parser = parse_metric)]
    metric: Metric,
    /// At most N songs by one artist; files without an artist tag count by folder, so one
    /// untagged album does not fill the list.
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
    check_seed_count(args.seeds.len())?;
    let store = crate::store::open_existing(args.db.as_deref())?;
    let model_id = choose_model(store.as_ref(), args.model.as_deref())?;
    let set = store.load_embeddings(&model_id)?;
    if set.is_empty() {
        bail!(
            "the catalog has no track embedded with model {model_id}: run `{}`",
            scan_hint(args.model.as_deref())
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
    let collaborative = matches!(args.method.as_str(), "cf" | "hybrid");
    let mut scoring = describe_scoring(&args);
    let tracks = match &args.user {
        Some(name) => {
            let user = store.user_by_name(name)?.with_context(|| {
                format!(
                    "no user named {:?} in this catalog: record a like first with `musicrec feedback --user {} --track T --like`",
                    name.trim(),
                    name.trim()
                )
            })?;
            let (feedback, skipped) =
                feedback_for_index(&store.feedback(user.id)?, &index, Rocchio::default());
            if !collaborative && (!feedback.liked.is_empty() || !feedback.disliked.is_empty()) {
                let r = feedback.rocchio;
                scoring.push_str(&format!(
                    "; with {}'s likes: seeds + {} x liked - {} x disliked, may exceed 1",
                    user.name, r.liked_weight, r.disliked_weight
                ));
            }
            if skipped > 0 {
                eprintln!(
                    "note: {skipped} of {}'s rated songs have no embedding from model {model_id} and are not used",
                    user.name
                );
            }
            if collaborative {
                let mut anchors: Vec<i64> = seed_ids.iter().map(|t| t.0).collect();
                anchors.extend(&feedback.liked);
                let mut exclude = anchors.clone();
                exclude.extend(&feedback.disliked);
                collaborative_hits(
                    store.as_ref(),
                    &index,
                    &args,
                    &user.name,
                    &anchors,
                    &exclude,
                )?
            } else {
                if seed_ids.is_empty() {
                    if feedback.liked.is_empty() {
                        bail!(
                            "user {} has liked nothing yet: give --seed, or like songs with `musicrec feedback`",
                            user.name
                        );
                    }
                    seed_ids = feedback.liked.iter().map(|&id| TrackId(id)).collect();
                }
                content_hits(&index, &args, &set, &model_id, &seed_ids, feedback)?
            }
        }
        None if collaborative => bail!(
            "--method {} recommends for a listener: add --user NAME",
            args.method
        ),
        None => content_hits(
            &index,
            &args,
            &set,
            &model_id,
            &seed_ids,
            musicrec_recommend::Feedback::default(),
        )?,
    };

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
        recommendations: tracks
            .iter()
            .map(|hit| entry(TrackId(hit.id), Some(hit.score)))
            .collect::<anyhow::Result<_>>()?,
    };
    match args.format.as_str() {
        "json" => outln!("{}", serde_json::to_string_pretty(&output)?)?,
        "m3u" => out!("{}", m3u(&output.recommendations))?,
        _ => print_table(&output, &model_id, &scoring)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// At most [`MAX_SEEDS`] seeds, the JSON API's limit too.
pub(crate) fn check_seed_count(seeds: usize) -> anyhow::Result<()> {
    if seeds > MAX_SEEDS {
        bail!("{seeds} seeds given: at most {MAX_SEEDS} (the web API takes as many)");
    }
    Ok(())
}

/// The scan command to suggest: the built-in model needs no `--model`.
fn scan_hint(model: Option<&Path>) -> String {
    match model {
        Some(dir) => format!("musicrec scan DIR --model {}", dir.display()),
        None => "musicrec scan DIR".to_owned(),
    }
}

/// How the scores were made, for the table's header line.
fn describe_scoring(args: &Args) -> String {
    match args.method.as_str() {
        "cf" => "collaborative filtering".to_owned(),
        "hybrid" => format!(
            "hybrid {:.2} x CF + {:.2} x content",
            args.hybrid_weight,
            1.0 - args.hybrid_weight
        ),
        _ => args.metric.to_string(),
    }
}

/// Methods 1 and 2, with the user's feedback (if any) in the request.
fn content_hits(
    index: &EmbeddingIndex,
    args: &Args,
    set: &EmbeddingSet,
    model_id: &str,
    seed_ids: &[TrackId],
    feedback: musicrec_recommend::Feedback,
) -> anyhow::Result<Vec<Hit>> {
    let mut request = RecommendRequest::new(seed_ids.iter().map(|id| id.0).collect(), args.k);
    request.metric = args.metric;
    request.max_per_artist = args.max_per_artist;
    request.feedback = feedback;
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
    Ok(result.tracks)
}

/// CF or hybrid over every user's likes in the catalog.
fn collaborative_hits(
    store: &dyn CatalogStore,
    index: &EmbeddingIndex,
    args: &Args,
    user: &str,
    anchors: &[i64],
    exclude: &[i64],
) -> anyhow::Result<Vec<Hit>> {
    let interactions = interactions_from_catalog(store)?;
    let model = CfModel::fit(&interactions, &CfParams::default());
    let ranker = if args.method == "cf" {
        Ranker::Cf
    } else {
        Ranker::Hybrid {
            weight: args.hybrid_weight,
        }
    };
    // The artist cap needs the whole ranking to pick from.
    let fetch = if args.max_per_artist.is_some() {
        index.len()
    } else {
        args.k
    };
    let mut hits = rank_for_user(index, model.as_ref(), user, anchors, exclude, ranker, fetch)?;
    hits = match args.max_per_artist {
        Some(0) => bail!("--max-per-artist must be at least 1"),
        Some(cap) => index.cap_per_artist(&hits, args.k, cap),
        None => hits,
    };
    if hits.len() < args.k {
        eprintln!(
            "note: {} of {} songs returned{}",
            hits.len(),
            args.k,
            if args.method == "cf" {
                ": collaborative filtering only knows songs someone liked"
            } else {
                ""
            }
        );
    }
    Ok(hits)
}

/// The model whose embeddings to use: `--model`'s id (which must have been scanned into this
/// catalog), else the default model's when the catalog holds it, else the catalog's only model,
/// else the one with the most embedded tracks.
pub(crate) fn choose_model(
    store: &dyn CatalogStore,
    model_dir: Option<&Path>,
) -> anyhow::Result<String> {
    let known = store.model_ids()?;
    if let Some(dir) = model_dir {
        let id = ModelChoice::parse(Some(dir))?.model_id()?;
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
    let built_in = ModelChoice::parse(None)?.model_id()?;
    if known.contains(&built_in) {
        return Ok(built_in);
    }
    match known.len() {
        0 => bail!("the catalog is empty: run `musicrec scan DIR` first"),
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

/// A track as typed (`what` names it in messages: "seed", "track"): a catalog id, a file path,
/// or "artist - title" / title text. Ambiguous text is an error listing the candidates.
pub(crate) fn resolve_track(
    store: &dyn CatalogStore,
    query: &str,
    what: &str,
) -> anyhow::Result<Track> {
    let trimmed = query.trim();
    if trimmed.is_empty() {
        bail!("empty {what}");
    }
    if let Ok(id) = trimmed.parse::<i64>()
        && let Some(track) = store.track(TrackId(id))?
    {
        return Ok(track);
    }
    let on_disk = Path::new(trimmed);
    if on_disk.exists() {
        let canonical = std::fs::canonicalize(on_disk)
            .with_context(|| format!("cannot resolve {what} path {trimmed}"))?;
        return match store.track_by_path(&canonical)? {
            Some(found) => Ok(found),
            None => bail!(
                "{what} {trimmed} is not in the catalog: run `musicrec scan` on its folder first"
            ),
        };
    }
    match store.find_track(trimmed)? {
        TrackMatch::Found(track) => Ok(*track),
        TrackMatch::Ambiguous(candidates) => {
            let listed: String = candidates
                .iter()
                .take(10)
                .map(|t| {
                    format!(
                        "\n  {:>6}  {}  ({})",
                        t.id,
                        t.display_name(),
                        t.path.display()
                    )
                })
                .collect();
            bail!(
                "{what} '{trimmed}' matches {} tracks; give one's id (`musicrec tracks '{trimmed}'` \
                 lists them all):{listed}{}",
                if candidates.len() > 10 {
                    "more than 10".to_owned()
                } else {
                    candidates.len().to_string()
                },
                if candidates.len() > 10 { "\n  ..." } else { "" }
            );
        }
        TrackMatch::NotFound => bail!(
            "no track in the catalog matches {what} '{trimmed}' (give a path, a catalog id, or \"artist - title\")"
        ),
    }
}

/// A seed as typed, which must have an embedding from the set's model.
pub(crate) fn resolve_seed(
    store: &dyn CatalogStore,
    set: &EmbeddingSet,
    query: &str,
) -> anyhow::Result<TrackId> {
    let track = resolve_track(store, query, "seed")?;
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

/// The columns of `recommend`'s table.
const TABLE: [Column; 6] = [
    Column::new("#", Align::Right, Fit::Fixed),
    Column::new("id", Align::Right, Fit::Fixed),
    Column::new("score", Align::Right, Fit::Fixed),
    Column::new("genre", Align::Left, Fit::Fixed),
    Column::new("song", Align::Left, Fit::CutEnd),
    Column::new("path", Align::Left, Fit::CutStart),
];

fn print_table(output: &Output, model_id: &str, scoring: &str) -> anyhow::Result<()> {
    let seeds: Vec<String> = output
        .seeds
        .iter()
        .map(|s| format!("{} [id {}]", display(s), s.id))
        .collect();
    let seeds = if seeds.is_empty() {
        "(none)".to_owned()
    } else {
        seeds.join(", ")
    };
    outln!("seeds: {seeds}  (model {model_id}, {scoring})")?;
    let rows: Vec<Vec<String>> = output
        .recommendations
        .iter()
        .enumerate()
        .map(|(rank, entry)| {
            vec![
                (rank + 1).to_string(),
                entry.id.to_string(),
                format!("{:.4}", entry.score.unwrap_or(f32::NAN)),
                entry.genre.clone().unwrap_or_else(|| "-".to_owned()),
                display(entry),
                entry.path.display().to_string(),
            ]
        })
        .collect();
    for line in crate::table::render(&TABLE, &rows, crate::table::output_width()) {
        outln!("{line}")?;
    }
    Ok(())
}
