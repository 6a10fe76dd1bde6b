//! Genre heads on a frozen [`Backbone`]: multinomial logistic regression on its track
//! embeddings, trained in seconds on cached features, cross-validated, and written as a head
//! directory that names the backbone it was trained on.
//!
//! ```text
//! HEAD_DIR/
//!   config.json          HeadConfig: backbone name and id, genres, feature standardisation, provenance
//!   weights.safetensors  the linear layer
//!   MODEL.md             card: data, command, cross-validated accuracy
//! ```
//!
//! The head is a Burn `Linear` trained full-batch with Adam on softmax cross-entropy plus an L2
//! penalty on the weights (what scikit-learn's `LogisticRegression` fits, which the design note's
//! probe figures came from): Burn is already the project's training stack, so no second ML crate
//! is needed for a 200x10 weight matrix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use musicrec_datasets::{Entry, Manifest, Split};
use musicrec_model::burn;
use musicrec_model::burn::module::Module;
use musicrec_model::burn::nn::loss::CrossEntropyLossConfig;
use musicrec_model::burn::nn::{Linear, LinearConfig};
use musicrec_model::burn::optim::{AdamConfig, GradientsParams};
use musicrec_model::burn::tensor::activation::softmax;
use musicrec_model::burn::tensor::{Int, Tensor, TensorData};
use musicrec_model::{Device, load_weights_from_bytes, save_weights};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::backbone::{Analysis, Backbone};
use crate::error::{Result, TrainError};
use crate::feature_cache::{CacheOutcome, FeatureCache, Variant};
use crate::model_dir::{MUSICREC_VERSION, write_file_atomically};
use crate::predict::argmax;

/// What a head's `config.json` says in `format`.
pub const HEAD_FORMAT_NAME: &str = "musicrec-head";
/// Bumped whenever a head directory written before can no longer be read the same way.
pub const HEAD_FORMAT_VERSION: u32 = 1;
/// A head's `config.json`.
pub const HEAD_CONFIG_FILE: &str = "config.json";
/// A head's weights.
pub const HEAD_WEIGHTS_FILE: &str = "weights.safetensors";
/// A head's card.
pub const HEAD_CARD_FILE: &str = "MODEL.md";

/// The network of a head: one linear layer from standardised features to genre logits.
#[derive(Module, Debug)]
pub struct HeadNet {
    pub linear: Linear,
}

impl HeadNet {
    fn new(inputs: usize, genres: usize, device: &Device) -> Self {
        Self {
            linear: LinearConfig::new(inputs, genres).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.linear.forward(x)
    }
}

/// How a head is fitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// L2 penalty on the weights, added to the mean cross-entropy.
    pub l2: f64,
    /// Full-batch Adam steps.
    pub steps: usize,
    pub learning_rate: f64,
    /// Seed of the weight init.
    pub seed: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            l2: 1e-3,
            steps: 400,
            learning_rate: 0.02,
            seed: 0,
        }
    }
}

/// A fitted head: standardisation and the layer, in eval mode.
#[derive(Debug)]
pub struct FittedHead {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub net: HeadNet,
    device: Device,
}

fn standardised(rows: &[Vec<f32>], mean: &[f32], std: &[f32], device: &Device) -> Tensor<2> {
    let d = mean.len();
    let data: Vec<f32> = rows
        .iter()
        .flat_map(|r| r.iter().zip(mean).zip(std).map(|((x, m), s)| (x - m) / s))
        .collect();
    Tensor::from_data(TensorData::new(data, [rows.len(), d]), device)
}

