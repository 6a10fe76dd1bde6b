//! Scans of real audio (clips copied from ../shared/data/gtzan-mini into temp folders):
//! first scan, failures, incremental rescans (unchanged, touched, changed, moved, deleted,
//! restored), tags and lookups, and a scan killed with SIGKILL and resumed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use musicrec_catalog::{
    CatalogError, CatalogStore, Rating, ScanOptions, ScanReport, TrackEmbedder, TrackMatch, scan,
};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_testkit::data::{copy_clips, gtzan_mini};
use musicrec_testkit::embedder::{DIM, FrameStatsEmbedder};

const MODEL: &str = "frame-stats-v1";

fn options(jobs: usize) -> ScanOptions {
    ScanOptions {
        jobs,
        ..ScanOptions::default()
    }
}

fn run_scan(store: &mut SqliteStore, root: &Path, embedder: &FrameStatsEmbedder) -> ScanReport {
    scan(
        store,
        &[root.to_path_buf()],
        embedder,
        &options(2),
        &ProgressBar::hidden(),
    )
    .unwrap()
}

/// path -> (content hash, embedding bits, genre-prob bits) of every present track.
type Snapshot = BTreeMap<PathBuf, (String, Vec<u32>, Vec<u32>)>;

fn snapshot(store: &SqliteStore) -> Snapshot {
    let set = store.load_embeddings(MODEL).unwrap();
    (0..set.len())
        .map(|row| {
            let t = &set.tracks[row];
            (
                t.path.clone(),
                (
                    t.content_hash.to_hex().to_string(),
                    set.embedding(row).iter().map(|v| v.to_bits()).collect(),
                    set.genre_probs(row).iter().map(|v| v.to_bits()).collect(),
                ),
            )
        })
        .collect()
}

#[test]
fn first_scan_embeds_every_clip_records_failures_and_rescan_decodes_nothing() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let clips = copy_clips(&gtzan, &lib, 0..2);
    // A WAV cut in the middle of its data, a text file named .mp3, and a non-audio file.
    let wav = std::fs::read(&clips[0]).unwrap();
    std::fs::write(lib.join("truncated.wav"), &wav[..wav.len() / 3]).unwrap();
    std::fs::write(
        lib.join("notes.mp3"),
        "these are not audio bytes\n".repeat(50),
    )
    .unwrap();
    std::fs::write(lib.join("cover.jpg"), [0xffu8, 0xd8, 0xff, 0xe0]).unwrap();

    let mut store = SqliteStore::open(dir.path().join("catalog.db")).unwrap();
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
    let progress = ProgressBar::hidden();
    let report = scan(
        &mut store,
        std::slice::from_ref(&lib),
        &embedder,
        &options(2),
        &progress,
    )
    .unwrap();
    assert_eq!(report.found, 22, "{report:?}");
    assert_eq!((report.added, report.failed), (20, 2), "{report:?}");
    assert_eq!(report.failures.len(), 2);
    let accounted = report.added
        + report.updated
        + report.moved
        + report.unchanged
        + report.failed
        + report.skipped_failed;
    assert_eq!(accounted, report.found);
    assert_eq!(progress.length(), Some(22));
    assert_eq!(progress.position(), 22);
    let failed = store.failed().unwrap();
    let names: Vec<_> = failed
        .iter()
        .map(|f| f.path.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["notes.mp3", "truncated.wav"]);
    for failure in &failed {
        assert!(!failure.reason.is_empty() && !failure.reason.contains('\n'));
        assert_eq!(failure.model_id, MODEL);
    }
    assert!(
        failed[0].reason.contains("unsupported"),
        "{}",
        failed[0].reason
    );
    assert!(
        failed[1].reason.contains("truncated"),
        "{}",
        failed[1].reason
    );

    // What is stored is exactly what the embedder computes for that file.
    let set = store.load_embeddings(MODEL).unwrap();
    assert_eq!(set.len(), 20);
    assert_eq!(set.embeddings.len(), 20 * DIM);
    for row in [0, 7, 19] {
        let expected = embedder.embed(&set.tracks[row].path).unwrap();
        assert_eq!(set.embedding(row), expected.embedding.as_slice());
        assert_eq!(set.genre_probs(row), expected.genre_probs.as_slice());
        let track = store.track(set.tracks[row].id).unwrap().unwrap();
        assert_eq!(
            track.content_hash,
            blake3::hash(&std::fs::read(&track.path).unwrap())
        );
        assert!((track.duration_secs.unwrap() - expected.duration_secs).abs() < 1e-9);
    }
    let stats = store.stats().unwrap();
    assert_eq!((stats.tracks, stats.failures), (20, 2));
    let per_genre: u64 = stats.models[0].per_genre.iter().map(|g| g.tracks).sum();
    assert_eq!(per_genre, 20);

    // Second scan: nothing decoded, the failures skipped, nothing changed.
    let calls = embedder.calls();
    let again = run_scan(&mut store, &lib, &embedder);
    assert_eq!(
        embedder.calls(),
        calls,
        "unchanged files must not be decoded"
    );
    assert_eq!(
        (
            again.unchanged,
            again.skipped_failed,
            again.added,
            again.failed
        ),
        (20, 2, 0, 0),
        "{again:?}"
    );
    // retry_failed decodes the two failures again, and only them.
    let retry = scan(
        &mut store,
        std::slice::from_ref(&lib),
        &embedder,
        &ScanOptions {
            retry_failed: true,
            ..options(1)
        },
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!((retry.failed, retry.unchanged), (2, 20));
    assert_eq!(embedder.calls(), calls + 2);
}

