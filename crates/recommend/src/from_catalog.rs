//! The bridge from the catalog's stored embeddings to a search index: one place that turns an
//! [`EmbeddingSet`] (rows ordered by track id) into an [`EmbeddingIndex`] with genre
//! probabilities and the metadata that de-duplication and artist variety need (artist, title,
//! content hash, and the folder that stands in for a missing artist tag), for the CLI and
//! the server alike.

use musicrec_catalog::EmbeddingSet;

use crate::{EmbeddingIndex, Result, TrackMeta};

/// An index over every track of `set`: embeddings, genre probabilities (when the model has
/// genres) and artist/title/content-hash metadata. Track ids are the catalog's row ids.
pub fn index_from_embedding_set(set: &EmbeddingSet) -> Result<EmbeddingIndex> {
    let ids = set.tracks.iter().map(|t| t.id.0).collect();
    let mut index = EmbeddingIndex::new(ids, set.model.embedding_dim, set.embeddings.clone())?;
    if !set.model.genres.is_empty() {
        index = index.with_genres(set.model.genres.clone(), set.genre_probs.clone())?;
    }
    let meta = set
        .tracks
        .iter()
        .map(|t| TrackMeta {
            artist: t.artist.clone(),
            title: t.title.clone(),
            content_hash: Some(t.content_hash.to_hex().to_string()),
            folder: t
                .path
                .parent()
                .map(|folder| folder.to_string_lossy().into_owned()),
        })
        .collect();
    index.with_meta(meta)
}
