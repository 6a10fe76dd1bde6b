//! Offline genre precision@k against a brute-force reference and hand-computed cases.

use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};
use musicrec_recommend::{Metric, RecommendError};
use musicrec_study::offline::genre_precision_at_k;

#[test]
fn hand_computed_precision_and_baseline() {
    // 1-D points: genre 0 at 0.0, 0.1; genre 1 at 1.0, 1.1, 5.0.
    let x = vec![0.0f32, 0.1, 1.0, 1.1, 5.0];
    let genres = vec![0, 0, 1, 1, 1];
    let r = genre_precision_at_k(&x, 1, &genres, None, 1, Metric::Euclidean).unwrap();
    // Nearest neighbours: 0->1 ok, 1->0 ok, 2->3 ok, 3->2 ok, 4->3 ok.
    assert_eq!(r.precision, 1.0);
    let baseline = (2.0 * (1.0 / 4.0) + 3.0 * (2.0 / 4.0)) / 5.0;
    assert!((r.random_baseline - baseline).abs() < 1e-12);
    let r2 = genre_precision_at_k(&x, 1, &genres, None, 2, Metric::Euclidean).unwrap();
    // k=2: 0->{1,2} 1/2, 1->{0,2} 1/2, 2->{3,1} 1/2, 3->{2,1} 1/2, 4->{3,2} 1.
    assert!((r2.precision - 3.0 / 5.0).abs() < 1e-12);

    // Artist filter: tracks 2 and 3 share an artist, so 2's neighbour becomes 1 (wrong genre).
    let artists: Vec<String> = ["a", "b", "c", "c", ""]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let f = genre_precision_at_k(&x, 1, &genres, Some(&artists), 1, Metric::Euclidean).unwrap();
    assert!(f.artist_filtered);
    assert!((f.precision - 3.0 / 5.0).abs() < 1e-12, "{}", f.precision);
    let fb = (1.0 / 4.0 + 1.0 / 4.0 + 1.0 / 3.0 + 1.0 / 3.0 + 2.0 / 4.0) / 5.0;
    assert!((f.random_baseline - fb).abs() < 1e-12);
}

#[test]
fn matches_brute_force_on_synthetic_embeddings_for_every_metric() {
    let cat = SyntheticCatalog::generate(&SyntheticSpec {
        tracks: 300,
        dim: 12,
        noise: 0.4,
        ..SyntheticSpec::default()
    });
    let artists: Vec<String> = (0..300).map(|i| format!("artist{}", i % 37)).collect();
    for metric in [
        Metric::Cosine,
        Metric::Euclidean,
        Metric::PNorm(1.0),
        Metric::PNorm(3.0),
    ] {
        for artists in [None, Some(artists.as_slice())] {
            let k = 5;
            let r =
                genre_precision_at_k(&cat.vectors, cat.dim, &cat.genre_labels, artists, k, metric)
                    .unwrap();
            let row = |i: usize| &cat.vectors[i * cat.dim..(i + 1) * cat.dim];
            let mut total = 0.0;
            for i in 0..300 {
                let mut others: Vec<(f32, usize)> = (0..300)
                    .filter(|&j| j != i && artists.is_none_or(|a| a[j] != a[i]))
                    .map(|j| (metric.similarity(row(i), row(j)), j))
                    .collect();
                others.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                total += others[..k]
                    .iter()
                    .filter(|(_, j)| cat.genre_labels[*j] == cat.genre_labels[i])
                    .count() as f64
                    / k as f64;
            }
            let expect = total / 300.0;
            assert!(
                (r.precision - expect).abs() < 0.01,
                "{metric} {:?}: {} vs {expect}",
                artists.is_some(),
                r.precision
            );
            assert!(
                r.precision > r.random_baseline + 0.2,
                "embeddings beat chance"
            );
            assert!((r.random_baseline - 0.1).abs() < 0.05);
        }
    }
}

#[test]
fn bad_input() {
    assert_eq!(
        genre_precision_at_k(&[], 2, &[], None, 5, Metric::Cosine).unwrap_err(),
        RecommendError::EmptyIndex
    );
    assert!(genre_precision_at_k(&[1.0], 2, &[0], None, 5, Metric::Cosine).is_err());
    assert!(genre_precision_at_k(&[1.0, 2.0], 1, &[0, 1], None, 0, Metric::Cosine).is_err());
    assert!(
        genre_precision_at_k(
            &[1.0, 2.0],
            1,
            &[0, 1],
            Some(&["x".to_string()]),
            1,
            Metric::Cosine
        )
        .is_err()
    );
    assert_eq!(
        genre_precision_at_k(&[1.0, 2.0], 1, &[0, 1], None, 1, Metric::PNorm(0.0)).unwrap_err(),
        RecommendError::BadPNorm(0.0)
    );
    // Single artist: no candidates, every query skipped.
    let same: Vec<String> = vec!["a".into(), "a".into()];
    let r =
        genre_precision_at_k(&[1.0, 2.0], 1, &[0, 1], Some(&same), 1, Metric::Euclidean).unwrap();
    assert_eq!((r.queries, r.skipped_queries), (0, 2));
}
