//! `musicrec experiment`: a listening experiment without the paper's biases. `new` defines a
//! study, `session` builds one participant's list (every method's recommendations hidden among
//! random decoys, shuffled; the origins are stored and never printed), `respond` records a
//! like/dislike per item and round, `analyze` reports likes per method against the decoy floor
//! with a paired t-test and a Wilcoxon test (Markdown, JSON, PNG), and `simulate` runs the whole
//! flow with virtual listeners (every output of such a study says "simulated").
//! The workflows are `musicrec_app::experiment`'s (the server's too); this module parses and
//! prints.

use std::path::PathBuf;
use std::process::ExitCode;

use musicrec_app::experiment as study;
use musicrec_app::resolve_seed;
use musicrec_catalog::{CatalogStore, NewStudy, Rating, SessionId};
use musicrec_study::simulate::ListenerSpec;

/// Listening experiments: blind sessions with decoys, ratings, analysis, simulation.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Define a study comparing recommendation methods.
    New(NewArgs),
    /// Build one participant's shuffled list (recommendations of every method among decoys).
    Session(SessionArgs),
    /// Record a participant's like or dislike of an item of their session.
    Respond(RespondArgs),
    /// Likes per method against the decoy floor, paired t-test and Wilcoxon test, report + plot.
    Analyze(AnalyzeArgs),
    /// Run the study with virtual listeners of known taste (marks the study simulated).
    Simulate(SimulateArgs),
}

