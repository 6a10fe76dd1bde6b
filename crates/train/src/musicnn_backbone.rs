//! MusiCNN as a [`Backbone`]: decoded audio -> `musicnn` log-mel -> 187-frame patches -> the
//! network of `musicrec_model::musicnn`.

use musicrec_datasets::window::mean_of;
use musicrec_features::{MelConfig, MelExtractor};
use musicrec_model::Device;
use musicrec_model::musicnn::{self, Musicnn, MusicnnVariant};

use crate::backbone::{Analysis, Backbone, TrackFeatures};
use crate::error::{Result, TrainError};
use crate::predict::rows;

/// Patches per forward pass: bounds the memory of the timbral convolutions (about 10 MB of
/// activations per patch) while keeping the matrix products large.
pub const MUSICNN_BATCH: usize = 8;

/// MusiCNN ([`musicrec_model::musicnn::Musicnn`]) over the `musicnn` log-mel: the embedding is the
/// 200-d penultimate layer, the tags the 50 sigmoid outputs, both averaged over the analysed
/// 187-frame patches.
#[derive(Debug)]
pub struct MusicnnBackbone {
    net: Musicnn,
    extractor: MelExtractor,
    device: Device,
    name: String,
    id: String,
    tags: Vec<String>,
}

impl MusicnnBackbone {
    /// The network of `variant` with `weights` (a SafeTensors file written by
    /// `scripts/convert/musicnn.py`), on the CPU. Its id is `musicnn-<variant>-<16 hex of
    /// blake3(weights)>`.
    pub fn from_bytes(variant: MusicnnVariant, weights: &[u8]) -> Result<Self> {
        let device = Device::flex();
        let net = Musicnn::from_safetensors_bytes(weights, &device)?;
        let name = match variant {
            MusicnnVariant::Msd => "musicnn-msd",
            MusicnnVariant::Mtt => "musicnn-mtt",
        }
        .to_string();
        let id = format!("{name}-{}", &blake3::hash(weights).to_hex().as_str()[..16]);
        Ok(Self {
            net,
            extractor: MelExtractor::new(&MelConfig::musicnn())?,
            device,
            name,
            id,
            tags: variant.tags().iter().map(|t| (*t).to_string()).collect(),
        })
    }
}

impl Backbone for MusicnnBackbone {
    fn name(&self) -> &str {
        &self.name
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn sample_rate(&self) -> u32 {
        self.extractor.config().sample_rate
    }

    fn embedding_dim(&self) -> usize {
        musicnn::PENULTIMATE_DIM
    }

    fn tag_names(&self) -> &[String] {
        &self.tags
    }

    fn features(&self, samples: &[f32], analysis: Analysis) -> Result<TrackFeatures> {
        if samples.is_empty() {
            return Err(TrainError::Data("no audio samples".into()));
        }
        let log_mel = self.extractor.log_mel(samples);
        let starts = musicnn::patch_starts(log_mel.n_frames);
        let chosen = analysis.pick(&starts);
        let (mut embeddings, mut tags) = (Vec::new(), Vec::new());
        for batch in chosen.chunks(MUSICNN_BATCH) {
            let x = musicnn::patches(
                &log_mel.data,
                log_mel.n_mels,
                log_mel.n_frames,
                batch,
                &self.device,
            )?;
            let out = self.net.try_forward(x)?;
            embeddings.extend(rows(out.penultimate)?);
            tags.extend(rows(out.taggram)?);
        }
        Ok(TrackFeatures {
            embedding: mean_of(&embeddings),
            tags: mean_of(&tags),
            patches: chosen.len(),
        })
    }
}

/// The `MSD_musicnn` weights built into the binary (ISC licence, `models/musicnn-msd/`).
pub use musicrec_model::musicnn::MSD_WEIGHTS;

impl MusicnnBackbone {
    /// `MSD_musicnn` with the weights built into the binary.
    pub fn built_in() -> Result<Self> {
        Self::from_bytes(MusicnnVariant::Msd, MSD_WEIGHTS)
    }
}
