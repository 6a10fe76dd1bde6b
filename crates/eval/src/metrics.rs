//! Classification metrics for sigmoid genre classifiers, matching scikit-learn 1.9.
//!
//! Inputs are a true class index per track (`y_true`) and a [`ScoreMatrix`] of one score per
//! track and genre (sigmoid outputs). Conventions, all checked against scikit-learn by
//! `scripts/golden/eval.py`:
//! - Precision/recall/F1 are one-vs-rest: a track counts as predicted positive for genre `k`
//!   when `score[k] >= threshold` (0.5 by default). `>=` is the rule of scikit-learn's
//!   `roc_curve` thresholds and `FixedThresholdClassifier`; scikit-learn's metrics take
//!   already-binarized predictions, so the golden script binarizes the same way. A track may thus
//!   be predicted positive for several genres or none, and the micro average pools the counts of
//!   all genres (scikit-learn's multilabel-indicator mode).
//! - Undefined ratios follow `zero_division="warn"`: the value is 0.0 and the matching
//!   `*_undefined` flag is set (scikit-learn warns). F1 is `2·tp / (2·tp + fp + fn)`, undefined
//!   only when a genre has neither true nor predicted tracks.
//! - [`roc_curve`] is `sklearn.metrics.roc_curve` (first threshold `+inf`, tied scores form one
//!   point, `drop_intermediate` removes collinear points); [`roc_auc`] is `roc_auc_score`. An AUC
//!   with only one class present is [`Auc::Undefined`] (scikit-learn warns and returns NaN).
//! - Top-1 accuracy and the confusion matrix use the argmax (the first maximum on ties, like
//!   `np.argmax`); the confusion matrix has true genres as rows and predictions as columns.

use serde::Serialize;

use crate::EvalError;

/// The paper's decision threshold on each sigmoid output.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// Scores `[n_tracks][n_classes]`, row-major, in f64, all finite.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreMatrix {
    n_tracks: usize,
    n_classes: usize,
    values: Vec<f64>,
}

impl ScoreMatrix {
    /// One row per track, one score per class (f32 model outputs are widened exactly).
    pub fn from_rows<T: Copy + Into<f64>>(rows: &[Vec<T>]) -> Result<Self, EvalError> {
        let n_classes = rows.first().map(Vec::len).unwrap_or(0);
        if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != n_classes) {
            return Err(EvalError::invalid(format!(
                "score row {i} has {} classes, row 0 has {n_classes}",
                row.len()
            )));
        }
        let values: Vec<f64> = rows.iter().flatten().map(|&v| v.into()).collect();
        Self::from_values(values, n_classes)
    }

    /// A flat row-major buffer of `n_tracks * n_classes` scores.
    pub fn from_row_major<T: Copy + Into<f64>>(
        values: &[T],
        n_classes: usize,
    ) -> Result<Self, EvalError> {
        if n_classes == 0 || !values.len().is_multiple_of(n_classes) {
            return Err(EvalError::invalid(format!(
                "{} scores do not split into rows of {n_classes} classes",
                values.len()
            )));
        }
        Self::from_values(values.iter().map(|&v| v.into()).collect(), n_classes)
    }

    fn from_values(values: Vec<f64>, n_classes: usize) -> Result<Self, EvalError> {
        if values.is_empty() || n_classes == 0 {
            return Err(EvalError::invalid(
                "no scores (need at least one track and one class)",
            ));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(EvalError::invalid(format!(
                "score of track {} class {} is not finite ({})",
                i / n_classes,
                i % n_classes,
                values[i]
            )));
        }
        Ok(Self {
            n_tracks: values.len() / n_classes,
            n_classes,
            values,
        })
    }

    pub fn n_tracks(&self) -> usize {
        self.n_tracks
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The scores of one track.
    pub fn row(&self, track: usize) -> &[f64] {
        &self.values[track * self.n_classes..(track + 1) * self.n_classes]
    }

    /// Score of `track` for `class`.
    pub fn get(&self, track: usize, class: usize) -> f64 {
        self.values[track * self.n_classes + class]
    }

    /// All tracks' scores for one class.
    pub fn column(&self, class: usize) -> Vec<f64> {
        (0..self.n_tracks).map(|t| self.get(t, class)).collect()
    }

    /// The row-major buffer.
    pub fn as_slice(&self) -> &[f64] {
        &self.values
    }
}

