//! Listening experiments in PostgreSQL: [`ExperimentStore`] for [`PostgresStore`], on the tables
//! of migration V3, with the SQLite store's semantics and error messages (the same checks in the
//! same order, see `crates/catalog/src/sqlite.rs`).
//!
//! Several processes may write one study at once (a web page and a `musicrec experiment` run,
//! say), so the checks that SQLite's single writer makes safe by itself are made safe here by
//! locks: creating a session and marking a study simulated both lock the study's row
//! (`SELECT ... FOR UPDATE`) before checking, so a participant never gets two sessions and a
//! study never mixes real and simulated ones, and a name taken concurrently is caught by its
//! unique constraint (`ON CONFLICT DO NOTHING`) and reported as taken.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use musicrec_catalog::{
    CatalogError, ExperimentResponse, ExperimentStore, NewStudy, Rating, Result, Session,
    SessionId, SessionItem, Study, StudyId, TrackId, validate_new_study,
};
use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use crate::PostgresStore;
use crate::error::{db_error, one_line};
use crate::store::{now_ms, utf8_path};

fn json_text(value: impl Into<serde_json::Value>) -> Result<String> {
    serde_json::to_string(&value.into()).map_err(|e| CatalogError::Invalid(one_line(e)))
}

fn json_value<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| CatalogError::CorruptData(format!("{what}: {}", one_line(e))))
}

fn to_i64(value: usize, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| CatalogError::Invalid(format!("{what} {value} is too large")))
}

const STUDY_COLUMNS: &str = "id, name, methods_json, k, decoys, simulated, created_at";

fn study_from_row(row: &Row) -> Result<Study> {
    let name: String = row.get(1);
    Ok(Study {
        id: StudyId(row.get(0)),
        methods: json_value(row.get(2), &format!("study {name:?} methods"))?,
        name,
        k: row.get::<_, i64>(3).max(0) as usize,
        decoys: row.get::<_, i64>(4).max(0) as usize,
        simulated: row.get(5),
        created_at: row.get(6),
    })
}

/// Studies matching `sql_where`, on any client (the connection, or a transaction).
fn studies_where<C: GenericClient>(
    client: &mut C,
    label: &str,
    sql_where: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Study>> {
    client
        .query(
            format!("SELECT {STUDY_COLUMNS} FROM studies WHERE {sql_where}").as_str(),
            params,
        )
        .map_err(|e| db_error(label, e))?
        .iter()
        .map(study_from_row)
        .collect()
}

/// Sessions matching `sql_where` with their items (two queries however many sessions match).
fn sessions_where<C: GenericClient>(
    client: &mut C,
    label: &str,
    sql_where: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Session>> {
    let err = |e| db_error(label, e);
    let rows = client
        .query(
            format!(
                "SELECT id, study_id, participant, seeds_json, simulated, created_at
                 FROM study_sessions WHERE {sql_where}"
            )
            .as_str(),
            params,
        )
        .map_err(err)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let mut items: HashMap<i64, Vec<SessionItem>> = HashMap::new();
    for row in client
        .query(
            "SELECT session_id, track_id, track_path, origins_json FROM session_items
             WHERE session_id = ANY($1) ORDER BY session_id, position",
            &[&ids],
        )
        .map_err(err)?
    {
        let session: i64 = row.get(0);
        items.entry(session).or_default().push(SessionItem {
            track: TrackId(row.get(1)),
            path: PathBuf::from(row.get::<_, String>(2)),
            origins: json_value(row.get(3), &format!("session {session} item origins"))?,
        });
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.get(0);
            let seeds: Vec<i64> = json_value(row.get(3), &format!("session {id} seeds"))?;
            Ok(Session {
                id: SessionId(id),
                study: StudyId(row.get(1)),
                participant: row.get(2),
                seeds: seeds.into_iter().map(TrackId).collect(),
                items: items.remove(&id).unwrap_or_default(),
                simulated: row.get(4),
                created_at: row.get(5),
            })
        })
        .collect()
}

/// The study's row, locked until the transaction ends, or the "no study" error.
fn lock_study(tx: &mut postgres::Transaction<'_>, label: &str, id: StudyId) -> Result<Study> {
    studies_where(tx, label, "id = $1 FOR UPDATE", &[&id.0])?
        .pop()
        .ok_or_else(|| CatalogError::Invalid(format!("no study with id {id}")))
}

fn has_real_sessions<C: GenericClient>(
    client: &mut C,
    label: &str,
    study: StudyId,
) -> Result<bool> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM study_sessions WHERE study_id = $1 AND NOT simulated LIMIT 1",
            &[&study.0],
        )
        .map_err(|e| db_error(label, e))?
        .is_some())
}

