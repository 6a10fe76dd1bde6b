//! From candidates to a data set: choose genres, screen the audio, cap each genre for balance, split.
//!
//! Order and determinism: each genre's candidates are put in path order, and when a cap is set shuffled
//! with a stream derived from the seed and the genre. Screening then walks that order in parallel
//! chunks and keeps the first `cap` clips that pass, so the chosen clips depend only on the seed, the
//! candidates and the thresholds, never on thread timing, and only about `cap` files per genre are
//! decoded even when a genre has tens of thousands of candidates.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::entry::{DropReason, DroppedTrack, Entry};
use crate::error::{DatasetError, Result};
use crate::manifest::Manifest;
use crate::screen::{ScreenConfig, check_audio};
use crate::seeded;
use crate::split::{SplitRatio, assign_artist_filtered, assign_stratified};

/// What a loader produced: candidate entries, tracks it already rejected, and the labels the source
/// defines (for `--genres` validation: all FMA top-level genres, or the labels present).
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub entries: Vec<Entry>,
    pub dropped: Vec<DroppedTrack>,
    pub known_labels: Vec<String>,
}

impl Loaded {
    /// Distinct labels of the candidate entries, sorted.
    pub fn labels_present(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.entries.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        labels
    }

    /// A (hand-written) manifest as a source: malformed rows are dropped, not fatal.
    pub fn from_manifest(path: &Path) -> Result<Self> {
        let (entries, dropped) = crate::manifest::load_lenient(path)?;
        if entries.is_empty() {
            return Err(DatasetError::Empty(format!(
                "{}: no usable row ({} malformed)",
                path.display(),
                dropped.len()
            )));
        }
        let mut loaded = Self {
            entries,
            dropped,
            known_labels: Vec::new(),
        };
        loaded.known_labels = loaded.labels_present();
        Ok(loaded)
    }
}

/// How splits are assigned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SplitMode {
    /// Stratified per genre at `ratio`; with `artist_filter`, no artist in two splits.
    Stratified {
        ratio: SplitRatio,
        artist_filter: bool,
    },
    /// Keep the source's own split (the FMA's training/validation/test, or a manifest's `split`
    /// column); tracks without one are dropped (`no_split`).
    Keep,
    /// Leave every split empty.
    None,
}

/// Everything [`build`] decides.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// Genres to keep (matched case-insensitively, ignoring punctuation: `hip-hop` = `Hip-Hop`);
    /// `None` keeps all.
    pub genres: Option<Vec<String>>,
    /// At most this many clips per genre, drawn with the seed.
    pub per_genre: Option<usize>,
    /// Decoding-based screening; `None` skips it (`--no-screen`).
    pub screen: Option<ScreenConfig>,
    pub split: SplitMode,
    pub seed: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            genres: None,
            per_genre: None,
            screen: Some(ScreenConfig::default()),
            split: SplitMode::Stratified {
                ratio: SplitRatio::default(),
                artist_filter: false,
            },
            seed: 0,
        }
    }
}

/// The data set and everything left out of it.
#[derive(Clone, Debug, Default)]
pub struct Built {
    /// Entries sorted by label, then path.
    pub manifest: Manifest,
    pub dropped: Vec<DroppedTrack>,
}

