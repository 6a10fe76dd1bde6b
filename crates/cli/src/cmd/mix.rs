//! `musicrec mix`: a longer playlist like the seed songs, with variety (`EmbeddingIndex::mix`)
//! and a per-artist cap, seeded by songs or by an M3U playlist, written as M3U for a player.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_catalog::TrackId;
use musicrec_recommend::{
    DEFAULT_VARIETY, GenreBlend, Method, RecommendRequest, Rocchio, feedback_for_index,
};
use serde::Serialize;

use crate::playlist::{Song, m3u, print_ranked, read_m3u};
use musicrec_app::resolve_seed;

/// A longer playlist like the seed songs, varied, for a player.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
A mix ranks the catalog like `recommend`, then picks --count songs from the best 4 x count so \
that each next song is relevant and unlike the songs already picked (maximal marginal relevance: \
(1 - variety) x similarity to the seeds - variety x similarity to the nearest song already in \
the mix), with at most --max-per-artist songs by one artist. Seeds are never in the mix.

Examples:
  musicrec mix --seed ~/Music/a.flac --seed \"Nina Simone - Feeling Good\" --count 40 > mix.m3u
  musicrec mix --seeds-from ~/Music/favourites.m3u --count 50 --base ~/Music > ~/Music/more.m3u
  musicrec mix --seed 12 --variety 0 --format table     # the plain ranking
  MUSICREC_UPSTREAM_PASSWORD=... musicrec mix --seed 12 --count 40 \\
      --to-upstream-playlist \"Like 12\" --upstream http://nas:4533 --upstream-user me > mix.m3u")]
pub struct Args {
    /// A seed song (repeat for several): path, catalog id, or \"artist - title\".
    #[arg(
        long = "seed",
        value_name = "TRACK",
        required_unless_present = "seeds_from"
    )]
    seeds: Vec<String>,
    /// Seed with the songs of an M3U/M3U8 playlist (songs not in the catalog are skipped, with
    /// a note).
    #[arg(long, value_name = "FILE")]
    seeds_from: Option<PathBuf>,
    /// Songs in the mix.
    #[arg(long, default_value_t = 30)]
    count: usize,
    /// 0 = the plain ranking, 1 = as unlike each other as the best 4 x count allow.
    #[arg(long, default_value_t = DEFAULT_VARIETY)]
    variety: f32,
    /// At most N songs by one artist (0 = no cap); untagged files count by folder.
    #[arg(long, value_name = "N", default_value_t = 2)]
    max_per_artist: usize,
    /// similarity (method 1) or genre (method 2: plus genre probabilities).
    #[arg(long, default_value = "similarity", value_parser = ["similarity", "genre"])]
    method: String,
    /// Steer by this user's likes and dislikes; nothing they rated comes back. A user without
    /// feedback gets the plain mix.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// Model whose embeddings to use, as for `recommend`.
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// Output: m3u, table or json.
    #[arg(long, default_value = "m3u", value_parser = ["m3u", "table", "json"])]
    format: String,
    /// With --format m3u: paths relative to this folder.
    #[arg(long, value_name = "DIR")]
    base: Option<PathBuf>,
    #[command(flatten)]
    upstream: crate::upstream_args::UpstreamPlaylistArgs,
}

#[derive(Serialize)]
struct Output {
    seeds: Vec<Song>,
    mix: Vec<Song>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.variety) {
        bail!("--variety must be within 0 and 1");
    }
    // A missing --upstream, user or password is reported before the mix is made.
    args.upstream.config()?;
    let (
        store,
        musicrec_app::ModelIndex {
            model_id,
            set,
            index,
            ..
        },
    ) = crate::models::load(args.db.as_deref(), args.model.as_deref())?;

    let mut seeds: Vec<TrackId> = Vec::new();
    for query in &args.seeds {
        seeds.push(resolve_seed(store.as_ref(), &set, query)?);
    }
    if let Some(list) = &args.seeds_from {
        let paths = read_m3u(list)?;
        let mut skipped = Vec::new();
        for path in &paths {
            match resolve_seed(store.as_ref(), &set, &path.to_string_lossy()) {
                Ok(id) => seeds.push(id),
                Err(_) => skipped.push(path),
            }
        }
        if !skipped.is_empty() {
            eprintln!(
                "note: {} of the {} songs of {} are not in the catalog with model {model_id} and do not seed the mix: {}{}",
                skipped.len(),
                paths.len(),
                list.display(),
                skipped
                    .iter()
                    .take(3)
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if skipped.len() > 3 { ", ..." } else { "" }
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    seeds.retain(|id| seen.insert(*id));
    if seeds.is_empty() {
        bail!("no seed song is in the catalog: scan its folder first (`musicrec scan DIR`)");
    }

    let mut request = RecommendRequest::new(seeds.iter().map(|id| id.0).collect(), args.count);
    request.max_per_artist = (args.max_per_artist > 0).then_some(args.max_per_artist);
    if args.method == "genre" {
        if set.model.genres.is_empty() {
            bail!("--method genre needs genre probabilities, and model {model_id} has no genres");
        }
        request.method = Method::SimilarityAndGenre(GenreBlend::default());
    }
    if let Some(name) = &args.user {
        match store.user_by_name(name)? {
            Some(user) => {
                request.feedback =
                    feedback_for_index(&store.feedback(user.id)?, &index, Rocchio::default()).0;
            }
            None => eprintln!("note: {name} has rated nothing yet: a plain mix"),
        }
    }
    let found = index
        .mix(&request, args.variety)
        .context("the mix could not be made")?;
    if found.fewer_than_requested {
        eprintln!(
            "note: {} of {} songs: the catalog has {} embedded tracks, {} of them seeds{}",
            found.tracks.len(),
            args.count,
            set.len(),
            seeds.len(),
            if request.max_per_artist.is_some() {
                ", and --max-per-artist limits the rest"
            } else {
                ""
            }
        );
    }
    let output = Output {
        seeds: seeds
            .iter()
            .map(|&id| Song::of(store.as_ref(), &set, id, None))
            .collect::<anyhow::Result<_>>()?,
        mix: found
            .tracks
            .iter()
            .map(|h| Song::of(store.as_ref(), &set, TrackId(h.id), Some(h.score)))
            .collect::<anyhow::Result<_>>()?,
    };
    match args.format.as_str() {
        "json" => outln!("{}", serde_json::to_string_pretty(&output)?)?,
        "table" => {
            outln!(
                "mix of {} songs like {} seed song(s) (model {model_id}, variety {})",
                output.mix.len(),
                output.seeds.len(),
                args.variety
            )?;
            print_ranked(&output.mix)?;
        }
        _ => out!("{}", m3u(&output.mix, args.base.as_deref())?)?,
    }
    args.upstream.push(store.as_ref(), &output.mix)?;
    Ok(ExitCode::SUCCESS)
}
