//! `musicrec quickstart DIR`: the main job in one command. Scans DIR into the catalog with the
//! built-in model (incremental: a rerun only embeds what changed), picks five seed songs under
//! DIR at random (seeded, printed) unless `--seed` names them, and prints the recommendations of
//! both of the paper's methods, then the commands to go on with. Scanning and ranking are the
//! catalog and recommend stages'; this module chains them and reports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use musicrec_app::{RecommendMethod, RecommendQuery};
use musicrec_catalog::{EmbeddingSet, TrackEmbedder, TrackId};
use musicrec_embed::scan::{ScanSetup, check_folders};
use musicrec_train::Analysis;

use crate::progress::scan_folders;

/// How many seeds quickstart picks when none are given: as many as a request takes.
const RANDOM_SEEDS: usize = musicrec_recommend::MAX_SEEDS;

/// Scan a music folder with the built-in model and recommend songs like five of it.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Any folder of music works (mp3, flac, ogg, m4a, wav, ...; sub-folders too). The catalog is the \
default one unless --db names another; a rerun skips unchanged files. Files that cannot be read \
are listed with the reason and skipped (exit status 0); exit status 2 when nothing could be done \
(no music files, none readable).

Examples:
  musicrec quickstart ~/Music
  musicrec quickstart ../shared/data/gtzan-mini --db quick.db --random-seed 7
  musicrec quickstart ~/Music --seed \"Miles Davis - So What\" --seed ~/Music/b.flac -k 10")]
pub struct Args {
    /// Music folder to scan.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// Seed songs (path, catalog id, or "artist - title") instead of five picked at random.
    #[arg(long = "seed", value_name = "TRACK")]
    seeds: Vec<String>,
    /// How many songs each method recommends.
    #[arg(short, default_value_t = 5)]
    k: usize,
    /// Seed of the random pick of seed songs [default: from the clock; printed].
    #[arg(long, value_name = "N")]
    random_seed: Option<u64>,
    /// Worker threads for the scan [default: one per core].
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.k == 0 {
        bail!("-k must be at least 1");
    }
    musicrec_app::check_seed_count(args.seeds.len())?;
    check_folders(std::slice::from_ref(&args.dir))?;
    let dir = std::fs::canonicalize(&args.dir)
        .with_context(|| format!("cannot resolve {}", args.dir.display()))?;
    let setup = ScanSetup::new(None, Analysis::default(), args.jobs, false)?;
    let model_id = setup.embedder.model_id().to_string();
    let (db, mut store) = musicrec_app::store::open_or_create(args.db.as_deref())?;

    outln!(
        "== scanning {} into {} with {} ({model_id})",
        dir.display(),
        db.describe(),
        setup.embedder.description()
    )?;
    let dirs = std::slice::from_ref(&dir);
    let (report, meter) = scan_folders(store.as_mut(), dirs, &setup)?;
    outln!("{}", report.summary(&meter))?;
    if let Some(reason) = report.did_nothing(dirs) {
        bail!(reason);
    }

    let set = store.load_embeddings(&model_id)?;
    let seed_ids: Vec<TrackId> = if args.seeds.is_empty() {
        let random_seed = args.random_seed.unwrap_or_else(clock_seed);
        let picked = musicrec_app::random_seeds_under(&set, &dir, RANDOM_SEEDS, random_seed)?;
        outln!(
            "\n== {} seed songs picked at random (--random-seed {random_seed} picks them again)",
            picked.len()
        )?;
        picked
    } else {
        let mut ids = Vec::new();
        for query in &args.seeds {
            let id = musicrec_app::resolve_seed(store.as_ref(), &set, query)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        outln!("\n== {} seed songs", ids.len())?;
        ids
    };
    for &id in &seed_ids {
        outln!("   {}", describe(&set, id))?;
    }

    let model = musicrec_app::ModelIndex::new(model_id, set)?;
    for (title, method) in [
        (
            "method 1: most similar embeddings (cosine, mean over the seeds)",
            RecommendMethod::Similarity,
        ),
        (
            "method 2: similarity plus the seeds' genre probabilities",
            RecommendMethod::Genre,
        ),
    ] {
        let mut query = RecommendQuery::new(seed_ids.iter().map(|id| id.0).collect(), args.k);
        query.method = method;
        let result = musicrec_app::recommend(&model, &query, None)?;
        outln!("\n== {title}")?;
        outln!("{:>3}  {:>7}  {:<10}  song", "#", "score", "genre")?;
        for (rank, hit) in result.tracks.iter().enumerate() {
            outln!(
                "{:>3}  {:>7.4}  {}",
                rank + 1,
                hit.score,
                describe(&model.set, TrackId(hit.id))
            )?;
        }
        if result.fewer_than_requested {
            outln!("   (only {} songs qualify)", result.tracks.len())?;
        }
    }

    let db_flag = args
        .db
        .as_deref()
        .map(|d| format!(" --db {d}"))
        .unwrap_or_default();
    let seeds_flag: String = seed_ids.iter().map(|id| format!(" --seed {id}")).collect();
    outln!("\n== next")?;
    outln!("   musicrec recommend{db_flag}{seeds_flag} --method genre --format m3u > mix.m3u")?;
    outln!("   musicrec tracks{db_flag} QUERY    # find a song's id")?;
    outln!("   musicrec stats{db_flag}")?;
    outln!("   musicrec serve{db_flag}    # the web page: open the address it prints")?;
    // Files that failed are listed above and recorded (`scan --failed`): exit status 0.
    Ok(ExitCode::SUCCESS)
}

/// `genre  artist - title (path)` of a track of the set.
fn describe(set: &EmbeddingSet, id: TrackId) -> String {
    let Some(row) = set.row_of(id) else {
        return format!("track {id}");
    };
    let track = &set.tracks[row];
    let genre = set
        .top_genre(row)
        .map(|g| set.model.genres[g].as_str())
        .unwrap_or("-");
    let name = match (&track.artist, &track.title) {
        (Some(a), Some(t)) => format!("{a} - {t}  "),
        _ => String::new(),
    };
    format!("{genre:<10}  {name}{} [id {id}]", track.path.display())
}

/// A seed from the clock when none is given; printed so the pick can be repeated.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 100_000)
        .unwrap_or(0)
}
