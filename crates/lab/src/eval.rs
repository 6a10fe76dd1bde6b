//! Classifier evaluation (`musicrec eval`, and the `eval` stages of `reproduce`): score one or
//! more trained models on a manifest's split, clean and under degraded audio (noise, codec), and
//! write the comparison report. The metrics, tests, plots, predictions file and degradations are
//! `musicrec_eval`'s; this module loads the models, computes each track's scores with
//! `musicrec_train::ModelDir`, and hands them over.
//!
//! Output folder:
//! ```text
//! OUT/metrics.json      clean metrics of every model, paired tests, every condition, warnings
//! OUT/predictions.csv   clean scores: path, true_genre, <model>:<genre>...
//! OUT/metrics.md|html   the side-by-side table, bootstrap intervals, significance verdicts
//! OUT/report.html       all of it in one self-contained page (plots inline)
//! OUT/*.png             ROC per genre, F1 and AUC bars, confusion matrix per model
//! OUT/robustness.md     clean vs each degraded condition (when noise or codecs are given)
//! OUT/conditions/<c>/   each degraded condition's predictions.csv, metrics and plots
//! ```

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use musicrec_datasets::{FeatureCache, Manifest, Split};
use musicrec_eval::degrade::{self, CodecSpec, Degradation};
use musicrec_eval::html::HtmlPage;
use musicrec_eval::predictions::PredictionTable;
use musicrec_eval::report::{EvalConfig, EvaluationReport, ModelScores};
use musicrec_eval::robustness::{ConditionSummary, robustness_markdown, robustness_table};
use musicrec_eval::stats::BootstrapConfig;
use musicrec_features::{LogMel, MelConfig, MelExtractor};
use musicrec_train::{Analysis, DeviceKind, ModelDir};
use rayon::prelude::*;
use serde::Serialize;

use musicrec_embed::{BackboneAndHead, HeadSource, ModelChoice, load_backbone_and_head, one_line};

use crate::files::write_atomically;

/// Everything one evaluation needs.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub models: Vec<PathBuf>,
    pub data: PathBuf,
    pub cache: Option<PathBuf>,
    pub split: Split,
    pub out: PathBuf,
    pub threshold: f64,
    pub bootstrap: usize,
    pub seed: u64,
    /// Degraded conditions (the clean one is always evaluated first).
    pub conditions: Vec<Degradation>,
    pub jobs: Option<usize>,
    pub device: DeviceKind,
}

/// Where a model came from and whether its training data can overlap the evaluated tracks.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSource {
    pub name: String,
    pub dir: PathBuf,
    pub arch: String,
    pub preset: Option<String>,
    pub width_scale: f64,
    pub training_manifest: PathBuf,
    pub training_manifest_blake3: String,
    pub split_seed: Option<u64>,
    /// `ok: ...` or `warning: ...`.
    pub leakage_check: String,
}

/// One evaluated condition.
#[derive(Debug, Clone)]
pub struct ConditionResult {
    pub condition: Degradation,
    pub report: EvaluationReport,
    /// Folder of its files (OUT for clean).
    pub dir: PathBuf,
    pub plots: Vec<PathBuf>,
}

/// What an evaluation produced.
#[derive(Debug, Clone)]
pub struct EvalOutcome {
    pub out: PathBuf,
    pub manifest: PathBuf,
    pub split: Split,
    pub n_tracks: usize,
    pub genres: Vec<String>,
    pub models: Vec<ModelSource>,
    /// Clean first, then the degraded conditions in the order given.
    pub conditions: Vec<ConditionResult>,
    pub warnings: Vec<String>,
}

impl EvalOutcome {
    pub fn clean(&self) -> &ConditionResult {
        &self.conditions[0]
    }

    pub fn summaries(&self) -> Vec<ConditionSummary> {
        self.conditions
            .iter()
            .map(|c| ConditionSummary::new(&c.condition.label(), &c.report))
            .collect()
    }
}

