//! The paper reproduced (`musicrec reproduce`): the paper's experiment in one command, resumable stage by stage.
//!
//! Stages, each calling the stage crates and recording a stamp `OUT/state/<stage>.json` (written
//! atomically) only once its output is complete, so a killed run redoes at most the stage it was
//! in, and that stage resumes on its own where it can (the feature cache skips finished entries,
//! training continues from its last checkpoint, the catalog scan skips embedded files):
//! 1. `manifest`: `--data` as a manifest CSV (its split kept when every row has one) or a folder
//!    with one sub-folder per genre, screened and split (seeded) into `OUT/data.csv`;
//! 2. `features`: every clip's log-mel into `OUT/cache`;
//! 3. `train-cnn`, `train-crnn` (and `-seedN` for `--seeds` > 1): `OUT/models/<arch>`;
//!    `train-musicnn-head`: the modern comparison, a genre head on the frozen MusiCNN backbone
//!    trained on the same train and validation clips, `OUT/models/musicnn-head`;
//! 4. `eval`: [`crate::eval`] of the CNN against the CRNN and the MusiCNN head on the test split
//!    (`OUT/eval`), and of the CNN against the CRNN per seed when `--seeds` > 1, with a paired
//!    test over seeds;
//! 5. `catalog`: the test tracks scanned with the CRNN into `OUT/catalog/catalog.db`;
//! 6. `recommend`: five songs for a few seeded five-song seed sets, with both methods;
//! 7. `report`: `OUT/report.html`, one self-contained page (plots inline), rebuilt every run.
//!
//! The settings are stored in `OUT/state/settings.json`; a rerun with other settings is refused
//! (results of two configurations would be mixed), naming what differs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use indicatif::ProgressBar;
use musicrec_catalog::ScanOptions;
use musicrec_datasets::report::{report_path, write_report};
use musicrec_datasets::{
    BuildOptions, FeatureCache, Loaded, Manifest, ScreenConfig, Split, SplitMode, SplitRatio,
};
use musicrec_eval::degrade::Degradation;
use musicrec_eval::html::HtmlPage;
use musicrec_eval::stats::{paired_t_test, wilcoxon_signed_rank};
use musicrec_features::MelConfig;
use musicrec_recommend::{GenreBlend, Method, RecommendRequest};
use musicrec_train::head::FitOptions;
use musicrec_train::{
    Analysis, Arch, DeviceKind, HeadTrainConfig, TrainConfig, Variant, WindowLength, checkpoint,
};
use serde::{Deserialize, Serialize};

use crate::eval::{EvalOptions, append_eval_sections};
use crate::files::write_atomically;
use musicrec_embed::ModelEmbedder;

/// What one reproduction is asked to do (`musicrec reproduce`'s options).
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    /// A manifest CSV, or a folder with one sub-folder of audio per genre.
    pub data: PathBuf,
    /// Output folder (created; reused by a rerun).
    pub out: PathBuf,
    pub epochs: usize,
    /// Layer width scale of both models.
    pub width: f64,
    /// Training seeds per model (seed, seed+1, ...).
    pub seeds: usize,
    pub seed: u64,
    pub preset: String,
    pub frames: Option<usize>,
    pub batch: usize,
    pub lr: f64,
    pub patience: usize,
    pub genres: Option<Vec<String>>,
    pub per_genre: Option<usize>,
    pub split_ratio: SplitRatio,
    /// Screen the clips by decoding them when the manifest is built.
    pub screen: bool,
    pub noise: Vec<f64>,
    pub bootstrap: usize,
    pub seed_sets: usize,
    pub jobs: Option<usize>,
    /// The invocation, recorded on the model cards and in the report.
    pub command_line: String,
}

/// What a reproduction produced, for the caller to show.
#[derive(Debug, Clone)]
pub struct ReproduceOutcome {
    /// `OUT/report.html`.
    pub report: PathBuf,
    /// The evaluation's robustness table (markdown), when its stamp records one.
    pub eval_table: Option<String>,
    /// The evaluation's significance verdicts, one line each.
    pub significance: Vec<String>,
}

/// What a rerun must agree with (everything that changes a result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    data: PathBuf,
    epochs: usize,
    width: f64,
    seeds: usize,
    seed: u64,
    preset: String,
    frames: Option<usize>,
    batch: usize,
    lr: f64,
    patience: usize,
    genres: Option<Vec<String>>,
    per_genre: Option<usize>,
    split_ratio: String,
    screen: bool,
    noise: Vec<f64>,
    bootstrap: usize,
    seed_sets: usize,
}

/// A finished stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stamp {
    stage: String,
    /// Unix seconds when it finished.
    finished_at: u64,
    seconds: f64,
    detail: serde_json::Value,
}

/// How a stage went in this run, for the report.
#[derive(Debug, Clone)]
struct StageRun {
    stage: String,
    reused: bool,
    stamp: Stamp,
}

