//! `musicrec stats`: a summary of the catalog (tracks, missing, failures, users, feedback, and per
//! model the embedded tracks by most probable genre).

use std::process::ExitCode;

/// Summarise the catalog.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Catalog: an SQLite file or a postgres:// URL [default: the platform data folder's
    /// musicrec/catalog.db].
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// Print the numbers as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = musicrec_app::store::Db::from_arg(args.db.as_deref())?;
    let store = musicrec_app::store::open_existing(args.db.as_deref())?;
    let stats = store.stats()?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("catalog   {}", db.describe())?;
    outln!("tracks    {}", stats.tracks)?;
    // The word `scan` uses for them too.
    outln!(
        "missing   {}{}",
        stats.missing_tracks,
        if stats.missing_tracks > 0 {
            " (files gone at the last scan; kept with their likes until they are back)"
        } else {
            ""
        }
    )?;
    outln!("failures  {}", stats.failures)?;
    outln!("users     {}", stats.users)?;
    outln!("feedback  {}", stats.feedback_events)?;
    for model in &stats.models {
        outln!(
            "model {}: {} tracks embedded, {} dimensions",
            model.model_id,
            model.embedded_tracks,
            model.embedding_dim
        )?;
        for genre in model.per_genre.iter().filter(|g| g.tracks > 0) {
            outln!("  {:<12} {}", genre.genre, genre.tracks)?;
        }
    }
    if stats.models.is_empty() {
        outln!("no model yet: run `musicrec scan DIR` (the built-in model)")?;
    }
    Ok(ExitCode::SUCCESS)
}
