//! Scaling out through the built binary: a private PostgreSQL server, three real
//! `musicrec scan DIR --db postgres://... --worker` processes (the built-in model) on one folder of
//! real GTZAN-mini clips, one of them SIGKILLed midway while it holds claims. The other two take
//! its expired claims over (`--lease-secs 2`) and finish. Then: every clip is embedded exactly
//! once; `stats`, `scan --failed` and `experiment` work on the PostgreSQL catalog; and `recommend`
//! gives the same recommendations from it as from a SQLite catalog scanned from the same folder
//! with the same model.
//!
//! And the server side of scaling out: a `serve` process's in-memory index over a PostgreSQL
//! catalog (musicrec-server's `AppState`, here where both crates meet) refreshes when, and only
//! when, the catalog's change revision moved: a re-embedding written by another machine that
//! leaves every count as it was is noticed, users or feedback alone do not reload. The SQLite
//! counterpart is crates/server/tests/refresh.rs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use musicrec_catalog::{CatalogStore, Rating, ScanUpdate};
use musicrec_catalog_pg::PostgresStore;
use musicrec_server::AppState;
use musicrec_testkit::data::{GTZAN_GENRES, copy_clips, gtzan_mini};
use musicrec_testkit::pg::PgServer;
use musicrec_testkit::synthetic::{MODEL, model_info, track};

mod common;
use common::{musicrec, ok_stdout, text};

/// Clips per GTZAN genre in the scanned folder (10 genres).
const PER_GENRE: usize = 2;

