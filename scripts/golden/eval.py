"""Golden outputs for musicrec-eval (crates/eval): scikit-learn metrics, scipy/statsmodels tests.

What it checks, and the conventions the Rust side must share:
  * Per-genre precision/recall/F1 are one-vs-rest on sigmoid outputs: a track is predicted
    positive for genre k when score[k] >= threshold (0.5). scikit-learn binarizes outside its
    metrics, so the rule is applied here (`>=` is the convention of sklearn's own `roc_curve`
    thresholds and `FixedThresholdClassifier`). The metrics then get multilabel indicator arrays,
    so micro averages pool the one-vs-rest counts of all genres.
  * ROC/AUC per genre: roc_curve(Y[:, k], S[:, k]) (drop_intermediate=True) and
    roc_auc_score(Y[:, k], S[:, k]); macro/micro/weighted via roc_auc_score(Y, S, average=...).
  * Top-1 accuracy and the confusion matrix use argmax (first maximum on ties, as np.argmax).
  * Bootstrap: the resample indices are drawn here and stored, so Rust recomputes F1/AUC on the
    same resamples and takes numpy's default (linear) percentiles. Resamples in which a genre has
    no positive or no negative track are skipped for that genre's AUC.
  * DeLong: the fast algorithm of Sun & Xu (2014), written below with numpy.
  * McNemar: statsmodels.stats.contingency_tables.mcnemar (exact binomial; chi-square with
    continuity correction).
  * Paired t-test: scipy.stats.ttest_rel (+ its confidence_interval), Cohen's d_z = mean/sd(ddof=1).
  * Wilcoxon: scipy.stats.wilcoxon defaults (zero_method='wilcox', correction=False,
    method='auto': exact for n <= 50 without ties/zeros, exact sign-flip permutation for n <= 13
    with ties/zeros, normal approximation otherwise).

JSON cannot hold inf/nan: they are written as the strings "inf", "-inf", "nan".

Run from the repo root (versions pinned in scripts/golden/requirements-eval.txt):
    python scripts/golden/eval.py
It rewrites crates/eval/tests/golden/eval.json (about 100 kB).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
import statsmodels
from scipy import stats
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)
from statsmodels.stats.contingency_tables import mcnemar

OUT = Path(__file__).resolve().parents[2] / "crates/eval/tests/golden/eval.json"
THRESHOLD = 0.5


def clean(x):
    """Recursively turn numpy values into JSON-safe Python values (non-finite -> strings)."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return [clean(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


