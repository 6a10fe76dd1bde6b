//! The in-memory embedding index: track ids, row-major f32 embeddings with their precomputed inverse
//! norms (cosine scans need no per-query normalisation), optional genre probabilities and names,
//! optional per-track metadata for de-duplication, and lazily built derived data (the int8 column-
//! blocked copy for fast approximate scans, genre centroids).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::{RecommendError, Result};
use crate::kernels::{self, BLOCK_ROWS, block_offset};

/// Descriptive fields of a track, used only to keep duplicates out and to vary artists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackMeta {
    pub artist: Option<String>,
    pub title: Option<String>,
    /// Hash of the audio content (e.g. blake3 of the decoded file): equal hash = same recording.
    pub content_hash: Option<String>,
    /// The folder holding the file: tracks without an artist count by folder under the artist
    /// cap, so that one untagged album cannot fill a list.
    pub folder: Option<String>,
}

/// How genre centre points are computed from the index (the paper's "one song as the centre point
/// of each genre", here the mean embedding of the genre).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CentroidKind {
    /// Mean embedding of the tracks whose most probable genre is the genre.
    Argmax,
    /// Mean of all embeddings weighted by their probability of the genre.
    #[default]
    ProbabilityWeighted,
}

#[derive(Debug)]
pub(crate) struct GenreTable {
    pub(crate) names: Vec<String>,
    /// Raw probabilities, `[n][n_genres]`.
    pub(crate) probs: Vec<f32>,
    /// Probability rows scaled to unit length (zero rows stay zero): cosine affinity is one dot product.
    pub(crate) unit_probs: Vec<f32>,
}

/// The int8 copy of the index for the approximate first pass: row `r` is `[x_r / |x_r|, p_r / |p_r|]`
/// (embedding then genre probabilities, so both recommendation methods are one dot product), scaled
/// per row to [-127, 127] and stored in blocks of [`BLOCK_ROWS`] rows, a dimension pair at a time.
#[derive(Debug)]
pub(crate) struct QuantizedRows {
    /// Dimensions per row, padded to an even number.
    pub(crate) width: usize,
    pub(crate) blocks: Vec<i8>,
    /// Per-row dequantisation scale (0 for padding rows past the end).
    pub(crate) scales: Vec<f32>,
}

/// Track embeddings held in memory for similarity search and recommendation.
#[derive(Debug)]
pub struct EmbeddingIndex {
    pub(crate) ids: Vec<i64>,
    pub(crate) dim: usize,
    pub(crate) vectors: Vec<f32>,
    /// `1 / |x|`, or 0 for an all-zero embedding (whose cosine similarity is then 0 to everything).
    pub(crate) inv_norms: Vec<f32>,
    row_of: HashMap<i64, u32>,
    pub(crate) genres: Option<GenreTable>,
    meta: Option<Vec<TrackMeta>>,
    rows_by_hash: HashMap<String, Vec<u32>>,
    rows_by_artist_title: HashMap<(String, String), Vec<u32>>,
    quantized: OnceLock<QuantizedRows>,
    centroids_argmax: OnceLock<Vec<Option<Vec<f32>>>>,
    centroids_weighted: OnceLock<Vec<Option<Vec<f32>>>>,
}

fn normalise_key(s: &str) -> String {
    s.trim().to_lowercase()
}

