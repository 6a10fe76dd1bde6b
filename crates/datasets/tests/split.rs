//! Splits: stratified within one clip of the ratio per genre, disjoint, reproducible, independent of
//! input order; the artist filter keeps every artist in one split.

use std::collections::{BTreeMap, HashMap, HashSet};

use musicrec_datasets::split::{assign_artist_filtered, assign_stratified};
use musicrec_datasets::{Entry, Split, SplitRatio};
use proptest::prelude::*;

fn dataset(sizes: &[usize], artists_per_genre: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    for (g, &n) in sizes.iter().enumerate() {
        for i in 0..n {
            let mut e = Entry::new(format!("/d/g{g}/{i:05}.wav"), format!("genre{g}"));
            if artists_per_genre > 0 {
                // Uneven artist sizes: artist k of genre g has about twice as many tracks as k+1.
                let k = (i * i) % artists_per_genre;
                e.artist = Some(format!("artist-{g}-{k}"));
            }
            out.push(e);
        }
    }
    out
}

fn counts(entries: &[Entry]) -> BTreeMap<String, [usize; 3]> {
    let mut c: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for e in entries {
        let k = Split::ALL
            .iter()
            .position(|s| Some(*s) == e.split)
            .expect("every entry has a split");
        c.entry(e.label.clone()).or_default()[k] += 1;
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn stratified_within_one_clip_per_genre(
        sizes in proptest::collection::vec(1usize..400, 1..6),
        seed in any::<u64>(),
        ratio in (0u32..10, 0u32..5, 1u32..5),
    ) {
        let ratio = SplitRatio { train: ratio.0, validation: ratio.1, test: ratio.2 };
        let mut entries = dataset(&sizes, 0);
        assign_stratified(&mut entries, ratio, seed);
        let total = (ratio.train + ratio.validation + ratio.test) as f64;
        for (g, c) in counts(&entries) {
            let n: usize = c.iter().sum();
            for (k, part) in [ratio.train, ratio.validation, ratio.test].into_iter().enumerate() {
                let exact = n as f64 * part as f64 / total;
                prop_assert!((c[k] as f64 - exact).abs() < 1.0, "{g}: {c:?}, exact {exact}");
            }
        }
    }
}

#[test]
fn reproducible_and_independent_of_input_order() {
    let mut a = dataset(&[100, 37, 250], 0);
    let mut b = a.clone();
    b.reverse();
    assign_stratified(&mut a, SplitRatio::default(), 42);
    assign_stratified(&mut b, SplitRatio::default(), 42);
    let by_path =
        |v: &[Entry]| -> HashMap<_, _> { v.iter().map(|e| (e.path.clone(), e.split)).collect() };
    assert_eq!(by_path(&a), by_path(&b));
    let mut c = dataset(&[100, 37, 250], 0);
    assign_stratified(&mut c, SplitRatio::default(), 43);
    assert_ne!(by_path(&a), by_path(&c), "another seed, another split");
    // Adding a genre does not reshuffle the others.
    let mut d = dataset(&[100, 37, 250, 60], 0);
    assign_stratified(&mut d, SplitRatio::default(), 42);
    let d_map = by_path(&d);
    assert!(a.iter().all(|e| d_map[&e.path] == e.split));
}

#[test]
fn artist_filter_keeps_each_artist_in_one_split() {
    for seed in 0..5 {
        let mut entries = dataset(&[300, 200, 120], 40);
        assign_artist_filtered(&mut entries, SplitRatio::default(), seed);
        let mut split_of: HashMap<&str, Split> = HashMap::new();
        for e in &entries {
            let split = e.split.expect("assigned");
            let prev = split_of.insert(e.artist.as_deref().unwrap(), split);
            assert!(
                prev.is_none() || prev == Some(split),
                "artist {:?} in two splits",
                e.artist
            );
        }
        // Ratios hold approximately per genre (whole artists move at once).
        for (g, c) in counts(&entries) {
            let n: usize = c.iter().sum();
            let share = |k: usize| c[k] as f64 / n as f64;
            assert!((share(0) - 0.8).abs() < 0.08, "seed {seed} {g}: {c:?}");
            assert!(c[1] > 0 && c[2] > 0, "seed {seed} {g}: {c:?}");
        }
        let splits_used: HashSet<_> = split_of.values().collect();
        assert_eq!(splits_used.len(), 3);
    }
}

#[test]
fn artist_filter_without_artists_still_splits_everything() {
    let mut entries = dataset(&[50, 50], 0);
    assign_artist_filtered(&mut entries, SplitRatio::default(), 1);
    let c = counts(&entries);
    for v in c.values() {
        assert_eq!(v.iter().sum::<usize>(), 50);
        assert!((38..=42).contains(&v[0]), "{v:?}");
    }
}