/// Checks that `y_true` has one label per score row, each a valid class index.
pub fn check_labels(y_true: &[usize], scores: &ScoreMatrix) -> Result<(), EvalError> {
    if y_true.len() != scores.n_tracks() {
        return Err(EvalError::invalid(format!(
            "{} labels for {} score rows",
            y_true.len(),
            scores.n_tracks()
        )));
    }
    if let Some((i, &c)) = y_true
        .iter()
        .enumerate()
        .find(|&(_, &c)| c >= scores.n_classes())
    {
        return Err(EvalError::invalid(format!(
            "label of track {i} is class {c}, but there are only {} classes",
            scores.n_classes()
        )));
    }
    Ok(())
}

/// `y_true == class` per track: the one-vs-rest labels of one genre.
pub fn class_indicator(y_true: &[usize], class: usize) -> Vec<bool> {
    y_true.iter().map(|&c| c == class).collect()
}

// ------------------------------------------------------------------ precision / recall / F1

/// One genre's one-vs-rest scores at a threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Tracks whose true genre is this one.
    pub support: u64,
    /// Tracks predicted positive for this genre (score >= threshold).
    pub predicted_positive: u64,
    pub true_positives: u64,
    /// No track predicted positive: precision set to 0 (scikit-learn warns).
    pub precision_undefined: bool,
    /// No true track: recall set to 0 (scikit-learn warns).
    pub recall_undefined: bool,
    /// Neither true nor predicted tracks: F1 set to 0 (scikit-learn warns).
    pub f1_undefined: bool,
}

/// An average over genres of precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AveragedMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Per-genre precision/recall/F1 and their macro, micro and support-weighted averages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrecisionRecallF1 {
    pub threshold: f64,
    pub per_class: Vec<ClassMetrics>,
    pub macro_avg: AveragedMetrics,
    pub micro_avg: AveragedMetrics,
    pub weighted_avg: AveragedMetrics,
}

/// One-vs-rest counts of one genre.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct OneVsRestCounts {
    pub true_positives: u64,
    pub predicted: u64,
    pub actual: u64,
}

/// Counts per class over the given tracks (a bootstrap resample may repeat tracks).
pub(crate) fn one_vs_rest_counts(
    y_true: &[usize],
    scores: &ScoreMatrix,
    threshold: f64,
    tracks: impl Iterator<Item = usize>,
) -> Vec<OneVsRestCounts> {
    let mut counts = vec![OneVsRestCounts::default(); scores.n_classes()];
    for t in tracks {
        let truth = y_true[t];
        for (k, c) in counts.iter_mut().enumerate() {
            let positive = scores.get(t, k) >= threshold;
            c.predicted += u64::from(positive);
            c.actual += u64::from(truth == k);
            c.true_positives += u64::from(positive && truth == k);
        }
    }
    counts
}

/// `num / den`, or 0.0 flagged undefined when `den == 0` (scikit-learn's `zero_division="warn"`).
fn ratio(num: f64, den: f64) -> (f64, bool) {
    if den == 0.0 {
        (0.0, true)
    } else {
        (num / den, false)
    }
}

/// F1 from counts, as scikit-learn computes it: `2·tp / (actual + predicted)`.
pub(crate) fn f1_from_counts(c: &OneVsRestCounts) -> (f64, bool) {
    ratio(
        2.0 * c.true_positives as f64,
        (c.actual + c.predicted) as f64,
    )
}

