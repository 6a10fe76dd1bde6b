//! Backbones and genre heads through the binary on real clips:
//! - MusiCNN with the built-in genre head (the default model) and with its 50 MSD tags standing
//!   in for genres (`--model musicnn-tags`): `scan`, `predict` (genres and the top tags),
//!   `recommend` and `model` (its card, with the ISC licence, and the head's card) on a few
//!   clips, in one catalog with the built-in CNN's vectors, never mixed;
//! - `train --backbone` trains a head on cached features (the cheap built-in CNN as the backbone:
//!   the head pipeline is the same for MusiCNN), which `scan`, `predict` and `model` then use, and
//!   a head whose backbone this binary lacks is one clear error.

use std::path::{Path, PathBuf};
use std::process::Output;

use musicrec_testkit::data::shared_data;

mod common;
use common::{command, ok_stdout, s, text};

fn musicrec<S: AsRef<std::ffi::OsStr>>(args: &[S], cache_home: &Path) -> Output {
    command()
        .args(args)
        .env("XDG_CACHE_HOME", cache_home)
        .output()
        .expect("run musicrec")
}

/// Copies of `clips` (paths under gtzan-mini) into `dir`.
fn library(data: &Path, dir: &Path, clips: &[&str]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    clips
        .iter()
        .map(|clip| {
            let from = data.join("gtzan-mini").join(clip);
            let to = dir.join(from.file_name().unwrap());
            std::fs::copy(&from, &to).unwrap();
            to.canonicalize().unwrap()
        })
        .collect()
}

