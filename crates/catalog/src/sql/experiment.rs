//! [`ExperimentStore`] for every [`SqlStore`], once for SQLite and PostgreSQL.
//!
//! Several processes may write one study at once (a web page and a `musicrec experiment` run),
//! so the checks are made inside the writing transaction: creating a session and marking a study
//! simulated read the study's row locked (`FOR UPDATE` in PostgreSQL; SQLite's write transaction
//! holds the whole database), so a participant never gets two sessions and a study never mixes
//! real and simulated ones, and a name taken concurrently is caught by its unique constraint
//! (`ON CONFLICT DO NOTHING`) and reported as taken.

use std::path::PathBuf;

use super::{Db, SqlRow, SqlStore, now_ms, one_line, params, utf8_path};
use crate::{
    CatalogError, ExperimentResponse, ExperimentStore, NewStudy, Rating, Result, Session,
    SessionId, SessionItem, Study, StudyId, TrackId, validate_new_study,
};

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| CatalogError::Invalid(one_line(e)))
}

fn json_value<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| CatalogError::CorruptData(format!("{what}: {}", one_line(e))))
}

fn count(value: usize, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| CatalogError::Invalid(format!("{what} {value} is too large")))
}

const STUDY_COLUMNS: &str = "id, name, methods_json, k, decoys, simulated, created_at";

fn study_from_row(row: &dyn SqlRow) -> Result<Study> {
    let name = row.string(1)?;
    Ok(Study {
        id: StudyId(row.i64(0)?),
        methods: json_value(row.text(2)?, &format!("study {name:?} methods"))?,
        name,
        k: row.i64(3)?.max(0) as usize,
        decoys: row.i64(4)?.max(0) as usize,
        simulated: row.bool(5)?,
        created_at: row.i64(6)?,
    })
}

