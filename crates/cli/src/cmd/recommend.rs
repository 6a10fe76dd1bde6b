//! `musicrec recommend`: songs from the catalog that sound like the seed songs. Seeds are resolved
//! in the catalog (path, id, or "artist - title") and the application service ranks them
//! (`musicrec_app::recommend`, as the web API does); this module only parses, reports and formats.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use musicrec_app::table::Table;
use musicrec_app::{
    Listener, RecommendMethod, RecommendQuery, UserFeedback, check_seed_count, resolve_seed,
};
use musicrec_catalog::TrackId;
use musicrec_recommend::Metric;
use musicrec_recommend::cf::DEFAULT_HYBRID_WEIGHT;
use serde::Serialize;

use crate::playlist::{Song, m3u};

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
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
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
    let (store, model) = crate::models::load(args.db.as_deref(), args.model.as_deref())?;
    let mut query = RecommendQuery::new(Vec::new(), args.k);
    for text in &args.seeds {
        query
            .seeds
            .push(resolve_seed(store.as_ref(), &model.set, text)?.0);
    }
    query.method = args.method.parse()?;
    query.metric = args.metric;
    query.max_per_artist = args.max_per_artist;
    query.hybrid_weight = (query.method == RecommendMethod::Hybrid).then_some(args.hybrid_weight);

    let user = args.user.as_deref().map(str::trim);
    let feedback = match user {
        Some(name) => UserFeedback::load(store.as_ref(), name, &model)?,
        None => UserFeedback::default(),
    };
    if feedback.skipped > 0 {
        eprintln!(
            "note: {} of {}'s rated songs have no embedding from model {} and are not used",
            feedback.skipped,
            user.unwrap_or_default(),
            model.model_id
        );
    }
    let cf = match (user, query.method.is_collaborative()) {
        (Some(_), true) => musicrec_app::fit_cf(store.as_ref())?,
        _ => None,
    };
    let listener = user.map(|name| Listener {
        name,
        feedback: &feedback,
        cf: cf.as_ref(),
    });
    if query.method.is_collaborative() && listener.is_none() {
        bail!(
            "--method {} recommends for a listener: add --user NAME",
            args.method
        );
    }
    let result = musicrec_app::recommend(&model, &query, listener)?;
    if result.fewer_than_requested {
        eprintln!(
            "note: {} of {} songs returned{}",
            result.tracks.len(),
            args.k,
            if query.method == RecommendMethod::Cf {
                ": collaborative filtering only knows songs someone liked".to_owned()
            } else {
                format!(
                    ": the catalog has {} embedded tracks, {} of them seeds{}",
                    model.set.len(),
                    result.seeds.len(),
                    if args.max_per_artist.is_some() {
                        ", and --max-per-artist limits the rest"
                    } else {
                        ""
                    }
                )
            }
        );
    }

    let entry =
        |id: i64, score: Option<f32>| Song::of(store.as_ref(), &model.set, TrackId(id), score);
    let output = Output {
        seeds: result
            .seeds
            .iter()
            .map(|&id| entry(id, None))
            .collect::<anyhow::Result<_>>()?,
        recommendations: result
            .tracks
            .iter()
            .map(|hit| entry(hit.id, Some(hit.score)))
            .collect::<anyhow::Result<_>>()?,
    };
    match args.format.as_str() {
        "json" => outln!("{}", serde_json::to_string_pretty(&output)?)?,
        "m3u" => out!("{}", m3u(&output.recommendations, args.base.as_deref())?)?,
        _ => print_table(&output, &model.model_id, &result.scoring)?,
    }
    args.upstream
        .push(store.as_ref(), &output.recommendations)?;
    Ok(ExitCode::SUCCESS)
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
    crate::playlist::print_table(&Table::ranked(&output.recommendations))
}
