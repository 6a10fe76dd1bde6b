//! Train / validation / test splits: stratified per label, seeded and reproducible, optionally
//! artist-filtered (no artist in two splits).
//!
//! Stratified: each label's entries are put in a canonical order (by path), shuffled with a stream
//! derived from the seed and the label, and cut by [`split_counts`] (largest remainder), so every label's
//! split sizes are within one clip of the exact ratio and the result does not depend on input order or
//! on which other labels are present.
//!
//! Artist-filtered: all tracks of one artist form a group that goes to one split. Groups are shuffled
//! (seeded), placed largest first, each into the split whose per-label targets it fills best. Ratios then
//! hold only approximately (an artist with many tracks moves them all at once). Tracks without an artist
//! each form their own group.

use std::collections::{BTreeMap, HashMap};

use crate::entry::Entry;
pub use crate::entry::Split;
use crate::error::DatasetError;
use crate::seeded;

/// Relative sizes of train:validation:test, e.g. `8:1:1` (the default). Any component may be 0, not all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitRatio {
    pub train: u32,
    pub validation: u32,
    pub test: u32,
}

impl Default for SplitRatio {
    fn default() -> Self {
        Self {
            train: 8,
            validation: 1,
            test: 1,
        }
    }
}

impl SplitRatio {
    fn parts(&self) -> [u64; 3] {
        [self.train as u64, self.validation as u64, self.test as u64]
    }
}

impl std::str::FromStr for SplitRatio {
    type Err = DatasetError;
    fn from_str(s: &str) -> Result<Self, DatasetError> {
        let bad = || {
            DatasetError::InvalidOption(format!(
                "split ratio '{s}' must be three whole numbers train:validation:test, e.g. 8:1:1"
            ))
        };
        let parts: Vec<u32> = s
            .split(':')
            .map(|p| p.trim().parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        let [train, validation, test] = parts[..] else {
            return Err(bad());
        };
        if train as u64 + validation as u64 + test as u64 == 0 {
            return Err(DatasetError::InvalidOption(format!(
                "split ratio '{s}' is all zero"
            )));
        }
        Ok(Self {
            train,
            validation,
            test,
        })
    }
}

impl std::fmt::Display for SplitRatio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.train, self.validation, self.test)
    }
}

/// Sizes of train, validation, test for `n` items: each the floor of its exact share, the leftover
/// items given to the largest fractional parts (ties in train, validation, test order). Each size is
/// within one of `n * part / total`, and they sum to `n`.
pub fn split_counts(n: usize, ratio: SplitRatio) -> [usize; 3] {
    let parts = ratio.parts();
    let total: u64 = parts.iter().sum();
    let n64 = n as u64;
    let mut counts = [0usize; 3];
    let mut remainders = [(0u64, 0usize); 3];
    for (k, part) in parts.iter().enumerate() {
        counts[k] = (n64 * part / total) as usize;
        remainders[k] = (n64 * part % total, k);
    }
    let mut leftover = n - counts.iter().sum::<usize>();
    // Largest remainder first; stable sort keeps train before validation before test on ties.
    remainders.sort_by_key(|r| std::cmp::Reverse(r.0));
    for &(rem, k) in &remainders {
        if leftover == 0 {
            break;
        }
        if rem > 0 {
            counts[k] += 1;
            leftover -= 1;
        }
    }
    counts
}

/// Assigns every entry a split, stratified by label (see the module doc). Overwrites existing splits.
pub fn assign_stratified(entries: &mut [Entry], ratio: SplitRatio, seed: u64) {
    for (label, mut indices) in indices_by_label(entries) {
        indices.sort_by(|&a, &b| entries[a].path.cmp(&entries[b].path));
        seeded::shuffle(&mut indices, seed, "split", &label);
        let counts = split_counts(indices.len(), ratio);
        let mut it = indices.into_iter();
        for split in Split::ALL {
            for i in it.by_ref().take(counts[split.index()]) {
                entries[i].split = Some(split);
            }
        }
    }
}