struct Run {
    out: PathBuf,
    settings: Settings,
    jobs: Option<usize>,
    command_line: String,
    stages: Vec<StageRun>,
    /// A stage ran in this invocation: every later stage runs too (its inputs may have changed).
    dirty: bool,
}

impl Run {
    fn state_dir(&self) -> PathBuf {
        self.out.join("state")
    }

    fn stamp_path(&self, stage: &str) -> PathBuf {
        self.state_dir().join(format!("{stage}.json"))
    }

    fn read_stamp(&self, stage: &str) -> Option<Stamp> {
        let text = std::fs::read_to_string(self.stamp_path(stage)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Runs `work` unless `stage` has a stamp and `outputs_exist` holds; records its stamp.
    fn stage(
        &mut self,
        stage: &str,
        outputs_exist: impl FnOnce(&Self) -> bool,
        work: impl FnOnce(&mut Self) -> anyhow::Result<serde_json::Value>,
    ) -> anyhow::Result<Stamp> {
        if !self.dirty
            && let Some(stamp) = self.read_stamp(stage)
            && outputs_exist(self)
        {
            eprintln!(
                "[{stage}] reused (finished {:.1} s of work in an earlier run)",
                stamp.seconds
            );
            self.stages.push(StageRun {
                stage: stage.into(),
                reused: true,
                stamp: stamp.clone(),
            });
            return Ok(stamp);
        }
        eprintln!("[{stage}] running");
        self.dirty = true;
        let started = Instant::now();
        let detail = work(self).with_context(|| format!("stage {stage}"))?;
        let stamp = Stamp {
            stage: stage.into(),
            finished_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            seconds: started.elapsed().as_secs_f64(),
            detail,
        };
        write_atomically(
            &self.stamp_path(stage),
            serde_json::to_string_pretty(&stamp)?.as_bytes(),
        )?;
        eprintln!("[{stage}] done in {:.1} s", stamp.seconds);
        self.stages.push(StageRun {
            stage: stage.into(),
            reused: false,
            stamp: stamp.clone(),
        });
        Ok(stamp)
    }

    fn manifest_path(&self) -> PathBuf {
        self.out.join("data.csv")
    }

    fn cache_dir(&self) -> PathBuf {
        self.out.join("cache")
    }

    /// `OUT/models/<arch>` for the first seed, `<arch>-seedN` for the others.
    fn model_dir(&self, arch: Arch, seed_index: usize) -> PathBuf {
        let name = if seed_index == 0 {
            arch.as_str().to_owned()
        } else {
            format!("{}-seed{seed_index}", arch.as_str())
        };
        self.out.join("models").join(name)
    }

    /// `OUT/models/musicnn-head`: the genre head on the MusiCNN backbone.
    fn head_dir(&self) -> PathBuf {
        self.out.join("models").join("musicnn-head")
    }

    fn thread_pool(&self) -> anyhow::Result<rayon::ThreadPool> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.unwrap_or(0))
            .build()
            .context("cannot start worker threads")
    }
}

/// Runs every stage `options` asks for (reusing finished ones) and writes the report.
pub fn reproduce(options: &ReproduceOptions) -> anyhow::Result<ReproduceOutcome> {
    if options.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    if !options.data.exists() {
        bail!("--data {} does not exist", options.data.display());
    }
    let settings = Settings {
        data: options
            .data
            .canonicalize()
            .unwrap_or_else(|_| options.data.clone()),
        epochs: options.epochs,
        width: options.width,
        seeds: options.seeds,
        seed: options.seed,
        preset: options.preset.clone(),
        frames: options.frames,
        batch: options.batch,
        lr: options.lr,
        patience: options.patience,
        genres: options.genres.clone(),
        per_genre: options.per_genre,
        split_ratio: options.split_ratio.to_string(),
        screen: options.screen,
        noise: options.noise.clone(),
        bootstrap: options.bootstrap,
        seed_sets: options.seed_sets,
    };
    for snr in &settings.noise {
        Degradation::noise(*snr)?;
    }
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let mut run = Run {
        out: options.out.clone(),
        settings,
        jobs: options.jobs,
        command_line: options.command_line.clone(),
        stages: Vec::new(),
        dirty: false,
    };
    check_settings(&run)?;
    let started = Instant::now();

    let split_ratio = options.split_ratio;
    run.stage(
        "manifest",
        |r| r.manifest_path().is_file(),
        |r| build_manifest(r, split_ratio),
    )?;
    run.stage("features", |r| r.cache_dir().is_dir(), prepare_features)?;
    for seed_index in 0..run.settings.seeds {
        for arch in [Arch::Cnn, Arch::Crnn] {
            let stage = if seed_index == 0 {
                format!("train-{arch}")
            } else {
                format!("train-{arch}-seed{seed_index}")
            };
            let dir = run.model_dir(arch, seed_index);
            let done = dir.join("MODEL.md");
            run.stage(
                &stage,
                |_| done.is_file(),
                |r| train_model(r, arch, seed_index),
            )?;
        }
    }
    let head_done = run.head_dir().join(musicrec_train::head::HEAD_CARD_FILE);
    run.stage(
        "train-musicnn-head",
        |_| head_done.is_file(),
        train_backbone_head,
    )?;
    let eval_dir = run.out.join("eval");
    let sections = eval_dir.join("sections.html");
    run.stage(
        "eval",
        |_| sections.is_file(),
        |r| evaluate_pair(r, 0, true),
    )?;
    for seed_index in 1..run.settings.seeds {
        let dir = run.out.join(format!("eval-seed{seed_index}"));
        run.stage(
            &format!("eval-seed{seed_index}"),
            |_| dir.join("metrics.json").is_file(),
            |r| evaluate_pair(r, seed_index, false),
        )?;
    }
    let db = run.out.join("catalog").join("catalog.db");
    run.stage("catalog", |_| db.is_file(), build_catalog)?;
    let recs = run.out.join("recommendations.json");
    run.stage("recommend", |_| recs.is_file(), recommend)?;
    let report = write_report_html(&run, started.elapsed().as_secs_f64())?;

    let mut outcome = ReproduceOutcome {
        report,
        eval_table: None,
        significance: Vec::new(),
    };
    if let Some(eval) = run.stages.iter().find(|s| s.stage == "eval") {
        let detail = &eval.stamp.detail;
        outcome.eval_table = detail.get("table").and_then(|t| t.as_str()).map(Into::into);
        if let Some(lines) = detail.get("significance").and_then(|t| t.as_array()) {
            outcome.significance = lines
                .iter()
                .filter_map(|l| l.as_str())
                .map(Into::into)
                .collect();
        }
    }
    Ok(outcome)
}

