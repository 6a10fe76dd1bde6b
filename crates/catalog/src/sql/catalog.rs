//! [`CatalogStore`] for every [`SqlStore`]: the statements and their row mapping, once for
//! SQLite and PostgreSQL.

use std::path::{Path, PathBuf};

use super::{
    Db, SqlRow, SqlStore, contains_pattern, fold, fold_opt, now_ms, one_line, params, parse_hash,
    to_i64, utf8_path,
};
use crate::blob::{encode_f32_le, extend_f32_le};
use crate::store::{FileFacts, IndexedFailure, IndexedTrack, ScanIndex, ScanUpdate};
use crate::types::{argmax, path_text};
use crate::{
    CatalogError, CatalogStats, CatalogStore, EmbeddingSet, ExperimentStore, Feedback,
    GenreCentroid, GenreCount, ModelInfo, ModelStats, Page, Rating, Result, ScanFailure, Track,
    TrackEmbedding, TrackId, TrackSummary, TrackTags, User, UserId, decode_f32_le,
};

/// Largest page [`CatalogStore::search`] returns.
const MAX_PAGE: u64 = 1000;

const TRACK_COLUMNS: &str = "id, path, content_hash, size_bytes, mtime_ns, duration_secs, \
     artist, title, album, genre_tag, year, added_at, updated_at, missing_since, warning";

fn track_from_row(row: &dyn SqlRow) -> Result<Track> {
    Ok(Track {
        id: TrackId(row.i64(0)?),
        path: PathBuf::from(row.text(1)?),
        content_hash: parse_hash(row.text(2)?)?,
        size_bytes: row.i64(3)?.max(0) as u64,
        mtime_ns: row.i64(4)?,
        duration_secs: row.opt_f64(5)?,
        tags: TrackTags {
            artist: row.opt_string(6)?,
            title: row.opt_string(7)?,
            album: row.opt_string(8)?,
            genre: row.opt_string(9)?,
            year: row.opt_i32(10)?,
        },
        added_at: row.i64(11)?,
        updated_at: row.i64(12)?,
        missing_since: row.opt_i64(13)?,
        warning: row.opt_string(14)?,
    })
}

fn tracks_where(
    db: &mut dyn Db,
    sql_where: &str,
    params: &[super::Value<'_>],
) -> Result<Vec<Track>> {
    let sql = format!("SELECT {TRACK_COLUMNS} FROM tracks WHERE {sql_where}");
    db.query_rows(&sql, params, track_from_row)
}

fn parse_model(model_id: &str, config: &str, genres: &str, dim: i64) -> Result<ModelInfo> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| {
        CatalogError::CorruptData(format!("model {model_id:?}: {what}: {}", one_line(err)))
    };
    Ok(ModelInfo {
        config: serde_json::from_str(config).map_err(|e| corrupt("config_json", &e))?,
        genres: serde_json::from_str(genres).map_err(|e| corrupt("genres_json", &e))?,
        embedding_dim: usize::try_from(dim).map_err(|e| corrupt("embedding_dim", &e))?,
    })
}

fn model_in(db: &mut dyn Db, model_id: &str) -> Result<Option<ModelInfo>> {
    db.query_opt(
        "SELECT config_json, genres_json, embedding_dim FROM models WHERE id = ?1",
        params![model_id],
        |r| parse_model(model_id, r.text(0)?, r.text(1)?, r.i64(2)?),
    )
}

fn require_model(db: &mut dyn Db, model_id: &str) -> Result<ModelInfo> {
    model_in(db, model_id)?.ok_or_else(|| CatalogError::UnknownModel(model_id.to_owned()))
}

/// Checks a model output against the registered model before it is stored.
fn check_output(model_id: &str, model: &ModelInfo, output: &TrackEmbedding) -> Result<()> {
    if output.embedding.len() != model.embedding_dim {
        return Err(CatalogError::Invalid(format!(
            "model {model_id:?} declares embedding size {} but produced {}",
            model.embedding_dim,
            output.embedding.len()
        )));
    }
    if output.genre_probs.len() != model.genres.len() {
        return Err(CatalogError::Invalid(format!(
            "model {model_id:?} declares {} genres but produced {} probabilities",
            model.genres.len(),
            output.genre_probs.len()
        )));
    }
    if !output
        .embedding
        .iter()
        .chain(&output.genre_probs)
        .all(|v| v.is_finite())
    {
        return Err(CatalogError::Invalid(format!(
            "model {model_id:?} produced a non-finite value"
        )));
    }
    Ok(())
}