impl ExperimentStore for PostgresStore {
    fn create_study(&mut self, study: &NewStudy) -> Result<Study> {
        validate_new_study(study)?;
        let name = study.name.trim();
        let (client, _, label) = self.inner_mut();
        let rows = client
            .query(
                format!(
                    "INSERT INTO studies (name, methods_json, k, decoys, simulated, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (name) DO NOTHING
                     RETURNING {STUDY_COLUMNS}"
                )
                .as_str(),
                &[
                    &name,
                    &json_text(study.methods.clone())?,
                    &to_i64(study.k, "k")?,
                    &to_i64(study.decoys, "decoys")?,
                    &study.simulated,
                    &now_ms(),
                ],
            )
            .map_err(|e| db_error(label, e))?;
        match rows.first() {
            Some(row) => study_from_row(row),
            None => Err(CatalogError::Invalid(format!(
                "a study named {name:?} already exists"
            ))),
        }
    }

    fn study_by_name(&self, name: &str) -> Result<Option<Study>> {
        self.with(|inner| {
            Ok(studies_where(
                &mut inner.client,
                self.label(),
                "name = $1",
                &[&name.trim()],
            )?
            .pop())
        })
    }

    fn study(&self, id: StudyId) -> Result<Option<Study>> {
        self.with(|inner| {
            Ok(studies_where(&mut inner.client, self.label(), "id = $1", &[&id.0])?.pop())
        })
    }

    fn studies(&self) -> Result<Vec<Study>> {
        self.with(|inner| studies_where(&mut inner.client, self.label(), "TRUE ORDER BY id", &[]))
    }

    fn mark_study_simulated(&mut self, id: StudyId) -> Result<()> {
        let (client, _, label) = self.inner_mut();
        let err = |e| db_error(label, e);
        let mut tx = client.transaction().map_err(err)?;
        let study = lock_study(&mut tx, label, id)?;
        if study.simulated {
            return Ok(());
        }
        if has_real_sessions(&mut tx, label, id)? {
            return Err(CatalogError::Invalid(format!(
                "study {:?} already has real participants; simulate into a new study",
                study.name
            )));
        }
        tx.execute(
            "UPDATE studies SET simulated = TRUE WHERE id = $1",
            &[&id.0],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
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
        let (client, _, label) = self.inner_mut();
        let err = |e| db_error(label, e);
        let mut tx = client.transaction().map_err(err)?;
        // Held until commit: concurrent sessions of this study and marking it simulated wait.
        let found = lock_study(&mut tx, label, study)?;
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
            &mut tx,
            label,
            "study_id = $1 AND participant = $2",
            &[&study.0, &participant],
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
        let ids: Vec<i64> = items.iter().map(|i| i.track.0).collect();
        let stored: HashSet<i64> = tx
            .query("SELECT id FROM tracks WHERE id = ANY($1)", &[&ids])
            .map_err(err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
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
            if !stored.contains(&item.track.0) {
                return Err(CatalogError::UnknownTrack(item.track.0));
            }
        }
        let session: i64 = tx
            .query_one(
                "INSERT INTO study_sessions (study_id, participant, seeds_json, simulated,
                    created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &study.0,
                    &participant,
                    &json_text(seeds.iter().map(|t| t.0).collect::<Vec<_>>())?,
                    &simulated,
                    &now_ms(),
                ],
            )
            .map_err(err)?
            .get(0);
        let insert = tx
            .prepare(
                "INSERT INTO session_items (session_id, position, track_id, track_path,
                    origins_json)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .map_err(err)?;
        for (position, item) in items.iter().enumerate() {
            let position = i32::try_from(position).map_err(|_| {
                CatalogError::Invalid(format!("a session of {} items is too long", items.len()))
            })?;
            tx.execute(
                &insert,
                &[
                    &session,
                    &position,
                    &item.track.0,
                    &utf8_path(&item.path)?,
                    &json_text(item.origins.clone())?,
                ],
            )
            .map_err(err)?;
        }
        let stored = sessions_where(&mut tx, label, "id = $1", &[&session])?
            .pop()
            .ok_or_else(|| CatalogError::CorruptData(format!("session {session} vanished")))?;
        tx.commit().map_err(err)?;
        Ok(stored)
    }

