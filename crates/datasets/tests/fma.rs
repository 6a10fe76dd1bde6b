//! FMA loader on small `tracks.csv` files in the real layout: two header rows + track_id row, quoted
//! commas and newlines, genre lists, empty values, multi-genre tracks, missing mp3s, malformed rows.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use musicrec_datasets::fma::{FmaGenres, FmaSource, FmaSubset, load_fma};
use musicrec_datasets::{
    BuildOptions, DatasetError, DropReason, ScreenConfig, Split, SplitMode, build,
};

/// Header of a trimmed-down but real-shaped tracks.csv (same group/field names as the FMA's).
const HEADER: &str = "\
,album,album,artist,artist,set,set,track,track,track,track,track,track
,id,title,id,name,split,subset,duration,genre_top,genres,genres_all,title,tags
track_id,,,,,,,,,,,,
";

/// Rows: id, album id, album title, artist id, artist name, split, subset, duration, genre_top,
/// genres, genres_all, title, tags.
const ROWS: &str = r#"2,1,AWOL - A Way Of Life,1,AWOL,training,small,168,Hip-Hop,[21],[21],Food,[]
3,1,"Album, with a comma",1,AWOL,training,medium,237,Hip-Hop,[21],[21],"Electric
Ave",[]
5,1,,1,AWOL,validation,small,206,Hip-Hop,[21],"[21, 811]",This World,"['a', 'b']"
10,6,Constant Hitmaker,6,Kurt Vile,test,small,161,Pop,[10],[10],Freeway,[]
20,4,,4,Nicky Cook,training,large,311,,"[76, 103]","[17, 10, 76, 103]",Spiritual Level,[]
26,4,,4,Nicky Cook,training,large,192,,[],[],Too Happy,[]
30,4,,4,Nicky Cook,test,large,193,Rock,[12],[12],Missing mp3,[]
46,4,,4,Nicky Cook,validation,,100,Rock,[12],[12],Only in full,[]
x48,4,,4,Nicky Cook,test,small,100,Rock,[12],[12],Bad id,[]
49,4,,4,Nicky Cook,test,small,100,Rock,[12],[12 13],Bad list,[]
50,4,,4,Nicky Cook,test,small
56,7,"Quoted ""title""",7,"Artist, Inc.",test,small,100,Rock,[76],"[12, 76]","Multi
line, ""quoted""
title",[]
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    tracks: PathBuf,
    genres: PathBuf,
    audio: PathBuf,
}

/// tracks.csv + the real genres.csv + audio for every track except 30 (its mp3 is missing).
fn fixture(shared: &Path) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let tracks = dir.path().join("tracks.csv");
    std::fs::write(&tracks, format!("{HEADER}{ROWS}")).unwrap();
    let audio = dir.path().join("audio");
    let mp3 = shared.join("formats/joram-16k-mono.mp3");
    for id in [2u32, 3, 5, 10, 20, 26, 46, 48, 49, 50, 56] {
        let path = musicrec_datasets::fma::audio_path(&audio, id);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(&mp3, &path).unwrap();
    }
    Fixture {
        tracks,
        genres: shared.join("fma/genres.csv"),
        audio,
        _dir: dir,
    }
}

fn source(f: &Fixture, subset: FmaSubset) -> FmaSource {
    FmaSource {
        tracks_csv: f.tracks.clone(),
        genres_csv: f.genres.clone(),
        audio_dir: f.audio.clone(),
        subset,
    }
}

fn reasons_by_id(dropped: &[musicrec_datasets::DroppedTrack]) -> BTreeMap<String, DropReason> {
    dropped
        .iter()
        .filter_map(|d| d.track_id.clone().map(|id| (id, d.reason)))
        .collect()
}

#[test]
fn real_genre_table_has_sixteen_top_level_genres() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let genres = FmaGenres::read(&shared.join("fma/genres.csv")).unwrap();
    let tops = genres.top_level_titles();
    assert_eq!(tops.len(), 16, "{tops:?}");
    for g in [
        "Classical",
        "Electronic",
        "Folk",
        "Hip-Hop",
        "Instrumental",
        "Jazz",
        "Rock",
    ] {
        assert!(tops.iter().any(|t| t == g), "{g} missing from {tops:?}");
    }
    // Genre 811 (Hip-Hop Beats) sits under Hip-Hop (21).
    assert_eq!(genres.get(811).unwrap().top_level, 21);
}

