//! [`UpstreamStore`] for every [`SqlStore`], once for SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};

use super::{Db, SqlRow, SqlStore, now_ms, params};
use crate::{CatalogError, Result, TrackId, UpstreamSong, UpstreamStore, UpstreamSync};

fn song_from_row(row: &dyn SqlRow) -> Result<UpstreamSong> {
    Ok(UpstreamSong {
        upstream_id: row.string(0)?,
        track: row.opt_i64(1)?.map(TrackId),
        matched_by: row.opt_string(2)?,
        song_json: row.string(3)?,
    })
}

fn songs_of(db: &mut dyn Db, upstream: &str) -> Result<Vec<UpstreamSong>> {
    db.query_rows(
        "SELECT upstream_id, track_id, matched_by, song_json FROM upstream_songs
         WHERE upstream = ?1 ORDER BY upstream_id{C}",
        params![upstream],
        song_from_row,
    )
}

impl<S: SqlStore + 'static> UpstreamStore for S {
    fn upstream_songs(&self, upstream: &str) -> Result<Vec<UpstreamSong>> {
        self.read(|db| songs_of(db, upstream))
    }

    fn sync_upstream_songs(
        &mut self,
        upstream: &str,
        songs: &[UpstreamSong],
    ) -> Result<UpstreamSync> {
        let mut ids = HashSet::with_capacity(songs.len());
        if let Some(twice) = songs.iter().find(|s| !ids.insert(s.upstream_id.as_str())) {
            return Err(CatalogError::Invalid(format!(
                "upstream song id {:?} is listed twice",
                twice.upstream_id
            )));
        }
        self.write(|db| {
            db.in_transaction(|tx| {
                let mut sync = UpstreamSync::default();
                let stored: HashMap<String, UpstreamSong> = songs_of(tx, upstream)?
                    .into_iter()
                    .map(|s| (s.upstream_id.clone(), s))
                    .collect();
                let now = now_ms();
                for song in songs {
                    let track = song.track.map(|t| t.0);
                    match stored.get(&song.upstream_id) {
                        Some(old) if old == song => {
                            sync.unchanged += 1;
                            continue;
                        }
                        Some(_) => sync.updated += 1,
                        None => sync.added += 1,
                    }
                    tx.execute(
                        "INSERT INTO upstream_songs
                         (upstream, upstream_id, track_id, matched_by, song_json, synced_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (upstream, upstream_id) DO UPDATE SET
                         track_id = excluded.track_id, matched_by = excluded.matched_by,
                         song_json = excluded.song_json, synced_at = excluded.synced_at",
                        params![
                            upstream,
                            &song.upstream_id,
                            &track,
                            &song.matched_by,
                            &song.song_json,
                            now
                        ],
                    )?;
                }
                for old in stored.keys().filter(|id| !ids.contains(id.as_str())) {
                    tx.execute(
                        "DELETE FROM upstream_songs WHERE upstream = ?1 AND upstream_id = ?2",
                        params![upstream, old],
                    )?;
                    sync.removed += 1;
                }
                Ok(sync)
            })
        })
    }
}
