//! Tracks as a user finds and rates them: the catalog's text search (`CatalogStore::search`, the
//! one `/api/tracks` uses: artist, title, album and path, ignoring case) with an optional genre,
//! and a listener's like or dislike of a track as typed.

use std::path::PathBuf;

use musicrec_catalog::{CatalogStore, EmbeddingSet, Rating, Track};
use serde::Serialize;

use crate::error::{AppError, Result};
use crate::lookup::{ModelRequest, choose_model, resolve_track};

/// Search results are read this many at a time (the search's largest page).
const PAGE: u64 = 1000;

/// Tracks that match a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackList {
    /// Matching tracks in the catalog (all of them, not only those listed).
    pub total: u64,
    pub tracks: Vec<TrackEntry>,
    /// Which model's genres are shown, when that was a guess among several.
    #[serde(skip)]
    pub note: Option<String>,
}

/// A track found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackEntry {
    pub id: i64,
    pub artist: Option<String>,
    pub title: Option<String>,
    pub album: Option<String>,
    /// The model's most probable genre (absent until the track is embedded).
    pub genre: Option<String>,
    /// The file's genre tag.
    pub genre_tag: Option<String>,
    pub duration_secs: Option<f64>,
    pub path: PathBuf,
}

impl TrackEntry {
    fn of(track: &Track, genre: Option<String>) -> Self {
        Self {
            id: track.id.0,
            artist: track.tags.artist.clone(),
            title: track.tags.title.clone(),
            album: track.tags.album.clone(),
            genre,
            genre_tag: track.tags.genre.clone(),
            duration_secs: track.duration_secs,
            path: track.path.clone(),
        }
    }

    /// "artist - title", the title alone, else the file name.
    pub fn song(&self) -> String {
        match (&self.artist, &self.title) {
            (Some(artist), Some(title)) => format!("{artist} - {title}"),
            (None, Some(title)) => title.clone(),
            _ => crate::song::file_name(&self.path),
        }
    }

    /// The duration as "m:ss".
    pub fn length(&self) -> Option<String> {
        let secs = self.duration_secs?.round() as u64;
        Some(format!("{}:{:02}", secs / 60, secs % 60))
    }
}

/// At most `limit` tracks matching `query` (empty: every track), only those of `genre` when
/// given: the model's most probable genre or the file's genre tag, ignoring case. Genres come
/// from the model `model` picks (none while the catalog has no model).
pub fn search_tracks(
    store: &dyn CatalogStore,
    model: &ModelRequest,
    query: &str,
    genre: Option<&str>,
    limit: u64,
) -> Result<TrackList> {
    if limit == 0 {
        return Err(AppError::Invalid("the limit must be at least 1".into()));
    }
    let (set, note) = embeddings_for_genres(store, model)?;
    let genre_of = |track: &Track| -> Option<String> {
        let set = set.as_ref()?;
        let row = set.row_of(track.id)?;
        set.top_genre(row).map(|g| set.model.genres[g].clone())
    };
    let query = query.trim();
    let wanted = genre.map(|g| g.trim().to_lowercase());
    let keep = |track: &Track, genre: &Option<String>| match &wanted {
        None => true,
        Some(wanted) => [genre.as_deref(), track.tags.genre.as_deref()]
            .into_iter()
            .flatten()
            .any(|g| g.trim().to_lowercase() == *wanted),
    };
    // The search has no genre filter: with one, page through every hit and keep the genre's.
    let mut tracks = Vec::new();
    let (mut hits, mut matching, mut offset) = (0, 0, 0);
    loop {
        let room = limit - tracks.len() as u64;
        let page_size = if wanted.is_some() {
            PAGE
        } else {
            room.min(PAGE)
        };
        if page_size == 0 {
            break;
        }
        let page = store.search(query, offset, page_size)?;
        hits = page.total;
        for track in &page.items {
            let genre = genre_of(track);
            if keep(track, &genre) {
                matching += 1;
                if (tracks.len() as u64) < limit {
                    tracks.push(TrackEntry::of(track, genre));
                }
            }
        }
        offset += page.items.len() as u64;
        if page.items.is_empty() || offset >= page.total {
            break;
        }
    }
    Ok(TrackList {
        total: if wanted.is_some() { matching } else { hits },
        tracks,
        note,
    })
}

/// The embeddings of the model `recommend` would use, for genres; `None` when the catalog has no
/// model yet.
fn embeddings_for_genres(
    store: &dyn CatalogStore,
    model: &ModelRequest,
) -> Result<(Option<EmbeddingSet>, Option<String>)> {
    if store.model_ids()?.is_empty() {
        return Ok((None, None));
    }
    let chosen = choose_model(store, model)?;
    Ok((Some(store.load_embeddings(&chosen.model_id)?), chosen.note))
}

/// Records that `user` (created on their first rating) likes or dislikes the track `track` names
/// (a catalog id, a path, "artist - title"); the track rated.
pub fn rate_track(
    store: &mut dyn CatalogStore,
    user: &str,
    track: &str,
    rating: Rating,
) -> Result<Track> {
    let track = resolve_track(store, track, "track")?;
    let user = store.add_user(user)?;
    store.record_feedback(user, track.id, rating)?;
    Ok(track)
}
