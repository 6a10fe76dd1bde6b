//! A genre head learnt from the genre tags of a catalog's files (`musicrec train --backbone NAME
//! --labels tags --from-db CATALOG`), on the backbone embeddings the catalog already holds
//! (nothing is decoded again): the catalog's model with this backbone and the most tracks, its
//! tracks' genre tags (rare genres dropped), a fit with a held-out share per genre, and the head
//! directory written.

use std::path::PathBuf;

use anyhow::bail;
use musicrec_embed::built_in::BackboneKind;
use musicrec_train::head::{
    FitOptions, HEAD_FORMAT_NAME, HEAD_FORMAT_VERSION, HeadConfig, HeadProvenance, LabelReport,
    fit_with_holdout, tag_labels, write_head,
};
use musicrec_train::{Analysis, Variant};

/// What one head from tags needs.
#[derive(Debug, Clone)]
pub struct TagsHeadSettings {
    pub backbone: BackboneKind,
    /// The catalog: an SQLite file or a postgres:// URL.
    pub db: String,
    /// Head directory to write.
    pub out: PathBuf,
    /// A genre needs at least this many tracks to be learnt.
    pub min_tracks: usize,
    /// Share of each genre's tracks held out for the precision/recall report.
    pub held_out: f64,
    /// L2 penalty on the head's weights.
    pub l2: f64,
    pub seed: u64,
    /// The invocation, for the head's card.
    pub command_line: Option<String>,
}

/// What was learnt, for the caller to show.
#[derive(Debug, Clone)]
pub struct TagsHeadOutcome {
    /// The written head's config.
    pub config: HeadConfig,
    /// Tracks with a learnt genre tag (the training rows).
    pub tagged: usize,
    /// Tracks the catalog holds with this backbone's embeddings.
    pub tracks: usize,
    /// Tracks without a genre tag.
    pub untagged: usize,
    /// Genres with fewer than `min_tracks` tracks, and their track counts.
    pub rare: Vec<(String, usize)>,
    pub held_out_accuracy: f64,
    /// Per genre: training and held-out tracks, precision and recall.
    pub labels: Vec<LabelReport>,
}

impl TagsHeadOutcome {
    /// The rare genres as `genre N, ...`, or `none`.
    pub fn describe_rare(&self) -> String {
        if self.rare.is_empty() {
            return "none".to_string();
        }
        self.rare
            .iter()
            .map(|(g, n)| format!("{g} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Learns and writes the head `settings` describe.
pub fn train_head_from_tags(settings: &TagsHeadSettings) -> anyhow::Result<TagsHeadOutcome> {
    let db = &settings.db;
    let kind = settings.backbone;
    if !(0.0..1.0).contains(&settings.held_out) || settings.held_out == 0.0 {
        bail!(
            "--held-out must be a share in (0, 1), not {}",
            settings.held_out
        );
    }
    let backbone_id = kind.id()?;
    let store = musicrec_app::store::open_existing(Some(db))?;
    // The model of the catalog with this backbone's embeddings and the most tracks.
    let mut best: Option<(String, usize)> = None;
    for id in store.model_ids()? {
        let Some(info) = store.model(&id)? else {
            continue;
        };
        if info.config.get("backbone_id").and_then(|v| v.as_str()) != Some(backbone_id.as_str()) {
            continue;
        }
        let count = store.load_embeddings(&id)?.tracks.len();
        if best.as_ref().is_none_or(|(_, n)| count > *n) {
            best = Some((id, count));
        }
    }
    let Some((model_id, _)) = best else {
        bail!(
            "catalog {db} holds no track embedded with backbone {} ({backbone_id}): run `musicrec scan DIR --db {db}` first",
            kind.name()
        );
    };
    let set = store.load_embeddings(&model_id)?;
    let dim = set.model.embedding_dim;
    let mut tags = Vec::with_capacity(set.tracks.len());
    for track in &set.tracks {
        tags.push(store.track(track.id)?.and_then(|t| t.tags.genre));
    }
    let labelled = tag_labels(&tags, settings.min_tracks);
    if labelled.labels.len() < 2 {
        bail!(
            "catalog {db}: {} of {} tracks have a genre tag, and {} genre(s) have at least --min-tracks {} tracks; a head needs at least 2",
            set.tracks.len() - labelled.untagged,
            set.tracks.len(),
            labelled.labels.len(),
            settings.min_tracks
        );
    }
    let (mut rows, mut ys) = (Vec::new(), Vec::new());
    for (i, label) in labelled.assigned.iter().enumerate() {
        if let Some(label) = label {
            rows.push(set.embeddings[i * dim..(i + 1) * dim].to_vec());
            ys.push(*label);
        }
    }
    let fit_options = FitOptions {
        l2: settings.l2,
        seed: settings.seed,
        ..FitOptions::default()
    };
    let (fitted, reports, accuracy) = fit_with_holdout(
        &rows,
        &ys,
        &labelled.labels,
        settings.held_out,
        &fit_options,
    )
    .map_err(musicrec_embed::one_line)?;
    let config = HeadConfig {
        format: HEAD_FORMAT_NAME.into(),
        format_version: HEAD_FORMAT_VERSION,
        musicrec_version: musicrec_train::model_dir::MUSICREC_VERSION.into(),
        backbone: kind.name(),
        backbone_id,
        analysis: Analysis::default(),
        embedding_dim: dim,
        genres: labelled.labels.clone(),
        feature_mean: fitted.mean.clone(),
        feature_std: fitted.std.clone(),
        training: HeadProvenance {
            manifest: PathBuf::from(format!("genre tags of catalog {db} (model {model_id})")),
            manifest_blake3: String::new(),
            splits: vec!["tags".into()],
            clips: rows.len(),
            examples: rows.len(),
            variants: vec![Variant::Original],
            fit: fit_options,
            cross_validation: Vec::new(),
            cv_folds: None,
            test: None,
            labels: reports.clone(),
            held_out_accuracy: Some(accuracy),
            command_line: settings.command_line.clone(),
        },
    };
    write_head(&settings.out, &config, &fitted).map_err(musicrec_embed::one_line)?;
    Ok(TagsHeadOutcome {
        config,
        tagged: rows.len(),
        tracks: set.tracks.len(),
        untagged: labelled.untagged,
        rare: labelled.rare,
        held_out_accuracy: accuracy,
        labels: reports,
    })
}