/// Fits a head on `rows` (backbone embeddings) with class indices `labels` < `n_classes`.
pub fn fit(
    rows: &[Vec<f32>],
    labels: &[usize],
    n_classes: usize,
    options: &FitOptions,
) -> Result<FittedHead> {
    let n = rows.len();
    if n == 0 || n != labels.len() || n_classes < 2 {
        return Err(TrainError::Data(format!(
            "a head needs examples of at least 2 genres ({n} examples, {n_classes} genres)"
        )));
    }
    let d = rows[0].len();
    if rows.iter().any(|r| r.len() != d) || labels.iter().any(|&l| l >= n_classes) {
        return Err(TrainError::Data(
            "head training rows differ in length or name an unknown genre".into(),
        ));
    }
    // Standardisation, in f64 for the sums.
    let mut mean = vec![0f64; d];
    for r in rows {
        for (m, &x) in mean.iter_mut().zip(r) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0f64; d];
    for r in rows {
        for ((v, &x), m) in var.iter_mut().zip(r).zip(&mean) {
            *v += (f64::from(x) - m).powi(2);
        }
    }
    let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    // A constant feature (e.g. a ReLU unit that never fires) gets std 1 rather than a division by 0.
    let std: Vec<f32> = var
        .iter()
        .map(|v| {
            let s = (v / n as f64).sqrt() as f32;
            if s > 1e-6 { s } else { 1.0 }
        })
        .collect();

    let device = Device::flex();
    let train_device = device.clone().autodiff();
    train_device.seed(options.seed);
    let x = standardised(rows, &mean, &std, &train_device);
    let targets: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(targets, [n]), &train_device);
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    let mut net = HeadNet::new(d, n_classes, &train_device);
    let mut optimizer = AdamConfig::new().init();
    for step in 0..options.steps {
        let logits = net.forward(x.clone());
        let weights = net.linear.weight.val();
        let loss =
            loss_fn.forward(logits, y.clone()) + (weights.clone() * weights).sum() * options.l2;
        if step + 1 == options.steps {
            let value = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                return Err(TrainError::Config(format!(
                    "head training diverged (loss {value}); lower the learning rate"
                )));
            }
        }
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optimizer.step(options.learning_rate, net, grads);
    }
    Ok(FittedHead {
        mean,
        std,
        net: net.valid(),
        device,
    })
}

impl FittedHead {
    /// Genre probabilities (softmax) of each row.
    pub fn probabilities(&self, rows: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        if rows.iter().any(|r| r.len() != self.mean.len()) {
            return Err(TrainError::Data(format!(
                "the head takes {}-dimensional embeddings",
                self.mean.len()
            )));
        }
        let x = standardised(rows, &self.mean, &self.std, &self.device);
        crate::predict::rows(softmax(self.net.forward(x), 1))
    }
}

/// Stratified folds: `fold[i]` of every entry, each genre dealt round-robin after a seeded shuffle.
pub fn stratified_folds(labels: &[usize], folds: usize, seed: u64) -> Vec<usize> {
    let mut by_label: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &l) in labels.iter().enumerate() {
        by_label.entry(l).or_default().push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0; labels.len()];
    let mut next = 0;
    for members in by_label.values_mut() {
        members.shuffle(&mut rng);
        for &i in members.iter() {
            fold[i] = next % folds;
            next += 1;
        }
    }
    fold
}

/// One clip's features: every variant's embedding, in [`HeadTrainConfig::variants`] order.
#[derive(Clone, Debug)]
pub struct ClipFeatures {
    pub label: usize,
    pub embeddings: Vec<Vec<f32>>,
}

/// Accuracy of a head on held-out clips, per variant of the held-out clips.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldOutAccuracy {
    /// Which variants the head was trained on.
    pub trained_on: Vec<Variant>,
    /// Variant of the held-out clips -> share whose top genre is right.
    pub accuracy: Vec<(Variant, f64)>,
    /// Held-out clips.
    pub clips: usize,
}

/// `folds`-fold cross-validated accuracy of heads trained on `train_variants` of the training
/// clips (indices into each clip's embeddings), tested on every variant of the held-out clips.
pub fn cross_validate(
    clips: &[ClipFeatures],
    variants: &[Variant],
    train_variants: &[usize],
    n_classes: usize,
    folds: usize,
    options: &FitOptions,
) -> Result<HeldOutAccuracy> {
    if folds < 2 || clips.len() < folds {
        return Err(TrainError::Config(format!(
            "cross-validation needs at least 2 folds and a clip per fold ({folds} folds, {} clips)",
            clips.len()
        )));
    }
    let labels: Vec<usize> = clips.iter().map(|c| c.label).collect();
    let fold_of = stratified_folds(&labels, folds, options.seed);
    let mut correct = vec![0usize; variants.len()];
    for fold in 0..folds {
        let (mut rows, mut ys) = (Vec::new(), Vec::new());
        for (clip, _) in clips.iter().zip(&fold_of).filter(|(_, f)| **f != fold) {
            for &v in train_variants {
                rows.push(clip.embeddings[v].clone());
                ys.push(clip.label);
            }
        }
        let head = fit(&rows, &ys, n_classes, options)?;
        for (clip, _) in clips.iter().zip(&fold_of).filter(|(_, f)| **f == fold) {
            let probs = head.probabilities(&clip.embeddings)?;
            for (v, p) in probs.iter().enumerate() {
                correct[v] += usize::from(argmax(p) == clip.label);
            }
        }
    }
    Ok(HeldOutAccuracy {
        trained_on: train_variants.iter().map(|&v| variants[v]).collect(),
        accuracy: variants
            .iter()
            .zip(&correct)
            .map(|(v, c)| (*v, *c as f64 / clips.len() as f64))
            .collect(),
        clips: clips.len(),
    })
}