/// Refuses to continue an OUT made with other settings; records them on the first run.
fn check_settings(run: &Run) -> anyhow::Result<()> {
    let path = run.state_dir().join("settings.json");
    let current = serde_json::to_value(&run.settings)?;
    if let Ok(text) = std::fs::read_to_string(&path) {
        let stored: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if stored != current {
            let empty = serde_json::Map::new();
            let (a, b) = (
                stored.as_object().unwrap_or(&empty),
                current.as_object().unwrap_or(&empty),
            );
            let diffs: Vec<String> = b
                .iter()
                .filter(|(k, v)| a.get(*k) != Some(v))
                .map(|(k, v)| {
                    format!(
                        "{k}: {} before, {v} now",
                        a.get(k).map_or("unset".into(), |x| x.to_string())
                    )
                })
                .collect();
            bail!(
                "{} was started with other settings ({}); rerun with the same options to resume, or use another --out",
                run.out.display(),
                diffs.join("; ")
            );
        }
        return Ok(());
    }
    write_atomically(&path, serde_json::to_string_pretty(&current)?.as_bytes())
}

fn progress_hidden() -> ProgressBar {
    ProgressBar::hidden()
}

fn build_manifest(run: &mut Run, split_ratio: SplitRatio) -> anyhow::Result<serde_json::Value> {
    let data = run.settings.data.clone();
    let screen = run.settings.screen.then(ScreenConfig::default);
    let (loaded, split) = if data.is_dir() {
        let loaded = musicrec_datasets::folder::load_folder(&data)?;
        let split = SplitMode::Stratified {
            ratio: split_ratio,
            artist_filter: false,
        };
        (loaded, split)
    } else {
        let loaded = Loaded::from_manifest(&data)?;
        let all_split = loaded.entries.iter().all(|e| e.split.is_some());
        let split = if all_split {
            SplitMode::Keep
        } else {
            SplitMode::Stratified {
                ratio: split_ratio,
                artist_filter: false,
            }
        };
        (loaded, split)
    };
    // A manifest that brings its own split was screened when it was made.
    let screen = if split == SplitMode::Keep {
        None
    } else {
        screen
    };
    let options = BuildOptions {
        genres: run.settings.genres.clone(),
        per_genre: run.settings.per_genre,
        screen,
        split,
        seed: run.settings.seed,
    };
    let pool = run.thread_pool()?;
    let built = pool.install(|| musicrec_datasets::build(loaded, &options, &progress_hidden()))?;
    let manifest_path = run.manifest_path();
    write_report(&report_path(&manifest_path), &built.dropped)?;
    for split in [Split::Train, Split::Validation, Split::Test] {
        if built.manifest.split(split).next().is_none() {
            bail!(
                "the data set has no {} clips after screening and splitting ({} clips in all); \
                 use more data or another --split-ratio",
                split.as_str(),
                built.manifest.entries.len()
            );
        }
    }
    built.manifest.write(&manifest_path)?;
    let mut counts: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for e in &built.manifest.entries {
        let slot = match e.split {
            Some(Split::Train) => 0,
            Some(Split::Validation) => 1,
            Some(Split::Test) => 2,
            None => continue,
        };
        counts.entry(e.label.clone()).or_default()[slot] += 1;
    }
    eprintln!(
        "  {} clips in {} genres, {} dropped",
        built.manifest.entries.len(),
        counts.len(),
        built.dropped.len()
    );
    Ok(serde_json::json!({
        "source": data,
        "split": match split { SplitMode::Keep => "kept from the manifest".to_owned(), _ => format!("stratified {split_ratio}, seed {}", run.settings.seed) },
        "clips": built.manifest.entries.len(),
        "dropped": built.dropped.len(),
        "counts": counts,
    }))
}

