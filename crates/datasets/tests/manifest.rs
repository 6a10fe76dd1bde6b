//! Manifest CSV: hand-written minimal files, relative paths, malformed rows, round trip, atomic writes,
//! and the dropped report.

mod common;

use std::path::Path;

use musicrec_datasets::manifest::load_lenient;
use musicrec_datasets::report::{read_report, report_path, write_report};
use musicrec_datasets::{DropReason, DroppedTrack, Entry, Manifest, Split};

#[test]
fn hand_written_minimal_manifest_resolves_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("lists/mine.csv");
    std::fs::create_dir_all(csv.parent().unwrap()).unwrap();
    std::fs::write(
        &csv,
        "Path,Label,notes\nsongs/a.wav,rock,my favourite\n/abs/b.mp3, jazz ,\n\n\"with, comma.flac\",folk,x\n",
    )
    .unwrap();
    let m = Manifest::read(&csv).unwrap();
    assert_eq!(m.entries.len(), 3);
    assert_eq!(m.entries[0].path, dir.path().join("lists/songs/a.wav"));
    assert_eq!(m.entries[1].path, Path::new("/abs/b.mp3"));
    assert_eq!(m.entries[1].label, "jazz", "fields are trimmed");
    assert_eq!(m.entries[2].path, dir.path().join("lists/with, comma.flac"));
    assert!(
        m.entries
            .iter()
            .all(|e| e.split.is_none() && e.artist.is_none())
    );
}

#[test]
fn round_trip_keeps_everything_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data.csv");
    let mut a = Entry::new(dir.path().join("audio/x.wav"), "Hip-Hop");
    a.artist = Some("Artist, \"The\"".into());
    a.title = Some("Two\nlines".into());
    a.split = Some(Split::Validation);
    a.track_id = Some("42".into());
    a.duration_secs = Some(29.976);
    let b = Entry::new("/elsewhere/y.mp3", "Rock");
    let m = Manifest {
        entries: vec![a, b],
    };
    m.write(&out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("path,label,artist,title,split,track_id,duration\naudio/x.wav,"),
        "{text}"
    );
    assert_eq!(Manifest::read(&out).unwrap(), m);
    assert_eq!(common::files_under(dir.path()), [Path::new("data.csv")]);
}

#[test]
fn malformed_rows_are_dropped_with_line_numbers_or_rejected_strictly() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    std::fs::write(
        &csv,
        "path,label,split,duration\na.wav,rock,train,30\nb.wav,,train,\nc.wav,jazz,dev,\nd.wav,jazz,,abc\na.wav,rock,,\ne.wav,pop,test,1.5\n",
    )
    .unwrap();
    let (entries, dropped) = load_lenient(&csv).unwrap();
    let names: Vec<_> = entries
        .iter()
        .map(|e| e.path.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["a.wav", "e.wav"]);
    assert_eq!(entries[1].duration_secs, Some(1.5));
    let details: Vec<_> = dropped
        .iter()
        .map(|d| (d.reason, d.detail.as_str()))
        .collect();
    assert_eq!(details.len(), 4, "{details:?}");
    assert!(
        details[0].1.contains("line 3") && details[0].1.contains("empty label"),
        "{details:?}"
    );
    assert!(
        details[1].1.contains("line 4") && details[1].1.contains("'dev'"),
        "{details:?}"
    );
    assert!(
        details[2].1.contains("line 5") && details[2].1.contains("'abc'"),
        "{details:?}"
    );
    assert_eq!(details[3].0, DropReason::Duplicate);
    let err = Manifest::read(&csv).unwrap_err().to_string();
    assert!(err.contains("m.csv") && err.contains("line 3"), "{err}");

    std::fs::write(&csv, "file,genre\na.wav,rock\n").unwrap();
    let err = Manifest::read(&csv).unwrap_err().to_string();
    assert!(err.contains("missing required column 'path'"), "{err}");
}

#[test]
fn dropped_report_round_trip_next_to_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let report = report_path(&dir.path().join("data.csv"));
    assert_eq!(report, dir.path().join("data.dropped.csv"));
    let mut e = Entry::new("/a/b.mp3", "Rock");
    e.track_id = Some("30".into());
    let dropped = vec![
        DroppedTrack::with_detail(&e, DropReason::MissingAudio, "no such file, really"),
        DroppedTrack::malformed("tracks.csv:12", "line 12: track_id 'x' is not a number"),
    ];
    write_report(&report, &dropped).unwrap();
    assert_eq!(read_report(&report).unwrap(), dropped);
}