/// How a head directory was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadProvenance {
    pub manifest: PathBuf,
    pub manifest_blake3: String,
    /// Manifest splits the head was trained on.
    pub splits: Vec<String>,
    /// Clips trained on, and examples (clips x variants).
    pub clips: usize,
    pub examples: usize,
    /// The variants of each clip trained on.
    pub variants: Vec<Variant>,
    pub fit: FitOptions,
    /// Cross-validation over the selected clips, when asked for.
    pub cross_validation: Vec<HeldOutAccuracy>,
    pub cv_folds: Option<usize>,
    /// Accuracy on the manifest's test split, when the head did not train on it.
    pub test: Option<HeldOutAccuracy>,
    /// Heads learnt from the genre tags of a catalog's files: per-label precision and recall on
    /// the held-out part, and its accuracy.
    #[serde(default)]
    pub labels: Vec<LabelReport>,
    #[serde(default)]
    pub held_out_accuracy: Option<f64>,
    pub command_line: Option<String>,
}

/// A head's `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// Always [`HEAD_FORMAT_NAME`].
    pub format: String,
    pub format_version: u32,
    pub musicrec_version: String,
    /// The backbone's name (`musicnn-msd`).
    pub backbone: String,
    /// The backbone's id (name + weights hash): the head only fits that backbone's features.
    pub backbone_id: String,
    /// Patches per track the training features were computed from.
    pub analysis: Analysis,
    pub embedding_dim: usize,
    /// Genres in output order.
    pub genres: Vec<String>,
    pub feature_mean: Vec<f32>,
    pub feature_std: Vec<f32>,
    pub training: HeadProvenance,
}

impl HeadConfig {
    /// Parses and checks a head's `config.json`; `name` names the head in messages.
    pub fn parse(text: &str, name: &Path) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            TrainError::model_dir(name, format!("{HEAD_CONFIG_FILE} is not valid JSON: {e}"))
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(HEAD_FORMAT_NAME) {
            return Err(TrainError::model_dir(
                name,
                format!(
                    "not a genre head (no \"format\": \"{HEAD_FORMAT_NAME}\" in {HEAD_CONFIG_FILE})"
                ),
            ));
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(HEAD_FORMAT_VERSION)) {
            return Err(TrainError::model_dir(
                name,
                format!(
                    "head format {} (this is musicrec {MUSICREC_VERSION}, head format \
                     {HEAD_FORMAT_VERSION}); train the head again",
                    version.map_or("unknown".into(), |v| v.to_string())
                ),
            ));
        }
        let config: Self = serde_json::from_value(value).map_err(|e| {
            TrainError::model_dir(name, format!("{HEAD_CONFIG_FILE} does not parse: {e}"))
        })?;
        let d = config.embedding_dim;
        if config.feature_mean.len() != d
            || config.feature_std.len() != d
            || config.genres.len() < 2
        {
            return Err(TrainError::model_dir(
                name,
                format!("{HEAD_CONFIG_FILE} is inconsistent (standardisation or genres)"),
            ));
        }
        Ok(config)
    }

    /// Whether `dir` holds a head (its config.json says so); says nothing about validity.
    pub fn is_head_dir(dir: &Path) -> bool {
        std::fs::read_to_string(dir.join(HEAD_CONFIG_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_owned))
            .is_some_and(|f| f == HEAD_FORMAT_NAME)
    }
}

/// A loaded head.
#[derive(Debug)]
pub struct Head {
    name: PathBuf,
    config: HeadConfig,
    fitted: FittedHead,
}