fn studies_where(
    db: &mut dyn Db,
    sql_where: &str,
    params: &[super::Value<'_>],
) -> Result<Vec<Study>> {
    let sql = format!("SELECT {STUDY_COLUMNS} FROM studies WHERE {sql_where}");
    db.query_rows(&sql, params, study_from_row)
}

/// Sessions matching `sql_where`, with their items.
fn sessions_where(
    db: &mut dyn Db,
    sql_where: &str,
    params: &[super::Value<'_>],
) -> Result<Vec<Session>> {
    let sql = format!(
        "SELECT id, study_id, participant, seeds_json, simulated, created_at
         FROM study_sessions WHERE {sql_where}"
    );
    let rows = db.query_rows(&sql, params, |r| {
        Ok((
            r.i64(0)?,
            r.i64(1)?,
            r.string(2)?,
            r.string(3)?,
            r.bool(4)?,
            r.i64(5)?,
        ))
    })?;
    let mut sessions = Vec::with_capacity(rows.len());
    for (id, study, participant, seeds, simulated, created_at) in rows {
        let seeds: Vec<i64> = json_value(&seeds, &format!("session {id} seeds"))?;
        let items = db.query_rows(
            "SELECT track_id, track_path, origins_json FROM session_items
             WHERE session_id = ?1 ORDER BY position",
            params![id],
            |r| {
                Ok(SessionItem {
                    track: TrackId(r.i64(0)?),
                    path: PathBuf::from(r.text(1)?),
                    origins: json_value(r.text(2)?, &format!("session {id} item origins"))?,
                })
            },
        )?;
        sessions.push(Session {
            id: SessionId(id),
            study: StudyId(study),
            participant,
            seeds: seeds.into_iter().map(TrackId).collect(),
            items,
            simulated,
            created_at,
        });
    }
    Ok(sessions)
}

/// The study's row, locked until the transaction ends, or the "no study" error.
fn lock_study(tx: &mut dyn Db, id: StudyId) -> Result<Study> {
    studies_where(tx, "id = ?1{FOR_UPDATE}", params![id.0])?
        .pop()
        .ok_or_else(|| CatalogError::Invalid(format!("no study with id {id}")))
}

impl<S: SqlStore + 'static> ExperimentStore for S {
    fn create_study(&mut self, study: &NewStudy) -> Result<Study> {
        validate_new_study(study)?;
        let name = study.name.trim();
        let methods = json_text(&study.methods)?;
        let (k, decoys) = (count(study.k, "k")?, count(study.decoys, "decoys")?);
        let created = self.write(|db| {
            db.query_opt(
                &format!(
                    "INSERT INTO studies (name, methods_json, k, decoys, simulated, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (name) DO NOTHING
                     RETURNING {STUDY_COLUMNS}"
                ),
                params![name, &methods, k, decoys, study.simulated, now_ms()],
                study_from_row,
            )
        })?;
        created
            .ok_or_else(|| CatalogError::Invalid(format!("a study named {name:?} already exists")))
    }

    fn study_by_name(&self, name: &str) -> Result<Option<Study>> {
        self.read(|db| Ok(studies_where(db, "name = ?1", params![name.trim()])?.pop()))
    }

    fn study(&self, id: StudyId) -> Result<Option<Study>> {
        self.read(|db| Ok(studies_where(db, "id = ?1", params![id.0])?.pop()))
    }

    fn studies(&self) -> Result<Vec<Study>> {
        self.read(|db| studies_where(db, "TRUE ORDER BY id", &[]))
    }

    fn mark_study_simulated(&mut self, id: StudyId) -> Result<()> {
        self.write(|db| {
            db.in_transaction(|tx| {
                let study = lock_study(tx, id)?;
                if study.simulated {
                    return Ok(());
                }
                if tx.exists(
                    "SELECT 1 FROM study_sessions WHERE study_id = ?1 AND NOT simulated LIMIT 1",
                    params![id.0],
                )? {
                    return Err(CatalogError::Invalid(format!(
                        "study {:?} already has real participants; simulate into a new study",
                        study.name
                    )));
                }
                tx.execute(
                    "UPDATE studies SET simulated = TRUE WHERE id = ?1",
                    params![id.0],
                )?;
                Ok(())
            })
        })
    }

    fn create_session(
        &mut self,
        study: StudyId,
        participant: &str,
        seeds: &[TrackId],
        items: &[SessionItem],
        simulated: bool,
    ) -> Result<Session> {
        let participant = participant.trim();
        if participant.is_empty() {
            return Err(CatalogError::Invalid("empty participant name".into()));
        }
        let seeds = json_text(&seeds.iter().map(|t| t.0).collect::<Vec<_>>())?;
        self.write(|db| {
            db.in_transaction(|tx| {
                // Held until commit: concurrent sessions of this study and marking it
                // simulated wait.
                let found = lock_study(tx, study)?;
                if found.simulated && !simulated {
                    return Err(CatalogError::Invalid(format!(
                        "study {:?} is simulated; real participants go into a study of their own",
                        found.name
                    )));
                }
                if !found.simulated && simulated {
                    return Err(CatalogError::Invalid(format!(
                        "study {:?} is not marked simulated",
                        found.name
                    )));
                }
                if let Some(existing) = sessions_where(
                    tx,
                    "study_id = ?1 AND participant = ?2",
                    params![study.0, participant],
                )?
                .pop()
                {
                    return Err(CatalogError::Invalid(format!(
                        "participant {participant:?} already has session {} in study {:?}",
                        existing.id, found.name
                    )));
                }
                if items.is_empty() {
                    return Err(CatalogError::Invalid(
                        "a session needs at least one item".into(),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    if items[..i].iter().any(|other| other.track == item.track) {
                        return Err(CatalogError::Invalid(format!(
                            "track {} is listed twice in the session",
                            item.track
                        )));
                    }
                    if item.origins.is_empty() {
                        return Err(CatalogError::Invalid(format!(
                            "track {} has no recorded origin",
                            item.track
                        )));
                    }
                    if !tx.exists("SELECT 1 FROM tracks WHERE id = ?1", params![item.track.0])? {
                        return Err(CatalogError::UnknownTrack(item.track.0));
                    }
                }
                let session = tx.query_i64(
                    "INSERT INTO study_sessions (study_id, participant, seeds_json, simulated,
                        created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                    params![study.0, participant, &seeds, simulated, now_ms()],
                )?;
                for (position, item) in items.iter().enumerate() {
                    let position = i32::try_from(position).map_err(|_| {
                        CatalogError::Invalid(format!(
                            "a session of {} items is too long",
                            items.len()
                        ))
                    })?;
                    tx.execute(
                        "INSERT INTO session_items (session_id, position, track_id, track_path,
                            origins_json)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![
                            session,
                            position,
                            item.track.0,
                            utf8_path(&item.path)?,
                            &json_text(&item.origins)?
                        ],
                    )?;
                }
                sessions_where(tx, "id = ?1", params![session])?
                    .pop()
                    .ok_or_else(|| CatalogError::CorruptData(format!("session {session} vanished")))
            })
        })
    }

    fn session(&self, id: SessionId) -> Result<Option<Session>> {
        self.read(|db| Ok(sessions_where(db, "id = ?1", params![id.0])?.pop()))
    }

    fn session_of(&self, study: StudyId, participant: &str) -> Result<Option<Session>> {
        self.read(|db| {
            Ok(sessions_where(
                db,
                "study_id = ?1 AND participant = ?2",
                params![study.0, participant.trim()],
            )?
            .pop())
        })
    }

    fn sessions(&self, study: StudyId) -> Result<Vec<Session>> {
        self.read(|db| sessions_where(db, "study_id = ?1 ORDER BY id", params![study.0]))
    }

    fn record_response(
        &mut self,
        session: SessionId,
        track: TrackId,
        round: u32,
        rating: Rating,
    ) -> Result<()> {
        if round == 0 {
            return Err(CatalogError::Invalid("rounds count from 1".into()));
        }
        self.write(|db| {
            if !db.exists(
                "SELECT 1 FROM study_sessions WHERE id = ?1",
                params![session.0],
            )? {
                return Err(CatalogError::Invalid(format!(
                    "no session with id {session}"
                )));
            }
            if !db.exists(
                "SELECT 1 FROM session_items WHERE session_id = ?1 AND track_id = ?2",
                params![session.0, track.0],
            )? {
                return Err(CatalogError::Invalid(format!(
                    "track {track} is not in session {session}: only the session's items can be \
                     rated"
                )));
            }
            db.execute(
                "INSERT INTO session_responses (session_id, track_id, round, rating, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    session.0,
                    track.0,
                    i64::from(round),
                    rating.as_i64(),
                    now_ms()
                ],
            )?;
            Ok(())
        })
    }

    fn responses(&self, study: StudyId) -> Result<Vec<ExperimentResponse>> {
        // The latest event per (session, track, round); ids grow with time.
        self.read(|db| {
            db.query_rows(
                "SELECT r.session_id, r.track_id, r.round, r.rating, r.created_at
                 FROM session_responses r
                 WHERE r.id IN (
                     SELECT max(x.id) FROM session_responses x
                     JOIN study_sessions s ON s.id = x.session_id
                     WHERE s.study_id = ?1
                     GROUP BY x.session_id, x.track_id, x.round)
                 ORDER BY r.session_id, r.round, r.track_id",
                params![study.0],
                |r| {
                    let (round, rating) = (r.i64(2)?, r.i64(3)?);
                    Ok(ExperimentResponse {
                        session: SessionId(r.i64(0)?),
                        track: TrackId(r.i64(1)?),
                        round: u32::try_from(round).map_err(|_| {
                            CatalogError::CorruptData(format!("response round {round}"))
                        })?,
                        rating: Rating::from_i64(rating).ok_or_else(|| {
                            CatalogError::CorruptData(format!("response rating {rating}"))
                        })?,
                        created_at: r.i64(4)?,
                    })
                },
            )
        })
    }
}
