//! Measures the defaults of the recommenders on synthetic catalogues with known labels (no real
//! embeddings exist yet): the seed combination of method 1, and method 2's genre weight `w` and
//! genre-centre share `beta`.
//!
//!     cargo run --release -p musicrec-recommend --example tune_defaults
//!
//! Catalogue: `SyntheticSpec::default()` with 20k tracks (10 genres x 8 cross-genre styles, dim 68,
//! 10% of tracks with confidently wrong genre probabilities), embeddings rescaled by a log-normal
//! factor so norms vary as real activations do. Two kinds of query, 300 each, 5 seeds:
//! * `same style`: seeds share genre and style; relevant = same genre AND style ("sounds alike");
//! * `mixed`: seeds share a genre, styles random; relevant = same genre.
//!
//! Reported: precision@10 against those labels, averaged over queries.

use musicrec_recommend::synthetic::{SyntheticCatalog, SyntheticSpec};
use musicrec_recommend::{
    CentroidKind, EmbeddingIndex, GenreBlend, Method, RecommendRequest, SeedCombination,
};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const K: usize = 10;
const QUERIES: usize = 300;

struct Query {
    seeds: Vec<i64>,
    genre: usize,
    style: Option<usize>,
}

fn queries(cat: &SyntheticCatalog, same_style: bool, rng: &mut ChaCha8Rng) -> Vec<Query> {
    (0..QUERIES)
        .map(|_| {
            let anchor = rng.random_range(0..cat.ids.len());
            let (genre, style) = (cat.genre_labels[anchor], cat.style_labels[anchor]);
            let pool: Vec<i64> = (0..cat.ids.len())
                .filter(|&i| {
                    cat.genre_labels[i] == genre && (!same_style || cat.style_labels[i] == style)
                })
                .map(|i| i as i64)
                .collect();
            let seeds = pool.choose_multiple(rng, 5).copied().collect();
            Query {
                seeds,
                genre,
                style: same_style.then_some(style),
            }
        })
        .collect()
}

fn precision(
    index: &EmbeddingIndex,
    cat: &SyntheticCatalog,
    qs: &[Query],
    method: Method,
    comb: SeedCombination,
) -> f64 {
    let mut total = 0.0;
    for q in qs {
        let mut req = RecommendRequest::new(q.seeds.clone(), K);
        req.method = method;
        req.combination = comb;
        let rec = index.recommend(&req).expect("valid request");
        let hits = rec
            .tracks
            .iter()
            .filter(|h| {
                let i = h.id as usize;
                cat.genre_labels[i] == q.genre && q.style.is_none_or(|s| cat.style_labels[i] == s)
            })
            .count();
        total += hits as f64 / K as f64;
    }
    total / qs.len() as f64
}

fn main() {
    for (noise, style_scale, label_noise) in [
        (0.25f32, 1.0f32, 0.1f64),
        (0.25, 1.3, 0.1),
        (0.25, 1.0, 0.3),
        (0.35, 1.0, 0.1),
    ] {
        let spec = SyntheticSpec {
            tracks: 20_000,
            noise,
            style_scale,
            label_noise,
            ..SyntheticSpec::default()
        };
        let mut cat = SyntheticCatalog::generate(&spec);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for row in cat.vectors.chunks_exact_mut(cat.dim) {
            let z: f32 = StandardNormal.sample(&mut rng);
            let scale = (0.5 * z).exp();
            row.iter_mut().for_each(|x| *x *= scale);
        }
        let index = cat.index().expect("valid synthetic index");
        let same_style = queries(&cat, true, &mut rng);
        let mixed = queries(&cat, false, &mut rng);
        println!(
            "\n## noise {noise}, style_scale {style_scale}, label_noise {label_noise} (genre_scale 1.0)"
        );
        println!(
            "| method | combination | w | beta | same-style P@{K} (genre+style) | mixed P@{K} (genre) |"
        );
        println!("|---|---|---|---|---|---|");
        for comb in [SeedCombination::MeanSimilarity, SeedCombination::Centroid] {
            let a = precision(&index, &cat, &same_style, Method::Similarity, comb);
            let b = precision(&index, &cat, &mixed, Method::Similarity, comb);
            println!("| 1 | {comb:?} | - | - | {a:.3} | {b:.3} |");
        }
        for beta in [0.0f32, 0.25, 0.5] {
            for w in [0.1f32, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0] {
                let m = Method::SimilarityAndGenre(GenreBlend {
                    genre_weight: w,
                    centroid_weight: beta,
                    centroids: CentroidKind::ProbabilityWeighted,
                });
                let comb = SeedCombination::MeanSimilarity;
                let a = precision(&index, &cat, &same_style, m, comb);
                let b = precision(&index, &cat, &mixed, m, comb);
                println!("| 2 | {comb:?} | {w} | {beta} | {a:.3} | {b:.3} |");
            }
        }
    }
}