fn prepare_features(run: &mut Run) -> anyhow::Result<serde_json::Value> {
    let manifest = Manifest::read(&run.manifest_path())?;
    let mel = MelConfig::from_preset(&run.settings.preset).context("unknown preset")?;
    let cache = FeatureCache::open(run.cache_dir())?;
    let paths: Vec<PathBuf> = manifest.entries.iter().map(|e| e.path.clone()).collect();
    let pool = run.thread_pool()?;
    let report =
        pool.install(|| musicrec_datasets::prepare(&paths, &cache, &mel, &progress_hidden()))?;
    if let Some((path, reason)) = report.failed.first() {
        bail!(
            "{} clips could not be turned into log-mels, e.g. {}: {reason}",
            report.failed.len(),
            path.display()
        );
    }
    eprintln!(
        "  {} computed, {} already cached",
        report.computed, report.cached
    );
    Ok(
        serde_json::json!({ "total": report.total, "computed": report.computed, "cached": report.cached }),
    )
}

fn train_model(run: &mut Run, arch: Arch, seed_index: usize) -> anyhow::Result<serde_json::Value> {
    let out = run.model_dir(arch, seed_index);
    let s = &run.settings;
    let mut config = TrainConfig::new(run.manifest_path(), run.cache_dir(), &out);
    config.arch = arch;
    config.preset = s.preset.clone();
    config.window = s
        .frames
        .map_or(WindowLength::default(), WindowLength::Frames);
    config.width_scale = s.width;
    config.epochs = s.epochs;
    config.batch_size = s.batch;
    config.learning_rate = s.lr;
    config.patience = s.patience;
    config.seed = s.seed + seed_index as u64;
    config.split_seed = Some(s.seed);
    config.device = DeviceKind::Cpu;
    config.progress = true;
    config.command_line = Some(run.command_line.clone());
    if checkpoint::exists(&out) {
        config.resume = true;
    } else if out.exists() {
        // Killed before its first epoch finished: nothing to keep.
        std::fs::remove_dir_all(&out)
            .with_context(|| format!("cannot clear the unfinished {}", out.display()))?;
    }
    let report = musicrec_train::train(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let best = report.best().context("a finished run has a best epoch")?;
    Ok(serde_json::json!({
        "dir": out,
        "arch": arch.as_str(),
        "seed": config.seed,
        "parameters": report.parameters,
        "epochs_run": report.history.len(),
        "resumed_after_epoch": report.resumed_after,
        "stopped_early": report.stopped_early,
        "best_epoch": best.epoch,
        "best_val_loss": best.val_loss,
        "best_val_acc": best.val_acc,
        "test_acc": report.test.as_ref().map(|t| t.track_acc),
        "training_secs": report.training_secs,
    }))
}

/// The backbone row: logistic regression on MusiCNN's (frozen) track embeddings of the train and
/// validation clips, the clips as they are (no band-limited copies: the paper's models see none).
fn train_backbone_head(run: &mut Run) -> anyhow::Result<serde_json::Value> {
    let out = run.head_dir();
    let config = HeadTrainConfig {
        manifest: run.manifest_path(),
        out: out.clone(),
        cache: run.out.join("backbone-features"),
        splits: Some(vec![Split::Train, Split::Validation]),
        variants: vec![Variant::Original],
        analysis: Analysis::default(),
        fit: FitOptions {
            seed: run.settings.seed,
            ..FitOptions::default()
        },
        cv_folds: 0,
        command_line: Some(run.command_line.clone()),
        progress: true,
    };
    let backbone = musicrec_embed::built_in::BackboneKind::MusicnnMsd.load()?;
    let report =
        musicrec_train::train_head(&config, backbone.as_ref()).map_err(musicrec_embed::one_line)?;
    Ok(serde_json::json!({
        "dir": out,
        "backbone": report.config.backbone,
        "clips": report.config.training.clips,
        "test_acc": report.config.training.test.as_ref().and_then(|t| t.accuracy.first().map(|a| a.1)),
        "training_secs": report.secs,
    }))
}

fn evaluate_pair(
    run: &mut Run,
    seed_index: usize,
    full: bool,
) -> anyhow::Result<serde_json::Value> {
    let out = if seed_index == 0 {
        run.out.join("eval")
    } else {
        run.out.join(format!("eval-seed{seed_index}"))
    };
    let mut models = vec![
        run.model_dir(Arch::Cnn, seed_index),
        run.model_dir(Arch::Crnn, seed_index),
    ];
    if seed_index == 0 {
        models.push(run.head_dir());
    }
    let options = EvalOptions {
        models,
        data: run.manifest_path(),
        cache: Some(run.cache_dir()),
        split: Split::Test,
        out: out.clone(),
        threshold: musicrec_eval::metrics::DEFAULT_THRESHOLD,
        bootstrap: if full { run.settings.bootstrap } else { 0 },
        seed: run.settings.seed,
        conditions: if full {
            run.settings
                .noise
                .iter()
                .map(|&snr| Degradation::noise(snr))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        },
        jobs: run.jobs,
        device: DeviceKind::Cpu,
    };
    let outcome = crate::eval::evaluate(&options)?;
    for w in &outcome.warnings {
        eprintln!("  warning: {w}");
    }
    if full {
        let mut page = HtmlPage::fragment();
        append_eval_sections(&mut page, &outcome, 3)?;
        write_atomically(&out.join("sections.html"), page.body().as_bytes())?;
    }
    let clean = &outcome.clean().report;
    let table = musicrec_eval::robustness::robustness_markdown(&outcome.summaries());
    Ok(serde_json::json!({
        "dir": out,
        "n_tracks": outcome.n_tracks,
        "headline": outcome.summaries(),
        "table": table,
        "main_table": clean.to_markdown(),
        "significance": clean.significance_summary(),
        "warnings": outcome.warnings,
    }))
}

/// The catalog's audio folder holds one symbolic link per test track (named `NNNN-<file>` so
/// equal file names in different genre folders do not collide): the scan embeds exactly the test
/// set without copying audio.
fn build_catalog(run: &mut Run) -> anyhow::Result<serde_json::Value> {
    let manifest = Manifest::read(&run.manifest_path())?;
    let audio = run.out.join("catalog").join("audio");
    std::fs::create_dir_all(&audio)
        .with_context(|| format!("cannot create {}", audio.display()))?;
    // The scan stores paths under the canonical root; labels are looked up by those paths.
    let audio = audio
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", audio.display()))?;
    let mut links = BTreeMap::new();
    for (i, e) in manifest.split(Split::Test).enumerate() {
        let name = e
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let link = audio.join(format!("{i:04}-{name}"));
        let target = e.path.canonicalize().unwrap_or_else(|_| e.path.clone());
        if std::fs::read_link(&link).ok().as_deref() != Some(target.as_path()) {
            let _ = std::fs::remove_file(&link);
            symlink(&target, &link)?;
        }
        links.insert(link.display().to_string(), e.label.clone());
    }
    write_atomically(
        &run.out.join("catalog").join("labels.json"),
        serde_json::to_string_pretty(&links)?.as_bytes(),
    )?;
    let model = run.model_dir(Arch::Crnn, 0);
    let embedder = ModelEmbedder::load(&model)
        .with_context(|| format!("cannot load model {}", model.display()))?;
    let db = run.out.join("catalog").join("catalog.db");
    let db_arg = db.display().to_string();
    let (_, mut store) = musicrec_app::store::open_or_create(Some(db_arg.as_str()))?;
    let options = ScanOptions {
        jobs: run.jobs.unwrap_or(0),
        follow_links: true,
        ..ScanOptions::default()
    };
    let report = musicrec_catalog::scan(
        store.as_mut(),
        &[audio],
        &embedder,
        &options,
        &progress_hidden(),
    )?;
    if let Some((path, reason)) = report.failures.first() {
        bail!(
            "{} test tracks could not be embedded, e.g. {}: {reason}",
            report.failed,
            path.display()
        );
    }
    eprintln!(
        "  {} tracks: {} added, {} unchanged",
        report.found, report.added, report.unchanged
    );
    Ok(serde_json::json!({
        "db": db,
        "model": musicrec_catalog::TrackEmbedder::model_id(&embedder),
        "tracks": report.found,
        "added": report.added,
        "unchanged": report.unchanged,
    }))
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("cannot link {} to {}", link.display(), target.display()))
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> anyhow::Result<()> {
    std::fs::hard_link(target, link)
        .with_context(|| format!("cannot link {} to {}", link.display(), target.display()))
}

/// One recommended (or seed) track in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecTrack {
    name: String,
    true_genre: String,
    predicted_genre: Option<String>,
    score: Option<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SeedSet {
    seeds: Vec<RecTrack>,
    /// Method name and its recommendations.
    methods: Vec<(String, Vec<RecTrack>)>,
}

/// A seeded order of the test tracks: sorted by blake3(seed, set, path), so each set is a
/// reproducible random draw without an RNG dependency.
fn seeded_pick(paths: &[(i64, PathBuf)], seed: u64, set: usize, n: usize) -> Vec<i64> {
    let mut keyed: Vec<(blake3::Hash, i64)> = paths
        .iter()
        .map(|(id, p)| {
            let mut h = blake3::Hasher::new();
            h.update(&seed.to_le_bytes());
            h.update(&(set as u64).to_le_bytes());
            // The link's name only, so the draw does not depend on where OUT is.
            let name = p.file_name().unwrap_or(p.as_os_str());
            h.update(name.to_string_lossy().as_bytes());
            (h.finalize(), *id)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    keyed.into_iter().take(n).map(|(_, id)| id).collect()
}

fn recommend(run: &mut Run) -> anyhow::Result<serde_json::Value> {
    let db = run.out.join("catalog").join("catalog.db");
    let labels: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(run.out.join("catalog").join("labels.json"))
            .context("the catalog stage's labels.json is missing")?,
    )?;
    let db_arg = db.display().to_string();
    let store = musicrec_app::store::open_existing(Some(db_arg.as_str()))?;
    let model = run.model_dir(Arch::Crnn, 0);
    let config =
        musicrec_train::ModelDirConfig::read(&model).map_err(|e| anyhow::anyhow!("{e}"))?;
    let model_id = musicrec_embed::model_id_of(&model, &config.arch)?;
    let set = store.load_embeddings(&model_id)?;
    let index = musicrec_recommend::index_from_embedding_set(&set)?;
    let paths: Vec<(i64, PathBuf)> = set
        .tracks
        .iter()
        .map(|t| (t.id.0, t.path.clone()))
        .collect();
    let seeds_per_set = 5.min(paths.len().saturating_sub(1));
    let k = 5.min(paths.len().saturating_sub(seeds_per_set));
    if seeds_per_set == 0 || k == 0 {
        bail!(
            "the test set has {} tracks: too few for five-song seeds and recommendations",
            paths.len()
        );
    }
    let describe = |id: i64, score: Option<f32>| -> RecTrack {
        let row = set
            .row_of(musicrec_catalog::TrackId(id))
            .expect("id from this set");
        let path = &set.tracks[row].path;
        RecTrack {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            true_genre: labels
                .get(&path.display().to_string())
                .cloned()
                .unwrap_or_else(|| "?".into()),
            predicted_genre: set.top_genre(row).map(|g| set.model.genres[g].clone()),
            score,
        }
    };
    let mut sets = Vec::new();
    for s in 0..run.settings.seed_sets {
        let seeds = seeded_pick(&paths, run.settings.seed, s, seeds_per_set);
        let mut methods = Vec::new();
        for (name, method) in [
            ("method 1: similarity", Method::Similarity),
            (
                "method 2: similarity + genre",
                Method::SimilarityAndGenre(GenreBlend::default()),
            ),
        ] {
            let mut request = RecommendRequest::new(seeds.clone(), k);
            request.method = method;
            let result = index.recommend(&request)?;
            methods.push((
                name.to_owned(),
                result
                    .tracks
                    .iter()
                    .map(|h| describe(h.id, Some(h.score)))
                    .collect(),
            ));
        }
        sets.push(SeedSet {
            seeds: seeds.iter().map(|&id| describe(id, None)).collect(),
            methods,
        });
    }
    write_atomically(
        &run.out.join("recommendations.json"),
        serde_json::to_string_pretty(&sets)?.as_bytes(),
    )?;
    Ok(serde_json::json!({ "sets": sets.len(), "k": k, "catalog_tracks": paths.len() }))
}

fn fmt3(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.3}"))
}

/// Share of recommended tracks whose true genre is one of the seeds' true genres.
fn genre_match(seeds: &[RecTrack], recs: &[RecTrack]) -> f64 {
    if recs.is_empty() {
        return 0.0;
    }
    let hits = recs
        .iter()
        .filter(|r| seeds.iter().any(|s| s.true_genre == r.true_genre))
        .count();
    hits as f64 / recs.len() as f64
}

/// Clips per genre below which the report warns that figures are noisy.
const SMALL_TEST_PER_GENRE: usize = 20;

fn write_report_html(run: &Run, total_secs: f64) -> anyhow::Result<PathBuf> {
    let stamp = |name: &str| {
        run.stages
            .iter()
            .find(|s| s.stage == name)
            .map(|s| &s.stamp)
    };
    let mut page = HtmlPage::new("musicrec: genre classification and recommendation, reproduced");
    let manifest = stamp("manifest").context("manifest stage missing")?;
    let counts: BTreeMap<String, [usize; 3]> =
        serde_json::from_value(manifest.detail["counts"].clone()).unwrap_or_default();
    let test_total: usize = counts.values().map(|c| c[2]).sum();
    let test_min = counts.values().map(|c| c[2]).min().unwrap_or(0);
    page.paragraph(&format!(
        "Data: {} ({} clips in {} genres; split {}). Models: the paper's CNN and CRNN (Choi et al.) at width x{}, \
         trained on the train split, early-stopped on validation, and, as a modern comparison, a genre head \
         (logistic regression) on the frozen MusiCNN backbone (pretrained on the Million Song Dataset) \
         trained on the train and validation clips; all evaluated on the {test_total} test clips.",
        run.settings.data.display(),
        manifest.detail["clips"],
        counts.len(),
        manifest.detail["split"].as_str().unwrap_or("?"),
        run.settings.width,
    ));
    if test_min < SMALL_TEST_PER_GENRE {
        page.warning(&format!(
            "small data: the test set has {test_total} clips, {test_min} in the smallest genre. One clip more or \
             less right moves a genre's recall by {:.2}; confidence intervals are wide and few differences \
             can be significant. These figures check that the pipeline works; they are not a benchmark.",
            1.0 / test_min.max(1) as f64
        ));
    }
    page.heading(2, "Data");
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(g, c)| {
            vec![
                g.clone(),
                c[0].to_string(),
                c[1].to_string(),
                c[2].to_string(),
            ]
        })
        .collect();
    page.table(&["Genre", "Train", "Validation", "Test"], &rows);

    page.heading(2, "Training");
    let mut rows = Vec::new();
    let mut curves = Vec::new();
    for s in run.stages.iter().filter(|s| s.stage.starts_with("train-")) {
        let d = &s.stamp.detail;
        rows.push(vec![
            s.stage.trim_start_matches("train-").to_owned(),
            d["parameters"].to_string(),
            d["epochs_run"].to_string(),
            d["best_epoch"].to_string(),
            fmt3(d["best_val_loss"].as_f64()),
            fmt3(d["best_val_acc"].as_f64()),
            fmt3(d["test_acc"].as_f64()),
            format!("{:.1}", d["training_secs"].as_f64().unwrap_or(0.0)),
        ]);
        let dir = PathBuf::from(d["dir"].as_str().unwrap_or_default());
        for plot in ["loss.png", "accuracy.png"] {
            if dir.join(plot).is_file() {
                curves.push((dir.join(plot), format!("{}: {plot}", s.stage)));
            }
        }
    }
    page.table(
        &[
            "Model",
            "Parameters",
            "Epochs",
            "Best epoch",
            "Val loss",
            "Val acc",
            "Test acc",
            "Train s",
        ],
        &rows,
    );
    page.figures(&curves)?;

    page.heading(2, "Evaluation on the test split");
    let sections = run.out.join("eval").join("sections.html");
    page.raw(
        &std::fs::read_to_string(&sections)
            .with_context(|| format!("cannot read {}", sections.display()))?,
    );
    if run.settings.seeds > 1 {
        seeds_section(run, &mut page);
    }

    page.heading(2, "Recommendations");
    let recs_path = run.out.join("recommendations.json");
    let sets: Vec<SeedSet> = serde_json::from_str(
        &std::fs::read_to_string(&recs_path)
            .with_context(|| format!("cannot read {}", recs_path.display()))?,
    )?;
    page.paragraph(
        "Catalog: the test clips embedded with the CRNN. Seeds are drawn from the test set (seeded); each \
         method returns the most similar other clips. 'Genre match' is the share of recommendations whose \
         true genre is among the seeds' genres.",
    );
    for (i, set) in sets.iter().enumerate() {
        page.heading(3, &format!("Seed set {}", i + 1));
        let seeds: Vec<String> = set
            .seeds
            .iter()
            .map(|s| format!("{} ({})", s.name, s.true_genre))
            .collect();
        page.paragraph(&format!("Seeds: {}", seeds.join(", ")));
        let mut header = vec!["Rank".to_owned()];
        for (name, recs) in &set.methods {
            header.push(format!(
                "{name} (genre match {:.2})",
                genre_match(&set.seeds, recs)
            ));
        }
        let depth = set.methods.iter().map(|m| m.1.len()).max().unwrap_or(0);
        let rows: Vec<Vec<String>> = (0..depth)
            .map(|r| {
                let mut row = vec![(r + 1).to_string()];
                for (_, recs) in &set.methods {
                    row.push(recs.get(r).map_or(String::new(), |t| {
                        format!(
                            "{} — {} (predicted {}), {:.3}",
                            t.name,
                            t.true_genre,
                            t.predicted_genre.as_deref().unwrap_or("?"),
                            t.score.unwrap_or(f32::NAN)
                        )
                    }));
                }
                row
            })
            .collect();
        page.table(&header, &rows);
    }

    page.heading(2, "How this was made");
    page.preformatted(&run.command_line);
    page.preformatted(&serde_json::to_string_pretty(&run.settings)?);
    let rows: Vec<Vec<String>> = run
        .stages
        .iter()
        .map(|s| {
            vec![
                s.stage.clone(),
                if s.reused {
                    "reused".into()
                } else {
                    "ran".into()
                },
                format!("{:.1}", s.stamp.seconds),
            ]
        })
        .collect();
    page.table(&["Stage", "This run", "Seconds of work"], &rows);
    page.paragraph(&format!(
        "musicrec {}; this run took {total_secs:.1} s. Files: {}.",
        env!("CARGO_PKG_VERSION"),
        run.out.display()
    ));
    let path = run.out.join("report.html");
    page.write(&path)?;
    Ok(path)
}