/// Applies `opts` to `loaded` (see the module doc). `progress` counts screened files (its length grows
/// as chunks are scheduled); pass `ProgressBar::hidden()` for none. Runs in the current rayon pool.
pub fn build(loaded: Loaded, opts: &BuildOptions, progress: &ProgressBar) -> Result<Built> {
    if opts.per_genre == Some(0) {
        return Err(DatasetError::InvalidOption(
            "--per-genre must be at least 1".into(),
        ));
    }
    let Loaded {
        entries,
        mut dropped,
        known_labels,
    } = loaded;

    // Same file twice: keep the first.
    let mut seen = HashSet::new();
    let mut unique = Vec::with_capacity(entries.len());
    for e in entries {
        if seen.insert(e.path.clone()) {
            unique.push(e);
        } else {
            dropped.push(DroppedTrack::with_detail(
                &e,
                DropReason::Duplicate,
                "the same file is listed earlier",
            ));
        }
    }

    let mut by_label: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for e in unique {
        by_label.entry(e.label.clone()).or_default().push(e);
    }

    if let Some(requested) = &opts.genres {
        let selected = resolve_genres(requested, &known_labels, by_label.keys())?;
        by_label.retain(|label, entries| {
            let keep = selected.contains(label);
            if !keep {
                dropped.extend(entries.iter().map(|e| {
                    DroppedTrack::with_detail(
                        e,
                        DropReason::GenreNotSelected,
                        format!("genre '{label}' is not among the genres asked for"),
                    )
                }));
            }
            keep
        });
        for genre in &selected {
            if !by_label.contains_key(genre) {
                tracing::warn!("genre '{genre}' has no candidate track");
            }
        }
    }

    let mut kept_all = Vec::new();
    for (label, mut entries) in by_label {
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        if opts.per_genre.is_some() {
            seeded::shuffle(&mut entries, opts.seed, "cap", &label);
        }
        let cap = opts.per_genre.unwrap_or(usize::MAX);
        let (kept, rest) = match &opts.screen {
            Some(cfg) => screen_until(entries, cap, cfg, progress, &mut dropped),
            None => {
                let rest = entries.split_off(cap.min(entries.len()));
                (entries, rest)
            }
        };
        if let Some(cap) = opts.per_genre {
            if kept.len() < cap {
                tracing::warn!(
                    "genre '{label}': only {} usable clips, fewer than --per-genre {cap}",
                    kept.len()
                );
            }
            dropped.extend(rest.iter().map(|e| {
                DroppedTrack::with_detail(
                    e,
                    DropReason::OverCap,
                    format!(
                        "not drawn: genre '{label}' capped at {cap} clips (seed {})",
                        opts.seed
                    ),
                )
            }));
        }
        kept_all.extend(kept);
    }

    match opts.split {
        SplitMode::Stratified {
            ratio,
            artist_filter,
        } => {
            if artist_filter {
                let without = kept_all.iter().filter(|e| e.artist.is_none()).count();
                if without > 0 {
                    tracing::warn!(
                        "{without} clips have no artist; each is treated as its own artist by --artist-filter"
                    );
                }
                assign_artist_filtered(&mut kept_all, ratio, opts.seed);
            } else {
                assign_stratified(&mut kept_all, ratio, opts.seed);
            }
        }
        SplitMode::Keep => {
            kept_all.retain(|e| {
                let has = e.split.is_some();
                if !has {
                    dropped.push(DroppedTrack::with_detail(
                        e,
                        DropReason::NoSplit,
                        "the source gives this track no split",
                    ));
                }
                has
            });
        }
        SplitMode::None => kept_all.iter_mut().for_each(|e| e.split = None),
    }

    kept_all.sort_by(|a, b| a.label.cmp(&b.label).then_with(|| a.path.cmp(&b.path)));
    Ok(Built {
        manifest: Manifest { entries: kept_all },
        dropped,
    })
}

