//! Offline recommendation quality (`musicrec eval-recs`) on a labelled split. Each track of the
//! split in turn is the seed; genre precision@k is the share of its k recommendations among the
//! other tracks of the split that share its genre. Reported for method 1 and method 2 (several
//! genre weights) under each metric, for an MFCC baseline (mean and standard deviation of 20
//! MFCCs per track, z-scored) and for random picks; and, when the manifest has other labelled
//! tracks, for five-seed queries (seeds from those tracks, candidates from the split) with both
//! seed combinations. Before any work it checks that the model never trained on the evaluated
//! tracks. The metrics live in `musicrec_study::offline`; this module computes the vectors,
//! runs the grid and writes the report.

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use musicrec_datasets::{Entry, Manifest, Split};
use musicrec_recommend::{GenreBlend, Method, Metric, RecommendRequest, SeedCombination};
use musicrec_study::offline::{
    LabelledTracks, SeedQuery, request_precision_at_k, seeded_precision_at_k,
};
use musicrec_train::{DeviceKind, ModelDir, ModelDirConfig};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// MFCCs per track in the baseline (the classic content baseline).
const N_MFCC: usize = 20;
/// Method 2 genre weights the grid reports.
const GENRE_WEIGHTS: [f32; 6] = [0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
/// Five-seed queries drawn per genre.
const QUERIES_PER_GENRE: usize = 20;

use crate::files::write_atomically;

/// What one evaluation of the recommenders needs.
#[derive(Debug, Clone)]
pub struct RecsSettings {
    /// Manifest with labels (and splits).
    pub data: PathBuf,
    /// CNN/CRNN model directory measured (the "learned" rows); `None`: the built-in CNN.
    pub model: Option<PathBuf>,
    /// Pretrained backbone measured beside the model (`musicnn`), if any.
    pub backbone: Option<String>,
    /// Recommendations per seed.
    pub k: usize,
    /// `test`, `validation`, `train` or `all`.
    pub split: String,
    /// Seed of the random baseline's draw and of the five-seed queries.
    pub seed: u64,
    /// Measure even when the model trained on some evaluated tracks (rows marked SEEN).
    pub allow_seen: bool,
}

/// What an evaluation of the recommenders found: the report and its markdown text.
#[derive(Debug)]
pub struct RecsOutcome {
    report: Report,
    /// The report as markdown (what `eval-recs` prints and writes to eval-recs.md).
    pub markdown: String,
}

impl RecsOutcome {
    /// Tracks that could not be decoded or embedded, with the reason.
    pub fn failed(&self) -> &[(PathBuf, String)] {
        &self.report.failed
    }

    /// Writes `DIR/eval-recs.json` and `DIR/eval-recs.md`; returns their paths.
    pub fn write(&self, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        let json = dir.join("eval-recs.json");
        write_atomically(
            &json,
            serde_json::to_string_pretty(&self.report)?.as_bytes(),
        )?;
        let md = dir.join("eval-recs.md");
        write_atomically(&md, self.markdown.as_bytes())?;
        Ok((json, md))
    }
}

/// One row of the report.
#[derive(Serialize, Debug, Clone)]
struct Row {
    /// learned (the model), the backbone's name (musicnn-msd), mfcc, or random.
    embedding: String,
    /// "method 1", "method 2 (w=0.2)", "expected", "seeded draw".
    method: String,
    metric: String,
    k: usize,
    precision: f64,
    random_baseline: f64,
    queries: usize,
    artist_filtered: bool,
}

/// Five-seed query results.
#[derive(Serialize, Debug, Clone)]
struct SeededRow {
    /// "5 of one genre", or "4 + 1 of another".
    queries_kind: String,
    method: String,
    combination: String,
    k: usize,
    precision: f64,
    random_baseline: f64,
    queries: usize,
}

#[derive(Serialize, Debug)]
struct Report {
    manifest: PathBuf,
    model: String,
    model_id: String,
    split: String,
    tracks: usize,
    failed: Vec<(PathBuf, String)>,
    genres: Vec<String>,
    artists: String,
    /// What the training-overlap check found.
    seen_check: String,
    /// True when the model trained on evaluated tracks (only with --allow-seen).
    seen: bool,
    rows: Vec<Row>,
    five_seed_rows: Vec<SeededRow>,
    five_seed_note: String,
}

/// One evaluated track's vectors.
struct Vectors {
    embedding: Vec<f32>,
    probabilities: Vec<f32>,
    mfcc: Vec<f32>,
}

/// Measures genre precision@k of every embedding and method `settings` asks for.
pub fn evaluate_recs(settings: &RecsSettings) -> anyhow::Result<RecsOutcome> {
    if settings.k == 0 {
        bail!("-k must be at least 1");
    }
    let data = settings.data.clone();
    let manifest = Manifest::read(&data)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read manifest {}", data.display()))?;
    let wanted: Option<Split> = match settings.split.as_str() {
        "all" => None,
        s => Some(s.parse().map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    let evaluated: Vec<&Entry> = manifest
        .entries
        .iter()
        .filter(|e| wanted.is_none_or(|w| e.split == Some(w)))
        .collect();
    if evaluated.len() < 2 {
        bail!(
            "{} has {} tracks in split {}: at least 2 are needed (pick --split, or a manifest with splits)",
            data.display(),
            evaluated.len(),
            settings.split
        );
    }

    // The model and what it saw, checked before any audio is decoded.
    let (model, model_name, model_id) = match &settings.model {
        Some(dir) => {
            let model = ModelDir::load(dir)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("cannot load model {}", dir.display()))?;
            let id = musicrec_embed::model_id_of(dir, &model.config().arch)?;
            (model, dir.display().to_string(), id)
        }
        None => (
            musicrec_embed::built_in::load(DeviceKind::Cpu)?,
            musicrec_embed::built_in::NAME.to_string(),
            musicrec_embed::built_in::model_id()?,
        ),
    };
    let seen = seen_check(
        &data,
        wanted,
        &evaluated,
        model.config(),
        settings.model.as_deref(),
    )?;
    let contaminated = match &seen {
        SeenCheck::Overlap { count, examples } => {
            let what = format!(
                "model {model_name} was trained on {count} of the {} evaluated tracks (e.g. {}): its \
                 embedding has seen them, so their precision would be inflated",
                evaluated.len(),
                examples.join(", ")
            );
            if !settings.allow_seen {
                bail!(
                    "{what}; evaluate tracks it never saw (the test split of its own manifest), or pass --allow-seen to measure anyway"
                );
            }
            eprintln!("WARNING: {what}. Every learned-embedding row is marked SEEN.");
            true
        }
        SeenCheck::Unverified(reason) => {
            eprintln!(
                "WARNING: cannot verify that model {model_name} never trained on these tracks: {reason}"
            );
            false
        }
        SeenCheck::Clean(_) => false,
    };

    // Labels: the manifest's genres in sorted order.
    let genre_names = manifest.labels();
    let label_of = |e: &Entry| {
        genre_names
            .binary_search(&e.label)
            .expect("labels come from the manifest")
    };

    let progress = progress_bar(evaluated.len());
    let model = Mutex::new(model);
    let computed = compute_vectors(&model, &evaluated, &progress);
    progress.finish_and_clear();
    let mut failed = Vec::new();
    let mut kept: Vec<(&Entry, Vectors)> = Vec::new();
    for (entry, result) in evaluated.iter().zip(computed) {
        match result {
            Ok(v) => kept.push((entry, v)),
            Err(reason) => {
                eprintln!("failed: {}: {reason}", entry.path.display());
                failed.push((entry.path.clone(), reason));
            }
        }
    }
    if kept.len() < 2 {
        bail!("fewer than 2 tracks could be decoded and embedded");
    }
    let model = model.into_inner().expect("no panic while embedding");

    let labels: Vec<usize> = kept.iter().map(|(e, _)| label_of(e)).collect();
    let artists: Vec<String> = kept
        .iter()
        .map(|(e, _)| e.artist.clone().unwrap_or_default())
        .collect();
    let has_artists = artists.iter().any(|a| !a.trim().is_empty());
    let dim = model.config().model.embedding_dim();
    let embeddings: Vec<f32> = kept
        .iter()
        .flat_map(|(_, v)| v.embedding.iter().copied())
        .collect();
    let probabilities: Vec<f32> = kept
        .iter()
        .flat_map(|(_, v)| v.probabilities.iter().copied())
        .collect();
    let mfcc = zscore(
        &kept
            .iter()
            .flat_map(|(_, v)| v.mfcc.iter().copied())
            .collect::<Vec<_>>(),
        2 * N_MFCC,
    );
    let model_genres = model.genres().to_vec();
    let backbone = match &settings.backbone {
        None => None,
        Some(name) => Some(backbone_embeddings(name, &kept)?),
    };
    // Method 2 on the backbone: the built-in genre head's probabilities, when it fits the
    // backbone and never trained on the evaluated tracks.
    let backbone_genres = match (&settings.backbone, &backbone) {
        (Some(name), Some((_, dim, embeddings))) => {
            let evaluated_kept: Vec<&Entry> = kept.iter().map(|(e, _)| *e).collect();
            built_in_head_probabilities(name, &evaluated_kept, *dim, embeddings)?
        }
        _ => None,
    };

    let mut rows = Vec::new();
    let filters: Vec<Option<&[String]>> = if has_artists {
        vec![None, Some(artists.as_slice())]
    } else {
        vec![None]
    };
    for artist_filter in filters {
        let learned = LabelledTracks {
            dim,
            embeddings: &embeddings,
            labels: &labels,
            genre_probs: Some((&model_genres, &probabilities)),
            artists: artist_filter,
        };
        let mfcc_tracks = LabelledTracks {
            dim: 2 * N_MFCC,
            embeddings: &mfcc,
            labels: &labels,
            genre_probs: None,
            artists: artist_filter,
        };
        for metric in [Metric::Cosine, Metric::Euclidean, Metric::PNorm(1.0)] {
            let mut request = RecommendRequest::new(Vec::new(), settings.k);
            request.metric = metric;
            let r = request_precision_at_k(&learned, settings.k, &request)?;
            rows.push(row("learned", "method 1".into(), &r));
            for w in GENRE_WEIGHTS {
                request.method = Method::SimilarityAndGenre(GenreBlend {
                    genre_weight: w,
                    ..GenreBlend::default()
                });
                let default = if w == GenreBlend::default().genre_weight {
                    ", default"
                } else {
                    ""
                };
                let r = request_precision_at_k(&learned, settings.k, &request)?;
                rows.push(row("learned", format!("method 2 (w={w}{default})"), &r));
            }
            request.method = Method::Similarity;
            if let Some((name, dim, embeddings)) = &backbone {
                let tracks = LabelledTracks {
                    dim: *dim,
                    embeddings,
                    labels: &labels,
                    genre_probs: None,
                    artists: artist_filter,
                };
                let r = request_precision_at_k(&tracks, settings.k, &request)?;
                rows.push(row(name, "method 1".into(), &r));
                if let Some((genres, probabilities)) = &backbone_genres {
                    let tracks = LabelledTracks {
                        genre_probs: Some((genres, probabilities)),
                        ..tracks
                    };
                    let mut with_genres = request.clone();
                    with_genres.method = Method::SimilarityAndGenre(GenreBlend::default());
                    let r = request_precision_at_k(&tracks, settings.k, &with_genres)?;
                    rows.push(row(
                        &format!("{name} + head"),
                        format!(
                            "method 2 (w={}, default)",
                            GenreBlend::default().genre_weight
                        ),
                        &r,
                    ));
                }
            }
            let r = request_precision_at_k(&mfcc_tracks, settings.k, &request)?;
            rows.push(row("mfcc", "method 1".into(), &r));
        }
        let expected = request_precision_at_k(
            &learned,
            settings.k,
            &RecommendRequest::new(Vec::new(), settings.k),
        )?;
        rows.push(Row {
            embedding: "random".into(),
            method: "expected".into(),
            metric: "-".into(),
            precision: expected.random_baseline,
            ..row("random", String::new(), &expected)
        });
        let (precision, queries) = random_draw(&labels, artist_filter, settings.k, settings.seed);
        rows.push(Row {
            embedding: "random".into(),
            method: format!("seeded draw (seed {})", settings.seed),
            metric: "-".into(),
            precision,
            queries,
            ..row("random", String::new(), &expected)
        });
    }
    if contaminated {
        for r in rows.iter_mut().filter(|r| r.embedding == "learned") {
            r.embedding = "learned SEEN".into();
        }
    }

    // Five-seed queries: seeds from the manifest's other labelled tracks, candidates from the split.
    let (five_seed_rows, five_seed_note) = five_seed_rows(
        &manifest,
        &evaluated,
        &model,
        &genre_names,
        &learned_set(dim, &embeddings, &labels, &model_genres, &probabilities),
        settings.k,
        settings.seed,
    );

    let report = Report {
        manifest: data.clone(),
        model: model_name,
        model_id,
        split: settings.split.clone(),
        tracks: kept.len(),
        failed,
        genres: genre_names,
        artists: if has_artists {
            "artists known: rows with artist_filtered=true exclude the seed's artist".into()
        } else {
            "no artist data: no artist-filtered rows".into()
        },
        seen_check: seen.describe(),
        seen: contaminated,
        rows,
        five_seed_rows,
        five_seed_note,
    };
    let markdown = markdown(&report);
    Ok(RecsOutcome { report, markdown })
}

fn learned_set<'a>(
    dim: usize,
    embeddings: &'a [f32],
    labels: &'a [usize],
    genres: &'a [String],
    probabilities: &'a [f32],
) -> LabelledTracks<'a> {
    LabelledTracks {
        dim,
        embeddings,
        labels,
        genre_probs: Some((genres, probabilities)),
        artists: None,
    }
}

