//! Top-k search against a naive sort (property tests), the int8 pass's recall, and bad input.

use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};
use musicrec_recommend::{
    EmbeddingIndex, GenreBlend, Method, Metric, RecommendError, RecommendRequest, SearchMode,
};
use proptest::prelude::*;

fn naive_score(metric: Metric, a: &[f32], b: &[f32]) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|&x| x as f64).collect(),
        b.iter().map(|&x| x as f64).collect(),
    );
    match metric {
        Metric::Cosine => {
            let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let (na, nb) = (
                a.iter().map(|x| x * x).sum::<f64>().sqrt(),
                b.iter().map(|x| x * x).sum::<f64>().sqrt(),
            );
            if na == 0.0 || nb == 0.0 {
                0.0
            } else {
                dot / (na * nb)
            }
        }
        Metric::Euclidean => {
            1.0 / (1.0
                + a.iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).powi(2))
                    .sum::<f64>()
                    .sqrt())
        }
        Metric::PNorm(p) => {
            let p = p as f64;
            1.0 / (1.0
                + a.iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs().powf(p))
                    .sum::<f64>()
                    .powf(1.0 / p))
        }
    }
}

fn metric_strategy() -> impl Strategy<Value = Metric> {
    prop_oneof![
        Just(Metric::Cosine),
        Just(Metric::Euclidean),
        (0.3f32..4.0).prop_map(Metric::PNorm),
        Just(Metric::PNorm(1.0))
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn top_k_equals_a_naive_sort(
        (n, dim, data, query) in (1usize..80, 1usize..12).prop_flat_map(|(n, dim)| (
            Just(n), Just(dim),
            prop::collection::vec(-3.0f32..3.0, n * dim),
            prop::collection::vec(-3.0f32..3.0, dim),
        )),
        k in 0usize..90,
        metric in metric_strategy(),
        exclude_mask in prop::collection::vec(any::<bool>(), 80),
    ) {
        prop_assume!(metric != Metric::Cosine || query.iter().any(|x| *x != 0.0));
        let ids: Vec<i64> = (0..n as i64).map(|i| 1000 + 3 * i).collect();
        let index = EmbeddingIndex::new(ids.clone(), dim, data.clone()).unwrap();
        let exclude: Vec<i64> = ids.iter().zip(&exclude_mask).filter(|(_, m)| **m).map(|(id, _)| *id).collect();
        let result = index.search(&query, metric, k, &exclude, SearchMode::Exact).unwrap();

        let mut naive: Vec<(f64, i64)> = ids.iter().enumerate()
            .filter(|(_, id)| !exclude.contains(id))
            .map(|(r, id)| (naive_score(metric, &data[r * dim..(r + 1) * dim], &query), *id))
            .collect();
        naive.sort_by(|a, b| b.0.total_cmp(&a.0));
        let expected_len = k.min(naive.len());
        prop_assert_eq!(result.hits.len(), expected_len);
        prop_assert_eq!(result.fewer_than_requested, naive.len() < k);
        let tol = 1e-4;
        for w in result.hits.windows(2) {
            prop_assert!(w[0].score >= w[1].score, "not sorted: {:?}", result.hits);
        }
        for (pos, hit) in result.hits.iter().enumerate() {
            let exact = naive.iter().find(|(_, id)| *id == hit.id).expect("returned id is a candidate").0;
            prop_assert!((hit.score as f64 - exact).abs() < tol, "score of {} is {} not {}", hit.id, hit.score, exact);
            // Same ranking as the naive sort up to floating-point near-ties.
            prop_assert!((hit.score as f64 - naive[pos].0).abs() < tol, "rank {pos}: {} vs {}", hit.score, naive[pos].0);
        }
    }
}

#[test]
fn int8_first_pass_keeps_recall_at_5_above_0_95() {
    let cat = SyntheticCatalog::generate(&SyntheticSpec {
        tracks: 30_000,
        ..SyntheticSpec::default()
    });
    let index = cat.index().unwrap();
    let (mut found, mut total) = (0usize, 0usize);
    for q in 0..40i64 {
        let seeds: Vec<i64> = (0..5).map(|s| (q * 7919 + s * 104_729) % 30_000).collect();
        let mut request = RecommendRequest::new(seeds, 5);
        if q % 2 == 1 {
            // Method 2 goes through the same int8 rows (embedding and genre parts side by side).
            request.method = Method::SimilarityAndGenre(GenreBlend::default());
        }
        request.search = SearchMode::Exact;
        let exact = index.recommend(&request).unwrap();
        request.search = SearchMode::Quantized { candidates: 32 };
        let approx = index.recommend(&request).unwrap();
        for hit in &approx.tracks {
            // Re-scored exactly: a hit shared with the exact list has the exact score.
            if let Some(e) = exact.tracks.iter().find(|e| e.id == hit.id) {
                assert_eq!(e.score, hit.score);
                found += 1;
            }
        }
        total += exact.tracks.len();
    }
    let recall = found as f64 / total as f64;
    assert!(recall >= 0.95, "recall@5 of the int8 pass: {recall}");
}

#[test]
fn bad_input_gives_errors_not_panics() {
    let index = EmbeddingIndex::new(vec![1, 2, 3], 2, vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0]).unwrap();
    let q = [1.0f32, 0.5];
    assert_eq!(
        index.search(&[1.0], Metric::Cosine, 2, &[], SearchMode::Auto),
        Err(RecommendError::DimensionMismatch { index: 2, query: 1 })
    );
    assert_eq!(
        index.search(&[f32::NAN, 0.0], Metric::Cosine, 2, &[], SearchMode::Auto),
        Err(RecommendError::NonFiniteQuery { position: 0 })
    );
    assert_eq!(
        index.search(&q, Metric::PNorm(0.0), 2, &[], SearchMode::Auto),
        Err(RecommendError::BadPNorm(0.0))
    );
    assert_eq!(
        index.search(&q, Metric::Cosine, 2, &[9], SearchMode::Auto),
        Err(RecommendError::UnknownTrack(9))
    );
    assert_eq!(
        index.search(&[0.0, 0.0], Metric::Cosine, 2, &[], SearchMode::Auto),
        Err(RecommendError::ZeroQuery)
    );
    let all = index
        .search(&q, Metric::Euclidean, 10, &[2], SearchMode::Auto)
        .unwrap();
    assert_eq!(all.hits.len(), 2);
    assert!(all.fewer_than_requested);
    assert_eq!(all.requested, 10);

    let empty = EmbeddingIndex::new(vec![], 2, vec![]).unwrap();
    assert_eq!(
        empty.search(&q, Metric::Cosine, 5, &[], SearchMode::Auto),
        Err(RecommendError::EmptyIndex)
    );
    assert_eq!(
        empty.recommend(&RecommendRequest::new(vec![1], 5)),
        Err(RecommendError::EmptyIndex)
    );

    assert_eq!(
        EmbeddingIndex::new(vec![1, 2], 2, vec![0.0, f32::NAN, 1.0, 1.0]).unwrap_err(),
        RecommendError::NonFiniteEmbedding { id: 1, position: 1 }
    );
    assert_eq!(
        EmbeddingIndex::new(vec![1, 1], 1, vec![0.0, 1.0]).unwrap_err(),
        RecommendError::DuplicateId(1)
    );
    assert!(matches!(
        EmbeddingIndex::new(vec![1], 2, vec![0.0]),
        Err(RecommendError::ShapeMismatch { .. })
    ));
    assert_eq!(
        EmbeddingIndex::new(vec![1], 0, vec![]).unwrap_err(),
        RecommendError::ZeroDimension
    );
    let with_bad_probs = EmbeddingIndex::new(vec![1], 1, vec![1.0])
        .unwrap()
        .with_genres(vec!["rock".into()], vec![1.5]);
    assert_eq!(
        with_bad_probs.unwrap_err(),
        RecommendError::BadGenreProbability { id: 1, value: 1.5 }
    );
    // Every error reads as one line.
    for e in [
        RecommendError::EmptyIndex,
        RecommendError::UnknownTrack(4),
        RecommendError::BadPNorm(-1.0),
    ] {
        assert!(!e.to_string().contains('\n'));
    }
}