#[test]
fn rescan_handles_touched_changed_moved_deleted_and_restored_files() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let clips = copy_clips(&gtzan, &lib, 0..2);
    let mut store = SqliteStore::open(dir.path().join("catalog.db")).unwrap();
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
    assert_eq!(run_scan(&mut store, &lib, &embedder).added, 20);
    let before = snapshot(&store);

    let moved_from = clips[3].clone();
    let moved_id = store.track_by_path(&moved_from).unwrap().unwrap().id;
    let user = store.add_user("ada").unwrap();
    store.record_feedback(user, moved_id, Rating::Like).unwrap();
    std::fs::create_dir_all(lib.join("renamed")).unwrap();
    let moved_to = lib.join("renamed/some new name.wav");
    std::fs::rename(&moved_from, &moved_to).unwrap();
    let deleted = clips[5].clone();
    let deleted_bytes = std::fs::read(&deleted).unwrap();
    std::fs::remove_file(&deleted).unwrap();
    let changed = clips[7].clone();
    std::fs::copy(gtzan.join("jazz/jazz.00005.wav"), &changed).unwrap();
    let touched = clips[9].clone();
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&touched)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let added = lib.join("blues/blues.00009.wav");
    std::fs::copy(gtzan.join("blues/blues.00009.wav"), &added).unwrap();

    let calls = embedder.calls();
    let report = run_scan(&mut store, &lib, &embedder);
    assert_eq!(
        (
            report.added,
            report.updated,
            report.moved,
            report.unchanged,
            report.pruned
        ),
        (1, 1, 1, 17, 1),
        "{report:?}"
    );
    assert_eq!(
        embedder.calls(),
        calls + 2,
        "only the new and the changed file are decoded"
    );

    let moved_to = moved_to.canonicalize().unwrap();
    let moved = store.track_by_path(&moved_to).unwrap().unwrap();
    assert_eq!(
        moved.id, moved_id,
        "a moved file keeps its track (and feedback)"
    );
    assert_eq!(store.feedback(user).unwrap()[0].track, moved_id);
    assert!(store.track_by_path(&moved_from).unwrap().is_none());

    let after = snapshot(&store);
    assert_eq!(after.len(), 20);
    assert_eq!(
        after[&moved_to], before[&moved_from],
        "embedding kept, not recomputed"
    );
    assert!(!after.contains_key(&deleted));
    assert_ne!(after[&changed].0, before[&changed].0, "new content hash");
    assert_ne!(after[&changed].1, before[&changed].1, "re-embedded");
    assert_eq!(after[&touched], before[&touched]);
    let gone = store.track_by_path(&deleted).unwrap().unwrap();
    assert!(gone.missing_since.is_some());
    assert_eq!(store.stats().unwrap().missing_tracks, 1);

    // The deleted file comes back: same track, not re-embedded, no longer missing.
    std::fs::write(&deleted, &deleted_bytes).unwrap();
    let calls = embedder.calls();
    let report = run_scan(&mut store, &lib, &embedder);
    assert_eq!(
        (report.unchanged, report.added, report.pruned),
        (21, 0, 0),
        "{report:?}"
    );
    assert_eq!(embedder.calls(), calls);
    let back = store.track_by_path(&deleted).unwrap().unwrap();
    assert_eq!((back.id, back.missing_since), (gone.id, None));
    assert_eq!(snapshot(&store)[&deleted], before[&deleted]);

    // Pruning is limited to the scanned roots: scanning one genre folder prunes nothing else.
    std::fs::remove_file(&clips[0]).unwrap(); // blues
    let report = run_scan(&mut store, &lib.join("rock"), &embedder);
    assert_eq!((report.found, report.pruned), (2, 0), "{report:?}");
    assert!(
        store
            .track_by_path(&clips[0])
            .unwrap()
            .unwrap()
            .missing_since
            .is_none()
    );
    assert_eq!(store.purge_missing().unwrap(), 0);
    let report = run_scan(&mut store, &lib, &embedder);
    assert_eq!(report.pruned, 1);
    assert_eq!(store.purge_missing().unwrap(), 1);
    assert!(store.track_by_path(&clips[0]).unwrap().is_none());
}

