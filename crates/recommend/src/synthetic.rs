//! Seeded synthetic catalogues with known labels, for tests, benchmarks and for measuring the
//! defaults before real embeddings exist.
//!
//! A track's embedding is `genre centre + style centre + noise`: genres and styles (think
//! "acoustic", "live", "lo-fi": shared across genres) are independent random directions, so a
//! plain similarity search mixes "same genre" and "same style". Genre probabilities come from a
//! simulated classifier that reads the genre directions (`sigmoid(sharpness * (x . c_g / |c_g|^2 - 0.5))`),
//! and for a `label_noise` share of tracks it is confidently wrong (it answers for another genre),
//! like a misclassified seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::Result;
use crate::index::EmbeddingIndex;

/// Parameters of a synthetic catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSpec {
    pub tracks: usize,
    pub dim: usize,
    pub genres: usize,
    pub styles: usize,
    /// Length of the genre centres.
    pub genre_scale: f32,
    /// Length of the style centres.
    pub style_scale: f32,
    /// Per-coordinate standard deviation of the track noise (its length is about `noise * sqrt(dim)`).
    pub noise: f32,
    /// Share of tracks whose genre probabilities point at a wrong genre.
    pub label_noise: f64,
    /// Steepness of the simulated classifier's sigmoid.
    pub sharpness: f32,
    pub seed: u64,
}

impl SyntheticSpec {
    /// The default catalogue with `tracks` tracks of `dim` values in `genres` genres.
    pub fn sized(tracks: usize, dim: usize, genres: usize) -> Self {
        Self {
            tracks,
            dim,
            genres,
            ..Self::default()
        }
    }
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            tracks: 10_000,
            dim: 68,
            genres: 10,
            styles: 8,
            genre_scale: 1.0,
            style_scale: 1.0,
            noise: 0.25,
            label_noise: 0.1,
            sharpness: 8.0,
            seed: 7,
        }
    }
}

/// A generated catalogue: ids `0..tracks`, embeddings, true labels and classifier probabilities.
#[derive(Debug, Clone)]
pub struct SyntheticCatalog {
    pub ids: Vec<i64>,
    pub dim: usize,
    /// Row-major `[tracks][dim]`.
    pub vectors: Vec<f32>,
    pub genre_labels: Vec<usize>,
    pub style_labels: Vec<usize>,
    /// Row-major `[tracks][genres]`.
    pub genre_probs: Vec<f32>,
    pub genre_names: Vec<String>,
}

fn random_direction(rng: &mut ChaCha8Rng, dim: usize, length: f32) -> Vec<f32> {
    let v: Vec<f32> = (0..dim).map(|_| StandardNormal.sample(rng)).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x * length / norm).collect()
}

impl SyntheticCatalog {
    pub fn generate(spec: &SyntheticSpec) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let genre_centres: Vec<Vec<f32>> = (0..spec.genres)
            .map(|_| random_direction(&mut rng, spec.dim, spec.genre_scale))
            .collect();
        let style_centres: Vec<Vec<f32>> = (0..spec.styles.max(1))
            .map(|_| random_direction(&mut rng, spec.dim, spec.style_scale))
            .collect();
        let mut vectors = Vec::with_capacity(spec.tracks * spec.dim);
        let (mut genre_labels, mut style_labels) = (Vec::new(), Vec::new());
        let mut genre_probs = Vec::with_capacity(spec.tracks * spec.genres);
        for _ in 0..spec.tracks {
            let g = rng.random_range(0..spec.genres);
            let s = rng.random_range(0..style_centres.len());
            let start = vectors.len();
            for d in 0..spec.dim {
                let noise: f32 = StandardNormal.sample(&mut rng);
                vectors.push(genre_centres[g][d] + style_centres[s][d] + spec.noise * noise);
            }
            let x = &vectors[start..];
            // A wrong classifier answers as if the track were of another genre.
            let seen_as = if rng.random_bool(spec.label_noise) && spec.genres > 1 {
                (g + rng.random_range(1..spec.genres)) % spec.genres
            } else {
                g
            };
            let sq = spec.genre_scale * spec.genre_scale;
            for (h, c) in genre_centres.iter().enumerate() {
                let mut projection = x.iter().zip(c).map(|(a, b)| a * b).sum::<f32>() / sq;
                if h == seen_as && h != g {
                    projection += 1.0;
                } else if h == g && h != seen_as {
                    projection -= 1.0;
                }
                let logit = spec.sharpness * (projection - 0.5);
                genre_probs.push(1.0 / (1.0 + (-logit).exp()));
            }
            genre_labels.push(g);
            style_labels.push(s);
        }
        Self {
            ids: (0..spec.tracks as i64).collect(),
            dim: spec.dim,
            vectors,
            genre_labels,
            style_labels,
            genre_probs,
            genre_names: (0..spec.genres).map(|g| format!("genre{g}")).collect(),
        }
    }

    /// The catalogue as an index with its genre probabilities.
    pub fn index(&self) -> Result<EmbeddingIndex> {
        EmbeddingIndex::new(self.ids.clone(), self.dim, self.vectors.clone())?
            .with_genres(self.genre_names.clone(), self.genre_probs.clone())
    }
}
