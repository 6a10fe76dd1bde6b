//! What a scan of music folders into the catalog is set up with ([`ScanSetup`]): the embedder
//! `--model` names and the scan options; and the check that the folders given are folders.

use std::path::{Path, PathBuf};

use anyhow::bail;
use musicrec_catalog::ScanOptions;
use musicrec_train::Analysis;

use crate::ModelEmbedder;

/// The embedder and options of a scan.
pub struct ScanSetup {
    pub embedder: ModelEmbedder,
    pub options: ScanOptions,
}

impl ScanSetup {
    /// Loads the model `model` names (see [`crate::ModelChoice::parse`]; `analysis` applies to
    /// backbones) and sets the scan to `jobs` threads (`None`: one per core), retrying files that
    /// failed before when `retry_failed`.
    pub fn new(
        model: Option<&Path>,
        analysis: Analysis,
        jobs: Option<usize>,
        retry_failed: bool,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            embedder: ModelEmbedder::from_arg(model, analysis)?,
            options: ScanOptions {
                jobs: jobs.unwrap_or(0),
                retry_failed,
                ..ScanOptions::default()
            },
        })
    }
}

/// An error naming the first of `dirs` that is not a folder (or does not exist).
pub fn check_folders(dirs: &[PathBuf]) -> anyhow::Result<()> {
    for dir in dirs {
        if !dir.is_dir() {
            bail!(
                "{} is not a folder{}",
                dir.display(),
                if dir.exists() {
                    ""
                } else {
                    ": it does not exist"
                }
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_named() {
        let missing = PathBuf::from("/no/such/folder/anywhere");
        let err = check_folders(&[std::env::temp_dir(), missing]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/no/such/folder/anywhere is not a folder: it does not exist"
        );
    }
}