def f32(a):
    """Scores as the model emits them (f32), widened exactly to f64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def onehot(y, k):
    out = np.zeros((len(y), k), dtype=int)
    out[np.arange(len(y)), y] = 1
    return out


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def metrics_case(name, y, scores):
    k = scores.shape[1]
    Y = onehot(y, k)
    pred = (scores >= THRESHOLD).astype(int)
    p, r, f, s = quiet(precision_recall_fscore_support, Y, pred, average=None, zero_division="warn")
    tp = (Y & pred).sum(axis=0)
    pred_sum = pred.sum(axis=0)
    true_sum = Y.sum(axis=0)
    averages = {}
    for avg in ("macro", "micro", "weighted"):
        ap, ar, af, _ = quiet(precision_recall_fscore_support, Y, pred, average=avg, zero_division="warn")
        averages[avg] = {"precision": ap, "recall": ar, "f1": af}
    curves = []
    aucs = []
    for c in range(k):
        fpr, tpr, thr = quiet(roc_curve, Y[:, c], scores[:, c])
        fpr_all, tpr_all, thr_all = quiet(roc_curve, Y[:, c], scores[:, c], drop_intermediate=False)
        curves.append(
            {
                "fpr": fpr,
                "tpr": tpr,
                "thresholds": thr,
                "fpr_all": fpr_all,
                "tpr_all": tpr_all,
                "thresholds_all": thr_all,
            }
        )
        aucs.append(quiet(roc_auc_score, Y[:, c], scores[:, c]))
    auc_avg = {avg: quiet(roc_auc_score, Y, scores, average=avg) for avg in ("macro", "micro", "weighted")}
    y_pred = np.argmax(scores, axis=1)
    return {
        "name": name,
        "y_true": y,
        "scores": scores,
        "threshold": THRESHOLD,
        "precision": p,
        "recall": r,
        "f1": f,
        "support": s,
        "precision_undefined": pred_sum == 0,
        "recall_undefined": true_sum == 0,
        "f1_undefined": (true_sum + pred_sum) == 0,
        "true_positives": tp,
        "averages": averages,
        "roc": curves,
        "auc": aucs,
        "auc_averages": auc_avg,
        "accuracy": accuracy_score(y, y_pred),
        "confusion_matrix": confusion_matrix(y, y_pred, labels=list(range(k))),
    }


def metric_cases():
    rng = np.random.default_rng(20240611)
    cases = []

    # Seeded, realistic: 5 genres, sigmoid outputs pushed up for the true genre.
    n, k = 240, 5
    y = rng.integers(0, k, size=n)
    logits = rng.normal(-1.0, 1.3, size=(n, k)) + 2.2 * onehot(y, k)
    scores = f32(1.0 / (1.0 + np.exp(-logits)))
    cases.append(metrics_case("random", y, scores))

    # The same rounded to one decimal: many ties and scores exactly at the 0.5 threshold.
    cases.append(metrics_case("rounded_ties", y, f32(np.round(scores, 1))))

    # Hand-made: genre 3 has no positive track (recall and AUC undefined), genre 2 has a
    # constant score (AUC 0.5, every track predicted positive), genre 1 is never predicted
    # positive (precision undefined), ties across tracks, a tie for the argmax.
    y = np.array([0, 0, 1, 2, 2, 0, 1, 2, 0, 1, 4, 4])
    s = np.array(
        [
            [0.9, 0.2, 0.5, 0.1, 0.3],
            [0.7, 0.4, 0.5, 0.6, 0.2],
            [0.3, 0.4, 0.5, 0.2, 0.1],
            [0.3, 0.1, 0.5, 0.2, 0.6],
            [0.5, 0.3, 0.5, 0.4, 0.4],
            [0.5, 0.2, 0.5, 0.3, 0.1],
            [0.2, 0.45, 0.5, 0.1, 0.2],
            [0.1, 0.1, 0.5, 0.7, 0.3],
            [0.4, 0.3, 0.5, 0.2, 0.5],
            [0.6, 0.2, 0.5, 0.2, 0.2],
            [0.2, 0.1, 0.5, 0.3, 0.8],
            [0.3, 0.3, 0.5, 0.1, 0.5],
        ]
    )
    cases.append(metrics_case("handmade_degenerate", y, f32(s)))

    # Hand-made 2: genre 0 has every track as positive (no negatives: fpr undefined).
    y = np.array([0, 0, 0, 0, 0, 0])
    s = np.array([[0.9, 0.1], [0.4, 0.2], [0.6, 0.6], [0.4, 0.3], [0.2, 0.9], [0.5, 0.5]])
    cases.append(metrics_case("single_class", y, f32(s)))
    return cases


# ---------------------------------------------------------------- DeLong (Sun & Xu 2014)
def compute_midrank(x):
    j = np.argsort(x, kind="mergesort")
    z = x[j]
    n = len(x)
    t = np.zeros(n, dtype=float)
    i = 0
    while i < n:
        a = i
        while a < n and z[a] == z[i]:
            a += 1
        t[i:a] = 0.5 * (i + a - 1)
        i = a
    t2 = np.empty(n, dtype=float)
    t2[j] = t + 1
    return t2


def fast_delong(predictions_sorted_transposed, m):
    """predictions: [n_models, n_examples] with the m positives first."""
    n = predictions_sorted_transposed.shape[1] - m
    pos = predictions_sorted_transposed[:, :m]
    neg = predictions_sorted_transposed[:, m:]
    k = predictions_sorted_transposed.shape[0]
    tx = np.empty([k, m])
    ty = np.empty([k, n])
    tz = np.empty([k, m + n])
    for r in range(k):
        tx[r] = compute_midrank(pos[r])
        ty[r] = compute_midrank(neg[r])
        tz[r] = compute_midrank(predictions_sorted_transposed[r])
    aucs = tz[:, :m].sum(axis=1) / m / n - float(m + 1.0) / 2.0 / n
    v01 = (tz[:, :m] - tx) / n
    v10 = 1.0 - (tz[:, m:] - ty) / m
    sx = np.cov(v01)
    sy = np.cov(v10)
    return aucs, sx / m + sy / n


def delong_case(name, y, a, b):
    order = np.argsort(-y, kind="mergesort")  # positives first, stable
    m = int(y.sum())
    preds = np.vstack([a, b])[:, order]
    aucs, cov = fast_delong(preds, m)
    diff = aucs[0] - aucs[1]
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    se = math.sqrt(var)
    z = diff / se
    p = 2 * stats.norm.sf(abs(z))
    q = stats.norm.ppf(0.975)
    return {
        "name": name,
        "y_true": y,
        "scores_a": a,
        "scores_b": b,
        "auc_a": aucs[0],
        "auc_b": aucs[1],
        "auc_a_sklearn": roc_auc_score(y, a),
        "auc_b_sklearn": roc_auc_score(y, b),
        "var_a": cov[0, 0],
        "var_b": cov[1, 1],
        "covariance": cov[0, 1],
        "z": z,
        "p_value": p,
        "ci_low": diff - q * se,
        "ci_high": diff + q * se,
    }


def delong_cases():
    rng = np.random.default_rng(7)
    n = 160
    y = (rng.random(n) < 0.35).astype(int)
    base = rng.normal(size=n) + 1.2 * y
    a = f32(1 / (1 + np.exp(-(base + rng.normal(scale=0.6, size=n)))))
    b = f32(1 / (1 + np.exp(-(0.6 * base + rng.normal(scale=1.0, size=n)))))
    out = [delong_case("random", y, a, b)]
    out.append(delong_case("ties", y, f32(np.round(a, 1)), f32(np.round(b, 1))))
    return out


# ---------------------------------------------------------------- bootstrap on stored resamples
def bootstrap_case(metric_case, n_resamples, confidence, seed):
    y = np.asarray(metric_case["y_true"])
    scores = np.asarray(metric_case["scores"])
    n, k = scores.shape
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    Y = onehot(y, k)
    pred = (scores >= THRESHOLD).astype(int)
    alpha = 1 - confidence
    classes = []
    for c in range(k):
        f1s, aucs = [], []
        for r in idx:
            f1s.append(quiet(f1_score, Y[r, c], pred[r, c], zero_division="warn"))
            if 0 < Y[r, c].sum() < n:
                aucs.append(roc_auc_score(Y[r, c], scores[r, c]))
        f1_lo, f1_hi = np.percentile(f1s, [100 * alpha / 2, 100 * (1 - alpha / 2)])
        entry = {"f1_low": f1_lo, "f1_high": f1_hi, "auc_valid": len(aucs)}
        if aucs:
            lo, hi = np.percentile(aucs, [100 * alpha / 2, 100 * (1 - alpha / 2)])
            entry.update({"auc_low": lo, "auc_high": hi})
        classes.append(entry)
    return {"case": metric_case["name"], "confidence": confidence, "indices": idx, "classes": classes}


# ---------------------------------------------------------------- paired tests
def mcnemar_cases():
    tables = [
        [[30, 12], [4, 54]],
        [[10, 3], [3, 10]],
        [[400, 61], [35, 500]],
        [[5, 0], [9, 2]],
        [[120, 14], [15, 90]],
    ]
    out = []
    for t in tables:
        ex = mcnemar(t, exact=True)
        ch = mcnemar(t, exact=False, correction=True)
        out.append(
            {
                "table": t,
                "exact_statistic": ex.statistic,
                "exact_p_value": ex.pvalue,
                "chi2_statistic": ch.statistic,
                "chi2_p_value": ch.pvalue,
            }
        )
    return out


def ttest_cases():
    rng = np.random.default_rng(11)
    out = []
    for name, n, shift in (("n25", 25, 0.3), ("n8_small_effect", 8, 0.05), ("n200", 200, -0.1)):
        a = rng.normal(size=n)
        b = a - shift + rng.normal(scale=0.5, size=n)
        res = stats.ttest_rel(a, b)
        ci = res.confidence_interval(0.95)
        d = a - b
        out.append(
            {
                "name": name,
                "a": a,
                "b": b,
                "t": res.statistic,
                "df": res.df,
                "p_value": res.pvalue,
                "mean_difference": d.mean(),
                "ci_low": ci.low,
                "ci_high": ci.high,
                "cohens_dz": d.mean() / d.std(ddof=1),
            }
        )
    return out


def wilcoxon_method(d):
    """The method scipy.stats.wilcoxon(method='auto') picks, for the record in the golden file."""
    n = len(d)
    nz = d[d != 0]
    has_ties = len(np.unique(np.abs(nz))) < len(nz)
    if n > 50:
        return "asymptotic"
    if not (has_ties or (d == 0).any()):
        return "exact"
    return "permutation" if n <= 13 else "asymptotic"


def wilcoxon_cases():
    rng = np.random.default_rng(3)
    cases = []
    a = rng.normal(size=20)
    cases.append(("exact_n20", a, a - 0.4 + rng.normal(scale=0.6, size=20)))
    a = rng.normal(size=50)
    cases.append(("exact_n50", a, a + 0.1 + rng.normal(scale=0.5, size=50)))
    a = np.round(rng.normal(size=30), 1)
    cases.append(("ties_n30", a, np.round(a - 0.2 + rng.normal(scale=0.4, size=30), 1)))
    a = np.round(rng.normal(size=40), 1)
    b = np.round(a + 0.1 + rng.normal(scale=0.3, size=40), 1)
    b[:4] = a[:4]  # zeros
    cases.append(("zeros_ties_n40", a, b))
    a = np.round(rng.normal(size=10), 1)
    b = np.round(a - 0.3 + rng.normal(scale=0.3, size=10), 1)
    b[0] = a[0]
    cases.append(("permutation_n10", a, b))
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    cases.append(("permutation_ties_n7", a, a - np.array([0.5, 0.5, -0.5, 1.0, 1.0, 1.0, 2.0])))
    a = rng.normal(size=80)
    cases.append(("asymptotic_n80", a, a + 0.15 + rng.normal(scale=0.5, size=80)))
    out = []
    for name, x, y in cases:
        res = stats.wilcoxon(x, y)
        out.append(
            {
                "name": name,
                "a": x,
                "b": y,
                "statistic": res.statistic,
                "p_value": res.pvalue,
                "method": wilcoxon_method(x - y),
            }
        )
    return out


def main():
    metrics = metric_cases()
    golden = {
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "metrics": metrics,
        "bootstrap": [
            bootstrap_case(metrics[0], 60, 0.95, 5),
            bootstrap_case(metrics[2], 40, 0.9, 6),
        ],
        "delong": delong_cases(),
        "mcnemar": mcnemar_cases(),
        "ttest_rel": ttest_cases(),
        "wilcoxon": wilcoxon_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(clean(golden), separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
