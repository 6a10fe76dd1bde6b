//! Similarity metrics (`cosine`, `euclidean`, `pnorm:P`), their parsing from the CLI's `--metric`
//! string, and the convention that turns a distance into a score.
//!
//! Scores are always "higher = more similar":
//! * cosine: the cosine similarity itself, in [-1, 1] (a zero vector has similarity 0 to everything,
//!   as in scikit-learn's `cosine_similarity`);
//! * euclidean and pnorm: `1 / (1 + d)`, in (0, 1]. Not `-d`: the recommenders add similarities to
//!   several anchors (seeds, liked tracks, genre centres) and blend them with a genre affinity in
//!   [0, 1], which needs a bounded score on a comparable scale. The map is strictly decreasing in `d`,
//!   so a single-anchor ranking is the same as ranking by distance.

use std::fmt;
use std::str::FromStr;

use crate::error::{RecommendError, Result};

/// How two embeddings are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Cosine similarity.
    Cosine,
    /// Euclidean (L2) distance, scored as `1 / (1 + d)`.
    Euclidean,
    /// Minkowski distance `(sum |x_i - y_i|^p)^(1/p)` with `p > 0`, scored as `1 / (1 + d)`.
    /// For `p < 1` this is not a norm (the triangle inequality fails) but still ranks by closeness.
    PNorm(f32),
}

impl Metric {
    /// A Minkowski metric, checking that `p` is finite and positive.
    pub fn pnorm(p: f32) -> Result<Self> {
        if p.is_finite() && p > 0.0 {
            Ok(Metric::PNorm(p))
        } else {
            Err(RecommendError::BadPNorm(p))
        }
    }

    /// Checks parameters of a metric built by hand (`Metric::PNorm(-1.0)` is representable).
    pub fn validate(self) -> Result<Self> {
        match self {
            Metric::PNorm(p) => Metric::pnorm(p),
            other => Ok(other),
        }
    }

    /// Distance between two equal-length vectors (not for cosine, which has no distance here).
    pub(crate) fn distance(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::Cosine => unreachable!("cosine is scored by dot products"),
            Metric::Euclidean | Metric::PNorm(2.0) => crate::kernels::squared_distance(a, b).sqrt(),
            Metric::PNorm(1.0) => crate::kernels::manhattan_distance(a, b),
            Metric::PNorm(p) => crate::kernels::minkowski_sum(a, b, p).powf(1.0 / p),
        }
    }

    /// Similarity score between two vectors under this metric (see the module docs).
    pub fn similarity(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::Cosine => {
                let (dot, na, nb) = (
                    crate::kernels::dot(a, b),
                    crate::kernels::dot(a, a).sqrt(),
                    crate::kernels::dot(b, b).sqrt(),
                );
                if na == 0.0 || nb == 0.0 {
                    0.0
                } else {
                    dot / (na * nb)
                }
            }
            distance => distance_to_score(distance.distance(a, b)),
        }
    }
}

/// `1 / (1 + d)`: the score of a distance.
#[inline]
pub(crate) fn distance_to_score(distance: f32) -> f32 {
    1.0 / (1.0 + distance)
}

impl FromStr for Metric {
    type Err = RecommendError;

    /// Parses `cosine`, `euclidean` or `pnorm:P` (case-insensitive), as the CLI's `--metric` takes them.
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "cosine" => Ok(Metric::Cosine),
            "euclidean" => Ok(Metric::Euclidean),
            _ => match lower.strip_prefix("pnorm:") {
                Some(p) => match p.trim().parse::<f32>() {
                    Ok(p) => Metric::pnorm(p),
                    Err(_) => Err(RecommendError::UnknownMetric(s.to_string())),
                },
                None => Err(RecommendError::UnknownMetric(s.to_string())),
            },
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Cosine => f.write_str("cosine"),
            Metric::Euclidean => f.write_str("euclidean"),
            Metric::PNorm(p) => write!(f, "pnorm:{p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_spellings_and_round_trips() {
        assert_eq!("cosine".parse::<Metric>().unwrap(), Metric::Cosine);
        assert_eq!("Euclidean".parse::<Metric>().unwrap(), Metric::Euclidean);
        assert_eq!("pnorm:3".parse::<Metric>().unwrap(), Metric::PNorm(3.0));
        assert_eq!("pnorm:0.5".parse::<Metric>().unwrap(), Metric::PNorm(0.5));
        for m in [Metric::Cosine, Metric::Euclidean, Metric::PNorm(1.5)] {
            assert_eq!(m.to_string().parse::<Metric>().unwrap(), m);
        }
    }

    #[test]
    fn rejects_bad_metrics() {
        assert_eq!(
            "pnorm:0".parse::<Metric>(),
            Err(RecommendError::BadPNorm(0.0))
        );
        assert_eq!(
            "pnorm:-2".parse::<Metric>(),
            Err(RecommendError::BadPNorm(-2.0))
        );
        assert!(matches!(
            "pnorm:nan".parse::<Metric>(),
            Err(RecommendError::BadPNorm(_))
        ));
        assert!(matches!(
            "pnorm:".parse::<Metric>(),
            Err(RecommendError::UnknownMetric(_))
        ));
        assert!(matches!(
            "manhattan".parse::<Metric>(),
            Err(RecommendError::UnknownMetric(_))
        ));
        assert!(Metric::PNorm(f32::INFINITY).validate().is_err());
    }

    #[test]
    fn distances_match_their_definitions() {
        let (a, b) = ([0.0f32, 3.0, 1.0], [4.0f32, 0.0, 1.0]);
        assert!((Metric::Euclidean.distance(&a, &b) - 5.0).abs() < 1e-6);
        assert!((Metric::PNorm(1.0).distance(&a, &b) - 7.0).abs() < 1e-6);
        let p3 = (4f32.powi(3) + 3f32.powi(3)).powf(1.0 / 3.0);
        assert!((Metric::PNorm(3.0).distance(&a, &b) - p3).abs() < 1e-5);
        assert!((Metric::Euclidean.similarity(&a, &b) - 1.0 / 6.0).abs() < 1e-6);
        assert!(
            (Metric::Cosine.similarity(&a, &b) - 1.0 / (10f32.sqrt() * 17f32.sqrt())).abs() < 1e-6
        );
        assert_eq!(Metric::Cosine.similarity(&a, &[0.0; 3]), 0.0);
    }
}
