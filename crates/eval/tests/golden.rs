//! Parity with scikit-learn, scipy and statsmodels on the stored outputs of
//! scripts/golden/eval.py (tests/golden/eval.json). Tolerance 1e-9 absolute.

use std::path::Path;
use std::sync::OnceLock;

use musicrec_eval::metrics::{self, Auc, ScoreMatrix};
use musicrec_eval::stats::{self, McnemarTable, WilcoxonMethod};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/eval.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/golden/eval.py)", path.display()));
        serde_json::from_str(&text).expect("golden JSON parses")
    })
}

/// A golden number; the script writes non-finite values as strings.
fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        other => panic!("not a number: {other}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap())
        .collect()
}

/// Tracks the largest absolute error seen, and fails on any beyond `TOL` (NaN must match NaN,
/// infinities must match exactly).
struct Checker {
    max_err: f64,
    compared: usize,
}

impl Checker {
    fn new() -> Self {
        Self {
            max_err: 0.0,
            compared: 0,
        }
    }

    fn close(&mut self, what: &str, got: f64, want: f64) {
        self.compared += 1;
        if want.is_nan() || want.is_infinite() {
            assert!(
                got.is_nan() && want.is_nan() || got == want,
                "{what}: got {got}, want {want}"
            );
            return;
        }
        let err = (got - want).abs();
        self.max_err = self.max_err.max(err);
        assert!(err <= TOL, "{what}: got {got}, want {want} (error {err:e})");
    }

    fn all(&mut self, what: &str, got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            self.close(&format!("{what}[{i}]"), *g, *w);
        }
    }

    fn report(&self, name: &str) {
        assert!(self.compared > 0, "{name}: nothing compared");
        println!(
            "{name}: {} values, max abs error {:e}",
            self.compared, self.max_err
        );
    }
}

