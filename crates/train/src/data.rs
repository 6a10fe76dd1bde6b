//! The training data: a manifest's train / validation / test clips, checked and resolved to
//! feature-cache entries before any training starts, and cut into model windows.
//!
//! Every problem the data can have is found here, up front, as one clear error: one genre only,
//! an empty train or validation split, a genre with no training clip, a missing audio file, or
//! cache entries missing for the chosen feature preset (with the `musicrec dataset prepare`
//! command that fills them). Missing entries are not computed on the fly: preparing is a
//! separate, resumable, parallel step, and training should not silently spend an hour on it.
//!
//! Log-mels are kept in memory up to [`MEMORY_BUDGET_BYTES`] (about 1 900 thirty-second clips at
//! the `choi` preset); beyond that the rest are re-read from the cache when a batch needs them,
//! which costs far less than the training step they feed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use musicrec_datasets::window::{PadMode, window_at, window_starts};
use musicrec_datasets::{ContentHash, FeatureCache, Manifest, Split};
use musicrec_features::{LogMel, MelConfig};
use rayon::prelude::*;

use crate::error::{Result, TrainError};

/// Log-mel bytes kept in memory across epochs; clips past it are re-read from the cache.
pub const MEMORY_BUDGET_BYTES: usize = 1 << 30;

/// A cache entry read once at load: its hash, length in frames, and the log-mel when kept.
type ReadEntry = (ContentHash, usize, Option<Arc<LogMel>>);

/// One clip of a split.
#[derive(Clone, Debug)]
pub struct Clip {
    pub path: PathBuf,
    pub hash: ContentHash,
    /// Index into [`TrainingData::genres`].
    pub label: usize,
    pub n_frames: usize,
}

/// The resolved clips of every split plus what the model card reports about them.
#[derive(Debug)]
pub struct TrainingData {
    /// Output order of the model: the manifest's labels, sorted.
    pub genres: Vec<String>,
    pub train: Vec<Clip>,
    pub validation: Vec<Clip>,
    pub test: Vec<Clip>,
    /// Manifest rows without a split (not used).
    pub unassigned: usize,
    /// blake3 of the manifest file's bytes.
    pub manifest_blake3: String,
    mel: MelConfig,
    cache: FeatureCache,
    loaded: BTreeMap<ContentHash, Arc<LogMel>>,
}

impl TrainingData {
    /// Reads `manifest`, checks it can train a classifier and that `cache` holds every clip's
    /// log-mel under `mel`, and loads them (see the module doc). `preset` names `mel` in messages.
    pub fn load(
        manifest_path: &Path,
        cache_dir: &Path,
        mel: &MelConfig,
        preset: &str,
    ) -> Result<Self> {
        let bytes = std::fs::read(manifest_path).map_err(|e| TrainError::io(manifest_path, e))?;
        let manifest_blake3 = blake3::hash(&bytes).to_hex().to_string();
        let manifest = Manifest::read(manifest_path)?;
        let shown = manifest_path.display();

        let assigned: Vec<_> = manifest
            .entries
            .iter()
            .filter(|e| e.split.is_some())
            .collect();
        let unassigned = manifest.entries.len() - assigned.len();
        if assigned.is_empty() {
            return Err(TrainError::Data(format!(
                "{shown} has no split column values: build it with `musicrec dataset ... --split \
                 stratified` so it has train and validation clips"
            )));
        }
        let mut genres: Vec<String> = assigned.iter().map(|e| e.label.clone()).collect();
        genres.sort();
        genres.dedup();
        if genres.len() < 2 {
            return Err(TrainError::Data(format!(
                "{shown} has only one genre ('{}'): a genre classifier needs at least two",
                genres[0]
            )));
        }
        for (split, flag) in [(Split::Train, "train"), (Split::Validation, "validation")] {
            if manifest.split(split).next().is_none() {
                return Err(TrainError::Data(format!(
                    "{shown} has no {flag} clips; training needs train and validation splits \
                     (early stopping and the best model are chosen on validation): rebuild it \
                     with e.g. `musicrec dataset manifest {shown} --out NEW.csv --split-ratio 8:1:1`"
                )));
            }
        }
        if let Some(missing) = genres
            .iter()
            .find(|g| !manifest.split(Split::Train).any(|e| &e.label == *g))
        {
            return Err(TrainError::Data(format!(
                "genre '{missing}' has no training clip in {shown}; the model cannot learn it"
            )));
        }

        mel.validate()?;
        let cache = FeatureCache::open(cache_dir)?;
        let label_of = |label: &str| {
            genres
                .binary_search_by(|g| g.as_str().cmp(label))
                .expect("label listed")
        };

        // Hash every file and find its cache entry (in parallel: hashing reads all the audio).
        let resolved: Vec<Result<(Split, PathBuf, ContentHash, usize)>> = assigned
            .par_iter()
            .map(|e| {
                let hash = ContentHash::of_file(&e.path)?;
                Ok((
                    e.split.expect("assigned"),
                    e.path.clone(),
                    hash,
                    label_of(&e.label),
                ))
            })
            .collect();
        let resolved: Vec<_> = resolved.into_iter().collect::<Result<_>>()?;
        let missing: Vec<&PathBuf> = resolved
            .iter()
            .filter(|(_, _, hash, _)| !cache.contains(hash, mel))
            .map(|(_, path, _, _)| path)
            .collect();
        if !missing.is_empty() {
            return Err(TrainError::Data(missing_entries_message(
                manifest_path,
                &cache,
                mel,
                preset,
                missing.len(),
                resolved.len(),
                missing[0],
            )));
        }

        // Read every entry once: checks it, gives its length, keeps it while the budget lasts.
        let kept_bytes = AtomicUsize::new(0);
        let read: Vec<Result<ReadEntry>> = resolved
            .par_iter()
            .map(|(_, path, hash, _)| {
                let log_mel = cache.get(*hash, mel)?;
                if log_mel.n_mels != mel.n_mels || log_mel.data.len() != log_mel.n_mels * log_mel.n_frames {
                    return Err(TrainError::Data(format!(
                        "the cache entry of {} has {} mel bins, the {preset} preset {}; delete {} and prepare again",
                        path.display(), log_mel.n_mels, mel.n_mels, cache.entry_path(hash, mel).display()
                    )));
                }
                let bytes = log_mel.data.len() * 4;
                let keep = kept_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes <= MEMORY_BUDGET_BYTES;
                Ok((*hash, log_mel.n_frames, keep.then(|| Arc::new(log_mel))))
            })
            .collect();
        let mut loaded = BTreeMap::new();
        let mut data = Self {
            genres: genres.clone(),
            train: Vec::new(),
            validation: Vec::new(),
            test: Vec::new(),
            unassigned,
            manifest_blake3,
            mel: mel.clone(),
            cache,
            loaded: BTreeMap::new(),
        };
        for ((split, path, hash, label), read) in resolved.into_iter().zip(read) {
            let (_, n_frames, log_mel) = read?;
            if let Some(log_mel) = log_mel {
                loaded.insert(hash, log_mel);
            }
            let clip = Clip {
                path,
                hash,
                label,
                n_frames,
            };
            match split {
                Split::Train => data.train.push(clip),
                Split::Validation => data.validation.push(clip),
                Split::Test => data.test.push(clip),
            }
        }
        data.loaded = loaded;
        Ok(data)
    }

