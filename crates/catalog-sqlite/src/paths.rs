//! Where the catalog lives by default.

use std::path::PathBuf;

use musicrec_catalog::CatalogError;

/// `<platform data dir>/catalog.db`, e.g. `~/.local/share/musicrec/catalog.db` on Linux,
/// `~/Library/Application Support/musicrec/catalog.db` on macOS. Callers override it with an
/// explicit path (the CLI's `--catalog`).
pub fn default_catalog_path() -> Result<PathBuf, CatalogError> {
    directories::ProjectDirs::from("", "", "musicrec")
        .map(|dirs| dirs.data_dir().join("catalog.db"))
        .ok_or(CatalogError::NoDataDir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_path_is_catalog_db_in_a_musicrec_folder() {
        // Only where a home directory exists (always on developer machines and CI runners).
        if let Ok(path) = super::default_catalog_path() {
            assert_eq!(path.file_name().unwrap(), "catalog.db");
            assert!(
                path.parent()
                    .unwrap()
                    .to_string_lossy()
                    .contains("musicrec")
            );
        }
    }
}