fn row(embedding: &str, method: String, r: &musicrec_study::offline::PrecisionAtK) -> Row {
    Row {
        embedding: embedding.into(),
        method,
        metric: r.metric.to_string(),
        k: r.k,
        precision: r.precision,
        random_baseline: r.random_baseline,
        queries: r.queries,
        artist_filtered: r.artist_filtered,
    }
}

/// Decode, log-mel and MFCC run in parallel; the network (not `Sync`) one file at a time.
fn compute_vectors(
    model: &Mutex<ModelDir>,
    entries: &[&Entry],
    progress: &ProgressBar,
) -> Vec<Result<Vectors, String>> {
    let (extractor, sample_rate) = {
        let m = model.lock().expect("fresh lock");
        (m.extractor().clone(), m.config().mel.sample_rate)
    };
    entries
        .par_iter()
        .map(|entry| {
            let result = (|| -> Result<Vectors, String> {
                let audio = musicrec_audio::load(&entry.path, Some(sample_rate))
                    .map_err(|e| e.to_string())?;
                if audio.samples.is_empty() {
                    return Err("no audio samples".to_string());
                }
                let log_mel = extractor.log_mel(&audio.samples);
                let mfcc = musicrec_features::mfcc::mfcc_summary(&log_mel, N_MFCC)
                    .map_err(|e| e.to_string())?;
                let outputs = model
                    .lock()
                    .map_err(|_| "the model failed on an earlier file".to_string())?
                    .embed_and_predict_log_mel(&log_mel)
                    .map_err(|e| e.to_string())?;
                Ok(Vectors {
                    embedding: outputs.embedding,
                    probabilities: outputs.probabilities,
                    mfcc,
                })
            })();
            progress.inc(1);
            result
        })
        .collect()
}