/// Catalog selection shared by every experiment subcommand.
#[derive(clap::Args, Debug)]
pub struct DbArg {
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  musicrec experiment new --name paper --methods similarity,genre --k 5 --decoys 10"
)]
pub struct NewArgs {
    /// Unique study name.
    #[arg(long)]
    name: String,
    /// Compared methods, comma-separated (similarity, genre).
    #[arg(long, value_delimiter = ',', required = true)]
    methods: Vec<String>,
    /// Recommendations per method in each list.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Random decoy tracks mixed into each list.
    #[arg(long, default_value_t = 10)]
    decoys: usize,
    #[command(flatten)]
    db: DbArg,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
TRACK is a file path, a catalog id, or \"artist - title\". The list is printed without origins.

Example:
  musicrec experiment session --study paper --participant p01 --seed a.mp3 --seed b.flac")]
pub struct SessionArgs {
    /// The study.
    #[arg(long)]
    study: String,
    /// Participant name (one session per participant and study).
    #[arg(long)]
    participant: String,
    /// A song the participant chose (repeat; the paper used 5).
    #[arg(long = "seed", value_name = "TRACK", required = true)]
    seeds: Vec<String>,
    /// Model directory whose embeddings to use [default: as `recommend`].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Shuffle seed [default: derived from the study and participant names].
    #[arg(long)]
    shuffle_seed: Option<u64>,
    #[command(flatten)]
    db: DbArg,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Example (a follow-up rating days later):
  musicrec experiment respond --session 3 --track 57 --dislike --round 2")]
pub struct RespondArgs {
    /// Session id (printed by `experiment session`).
    #[arg(long)]
    session: i64,
    /// An item of the session: catalog id, path, or \"artist - title\".
    #[arg(long, value_name = "TRACK")]
    track: String,
    /// The participant likes it.
    #[arg(long, conflicts_with = "dislike", required_unless_present = "dislike")]
    like: bool,
    /// The participant does not like it.
    #[arg(long)]
    dislike: bool,
    /// Listening round (2 for a follow-up days later).
    #[arg(long, default_value_t = 1)]
    round: u32,
    #[command(flatten)]
    db: DbArg,
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// The study.
    #[arg(long)]
    study: String,
    /// The round to analyse.
    #[arg(long, default_value_t = 1)]
    round: u32,
    /// Also write analysis.md, analysis.json and like_rates.png into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    db: DbArg,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Each virtual listener picks seeds of one genre and likes an item with probability --p-high when
its most probable genre is their seeds' genre, --p-low otherwise (decoys too).

Example:
  musicrec experiment new --name sim --methods similarity,genre
  musicrec experiment simulate --study sim --listeners 30 && musicrec experiment analyze --study sim")]
pub struct SimulateArgs {
    /// The study (it is marked simulated; refused if real people already took part).
    #[arg(long)]
    study: String,
    /// Virtual listeners.
    #[arg(long, default_value_t = 30)]
    listeners: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seeds per listener.
    #[arg(long, default_value_t = 5)]
    seeds_per_listener: usize,
    /// Like probability for items of the listener's genre.
    #[arg(long, default_value_t = 0.8)]
    p_high: f64,
    /// Like probability for other items.
    #[arg(long, default_value_t = 0.2)]
    p_low: f64,
    /// Model directory whose embeddings to use [default: as `recommend`].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    #[command(flatten)]
    db: DbArg,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::New(args) => new(args),
        Command::Session(args) => session(args),
        Command::Respond(args) => respond(args),
        Command::Analyze(args) => analyze(args),
        Command::Simulate(args) => simulate(args),
    }
}

fn open(db: &DbArg) -> anyhow::Result<Box<dyn CatalogStore>> {
    Ok(musicrec_app::store::open_existing(db.db.as_deref())?)
}

fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    let mut store = open(&args.db)?;
    let study = study::new_study(
        store.as_mut(),
        NewStudy {
            name: args.name,
            methods: args.methods,
            k: args.k,
            decoys: args.decoys,
            simulated: false,
        },
    )?;
    outln!(
        "study {:?} (id {}): methods {}, {} recommendations each, {} decoys per list",
        study.name,
        study.id,
        study.methods.join(", "),
        study.k,
        study.decoys
    )?;
    Ok(ExitCode::SUCCESS)
}

fn session(args: SessionArgs) -> anyhow::Result<ExitCode> {
    let (mut store, model) = crate::models::load(args.db.db.as_deref(), args.model.as_deref())?;
    let study = study::study_named(store.as_ref(), &args.study)?;
    let mut seeds = Vec::new();
    for query in &args.seeds {
        seeds.push(resolve_seed(store.as_ref(), &model.set, query)?);
    }
    let session = study::start_session(
        store.as_mut(),
        &model,
        &study,
        args.participant.trim(),
        &seeds,
        args.shuffle_seed,
    )?;
    outln!(
        "session {} for {} in study {:?}{}: rate every song with \
         `musicrec experiment respond --session {} --track ID --like|--dislike`",
        session.id,
        session.participant,
        study.name,
        if study.simulated { " [SIMULATED]" } else { "" },
        session.id
    )?;
    outln!("{:>3}  {:>6}  {:<40}  path", "#", "id", "song")?;
    for (n, item) in session.items.iter().enumerate() {
        let name = store
            .track(item.track)?
            .map_or_else(|| item.path.display().to_string(), |t| t.display_name());
        outln!(
            "{:>3}  {:>6}  {:<40}  {}",
            n + 1,
            item.track,
            name,
            item.path.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn respond(args: RespondArgs) -> anyhow::Result<ExitCode> {
    let mut store = open(&args.db)?;
    let session = study::session(store.as_ref(), SessionId(args.session))?;
    let track = study::session_track(store.as_ref(), &session, &args.track)?;
    let rating = if args.like {
        Rating::Like
    } else {
        Rating::Dislike
    };
    study::respond(store.as_mut(), session.id, track, args.round, rating)?;
    outln!(
        "session {}: {} track {track} in round {}",
        session.id,
        if args.like { "liked" } else { "disliked" },
        args.round
    )?;
    Ok(ExitCode::SUCCESS)
}

fn analyze(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let store = open(&args.db)?;
    let analysis = study::analyze(store.as_ref(), &args.study, args.round)?;
    out!("{}", analysis.to_markdown())?;
    if let Some(dir) = &args.out {
        let files = analysis.write_report(dir)?;
        outln!(
            "\nwrote {}, {} and {}",
            files.markdown.display(),
            files.json.display(),
            files.plot.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let (mut store, model) = crate::models::load(args.db.db.as_deref(), args.model.as_deref())?;
    let spec = ListenerSpec {
        listeners: args.listeners,
        seeds_per_listener: args.seeds_per_listener,
        p_high: args.p_high,
        p_low: args.p_low,
        seed: args.seed,
    };
    let summary = study::simulate(store.as_mut(), &args.study, &model, &spec)?;
    outln!(
        "SIMULATED: {} virtual listeners ({} to {}) rated {} items in study {:?} \
         (p_high {}, p_low {}, seed {}); analyse with `musicrec experiment analyze --study {}`",
        summary.listeners.len(),
        summary.listeners.first().map_or("-", |l| l.name.as_str()),
        summary.listeners.last().map_or("-", |l| l.name.as_str()),
        summary.responses,
        summary.study,
        args.p_high,
        args.p_low,
        args.seed,
        summary.study
    )?;
    Ok(ExitCode::SUCCESS)
}