impl Head {
    /// Loads a head directory.
    pub fn load(dir: &Path) -> Result<Self> {
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read(&path).map_err(|_| {
                TrainError::model_dir(
                    dir,
                    format!("not a genre head directory (no readable {file})"),
                )
            })
        };
        Self::from_bytes(dir, &read(HEAD_CONFIG_FILE)?, &read(HEAD_WEIGHTS_FILE)?)
    }

    /// A head from the bytes of its config.json and weights (a head built into the binary).
    pub fn from_bytes(name: &Path, config_json: &[u8], weights: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(config_json).map_err(|_| {
            TrainError::model_dir(name, format!("{HEAD_CONFIG_FILE} is not UTF-8 text"))
        })?;
        let config = HeadConfig::parse(text, name)?;
        let device = Device::flex();
        let net = load_weights_from_bytes(
            HeadNet::new(config.embedding_dim, config.genres.len(), &device),
            weights,
            &name.join(HEAD_WEIGHTS_FILE),
        )?;
        Ok(Self {
            name: name.to_path_buf(),
            fitted: FittedHead {
                mean: config.feature_mean.clone(),
                std: config.feature_std.clone(),
                net,
                device,
            },
            config,
        })
    }

    pub fn name(&self) -> &Path {
        &self.name
    }

    pub fn config(&self) -> &HeadConfig {
        &self.config
    }

    pub fn genres(&self) -> &[String] {
        &self.config.genres
    }

    /// Refuses a backbone other than the one the head was trained on.
    pub fn check_backbone(&self, backbone: &dyn Backbone) -> Result<()> {
        if backbone.id() == self.config.backbone_id {
            return Ok(());
        }
        Err(TrainError::model_dir(
            &self.name,
            format!(
                "this head was trained on backbone {} ({}), not on {} ({}): its genres only \
                 fit the features of the backbone it was trained on; train a head for {} with \
                 `musicrec train --backbone ...`",
                self.config.backbone,
                self.config.backbone_id,
                backbone.name(),
                backbone.id(),
                backbone.name()
            ),
        ))
    }

    /// Genre probabilities of a track embedding.
    pub fn probabilities(&self, embedding: &[f32]) -> Result<Vec<f32>> {
        Ok(self
            .fitted
            .probabilities(&[embedding.to_vec()])?
            .pop()
            .unwrap_or_default())
    }
}

/// What [`train_head`] needs.
#[derive(Clone, Debug)]
pub struct HeadTrainConfig {
    pub manifest: PathBuf,
    pub out: PathBuf,
    pub cache: PathBuf,
    /// Splits trained on; `None`: every entry.
    pub splits: Option<Vec<Split>>,
    /// Variants of each clip trained on (the first is the one tested in the report's main row).
    pub variants: Vec<Variant>,
    pub analysis: Analysis,
    pub fit: FitOptions,
    /// Cross-validation folds over the selected clips before the final fit (0: none).
    pub cv_folds: usize,
    pub command_line: Option<String>,
    pub progress: bool,
}

/// What [`train_head`] did.
#[derive(Clone, Debug)]
pub struct HeadReport {
    pub config: HeadConfig,
    /// Feature files computed and found in the cache.
    pub computed: usize,
    pub cached: usize,
    pub secs: f64,
}