    fn session(&self, id: SessionId) -> Result<Option<Session>> {
        self.with(|inner| {
            Ok(sessions_where(&mut inner.client, self.label(), "id = $1", &[&id.0])?.pop())
        })
    }

    fn session_of(&self, study: StudyId, participant: &str) -> Result<Option<Session>> {
        self.with(|inner| {
            Ok(sessions_where(
                &mut inner.client,
                self.label(),
                "study_id = $1 AND participant = $2",
                &[&study.0, &participant.trim()],
            )?
            .pop())
        })
    }

    fn sessions(&self, study: StudyId) -> Result<Vec<Session>> {
        self.with(|inner| {
            sessions_where(
                &mut inner.client,
                self.label(),
                "study_id = $1 ORDER BY id",
                &[&study.0],
            )
        })
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
        let (client, _, label) = self.inner_mut();
        let err = |e| db_error(label, e);
        if client
            .query_opt("SELECT 1 FROM study_sessions WHERE id = $1", &[&session.0])
            .map_err(err)?
            .is_none()
        {
            return Err(CatalogError::Invalid(format!(
                "no session with id {session}"
            )));
        }
        if client
            .query_opt(
                "SELECT 1 FROM session_items WHERE session_id = $1 AND track_id = $2",
                &[&session.0, &track.0],
            )
            .map_err(err)?
            .is_none()
        {
            return Err(CatalogError::Invalid(format!(
                "track {track} is not in session {session}: only the session's items can be rated"
            )));
        }
        client
            .execute(
                "INSERT INTO session_responses (session_id, track_id, round, rating, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &session.0,
                    &track.0,
                    &i64::from(round),
                    &(rating.as_i64() as i32),
                    &now_ms(),
                ],
            )
            .map_err(err)?;
        Ok(())
    }

    fn responses(&self, study: StudyId) -> Result<Vec<ExperimentResponse>> {
        // The latest event per (session, track, round); identity ids grow with time.
        let rows = self.with(|inner| {
            inner
                .client
                .query(
                    "SELECT r.session_id, r.track_id, r.round, r.rating, r.created_at
                     FROM session_responses r
                     WHERE r.id IN (
                         SELECT max(x.id) FROM session_responses x
                         JOIN study_sessions s ON s.id = x.session_id
                         WHERE s.study_id = $1
                         GROUP BY x.session_id, x.track_id, x.round)
                     ORDER BY r.session_id, r.round, r.track_id",
                    &[&study.0],
                )
                .map_err(|e| db_error(self.label(), e))
        })?;
        rows.iter()
            .map(|r| {
                let round: i64 = r.get(2);
                let rating: i32 = r.get(3);
                Ok(ExperimentResponse {
                    session: SessionId(r.get(0)),
                    track: TrackId(r.get(1)),
                    round: u32::try_from(round).map_err(|_| {
                        CatalogError::CorruptData(format!("response round {round}"))
                    })?,
                    rating: Rating::from_i64(i64::from(rating)).ok_or_else(|| {
                        CatalogError::CorruptData(format!("response rating {rating}"))
                    })?,
                    created_at: r.get(4),
                })
            })
            .collect()
    }
}
