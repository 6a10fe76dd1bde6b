//! Genre centroids: per genre, the mean embedding of the tracks the model puts in that genre
//! (argmax of the genre probabilities) and the member nearest to it, the song that stands for
//! the genre's centre.

use crate::{EmbeddingSet, GenreCentroid, TrackId};

/// Centroids of every genre that has at least one member, by genre index.
pub fn compute_genre_centroids(set: &EmbeddingSet) -> Vec<GenreCentroid> {
    let dim = set.model.embedding_dim;
    let genres = &set.model.genres;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); genres.len()];
    for row in 0..set.len() {
        if let Some(genre) = set.top_genre(row) {
            members[genre].push(row);
        }
    }
    let mut centroids = Vec::new();
    for (genre_index, rows) in members.iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        // Accumulate in f64: thousands of f32 additions would otherwise drift.
        let mut sum = vec![0f64; dim];
        for &row in rows {
            for (s, &v) in sum.iter_mut().zip(set.embedding(row)) {
                *s += f64::from(v);
            }
        }
        let centroid: Vec<f32> = sum.iter().map(|s| (s / rows.len() as f64) as f32).collect();
        let centre_track: Option<TrackId> = rows
            .iter()
            .map(|&row| {
                let distance: f64 = set
                    .embedding(row)
                    .iter()
                    .zip(&centroid)
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum();
                (row, distance)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(row, _)| set.tracks[row].id);
        centroids.push(GenreCentroid {
            genre_index,
            genre: genres[genre_index].clone(),
            centroid,
            member_count: rows.len(),
            centre_track,
        });
    }
    centroids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ModelInfo, TrackSummary};

    fn summary(id: i64) -> TrackSummary {
        TrackSummary {
            id: TrackId(id),
            path: format!("/m/{id}.wav").into(),
            artist: None,
            title: None,
            content_hash: blake3::hash(&id.to_le_bytes()),
        }
    }

    #[test]
    fn mean_and_nearest_member_per_argmax_genre() {
        let set = EmbeddingSet {
            model_id: "m".into(),
            model: ModelInfo {
                genres: vec!["a".into(), "b".into(), "c".into()],
                embedding_dim: 2,
                config: serde_json::json!({}),
            },
            tracks: (1..=4).map(summary).collect(),
            embeddings: vec![0.0, 0.0, 2.0, 0.0, 0.9, 0.1, 10.0, 10.0],
            genre_probs: vec![
                0.8, 0.1, 0.1, //
                0.6, 0.3, 0.1, //
                0.5, 0.4, 0.1, //
                0.1, 0.8, 0.1,
            ],
        };
        let centroids = compute_genre_centroids(&set);
        assert_eq!(centroids.len(), 2, "genre c has no member");
        let a = &centroids[0];
        assert_eq!((a.genre_index, a.member_count), (0, 3));
        assert!((a.centroid[0] - 2.9 / 3.0).abs() < 1e-6);
        assert!((a.centroid[1] - 0.1 / 3.0).abs() < 1e-6);
        assert_eq!(a.centre_track, Some(TrackId(3)));
        let b = &centroids[1];
        assert_eq!((b.genre.as_str(), b.member_count), ("b", 1));
        assert_eq!(b.centroid, vec![10.0, 10.0]);
        assert_eq!(b.centre_track, Some(TrackId(4)));
    }
}
