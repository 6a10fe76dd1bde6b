//! The model that ships inside the `musicrec` binary (`models/default/` in the repository: a CNN
//! that `musicrec train` made from GTZAN-mini, see its `MODEL.md`), so that `scan`, `recommend`,
//! `predict`, `quickstart` and `eval-recs` work without `--model`.
//!
//! The files are compiled in with `include_bytes!` and loaded from memory
//! ([`musicrec_train::ModelDir::from_bytes`]): nothing is unpacked to disk, and its model id is
//! the same hash of config.json + weights that a copy of `models/default/` on disk gets, so a
//! catalog scanned with either is the same catalog.

use anyhow::Context;
use musicrec_train::{DeviceKind, ModelDir, ModelDirConfig};

/// `config.json` of the shipped model.
pub const CONFIG_JSON: &[u8] = include_bytes!("../../../models/default/config.json");
/// `weights.safetensors` of the shipped model.
pub const WEIGHTS: &[u8] = include_bytes!("../../../models/default/weights.safetensors");
/// Its model card.
pub const MODEL_CARD: &str = include_str!("../../../models/default/MODEL.md");
/// The manifest it was trained on (train and validation splits used; the test split unseen), so
/// `eval-recs` can tell whether an evaluation set overlaps what the model saw.
pub const TRAINING_MANIFEST: &[u8] = include_bytes!("../../../models/default/data.csv");
/// How messages name it.
pub const NAME: &str = "built-in default model";

/// The shipped model on `device`.
pub fn load(device: DeviceKind) -> anyhow::Result<ModelDir> {
    ModelDir::from_bytes(NAME, CONFIG_JSON, WEIGHTS, device)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the built-in model does not load (a broken build?)")
}

/// The shipped model's config.
pub fn config() -> anyhow::Result<ModelDirConfig> {
    let text = std::str::from_utf8(CONFIG_JSON).context("built-in config.json is not UTF-8")?;
    ModelDirConfig::parse(text, std::path::Path::new(NAME)).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The shipped model's catalog id (`<arch>-<16 hex>`).
pub fn model_id() -> anyhow::Result<String> {
    Ok(crate::embedder::model_id_of_bytes(
        CONFIG_JSON,
        WEIGHTS,
        &config()?.arch,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_model_loads_and_its_id_is_that_of_the_repository_copy() {
        let model = super::load(musicrec_train::DeviceKind::Cpu).unwrap();
        assert!(model.genres().len() >= 2);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default");
        let on_disk = crate::embedder::model_id_of(&dir, &model.config().arch).unwrap();
        assert_eq!(super::model_id().unwrap(), on_disk);
        assert!(super::MODEL_CARD.contains("GTZAN"));
    }
}