fn class_metrics(c: &OneVsRestCounts) -> ClassMetrics {
    let (precision, precision_undefined) = ratio(c.true_positives as f64, c.predicted as f64);
    let (recall, recall_undefined) = ratio(c.true_positives as f64, c.actual as f64);
    let (f1, f1_undefined) = f1_from_counts(c);
    ClassMetrics {
        precision,
        recall,
        f1,
        support: c.actual,
        predicted_positive: c.predicted,
        true_positives: c.true_positives,
        precision_undefined,
        recall_undefined,
        f1_undefined,
    }
}

/// Mean of `values`, weighted when `weights` is given; all-zero weights fall back to the plain
/// mean (scikit-learn's `_nanaverage`).
fn average(values: &[f64], weights: Option<&[f64]>) -> f64 {
    let plain = || values.iter().sum::<f64>() / values.len() as f64;
    match weights {
        Some(w) => {
            let total: f64 = w.iter().sum();
            if total == 0.0 {
                plain()
            } else {
                values.iter().zip(w).map(|(v, w)| v * w).sum::<f64>() / total
            }
        }
        None => plain(),
    }
}

/// Per-genre precision, recall and F1 at `threshold` (positive when `score >= threshold`), with
/// macro, micro and weighted averages as `precision_recall_fscore_support` gives them.
pub fn precision_recall_f1(
    y_true: &[usize],
    scores: &ScoreMatrix,
    threshold: f64,
) -> Result<PrecisionRecallF1, EvalError> {
    check_labels(y_true, scores)?;
    if !threshold.is_finite() {
        return Err(EvalError::invalid(format!(
            "threshold must be finite, got {threshold}"
        )));
    }
    let counts = one_vs_rest_counts(y_true, scores, threshold, 0..y_true.len());
    let per_class: Vec<ClassMetrics> = counts.iter().map(class_metrics).collect();
    let column = |f: fn(&ClassMetrics) -> f64| per_class.iter().map(f).collect::<Vec<f64>>();
    let (precisions, recalls, f1s) = (
        column(|m| m.precision),
        column(|m| m.recall),
        column(|m| m.f1),
    );
    let supports = column(|m| m.support as f64);
    let averaged = |weights: Option<&[f64]>| AveragedMetrics {
        precision: average(&precisions, weights),
        recall: average(&recalls, weights),
        f1: average(&f1s, weights),
    };
    let pooled = counts
        .iter()
        .fold(OneVsRestCounts::default(), |acc, c| OneVsRestCounts {
            true_positives: acc.true_positives + c.true_positives,
            predicted: acc.predicted + c.predicted,
            actual: acc.actual + c.actual,
        });
    let pooled = class_metrics(&pooled);
    Ok(PrecisionRecallF1 {
        threshold,
        macro_avg: averaged(None),
        weighted_avg: averaged(Some(&supports)),
        micro_avg: AveragedMetrics {
            precision: pooled.precision,
            recall: pooled.recall,
            f1: pooled.f1,
        },
        per_class,
    })
}

// ------------------------------------------------------------------ ROC and AUC

/// A ROC curve as `sklearn.metrics.roc_curve` returns it.
///
/// `thresholds[0]` is `+inf` (the point (0, 0)); `thresholds[i]` predicts positive when
/// `score >= thresholds[i]`. With no positive (negative) track `tpr` (`fpr`) is all NaN, as in
/// scikit-learn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// An AUC, or why it has no value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Auc {
    Defined(f64),
    Undefined { reason: String },
}

impl Auc {
    /// The value, `None` when undefined.
    pub fn value(&self) -> Option<f64> {
        match self {
            Auc::Defined(v) => Some(*v),
            Auc::Undefined { .. } => None,
        }
    }

    /// The value, NaN when undefined (scikit-learn's return value).
    pub fn value_or_nan(&self) -> f64 {
        self.value().unwrap_or(f64::NAN)
    }