/// Checks every embedded output of `updates` against `model_id` (before any write).
pub fn check_updates(db: &mut dyn Db, model_id: &str, updates: &[ScanUpdate]) -> Result<()> {
    let model = require_model(db, model_id)?;
    for update in updates {
        if let ScanUpdate::Embedded { output, .. } = update {
            check_output(model_id, &model, output)?;
        }
    }
    Ok(())
}

/// Applies `updates` inside the caller's transaction (checked with [`check_updates`]): the
/// semantics of [`CatalogStore::apply_scan_updates`], shared with PostgreSQL's queue workers.
pub fn apply_updates(db: &mut dyn Db, model_id: &str, updates: &[ScanUpdate]) -> Result<()> {
    let now = now_ms();
    for update in updates {
        match update {
            ScanUpdate::Embedded {
                path,
                file,
                tags,
                output,
            } => {
                let path = utf8_path(path)?;
                let hash = file.content_hash.to_hex();
                let previous = db.query_opt(
                    "SELECT id, content_hash FROM tracks WHERE path = ?1",
                    params![path],
                    |r| Ok((r.i64(0)?, r.string(1)?)),
                )?;
                if let Some((id, old_hash)) = previous
                    && old_hash.as_str() != hash.as_str()
                {
                    // Other models' vectors describe the old content.
                    db.execute(
                        "DELETE FROM embeddings WHERE track_id = ?1 AND model_id <> ?2",
                        params![id, model_id],
                    )?;
                }
                let track_id = db.query_i64(
                    "INSERT INTO tracks (path, content_hash, size_bytes, mtime_ns,
                        duration_secs, artist, title, album, genre_tag, year,
                        artist_key, title_key, album_key, added_at, updated_at, missing_since,
                        warning)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14,
                             NULL, ?15)
                     ON CONFLICT (path) DO UPDATE SET
                        content_hash = excluded.content_hash,
                        size_bytes = excluded.size_bytes,
                        mtime_ns = excluded.mtime_ns,
                        duration_secs = excluded.duration_secs,
                        artist = excluded.artist, title = excluded.title,
                        album = excluded.album, genre_tag = excluded.genre_tag,
                        year = excluded.year, artist_key = excluded.artist_key,
                        title_key = excluded.title_key, album_key = excluded.album_key,
                        updated_at = excluded.updated_at, missing_since = NULL,
                        warning = excluded.warning
                     RETURNING id",
                    params![
                        path,
                        hash.as_str(),
                        to_i64(file.size_bytes, "file size")?,
                        file.mtime_ns,
                        output.duration_secs,
                        &tags.artist,
                        &tags.title,
                        &tags.album,
                        &tags.genre,
                        &tags.year,
                        &fold_opt(&tags.artist),
                        &fold_opt(&tags.title),
                        &fold_opt(&tags.album),
                        now,
                        &output.warning
                    ],
                )?;
                db.execute(
                    "INSERT INTO embeddings (track_id, model_id, embedding, genre_probs,
                        created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (track_id, model_id) DO UPDATE SET
                        embedding = excluded.embedding, genre_probs = excluded.genre_probs,
                        created_at = excluded.created_at",
                    params![
                        track_id,
                        model_id,
                        &encode_f32_le(&output.embedding),
                        &encode_f32_le(&output.genre_probs),
                        now
                    ],
                )?;
                db.execute("DELETE FROM scan_failures WHERE path = ?1", params![path])?;
            }
            ScanUpdate::Moved {
                track,
                path,
                file,
                tags,
            } => {
                let path = utf8_path(path)?;
                let changed = db.execute(
                    "UPDATE tracks SET path = ?2, content_hash = ?3, size_bytes = ?4,
                        mtime_ns = ?5, artist = ?6, title = ?7, album = ?8,
                        genre_tag = ?9, year = ?10, artist_key = ?11, title_key = ?12,
                        album_key = ?13, updated_at = ?14, missing_since = NULL
                     WHERE id = ?1",
                    params![
                        track.0,
                        path,
                        file.content_hash.to_hex().as_str(),
                        to_i64(file.size_bytes, "file size")?,
                        file.mtime_ns,
                        &tags.artist,
                        &tags.title,
                        &tags.album,
                        &tags.genre,
                        &tags.year,
                        &fold_opt(&tags.artist),
                        &fold_opt(&tags.title),
                        &fold_opt(&tags.album),
                        now
                    ],
                )?;
                if changed == 0 {
                    return Err(CatalogError::UnknownTrack(track.0));
                }
                db.execute("DELETE FROM scan_failures WHERE path = ?1", params![path])?;
            }
            ScanUpdate::Refreshed { track, file } => {
                db.execute(
                    "UPDATE tracks SET content_hash = ?2, size_bytes = ?3, mtime_ns = ?4,
                        updated_at = ?5, missing_since = NULL
                     WHERE id = ?1",
                    params![
                        track.0,
                        file.content_hash.to_hex().as_str(),
                        to_i64(file.size_bytes, "file size")?,
                        file.mtime_ns,
                        now
                    ],
                )?;
            }
            ScanUpdate::Failed {
                path,
                size_bytes,
                mtime_ns,
                reason,
                stale_track,
            } => {
                // A path that is not UTF-8 is still worth reporting; it is stored lossily.
                let path = path.to_string_lossy();
                let size = size_bytes.map(|s| to_i64(s, "file size")).transpose()?;
                db.execute(
                    "INSERT INTO scan_failures (path, model_id, reason, size_bytes, mtime_ns,
                        failed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (path) DO UPDATE SET model_id = excluded.model_id,
                        reason = excluded.reason, size_bytes = excluded.size_bytes,
                        mtime_ns = excluded.mtime_ns, failed_at = excluded.failed_at",
                    params![&*path, model_id, reason, &size, mtime_ns, now],
                )?;
                if let Some(track) = stale_track {
                    mark_missing(db, *track, now)?;
                }
            }
            ScanUpdate::Missing { track } => mark_missing(db, *track, now)?,
        }
    }
    // A failure alone (no stale track to flag) leaves tracks and embeddings as they were.
    let touches_tracks = updates.iter().any(|u| {
        !matches!(
            u,
            ScanUpdate::Failed {
                stale_track: None,
                ..
            }
        )
    });
    if touches_tracks {
        db.tracks_changed()?;
    }
    Ok(())
}