/// The degraded conditions of `--noise SNR_DB` and `--codec FORMAT:BITRATE`, noise first, each in
/// the order given.
pub fn degradations(noise: &[f64], codecs: &[String]) -> anyhow::Result<Vec<Degradation>> {
    let mut conditions = Vec::new();
    for snr in noise {
        conditions.push(Degradation::noise(*snr)?);
    }
    for text in codecs {
        let codec: CodecSpec = text.parse()?;
        conditions.push(Degradation::Codec { codec });
    }
    Ok(conditions)
}

/// A loaded model and its report name.
struct Loaded {
    name: String,
    model: Classifier,
}

/// What scores tracks: a CNN/CRNN that reads log-mels, or a backbone with a genre head that
/// reads the samples (its own front end).
enum Classifier {
    Net(Box<ModelDir>),
    Head {
        // A lock makes the model shareable with the decoding threads; only one thread runs it.
        models: Box<std::sync::Mutex<BackboneAndHead>>,
        name: PathBuf,
    },
}

fn lock(models: &std::sync::Mutex<BackboneAndHead>) -> std::sync::MutexGuard<'_, BackboneAndHead> {
    // A panic while holding it ends the command anyway; the data is not shared state.
    models
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Classifier {
    /// `--model` as `scan` takes it: a CNN/CRNN directory, `cnn`, `musicnn`, a head directory.
    fn load(arg: &Path, device: DeviceKind) -> anyhow::Result<Self> {
        Ok(match ModelChoice::parse(Some(arg))? {
            ModelChoice::ModelDir(dir) => Self::Net(Box::new(
                ModelDir::load_on(&dir, device).map_err(|e| anyhow::anyhow!("{e}"))?,
            )),
            ModelChoice::BuiltInCnn => Self::Net(Box::new(musicrec_embed::built_in::load(device)?)),
            ModelChoice::Backbone { head } => Self::Head {
                models: Box::new(std::sync::Mutex::new(load_backbone_and_head(&head)?)),
                name: match &head {
                    HeadSource::Dir(dir) => dir.clone(),
                    other => PathBuf::from(other.describe()),
                },
            },
        })
    }

    fn genres(&self) -> Vec<String> {
        match self {
            Self::Net(model) => model.genres().to_vec(),
            Self::Head { models, .. } => lock(models).genres(),
        }
    }

    fn dir(&self) -> &Path {
        match self {
            Self::Net(model) => model.dir(),
            Self::Head { name, .. } => name,
        }
    }

    /// What was trained on which manifest: the source record and the splits trained on (`None`:
    /// all of them, or not a manifest's).
    fn source(&self, name: &str) -> (ModelSource, Option<Vec<Split>>) {
        match self {
            Self::Net(model) => {
                let config = model.config();
                let source = ModelSource {
                    name: name.to_owned(),
                    dir: model.dir().to_path_buf(),
                    arch: config.arch.clone(),
                    preset: config.preset.clone(),
                    width_scale: config.training.width_scale,
                    training_manifest: config.training.manifest.clone(),
                    training_manifest_blake3: config.training.manifest_blake3.clone(),
                    split_seed: config.training.split_seed,
                    leakage_check: String::new(),
                };
                (source, Some(vec![Split::Train, Split::Validation]))
            }
            Self::Head {
                models,
                name: head_name,
            } => {
                let models = lock(models);
                let backbone = models.backbone.name().to_owned();
                let (manifest, blake3, splits) = match &models.head {
                    Some(head) => {
                        let training = &head.config().training;
                        let splits = training
                            .splits
                            .iter()
                            .map(|s| s.parse::<Split>())
                            .collect::<Result<Vec<_>, _>>()
                            .ok();
                        (
                            training.manifest.clone(),
                            training.manifest_blake3.clone(),
                            splits,
                        )
                    }
                    None => (PathBuf::new(), String::new(), None),
                };
                let source = ModelSource {
                    name: name.to_owned(),
                    dir: head_name.clone(),
                    arch: format!("genre head on {backbone}"),
                    preset: Some("musicnn".to_owned()),
                    width_scale: 1.0,
                    training_manifest: manifest,
                    training_manifest_blake3: blake3,
                    split_seed: None,
                    leakage_check: String::new(),
                };
                (source, splits)
            }
        }
    }
}

