//! A panicking embedder fails its one file with a clean, one-line reason (no panic text
//! spanning lines, no backtrace), and the scan carries on.

use std::path::Path;

use musicrec_catalog::scan::{FileJob, process_file};
use musicrec_catalog::{ModelInfo, ScanUpdate, TrackEmbedder, TrackEmbedding};

struct PanickingEmbedder;

impl TrackEmbedder for PanickingEmbedder {
    fn model_id(&self) -> &str {
        "panics"
    }

    fn model_info(&self) -> ModelInfo {
        ModelInfo {
            genres: vec!["a".into()],
            embedding_dim: 1,
            config: serde_json::json!({}),
        }
    }

    fn embed(&self, _path: &Path) -> Result<TrackEmbedding, String> {
        panic!("Imaginary part of first value was non-zero\nsecond line");
    }
}

#[test]
fn an_embedder_panic_becomes_a_one_line_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.wav");
    std::fs::write(&path, b"not audio").unwrap();
    let job = FileJob {
        path: path.clone(),
        size_bytes: 9,
        mtime_ns: 0,
        known: None,
    };
    let embedder = PanickingEmbedder;
    let update = process_file(&embedder, &embedder.model_info(), &job, &|_| None);
    let ScanUpdate::Failed { reason, .. } = update else {
        panic!("expected a failure, got {update:?}");
    };
    assert!(
        reason.starts_with(
            "embedder panicked: Imaginary part of first value was non-zero second line (at "
        ),
        "{reason}"
    );
    assert!(
        !reason.contains('\n') && !reason.contains("stack backtrace"),
        "{reason}"
    );
}
