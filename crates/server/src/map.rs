//! The page's 2-D map of the library: a principal component analysis (PCA) of the embeddings,
//! the first two components of the covariance matrix, computed once per loaded index.
//!
//! PCA rather than t-SNE/UMAP: it is deterministic, takes one pass over the embeddings plus a
//! `dim x dim` eigen-decomposition (nalgebra), and its axes mean the same thing on every load.

use musicrec_catalog::EmbeddingSet;
use nalgebra::{DMatrix, SymmetricEigen};
use serde::Serialize;
use utoipa::ToSchema;

/// Rows per block when accumulating the covariance (one matrix product per block).
const BLOCK_ROWS: usize = 4096;

/// One track on the map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapPoint {
    /// Catalog track id.
    pub id: i64,
    /// First principal component.
    pub x: f32,
    /// Second principal component.
    pub y: f32,
    /// Index into `genres` of the most probable genre (absent for a model without genres).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre: Option<usize>,
    /// "Artist - Title", or the file name.
    pub label: String,
}

/// The whole map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapData {
    /// Always `pca`.
    pub projection: &'static str,
    /// The model whose embeddings are projected.
    pub model: String,
    /// Share of the total variance along x and along y.
    pub explained_variance_ratio: [f32; 2],
    /// Genre names, indexed by `MapPoint::genre`.
    pub genres: Vec<String>,
    pub points: Vec<MapPoint>,
}

impl MapData {
    /// Projects every embedding of `set` on its first two principal components.
    pub fn from_set(set: &EmbeddingSet) -> Self {
        let (xs, ys, ratio) = pca_2d(&set.embeddings, set.len(), set.model.embedding_dim);
        let points = set
            .tracks
            .iter()
            .enumerate()
            .map(|(row, t)| MapPoint {
                id: t.id.0,
                x: xs[row],
                y: ys[row],
                genre: set.top_genre(row),
                label: match (&t.artist, &t.title) {
                    (Some(a), Some(ti)) => format!("{a} - {ti}"),
                    _ => t
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                },
            })
            .collect();
        Self {
            projection: "pca",
            model: set.model_id.clone(),
            explained_variance_ratio: ratio,
            genres: set.model.genres.clone(),
            points,
        }
    }
}

/// Coordinates of `n` row-major `dim`-vectors on their first two principal components, and the
/// share of variance each component explains. Fewer than two rows, or no variance, give zeros.
pub fn pca_2d(values: &[f32], n: usize, dim: usize) -> (Vec<f32>, Vec<f32>, [f32; 2]) {
    if n < 2 || dim == 0 {
        return (vec![0.0; n], vec![0.0; n], [0.0, 0.0]);
    }
    let mut mean = vec![0.0f64; dim];
    for row in values.chunks_exact(dim) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);

    // Covariance as a sum of block products X_b^T X_b of centred rows (f64 for accuracy).
    let mut cov = DMatrix::<f64>::zeros(dim, dim);
    for block in values.chunks(BLOCK_ROWS * dim) {
        let rows = block.len() / dim;
        let centred =
            DMatrix::<f64>::from_fn(rows, dim, |r, c| f64::from(block[r * dim + c]) - mean[c]);
        cov += centred.transpose() * &centred;
    }
    cov /= (n - 1) as f64;

    let eigen = SymmetricEigen::new(cov);
    let mut order: Vec<usize> = (0..dim).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let total: f64 = eigen.eigenvalues.iter().map(|v| v.max(0.0)).sum();
    let component = |k: usize| -> Vec<f64> {
        let Some(&col) = order.get(k) else {
            return vec![0.0; dim];
        };
        let mut v: Vec<f64> = eigen.eigenvectors.column(col).iter().copied().collect();
        // An eigenvector's sign is arbitrary: make its largest entry positive so that the map
        // does not flip between loads.
        let largest = v
            .iter()
            .copied()
            .max_by(|a, b| a.abs().total_cmp(&b.abs()))
            .unwrap_or(0.0);
        if largest < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        v
    };
    let (c1, c2) = (component(0), component(1));
    let ratio = |k: usize| -> f32 {
        match order.get(k) {
            Some(&col) if total > 0.0 => (eigen.eigenvalues[col].max(0.0) / total) as f32,
            _ => 0.0,
        }
    };
    let project = |c: &[f64]| -> Vec<f32> {
        values
            .chunks_exact(dim)
            .map(|row| {
                row.iter()
                    .zip(&mean)
                    .zip(c)
                    .map(|((&x, m), w)| (f64::from(x) - m) * w)
                    .sum::<f64>() as f32
            })
            .collect()
    };
    (project(&c1), project(&c2), [ratio(0), ratio(1)])
}

#[cfg(test)]
mod tests {
    use super::pca_2d;

    #[test]
    fn points_on_a_line_project_onto_the_first_axis() {
        // Points along (1, 2, 2)/3 with small noise on (2, -1, 0): the first component carries
        // nearly all the variance and reproduces the positions along the line.
        let ts = [-2.0f32, -1.0, 0.0, 1.0, 2.0, 3.0];
        let noise = [0.01f32, -0.02, 0.015, -0.01, 0.0, 0.005];
        let mut values = Vec::new();
        for (t, e) in ts.iter().zip(noise) {
            values.extend([
                t / 3.0 * 3.0 + 2.0 * e,
                t * 2.0 / 3.0 * 3.0 - e,
                t * 2.0 / 3.0 * 3.0,
            ]);
        }
        let (xs, ys, ratio) = pca_2d(&values, ts.len(), 3);
        assert!(ratio[0] > 0.999, "{ratio:?}");
        assert!(ratio[1] < 0.001, "{ratio:?}");
        // Positions along the unit direction are 3 * (t - mean t) up to sign (fixed positive).
        let mean_t = ts.iter().sum::<f32>() / ts.len() as f32;
        for (x, t) in xs.iter().zip(ts) {
            assert!((x - 3.0 * (t - mean_t)).abs() < 0.05, "{x} vs {t}");
        }
        assert!(ys.iter().all(|y| y.abs() < 0.05));
    }

    #[test]
    fn degenerate_inputs_give_zeros() {
        assert_eq!(
            pca_2d(&[1.0, 2.0], 1, 2),
            (vec![0.0], vec![0.0], [0.0, 0.0])
        );
        let (xs, _, ratio) = pca_2d(&[1.0, 1.0, 1.0, 1.0], 2, 2);
        assert_eq!(xs, vec![0.0, 0.0]);
        assert_eq!(ratio, [0.0, 0.0]);
    }
}
