//! Finding what a request works on in the catalog: the model whose embeddings to use, and a
//! track as the user typed it (catalog id, file path, "artist - title", title). Shared by both
//! front ends, so that they resolve the same text the same way.

use std::path::Path;

use musicrec_catalog::{CatalogStore, EmbeddingSet, Track, TrackId, TrackMatch};
use musicrec_recommend::{EmbeddingIndex, MAX_SEEDS};

use crate::error::{AppError, Result};

/// Which model a request asks for: `requested` (a model the user named, with its id already
/// computed from its files by the caller), else `preferred` (the default model's id) when the
/// catalog holds it, else the catalog's only model, else the one with the most embedded tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelRequest {
    /// `(model id, the name or directory as the user gave it)`.
    pub requested: Option<(String, String)>,
    /// The id of the model the front end uses by default (the built-in one).
    pub preferred: Option<String>,
}

/// One model's embeddings loaded from the catalog and indexed: what recommendations, mixes and
/// paths are computed from.
#[derive(Debug)]
pub struct ModelIndex {
    pub model_id: String,
    /// Track summaries, embeddings and genre probabilities, rows ordered by track id.
    pub set: EmbeddingSet,
    pub index: EmbeddingIndex,
    /// Why this model was taken, when it was a guess among several (see [`ChosenModel`]).
    pub note: Option<String>,
}

impl ModelIndex {
    /// Indexes `set` (the embeddings of `model_id`).
    pub fn new(model_id: String, set: EmbeddingSet) -> Result<Self> {
        let index = musicrec_recommend::index_from_embedding_set(&set).map_err(|e| {
            AppError::Invalid(format!("stored embeddings do not form a valid index: {e}"))
        })?;
        Ok(Self {
            model_id,
            set,
            index,
            note: None,
        })
    }

    /// Loads the embeddings of the model [`choose_model`] picks; a model with no embedded track
    /// is an error that says how to scan with it.
    pub fn load(store: &dyn CatalogStore, model: &ModelRequest) -> Result<Self> {
        let ChosenModel { model_id, note } = choose_model(store, model)?;
        let set = store.load_embeddings(&model_id)?;
        if set.is_empty() {
            return Err(AppError::Unavailable(format!(
                "the catalog has no track embedded with model {model_id}: run `{}`",
                match &model.requested {
                    Some((_, shown)) => format!("musicrec scan DIR --model {shown}"),
                    None => "musicrec scan DIR".to_owned(),
                }
            )));
        }
        let mut loaded = Self::new(model_id, set)?;
        loaded.note = note;
        Ok(loaded)
    }

    /// Row of a track in `set`, if it has an embedding from this model.
    pub fn row_of(&self, id: TrackId) -> Option<usize> {
        self.set.row_of(id)
    }
}

/// At most [`MAX_SEEDS`] seeds, in the CLI and the JSON API alike.
pub fn check_seed_count(seeds: usize) -> Result<()> {
    if seeds > MAX_SEEDS {
        return Err(AppError::Invalid(format!(
            "{seeds} seeds given: at most {MAX_SEEDS} (the web API takes as many)"
        )));
    }
    Ok(())
}

/// The model [`choose_model`] took, and a note for the user when the choice was a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenModel {
    pub model_id: String,
    /// Set when the catalog holds several models and none was asked for or preferred.
    pub note: Option<String>,
}

impl ChosenModel {
    fn plain(id: &str) -> Self {
        Self {
            model_id: id.to_owned(),
            note: None,
        }
    }
}

