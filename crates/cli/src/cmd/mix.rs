//! `musicrec mix`: a longer playlist like the seed songs, with variety (`EmbeddingIndex::mix`)
//! and a per-artist cap, seeded by songs or by an M3U playlist, written as M3U for a player.
//! The mix is `musicrec_app::mix`'s; this module parses and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use musicrec_app::table::Table;
use musicrec_app::{MixQuery, RecommendMethod, resolve_seed, seeds_from_m3u};
use musicrec_recommend::DEFAULT_VARIETY;

use crate::playlist::m3u;

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
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
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

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.variety) {
        bail!("--variety must be within 0 and 1");
    }
    // A missing --upstream, user or password is reported before the mix is made.
    args.upstream.config()?;
    let (store, model) = crate::models::load(args.db.as_deref(), args.model.as_deref())?;
    let mut seeds = Vec::new();
    for query in &args.seeds {
        seeds.push(resolve_seed(store.as_ref(), &model.set, query)?);
    }
    if let Some(list) = &args.seeds_from {
        let (listed, note) = seeds_from_m3u(store.as_ref(), &model, list)?;
        seeds.extend(listed);
        if let Some(note) = note {
            eprintln!("note: {note}");
        }
    }
    let query = MixQuery {
        seeds,
        count: args.count,
        variety: args.variety,
        max_per_artist: (args.max_per_artist > 0).then_some(args.max_per_artist),
        method: args.method.parse::<RecommendMethod>()?,
        user: args.user.clone(),
    };
    let output = musicrec_app::mix(store.as_ref(), &model, &query)?;
    for note in &output.notes {
        eprintln!("note: {note}");
    }
    match args.format.as_str() {
        "json" => outln!("{}", serde_json::to_string_pretty(&output)?)?,
        "table" => {
            outln!(
                "mix of {} songs like {} seed song(s) (model {}, variety {})",
                output.mix.len(),
                output.seeds.len(),
                model.model_id,
                args.variety
            )?;
            crate::playlist::print_table(&Table::ranked(&output.mix))?;
        }
        _ => out!("{}", m3u(&output.mix, args.base.as_deref())?)?,
    }
    args.upstream.push(store.as_ref(), &output.mix)?;
    Ok(ExitCode::SUCCESS)
}