fn score_matrix(case: &Value) -> ScoreMatrix {
    let rows: Vec<Vec<f64>> = case["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(nums)
        .collect();
    ScoreMatrix::from_rows(&rows).unwrap()
}

#[test]
fn precision_recall_f1_match_sklearn() {
    let mut check = Checker::new();
    for case in golden()["metrics"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let y = usizes(&case["y_true"]);
        let scores = score_matrix(case);
        let prf = metrics::precision_recall_f1(&y, &scores, num(&case["threshold"])).unwrap();
        let per_class = |f: fn(&metrics::ClassMetrics) -> f64| -> Vec<f64> {
            prf.per_class.iter().map(f).collect()
        };
        check.all(
            &format!("{name} precision"),
            &per_class(|m| m.precision),
            &nums(&case["precision"]),
        );
        check.all(
            &format!("{name} recall"),
            &per_class(|m| m.recall),
            &nums(&case["recall"]),
        );
        check.all(
            &format!("{name} f1"),
            &per_class(|m| m.f1),
            &nums(&case["f1"]),
        );
        let support: Vec<usize> = prf.per_class.iter().map(|m| m.support as usize).collect();
        assert_eq!(support, usizes(&case["support"]), "{name} support");
        let tp: Vec<usize> = prf
            .per_class
            .iter()
            .map(|m| m.true_positives as usize)
            .collect();
        assert_eq!(tp, usizes(&case["true_positives"]), "{name} tp");
        let flags = |f: fn(&metrics::ClassMetrics) -> bool| -> Vec<bool> {
            prf.per_class.iter().map(f).collect()
        };
        assert_eq!(
            flags(|m| m.precision_undefined),
            bools(&case["precision_undefined"]),
            "{name}"
        );
        assert_eq!(
            flags(|m| m.recall_undefined),
            bools(&case["recall_undefined"]),
            "{name}"
        );
        assert_eq!(
            flags(|m| m.f1_undefined),
            bools(&case["f1_undefined"]),
            "{name}"
        );
        for (avg, got) in [
            ("macro", prf.macro_avg),
            ("micro", prf.micro_avg),
            ("weighted", prf.weighted_avg),
        ] {
            let want = &case["averages"][avg];
            check.close(
                &format!("{name} {avg} precision"),
                got.precision,
                num(&want["precision"]),
            );
            check.close(
                &format!("{name} {avg} recall"),
                got.recall,
                num(&want["recall"]),
            );
            check.close(&format!("{name} {avg} f1"), got.f1, num(&want["f1"]));
        }
    }
    // The hand-made case really exercises the undefined paths.
    let handmade = &golden()["metrics"][2];
    assert!(bools(&handmade["precision_undefined"]).contains(&true));
    assert!(bools(&handmade["recall_undefined"]).contains(&true));
    check.report("precision/recall/F1");
}

#[test]
fn roc_curves_and_auc_match_sklearn() {
    let mut check = Checker::new();
    for case in golden()["metrics"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let y = usizes(&case["y_true"]);
        let scores = score_matrix(case);
        let curves = metrics::roc_curves_per_class(&y, &scores).unwrap();
        for (k, want) in case["roc"].as_array().unwrap().iter().enumerate() {
            let got = &curves[k];
            check.all(
                &format!("{name} class {k} fpr"),
                &got.fpr,
                &nums(&want["fpr"]),
            );
            check.all(
                &format!("{name} class {k} tpr"),
                &got.tpr,
                &nums(&want["tpr"]),
            );
            check.all(
                &format!("{name} class {k} thr"),
                &got.thresholds,
                &nums(&want["thresholds"]),
            );
            let all =
                metrics::roc_curve(&metrics::class_indicator(&y, k), &scores.column(k), false)
                    .unwrap();
            check.all(
                &format!("{name} class {k} fpr_all"),
                &all.fpr,
                &nums(&want["fpr_all"]),
            );
            check.all(
                &format!("{name} class {k} tpr_all"),
                &all.tpr,
                &nums(&want["tpr_all"]),
            );
            check.all(
                &format!("{name} class {k} thr_all"),
                &all.thresholds,
                &nums(&want["thresholds_all"]),
            );
        }
        let aucs = metrics::roc_auc_per_class(&y, &scores).unwrap();
        let got: Vec<f64> = aucs.per_class.iter().map(Auc::value_or_nan).collect();
        check.all(&format!("{name} auc"), &got, &nums(&case["auc"]));
        for (avg, got) in [
            ("macro", &aucs.macro_avg),
            ("micro", &aucs.micro_avg),
            ("weighted", &aucs.weighted_avg),
        ] {
            let want = num(&case["auc_averages"][avg]);
            check.close(&format!("{name} {avg} auc"), got.value_or_nan(), want);
            assert_eq!(
                got.undefined_reason().is_some(),
                want.is_nan(),
                "{name} {avg}"
            );
        }
        check.close(
            &format!("{name} accuracy"),
            metrics::top1_accuracy(&y, &scores).unwrap(),
            num(&case["accuracy"]),
        );
        let cm = metrics::confusion_matrix(
            &y,
            &metrics::argmax_predictions(&scores),
            scores.n_classes(),
        )
        .unwrap();
        let want_cm: Vec<Vec<u64>> = case["confusion_matrix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| usizes(r).into_iter().map(|v| v as u64).collect())
            .collect();
        assert_eq!(cm, want_cm, "{name} confusion matrix");
    }
    check.report("ROC curves / AUC / accuracy");
}

#[test]
fn f32_scores_give_the_same_metrics_as_their_f64_widening() {
    let case = &golden()["metrics"][0];
    let y = usizes(&case["y_true"]);
    let wide = score_matrix(case);
    let narrow: Vec<f32> = wide.as_slice().iter().map(|&v| v as f32).collect();
    let narrow = ScoreMatrix::from_row_major(&narrow, wide.n_classes()).unwrap();
    assert!(narrow == wide, "golden scores are f32 values");
    assert_eq!(
        metrics::roc_auc_per_class(&y, &narrow).unwrap(),
        metrics::roc_auc_per_class(&y, &wide).unwrap()
    );
}

#[test]
fn bootstrap_intervals_match_numpy_on_the_same_resamples() {
    let mut check = Checker::new();
    for b in golden()["bootstrap"].as_array().unwrap() {
        let case = golden()["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == b["case"])
            .unwrap();
        let y = usizes(&case["y_true"]);
        let scores = score_matrix(case);
        let resamples: Vec<Vec<usize>> = b["indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(usizes)
            .collect();
        let got = stats::class_intervals_from_resamples(
            &y,
            &scores,
            num(&case["threshold"]),
            num(&b["confidence"]),
            &resamples,
        )
        .unwrap();
        for (k, want) in b["classes"].as_array().unwrap().iter().enumerate() {
            let what = format!("{} class {k}", b["case"]);
            check.close(
                &format!("{what} f1 low"),
                got[k].f1.low,
                num(&want["f1_low"]),
            );
            check.close(
                &format!("{what} f1 high"),
                got[k].f1.high,
                num(&want["f1_high"]),
            );
            assert_eq!(
                got[k].auc_resamples as u64,
                want["auc_valid"].as_u64().unwrap(),
                "{what}"
            );
            match got[k].auc {
                Some(ci) => {
                    check.close(&format!("{what} auc low"), ci.low, num(&want["auc_low"]));
                    check.close(&format!("{what} auc high"), ci.high, num(&want["auc_high"]));
                }
                None => assert!(
                    want.get("auc_low").is_none(),
                    "{what}: AUC interval missing"
                ),
            }
        }
    }
    check.report("bootstrap percentile intervals");
}

#[test]
fn delong_matches_numpy_fast_delong() {
    let mut check = Checker::new();
    for case in golden()["delong"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let y: Vec<bool> = usizes(&case["y_true"])
            .into_iter()
            .map(|v| v == 1)
            .collect();
        let (a, b) = (nums(&case["scores_a"]), nums(&case["scores_b"]));
        let t = stats::delong_test(&y, &a, &b).unwrap();
        check.close(&format!("{name} auc_a"), t.auc_a, num(&case["auc_a"]));
        check.close(&format!("{name} auc_b"), t.auc_b, num(&case["auc_b"]));
        // DeLong's AUC is the Mann-Whitney AUC, which is also scikit-learn's.
        check.close(
            &format!("{name} auc_a sklearn"),
            t.auc_a,
            num(&case["auc_a_sklearn"]),
        );
        check.close(&format!("{name} var_a"), t.variance_a, num(&case["var_a"]));
        check.close(&format!("{name} var_b"), t.variance_b, num(&case["var_b"]));
        check.close(
            &format!("{name} cov"),
            t.covariance,
            num(&case["covariance"]),
        );
        check.close(&format!("{name} z"), t.z, num(&case["z"]));
        check.close(&format!("{name} p"), t.p_value, num(&case["p_value"]));
        check.close(&format!("{name} ci_low"), t.ci_low, num(&case["ci_low"]));
        check.close(&format!("{name} ci_high"), t.ci_high, num(&case["ci_high"]));
    }
    check.report("DeLong");
}

#[test]
fn mcnemar_matches_statsmodels() {
    let mut check = Checker::new();
    for case in golden()["mcnemar"].as_array().unwrap() {
        let t: Vec<Vec<usize>> = case["table"]
            .as_array()
            .unwrap()
            .iter()
            .map(usizes)
            .collect();
        let table = McnemarTable {
            both_correct: t[0][0] as u64,
            only_a_correct: t[0][1] as u64,
            only_b_correct: t[1][0] as u64,
            both_wrong: t[1][1] as u64,
        };
        let got = stats::mcnemar_test(&table);
        let what = format!("{t:?}");
        check.close(
            &format!("{what} exact stat"),
            got.exact_statistic as f64,
            num(&case["exact_statistic"]),
        );
        check.close(
            &format!("{what} exact p"),
            got.exact_p_value,
            num(&case["exact_p_value"]),
        );
        check.close(
            &format!("{what} chi2"),
            got.chi2_statistic.unwrap(),
            num(&case["chi2_statistic"]),
        );
        check.close(
            &format!("{what} chi2 p"),
            got.chi2_p_value.unwrap(),
            num(&case["chi2_p_value"]),
        );
    }
    check.report("McNemar");
}

#[test]
fn paired_t_test_matches_scipy_ttest_rel() {
    let mut check = Checker::new();
    for case in golden()["ttest_rel"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let t = stats::paired_t_test(&nums(&case["a"]), &nums(&case["b"]), 0.95).unwrap();
        check.close(&format!("{name} t"), t.t, num(&case["t"]));
        check.close(&format!("{name} df"), t.df, num(&case["df"]));
        check.close(&format!("{name} p"), t.p_value, num(&case["p_value"]));
        check.close(
            &format!("{name} mean"),
            t.mean_difference,
            num(&case["mean_difference"]),
        );
        check.close(&format!("{name} ci_low"), t.ci_low, num(&case["ci_low"]));
        check.close(&format!("{name} ci_high"), t.ci_high, num(&case["ci_high"]));
        check.close(&format!("{name} d_z"), t.cohens_dz, num(&case["cohens_dz"]));
    }
    check.report("paired t-test");
}

#[test]
fn wilcoxon_matches_scipy() {
    let mut check = Checker::new();
    let mut methods = Vec::new();
    for case in golden()["wilcoxon"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let w = stats::wilcoxon_signed_rank(&nums(&case["a"]), &nums(&case["b"])).unwrap();
        let want_method = match case["method"].as_str().unwrap() {
            "exact" => WilcoxonMethod::Exact,
            "permutation" => WilcoxonMethod::Permutation,
            "asymptotic" => WilcoxonMethod::Asymptotic,
            other => panic!("unknown method {other}"),
        };
        assert_eq!(w.method, want_method, "{name}");
        methods.push(w.method);
        check.close(
            &format!("{name} statistic"),
            w.statistic,
            num(&case["statistic"]),
        );
        check.close(&format!("{name} p"), w.p_value, num(&case["p_value"]));
    }
    for m in [
        WilcoxonMethod::Exact,
        WilcoxonMethod::Permutation,
        WilcoxonMethod::Asymptotic,
    ] {
        assert!(methods.contains(&m), "no golden case for {m:?}");
    }
    check.report("Wilcoxon");
}
