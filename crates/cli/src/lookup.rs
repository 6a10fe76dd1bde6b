//! Finding what a command works on in the catalog: the model whose embeddings to use, and a
//! track as the user typed it (catalog id, file path, "artist - title", title). Shared by every
//! command that takes `--model` or a track, so that they resolve the same text the same way.

use std::path::Path;

use anyhow::{Context, bail};
use musicrec_catalog::{CatalogStore, EmbeddingSet, Track, TrackId, TrackMatch};
use musicrec_recommend::{EmbeddingIndex, MAX_SEEDS};

use crate::embedder::ModelChoice;

/// A catalog opened with one model's embeddings loaded and indexed: what `recommend`, `mix` and
/// `path` start from.
pub struct Embeddings {
    pub store: Box<dyn CatalogStore>,
    pub model_id: String,
    pub set: EmbeddingSet,
    pub index: EmbeddingIndex,
}

impl Embeddings {
    /// Opens the existing catalog `--db` names and loads the model [`choose_model`] picks; a
    /// model with no embedded track is an error that says how to scan with it.
    pub fn load(db: Option<&str>, model: Option<&Path>) -> anyhow::Result<Embeddings> {
        let store = crate::store::open_existing(db)?;
        let model_id = choose_model(store.as_ref(), model)?;
        let set = store.load_embeddings(&model_id)?;
        if set.is_empty() {
            bail!(
                "the catalog has no track embedded with model {model_id}: run `{}`",
                match model {
                    Some(dir) => format!("musicrec scan DIR --model {}", dir.display()),
                    None => "musicrec scan DIR".to_owned(),
                }
            );
        }
        let index = musicrec_recommend::index_from_embedding_set(&set)
            .context("stored embeddings do not form a valid index")?;
        Ok(Embeddings {
            store,
            model_id,
            set,
            index,
        })
    }
}

/// At most [`MAX_SEEDS`] seeds, the JSON API's limit too.
pub(crate) fn check_seed_count(seeds: usize) -> anyhow::Result<()> {
    if seeds > MAX_SEEDS {
        bail!("{seeds} seeds given: at most {MAX_SEEDS} (the web API takes as many)");
    }
    Ok(())
}

/// The model whose embeddings to use: `--model`'s id (which must have been scanned into this
/// catalog), else the default model's when the catalog holds it, else the catalog's only model,
/// else the one with the most embedded tracks.
pub fn choose_model(store: &dyn CatalogStore, model_dir: Option<&Path>) -> anyhow::Result<String> {
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
pub fn resolve_track(store: &dyn CatalogStore, query: &str, what: &str) -> anyhow::Result<Track> {
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
pub fn resolve_seed(
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