#[test]
fn a_missing_root_is_an_error_and_prunes_nothing() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    copy_clips(&gtzan, &lib, 0..1);
    let mut store = SqliteStore::open_in_memory().unwrap();
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
    run_scan(&mut store, &lib, &embedder);
    let err = scan(
        &mut store,
        &[lib.clone(), dir.path().join("unmounted")],
        &embedder,
        &options(1),
        &ProgressBar::hidden(),
    )
    .unwrap_err();
    assert!(matches!(err, CatalogError::Io { .. }), "{err}");
    assert!(err.to_string().contains("unmounted"), "{err}");
    assert_eq!(store.stats().unwrap().tracks, 10);
}

#[test]
fn a_second_model_embeds_known_tracks_and_a_mismatched_model_is_refused() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    copy_clips(&gtzan, &lib, 0..1);
    let mut store = SqliteStore::open_in_memory().unwrap();
    run_scan(
        &mut store,
        &lib,
        &FrameStatsEmbedder::new(MODEL, Duration::ZERO),
    );
    let other = FrameStatsEmbedder::new("frame-stats-v2", Duration::ZERO);
    let report = run_scan(&mut store, &lib, &other);
    assert_eq!((report.updated, report.added), (10, 0), "{report:?}");
    assert_eq!(store.stats().unwrap().tracks, 10);
    assert_eq!(
        store.model_ids().unwrap(),
        ["frame-stats-v1", "frame-stats-v2"]
    );

    let mut info = other.model_info();
    info.embedding_dim += 1;
    let err = store.register_model("frame-stats-v2", &info).unwrap_err();
    assert!(err.to_string().contains("embedding size 8"), "{err}");
}

#[test]
fn tags_are_read_and_tracks_found_by_artist_and_title() {
    use lofty::config::WriteOptions;
    use lofty::tag::{Accessor, Tag, TagExt, TagType};

    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let tagged = [
        (
            "blues/blues.00001.wav",
            "Muddy Waters",
            "Hoochie Coochie Man",
            Some(1954),
        ),
        ("jazz/jazz.00001.wav", "Björk", "Jóga", Some(1997)),
        ("rock/rock.00001.wav", "Björk", "Jóga", None),
        ("pop/pop.00001.wav", "Simon - Garfunkel", "Cecilia", None),
    ];
    for (i, (clip, artist, title, year)) in tagged.iter().enumerate() {
        let path = lib.join(format!("{i}.wav"));
        std::fs::copy(gtzan.join(clip), &path).unwrap();
        let mut tag = Tag::new(TagType::Id3v2);
        tag.set_artist((*artist).into());
        tag.set_title((*title).into());
        tag.set_album("Test Album".into());
        tag.set_genre("Test Genre".into());
        if let Some(year) = year {
            tag.set_date(lofty::tag::items::Timestamp {
                year: *year,
                ..Default::default()
            });
        }
        tag.save_to_path(&path, WriteOptions::default()).unwrap();
    }
    // Untagged files, known by their names.
    for (clip, name) in [
        ("classical/classical.00001.wav", "Frontiers.wav"),
        ("disco/disco.00001.wav", "frontiers live.wav"),
    ] {
        std::fs::copy(gtzan.join(clip), lib.join(name)).unwrap();
    }
    let mut store = SqliteStore::open_in_memory().unwrap();
    let report = run_scan(
        &mut store,
        &lib,
        &FrameStatsEmbedder::new(MODEL, Duration::ZERO),
    );
    assert_eq!(report.added, 6, "tagged WAVs still decode: {report:?}");

    let found = |query: &str| store.find_track(query).unwrap();
    let TrackMatch::Found(track) = found("  muddy WATERS - hoochie coochie man ") else {
        panic!("expected one match");
    };
    assert_eq!(track.tags.album.as_deref(), Some("Test Album"));
    assert_eq!(track.tags.genre.as_deref(), Some("Test Genre"));
    assert_eq!(track.tags.year, Some(1954));
    assert_eq!(track.display_name(), "Muddy Waters - Hoochie Coochie Man");
    // Unicode case folding, and two files with the same artist and title.
    let TrackMatch::Ambiguous(both) = found("BJÖRK - JÓGA") else {
        panic!("expected two matches");
    };
    assert_eq!(both.len(), 2);
    // " - " inside the artist name.
    assert!(matches!(
        found("simon - garfunkel - cecilia"),
        TrackMatch::Found(_)
    ));
    assert!(matches!(found("Cecilia"), TrackMatch::Found(_)));
    // No exact match: the text search's only hit is the answer.
    let TrackMatch::Found(approximate) = found("Muddy Waters - Hoochie") else {
        panic!("one approximate match is the answer");
    };
    assert_eq!(
        approximate.display_name(),
        "Muddy Waters - Hoochie Coochie Man"
    );
    // Untagged files: the one named as typed, else the only hit, else all hits.
    let file_name = |m: TrackMatch| match m {
        TrackMatch::Found(t) => t.path.file_name().unwrap().to_string_lossy().into_owned(),
        other => panic!("expected one match, got {other:?}"),
    };
    assert_eq!(file_name(found("FRONTIERS")), "Frontiers.wav");
    assert_eq!(file_name(found("frontiers.wav")), "Frontiers.wav");
    assert_eq!(file_name(found("frontiers l")), "frontiers live.wav");
    let TrackMatch::Ambiguous(candidates) = found("frontier") else {
        panic!("expected candidates");
    };
    assert_eq!(candidates.len(), 2);
    assert!(matches!(found("nobody - nothing"), TrackMatch::NotFound));
    // By path.
    let path = lib.join("1.wav").canonicalize().unwrap();
    let TrackMatch::Found(by_path) = found(path.to_str().unwrap()) else {
        panic!("expected a path match");
    };
    assert_eq!(by_path.tags.artist.as_deref(), Some("Björk"));
    let page = store.search("björk", 0, 10).unwrap();
    assert_eq!((page.total, page.items.len()), (2, 2));
}

