//! `musicrec recommend`: songs from the catalog that sound like the seed songs. Seeds are resolved
//! in the catalog (path, id, or "artist - title"), the model's stored embeddings are loaded in one
//! query, and `musicrec_recommend` ranks them; this module only resolves, reports and formats.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_catalog::{CatalogStore, EmbeddingSet, TrackId};
use musicrec_recommend::cf::{
    CfModel, CfParams, DEFAULT_HYBRID_WEIGHT, Ranker, interactions_from_catalog, rank_for_user,
};
use musicrec_recommend::{
    EmbeddingIndex, GenreBlend, Hit, Method, Metric, RecommendRequest, Rocchio, feedback_for_index,
};
use serde::Serialize;

use crate::lookup::{Embeddings, check_seed_count, resolve_seed};
use crate::playlist::{Song, m3u, print_ranked};

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
  musicrec recommend --user ann --method hybrid -k 10  # plus what similar listeners liked
  MUSICREC_UPSTREAM_PASSWORD=... musicrec recommend --seed 12 -k 10 \\
      --to-upstream-playlist \"Like 12\" --upstream http://nas:4533 --upstream-user me")]
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
    /// With --format m3u: write paths relative to this folder (e.g. the playlist's own folder,
    /// or the music folder a player knows), not absolute.
    #[arg(long, value_name = "DIR")]
    base: Option<PathBuf>,
    #[command(flatten)]
    upstream: crate::upstream_args::UpstreamPlaylistArgs,
}

fn parse_metric(text: &str) -> Result<Metric, String> {
    text.parse().map_err(|e| format!("{e}"))
}

#[derive(Serialize)]
struct Output {
    seeds: Vec<Song>,
    recommendations: Vec<Song>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.k == 0 {
        bail!("-k must be at least 1");
    }
    check_seed_count(args.seeds.len())?;
    // A missing --upstream, user or password is reported before anything is printed.
    args.upstream.config()?;
    let Embeddings {
        store,
        model_id,
        set,
        index,
    } = Embeddings::load(args.db.as_deref(), args.model.as_deref())?;

    let mut seed_ids: Vec<TrackId> = Vec::new();
    for query in &args.seeds {
        let id = resolve_seed(store.as_ref(), &set, query)?;
        if !seed_ids.contains(&id) {
            seed_ids.push(id);
        }
    }

    let collaborative = matches!(args.method.as_str(), "cf" | "hybrid");
    let mut scoring = describe_scoring(&args);
    let tracks = match &args.user {
        Some(name) => {
            // A listener with no feedback yet (no user row) gets the plain recommendations.
            let name = name.trim();
            let stored = match store.user_by_name(name)? {
                Some(user) => store.feedback(user.id)?,
                None => Vec::new(),
            };
            let (feedback, skipped) = feedback_for_index(&stored, &index, Rocchio::default());
            if !collaborative && (!feedback.liked.is_empty() || !feedback.disliked.is_empty()) {
                let r = feedback.rocchio;
                scoring.push_str(&format!(
                    "; with {}'s likes: seeds + {} x liked - {} x disliked, may exceed 1",
                    name, r.liked_weight, r.disliked_weight
                ));
            }
            if skipped > 0 {
                eprintln!(
                    "note: {skipped} of {}'s rated songs have no embedding from model {model_id} and are not used",
                    name
                );
            }
            if collaborative {
                let mut anchors: Vec<i64> = seed_ids.iter().map(|t| t.0).collect();
                anchors.extend(&feedback.liked);
                let mut exclude = anchors.clone();
                exclude.extend(&feedback.disliked);
                collaborative_hits(store.as_ref(), &index, &args, name, &anchors, &exclude)?
            } else {
                if seed_ids.is_empty() {
                    if feedback.liked.is_empty() {
                        bail!(
                            "user {} has liked nothing yet: give --seed, or like songs with `musicrec feedback`",
                            name
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

    let entry = |id: TrackId, score: Option<f32>| Song::of(store.as_ref(), &set, id, score);
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
        "m3u" => out!("{}", m3u(&output.recommendations, args.base.as_deref())?)?,
        _ => print_table(&output, &model_id, &scoring)?,
    }
    args.upstream
        .push(store.as_ref(), &output.recommendations)?;
    Ok(ExitCode::SUCCESS)
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

fn print_table(output: &Output, model_id: &str, scoring: &str) -> anyhow::Result<()> {
    let seeds: Vec<String> = output
        .seeds
        .iter()
        .map(|s| format!("{} [id {}]", s.name(), s.id))
        .collect();
    let seeds = if seeds.is_empty() {
        "(none)".to_owned()
    } else {
        seeds.join(", ")
    };
    outln!("seeds: {seeds}  (model {model_id}, {scoring})")?;
    print_ranked(&output.recommendations)
}