#[test]
fn musicnn_scans_predicts_and_recommends_beside_the_built_in_cnn() {
    let Some(data) = shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let lib = tmp.path().join("lib");
    let clips = library(
        &data,
        &lib,
        &[
            "classical/classical.00000.wav",
            "metal/metal.00002.wav",
            "hiphop/hiphop.00001.wav",
        ],
    );
    let db = tmp.path().join("catalog.db");

    // The default model: MusiCNN with the built-in genre head.
    let scan = ok_stdout(
        musicrec(&["scan", s(&lib), "--db", s(&db)], home),
        "scan without --model",
    );
    assert!(scan.contains("3 files: 3 added"), "{scan}");
    assert!(scan.contains("model musicnn-msd-"), "{scan}");
    let named = ok_stdout(
        musicrec(
            &["scan", s(&lib), "--db", s(&db), "--model", "musicnn"],
            home,
        ),
        "scan --model musicnn",
    );
    assert!(
        named.contains("3 unchanged"),
        "`musicnn` is the default: {named}"
    );

    // MSD_musicnn's top tag of jazz.00000 is jazz (TensorFlow: 0.64); of the classical clips it is
    // "instrumental", so a jazz clip is what a genre check can rely on.
    let jazz = data.join("gtzan-mini/jazz/jazz.00000.wav");
    let predict = |model: Option<&str>| {
        let mut args = vec!["predict", "--format", "json", s(&jazz)];
        if let Some(model) = model {
            args.extend(["--model", model]);
        }
        let out = ok_stdout(musicrec(&args, home), "predict");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    // With `musicnn-tags`, MusiCNN's 50 tags are the genres.
    let tags_as_genres = predict(Some("musicnn-tags"));
    assert_eq!(
        tags_as_genres[0]["probabilities"]
            .as_object()
            .unwrap()
            .len(),
        50
    );
    assert_eq!(tags_as_genres[0]["top_genre"], "jazz", "{tags_as_genres}");
    // By default the built-in head gives GTZAN's ten genres, and the top tags come beside them.
    let json = predict(None);
    assert_eq!(json[0]["probabilities"].as_object().unwrap().len(), 10);
    assert_eq!(json[0]["top_genre"], "jazz", "{json}");
    // A 30 s clip: ten 3 s patches.
    assert_eq!(json[0]["windows"], 10, "{json}");
    let tags: Vec<&str> = json[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[0].as_str().unwrap())
        .collect();
    assert_eq!(tags.len(), 5, "{json}");
    assert_eq!(tags[0], "jazz", "MusiCNN hears jazz: {tags:?}");
    let table = ok_stdout(musicrec(&["predict", s(&clips[1])], home), "predict table");
    assert!(table.contains("top tags"), "{table}");

    let recommend = |extra: &[&str]| {
        let mut args = vec![
            "recommend",
            "--db",
            s(&db),
            "--seed",
            s(&clips[0]),
            "-k",
            "2",
            "--format",
            "json",
        ];
        args.extend(extra);
        let out = ok_stdout(musicrec(&args, home), "recommend");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let musicnn = recommend(&[]);
    assert_eq!(musicnn["recommendations"].as_array().unwrap().len(), 2);

    // The built-in CNN into the same catalog: a second model, never mixed.
    let cnn_scan = ok_stdout(
        musicrec(&["scan", s(&lib), "--db", s(&db), "--model", "cnn"], home),
        "scan --model cnn",
    );
    assert!(
        cnn_scan.contains("3 added") || cnn_scan.contains("3 updated"),
        "{cnn_scan}"
    );
    assert!(cnn_scan.contains("model cnn-"), "{cnn_scan}");
    let stats = ok_stdout(musicrec(&["stats", "--db", s(&db)], home), "stats");
    assert!(
        stats.contains("musicnn-msd-") && stats.contains("cnn-"),
        "{stats}"
    );
    // Without --model the default model's embeddings are used, with no note about two models.
    let again = musicrec(
        &[
            "recommend",
            "--db",
            s(&db),
            "--seed",
            s(&clips[0]),
            "-k",
            "2",
        ],
        home,
    );
    assert!(again.status.success());
    assert!(
        !text(&again.stderr).contains("holds 2 models"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        recommend(&["--model", "cnn"])["recommendations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A model the catalog never saw is refused, naming the ones it holds.
    let never = musicrec(
        &[
            "recommend",
            "--db",
            s(&db),
            "--seed",
            s(&clips[0]),
            "--model",
            "musicnn-tags",
        ],
        home,
    );
    assert!(!never.status.success());
    assert!(
        text(&never.stderr).contains("was never used to scan this catalog"),
        "{}",
        text(&never.stderr)
    );

    let card = ok_stdout(musicrec(&["model"], home), "model");
    assert!(card.contains("model      musicnn-msd-"), "{card}");
    assert!(
        card.contains("ISC licence"),
        "the MusiCNN licence line: {card}"
    );
    assert!(
        card.contains("genres     blues, classical, country"),
        "the head's genres: {card}"
    );
    assert!(
        card.contains("# Genre head on musicnn-msd") && card.contains("Cross-validation"),
        "the head's card: {card}"
    );
    let cnn_card = ok_stdout(musicrec(&["model", "--model", "cnn"], home), "model cnn");
    assert!(cnn_card.contains("arch       cnn"), "{cnn_card}");
}

#[test]
fn a_head_trained_on_a_backbone_is_used_by_scan_and_predict_and_names_its_backbone() {
    let Some(data) = shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let manifest = tmp.path().join("data.csv");
    let mut csv = String::from("path,label,split\n");
    for genre in ["classical", "metal", "hiphop"] {
        for id in 0..4 {
            csv.push_str(&format!(
                "{},{genre},train\n",
                data.join(format!("gtzan-mini/{genre}/{genre}.{id:05}.wav"))
                    .display()
            ));
        }
    }
    std::fs::write(&manifest, csv).unwrap();
    let head = tmp.path().join("head");
    let cache = tmp.path().join("cache");
    let train = [
        "train",
        "--backbone",
        "cnn",
        "--data",
        s(&manifest),
        "--out",
        s(&head),
        "--cache",
        s(&cache),
        "--cv",
        "2",
        "--augment",
        "band:3000",
    ];
    let first = ok_stdout(musicrec(&train, home), "train --backbone cnn");
    assert!(
        first.contains("genre head on cnn (3 genres, 12 clips, 24 examples)"),
        "{first}"
    );
    assert!(first.contains("24 computed, 0 cached"), "{first}");
    assert!(
        first.contains("cross-validation (2 folds): trained on original + band:3000"),
        "{first}"
    );
    let second = ok_stdout(musicrec(&train, home), "train again");
    assert!(
        second.contains("0 computed, 24 cached"),
        "a second run is instant: {second}"
    );

    let clip = data.join("gtzan-mini/metal/metal.00007.wav");
    let predict = ok_stdout(
        musicrec(
            &["predict", "--model", s(&head), "--format", "json", s(&clip)],
            home,
        ),
        "predict --model HEAD",
    );
    let json: serde_json::Value = serde_json::from_str(&predict).unwrap();
    assert_eq!(json[0]["probabilities"].as_object().unwrap().len(), 3);
    assert_eq!(json[0]["top_genre"], "metal", "{predict}");

    let lib = tmp.path().join("lib");
    library(
        &data,
        &lib,
        &["metal/metal.00007.wav", "classical/classical.00008.wav"],
    );
    let db = tmp.path().join("catalog.db");
    let scan = ok_stdout(
        musicrec(
            &["scan", s(&lib), "--db", s(&db), "--model", s(&head)],
            home,
        ),
        "scan --model HEAD",
    );
    assert!(scan.contains("2 files: 2 added"), "{scan}");
    let card = ok_stdout(
        musicrec(&["model", "--model", s(&head)], home),
        "model --model HEAD",
    );
    assert!(
        card.contains("genres     classical, hiphop, metal"),
        "{card}"
    );
    assert!(card.contains("Cross-validation (2 folds"), "{card}");

    // A head whose backbone this musicrec does not have: one line naming it.
    let config_path = head.join("config.json");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&config).unwrap();
    value["backbone"] = "musicnn-xyz".into();
    value["backbone_id"] = "musicnn-xyz-0123456789abcdef".into();
    std::fs::write(&config_path, value.to_string()).unwrap();
    let refused = musicrec(
        &["scan", s(&lib), "--db", s(&db), "--model", s(&head)],
        home,
    );
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(
        err.contains("trained on backbone musicnn-xyz") && err.contains("does not have"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// Writes `genre` into `path`'s ID3v2 tag (WAV files carry one in an `id3 ` chunk).
fn tag_genre(path: &Path, genre: &str) {
    use lofty::config::WriteOptions;
    use lofty::tag::{Accessor, Tag, TagExt, TagType};
    let mut tag = Tag::new(TagType::Id3v2);
    tag.set_genre(genre.to_string());
    tag.save_to_path(path, WriteOptions::default())
        .unwrap_or_else(|e| panic!("cannot tag {}: {e}", path.display()));
}

#[test]
fn a_head_learns_the_genres_of_the_files_own_tags() {
    let Some(data) = shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let lib = tmp.path().join("lib");
    let mut clips = Vec::new();
    for genre in ["classical", "metal", "hiphop", "jazz", "blues"] {
        let ids = if matches!(genre, "jazz" | "blues") {
            0..2
        } else {
            0..5
        };
        for id in ids {
            clips.push(format!("{genre}/{genre}.{id:05}.wav"));
        }
    }
    let clip_refs: Vec<&str> = clips.iter().map(String::as_str).collect();
    let files = library(&data, &lib, &clip_refs);
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        // Tags as they come: mixed case, several genres in one field, none at all, a rare one.
        let genre = match name.split('.').next().unwrap() {
            "classical" => Some(if name.ends_with("0.wav") {
                "classical"
            } else {
                "Classical"
            }),
            "metal" => Some("Metal; Rock"),
            "hiphop" => Some("Hip-Hop/Rap"),
            "blues" => Some("Polka"),
            _ => None,
        };
        if let Some(genre) = genre {
            tag_genre(file, genre);
        }
    }
    let db = tmp.path().join("catalog.db");
    let scan = ok_stdout(
        musicrec(&["scan", s(&lib), "--db", s(&db)], home),
        "scan of the tagged files",
    );
    assert!(scan.contains("19 files: 19 added"), "{scan}");

    let head = tmp.path().join("my-genres");
    let train = ok_stdout(
        musicrec(
            &[
                "train",
                "--backbone",
                "musicnn",
                "--labels",
                "tags",
                "--from-db",
                s(&db),
                "--out",
                s(&head),
                "--min-tracks",
                "3",
                "--held-out",
                "0.4",
            ],
            home,
        ),
        "train --labels tags --from-db",
    );
    // 15 tracks in three genres learnt; jazz untagged and the two "Polka" tracks left out.
    assert!(
        train.contains("from the genre tags of 15 of 19 tracks (2 untagged, 2 in genres with fewer than 3 tracks: Polka 2)"),
        "{train}"
    );
    assert!(train.contains("held-out accuracy"), "{train}");
    // Case is ignored: `classical` and `Classical` are one genre, spelt as first seen.
    for genre in ["classical", "hip-hop", "metal"] {
        assert!(
            train.lines().any(|l| l.to_lowercase().starts_with(genre)),
            "no precision/recall line for {genre}: {train}"
        );
    }

    // The user's taxonomy in `predict`, `scan` and method 2.
    let predict = ok_stdout(
        musicrec(
            &[
                "predict",
                "--model",
                s(&head),
                "--format",
                "json",
                s(&files[5]),
            ],
            home,
        ),
        "predict --model HEAD",
    );
    let json: serde_json::Value = serde_json::from_str(&predict).unwrap();
    let mut genres: Vec<String> = json[0]["probabilities"]
        .as_object()
        .unwrap()
        .keys()
        .map(|g| g.to_lowercase())
        .collect();
    genres.sort();
    assert_eq!(genres, ["classical", "hip-hop", "metal"], "{predict}");
    assert_eq!(json[0]["top_genre"], "Metal", "{predict}");
    let rescan = ok_stdout(
        musicrec(
            &["scan", s(&lib), "--db", s(&db), "--model", s(&head)],
            home,
        ),
        "scan --model HEAD",
    );
    assert!(
        rescan.contains("19 updated") || rescan.contains("19 added"),
        "{rescan}"
    );
    let recommend = ok_stdout(
        musicrec(
            &[
                "recommend",
                "--db",
                s(&db),
                "--model",
                s(&head),
                "--seed",
                s(&files[5]),
                "--method",
                "genre",
                "-k",
                "3",
                "--format",
                "json",
            ],
            home,
        ),
        "recommend --method 2 with the user's genres",
    );
    let json: serde_json::Value = serde_json::from_str(&recommend).unwrap();
    assert_eq!(json["recommendations"].as_array().unwrap().len(), 3);

    // A catalog without a backbone's embeddings: one clear line.
    let empty = tmp.path().join("empty.db");
    let cnn_lib = tmp.path().join("cnn-lib");
    library(&data, &cnn_lib, &["metal/metal.00000.wav"]);
    ok_stdout(
        musicrec(
            &["scan", s(&cnn_lib), "--db", s(&empty), "--model", "cnn"],
            home,
        ),
        "scan --model cnn",
    );
    let refused = musicrec(
        &[
            "train",
            "--backbone",
            "musicnn",
            "--labels",
            "tags",
            "--from-db",
            s(&empty),
            "--out",
            s(&tmp.path().join("nothing")),
        ],
        home,
    );
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(
        err.contains("holds no track embedded with backbone musicnn-msd"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