    /// Why the AUC is undefined, `None` when it is defined.
    pub fn undefined_reason(&self) -> Option<&str> {
        match self {
            Auc::Defined(_) => None,
            Auc::Undefined { reason } => Some(reason),
        }
    }
}

fn check_binary(y_true: &[bool], y_score: &[f64]) -> Result<(), EvalError> {
    if y_true.len() != y_score.len() {
        return Err(EvalError::invalid(format!(
            "{} labels for {} scores",
            y_true.len(),
            y_score.len()
        )));
    }
    if y_true.is_empty() {
        return Err(EvalError::invalid("no tracks"));
    }
    if let Some(i) = y_score.iter().position(|v| !v.is_finite()) {
        return Err(EvalError::invalid(format!(
            "score {i} is not finite ({})",
            y_score[i]
        )));
    }
    Ok(())
}

/// Indices of `scores` by decreasing score; the order among ties does not matter because only
/// the cumulative counts at the end of each tie group are used.
pub(crate) fn descending_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// False and true positive counts at each distinct score, highest first
/// (scikit-learn's `confusion_matrix_at_thresholds`).
fn counts_at_thresholds(y_true: &[bool], y_score: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let order = descending_order(y_score);
    let (mut fps, mut tps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
    let mut true_positives = 0.0;
    for (i, &t) in order.iter().enumerate() {
        true_positives += f64::from(u8::from(y_true[t]));
        // `!=` treats -0.0 and 0.0 as one score, like numpy's `diff != 0`.
        let last_of_group = order
            .get(i + 1)
            .is_none_or(|&next| y_score[next] != y_score[t]);
        if last_of_group {
            tps.push(true_positives);
            fps.push(1.0 + i as f64 - true_positives);
            thresholds.push(y_score[t]);
        }
    }
    (fps, tps, thresholds)
}

/// `sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=...)`.
pub fn roc_curve(
    y_true: &[bool],
    y_score: &[f64],
    drop_intermediate: bool,
) -> Result<RocCurve, EvalError> {
    check_binary(y_true, y_score)?;
    let (mut fps, mut tps, mut thresholds) = counts_at_thresholds(y_true, y_score);
    if drop_intermediate && fps.len() > 2 {
        // Keep the ends and every point where the curve bends (a non-zero second difference).
        let second_diff_nonzero =
            |v: &[f64], i: usize| (v[i + 1] - v[i]) - (v[i] - v[i - 1]) != 0.0;
        let keep: Vec<usize> = (0..fps.len())
            .filter(|&i| {
                i == 0
                    || i == fps.len() - 1
                    || second_diff_nonzero(&fps, i)
                    || second_diff_nonzero(&tps, i)
            })
            .collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
        thresholds = keep.iter().map(|&i| thresholds[i]).collect();
    }
    fps.insert(0, 0.0);
    tps.insert(0, 0.0);
    thresholds.insert(0, f64::INFINITY);
    let rate = |counts: Vec<f64>| {
        let total = *counts.last().expect("at least the (0, 0) point");
        if total <= 0.0 {
            vec![f64::NAN; counts.len()]
        } else {
            counts.into_iter().map(|c| c / total).collect()
        }
    };
    Ok(RocCurve {
        fpr: rate(fps),
        tpr: rate(tps),
        thresholds,
    })
}

/// Area under a curve by the trapezoidal rule (`sklearn.metrics.auc`): `x` must be monotonic.
pub fn auc(x: &[f64], y: &[f64]) -> Result<f64, EvalError> {
    if x.len() != y.len() || x.len() < 2 {
        return Err(EvalError::invalid(format!(
            "auc needs at least 2 points with as many x as y (got {} x, {} y)",
            x.len(),
            y.len()
        )));
    }
    let dx: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let direction = if dx.iter().any(|&d| d < 0.0) {
        if dx.iter().all(|&d| d <= 0.0) {
            -1.0
        } else {
            return Err(EvalError::invalid("x is neither increasing nor decreasing"));
        }
    } else {
        1.0
    };
    let area: f64 = dx
        .iter()
        .zip(y.windows(2))
        .map(|(d, w)| d * (w[1] + w[0]) / 2.0)
        .sum();
    Ok(direction * area)
}

/// `sklearn.metrics.roc_auc_score` for one genre; undefined when only one class is present.
pub fn roc_auc(y_true: &[bool], y_score: &[f64]) -> Result<Auc, EvalError> {
    check_binary(y_true, y_score)?;
    let positives = y_true.iter().filter(|&&y| y).count();
    if positives == 0 {
        return Ok(Auc::Undefined {
            reason: "no positive track (only one class present)".into(),
        });
    }
    if positives == y_true.len() {
        return Ok(Auc::Undefined {
            reason: "no negative track (only one class present)".into(),
        });
    }
    let curve = roc_curve(y_true, y_score, true)?;
    Ok(Auc::Defined(auc(&curve.fpr, &curve.tpr)?))
}

/// Per-genre AUCs and their averages, as `roc_auc_score(Y, S, average=...)` on the one-hot
/// indicator matrix `Y`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AucSummary {
    pub per_class: Vec<Auc>,
    /// Undefined when any genre's AUC is (scikit-learn returns NaN).
    pub macro_avg: Auc,
    /// AUC of all (track, genre) pairs pooled.
    pub micro_avg: Auc,
    /// Weighted by support; genres with no true track carry no weight.
    pub weighted_avg: Auc,
}

