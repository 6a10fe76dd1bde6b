//! Synthetic two-model evaluations shared by the plot and report tests.

use musicrec_eval::metrics::ScoreMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const GENRES: [&str; 5] = ["blues", "classical", "hip-hop", "jazz", "rock & roll"];

/// Labels and sigmoid scores for `n` tracks; `skill` scales how much the true genre stands out.
pub fn synthetic(n: usize, skill: f64, seed: u64) -> (Vec<usize>, ScoreMatrix) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = GENRES.len();
    let labels: Vec<usize> = (0..n).map(|_| rng.random_range(0..k)).collect();
    let scores: Vec<f32> = labels
        .iter()
        .flat_map(|&y| {
            let noise: Vec<f64> = (0..k).map(|_| rng.random::<f64>() * 3.0 - 2.0).collect();
            (0..k)
                .map(move |c| {
                    let logit = noise[c] + if c == y { skill } else { 0.0 };
                    (1.0 / (1.0 + (-logit).exp())) as f32
                })
                .collect::<Vec<_>>()
        })
        .collect();
    (labels, ScoreMatrix::from_row_major(&scores, k).unwrap())
}

/// Scores of a second model on the same tracks: the labels of `synthetic(n, _, seed)`.
pub fn second_model(labels: &[usize], skill: f64, seed: u64) -> ScoreMatrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = GENRES.len();
    let scores: Vec<f32> = labels
        .iter()
        .flat_map(|&y| {
            (0..k)
                .map(|c| {
                    let logit = rng.random::<f64>() * 3.0 - 2.0 + if c == y { skill } else { 0.0 };
                    (1.0 / (1.0 + (-logit).exp())) as f32
                })
                .collect::<Vec<_>>()
        })
        .collect();
    ScoreMatrix::from_row_major(&scores, k).unwrap()
}