impl EmbeddingIndex {
    /// An index over `ids.len()` embeddings of width `dim`, `vectors` row-major `[n][dim]`.
    /// An empty index is allowed (searching it is an error). Rejects NaN/infinite values and repeated ids.
    pub fn new(ids: Vec<i64>, dim: usize, vectors: Vec<f32>) -> Result<Self> {
        if dim == 0 {
            return Err(RecommendError::ZeroDimension);
        }
        if vectors.len() != ids.len() * dim {
            return Err(RecommendError::ShapeMismatch {
                what: "embedding matrix (ids x dim)",
                expected: ids.len() * dim,
                actual: vectors.len(),
            });
        }
        let mut row_of = HashMap::with_capacity(ids.len());
        for (row, &id) in ids.iter().enumerate() {
            if row_of.insert(id, row as u32).is_some() {
                return Err(RecommendError::DuplicateId(id));
            }
        }
        if ids.len() > u32::MAX as usize {
            return Err(RecommendError::BadParameter {
                name: "ids",
                value: ids.len().to_string(),
                reason: "at most 2^32 - 1 tracks",
            });
        }
        let mut inv_norms = Vec::with_capacity(ids.len());
        for (row, v) in vectors.chunks_exact(dim).enumerate() {
            if let Some(position) = v.iter().position(|x| !x.is_finite()) {
                return Err(RecommendError::NonFiniteEmbedding {
                    id: ids[row],
                    position,
                });
            }
            let norm = kernels::dot(v, v).sqrt();
            inv_norms.push(if norm > 0.0 { 1.0 / norm } else { 0.0 });
        }
        Ok(Self {
            ids,
            dim,
            vectors,
            inv_norms,
            row_of,
            genres: None,
            meta: None,
            rows_by_hash: HashMap::new(),
            rows_by_artist_title: HashMap::new(),
            quantized: OnceLock::new(),
            centroids_argmax: OnceLock::new(),
            centroids_weighted: OnceLock::new(),
        })
    }

    /// Adds genre probabilities (`[n][names.len()]`, row-major, each in [0, 1], e.g. sigmoid outputs).
    pub fn with_genres(mut self, names: Vec<String>, probs: Vec<f32>) -> Result<Self> {
        let g = names.len();
        if g == 0 {
            return Err(RecommendError::BadParameter {
                name: "genre names",
                value: "[]".into(),
                reason: "at least one genre is needed",
            });
        }
        if probs.len() != self.ids.len() * g {
            return Err(RecommendError::ShapeMismatch {
                what: "genre probability matrix (ids x genres)",
                expected: self.ids.len() * g,
                actual: probs.len(),
            });
        }
        let mut unit_probs = probs.clone();
        for (row, p) in unit_probs.chunks_exact_mut(g).enumerate() {
            if let Some(&value) = p.iter().find(|x| !(0.0..=1.0).contains(*x)) {
                return Err(RecommendError::BadGenreProbability {
                    id: self.ids[row],
                    value,
                });
            }
            let norm = kernels::dot(p, p).sqrt();
            if norm > 0.0 {
                p.iter_mut().for_each(|x| *x /= norm);
            }
        }
        self.genres = Some(GenreTable {
            names,
            probs,
            unit_probs,
        });
        self.quantized = OnceLock::new();
        self.centroids_argmax = OnceLock::new();
        self.centroids_weighted = OnceLock::new();
        Ok(self)
    }