/// The backbone's track embeddings of `kept` (flattened), through the feature cache `train
/// --backbone` uses, with one backbone per thread. Method 2 is not measured for it: the built-in
/// genre head trained on every GTZAN-mini clip.
fn backbone_embeddings(
    name: &str,
    kept: &[(&Entry, Vectors)],
) -> anyhow::Result<(String, usize, Vec<f32>)> {
    use musicrec_train::{Analysis, FeatureCache, Variant};
    let kind = musicrec_embed::built_in::BackboneKind::parse(name)?;
    let cache = FeatureCache::new(crate::files::backbone_feature_cache()?);
    let first = kind.load()?;
    let (backbone_name, dim) = (first.name().to_string(), first.embedding_dim());
    let pool = musicrec_embed::Pool::new(first, move || kind.load());
    let progress = progress_bar(kept.len());
    progress.set_message(backbone_name.clone());
    let embedded: Vec<anyhow::Result<Vec<f32>>> = kept
        .par_iter()
        .map(|(entry, _)| {
            let result = pool
                .with(|backbone| {
                    cache.features(
                        &entry.path,
                        &[Variant::Original],
                        backbone.as_ref(),
                        Analysis::default(),
                    )
                })
                .map_err(|e| anyhow::anyhow!(e))?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            progress.inc(1);
            Ok(result
                .into_iter()
                .next()
                .map(|(features, _)| features.embedding)
                .unwrap_or_default())
        })
        .collect();
    progress.finish_and_clear();
    let mut flat = Vec::with_capacity(kept.len() * dim);
    for e in embedded {
        flat.extend(e?);
    }
    Ok((backbone_name, dim, flat))
}