/// Report names: each model directory's folder name, made unique with `-2`, `-3`...
fn model_names(dirs: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for dir in dirs {
        let base = dir
            .canonicalize()
            .unwrap_or_else(|_| dir.clone())
            .file_name()
            .map(|n| n.to_string_lossy().replace(':', "_"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "model".to_owned());
        let mut name = base.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        names.push(name);
    }
    names
}

/// Runs the evaluation `options` describes and writes every file (see the module doc).
pub fn evaluate(options: &EvalOptions) -> anyhow::Result<EvalOutcome> {
    if !(options.threshold.is_finite() && options.threshold > 0.0 && options.threshold < 1.0) {
        bail!("--threshold must be in (0, 1), got {}", options.threshold);
    }
    if options
        .conditions
        .iter()
        .any(|c| matches!(c, Degradation::Codec { .. }))
        && !degrade::ffmpeg_available()
    {
        bail!(
            "--codec needs ffmpeg on the PATH (apt-get install ffmpeg); drop --codec or install it"
        );
    }
    let names = model_names(&options.models);
    let mut models = Vec::new();
    for (dir, name) in options.models.iter().zip(names) {
        let model = Classifier::load(dir, options.device)?;
        models.push(Loaded { name, model });
    }
    let genres = models[0].model.genres();
    for m in &models[1..] {
        if m.model.genres() != genres {
            bail!(
                "models predict different genres: {} has [{}], {} has [{}]; they cannot be compared",
                models[0].model.dir().display(),
                genres.join(", "),
                m.model.dir().display(),
                m.model.genres().join(", ")
            );
        }
    }

    let manifest_bytes = std::fs::read(&options.data)
        .with_context(|| format!("cannot read {}", options.data.display()))?;
    let manifest_blake3 = blake3::hash(&manifest_bytes).to_hex().to_string();
    let manifest = Manifest::read(&options.data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let tracks: Vec<(PathBuf, usize)> = manifest
        .split(options.split)
        .map(|e| {
            genres
                .iter()
                .position(|g| *g == e.label)
                .map(|label| (e.path.clone(), label))
                .with_context(|| {
                    format!(
                        "{} is labelled '{}', a genre the models do not predict ([{}])",
                        e.path.display(),
                        e.label,
                        genres.join(", ")
                    )
                })
        })
        .collect::<anyhow::Result<_>>()?;
    if tracks.is_empty() {
        bail!(
            "{} has no {} tracks (the split column must say {} for the tracks to evaluate)",
            options.data.display(),
            options.split.as_str(),
            options.split.as_str()
        );
    }

    let mut warnings = Vec::new();
    let evaluated = Evaluated {
        paths: tracks.iter().map(|(p, _)| canonical(p)).collect(),
        keys: tracks
            .iter()
            .map(|(p, g)| track_key(&genres[*g], p))
            .collect(),
    };
    let sources: Vec<ModelSource> = models
        .iter()
        .map(|m| {
            let (mut source, trained_on) = m.model.source(&m.name);
            let check = leakage_check(
                &source,
                trained_on.as_deref(),
                options,
                &manifest_blake3,
                &evaluated,
            );
            if let Some(w) = check.strip_prefix("warning: ") {
                warnings.push(format!("model {}: {w}", m.name));
            }
            source.leakage_check = check;
            source
        })
        .collect();
    let tests_per_genre = {
        let mut counts = vec![0usize; genres.len()];
        for (_, g) in &tracks {
            counts[*g] += 1;
        }
        counts
    };
    if let Some(missing) = tests_per_genre.iter().position(|&n| n == 0) {
        warnings.push(format!(
            "genre '{}' has no {} track: its recall and AUC are undefined",
            genres[missing],
            options.split.as_str()
        ));
    }

    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let cache = options
        .cache
        .as_ref()
        .map(FeatureCache::open)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = EvalConfig {
        threshold: options.threshold,
        bootstrap: (options.bootstrap > 0).then_some(BootstrapConfig {
            resamples: options.bootstrap,
            confidence: 0.95,
            seed: options.seed,
        }),
        significance_level: 0.05,
    };

    let mut all = vec![Degradation::Clean];
    all.extend(options.conditions.iter().cloned());
    let scratch = tempfile::tempdir_in(&options.out).context("cannot create a scratch folder")?;
    let mut results = Vec::new();
    for condition in &all {
        let started = Instant::now();
        let scores = pool.install(|| {
            score_tracks(
                &models,
                &tracks,
                condition,
                cache.as_ref(),
                options.seed,
                scratch.path(),
            )
        })?;
        let table = PredictionTable {
            paths: tracks.iter().map(|(p, _)| p.clone()).collect(),
            y_true: tracks.iter().map(|(_, g)| *g).collect(),
            genres: genres.clone(),
            models: models.iter().map(|m| m.name.clone()).zip(scores).collect(),
        };
        let dir = match condition {
            Degradation::Clean => options.out.clone(),
            other => options.out.join("conditions").join(other.slug()),
        };
        table.write(&dir.join("predictions.csv"))?;
        let matrices = (0..table.models.len())
            .map(|m| table.scores(m))
            .collect::<Result<Vec<_>, _>>()?;
        let scored: Vec<ModelScores> = table
            .models
            .iter()
            .zip(&matrices)
            .map(|((name, _), scores)| ModelScores {
                name: name.as_str(),
                scores,
            })
            .collect();
        let report = musicrec_eval::report::evaluate(&genres, &table.y_true, &scored, &config)?;
        let plots = report.write_plots(&dir)?;
        report.write_markdown(&dir.join("metrics.md"))?;
        report.write_html(&dir.join("metrics.html"))?;
        if !matches!(condition, Degradation::Clean) {
            report.write_json(&dir.join("metrics.json"))?;
        }
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{}: {} tracks x {} models in {seconds:.1} s",
            condition.label(),
            tracks.len(),
            models.len()
        );
        results.push(ConditionResult {
            condition: condition.clone(),
            report,
            dir,
            plots,
        });
    }
    drop(scratch);

    let outcome = EvalOutcome {
        out: options.out.clone(),
        manifest: options.data.clone(),
        split: options.split,
        n_tracks: tracks.len(),
        genres,
        models: sources,
        conditions: results,
        warnings,
    };
    write_metrics_json(&outcome, &manifest_blake3)?;
    if outcome.conditions.len() > 1 {
        let md = robustness_markdown(&outcome.summaries());
        write_atomically(&outcome.out.join("robustness.md"), md.as_bytes())?;
    }
    let mut page = HtmlPage::new("Genre classification: evaluation");
    append_eval_sections(&mut page, &outcome, 2)?;
    page.write(&outcome.out.join("report.html"))?;
    Ok(outcome)
}

/// The evaluated tracks, by canonical path and by (label, file name).
struct Evaluated {
    paths: HashSet<PathBuf>,
    keys: HashSet<(String, String)>,
}

fn track_key(label: &str, path: &Path) -> (String, String) {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    (label.to_owned(), name.into_owned())
}

/// A manifest from its bytes (it is read through a file, as every manifest is).
fn read_manifest_bytes(bytes: &[u8]) -> anyhow::Result<Manifest> {
    let file = tempfile::NamedTempFile::new().context("cannot write a temporary file")?;
    std::fs::write(file.path(), bytes).context("cannot write a temporary file")?;
    Manifest::read(file.path()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Whether the evaluated tracks can have been in a model's training data, from the manifest
/// its directory records and the splits it trained on (`None`: every split, or a head learnt
/// from a catalog's tags): `ok: ...` or `warning: ...`.
fn leakage_check(
    source: &ModelSource,
    trained_on: Option<&[Split]>,
    options: &EvalOptions,
    manifest_blake3: &str,
    evaluated: &Evaluated,
) -> String {
    let split = options.split.as_str();
    if source.training_manifest_blake3.is_empty() {
        return "warning: the model records no training manifest, so it cannot be checked whether evaluated tracks were in its training data".into();
    }
    let trained_on = trained_on.unwrap_or(&[Split::Train, Split::Validation, Split::Test]);
    let used = trained_on
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("/");
    if source.training_manifest_blake3 == manifest_blake3 {
        return if trained_on.contains(&options.split) {
            format!(
                "warning: the model was trained on this manifest and the evaluated {split} split was used in its training; these scores are optimistic"
            )
        } else {
            format!("ok: trained on this very manifest, whose {split} split it did not train on")
        };
    }
    let recorded = &source.training_manifest;
    let recorded_blake3 = &source.training_manifest_blake3;
    let short = &recorded_blake3[..recorded_blake3.len().min(12)];
    // The built-in models' manifest is compiled in: its recorded path is relative to a checkout.
    let built_in = musicrec_embed::built_in::TRAINING_MANIFEST;
    let readable = std::fs::read(recorded)
        .ok()
        .or_else(|| Some(built_in.to_vec()))
        .filter(|bytes| blake3::hash(bytes).to_hex().as_str() == recorded_blake3.as_str());
    let Some(bytes) = readable else {
        return format!(
            "warning: trained on manifest {} (blake3 {short}...), which is not the evaluated manifest and is \
             {} here, so it cannot be checked whether evaluated tracks were in its training data",
            recorded.display(),
            if recorded.exists() {
                "changed since"
            } else {
                "not found"
            }
        );
    };
    match read_manifest_bytes(&bytes) {
        Ok(train_manifest) => {
            // A track is the same file, or the same file name under the same label (a manifest
            // written on another machine, as the built-in models' is).
            let seen: BTreeSet<PathBuf> = train_manifest
                .entries
                .iter()
                .filter(|e| e.split.is_some_and(|s| trained_on.contains(&s)))
                .filter(|e| {
                    evaluated.paths.contains(&canonical(&e.path))
                        || evaluated.keys.contains(&track_key(&e.label, &e.path))
                })
                .map(|e| e.path.clone())
                .collect();
            if seen.is_empty() {
                format!(
                    "ok: none of the evaluated tracks is in the {used} split of its training manifest {}",
                    recorded.display()
                )
            } else {
                format!(
                    "warning: {} of the {} evaluated tracks were in the {used} split of its training \
                     manifest {} (e.g. {}); these scores are optimistic",
                    seen.len(),
                    evaluated.paths.len(),
                    recorded.display(),
                    seen.iter().next().expect("non-empty").display()
                )
            }
        }
        Err(e) => format!(
            "warning: cannot read its training manifest {}: {e}",
            recorded.display()
        ),
    }
}

/// How many tracks' log-mels are held at once: enough to keep every core busy, few enough that a
/// large test set does not fill memory.
const CHUNK: usize = 32;

/// `[model][track][genre]` probabilities of every track under `condition`. Networks sharing a
/// front end share one decode and one log-mel per track; a backbone with a head takes the
/// decoded (and degraded) samples at its own rate.
fn score_tracks(
    models: &[Loaded],
    tracks: &[(PathBuf, usize)],
    condition: &Degradation,
    cache: Option<&FeatureCache>,
    seed: u64,
    scratch: &Path,
) -> anyhow::Result<Vec<Vec<Vec<f32>>>> {
    let mut scores = vec![Vec::with_capacity(tracks.len()); models.len()];
    let mut groups: Vec<(MelConfig, Vec<usize>)> = Vec::new();
    for (i, m) in models.iter().enumerate() {
        match &m.model {
            Classifier::Net(model) => {
                let mel = &model.config().mel;
                match groups.iter_mut().find(|(g, _)| g == mel) {
                    Some((_, members)) => members.push(i),
                    None => groups.push((mel.clone(), vec![i])),
                }
            }
            Classifier::Head { models: head, .. } => {
                let head = lock(head);
                let rate = head.backbone.sample_rate();
                for chunk in tracks.chunks(CHUNK) {
                    let samples: Vec<Vec<f32>> = chunk
                        .par_iter()
                        .map(|(path, _)| samples_of(path, rate, condition, seed, scratch))
                        .collect::<anyhow::Result<_>>()?;
                    // The backbone runs one track at a time: its own matrix products use the
                    // cores (Burn modules are not `Sync`).
                    for samples in &samples {
                        let features = head
                            .backbone
                            .features(samples, Analysis::default())
                            .map_err(one_line)?;
                        scores[i].push(head.genre_probs(&features).map_err(one_line)?);
                    }
                }
            }
        }
    }
    for (mel, members) in &groups {
        let Classifier::Net(first) = &models[members[0]].model else {
            unreachable!("groups hold networks only");
        };
        let extractor = first.extractor().clone();
        for chunk in tracks.chunks(CHUNK) {
            let log_mels: Vec<LogMel> = chunk
                .par_iter()
                .map(|(path, _)| log_mel_of(path, mel, &extractor, condition, cache, seed, scratch))
                .collect::<anyhow::Result<_>>()?;
            for &i in members {
                let Classifier::Net(model) = &models[i].model else {
                    unreachable!("groups hold networks only");
                };
                for log_mel in &log_mels {
                    let p = model
                        .predict_log_mel(log_mel)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    scores[i].push(p);
                }
            }
        }
    }
    Ok(scores)
}

/// The log-mel a model sees for `path` under `condition`: from the cache when clean and cached,
/// else decoded at the model's rate, degraded, and computed.
fn log_mel_of(
    path: &Path,
    mel: &MelConfig,
    extractor: &MelExtractor,
    condition: &Degradation,
    cache: Option<&FeatureCache>,
    seed: u64,
    scratch: &Path,
) -> anyhow::Result<LogMel> {
    if let (Degradation::Clean, Some(cache)) = (condition, cache)
        && let Some(log_mel) = cache
            .try_get(path, mel)
            .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        return Ok(log_mel);
    }
    let samples = samples_of(path, mel.sample_rate, condition, seed, scratch)?;
    Ok(extractor.log_mel(&samples))
}

/// The samples of `path` at `rate` under `condition`: decoded, then degraded (noise), or
/// re-encoded first (codec).
fn samples_of(
    path: &Path,
    rate: u32,
    condition: &Degradation,
    seed: u64,
    scratch: &Path,
) -> anyhow::Result<Vec<f32>> {
    let decode = |file: &Path| {
        musicrec_audio::load(file, Some(rate))
            .map_err(|e| anyhow::anyhow!("cannot decode {}: {e}", path.display()))
    };
    Ok(match condition {
        Degradation::Clean => decode(path)?.samples,
        Degradation::Noise { snr_db } => {
            let audio = decode(path)?;
            let key = format!("{}|{snr_db}", path.display());
            degrade::add_white_noise(&audio.samples, *snr_db, degrade::clip_seed(seed, &key))
        }
        Degradation::Codec { codec } => {
            let encoded = degrade::encode_with_ffmpeg(path, codec, scratch)?;
            let audio = decode(&encoded);
            let _ = std::fs::remove_file(&encoded);
            audio?.samples
        }
    })
}

/// `metrics.json`: the clean report (genres, config, models, comparisons) at the top level, plus
/// the data, the model sources, every degraded condition, the robustness summary and warnings.
fn write_metrics_json(outcome: &EvalOutcome, manifest_blake3: &str) -> anyhow::Result<()> {
    let mut root = match serde_json::to_value(&outcome.clean().report)? {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a report serialises to an object"),
    };
    root.insert("format".into(), "musicrec-eval".into());
    root.insert(
        "data".into(),
        serde_json::json!({
            "manifest": outcome.manifest,
            "manifest_blake3": manifest_blake3,
            "split": outcome.split.as_str(),
            "n_tracks": outcome.n_tracks,
        }),
    );
    root.insert("model_dirs".into(), serde_json::to_value(&outcome.models)?);
    let degraded: Vec<serde_json::Value> = outcome.conditions[1..]
        .iter()
        .map(|c| -> Result<serde_json::Value, serde_json::Error> {
            Ok(serde_json::json!({
                "condition": c.condition,
                "label": c.condition.label(),
                "dir": c.dir,
                "report": serde_json::to_value(&c.report)?,
            }))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    root.insert("conditions".into(), degraded.into());
    root.insert(
        "robustness".into(),
        serde_json::to_value(outcome.summaries())?,
    );
    root.insert("warnings".into(), serde_json::to_value(&outcome.warnings)?);
    let path = outcome.out.join("metrics.json");
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(root))?;
    write_atomically(&path, text.as_bytes())
}

/// The evaluation's sections of an HTML page: data, models, warnings, the clean table and tests,
/// its plots, and the robustness table with each degraded condition's table.
pub fn append_eval_sections(
    page: &mut HtmlPage,
    outcome: &EvalOutcome,
    level: u8,
) -> anyhow::Result<()> {
    let n_genres = outcome.genres.len();
    page.paragraph(&format!(
        "{} {} tracks of {} in {} genres ({}).",
        outcome.n_tracks,
        outcome.split.as_str(),
        outcome.manifest.display(),
        n_genres,
        outcome.genres.join(", ")
    ));
    for w in &outcome.warnings {
        page.warning(w);
    }
    page.heading(level, "Models");
    let rows: Vec<Vec<String>> = outcome
        .models
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.arch.clone(),
                m.preset.clone().unwrap_or_else(|| "custom".into()),
                format!("{}", m.width_scale),
                m.dir.display().to_string(),
                m.leakage_check.clone(),
            ]
        })
        .collect();
    page.table(
        &[
            "Model",
            "Architecture",
            "Features",
            "Width",
            "Directory",
            "Training-data check",
        ],
        &rows,
    );
    let clean = outcome.clean();
    page.heading(level, "Per-genre results (clean test audio)");
    page.raw(&clean.report.to_html_fragment(level + 1));
    page.heading(level, "Plots");
    let captioned = |paths: &[PathBuf]| -> Vec<(PathBuf, String)> {
        paths
            .iter()
            .map(|p| {
                let name = p.file_stem().map(|s| s.to_string_lossy().into_owned());
                (p.clone(), name.unwrap_or_default())
            })
            .collect()
    };
    let (bars, rest): (Vec<PathBuf>, Vec<PathBuf>) = clean.plots.iter().cloned().partition(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("_bars.png"))
    });
    page.figures(&captioned(&bars))?;
    page.figures(&captioned(&rest))?;
    if outcome.conditions.len() > 1 {
        page.heading(level, "Robustness: degraded test audio");
        page.paragraph(
            "Accuracy, macro F1 and macro AUC on the same test tracks after each degradation; \
             in brackets the change from clean audio.",
        );
        let (header, rows) = robustness_table(&outcome.summaries());
        page.table(&header, &rows);
        for c in &outcome.conditions[1..] {
            page.heading(level + 1, &format!("Condition: {}", c.condition.label()));
            page.raw(&c.report.to_html_fragment(level + 2));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degradations_are_noise_then_codecs_in_the_order_given() {
        let conditions = degradations(&[20.0, 0.0], &["mp3:64k".to_owned()]).unwrap();
        let labels: Vec<String> = conditions.iter().map(Degradation::label).collect();
        assert_eq!(labels.len(), 3);
        assert!(matches!(conditions[0], Degradation::Noise { snr_db } if snr_db == 20.0));
        assert!(matches!(conditions[1], Degradation::Noise { snr_db } if snr_db == 0.0));
        assert!(matches!(conditions[2], Degradation::Codec { .. }));
        assert!(degradations(&[], &["not a codec".to_owned()]).is_err());
    }

    #[test]
    fn model_names_are_folder_names_made_unique() {
        let dirs = [
            PathBuf::from("/nowhere/a/crnn"),
            PathBuf::from("/nowhere/b/crnn"),
            PathBuf::from("musicnn"),
            PathBuf::from("/nowhere/c/crnn"),
        ];
        assert_eq!(
            model_names(&dirs),
            ["crnn", "crnn-2", "musicnn", "crnn-3"].map(String::from)
        );
    }

    #[test]
    fn a_threshold_outside_zero_one_is_refused_before_any_model_loads() {
        let options = EvalOptions {
            models: vec![PathBuf::from("/nowhere/model")],
            data: PathBuf::from("/nowhere/data.csv"),
            cache: None,
            split: Split::Test,
            out: PathBuf::from("/nowhere/out"),
            threshold: 1.0,
            bootstrap: 0,
            seed: 0,
            conditions: Vec::new(),
            jobs: None,
            device: DeviceKind::Cpu,
        };
        let err = evaluate(&options).unwrap_err().to_string();
        assert!(err.contains("--threshold must be in (0, 1)"), "{err}");
    }
}