/// One-vs-rest ROC curve of every genre (`drop_intermediate=True`).
pub fn roc_curves_per_class(
    y_true: &[usize],
    scores: &ScoreMatrix,
) -> Result<Vec<RocCurve>, EvalError> {
    check_labels(y_true, scores)?;
    (0..scores.n_classes())
        .map(|k| roc_curve(&class_indicator(y_true, k), &scores.column(k), true))
        .collect()
}

/// Per-genre one-vs-rest AUC with macro, micro and weighted averages.
pub fn roc_auc_per_class(y_true: &[usize], scores: &ScoreMatrix) -> Result<AucSummary, EvalError> {
    check_labels(y_true, scores)?;
    let per_class = (0..scores.n_classes())
        .map(|k| roc_auc(&class_indicator(y_true, k), &scores.column(k)))
        .collect::<Result<Vec<Auc>, EvalError>>()?;
    let supports: Vec<f64> = (0..scores.n_classes())
        .map(|k| y_true.iter().filter(|&&c| c == k).count() as f64)
        .collect();
    let undefined_in = |weights: Option<&[f64]>| -> Vec<usize> {
        (0..per_class.len())
            .filter(|&k| per_class[k].value().is_none() && weights.is_none_or(|w| w[k] > 0.0))
            .collect()
    };
    let averaged = |weights: Option<&[f64]>| -> Auc {
        let undefined = undefined_in(weights);
        if !undefined.is_empty() {
            return Auc::Undefined {
                reason: format!("AUC undefined for class(es) {undefined:?}"),
            };
        }
        if weights.is_some_and(|w| w.iter().sum::<f64>() == 0.0) {
            return Auc::Defined(0.0); // scikit-learn's value when no genre has a true track
        }
        // Genres without weight are set to 0 before averaging, as scikit-learn does.
        let values: Vec<f64> = per_class.iter().map(|a| a.value().unwrap_or(0.0)).collect();
        Auc::Defined(average(&values, weights))
    };
    let n_classes = scores.n_classes();
    let pooled_truth: Vec<bool> = (0..scores.as_slice().len())
        .map(|i| y_true[i / n_classes] == i % n_classes)
        .collect();
    Ok(AucSummary {
        macro_avg: averaged(None),
        weighted_avg: averaged(Some(&supports)),
        micro_avg: roc_auc(&pooled_truth, scores.as_slice())?,
        per_class,
    })
}

// ------------------------------------------------------------------ argmax accuracy