/// Features of `entries` (every variant), through the cache; a clip that fails is an error
/// naming it.
pub fn clip_features(
    entries: &[&Entry],
    labels: &[String],
    variants: &[Variant],
    backbone: &dyn Backbone,
    analysis: Analysis,
    cache: &FeatureCache,
    progress: bool,
) -> Result<(Vec<ClipFeatures>, usize, usize)> {
    let bar = if progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(entries.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_message(format!("{} features", backbone.name()));
    let (mut computed, mut cached) = (0, 0);
    let mut clips = Vec::with_capacity(entries.len());
    for entry in entries {
        let label = labels
            .binary_search(&entry.label)
            .map_err(|_| TrainError::Data(format!("unknown genre {}", entry.label)))?;
        let features = cache.features(&entry.path, variants, backbone, analysis)?;
        for (_, outcome) in &features {
            match outcome {
                CacheOutcome::Hit => cached += 1,
                CacheOutcome::Computed => computed += 1,
            }
        }
        clips.push(ClipFeatures {
            label,
            embeddings: features.into_iter().map(|(f, _)| f.embedding).collect(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((clips, computed, cached))
}

/// Trains a genre head on `backbone`'s cached features of a manifest's clips and writes the head
/// directory (cross-validating first when asked).
pub fn train_head(config: &HeadTrainConfig, backbone: &dyn Backbone) -> Result<HeadReport> {
    let started = std::time::Instant::now();
    if config.variants.is_empty() {
        return Err(TrainError::Config("no clip variant to train on".into()));
    }
    let manifest_bytes =
        std::fs::read(&config.manifest).map_err(|e| TrainError::io(&config.manifest, e))?;
    let manifest = Manifest::read(&config.manifest)?;
    let selected: Vec<&Entry> = manifest
        .entries
        .iter()
        .filter(|e| {
            config
                .splits
                .as_ref()
                .is_none_or(|s| e.split.is_some_and(|x| s.contains(&x)))
        })
        .collect();
    let labels: Vec<String> = {
        let mut l: Vec<String> = selected.iter().map(|e| e.label.clone()).collect();
        l.sort();
        l.dedup();
        l
    };
    if labels.len() < 2 {
        return Err(TrainError::Data(format!(
            "{}: the selected clips have {} genre(s); a head needs at least 2",
            config.manifest.display(),
            labels.len()
        )));
    }
    let cache = FeatureCache::new(&config.cache);
    let (clips, mut computed, mut cached) = clip_features(
        &selected,
        &labels,
        &config.variants,
        backbone,
        config.analysis,
        &cache,
        config.progress,
    )?;

    let all_variants: Vec<usize> = (0..config.variants.len()).collect();
    let mut cross_validation = Vec::new();
    if config.cv_folds > 0 {
        cross_validation.push(cross_validate(
            &clips,
            &config.variants,
            &all_variants,
            labels.len(),
            config.cv_folds,
            &config.fit,
        )?);
        if config.variants.len() > 1 {
            // The same folds without augmentation, to show what it brings.
            cross_validation.push(cross_validate(
                &clips,
                &config.variants,
                &[0],
                labels.len(),
                config.cv_folds,
                &config.fit,
            )?);
        }
    }

    let (mut rows, mut ys) = (Vec::new(), Vec::new());
    for clip in &clips {
        for e in &clip.embeddings {
            rows.push(e.clone());
            ys.push(clip.label);
        }
    }
    let fitted = fit(&rows, &ys, labels.len(), &config.fit)?;

    // The test split, when it was left out of training and shares the genres.
    let test = match &config.splits {
        Some(splits) if !splits.contains(&Split::Test) => {
            let test_entries: Vec<&Entry> = manifest
                .split(Split::Test)
                .filter(|e| labels.binary_search(&e.label).is_ok())
                .collect();
            if test_entries.is_empty() {
                None
            } else {
                let (test_clips, c, h) = clip_features(
                    &test_entries,
                    &labels,
                    &config.variants,
                    backbone,
                    config.analysis,
                    &cache,
                    config.progress,
                )?;
                computed += c;
                cached += h;
                let mut correct = vec![0usize; config.variants.len()];
                for clip in &test_clips {
                    for (v, p) in fitted.probabilities(&clip.embeddings)?.iter().enumerate() {
                        correct[v] += usize::from(argmax(p) == clip.label);
                    }
                }
                Some(HeldOutAccuracy {
                    trained_on: config.variants.clone(),
                    accuracy: config
                        .variants
                        .iter()
                        .zip(&correct)
                        .map(|(v, c)| (*v, *c as f64 / test_clips.len() as f64))
                        .collect(),
                    clips: test_clips.len(),
                })
            }
        }
        _ => None,
    };

    let head_config = HeadConfig {
        format: HEAD_FORMAT_NAME.into(),
        format_version: HEAD_FORMAT_VERSION,
        musicrec_version: MUSICREC_VERSION.into(),
        backbone: backbone.name().into(),
        backbone_id: backbone.id().into(),
        analysis: config.analysis,
        embedding_dim: backbone.embedding_dim(),
        genres: labels,
        feature_mean: fitted.mean.clone(),
        feature_std: fitted.std.clone(),
        training: HeadProvenance {
            manifest: config.manifest.clone(),
            manifest_blake3: blake3::hash(&manifest_bytes).to_hex().to_string(),
            splits: match &config.splits {
                Some(s) => s.iter().map(|s| s.as_str().to_string()).collect(),
                None => vec!["all".into()],
            },
            clips: clips.len(),
            examples: rows.len(),
            variants: config.variants.clone(),
            fit: config.fit.clone(),
            cross_validation,
            cv_folds: (config.cv_folds > 0).then_some(config.cv_folds),
            test,
            labels: Vec::new(),
            held_out_accuracy: None,
            command_line: config.command_line.clone(),
        },
    };
    write_head(&config.out, &head_config, &fitted)?;
    Ok(HeadReport {
        config: head_config,
        computed,
        cached,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Writes a head directory: weights, then config.json and the card (each atomically).
pub fn write_head(out: &Path, config: &HeadConfig, fitted: &FittedHead) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    let weights_tmp = out.join(format!(".{HEAD_WEIGHTS_FILE}.tmp"));
    save_weights(&fitted.net, &weights_tmp)?;
    std::fs::rename(&weights_tmp, out.join(HEAD_WEIGHTS_FILE))
        .map_err(|e| TrainError::io(out, e))?;
    let json = serde_json::to_vec_pretty(config).expect("head config serialises");
    write_file_atomically(&out.join(HEAD_CONFIG_FILE), &json)?;
    write_file_atomically(&out.join(HEAD_CARD_FILE), head_card(config).as_bytes())
}

/// One line per held-out evaluation: "trained on X: Y 0.80, Z 0.76 (100 clips)".
pub fn describe_accuracy(result: &HeldOutAccuracy) -> String {
    let trained: Vec<String> = result.trained_on.iter().map(ToString::to_string).collect();
    let tested: Vec<String> = result
        .accuracy
        .iter()
        .map(|(v, a)| format!("{v} {a:.3}"))
        .collect();
    format!(
        "trained on {}: accuracy on {} ({} clips)",
        trained.join(" + "),
        tested.join(", "),
        result.clips
    )
}

fn head_card(config: &HeadConfig) -> String {
    let t = &config.training;
    let mut card = format!(
        "# Genre head on {backbone}\n\n\
         Multinomial logistic regression on the `{backbone}` track embedding ({dim}-d, averaged \
         over at most {analysis} patches per track), standardised per dimension. Backbone id \
         `{id}`: the head refuses any other backbone.\n\n\
         Genres: {genres}.\n\n\
         ## Training\n\n\
         - manifest `{manifest}` (blake3 {hash}), splits {splits}: {clips} clips, {examples} \
         examples (variants: {variants})\n\
         - full-batch Adam, {steps} steps, learning rate {lr}, L2 {l2}, seed {seed}\n",
        backbone = config.backbone,
        dim = config.embedding_dim,
        analysis = config.analysis,
        id = config.backbone_id,
        genres = config.genres.join(", "),
        manifest = t.manifest.display(),
        hash = &t.manifest_blake3[..16.min(t.manifest_blake3.len())],
        splits = t.splits.join(","),
        clips = t.clips,
        examples = t.examples,
        variants = t
            .variants
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        steps = t.fit.steps,
        lr = t.fit.learning_rate,
        l2 = t.fit.l2,
        seed = t.fit.seed,
    );
    if let Some(command) = &t.command_line {
        card.push_str(&format!("- command: `{command}`\n"));
    }
    if let Some(folds) = t.cv_folds {
        card.push_str(&format!(
            "\n## Cross-validation ({folds} folds, stratified by genre)\n\n"
        ));
        for result in &t.cross_validation {
            card.push_str(&format!("- {}\n", describe_accuracy(result)));
        }
    }
    if let Some(test) = &t.test {
        card.push_str(&format!(
            "\n## Test split\n\n- {}\n",
            describe_accuracy(test)
        ));
    }
    if !t.labels.is_empty() {
        card.push_str(&format!(
            "\n## Held-out tracks (accuracy {:.3})\n\n| label | trained on | held out | precision | recall |\n|---|---|---|---|---|\n",
            t.held_out_accuracy.unwrap_or(0.0)
        ));
        for l in &t.labels {
            card.push_str(&format!(
                "| {} | {} | {} | {:.2} | {:.2} |\n",
                l.label, l.train, l.held_out, l.precision, l.recall
            ));
        }
    }
    card
}

/// The label a file's genre tag gives, by a fixed rule: the field is split at `;`, `/`, `|`, `,`
/// and NUL (ID3v2.4's separator of several values), and the **first** genre named is the
/// track's (taggers list the main genre first: `Rock; Pop` and `Rock/Pop` are rock). Case and
/// surrounding spaces do not matter (`hip-hop` and `Hip-Hop` are one label, written as it first
/// appeared). An empty field gives none; the track is then left out.
pub fn genre_label(tag: &str) -> Option<String> {
    tag.split([';', '/', '|', ',', '\0'])
        .map(str::trim)
        .find(|g| !g.is_empty())
        .map(str::to_owned)
}

/// Per-label precision and recall of a head on held-out tracks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelReport {
    pub label: String,
    /// Tracks of this label trained on and held out.
    pub train: usize,
    pub held_out: usize,
    pub precision: f64,
    pub recall: f64,
}

/// What [`tag_labels`] kept and left out.
#[derive(Clone, Debug, PartialEq)]
pub struct TagLabels {
    /// Labels kept, sorted case-insensitively.
    pub labels: Vec<String>,
    /// For every input track: its label index, or `None` when left out.
    pub assigned: Vec<Option<usize>>,
    /// Tracks without a genre tag.
    pub untagged: usize,
    /// Labels dropped for having fewer than the threshold, with their track counts.
    pub rare: Vec<(String, usize)>,
}

/// Labels from the genre tags of tracks (see [`genre_label`]); labels with fewer than
/// `min_tracks` tracks are dropped and their tracks left out.
pub fn tag_labels(tags: &[Option<String>], min_tracks: usize) -> TagLabels {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let keys: Vec<Option<String>> = tags
        .iter()
        .map(|t| {
            let label = genre_label(t.as_deref()?)?;
            let key = label.to_lowercase();
            names.entry(key.clone()).or_insert(label);
            *counts.entry(key.clone()).or_default() += 1;
            Some(key)
        })
        .collect();
    let kept: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n >= min_tracks)
        .map(|(k, _)| k)
        .collect();
    let rare = counts
        .iter()
        .filter(|(_, n)| **n < min_tracks)
        .map(|(k, n)| (names[k].clone(), *n))
        .collect();
    TagLabels {
        labels: kept.iter().map(|k| names[*k].clone()).collect(),
        assigned: keys
            .iter()
            .map(|k| k.as_ref().and_then(|k| kept.binary_search(&k).ok()))
            .collect(),
        untagged: keys.iter().filter(|k| k.is_none()).count(),
        rare,
    }
}

/// Splits labelled rows into train and held-out parts (a share `held_out` of each label,
/// seeded, at least one per label kept for training), fits a head on the train part and
/// reports per-label precision and recall on the held-out part; then fits the final head on all.
pub fn fit_with_holdout(
    rows: &[Vec<f32>],
    labels: &[usize],
    names: &[String],
    held_out: f64,
    options: &FitOptions,
) -> Result<(FittedHead, Vec<LabelReport>, f64)> {
    let mut by_label: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &l) in labels.iter().enumerate() {
        by_label.entry(l).or_default().push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut is_held_out = vec![false; rows.len()];
    for members in by_label.values_mut() {
        members.shuffle(&mut rng);
        let n = ((members.len() as f64 * held_out).round() as usize).min(members.len() - 1);
        for &i in &members[..n] {
            is_held_out[i] = true;
        }
    }
    let pick = |held: bool| -> (Vec<Vec<f32>>, Vec<usize>) {
        rows.iter()
            .zip(labels)
            .zip(&is_held_out)
            .filter(|(_, h)| **h == held)
            .map(|((r, l), _)| (r.clone(), *l))
            .unzip()
    };
    let (train_rows, train_labels) = pick(false);
    let (test_rows, test_labels) = pick(true);
    let head = fit(&train_rows, &train_labels, names.len(), options)?;
    let predicted: Vec<usize> = head
        .probabilities(&test_rows)?
        .iter()
        .map(|p| argmax(p))
        .collect();
    let correct = predicted
        .iter()
        .zip(&test_labels)
        .filter(|(p, t)| p == t)
        .count();
    let accuracy = correct as f64 / test_labels.len().max(1) as f64;
    let reports = names
        .iter()
        .enumerate()
        .map(|(l, name)| {
            let tp = predicted
                .iter()
                .zip(&test_labels)
                .filter(|(p, t)| **p == l && **t == l)
                .count();
            let predicted_l = predicted.iter().filter(|p| **p == l).count();
            let actual_l = test_labels.iter().filter(|t| **t == l).count();
            LabelReport {
                label: name.clone(),
                train: train_labels.iter().filter(|t| **t == l).count(),
                held_out: actual_l,
                precision: if predicted_l > 0 {
                    tp as f64 / predicted_l as f64
                } else {
                    0.0
                },
                recall: if actual_l > 0 {
                    tp as f64 / actual_l as f64
                } else {
                    0.0
                },
            }
        })
        .collect();
    let final_head = fit(rows, labels, names.len(), options)?;
    Ok((final_head, reports, accuracy))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well separated Gaussian-ish clusters in 8 dimensions.
    fn clusters(per_class: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for c in 0..3 {
            for i in 0..per_class {
                let row = (0..8)
                    .map(|d| {
                        let centre = if d % 3 == c { 3.0 } else { 0.0 };
                        centre + ((i * 31 + d * 17 + c * 7) % 13) as f32 / 13.0 - 0.5
                    })
                    .collect();
                rows.push(row);
                labels.push(c);
            }
        }
        (rows, labels)
    }

    #[test]
    fn a_fitted_head_separates_clusters_and_cross_validates() {
        let (rows, labels) = clusters(10);
        let head = fit(&rows, &labels, 3, &FitOptions::default()).unwrap();
        let probs = head.probabilities(&rows).unwrap();
        for (p, &l) in probs.iter().zip(&labels) {
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            assert_eq!(argmax(p), l);
        }
        let clips: Vec<ClipFeatures> = rows
            .iter()
            .zip(&labels)
            .map(|(r, &l)| ClipFeatures {
                label: l,
                embeddings: vec![r.clone(), r.iter().map(|v| v * 0.0).collect()],
            })
            .collect();
        let variants = [Variant::Original, Variant::BandLimited(1000)];
        let cv = cross_validate(&clips, &variants, &[0], 3, 5, &FitOptions::default()).unwrap();
        assert_eq!(cv.clips, 30);
        assert_eq!(cv.accuracy[0], (Variant::Original, 1.0));
        // The all-zero variant carries no information: one genre for all, a third right.
        assert!(cv.accuracy[1].1 < 0.5, "{cv:?}");
    }

    #[test]
    fn genre_tags_become_labels_by_the_documented_rule() {
        assert_eq!(genre_label("Rock; Pop").as_deref(), Some("Rock"));
        assert_eq!(genre_label("Rock/Pop").as_deref(), Some("Rock"));
        assert_eq!(genre_label(" ; Jazz").as_deref(), Some("Jazz"));
        assert_eq!(genre_label("Hip-Hop\0Rap").as_deref(), Some("Hip-Hop"));
        assert_eq!(genre_label("  "), None);
        let tags: Vec<Option<String>> = [
            Some("Rock; Pop"),
            Some("rock"),
            Some("ROCK/Metal"),
            Some("Jazz"),
            Some("jazz"),
            Some("Polka"),
            None,
            Some(""),
        ]
        .iter()
        .map(|t| t.map(str::to_owned))
        .collect();
        let got = tag_labels(&tags, 2);
        assert_eq!(got.labels, ["Jazz", "Rock"]);
        assert_eq!(
            got.assigned,
            [
                Some(1),
                Some(1),
                Some(1),
                Some(0),
                Some(0),
                None,
                None,
                None
            ]
        );
        assert_eq!(got.untagged, 2);
        assert_eq!(got.rare, [("Polka".to_string(), 1)]);
    }

    #[test]
    fn a_held_out_part_reports_per_label_precision_and_recall() {
        let (rows, labels) = clusters(10);
        let names = ["a", "b", "c"].map(String::from);
        let (head, reports, accuracy) =
            fit_with_holdout(&rows, &labels, &names, 0.3, &FitOptions::default()).unwrap();
        assert_eq!(accuracy, 1.0);
        assert_eq!(reports.len(), 3);
        for r in &reports {
            assert_eq!((r.train, r.held_out), (7, 3));
            assert_eq!((r.precision, r.recall), (1.0, 1.0));
        }
        assert_eq!(head.mean.len(), 8);
    }

    #[test]
    fn folds_are_stratified() {
        let labels: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let folds = stratified_folds(&labels, 5, 1);
        for f in 0..5 {
            let members: Vec<usize> = (0..30).filter(|&i| folds[i] == f).collect();
            assert_eq!(members.len(), 6);
        }
        assert!(fit(&[vec![1.0]], &[0], 1, &FitOptions::default()).is_err());
    }
}