fn mark_missing(db: &mut dyn Db, track: TrackId, now: i64) -> Result<()> {
    db.execute(
        "UPDATE tracks SET missing_since = ?2, updated_at = ?2
         WHERE id = ?1 AND missing_since IS NULL",
        params![track.0, now],
    )?;
    Ok(())
}

impl<S: SqlStore + 'static> CatalogStore for S {
    fn register_model(&mut self, model_id: &str, info: &ModelInfo) -> Result<()> {
        if model_id.trim().is_empty() {
            return Err(CatalogError::Invalid("empty model id".into()));
        }
        if info.embedding_dim == 0 {
            return Err(CatalogError::Invalid(format!(
                "model {model_id:?} has embedding size 0"
            )));
        }
        if let Some(existing) = self.model(model_id)? {
            let reason = if existing.embedding_dim != info.embedding_dim {
                Some(format!(
                    "embedding size {} (not {})",
                    existing.embedding_dim, info.embedding_dim
                ))
            } else if existing.genres != info.genres {
                Some(format!(
                    "genres {:?} (not {:?})",
                    existing.genres, info.genres
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(CatalogError::ModelMismatch {
                    model: model_id.to_owned(),
                    reason,
                });
            }
        }
        let genres =
            serde_json::to_string(&info.genres).map_err(|e| CatalogError::Invalid(one_line(e)))?;
        // INTEGER in PostgreSQL: refused here with a clear message rather than by the driver.
        let dim = i32::try_from(info.embedding_dim).map_err(|_| {
            CatalogError::Invalid(format!(
                "embedding size {} is too large",
                info.embedding_dim
            ))
        })?;
        let config = info.config.to_string();
        self.write(|db| {
            db.execute(
                "INSERT INTO models (id, config_json, genres_json, embedding_dim, registered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET config_json = excluded.config_json",
                params![model_id, &config, &genres, dim, now_ms()],
            )
        })?;
        Ok(())
    }

    fn model(&self, model_id: &str) -> Result<Option<ModelInfo>> {
        self.read(|db| model_in(db, model_id))
    }

    fn model_ids(&self) -> Result<Vec<String>> {
        self.read(|db| db.query_rows("SELECT id FROM models ORDER BY id{C}", &[], |r| r.string(0)))
    }

    fn scan_index(&self, model_id: &str) -> Result<ScanIndex> {
        self.read(|db| {
            let tracks = db.query_rows(
                "SELECT t.id, t.path, t.content_hash, t.size_bytes, t.mtime_ns,
                    t.missing_since IS NOT NULL,
                    EXISTS (SELECT 1 FROM embeddings e
                            WHERE e.track_id = t.id AND e.model_id = ?1)
                 FROM tracks t ORDER BY t.id",
                params![model_id],
                |row| {
                    Ok(IndexedTrack {
                        id: TrackId(row.i64(0)?),
                        path: PathBuf::from(row.text(1)?),
                        file: FileFacts {
                            content_hash: parse_hash(row.text(2)?)?,
                            size_bytes: row.i64(3)?.max(0) as u64,
                            mtime_ns: row.i64(4)?,
                        },
                        missing: row.bool(5)?,
                        has_embedding: row.bool(6)?,
                    })
                },
            )?;
            let failures = db.query_rows(
                "SELECT path, size_bytes, mtime_ns FROM scan_failures
                 WHERE model_id = ?1 AND size_bytes IS NOT NULL AND mtime_ns IS NOT NULL",
                params![model_id],
                |row| {
                    Ok(IndexedFailure {
                        path: PathBuf::from(row.text(0)?),
                        size_bytes: row.i64(1)?.max(0) as u64,
                        mtime_ns: row.i64(2)?,
                    })
                },
            )?;
            Ok(ScanIndex { tracks, failures })
        })
    }

    fn apply_scan_updates(&mut self, model_id: &str, updates: &[ScanUpdate]) -> Result<()> {
        self.write(|db| {
            check_updates(db, model_id, updates)?;
            db.in_transaction(|tx| apply_updates(tx, model_id, updates))
        })
    }

    fn track(&self, id: TrackId) -> Result<Option<Track>> {
        self.read(|db| Ok(tracks_where(db, "id = ?1", params![id.0])?.pop()))
    }

    fn track_by_path(&self, path: &Path) -> Result<Option<Track>> {
        let Some(path) = path_text(path) else {
            return Ok(None);
        };
        self.read(|db| Ok(tracks_where(db, "path = ?1", params![path])?.pop()))
    }

    fn tracks_by_artist_title(&self, artist: &str, title: &str) -> Result<Vec<Track>> {
        let (artist, title) = (fold(artist), fold(title));
        self.read(|db| {
            tracks_where(
                db,
                "artist_key = ?1 AND title_key = ?2 AND missing_since IS NULL ORDER BY id",
                params![&artist, &title],
            )
        })
    }

    fn tracks_by_title(&self, title: &str) -> Result<Vec<Track>> {
        let title = fold(title);
        self.read(|db| {
            tracks_where(
                db,
                "title_key = ?1 AND missing_since IS NULL ORDER BY id",
                params![&title],
            )
        })
    }

    fn search(&self, text: &str, offset: u64, limit: u64) -> Result<Page<Track>> {
        let pattern = contains_pattern(&fold(text));
        // The *_key columns are folded already; the path match ignores case.
        let filter = "missing_since IS NULL AND (artist_key LIKE ?1 ESCAPE '\\'
            OR title_key LIKE ?1 ESCAPE '\\' OR album_key LIKE ?1 ESCAPE '\\'
            OR path {ILIKE} ?1 ESCAPE '\\')";
        let limit = to_i64(limit.min(MAX_PAGE), "limit")?;
        let skip = to_i64(offset, "offset")?;
        self.read(|db| {
            let total = db.query_i64(
                &format!("SELECT count(*) FROM tracks WHERE {filter}"),
                params![&pattern],
            )?;
            // Byte order, NULL artists last and NULL titles first, on both backends.
            let items = tracks_where(
                db,
                &format!(
                    "{filter} ORDER BY artist_key IS NULL, artist_key{{C}},
                     title_key{{C}} NULLS FIRST, path{{C}} LIMIT ?2 OFFSET ?3"
                ),
                params![&pattern, limit, skip],
            )?;
            Ok(Page {
                total: total.max(0) as u64,
                offset,
                items,
            })
        })
    }

    fn purge_missing(&mut self) -> Result<u64> {
        self.write(|db| {
            db.in_transaction(|tx| {
                let removed =
                    tx.execute("DELETE FROM tracks WHERE missing_since IS NOT NULL", &[])?;
                if removed > 0 {
                    tx.tracks_changed()?;
                }
                Ok(removed)
            })
        })
    }

    fn load_embeddings(&self, model_id: &str) -> Result<EmbeddingSet> {
        let model = self
            .model(model_id)?
            .ok_or_else(|| CatalogError::UnknownModel(model_id.to_owned()))?;
        let (dim, n_genres) = (model.embedding_dim, model.genres.len());
        // One snapshot for the count (to size the matrices once) and the rows.
        let (tracks, embeddings, genre_probs) = self.read(|db| {
            db.in_snapshot(|db| {
                let count = db
                    .query_i64(
                        "SELECT count(*) FROM embeddings e JOIN tracks t ON t.id = e.track_id
                         WHERE e.model_id = ?1 AND t.missing_since IS NULL",
                        params![model_id],
                    )?
                    .max(0) as usize;
                let mut tracks = Vec::with_capacity(count);
                let mut embeddings = Vec::with_capacity(count * dim);
                let mut genre_probs = Vec::with_capacity(count * n_genres);
                // Streamed, each vector decoded straight from the driver's buffer.
                db.query_each(
                    "SELECT t.id, t.path, t.artist, t.title, t.content_hash, e.embedding,
                        e.genre_probs
                     FROM embeddings e JOIN tracks t ON t.id = e.track_id
                     WHERE e.model_id = ?1 AND t.missing_since IS NULL
                     ORDER BY t.id",
                    params![model_id],
                    &mut |row| {
                        let id = TrackId(row.i64(0)?);
                        let embedding = row.blob(5)?;
                        let probs = row.blob(6)?;
                        if embedding.len() != dim * 4 || probs.len() != n_genres * 4 {
                            return Err(CatalogError::CorruptData(format!(
                                "track {id}: stored vectors of {} and {} bytes for model \
                                 {model_id:?} (expected {} and {})",
                                embedding.len(),
                                probs.len(),
                                dim * 4,
                                n_genres * 4
                            )));
                        }
                        extend_f32_le(&mut embeddings, embedding)?;
                        extend_f32_le(&mut genre_probs, probs)?;
                        tracks.push(TrackSummary {
                            id,
                            path: PathBuf::from(row.text(1)?),
                            artist: row.opt_string(2)?,
                            title: row.opt_string(3)?,
                            content_hash: parse_hash(row.text(4)?)?,
                        });
                        Ok(())
                    },
                )?;
                Ok((tracks, embeddings, genre_probs))
            })
        })?;
        Ok(EmbeddingSet {
            model_id: model_id.to_owned(),
            model,
            tracks,
            embeddings,
            genre_probs,
        })
    }

    fn embedding(&self, track: TrackId, model_id: &str) -> Result<Option<TrackEmbedding>> {
        self.read(|db| {
            db.query_opt(
                "SELECT e.embedding, e.genre_probs, t.duration_secs
                 FROM embeddings e JOIN tracks t ON t.id = e.track_id
                 WHERE e.track_id = ?1 AND e.model_id = ?2",
                params![track.0, model_id],
                |r| {
                    Ok(TrackEmbedding {
                        embedding: decode_f32_le(r.blob(0)?)?,
                        genre_probs: decode_f32_le(r.blob(1)?)?,
                        duration_secs: r.opt_f64(2)?.unwrap_or(0.0),
                        warning: None,
                    })
                },
            )
        })
    }

    fn store_genre_centroids(&mut self, model_id: &str, centroids: &[GenreCentroid]) -> Result<()> {
        let model = self
            .model(model_id)?
            .ok_or_else(|| CatalogError::UnknownModel(model_id.to_owned()))?;
        for c in centroids {
            if c.centroid.len() != model.embedding_dim || c.genre_index >= model.genres.len() {
                return Err(CatalogError::Invalid(format!(
                    "centroid for genre {} does not fit model {model_id:?}",
                    c.genre_index
                )));
            }
        }
        let now = now_ms();
        self.write(|db| {
            db.in_transaction(|tx| {
                tx.execute(
                    "DELETE FROM genre_centroids WHERE model_id = ?1",
                    params![model_id],
                )?;
                for c in centroids {
                    tx.execute(
                        "INSERT INTO genre_centroids (model_id, genre_index, genre, centroid,
                            member_count, centre_track_id, computed_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            model_id,
                            c.genre_index as i64,
                            &c.genre,
                            &encode_f32_le(&c.centroid),
                            c.member_count as i64,
                            &c.centre_track.map(|t| t.0),
                            now
                        ],
                    )?;
                }
                Ok(())
            })
        })
    }

    fn genre_centroids(&self, model_id: &str) -> Result<Vec<GenreCentroid>> {
        self.read(|db| {
            db.query_rows(
                "SELECT genre_index, genre, centroid, member_count, centre_track_id
                 FROM genre_centroids WHERE model_id = ?1 ORDER BY genre_index",
                params![model_id],
                |r| {
                    Ok(GenreCentroid {
                        genre_index: r.i64(0)?.max(0) as usize,
                        genre: r.string(1)?,
                        centroid: decode_f32_le(r.blob(2)?)?,
                        member_count: r.i64(3)?.max(0) as usize,
                        centre_track: r.opt_i64(4)?.map(TrackId),
                    })
                },
            )
        })
    }

    fn add_user(&mut self, name: &str) -> Result<UserId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CatalogError::Invalid("empty user name".into()));
        }
        self.write(|db| {
            db.execute(
                "INSERT INTO users (name, created_at) VALUES (?1, ?2)
                 ON CONFLICT (name) DO NOTHING",
                params![name, now_ms()],
            )?;
            Ok(UserId(db.query_i64(
                "SELECT id FROM users WHERE name = ?1",
                params![name],
            )?))
        })
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        self.read(|db| {
            db.query_opt(
                "SELECT id, name, created_at FROM users WHERE name = ?1",
                params![name.trim()],
                user_from_row,
            )
        })
    }

    fn users(&self) -> Result<Vec<User>> {
        self.read(|db| {
            db.query_rows(
                "SELECT id, name, created_at FROM users ORDER BY id",
                &[],
                user_from_row,
            )
        })
    }

    fn record_feedback(&mut self, user: UserId, track: TrackId, rating: Rating) -> Result<()> {
        self.write(|db| {
            if !db.exists("SELECT 1 FROM users WHERE id = ?1", params![user.0])? {
                return Err(CatalogError::UnknownUser(user.0));
            }
            if !db.exists("SELECT 1 FROM tracks WHERE id = ?1", params![track.0])? {
                return Err(CatalogError::UnknownTrack(track.0));
            }
            db.execute(
                "INSERT INTO feedback (user_id, track_id, rating, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![user.0, track.0, rating.as_i64(), now_ms()],
            )?;
            Ok(())
        })
    }

    fn clear_feedback(&mut self, user: UserId, track: TrackId) -> Result<u64> {
        self.write(|db| {
            db.execute(
                "DELETE FROM feedback WHERE user_id = ?1 AND track_id = ?2",
                params![user.0, track.0],
            )
        })
    }

    fn feedback(&self, user: UserId) -> Result<Vec<Feedback>> {
        // The latest event per track; ids grow with time, so max(id) is the latest.
        self.read(|db| {
            db.query_rows(
                "SELECT user_id, track_id, rating, created_at FROM feedback
                 WHERE id IN (SELECT max(id) FROM feedback WHERE user_id = ?1
                              GROUP BY track_id)
                 ORDER BY track_id",
                params![user.0],
                |r| {
                    let rating = r.i64(2)?;
                    Ok(Feedback {
                        user: UserId(r.i64(0)?),
                        track: TrackId(r.i64(1)?),
                        rating: Rating::from_i64(rating).ok_or_else(|| {
                            CatalogError::CorruptData(format!("feedback rating {rating}"))
                        })?,
                        created_at: r.i64(3)?,
                    })
                },
            )
        })
    }

    fn failed(&self) -> Result<Vec<ScanFailure>> {
        self.read(|db| {
            db.query_rows(
                "SELECT path, model_id, reason, failed_at FROM scan_failures ORDER BY path{C}",
                &[],
                |r| {
                    Ok(ScanFailure {
                        path: PathBuf::from(r.text(0)?),
                        model_id: r.string(1)?,
                        reason: r.string(2)?,
                        failed_at: r.i64(3)?,
                    })
                },
            )
        })
    }

    fn warned(&self) -> Result<Vec<Track>> {
        self.read(|db| {
            tracks_where(
                db,
                "warning IS NOT NULL AND missing_since IS NULL ORDER BY path{C}",
                &[],
            )
        })
    }

    fn stats(&self) -> Result<CatalogStats> {
        let mut models = Vec::new();
        for model_id in self.model_ids()? {
            let model = self
                .model(&model_id)?
                .ok_or_else(|| CatalogError::UnknownModel(model_id.clone()))?;
            let mut per_genre = vec![0u64; model.genres.len()];
            let mut embedded = 0u64;
            let mut probs = Vec::with_capacity(model.genres.len());
            self.read(|db| {
                db.query_each(
                    "SELECT e.genre_probs FROM embeddings e JOIN tracks t ON t.id = e.track_id
                     WHERE e.model_id = ?1 AND t.missing_since IS NULL",
                    params![&model_id],
                    &mut |row| {
                        probs.clear();
                        extend_f32_le(&mut probs, row.blob(0)?)?;
                        embedded += 1;
                        if let Some(genre) = argmax(&probs).filter(|&g| g < per_genre.len()) {
                            per_genre[genre] += 1;
                        }
                        Ok(())
                    },
                )
            })?;
            models.push(ModelStats {
                model_id,
                embedding_dim: model.embedding_dim,
                embedded_tracks: embedded,
                per_genre: model
                    .genres
                    .iter()
                    .zip(per_genre)
                    .map(|(genre, tracks)| GenreCount {
                        genre: genre.clone(),
                        tracks,
                    })
                    .collect(),
            });
        }
        let counts = self
            .read(|db| {
                db.query_opt(
                    "SELECT (SELECT count(*) FROM tracks WHERE missing_since IS NULL),
                        (SELECT count(*) FROM tracks WHERE missing_since IS NOT NULL),
                        (SELECT count(*) FROM scan_failures),
                        (SELECT count(*) FROM users),
                        (SELECT count(*) FROM feedback)",
                    &[],
                    |r| {
                        let count = |i: usize| Ok::<u64, CatalogError>(r.i64(i)?.max(0) as u64);
                        Ok([count(0)?, count(1)?, count(2)?, count(3)?, count(4)?])
                    },
                )
            })?
            .unwrap_or_default();
        Ok(CatalogStats {
            tracks: counts[0],
            missing_tracks: counts[1],
            failures: counts[2],
            users: counts[3],
            feedback_events: counts[4],
            models,
        })
    }

    fn revision(&self) -> Result<u64> {
        // One row in both schemas (SQLite keys it by id = 1, PostgreSQL by id = TRUE).
        self.read(|db| {
            Ok(db
                .query_i64("SELECT revision FROM catalog_revision", &[])?
                .max(0) as u64)
        })
    }

    fn experiments(&self) -> Option<&dyn ExperimentStore> {
        Some(self)
    }

    fn experiments_mut(&mut self) -> Option<&mut dyn ExperimentStore> {
        Some(self)
    }

    fn upstream(&self) -> Option<&dyn crate::UpstreamStore> {
        Some(self)
    }

    fn upstream_mut(&mut self) -> Option<&mut dyn crate::UpstreamStore> {
        Some(self)
    }
}

fn user_from_row(r: &dyn SqlRow) -> Result<User> {
    Ok(User {
        id: UserId(r.i64(0)?),
        name: r.string(1)?,
        created_at: r.i64(2)?,
    })
}