/// Assigns every entry a split so that no artist appears in two splits (see the module doc).
/// Artists are compared trimmed and case-insensitively.
pub fn assign_artist_filtered(entries: &mut [Entry], ratio: SplitRatio, seed: u64) {
    // Group key -> member indices. BTreeMap: a canonical order before the seeded shuffle.
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let key = match e.artist.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => format!("artist:{}", a.to_lowercase()),
            None => format!("track:{}", e.path.display()),
        };
        groups.entry(key).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    seeded::shuffle(&mut groups, seed, "artist-split", "");
    // Largest groups first, while every split still has room; stable, so equal sizes keep the shuffle.
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));

    let label_of: Vec<usize> = {
        let mut labels: Vec<&str> = entries.iter().map(|e| e.label.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        let ids: HashMap<&str, usize> = labels
            .into_iter()
            .enumerate()
            .map(|(i, l)| (l, i))
            .collect();
        entries.iter().map(|e| ids[e.label.as_str()]).collect()
    };
    let n_labels = label_of.iter().max().map_or(0, |m| m + 1);
    let mut label_totals = vec![0usize; n_labels];
    for &l in &label_of {
        label_totals[l] += 1;
    }
    let parts = ratio.parts();
    let total_parts: u64 = parts.iter().sum();
    // target[label][split] as exact shares.
    let target: Vec<[f64; 3]> = label_totals
        .iter()
        .map(|&n| std::array::from_fn(|s| n as f64 * parts[s] as f64 / total_parts as f64))
        .collect();
    let mut assigned = vec![[0usize; 3]; n_labels];
    let mut assigned_total = [0usize; 3];
    let n_total = entries.len() as f64;

    for group in groups {
        let mut per_label: HashMap<usize, usize> = HashMap::new();
        for &i in &group {
            *per_label.entry(label_of[i]).or_default() += 1;
        }
        // Score: how much of the group's per-label count each split still wants (its unmet target,
        // capped at what the group brings), then the split's overall unmet share as a tie-breaker.
        let mut best = None;
        let mut best_score = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for split in Split::ALL {
            let s = split.index();
            if parts[s] == 0 {
                continue;
            }
            let want: f64 = per_label
                .iter()
                .map(|(&l, &c)| (target[l][s] - assigned[l][s] as f64).min(c as f64))
                .sum();
            let overall = n_total * parts[s] as f64 / total_parts as f64 - assigned_total[s] as f64;
            let score = (want, overall);
            if score.0 > best_score.0 || (score.0 == best_score.0 && score.1 > best_score.1) {
                best_score = score;
                best = Some(split);
            }
        }
        let split = best.expect("a split ratio has at least one non-zero part");
        for (&l, &c) in &per_label {
            assigned[l][split.index()] += c;
        }
        assigned_total[split.index()] += group.len();
        for i in group {
            entries[i].split = Some(split);
        }
    }
}

fn indices_by_label(entries: &[Entry]) -> BTreeMap<String, Vec<usize>> {
    let mut by_label: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_label.entry(e.label.clone()).or_default().push(i);
    }
    by_label
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn counts_sum_and_stay_within_one(n in 0usize..5000, a in 0u32..20, b in 0u32..20, c in 1u32..20) {
            let ratio = SplitRatio { train: a, validation: b, test: c };
            let counts = split_counts(n, ratio);
            prop_assert_eq!(counts.iter().sum::<usize>(), n);
            let total = (a + b + c) as f64;
            for (k, part) in [a, b, c].into_iter().enumerate() {
                let exact = n as f64 * part as f64 / total;
                prop_assert!((counts[k] as f64 - exact).abs() < 1.0, "{counts:?} vs {exact}");
                if part == 0 { prop_assert_eq!(counts[k], 0); }
            }
        }
    }

    #[test]
    fn ratio_parses_and_rejects() {
        assert_eq!(
            "8:1:1".parse::<SplitRatio>().unwrap(),
            SplitRatio::default()
        );
        assert_eq!("7 : 2 : 1".parse::<SplitRatio>().unwrap().validation, 2);
        for bad in ["8:1", "8:1:1:1", "a:b:c", "0:0:0", "-1:1:1", ""] {
            assert!(bad.parse::<SplitRatio>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn split_names_parse() {
        assert_eq!("training".parse::<Split>(), Ok(Split::Train));
        assert_eq!("Validation".parse::<Split>(), Ok(Split::Validation));
        assert_eq!("test".parse::<Split>(), Ok(Split::Test));
        assert!("dev".parse::<Split>().is_err());
    }

    #[test]
    fn exact_ratio_on_round_numbers() {
        assert_eq!(split_counts(1000, SplitRatio::default()), [800, 100, 100]);
        assert_eq!(split_counts(10, SplitRatio::default()), [8, 1, 1]);
        assert_eq!(split_counts(0, SplitRatio::default()), [0, 0, 0]);
    }
}