#[test]
fn loader_keeps_single_genre_tracks_and_drops_the_rest_with_reasons() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let f = fixture(&shared);
    let loaded = load_fma(&source(&f, FmaSubset::Full)).unwrap();

    let kept: BTreeMap<String, &musicrec_datasets::Entry> = loaded
        .entries
        .iter()
        .map(|e| (e.track_id.clone().unwrap(), e))
        .collect();
    // 2, 3: Hip-Hop; 5: [21, 811] both under Hip-Hop; 10: Pop; 46: only in full.
    assert_eq!(kept.keys().collect::<Vec<_>>(), ["10", "2", "3", "46", "5"]);
    assert_eq!(kept["5"].label, "Hip-Hop");
    assert_eq!(kept["10"].label, "Pop");
    assert_eq!(kept["3"].title.as_deref(), Some("Electric\nAve"));
    assert_eq!(kept["3"].artist.as_deref(), Some("AWOL"));
    assert_eq!(kept["2"].split, Some(Split::Train));
    assert_eq!(kept["5"].split, Some(Split::Validation));
    assert_eq!(kept["10"].split, Some(Split::Test));
    assert!(kept["2"].path.ends_with("000/000002.mp3"));

    let dropped = reasons_by_id(&loaded.dropped);
    assert_eq!(dropped["20"], DropReason::MultiGenre, "Folk + Pop");
    assert_eq!(dropped["26"], DropReason::NoGenre);
    assert_eq!(dropped["30"], DropReason::MissingAudio);
    assert_eq!(dropped["49"], DropReason::MalformedRow, "list '[12 13]'");
    assert_eq!(dropped["50"], DropReason::MalformedRow, "short row");
    assert_eq!(
        dropped["56"],
        DropReason::MultiGenre,
        "Rock + Pop via genre 76 (Experimental Pop)"
    );
    assert_eq!(dropped["x48"], DropReason::MalformedRow, "id 'x48'");
    let multi = loaded
        .dropped
        .iter()
        .find(|d| d.track_id.as_deref() == Some("20"))
        .unwrap();
    assert!(
        multi.detail.contains("Folk") && multi.detail.contains("Pop"),
        "{}",
        multi.detail
    );
    let bad = loaded
        .dropped
        .iter()
        .find(|d| d.track_id.as_deref() == Some("x48"))
        .unwrap();
    assert!(
        bad.detail.contains("line") && bad.detail.contains("x48"),
        "{}",
        bad.detail
    );
    assert_eq!(loaded.dropped.len(), 7);
}

#[test]
fn subsets_nest() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let f = fixture(&shared);
    let ids = |subset| {
        let mut ids: Vec<String> = load_fma(&source(&f, subset))
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.track_id.unwrap())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(FmaSubset::Small), ["10", "2", "5"]);
    assert_eq!(ids(FmaSubset::Medium), ["10", "2", "3", "5"]);
    assert_eq!(ids(FmaSubset::Large), ["10", "2", "3", "5"]);
    assert_eq!(ids(FmaSubset::Full), ["10", "2", "3", "46", "5"]);
}

#[test]
fn genre_choice_cap_fma_split_and_screening() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let f = fixture(&shared);
    // Track 3's mp3 is empty (does not decode), track 2's is 6.9 s (too short).
    std::fs::write(musicrec_datasets::fma::audio_path(&f.audio, 3), b"").unwrap();
    std::fs::copy(
        shared.join("formats/dubstep.mp3"),
        musicrec_datasets::fma::audio_path(&f.audio, 2),
    )
    .unwrap();
    let loaded = load_fma(&source(&f, FmaSubset::Full)).unwrap();
    let opts = BuildOptions {
        genres: Some(vec!["hip-hop".into(), "rock".into()]),
        screen: Some(ScreenConfig::default()),
        split: SplitMode::Keep,
        ..BuildOptions::default()
    };
    let built = build(loaded.clone(), &opts, &ProgressBar::hidden()).unwrap();
    let ids: Vec<_> = built
        .manifest
        .entries
        .iter()
        .map(|e| e.track_id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["5", "46"], "Hip-Hop then Rock, by path");
    assert_eq!(
        built.manifest.entries[0].split,
        Some(Split::Validation),
        "FMA split kept"
    );
    let d = built.manifest.entries[0].duration_secs.unwrap();
    // ffmpeg decodes 29.12 s (libsndfile 29.27 s): decoders differ in encoder delay and padding.
    assert!((d - 29.12).abs() < 0.2, "measured duration {d}");
    let dropped = reasons_by_id(&built.dropped);
    assert_eq!(dropped["3"], DropReason::DecodeError);
    assert_eq!(dropped["2"], DropReason::TooShort);
    assert_eq!(dropped["10"], DropReason::GenreNotSelected);

    let err = build(
        loaded,
        &BuildOptions {
            genres: Some(vec!["hip-hop".into(), "polka".into()]),
            ..opts
        },
        &ProgressBar::hidden(),
    )
    .unwrap_err();
    assert!(matches!(err, DatasetError::UnknownGenre { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("'polka'") && msg.contains("Classical") && msg.contains("Instrumental"),
        "{msg}"
    );
}

#[test]
fn not_an_fma_file_is_a_clear_error() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let f = fixture(&shared);
    std::fs::write(&f.tracks, "track_id,title\n2,Food\n").unwrap();
    let err = load_fma(&source(&f, FmaSubset::Full))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an FMA tracks.csv"), "{err}");
    let missing = FmaSource {
        tracks_csv: f.tracks.with_file_name("nope.csv"),
        ..source(&f, FmaSubset::Full)
    };
    let err = load_fma(&missing).unwrap_err().to_string();
    assert!(err.contains("nope.csv"), "{err}");
}