/// The highest-scoring class of each track (the first one on ties, like `np.argmax`).
pub fn argmax_predictions(scores: &ScoreMatrix) -> Vec<usize> {
    (0..scores.n_tracks())
        .map(|t| {
            let row = scores.row(t);
            (1..row.len()).fold(0, |best, k| if row[k] > row[best] { k } else { best })
        })
        .collect()
}

/// Share of tracks whose highest-scoring class is the true one.
pub fn top1_accuracy(y_true: &[usize], scores: &ScoreMatrix) -> Result<f64, EvalError> {
    check_labels(y_true, scores)?;
    let predicted = argmax_predictions(scores);
    let correct = y_true
        .iter()
        .zip(&predicted)
        .filter(|(a, b)| a == b)
        .count();
    Ok(correct as f64 / y_true.len() as f64)
}

/// Counts `[true class][predicted class]` (`sklearn.metrics.confusion_matrix` with
/// `labels=range(n_classes)`).
pub fn confusion_matrix(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> Result<Vec<Vec<u64>>, EvalError> {
    if y_true.len() != y_pred.len() {
        return Err(EvalError::invalid(format!(
            "{} labels for {} predictions",
            y_true.len(),
            y_pred.len()
        )));
    }
    let mut matrix = vec![vec![0u64; n_classes]; n_classes];
    for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
        if t >= n_classes || p >= n_classes {
            return Err(EvalError::invalid(format!(
                "track {i}: class {t} or prediction {p} out of range for {n_classes} classes"
            )));
        }
        matrix[t][p] += 1;
    }
    Ok(matrix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_equal_to_the_threshold_is_positive() {
        let scores = ScoreMatrix::from_rows(&[vec![0.5f32, 0.5], vec![0.49, 0.51]]).unwrap();
        let prf = precision_recall_f1(&[0, 1], &scores, 0.5).unwrap();
        assert_eq!(prf.per_class[0].predicted_positive, 1);
        assert_eq!(prf.per_class[1].predicted_positive, 2);
    }

    #[test]
    fn each_roc_point_is_the_recall_and_fallout_at_its_threshold() {
        let y = [0, 1, 1, 0, 2, 1, 0, 2, 1, 1];
        let col1 = [0.2, 0.8, 0.5, 0.5, 0.1, 0.9, 0.8, 0.3, 0.5, 0.05];
        let rows: Vec<Vec<f64>> = col1.iter().map(|&s| vec![0.3, s, 0.2]).collect();
        let scores = ScoreMatrix::from_rows(&rows).unwrap();
        let curve = roc_curve(&class_indicator(&y, 1), &scores.column(1), false).unwrap();
        assert_eq!(curve.thresholds[0], f64::INFINITY);
        assert_eq!((curve.fpr[0], curve.tpr[0]), (0.0, 0.0));
        for i in 1..curve.thresholds.len() {
            let prf = precision_recall_f1(&y, &scores, curve.thresholds[i]).unwrap();
            let m = &prf.per_class[1];
            assert_eq!(m.recall, curve.tpr[i], "threshold {}", curve.thresholds[i]);
            let negatives = y.iter().filter(|&&c| c != 1).count() as f64;
            let fp = (m.predicted_positive - m.true_positives) as f64;
            assert_eq!(
                fp / negatives,
                curve.fpr[i],
                "threshold {}",
                curve.thresholds[i]
            );
        }
        // Tied scores (0.5 x3, 0.8 x2) form one point each: 7 distinct scores + the origin.
        assert_eq!(curve.thresholds.len(), 8);
    }

    #[test]
    fn constant_scores_give_chance_auc() {
        let y = [true, false, true, false, false];
        assert_eq!(roc_auc(&y, &[0.3; 5]).unwrap(), Auc::Defined(0.5));
        let curve = roc_curve(&y, &[0.3; 5], true).unwrap();
        assert_eq!(curve.fpr, vec![0.0, 1.0]);
        assert_eq!(curve.tpr, vec![0.0, 1.0]);
    }
}