/// Screens `entries` in order, in parallel chunks, until `cap` have passed. Returns (passed, not
/// screened); failures go to `dropped`.
fn screen_until(
    entries: Vec<Entry>,
    cap: usize,
    cfg: &ScreenConfig,
    progress: &ProgressBar,
    dropped: &mut Vec<DroppedTrack>,
) -> (Vec<Entry>, Vec<Entry>) {
    let mut kept = Vec::new();
    let mut pending = entries.into_iter().peekable();
    let threads = rayon::current_num_threads();
    while kept.len() < cap && pending.peek().is_some() {
        let need = cap - kept.len();
        // A little more than needed: some will fail, and a second round costs a synchronisation.
        let chunk_len = need.saturating_add(need / 8).max(2 * threads);
        let chunk: Vec<Entry> = pending.by_ref().take(chunk_len).collect();
        progress.inc_length(chunk.len() as u64);
        let results: Vec<_> = chunk
            .par_iter()
            .map(|e| {
                let r = check_audio(&e.path, cfg);
                progress.inc(1);
                r
            })
            .collect();
        let mut chunk_iter = chunk.into_iter().zip(results);
        for (mut entry, result) in chunk_iter.by_ref() {
            match result {
                Ok(check) => {
                    entry.duration_secs = Some(check.duration_secs);
                    kept.push(entry);
                    if kept.len() == cap {
                        break;
                    }
                }
                Err((reason, detail)) => {
                    dropped.push(DroppedTrack::with_detail(&entry, reason, detail))
                }
            }
        }
        // Screened past the cap: passed or not, they were not drawn.
        let overflow: Vec<Entry> = chunk_iter.map(|(e, _)| e).collect();
        if !overflow.is_empty() {
            return (kept, overflow.into_iter().chain(pending).collect());
        }
    }
    (kept, pending.collect())
}

/// Normalised genre name for matching: lower case, letters and digits only.
fn genre_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Maps requested genre names onto labels; an unknown name is an error listing the available ones.
fn resolve_genres<'a>(
    requested: &[String],
    known: &[String],
    present: impl Iterator<Item = &'a String>,
) -> Result<HashSet<String>> {
    let mut available: Vec<String> = known.iter().cloned().chain(present.cloned()).collect();
    available.sort();
    available.dedup();
    let mut selected = HashSet::new();
    for name in requested.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let key = genre_key(name);
        match available.iter().find(|a| genre_key(a) == key) {
            Some(label) => {
                selected.insert(label.clone());
            }
            None => {
                return Err(DatasetError::UnknownGenre {
                    name: name.to_string(),
                    available,
                });
            }
        }
    }
    if selected.is_empty() {
        return Err(DatasetError::InvalidOption(
            "--genres names no genre".into(),
        ));
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(label: &str, n: usize) -> Vec<Entry> {
        (0..n)
            .map(|i| Entry::new(format!("/x/{label}/{i:04}.wav"), label))
            .collect()
    }

    #[test]
    fn genre_names_match_loosely_and_unknown_lists_available() {
        let known = vec!["Hip-Hop".to_string(), "Rock".to_string()];
        let got = resolve_genres(&["hiphop".into(), "ROCK".into()], &known, [].iter()).unwrap();
        assert!(got.contains("Hip-Hop") && got.contains("Rock"));
        let err = resolve_genres(&["polka".into()], &known, [].iter()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("polka") && msg.contains("Hip-Hop, Rock"),
            "{msg}"
        );
    }

    #[test]
    fn cap_without_screening_is_seeded_and_balanced() {
        let mut all = entries("a", 50);
        all.extend(entries("b", 7));
        let loaded = Loaded {
            entries: all,
            ..Loaded::default()
        };
        let opts = BuildOptions {
            per_genre: Some(5),
            screen: None,
            seed: 3,
            ..BuildOptions::default()
        };
        let one = build(loaded.clone(), &opts, &ProgressBar::hidden()).unwrap();
        let two = build(loaded.clone(), &opts, &ProgressBar::hidden()).unwrap();
        assert_eq!(one.manifest, two.manifest);
        assert_eq!(one.manifest.entries.len(), 10);
        assert_eq!(one.dropped.len(), 45 + 2);
        assert!(one.dropped.iter().all(|d| d.reason == DropReason::OverCap));
        let other_seed = build(
            loaded,
            &BuildOptions { seed: 4, ..opts },
            &ProgressBar::hidden(),
        )
        .unwrap();
        assert_ne!(one.manifest, other_seed.manifest);
    }
}
