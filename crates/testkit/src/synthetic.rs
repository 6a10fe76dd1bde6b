//! A tiny synthetic catalog for the index-refresh tests (SQLite in musicrec-server, PostgreSQL in
//! the CLI's scale-out test): tracks whose embeddings are known exactly, no audio involved.

use std::path::PathBuf;

use musicrec_catalog::{FileFacts, ModelInfo, ScanUpdate, TrackEmbedding, TrackTags};

/// The synthetic model's id.
pub const MODEL: &str = "synthetic";
/// Its embedding width.
pub const DIM: usize = 8;

/// The synthetic model: two genres, embeddings of [`DIM`] values.
pub fn model_info() -> ModelInfo {
    ModelInfo {
        genres: vec!["a".into(), "b".into()],
        embedding_dim: DIM,
        config: serde_json::json!({}),
    }
}

/// Track `i` with embedding `sign * (i + d)`; the genre does not depend on `sign`.
pub fn track(i: usize, sign: f32) -> ScanUpdate {
    let path = PathBuf::from(format!("/music/t{i:03}.flac"));
    ScanUpdate::Embedded {
        file: FileFacts {
            content_hash: blake3::hash(path.to_str().unwrap().as_bytes()),
            size_bytes: 1000 + i as u64,
            mtime_ns: i as i64,
        },
        path,
        tags: TrackTags::default(),
        output: TrackEmbedding {
            embedding: (0..DIM).map(|d| sign * (i + d + 1) as f32).collect(),
            genre_probs: if i.is_multiple_of(2) {
                vec![0.8, 0.2]
            } else {
                vec![0.3, 0.7]
            },
            duration_secs: 30.0,
            warning: None,
        },
    }
}
