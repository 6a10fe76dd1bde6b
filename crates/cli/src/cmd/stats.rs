//! `musicrec stats`: a summary of the catalog (tracks, missing, failures, users, feedback, and per
//! model the embedded tracks by most probable genre).

use std::process::ExitCode;

/// Summarise the catalog.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// Print the numbers as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = crate::store::Db::from_arg(args.db.as_deref())?;
    let store = crate::store::open_existing(args.db.as_deref())?;
    let stats = store.stats()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("catalog   {}", db.describe());
    println!("tracks    {}", stats.tracks);
    println!("missing   {}", stats.missing_tracks);
    println!("failures  {}", stats.failures);
    println!("users     {}", stats.users);
    println!("feedback  {}", stats.feedback_events);
    for model in &stats.models {
        println!(
            "model {}: {} tracks embedded, {} dimensions",
            model.model_id, model.embedded_tracks, model.embedding_dim
        );
        for genre in model.per_genre.iter().filter(|g| g.tracks > 0) {
            println!("  {:<12} {}", genre.genre, genre.tracks);
        }
    }
    if stats.models.is_empty() {
        println!("no model yet: run `musicrec scan DIR --model MODEL_DIR`");
    }
    Ok(ExitCode::SUCCESS)
}