/// The model whose embeddings to use (see [`ModelRequest`]). An empty catalog is
/// [`AppError::Unavailable`]; a requested model the catalog never saw is [`AppError::NotFound`].
pub fn choose_model(store: &dyn CatalogStore, model: &ModelRequest) -> Result<ChosenModel> {
    let known = store.model_ids()?;
    if let Some((id, shown)) = &model.requested {
        if !known.contains(id) {
            return Err(AppError::NotFound(format!(
                "model {shown} (id {id}) was never used to scan this catalog{}: run `musicrec scan DIR --model {shown}` first",
                if known.is_empty() {
                    String::new()
                } else {
                    format!(" (it holds embeddings of {})", known.join(", "))
                },
            )));
        }
        return Ok(ChosenModel::plain(id));
    }
    if let Some(preferred) = &model.preferred
        && known.contains(preferred)
    {
        return Ok(ChosenModel::plain(preferred));
    }
    match known.len() {
        0 => Err(AppError::Unavailable(
            "the catalog is empty: run `musicrec scan DIR` first".into(),
        )),
        1 => Ok(ChosenModel::plain(&known[0])),
        _ => {
            // The catalog API does not expose registration times, so "most embedded tracks"
            // stands in for "the one in use"; the note says which was taken.
            let stats = store.stats()?;
            let best = stats
                .models
                .iter()
                .max_by_key(|m| m.embedded_tracks)
                .map(|m| m.model_id.clone())
                .ok_or_else(|| {
                    AppError::Unavailable(
                        "the catalog lists models but has no statistics for them".into(),
                    )
                })?;
            let note = format!(
                "the catalog holds {} models ({}); using {best} (most embedded tracks); pass --model to choose",
                known.len(),
                known.join(", ")
            );
            Ok(ChosenModel {
                model_id: best,
                note: Some(note),
            })
        }
    }
}

/// A track as typed (`what` names it in messages: "seed", "track"): a catalog id, a file path,
/// or "artist - title" / title text. Ambiguous text is an error listing the candidates.
pub fn resolve_track(store: &dyn CatalogStore, query: &str, what: &str) -> Result<Track> {
    let trimmed = query.trim();
    if trimmed.is_empty() {
        return Err(AppError::Invalid(format!("empty {what}")));
    }
    if let Ok(id) = trimmed.parse::<i64>()
        && let Some(track) = store.track(TrackId(id))?
    {
        return Ok(track);
    }
    let on_disk = Path::new(trimmed);
    if on_disk.exists() {
        let canonical = std::fs::canonicalize(on_disk).map_err(|e| {
            AppError::NotFound(format!("cannot resolve {what} path {trimmed}: {e}"))
        })?;
        return match store.track_by_path(&canonical)? {
            Some(found) => Ok(found),
            None => Err(AppError::NotFound(format!(
                "{what} {trimmed} is not in the catalog: run `musicrec scan` on its folder first"
            ))),
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
            Err(AppError::NotFound(format!(
                "{what} '{trimmed}' matches {} tracks; give one's id (`musicrec tracks '{trimmed}'` \
                 lists them all):{listed}{}",
                if candidates.len() > 10 {
                    "more than 10".to_owned()
                } else {
                    candidates.len().to_string()
                },
                if candidates.len() > 10 { "\n  ..." } else { "" }
            )))
        }
        TrackMatch::NotFound => Err(AppError::NotFound(format!(
            "no track in the catalog matches {what} '{trimmed}' (give a path, a catalog id, or \"artist - title\")"
        ))),
    }
}

/// A seed as typed, which must have an embedding from the set's model.
pub fn resolve_seed(store: &dyn CatalogStore, set: &EmbeddingSet, query: &str) -> Result<TrackId> {
    let track = resolve_track(store, query, "seed")?;
    if set.row_of(track.id).is_none() {
        return Err(AppError::NotFound(format!(
            "seed {} ({}) has no embedding from model {}{}",
            track.display_name(),
            track.path.display(),
            set.model_id,
            if track.missing_since.is_some() {
                ": its file was missing at the last scan"
            } else {
                ": rescan its folder with this model"
            }
        )));
    }
    Ok(track.id)
}

/// `count` songs picked at random (reproducibly, from `random_seed`) among the tracks of `set`
/// under the folder `dir`, by id; at most all but one of them, so that something is left to
/// recommend. Fewer than 2 songs there is an error.
pub fn random_seeds_under(
    set: &EmbeddingSet,
    dir: &Path,
    count: usize,
    random_seed: u64,
) -> Result<Vec<TrackId>> {
    use rand::SeedableRng;
    use rand::seq::IndexedRandom;

    let under_dir: Vec<TrackId> = set
        .tracks
        .iter()
        .filter(|t| t.path.starts_with(dir))
        .map(|t| t.id)
        .collect();
    if under_dir.len() < 2 {
        return Err(AppError::Unavailable(format!(
            "{} has {} playable song(s) in the catalog: at least 2 are needed to recommend from",
            dir.display(),
            under_dir.len()
        )));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(random_seed);
    let count = count.min(under_dir.len() - 1);
    let mut picked: Vec<TrackId> = under_dir
        .choose_multiple(&mut rng, count)
        .copied()
        .collect();
    picked.sort_unstable_by_key(|id| id.0);
    Ok(picked)
}