/// One `scan --worker` process (one embedding thread, so that it is caught holding claims).
fn spawn_worker(library: &Path, url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_musicrec"))
        .arg("scan")
        .arg(library)
        .args(["--db", url, "--worker", "--jobs", "1", "--lease-secs", "2"])
        // The job queue is under test, not the embedding: the cheap built-in CNN.
        .args(["--model", "cnn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a worker")
}

/// Waits for `child` on a thread of its own, draining both pipes meanwhile (a worker blocked on
/// a full pipe can then never stall the others or the test).
fn collect(child: Child) -> std::thread::JoinHandle<Output> {
    std::thread::spawn(move || child.wait_with_output().expect("wait for a worker"))
}

/// Polls `query` (one row of two counts) until `done(a, b)` or the deadline.
fn wait_for(
    db: &mut postgres::Client,
    query: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
    deadline: Instant,
    done: impl Fn(i64, i64) -> bool,
) -> bool {
    while Instant::now() < deadline {
        if let Ok(row) = db.query_one(query, params)
            && done(row.get(0), row.get(1))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The number before `what` in a worker's summary line ("worker NAME: 7 embedded, ...").
fn reported(stdout: &str, what: &str) -> usize {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("worker "))
        .unwrap_or_else(|| panic!("no worker summary in {stdout:?}"));
    let (_, counts) = line.split_once(": ").unwrap();
    counts
        .split(", ")
        .find_map(|part| part.strip_suffix(what)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {what:?} count in {line:?}"))
}

/// `recommend --format json` from `db`: (path, score) of each recommendation.
fn recommendations(db: &str, seeds: &[PathBuf], method: &str) -> Vec<(String, f64)> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "recommend".into(),
        "--db".into(),
        db.into(),
        "--format".into(),
        "json".into(),
        "--method".into(),
        method.into(),
        "-k".into(),
        "5".into(),
    ];
    for seed in seeds {
        args.push("--seed".into());
        args.push(seed.into());
    }
    let out = ok_stdout(
        musicrec(&args),
        &format!("recommend --method {method} --db {db}"),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    json["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn three_workers_one_killed_every_clip_embedded_once_and_sqlite_recommends_the_same() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let Some(server) = PgServer::shared() else {
        return;
    };
    let started = Instant::now();
    let url = server.new_database("scale_out");
    let work = tempfile::tempdir().unwrap();
    let library = work.path().join("music");
    let clips: BTreeSet<PathBuf> = copy_clips(&gtzan, &library, 0..PER_GENRE)
        .into_iter()
        .collect();
    assert_eq!(clips.len(), GTZAN_GENRES.len() * PER_GENRE);
    let deadline = started + Duration::from_secs(120);
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();

    // The victim starts alone and is caught having completed a job while holding others; the
    // two survivors start then, and the victim is killed once they are working too, at a
    // moment it holds claims.
    let mut victim = spawn_worker(&library, &url);
    let victim_pid = victim.id();
    // Workers are named host:pid.
    let victim_name = format!("%:{victim_pid}");
    let holds_and_did = "SELECT count(*) FILTER (WHERE done_by LIKE $1),
                                count(*) FILTER (WHERE claimed_by LIKE $1 AND state = 'pending')
                         FROM scan_jobs";
    let victim_working = wait_for(&mut db, holds_and_did, &[&victim_name], deadline, |d, h| {
        d >= 1 && h >= 1
    });
    if !victim_working {
        victim.kill().unwrap();
        let out = victim.wait_with_output().unwrap();
        panic!(
            "the first worker never completed a job while holding another:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    let survivors = [spawn_worker(&library, &url), spawn_worker(&library, &url)];
    let survivor_pids: Vec<u32> = survivors.iter().map(Child::id).collect();
    let survivors_working = wait_for(
        &mut db,
        "SELECT count(*) FILTER (WHERE done_by NOT LIKE $1), count(*) FILTER (WHERE state = 'pending')
         FROM scan_jobs",
        &[&victim_name],
        deadline,
        |d, _| d >= 1,
    );
    let caught = survivors_working
        && wait_for(&mut db, holds_and_did, &[&victim_name], deadline, |_, h| {
            h >= 1
        });
    victim.kill().unwrap(); // SIGKILL: no cleanup, its claims stay until their lease expires
    let victim_out = victim.wait_with_output().unwrap();
    assert!(
        caught,
        "the victim was not caught holding claims while the others worked:\n{}",
        text(&victim_out.stderr)
    );
    let held_at_kill: Vec<String> = db
        .query(
            "SELECT path FROM scan_jobs WHERE claimed_by LIKE $1 AND state = 'pending'",
            &[&victim_name],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!held_at_kill.is_empty());
    let survivor_outputs: Vec<Output> = survivors
        .into_iter()
        .map(collect)
        .map(|h| h.join().unwrap())
        .collect();
    let scanned = started.elapsed();
    let mut survivor_embedded = 0;
    for out in &survivor_outputs {
        let stdout = ok_stdout(out.clone(), "a surviving worker");
        assert!(stdout.contains("queue empty"), "{stdout}");
        assert_eq!(reported(&stdout, "failed"), 0, "{stdout}");
        survivor_embedded += reported(&stdout, "embedded");
    }

    // The queue: one done job per clip; the victim's held claims finished by a survivor, on a
    // later claim.
    let rows = db
        .query(
            "SELECT path, state, done_by, attempts, outcome FROM scan_jobs",
            &[],
        )
        .unwrap();
    let jobs: BTreeMap<PathBuf, (String, String, i32, String)> = rows
        .iter()
        .map(|r| {
            (
                PathBuf::from(r.get::<_, String>(0)),
                (r.get(1), r.get(2), r.get(3), r.get(4)),
            )
        })
        .collect();
    assert_eq!(jobs.keys().cloned().collect::<BTreeSet<_>>(), clips);
    assert_eq!(rows.len(), clips.len(), "one job per clip");
    for (path, (state, done_by, _, outcome)) in &jobs {
        assert_eq!(
            (state.as_str(), outcome.as_str()),
            ("done", "embedded"),
            "{path:?}"
        );
        let pid: u32 = done_by.rsplit(':').next().unwrap().parse().unwrap();
        assert!(
            pid == victim_pid || survivor_pids.contains(&pid),
            "{path:?} done by {done_by}"
        );
    }
    for path in &held_at_kill {
        let (_, done_by, attempts, _) = &jobs[&PathBuf::from(path)];
        let pid: u32 = done_by.rsplit(':').next().unwrap().parse().unwrap();
        assert!(
            survivor_pids.contains(&pid),
            "{path} taken over, not {done_by}"
        );
        assert!(*attempts >= 2, "{path} was claimed again");
    }
    let victim_done: i64 = db
        .query_one(
            "SELECT count(*) FROM scan_jobs WHERE done_by LIKE $1",
            &[&victim_name],
        )
        .unwrap()
        .get(0);
    assert!(victim_done >= 1);
    // Done exactly once: the jobs the survivors report embedding plus those the victim
    // committed before it died are exactly the clips (a job stored twice would count twice).
    assert_eq!(
        survivor_embedded + victim_done as usize,
        clips.len(),
        "survivors: {:?}",
        survivor_outputs
            .iter()
            .map(|o| text(&o.stdout))
            .collect::<Vec<_>>()
    );

    // The catalog: per clip one track holding one embedding, and exactly one committed write
    // per clip (each stored result bumps the revision once; the walks had nothing else to do).
    let per_clip: BTreeMap<PathBuf, i64> = db
        .query(
            "SELECT t.path, count(e.track_id) FROM tracks t
             LEFT JOIN embeddings e ON e.track_id = t.id GROUP BY t.path",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (PathBuf::from(r.get::<_, String>(0)), r.get(1)))
        .collect();
    assert_eq!(
        per_clip,
        clips
            .iter()
            .map(|c| (c.clone(), 1))
            .collect::<BTreeMap<_, _>>()
    );
    let store = PostgresStore::connect(&url).unwrap();
    assert_eq!(store.revision().unwrap(), clips.len() as u64);
    drop(store);

    // `stats` and `scan --failed` on the PostgreSQL catalog.
    let stats = ok_stdout(musicrec(&["stats", "--db", &url, "--json"]), "stats");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["tracks"], clips.len());
    assert_eq!(stats["failures"], 0);
    assert_eq!(stats["models"].as_array().unwrap().len(), 1);
    assert_eq!(stats["models"][0]["embedded_tracks"], clips.len());
    let failed = ok_stdout(
        musicrec(&["scan", "--failed", "--db", &url]),
        "scan --failed",
    );
    assert_eq!(failed.trim(), "no recorded failures");
    // A worker started on a finished queue finds nothing to do.
    let again = ok_stdout(
        spawn_worker(&library, &url).wait_with_output().unwrap(),
        "a worker on a finished queue",
    );
    assert!(
        again.contains(&format!(
            "{} files: 0 queued, {} unchanged",
            clips.len(),
            clips.len()
        )),
        "{again}"
    );

    // The same folder and model into SQLite: the same recommendations.
    let sqlite = work.path().join("catalog.db");
    let sqlite = sqlite.to_str().unwrap();
    let scan = ok_stdout(
        musicrec(&[
            "scan".as_ref(),
            library.as_os_str(),
            "--db".as_ref(),
            sqlite.as_ref(),
            "--model".as_ref(),
            "cnn".as_ref(),
        ]),
        "SQLite scan",
    );
    assert!(scan.contains(&format!("{} added", clips.len())), "{scan}");
    let seeds: Vec<PathBuf> = ["blues", "classical", "jazz", "metal", "reggae"]
        .iter()
        .map(|g| library.join(g).join(format!("{g}.00000.wav")))
        .collect();
    for method in ["similarity", "genre"] {
        let (from_pg, from_sqlite) = (
            recommendations(&url, &seeds, method),
            recommendations(sqlite, &seeds, method),
        );
        assert_eq!(from_pg.len(), 5);
        let paths = |r: &[(String, f64)]| r.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&from_pg), paths(&from_sqlite), "--method {method}");
        for ((_, a), (_, b)) in from_pg.iter().zip(&from_sqlite) {
            assert!(
                (a - b).abs() < 1e-6,
                "--method {method}: {from_pg:?} vs {from_sqlite:?}"
            );
        }
    }

    // Listening experiments are stored in PostgreSQL too.
    ok_stdout(
        musicrec(&[
            "experiment",
            "new",
            "--name",
            "sim",
            "--methods",
            "similarity,genre",
            "--k",
            "2",
            "--decoys",
            "2",
            "--db",
            &url,
        ]),
        "experiment new",
    );
    ok_stdout(
        musicrec(&[
            "experiment",
            "simulate",
            "--study",
            "sim",
            "--listeners",
            "4",
            "--seeds-per-listener",
            "1",
            "--db",
            &url,
        ]),
        "experiment simulate",
    );
    let analysis = ok_stdout(
        musicrec(&["experiment", "analyze", "--study", "sim", "--db", &url]),
        "experiment analyze",
    );
    assert!(analysis.to_lowercase().contains("simulated"), "{analysis}");
    eprintln!(
        "3 workers scanned {} clips in {scanned:?} (the killed one stored {victim_done} and held \
         {} claims the others took over); whole test {:?}",
        clips.len(),
        held_at_kill.len(),
        started.elapsed()
    );
}

/// The server's checks run as `musicrec serve` runs them: on a tokio runtime whose blocking
/// threads hold the store (the synchronous client must not block a runtime thread), while the
/// writes come from outside it, as from another process.
#[test]
fn a_server_over_postgres_notices_a_re_embedding_with_unchanged_counts() {
    let Some(server) = PgServer::shared() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let changed = |state: &AppState| runtime.block_on(state.reload_if_changed()).unwrap();
    let url = server.new_database("refresh");
    let mut writer = PostgresStore::connect(&url).unwrap();
    // Before any model: an empty index, and no reload while nothing is embedded.
    let state = AppState::new(Box::new(PostgresStore::connect(&url).unwrap()), None).unwrap();
    assert!(state.index().is_none());
    writer.register_model(MODEL, &model_info()).unwrap();
    assert!(!changed(&state));

    let first: Vec<_> = (0..6).map(|i| track(i, 1.0)).collect();
    writer.apply_scan_updates(MODEL, &first).unwrap();
    assert!(changed(&state), "the first scan");
    assert_eq!(state.index().unwrap().set.len(), 6);
    assert_eq!(state.loaded_revision(), writer.revision().unwrap());
    assert!(!changed(&state), "nothing changed");

    // Writes that do not touch tracks or embeddings do not reload.
    let ada = writer.add_user("ada").unwrap();
    let id = writer
        .track_by_path(&PathBuf::from("/music/t002.flac"))
        .unwrap()
        .unwrap()
        .id;
    writer.record_feedback(ada, id, Rating::Like).unwrap();
    writer.recompute_genre_centroids(MODEL).unwrap();
    assert!(!changed(&state));

    // Another machine re-embeds track 2: same tracks, same counts, same genres.
    let stats = writer.stats().unwrap();
    writer.apply_scan_updates(MODEL, &[track(2, -1.0)]).unwrap();
    assert_eq!(writer.stats().unwrap(), stats, "the counts did not change");
    assert!(changed(&state), "the server noticed");
    let reloaded = state.index().unwrap();
    let ScanUpdate::Embedded { output, .. } = track(2, -1.0) else {
        unreachable!()
    };
    assert_eq!(
        reloaded.set.embedding(reloaded.row_of(id).unwrap()),
        output.embedding.as_slice()
    );
    assert!(!changed(&state), "once only");

    // A purge is a change too.
    writer
        .apply_scan_updates(MODEL, &[ScanUpdate::Missing { track: id }])
        .unwrap();
    assert_eq!(writer.purge_missing().unwrap(), 1);
    assert!(changed(&state));
    assert_eq!(state.index().unwrap().set.len(), 5);
}