/// The built-in genre head's probabilities (genres, flattened rows) of the backbone's
/// `embeddings` of the evaluated tracks: `None`, with a note, when the head does not fit this
/// backbone or trained on some of the evaluated tracks (its training clips are known from the
/// compiled-in manifest it records).
fn built_in_head_probabilities(
    backbone: &str,
    evaluated: &[&Entry],
    dim: usize,
    embeddings: &[f32],
) -> anyhow::Result<Option<(Vec<String>, Vec<f32>)>> {
    use musicrec_embed::built_in::{
        BackboneKind, GENRE_HEAD_CONFIG, GENRE_HEAD_NAME, GENRE_HEAD_WEIGHTS, TRAINING_MANIFEST,
    };
    let head = musicrec_train::Head::from_bytes(
        Path::new(GENRE_HEAD_NAME),
        GENRE_HEAD_CONFIG,
        GENRE_HEAD_WEIGHTS,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = head.config();
    if BackboneKind::parse(backbone)?.id()? != config.backbone_id {
        return Ok(None);
    }
    let training = &config.training;
    if blake3::hash(TRAINING_MANIFEST).to_hex().as_str() != training.manifest_blake3 {
        eprintln!(
            "note: no method 2 row for {backbone}: {GENRE_HEAD_NAME} records another training manifest"
        );
        return Ok(None);
    }
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let copy = temp.path().join("data.csv");
    std::fs::write(&copy, TRAINING_MANIFEST).context("cannot write the built-in manifest")?;
    let manifest = Manifest::read(&copy).map_err(|e| anyhow::anyhow!("{e}"))?;
    let trained: HashSet<(String, String)> = manifest
        .entries
        .iter()
        .filter(|e| {
            e.split
                .is_some_and(|s| training.splits.iter().any(|t| t == s.as_str()))
        })
        .map(track_key)
        .collect();
    let seen = evaluated
        .iter()
        .filter(|e| trained.contains(&track_key(e)))
        .count();
    if seen > 0 {
        eprintln!(
            "note: no method 2 row for {backbone}: {GENRE_HEAD_NAME} trained on {seen} of the evaluated tracks"
        );
        return Ok(None);
    }
    let mut probabilities = Vec::with_capacity(evaluated.len() * config.genres.len());
    for row in embeddings.chunks(dim) {
        probabilities.extend(
            head.probabilities(row)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    Ok(Some((config.genres.clone(), probabilities)))
}

/// Each dimension scaled to mean 0 and standard deviation 1 over the tracks (a constant
/// dimension becomes 0): MFCC means and deviations have very different ranges, and the
/// classic baseline standardises them so that c0 (loudness) does not dominate every distance.
fn zscore(rows: &[f32], dim: usize) -> Vec<f32> {
    let n = rows.len() / dim;
    let mut out = rows.to_vec();
    for d in 0..dim {
        let column = || (0..n).map(|i| f64::from(rows[i * dim + d]));
        let mean = column().sum::<f64>() / n as f64;
        let var = column().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let sd = var.sqrt();
        for i in 0..n {
            out[i * dim + d] = if sd > 0.0 {
                ((f64::from(rows[i * dim + d]) - mean) / sd) as f32
            } else {
                0.0
            };
        }
    }
    out
}

/// Precision of k candidates drawn uniformly at random (seeded) for every seed.
fn random_draw(labels: &[usize], artists: Option<&[String]>, k: usize, seed: u64) -> (f64, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = labels.len();
    let artist = |i: usize| artists.map(|a| a[i].trim()).filter(|a| !a.is_empty());
    let mut total = 0.0;
    let mut queries = 0;
    for i in 0..n {
        let candidates: Vec<usize> = (0..n)
            .filter(|&j| j != i && (artist(i).is_none() || artist(j) != artist(i)))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let picked: Vec<usize> = candidates
            .choose_multiple(&mut rng, k.min(candidates.len()))
            .copied()
            .collect();
        let relevant = picked.iter().filter(|&&j| labels[j] == labels[i]).count();
        total += relevant as f64 / picked.len() as f64;
        queries += 1;
    }
    (total / queries.max(1) as f64, queries)
}

/// Five-seed queries: for every genre with at least five labelled tracks outside the evaluated
/// split, [`QUERIES_PER_GENRE`] random draws of five of them ("5 of one genre") and of four of
/// them plus one from another genre ("4 + 1 of another": relevant is still the majority genre),
/// each recommending k tracks among the evaluated ones.
fn five_seed_rows(
    manifest: &Manifest,
    evaluated: &[&Entry],
    model: &ModelDir,
    genre_names: &[String],
    candidates: &LabelledTracks<'_>,
    k: usize,
    seed: u64,
) -> (Vec<SeededRow>, String) {
    let in_eval: HashSet<&Path> = evaluated.iter().map(|e| e.path.as_path()).collect();
    let pool: Vec<&Entry> = manifest
        .entries
        .iter()
        .filter(|e| !in_eval.contains(e.path.as_path()))
        .collect();
    let mut by_genre: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, e) in pool.iter().enumerate() {
        if let Ok(g) = genre_names.binary_search(&e.label) {
            by_genre.entry(g).or_default().push(i);
        }
    }
    by_genre.retain(|_, rows| rows.len() >= 5);
    if by_genre.len() < 2 {
        return (
            Vec::new(),
            "five-seed queries need 5+ labelled tracks of at least two genres outside the evaluated split: none run".into(),
        );
    }
    // Embed only the pool tracks the queries use.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let genres: Vec<usize> = by_genre.keys().copied().collect();
    let mut pure = Vec::new();
    let mut mixed = Vec::new();
    for (&g, rows) in &by_genre {
        for _ in 0..QUERIES_PER_GENRE {
            let five: Vec<usize> = rows.choose_multiple(&mut rng, 5).copied().collect();
            pure.push(SeedQuery {
                seeds: five.clone(),
                genre: g,
            });
            let other_genres: Vec<usize> = genres.iter().copied().filter(|&o| o != g).collect();
            let other = *other_genres.choose(&mut rng).expect("two genres or more");
            let intruder = *by_genre[&other].choose(&mut rng).expect("five or more");
            let mut seeds = five[..4].to_vec();
            seeds.insert(rng.random_range(0..5), intruder);
            mixed.push(SeedQuery { seeds, genre: g });
        }
    }
    let used: Vec<usize> = {
        let mut u: Vec<usize> = pure
            .iter()
            .chain(&mixed)
            .flat_map(|q| q.seeds.iter().copied())
            .collect();
        u.sort_unstable();
        u.dedup();
        u
    };
    let mut vectors: BTreeMap<usize, (Vec<f32>, Vec<f32>)> = BTreeMap::new();
    for &i in &used {
        match model
            .log_mel_of_file(&pool[i].path)
            .and_then(|m| model.embed_and_predict_log_mel(&m))
        {
            Ok(o) => {
                vectors.insert(i, (o.embedding, o.probabilities));
            }
            Err(e) => {
                return (
                    Vec::new(),
                    format!("five-seed queries skipped: {}: {e}", pool[i].path.display()),
                );
            }
        }
    }
    // Seed rows renumbered densely.
    let position: BTreeMap<usize, usize> = used.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let seed_embeddings: Vec<f32> = used.iter().flat_map(|i| vectors[i].0.clone()).collect();
    let seed_probs: Vec<f32> = used.iter().flat_map(|i| vectors[i].1.clone()).collect();
    let seed_labels: Vec<usize> = used
        .iter()
        .map(|&i| genre_names.binary_search(&pool[i].label).unwrap_or(0))
        .collect();
    let (names, _) = candidates.genre_probs.expect("learned set has genres");
    let seed_set = LabelledTracks {
        dim: candidates.dim,
        embeddings: &seed_embeddings,
        labels: &seed_labels,
        genre_probs: Some((names, &seed_probs)),
        artists: None,
    };
    let renumber = |qs: &[SeedQuery]| -> Vec<SeedQuery> {
        qs.iter()
            .map(|q| SeedQuery {
                seeds: q.seeds.iter().map(|s| position[s]).collect(),
                genre: q.genre,
            })
            .collect()
    };
    let mut rows = Vec::new();
    for (kind, queries) in [
        ("5 of one genre", renumber(&pure)),
        ("4 + 1 of another", renumber(&mixed)),
    ] {
        for (method_name, method) in [
            ("method 1", Method::Similarity),
            (
                "method 2 (default w)",
                Method::SimilarityAndGenre(GenreBlend::default()),
            ),
        ] {
            for (comb_name, combination) in [
                ("mean of similarities", SeedCombination::MeanSimilarity),
                ("similarity to centroid", SeedCombination::Centroid),
            ] {
                let mut request = RecommendRequest::new(Vec::new(), k);
                request.method = method;
                request.combination = combination;
                match seeded_precision_at_k(&seed_set, candidates, &queries, k, &request) {
                    Ok(r) => rows.push(SeededRow {
                        queries_kind: kind.into(),
                        method: method_name.into(),
                        combination: comb_name.into(),
                        k,
                        precision: r.precision,
                        random_baseline: r.random_baseline,
                        queries: r.queries,
                    }),
                    Err(e) => return (rows, format!("five-seed queries stopped: {e}")),
                }
            }
        }
    }
    (
        rows,
        format!(
            "seeds drawn (seed {seed}) from the manifest's {} labelled tracks outside the evaluated split \
             (for a model's own manifest: tracks it trained on), {QUERIES_PER_GENRE} queries per genre; \
             candidates are the evaluated tracks only",
            pool.len()
        ),
    )
}

/// Whether the model saw evaluated tracks during training.
enum SeenCheck {
    Clean(String),
    Overlap { count: usize, examples: Vec<String> },
    Unverified(String),
}

impl SeenCheck {
    fn describe(&self) -> String {
        match self {
            SeenCheck::Clean(why) => why.clone(),
            SeenCheck::Overlap { count, .. } => {
                format!("the model trained on {count} of the evaluated tracks (SEEN)")
            }
            SeenCheck::Unverified(why) => format!("unverified: {why}"),
        }
    }
}

/// A track's identity across manifests and machines: its genre and file name (GTZAN's
/// `blues.00042.wav`, an FMA id). Conservative: two different files with the same name and genre
/// count as the same track.
fn track_key(entry: &Entry) -> (String, String) {
    (
        entry.label.clone(),
        entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    )
}

fn seen_check(
    data: &Path,
    split: Option<Split>,
    evaluated: &[&Entry],
    config: &ModelDirConfig,
    model_dir: Option<&Path>,
) -> anyhow::Result<SeenCheck> {
    let recorded = &config.training.manifest_blake3;
    let hash_of = |bytes: &[u8]| blake3::hash(bytes).to_hex().to_string();
    let data_bytes =
        std::fs::read(data).with_context(|| format!("cannot read {}", data.display()))?;
    if !recorded.is_empty() && hash_of(&data_bytes) == *recorded && split == Some(Split::Test) {
        return Ok(SeenCheck::Clean(
            "the model was trained on this manifest's train and validation splits; its test split is unseen"
                .into(),
        ));
    }
    // Find the training manifest: built in, as recorded, or beside the model directory.
    let mut training: Option<Manifest> = None;
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let mut candidates: Vec<PathBuf> = Vec::new();
    if model_dir.is_none() {
        let copy = temp.path().join("data.csv");
        std::fs::write(&copy, musicrec_embed::built_in::TRAINING_MANIFEST)
            .context("cannot write the built-in training manifest")?;
        candidates.push(copy);
    }
    candidates.push(config.training.manifest.clone());
    if let (Some(dir), Some(name)) = (model_dir, config.training.manifest.file_name()) {
        candidates.push(dir.join(name));
    }
    for path in &candidates {
        if let Ok(bytes) = std::fs::read(path)
            && hash_of(&bytes) == *recorded
            && let Ok(m) = Manifest::read(path)
        {
            training = Some(m);
            break;
        }
    }
    let Some(training) = training else {
        return Ok(SeenCheck::Unverified(format!(
            "its training manifest {} (blake3 {}) is not here or has changed",
            config.training.manifest.display(),
            recorded.get(..12).unwrap_or(recorded)
        )));
    };
    let seen: HashSet<(String, String)> = training
        .entries
        .iter()
        .filter(|e| matches!(e.split, Some(Split::Train) | Some(Split::Validation)))
        .map(track_key)
        .collect();
    let overlap: Vec<&&Entry> = evaluated
        .iter()
        .filter(|e| seen.contains(&track_key(e)))
        .collect();
    if overlap.is_empty() {
        Ok(SeenCheck::Clean(format!(
            "none of the evaluated tracks is among the {} tracks the model trained on",
            seen.len()
        )))
    } else {
        Ok(SeenCheck::Overlap {
            count: overlap.len(),
            examples: overlap
                .iter()
                .take(3)
                .map(|e| e.path.display().to_string())
                .collect(),
        })
    }
}

fn markdown(report: &Report) -> String {
    let mut out = format!(
        "# Recommendation quality: genre precision@k\n\nmanifest {}, split {}, {} tracks ({} failed), {} genres; model {} ({})\n\
         seen check: {}\n{}\n\n",
        report.manifest.display(),
        report.split,
        report.tracks,
        report.failed.len(),
        report.genres.len(),
        report.model,
        report.model_id,
        report.seen_check,
        report.artists,
    );
    out.push_str(
        "| embedding | method | metric | k | precision@k | random (exact) | queries | artist-filtered |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for r in &report.rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} | {:.3} | {} | {} |\n",
            r.embedding,
            r.method,
            r.metric,
            r.k,
            r.precision,
            r.random_baseline,
            r.queries,
            if r.artist_filtered { "yes" } else { "no" }
        ));
    }
    out.push_str(&format!(
        "\n## Five-seed queries (cosine)\n\n{}\n\n",
        report.five_seed_note
    ));
    if !report.five_seed_rows.is_empty() {
        out.push_str(
            "| seeds | method | combination | k | precision@k | random (exact) | queries |\n\
             |---|---|---|---|---|---|---|\n",
        );
        for r in &report.five_seed_rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {:.3} | {:.3} | {} |\n",
                r.queries_kind,
                r.method,
                r.combination,
                r.k,
                r.precision,
                r.random_baseline,
                r.queries
            ));
        }
    }
    out
}

