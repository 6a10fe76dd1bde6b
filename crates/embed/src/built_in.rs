//! The models that ship inside the `musicrec` binary, so that `scan`, `recommend`, `predict`,
//! `quickstart` and `eval-recs` work without `--model`:
//! - the default: the MusiCNN backbone (`MSD_musicnn`, `models/musicnn-msd/`, compiled into the
//!   model crate; ISC licence) with the built-in genre head (`models/musicnn-genre/`: logistic
//!   regression on MusiCNN's embedding, trained by `musicrec train --backbone musicnn` on
//!   GTZAN-mini's train and validation clips), `--model musicnn`; `--model musicnn-tags` takes
//!   MusiCNN's 50 MSD tag probabilities as the genres instead, `--model HEAD_DIR` another head;
//! - the small CNN of earlier versions (`models/default/`: a CNN that `musicrec train` made from
//!   GTZAN-mini), `--model cnn`.
//!
//! The files are compiled in with `include_bytes!` and loaded from memory: nothing is unpacked
//! to disk, and a model's id is the same hash a copy of its directory on disk gets, so a catalog
//! scanned with either is the same catalog.

use std::path::Path;

use anyhow::{Context, bail};
use musicrec_train::backbone::ModelDirBackbone;
use musicrec_train::musicnn_backbone::MusicnnBackbone;
use musicrec_train::{Backbone, DeviceKind, HeadConfig, ModelDir, ModelDirConfig};

/// `config.json` of the built-in CNN.
pub const CONFIG_JSON: &[u8] = include_bytes!("../../../models/default/config.json");
/// `weights.safetensors` of the built-in CNN.
pub const WEIGHTS: &[u8] = include_bytes!("../../../models/default/weights.safetensors");
/// The built-in CNN's model card.
pub const MODEL_CARD: &str = include_str!("../../../models/default/MODEL.md");
/// The manifest the built-in CNN was trained on (train and validation splits used; the test
/// split unseen), so `eval-recs` can tell whether an evaluation set overlaps what it saw.
pub const TRAINING_MANIFEST: &[u8] = include_bytes!("../../../models/default/data.csv");
/// How messages name the built-in CNN.
pub const NAME: &str = "built-in CNN";

/// `config.json` of the built-in genre head on MusiCNN.
pub const GENRE_HEAD_CONFIG: &[u8] = include_bytes!("../../../models/musicnn-genre/config.json");
/// `weights.safetensors` of the built-in genre head.
pub const GENRE_HEAD_WEIGHTS: &[u8] =
    include_bytes!("../../../models/musicnn-genre/weights.safetensors");
/// The built-in genre head's card: its data, command and cross-validated accuracy.
pub const GENRE_HEAD_CARD: &str = include_str!("../../../models/musicnn-genre/MODEL.md");
/// How messages name the built-in genre head.
pub const GENRE_HEAD_NAME: &str = "the built-in genre head";

/// MusiCNN's card: what the network is, where its weights come from, and their ISC licence.
pub const MUSICNN_CARD: &str = include_str!("../../../models/musicnn-msd/MODEL.md");
/// The ISC licence text that comes with the MusiCNN weights.
pub const MUSICNN_LICENSE: &str = include_str!("../../../models/musicnn-msd/LICENSE");

/// The built-in CNN on `device`.
pub fn load(device: DeviceKind) -> anyhow::Result<ModelDir> {
    ModelDir::from_bytes(NAME, CONFIG_JSON, WEIGHTS, device)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the built-in model does not load (a broken build?)")
}

/// The built-in CNN's config.
pub fn config() -> anyhow::Result<ModelDirConfig> {
    let text = std::str::from_utf8(CONFIG_JSON).context("built-in config.json is not UTF-8")?;
    ModelDirConfig::parse(text, Path::new(NAME)).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The built-in CNN's catalog id (`<arch>-<16 hex>`).
pub fn model_id() -> anyhow::Result<String> {
    Ok(musicrec_train::model_dir::model_id_of_bytes(
        CONFIG_JSON,
        WEIGHTS,
        &config()?.arch,
    ))
}

/// The backbones built into the binary (`musicrec train --backbone NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackboneKind {
    /// MusiCNN with the `MSD_musicnn` weights.
    MusicnnMsd,
    /// The built-in CNN's embedding: cheap, for quick experiments and tests.
    BuiltInCnn,
}

/// What `--backbone` takes.
pub const BACKBONE_NAMES: [&str; 3] = ["musicnn", "musicnn-msd", "cnn"];

impl BackboneKind {
    /// `musicnn` / `musicnn-msd` or `cnn`.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        match name {
            "musicnn" | "musicnn-msd" => Ok(Self::MusicnnMsd),
            "cnn" => Ok(Self::BuiltInCnn),
            _ => bail!(
                "unknown backbone `{name}`: choose one of {}",
                BACKBONE_NAMES.join(", ")
            ),
        }
    }

    /// The name heads record (`musicnn-msd`, `cnn`).
    pub fn name(self) -> String {
        match self {
            Self::MusicnnMsd => "musicnn-msd".into(),
            Self::BuiltInCnn => "cnn".into(),
        }
    }

    /// The backbone's id without loading it.
    pub fn id(self) -> anyhow::Result<String> {
        match self {
            Self::MusicnnMsd => Ok(format!(
                "musicnn-msd-{}",
                &blake3::hash(musicrec_train::musicnn_backbone::MSD_WEIGHTS)
                    .to_hex()
                    .as_str()[..16]
            )),
            Self::BuiltInCnn => model_id(),
        }
    }

    /// The backbone, on the CPU.
    pub fn load(self) -> anyhow::Result<Box<dyn Backbone + Send>> {
        Ok(match self {
            Self::MusicnnMsd => Box::new(
                MusicnnBackbone::built_in()
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .context("the built-in MusiCNN weights do not load (a broken build?)")?,
            ),
            Self::BuiltInCnn => {
                Box::new(ModelDirBackbone::new(load(DeviceKind::Cpu)?, model_id()?))
            }
        })
    }

    /// The built-in backbone a head was trained on; a head on any other backbone is an error
    /// naming it.
    pub fn for_head(head: &HeadConfig, name: &Path) -> anyhow::Result<Self> {
        for kind in [Self::MusicnnMsd, Self::BuiltInCnn] {
            if kind.id()? == head.backbone_id {
                return Ok(kind);
            }
        }
        bail!(
            "{}: the head was trained on backbone {} ({}), which this musicrec does not have \
             (built in: musicnn-msd {}, cnn {}); train the head again with `musicrec train \
             --backbone musicnn`",
            name.display(),
            head.backbone,
            head.backbone_id,
            Self::MusicnnMsd.id()?,
            Self::BuiltInCnn.id()?
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_model_loads_and_its_id_is_that_of_the_repository_copy() {
        let model = super::load(musicrec_train::DeviceKind::Cpu).unwrap();
        assert!(model.genres().len() >= 2);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default");
        let on_disk = musicrec_train::model_dir::model_id_of(&dir, &model.config().arch).unwrap();
        assert_eq!(super::model_id().unwrap(), on_disk);
        assert!(super::MODEL_CARD.contains("GTZAN"));
    }

    #[test]
    fn musicnn_comes_with_its_card_and_licence() {
        assert!(MUSICNN_CARD.contains("ISC licence"));
        assert!(MUSICNN_LICENSE.contains("Permission to use, copy, modify"));
        assert!(
            BackboneKind::MusicnnMsd
                .id()
                .unwrap()
                .starts_with("musicnn-msd-")
        );
        assert!(BackboneKind::parse("resnet").is_err());
    }
}