/// Headline numbers per seed, and paired tests of CRNN − CNN over seeds.
fn seeds_section(run: &Run, page: &mut HtmlPage) {
    page.heading(3, "Over training seeds");
    let mut per_metric: [(Vec<f64>, Vec<f64>); 3] = Default::default();
    let mut rows = Vec::new();
    for seed_index in 0..run.settings.seeds {
        let stage = if seed_index == 0 {
            "eval".to_owned()
        } else {
            format!("eval-seed{seed_index}")
        };
        let Some(s) = run.stages.iter().find(|s| s.stage == stage) else {
            continue;
        };
        let headline = &s.stamp.detail["headline"][0]["models"];
        let value = |m: usize, key: &str| headline[m][key].as_f64();
        let mut row = vec![format!("seed {}", run.settings.seed + seed_index as u64)];
        for (k, key) in ["accuracy", "macro_f1", "macro_auc"].iter().enumerate() {
            let (a, b) = (value(0, key), value(1, key));
            row.push(fmt3(a));
            row.push(fmt3(b));
            if let (Some(a), Some(b)) = (a, b) {
                per_metric[k].0.push(a);
                per_metric[k].1.push(b);
            }
        }
        rows.push(row);
    }
    page.table(
        &[
            "Seed",
            "CNN acc",
            "CRNN acc",
            "CNN macro F1",
            "CRNN macro F1",
            "CNN macro AUC",
            "CRNN macro AUC",
        ],
        &rows,
    );
    let mut lines = Vec::new();
    for ((cnn, crnn), name) in per_metric.iter().zip(["accuracy", "macro F1", "macro AUC"]) {
        let t = paired_t_test(crnn, cnn, 0.95);
        let w = wilcoxon_signed_rank(crnn, cnn);
        lines.push(match (t, w) {
            (Ok(t), Ok(w)) => format!(
                "{name}: CRNN − CNN = {:+.3} over {} seeds (95% CI {:+.3} to {:+.3}); paired t p = {:.4}, \
                 Wilcoxon p = {:.4}: {} at 0.05",
                t.mean_difference,
                t.n,
                t.ci_low,
                t.ci_high,
                t.p_value,
                w.p_value,
                if t.p_value < 0.05 { "significant" } else { "not significant" }
            ),
            (Err(e), _) | (_, Err(e)) => format!("{name}: no test over seeds ({e})"),
        });
    }
    page.list(&lines);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(name: &str, genre: &str) -> RecTrack {
        RecTrack {
            name: name.into(),
            true_genre: genre.into(),
            predicted_genre: None,
            score: None,
        }
    }

    #[test]
    fn seeded_picks_depend_on_seed_and_set_not_on_the_folder() {
        let here: Vec<(i64, PathBuf)> = (0..20)
            .map(|i| (i, PathBuf::from(format!("/a/audio/{i:04}-x.wav"))))
            .collect();
        let there: Vec<(i64, PathBuf)> = (0..20)
            .map(|i| (i, PathBuf::from(format!("/b/c/audio/{i:04}-x.wav"))))
            .collect();
        let pick = seeded_pick(&here, 3, 0, 5);
        assert_eq!(pick.len(), 5);
        assert_eq!(pick, seeded_pick(&there, 3, 0, 5));
        assert_ne!(pick, seeded_pick(&here, 3, 1, 5));
        assert_ne!(pick, seeded_pick(&here, 4, 0, 5));
    }

    #[test]
    fn genre_match_is_the_share_of_recommendations_in_a_seed_genre() {
        let seeds = [track("a", "rock"), track("b", "jazz")];
        let recs = [
            track("c", "rock"),
            track("d", "pop"),
            track("e", "jazz"),
            track("f", "pop"),
        ];
        assert_eq!(genre_match(&seeds, &recs), 0.5);
        assert_eq!(genre_match(&seeds, &[]), 0.0);
    }

    #[test]
    fn a_rerun_with_other_settings_is_refused_naming_the_difference() {
        let out = tempfile::tempdir().unwrap();
        let settings = Settings {
            data: PathBuf::from("/data"),
            epochs: 3,
            width: 0.25,
            seeds: 1,
            seed: 0,
            preset: "choi".into(),
            frames: None,
            batch: 16,
            lr: 1e-3,
            patience: 10,
            genres: None,
            per_genre: None,
            split_ratio: "8:1:1".into(),
            screen: true,
            noise: Vec::new(),
            bootstrap: 0,
            seed_sets: 3,
        };
        let mut run = Run {
            out: out.path().to_path_buf(),
            settings: settings.clone(),
            jobs: None,
            command_line: String::new(),
            stages: Vec::new(),
            dirty: false,
        };
        check_settings(&run).unwrap();
        check_settings(&run).unwrap();
        run.settings.epochs = 5;
        let err = check_settings(&run).unwrap_err().to_string();
        assert!(err.contains("epochs: 3 before, 5 now"), "{err}");
    }
}
