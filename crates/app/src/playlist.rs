//! Playlists made from the embeddings: a mix (a longer, varied playlist like the seed songs,
//! `EmbeddingIndex::mix`) and a path (songs that walk from one song to another,
//! `EmbeddingIndex::path`), with the notes a front end shows when fewer songs qualified.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use musicrec_catalog::{CatalogStore, TrackId};
use musicrec_recommend::{GenreBlend, Method, RecommendRequest, Rocchio, feedback_for_index};
use serde::Serialize;

use crate::error::{AppError, Result};
use crate::lookup::{ModelIndex, resolve_seed};
use crate::recommend::RecommendMethod;
use crate::song::{Song, read_m3u};

/// Songs named in messages before ", ...".
const NAMED: usize = 3;

/// The seeds an M3U/M3U8 playlist names, in order, and a note naming its songs that are not in
/// the catalog with the model (they are skipped).
pub fn seeds_from_m3u(
    store: &dyn CatalogStore,
    model: &ModelIndex,
    file: &Path,
) -> Result<(Vec<TrackId>, Option<String>)> {
    let paths = read_m3u(file)?;
    let mut seeds = Vec::new();
    let mut skipped: Vec<&PathBuf> = Vec::new();
    for path in &paths {
        match resolve_seed(store, &model.set, &path.to_string_lossy()) {
            Ok(id) => seeds.push(id),
            Err(_) => skipped.push(path),
        }
    }
    let note = (!skipped.is_empty()).then(|| {
        format!(
            "{} of the {} songs of {} are not in the catalog with model {} and do not seed the mix: {}{}",
            skipped.len(),
            paths.len(),
            file.display(),
            model.model_id,
            skipped
                .iter()
                .take(NAMED)
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if skipped.len() > NAMED { ", ..." } else { "" }
        )
    });
    Ok((seeds, note))
}

/// What to mix.
#[derive(Debug, Clone, PartialEq)]
pub struct MixQuery {
    /// Seed tracks (repeats are dropped); seeds never come back.
    pub seeds: Vec<TrackId>,
    /// Songs in the mix.
    pub count: usize,
    /// 0 = the plain ranking, 1 = as unlike each other as the best 4 x count allow.
    pub variety: f32,
    /// At most this many songs by one artist (untagged files count by folder).
    pub max_per_artist: Option<usize>,
    /// `Similarity` or `Genre`.
    pub method: RecommendMethod,
    /// Steer by this user's likes and dislikes; nothing they rated comes back.
    pub user: Option<String>,
}

/// A mix: its seeds and songs, and notes for the user (a user without ratings, fewer songs than
/// asked for).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mixed {
    pub seeds: Vec<Song>,
    pub mix: Vec<Song>,
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// Mixes `query.count` songs like the seeds (see [`MixQuery`]).
pub fn mix(store: &dyn CatalogStore, model: &ModelIndex, query: &MixQuery) -> Result<Mixed> {
    let mut seen = HashSet::new();
    let seeds: Vec<TrackId> = query
        .seeds
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
        .collect();
    if seeds.is_empty() {
        return Err(AppError::Invalid(
            "no seed song is in the catalog: scan its folder first (`musicrec scan DIR`)".into(),
        ));
    }
    let mut notes = Vec::new();
    let mut request = RecommendRequest::new(seeds.iter().map(|id| id.0).collect(), query.count);
    request.max_per_artist = query.max_per_artist;
    match query.method {
        RecommendMethod::Similarity => {}
        RecommendMethod::Genre if model.set.model.genres.is_empty() => {
            return Err(AppError::Invalid(format!(
                "--method genre needs genre probabilities, and model {} has no genres",
                model.model_id
            )));
        }
        RecommendMethod::Genre => {
            request.method = Method::SimilarityAndGenre(GenreBlend::default());
        }
        other => {
            return Err(AppError::Invalid(format!(
                "a mix is made by method similarity or genre, not {}",
                other.as_str()
            )));
        }
    }
    if let Some(name) = &query.user {
        match store.user_by_name(name)? {
            Some(user) => {
                request.feedback =
                    feedback_for_index(&store.feedback(user.id)?, &model.index, Rocchio::default())
                        .0;
            }
            None => notes.push(format!("{name} has rated nothing yet: a plain mix")),
        }
    }
    let found = model
        .index
        .mix(&request, query.variety)
        .map_err(|e| AppError::Invalid(format!("the mix could not be made: {e}")))?;
    if found.fewer_than_requested {
        notes.push(format!(
            "{} of {} songs: the catalog has {} embedded tracks, {} of them seeds{}",
            found.tracks.len(),
            query.count,
            model.set.len(),
            seeds.len(),
            if request.max_per_artist.is_some() {
                ", and --max-per-artist limits the rest"
            } else {
                ""
            }
        ));
    }
    Ok(Mixed {
        seeds: seeds
            .iter()
            .map(|&id| Song::of(store, &model.set, id, None))
            .collect::<Result<_>>()?,
        mix: found
            .tracks
            .iter()
            .map(|h| Song::of(store, &model.set, TrackId(h.id), Some(h.score)))
            .collect::<Result<_>>()?,
        notes,
    })
}

/// A song of a path, with its cosine similarity to the first and last song.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub song: Song,
    pub similarity_to_start: f32,
    pub similarity_to_end: f32,
}

/// A path, both ends included, and a note when it is shorter than asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    pub steps: Vec<Step>,
    pub note: Option<String>,
}

/// `count` songs from `from` to `to` (both included), each more like the end and less like the
/// start than the one before; shorter when the catalog holds too few songs between the two.
pub fn path(
    store: &dyn CatalogStore,
    model: &ModelIndex,
    from: TrackId,
    to: TrackId,
    count: usize,
) -> Result<Walk> {
    if from == to {
        return Err(AppError::Invalid(format!(
            "--from and --to are the same song ({from})"
        )));
    }
    let path = model.index.path(from.0, to.0, count, &[])?;
    let note = path.shortened().then(|| {
        format!(
            "{} of {count} songs: the catalog has no more songs between these two that keep moving towards the end",
            path.steps.len(),
        )
    });
    let steps = path
        .steps
        .iter()
        .map(|s| {
            Ok(Step {
                song: Song::of::<AppError>(store, &model.set, TrackId(s.id), None)?,
                similarity_to_start: s.similarity_to_start,
                similarity_to_end: s.similarity_to_end,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Walk { steps, note })
}