/// Env var naming the catalog the child scan writes; set only when the kill test spawns it.
const CHILD_DB: &str = "MUSICREC_CATALOG_TEST_CHILD_DB";
const CHILD_ROOT: &str = "MUSICREC_CATALOG_TEST_CHILD_ROOT";

/// The scan the kill test runs in a child process (this test binary, re-invoked) and kills.
#[test]
#[ignore = "run by sigkill_mid_scan_then_rerun_matches_an_uninterrupted_scan in a child process"]
fn child_scan_for_kill_test() {
    let (Some(db), Some(root)) = (std::env::var_os(CHILD_DB), std::env::var_os(CHILD_ROOT)) else {
        panic!("only meaningful when spawned by the kill test ({CHILD_DB} unset)");
    };
    let mut store = SqliteStore::open(db).unwrap();
    // Slow enough that the parent can kill it half-way.
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::from_millis(40));
    run_scan(&mut store, Path::new(&root), &embedder);
}

fn embedded_count(db: &Path) -> u64 {
    let store = SqliteStore::open(db).unwrap();
    store
        .stats()
        .unwrap()
        .models
        .first()
        .map_or(0, |m| m.embedded_tracks)
}

#[cfg(unix)]
#[test]
fn sigkill_mid_scan_then_rerun_matches_an_uninterrupted_scan() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    copy_clips(&gtzan, &lib, 0..4);
    std::fs::write(lib.join("broken.mp3"), b"ID3 but nothing else").unwrap();
    let total = 40;

    let reference_db = dir.path().join("reference.db");
    let mut reference = SqliteStore::open(&reference_db).unwrap();
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
    assert_eq!(run_scan(&mut reference, &lib, &embedder).added, total);

    // Kill the child twice, at different points, then let a normal scan finish the job.
    let db = dir.path().join("killed.db");
    let mut committed_at_kill = Vec::new();
    for kill_after in [6, 20] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_scan_for_kill_test",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_DB, &db)
            .env(CHILD_ROOT, &lib)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if db.exists() && embedded_count(&db) >= kill_after {
                break;
            }
            assert!(Instant::now() < deadline, "child made no progress");
            assert!(child.try_wait().unwrap().is_none(), "child exited early");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let committed = embedded_count(&db);
        assert!(
            committed >= kill_after && committed < total as u64,
            "killed mid-scan: {committed} of {total} committed"
        );
        committed_at_kill.push(committed);
    }
    assert!(committed_at_kill[1] > committed_at_kill[0]);

    let mut resumed = SqliteStore::open(&db).unwrap();
    let embedder = FrameStatsEmbedder::new(MODEL, Duration::ZERO);
    let report = run_scan(&mut resumed, &lib, &embedder);
    assert_eq!(
        report.added + report.unchanged,
        total,
        "every committed track is kept, every other one added: {report:?}"
    );
    assert!(report.unchanged as u64 >= committed_at_kill[1]);
    assert_eq!(embedder.calls(), report.added + report.failed);
    assert_eq!(snapshot(&resumed), snapshot(&reference));
    let stats = resumed.stats().unwrap();
    assert_eq!((stats.tracks, stats.failures), (total as u64, 1));
    assert_eq!(stats.models[0].embedded_tracks, total as u64);
    assert_eq!(
        stats.models[0].per_genre,
        reference.stats().unwrap().models[0].per_genre
    );
}