    /// Adds per-track metadata (one per track, in id order) used to keep duplicates of the seeds out
    /// (same content hash, or same artist and title ignoring case) and to cap tracks per artist.
    pub fn with_meta(mut self, meta: Vec<TrackMeta>) -> Result<Self> {
        if meta.len() != self.ids.len() {
            return Err(RecommendError::ShapeMismatch {
                what: "track metadata (one per id)",
                expected: self.ids.len(),
                actual: meta.len(),
            });
        }
        self.rows_by_hash.clear();
        self.rows_by_artist_title.clear();
        for (row, m) in meta.iter().enumerate() {
            if let Some(h) = m.content_hash.as_deref().filter(|h| !h.trim().is_empty()) {
                self.rows_by_hash
                    .entry(normalise_key(h))
                    .or_default()
                    .push(row as u32);
            }
            if let (Some(a), Some(t)) = (&m.artist, &m.title) {
                let key = (normalise_key(a), normalise_key(t));
                if !key.0.is_empty() && !key.1.is_empty() {
                    self.rows_by_artist_title
                        .entry(key)
                        .or_default()
                        .push(row as u32);
                }
            }
        }
        self.meta = Some(meta);
        Ok(self)
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Track ids in row order.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// Whether per-track metadata was given.
    pub fn has_meta(&self) -> bool {
        self.meta.is_some()
    }

    /// Whether genre probabilities were given.
    pub fn has_genres(&self) -> bool {
        self.genres.is_some()
    }

    /// Genre names, if genre probabilities were given.
    pub fn genre_names(&self) -> Option<&[String]> {
        self.genres.as_ref().map(|g| g.names.as_slice())
    }

    /// The embedding of a track.
    pub fn embedding(&self, id: i64) -> Result<&[f32]> {
        Ok(self.row_vector(self.row(id)?))
    }

    /// The genre probabilities of a track.
    pub fn genre_probabilities(&self, id: i64) -> Result<&[f32]> {
        let row = self.row(id)?;
        let g = self.genres.as_ref().ok_or(RecommendError::NoGenres)?;
        let width = g.names.len();
        Ok(&g.probs[row as usize * width..(row as usize + 1) * width])
    }

    /// The metadata of a track, if metadata was given.
    pub fn meta(&self, id: i64) -> Result<Option<&TrackMeta>> {
        let row = self.row(id)?;
        Ok(self.meta.as_ref().map(|m| &m[row as usize]))
    }

    /// The row of a track (rows are `0..len()`, in the order of [`EmbeddingIndex::ids`]).
    pub fn row(&self, id: i64) -> Result<u32> {
        self.row_of
            .get(&id)
            .copied()
            .ok_or(RecommendError::UnknownTrack(id))
    }

    pub(crate) fn row_vector(&self, row: u32) -> &[f32] {
        let r = row as usize;
        &self.vectors[r * self.dim..(r + 1) * self.dim]
    }

    pub(crate) fn row_meta(&self, row: u32) -> Option<&TrackMeta> {
        self.meta.as_ref().map(|m| &m[row as usize])
    }

    pub(crate) fn row_genre_probs(&self, row: u32) -> Option<&[f32]> {
        self.genres.as_ref().map(|g| {
            let w = g.names.len();
            &g.probs[row as usize * w..(row as usize + 1) * w]
        })
    }

    /// Rows that are the same recording or song as `row` (itself included): equal content hash, or
    /// equal artist and title ignoring case and surrounding spaces.
    pub fn duplicate_rows(&self, row: u32) -> Vec<u32> {
        let mut out = vec![row];
        if let Some(m) = self.row_meta(row) {
            if let Some(h) = &m.content_hash
                && let Some(rows) = self.rows_by_hash.get(&normalise_key(h))
            {
                out.extend(rows);
            }
            if let (Some(a), Some(t)) = (&m.artist, &m.title)
                && let Some(rows) = self
                    .rows_by_artist_title
                    .get(&(normalise_key(a), normalise_key(t)))
            {
                out.extend(rows);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whom a row counts against under an artist cap: its artist (case and surrounding spaces
    /// ignored), or, without an artist tag, its folder (an untagged album is one "artist"). `None`
    /// when neither is known: such a track is not capped.
    pub(crate) fn artist_key(&self, row: u32) -> Option<String> {
        let meta = self.row_meta(row)?;
        if let Some(artist) = meta
            .artist
            .as_deref()
            .map(normalise_key)
            .filter(|a| !a.is_empty())
        {
            return Some(format!("artist:{artist}"));
        }
        meta.folder
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(|folder| format!("folder:{folder}"))
    }

    /// Keeps at most `cap` tracks per artist (or per folder for tracks without an artist tag,
    /// see [`TrackMeta::folder`]) from `hits`, in their order, and at most `k` in all: the cap
    /// [`EmbeddingIndex::recommend`] applies, for rankings made elsewhere (collaborative
    /// filtering). Ids not in the index are kept uncapped.
    pub fn cap_per_artist(&self, hits: &[crate::Hit], k: usize, cap: usize) -> Vec<crate::Hit> {
        let mut per_artist: HashMap<String, usize> = HashMap::new();
        let mut kept = Vec::with_capacity(k.min(hits.len()));
        for hit in hits {
            if kept.len() == k {
                break;
            }
            if let Some(key) = self.row(hit.id).ok().and_then(|row| self.artist_key(row)) {
                let count = per_artist.entry(key).or_default();
                if *count >= cap {
                    continue;
                }
                *count += 1;
            }
            kept.push(*hit);
        }
        kept
    }

    /// Builds the int8 copy now instead of on the first approximate search (it takes one pass over
    /// the embeddings; a server calls this at start-up so no query pays for it).
    pub fn prepare_quantized(&self) {
        self.quantized();
    }

    pub(crate) fn quantized(&self) -> &QuantizedRows {
        self.quantized.get_or_init(|| {
            let g = self.genres.as_ref().map_or(0, |g| g.names.len());
            let width = (self.dim + g).next_multiple_of(2);
            let n_blocks = self.len().div_ceil(BLOCK_ROWS);
            let mut blocks = vec![0i8; n_blocks * BLOCK_ROWS * width];
            let mut scales = vec![0.0f32; n_blocks * BLOCK_ROWS];
            let mut row_values = vec![0.0f32; self.dim + g];
            for (row, &inv) in self.inv_norms.iter().enumerate() {
                for (o, x) in row_values.iter_mut().zip(self.row_vector(row as u32)) {
                    *o = x * inv;
                }
                if let Some(gt) = &self.genres {
                    row_values[self.dim..].copy_from_slice(&gt.unit_probs[row * g..(row + 1) * g]);
                }
                let max_abs = row_values.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                if max_abs == 0.0 {
                    continue;
                }
                let scale = max_abs / 127.0;
                scales[row] = scale;
                let (block, j) = (row / BLOCK_ROWS, row % BLOCK_ROWS);
                let base = block * BLOCK_ROWS * width;
                for (d, x) in row_values.iter().enumerate() {
                    blocks[base + block_offset(j, d)] =
                        (x / scale).round().clamp(-127.0, 127.0) as i8;
                }
            }
            QuantizedRows {
                width,
                blocks,
                scales,
            }
        })
    }

    /// Genre centre points, `[n_genres]` of `Option<[dim]>` (`None` for a genre with no tracks/weight).
    pub(crate) fn genre_centroids(&self, kind: CentroidKind) -> Result<&[Option<Vec<f32>>]> {
        let gt = self.genres.as_ref().ok_or(RecommendError::NoGenres)?;
        let cell = match kind {
            CentroidKind::Argmax => &self.centroids_argmax,
            CentroidKind::ProbabilityWeighted => &self.centroids_weighted,
        };
        Ok(cell.get_or_init(|| {
            let g = gt.names.len();
            let mut sums = vec![0.0f64; g * self.dim];
            let mut weights = vec![0.0f64; g];
            for (row, p) in gt.probs.chunks_exact(g).enumerate() {
                let v = self.row_vector(row as u32);
                let mut add = |genre: usize, w: f64| {
                    weights[genre] += w;
                    for (s, x) in sums[genre * self.dim..(genre + 1) * self.dim]
                        .iter_mut()
                        .zip(v)
                    {
                        *s += w * *x as f64;
                    }
                };
                match kind {
                    CentroidKind::Argmax => {
                        // First maximum on ties, like numpy's argmax.
                        let best =
                            p.iter()
                                .enumerate()
                                .fold(
                                    (0, f32::NEG_INFINITY),
                                    |b, (i, &x)| if x > b.1 { (i, x) } else { b },
                                );
                        add(best.0, 1.0);
                    }
                    CentroidKind::ProbabilityWeighted => {
                        for (genre, &w) in p.iter().enumerate() {
                            if w > 0.0 {
                                add(genre, w as f64);
                            }
                        }
                    }
                }
            }
            (0..g)
                .map(|genre| {
                    (weights[genre] > 0.0).then(|| {
                        sums[genre * self.dim..(genre + 1) * self.dim]
                            .iter()
                            .map(|s| (s / weights[genre]) as f32)
                            .collect()
                    })
                })
                .collect()
        }))
    }

    /// Genre centre points (mean embedding per genre), as `(genre name, centroid)`; `None` for a
    /// genre with no tracks.
    pub fn genre_centre_points(
        &self,
        kind: CentroidKind,
    ) -> Result<Vec<(String, Option<Vec<f32>>)>> {
        let names = self.genre_names().ok_or(RecommendError::NoGenres)?.to_vec();
        Ok(names
            .into_iter()
            .zip(self.genre_centroids(kind)?.iter().cloned())
            .collect())
    }
}