fn progress_bar(len: usize) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    bar.set_style(
        ProgressStyle::with_template(
            "embedding {bar:40} {pos}/{len} tracks  {elapsed} (eta {eta})",
        )
        .expect("static template is valid"),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zscore_centres_and_scales_each_dimension_and_zeroes_constant_ones() {
        // Three tracks, two dimensions: the second is constant.
        let rows = [1.0, 5.0, 2.0, 5.0, 3.0, 5.0];
        let z = zscore(&rows, 2);
        let first: Vec<f32> = z.chunks(2).map(|r| r[0]).collect();
        assert!(first.iter().sum::<f32>().abs() < 1e-6);
        assert!((first[2] - 1.224_745).abs() < 1e-5, "{first:?}");
        assert!(z.chunks(2).all(|r| r[1] == 0.0));
    }

    #[test]
    fn the_random_draw_is_seeded_and_skips_the_seeds_artist() {
        let labels = [0, 0, 1, 1, 0, 1];
        let a = random_draw(&labels, None, 2, 7);
        assert_eq!(a, random_draw(&labels, None, 2, 7));
        assert_eq!(a.1, labels.len());
        // Each track's only other-artist candidates are of the other genre: precision 0.
        let artists: Vec<String> = ["x", "x", "y", "y", "x", "y"].map(String::from).to_vec();
        let (precision, queries) = random_draw(&labels, Some(&artists), 2, 7);
        assert_eq!(queries, labels.len());
        assert_eq!(precision, 0.0);
    }

    #[test]
    fn k_zero_is_refused_before_the_manifest_is_read() {
        let settings = RecsSettings {
            data: PathBuf::from("/nowhere/data.csv"),
            model: None,
            backbone: None,
            k: 0,
            split: "test".into(),
            seed: 0,
            allow_seen: false,
        };
        let err = evaluate_recs(&settings).unwrap_err().to_string();
        assert_eq!(err, "-k must be at least 1");
    }
}
