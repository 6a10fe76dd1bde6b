//! Whole evaluations of N named models: metrics.json structure, side-by-side tables with
//! significance marks, atomic writes and clear errors on bad input.

mod common;

use musicrec_eval::EvalError;
use musicrec_eval::metrics::{self, ScoreMatrix};
use musicrec_eval::report::{self, EvalConfig, ModelScores};
use musicrec_eval::stats::BootstrapConfig;
use serde_json::Value;

fn quick_config() -> EvalConfig {
    EvalConfig {
        bootstrap: Some(BootstrapConfig {
            resamples: 200,
            confidence: 0.95,
            seed: 42,
        }),
        ..EvalConfig::default()
    }
}

#[test]
fn report_holds_each_models_metrics_and_marks_significant_auc_differences() {
    let (y, cnn) = common::synthetic(500, 1.0, 10);
    let crnn = common::second_model(&y, 2.0, 11);
    let models = [
        ModelScores {
            name: "CNN",
            scores: &cnn,
        },
        ModelScores {
            name: "CRNN",
            scores: &crnn,
        },
    ];
    let report = report::evaluate(&common::GENRES, &y, &models, &quick_config()).unwrap();

    // The report's numbers are the metrics module's numbers.
    let prf = metrics::precision_recall_f1(&y, &crnn, 0.5).unwrap();
    let aucs = metrics::roc_auc_per_class(&y, &crnn).unwrap();
    let crnn_eval = &report.models[1];
    for g in 0..common::GENRES.len() {
        assert_eq!(crnn_eval.genres[g].f1, prf.per_class[g].f1);
        assert_eq!(crnn_eval.genres[g].auc, aucs.per_class[g].value());
        let ci = crnn_eval.genres[g].f1_ci.unwrap();
        assert!(
            ci.low <= crnn_eval.genres[g].f1 && crnn_eval.genres[g].f1 <= ci.high,
            "{ci:?}"
        );
        assert!(ci.high - ci.low < 0.3, "{ci:?}");
    }
    assert_eq!(
        crnn_eval.accuracy,
        metrics::top1_accuracy(&y, &crnn).unwrap()
    );

    // A much better model: every genre's AUC difference is significant, and so is accuracy.
    let cmp = &report.comparisons[0];
    assert_eq!(
        (cmp.model_a.as_str(), cmp.model_b.as_str()),
        ("CNN", "CRNN")
    );
    assert!(cmp.genres.iter().all(|g| g.delong.unwrap().p_value < 0.05));
    assert!(cmp.accuracy.exact_p_value < 0.05);

    let dir = tempfile::tempdir().unwrap();
    let files = report.write_all(dir.path()).unwrap();
    // MUSICREC_EVAL_KEEP_PLOTS=<dir> keeps a copy of the report for a look.
    if let Some(keep) = std::env::var_os("MUSICREC_EVAL_KEEP_PLOTS") {
        report.write_all(std::path::Path::new(&keep)).unwrap();
    }
    assert_eq!(files.plots.len(), common::GENRES.len() + 2 + 2);
    // Atomic writes leave no temp file behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 3 + files.plots.len(), "{names:?}");
    assert!(
        names.contains(&"roc_rock___roll.png".to_owned()),
        "{names:?}"
    );

    let json: Value = serde_json::from_str(&std::fs::read_to_string(&files.json).unwrap()).unwrap();
    assert_eq!(json["genres"][4], "rock & roll");
    let m = &json["models"][1];
    assert_eq!(m["model"], "CRNN");
    for key in [
        "precision",
        "recall",
        "f1",
        "auc",
        "support",
        "f1_ci",
        "auc_ci",
    ] {
        assert!(m["genres"][0].get(key).is_some(), "missing {key}");
    }
    for key in [
        "macro_avg",
        "micro_avg",
        "weighted_avg",
        "accuracy",
        "confusion_matrix",
    ] {
        assert!(m.get(key).is_some(), "missing {key}");
    }
    assert_eq!(m["genres"][2]["f1"].as_f64().unwrap(), prf.per_class[2].f1);
    assert!(json["comparisons"][0]["genres"][0]["delong"]["p_value"].is_number());
    assert!(json["comparisons"][0]["accuracy"]["exact_p_value"].is_number());

    let md = std::fs::read_to_string(&files.markdown).unwrap();
    assert!(
        md.contains("| Genre | Support | CNN P | CNN R | CNN F1 | CNN AUC | CRNN P |"),
        "{md}"
    );
    let blues_row = md.lines().find(|l| l.starts_with("| blues |")).unwrap();
    assert!(
        blues_row.ends_with("* |"),
        "CRNN AUC not marked: {blues_row}"
    );
    assert!(
        md.contains("macro avg") && md.contains("McNemar exact p"),
        "{md}"
    );

    let html = std::fs::read_to_string(&files.html).unwrap();
    assert!(
        html.contains("<th>rock &amp; roll</th>"),
        "genre not escaped"
    );
    assert!(html.contains("<sup>*</sup>"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn equal_models_get_no_significance_mark_and_n_models_are_supported() {
    let (y, a) = common::synthetic(200, 2.0, 20);
    let b = a.clone();
    let c = common::second_model(&y, 2.0, 21);
    let models = [
        ModelScores {
            name: "A",
            scores: &a,
        },
        ModelScores {
            name: "B",
            scores: &b,
        },
        ModelScores {
            name: "C",
            scores: &c,
        },
    ];
    let config = EvalConfig {
        bootstrap: None,
        ..EvalConfig::default()
    };
    let report = report::evaluate(&common::GENRES, &y, &models, &config).unwrap();
    assert_eq!(report.models.len(), 3);
    assert_eq!(report.comparisons.len(), 2);
    let same = &report.comparisons[0];
    assert!(same.genres.iter().all(|g| g.delong.unwrap().p_value == 1.0));
    assert_eq!(same.accuracy.exact_p_value, 1.0);
    assert_eq!(same.accuracy.chi2_statistic, None);
    let md = report.to_markdown();
    let header = md.lines().find(|l| l.starts_with("| Genre |")).unwrap();
    assert!(
        header.contains("| A AUC | B P |") && header.ends_with("| C AUC |"),
        "{header}"
    );
    assert!(
        !md.contains("Bootstrap intervals"),
        "no bootstrap configured"
    );
    let blues_row = md.lines().find(|l| l.starts_with("| blues |")).unwrap();
    // Columns: genre, support, then 4 per model; B (identical to A) must not be marked.
    let cells: Vec<&str> = blues_row
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect();
    assert_eq!(cells.len(), 2 + 3 * 4, "{header}\n{blues_row}");
    assert!(!cells[9].ends_with('*'), "{blues_row}");
}

#[test]
fn degenerate_genre_is_reported_not_fatal() {
    // Genre 4 has no track: its recall and AUC are undefined, DeLong cannot run.
    let y = vec![0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3];
    let rows: Vec<Vec<f32>> = y
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            (0..5)
                .map(|k| {
                    if k == c {
                        0.6 + 0.02 * i as f32
                    } else {
                        0.1 + 0.01 * ((i * 7 + k) % 5) as f32
                    }
                })
                .collect()
        })
        .collect();
    let scores = ScoreMatrix::from_rows(&rows).unwrap();
    let other = ScoreMatrix::from_rows(
        &rows
            .iter()
            .map(|r| r.iter().map(|v| v * 0.9).rev().collect())
            .collect::<Vec<Vec<f32>>>(),
    )
    .unwrap();
    let models = [
        ModelScores {
            name: "CNN",
            scores: &scores,
        },
        ModelScores {
            name: "CRNN",
            scores: &other,
        },
    ];
    let report = report::evaluate(&common::GENRES, &y, &models, &quick_config()).unwrap();
    let jazz_missing = &report.models[0].genres[4];
    assert!(jazz_missing.recall_undefined && jazz_missing.auc.is_none());
    assert!(
        jazz_missing
            .auc_undefined_reason
            .as_deref()
            .unwrap()
            .contains("no positive")
    );
    assert!(jazz_missing.auc_ci.is_none());
    assert!(
        report.models[0].macro_avg.auc.is_none(),
        "macro AUC is NaN in scikit-learn"
    );
    assert!(report.models[0].weighted_avg.auc.is_some());
    assert!(report.comparisons[0].genres[4].delong.is_none());
    let md = report.to_markdown();
    assert!(
        md.contains("n/a") && md.contains("DeLong undefined"),
        "{md}"
    );
    let json = report.to_json().unwrap();
    assert!(
        !json.contains("NaN") && !json.contains("inf"),
        "non-JSON number"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let (y, a) = common::synthetic(50, 2.0, 30);
    let cfg = EvalConfig {
        bootstrap: None,
        ..EvalConfig::default()
    };
    let one = [ModelScores {
        name: "A",
        scores: &a,
    }];
    let msg = |e: EvalError| e.to_string();

    let e = report::evaluate(&common::GENRES[..4], &y, &one, &cfg).unwrap_err();
    assert!(msg(e).contains("4 genre names for 5 score columns"));
    let e = report::evaluate(&common::GENRES, &y[..49], &one, &cfg).unwrap_err();
    assert!(msg(e).contains("49 labels for 50 score rows"));
    let twice = [one[0], one[0]];
    let e = report::evaluate(&common::GENRES, &y, &twice, &cfg).unwrap_err();
    assert!(msg(e).contains("given twice"));
    let e = report::evaluate(&common::GENRES, &y, &[], &cfg).unwrap_err();
    assert!(msg(e).contains("no model"));
    let mut bad = y.clone();
    bad[3] = 9;
    let e = report::evaluate(&common::GENRES, &bad, &one, &cfg).unwrap_err();
    assert!(msg(e).contains("label of track 3 is class 9"));

    let e = ScoreMatrix::from_rows(&[vec![0.1f32, f32::NAN]]).unwrap_err();
    assert!(msg(e).contains("track 0 class 1 is not finite"));
    let e = ScoreMatrix::from_rows(&[vec![0.1f32, 0.2], vec![0.3]]).unwrap_err();
    assert!(msg(e).contains("row 1 has 1 classes"));
    let e = ScoreMatrix::from_row_major(&[0.1f64; 7], 2).unwrap_err();
    assert!(msg(e).contains("do not split"));
    assert!(ScoreMatrix::from_rows::<f32>(&[]).is_err());
    let e = metrics::precision_recall_f1(&y, &a, f64::NAN).unwrap_err();
    assert!(msg(e).contains("threshold"));
}

#[test]
fn bootstrap_is_seeded() {
    let (y, a) = common::synthetic(150, 1.5, 40);
    let config = |seed| BootstrapConfig {
        resamples: 100,
        confidence: 0.9,
        seed,
    };
    let run =
        |seed| musicrec_eval::stats::bootstrap_class_intervals(&y, &a, 0.5, &config(seed)).unwrap();
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}