    /// The clips of `split`.
    pub fn clips(&self, split: Split) -> &[Clip] {
        match split {
            Split::Train => &self.train,
            Split::Validation => &self.validation,
            Split::Test => &self.test,
        }
    }

    /// Clips per genre of `split`, in genre order.
    pub fn counts(&self, split: Split) -> Vec<usize> {
        let mut counts = vec![0; self.genres.len()];
        for clip in self.clips(split) {
            counts[clip.label] += 1;
        }
        counts
    }

    /// The log-mel of `clip` (from memory, or read from the cache again).
    pub fn log_mel(&self, clip: &Clip) -> Result<Cow<'_, LogMel>> {
        match self.loaded.get(&clip.hash) {
            Some(log_mel) => Ok(Cow::Borrowed(log_mel)),
            None => Ok(Cow::Owned(self.cache.get(clip.hash, &self.mel)?)),
        }
    }

    /// Every training window as (clip index, start frame): windows of `frames` frames every
    /// `hop` frames, the last one aligned to the clip's end ([`window_starts`]).
    pub fn train_windows(&self, frames: usize, hop: usize) -> Vec<(usize, usize)> {
        self.train
            .iter()
            .enumerate()
            .flat_map(|(i, clip)| {
                window_starts(clip.n_frames, frames, hop)
                    .into_iter()
                    .map(move |start| (i, start))
            })
            .collect()
    }

    /// A training batch: inputs `[n, 1, n_mels, frames]` flattened, and one-hot targets
    /// `[n, n_genres]`.
    pub fn train_batch(
        &self,
        items: &[(usize, usize)],
        frames: usize,
    ) -> Result<(Vec<f32>, Vec<i64>)> {
        let mut inputs = Vec::with_capacity(items.len() * self.mel.n_mels * frames);
        let mut targets = vec![0i64; items.len() * self.genres.len()];
        for (row, &(clip_index, start)) in items.iter().enumerate() {
            let clip = &self.train[clip_index];
            let log_mel = self.log_mel(clip)?;
            inputs.extend_from_slice(&window_at(&log_mel, start, frames, PadMode::Floor).data);
            targets[row * self.genres.len() + clip.label] = 1;
        }
        Ok((inputs, targets))
    }
}

/// The error for missing cache entries: how many, one example, the command that fills them, and
/// which other feature configurations the cache does hold (the usual cause: another preset).
fn missing_entries_message(
    manifest: &Path,
    cache: &FeatureCache,
    mel: &MelConfig,
    preset: &str,
    missing: usize,
    total: usize,
    example: &Path,
) -> String {
    let others: Vec<String> = std::fs::read_dir(cache.root())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|item| {
            let text = std::fs::read_to_string(item.path().join("config.json")).ok()?;
            let other: MelConfig = serde_json::from_str(&text).ok()?;
            (other != *mel).then(|| describe_mel(&other))
        })
        .collect();
    let held = if others.is_empty() {
        String::new()
    } else {
        format!(
            " (the cache holds features for other parameters: {})",
            others.join("; ")
        )
    };
    format!(
        "{missing} of {total} clips have no log-mel for {} in {}{held}, e.g. {}; run `musicrec \
         dataset prepare {} --cache {} --preset {preset}` first",
        describe_mel(mel),
        cache.root().display(),
        example.display(),
        manifest.display(),
        cache.root().display(),
    )
}

/// `preset choi (sr 12000, 96 mels)`, or the parameters of a config that is no preset.
pub fn describe_mel(mel: &MelConfig) -> String {
    let name = MelConfig::PRESETS
        .iter()
        .find(|p| MelConfig::from_preset(p).as_ref() == Some(mel));
    let params = format!(
        "sr {}, {} mels, n_fft {}, hop {}",
        mel.sample_rate, mel.n_mels, mel.n_fft, mel.hop_length
    );
    match name {
        Some(name) => format!("preset {name} ({params})"),
        None => format!("custom features ({params})"),
    }
}
