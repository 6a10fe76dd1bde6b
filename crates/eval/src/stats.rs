//! Uncertainty and significance: bootstrap confidence intervals, DeLong's paired AUC test,
//! McNemar's test, the paired t-test and the Wilcoxon signed-rank test.
//!
//! Each test matches a reference implementation (checked by `scripts/golden/eval.py`):
//! - [`bootstrap_class_intervals`]: percentile intervals of per-genre F1 and AUC over seeded
//!   resamples of tracks (numpy's default linear percentile); resamples in which a genre has no
//!   positive or no negative track are skipped for that genre's AUC.
//! - [`delong_test`]: the fast DeLong algorithm of Sun & Xu (2014), two-sided normal p-value.
//! - [`mcnemar_test`]: `statsmodels.stats.contingency_tables.mcnemar`, exact binomial and
//!   chi-square with continuity correction.
//! - [`paired_t_test`]: `scipy.stats.ttest_rel` and its confidence interval, plus Cohen's d_z.
//! - [`wilcoxon_signed_rank`]: `scipy.stats.wilcoxon` defaults (`zero_method="wilcox"`, no
//!   continuity correction, `method="auto"`).
//!
//! Distributions come from `statrs`; the rank and Wilcoxon-null code is hand-written because no
//! maintained crate exposes midranks or the exact signed-rank distribution.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF, Normal, StudentsT};

use crate::EvalError;
use crate::metrics::{ScoreMatrix, check_labels, f1_from_counts, one_vs_rest_counts, roc_auc};

// ------------------------------------------------------------------ bootstrap

/// How to bootstrap: number of resamples, interval coverage and RNG seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapConfig {
    pub resamples: usize,
    /// Coverage of the interval, e.g. 0.95.
    pub confidence: f64,
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: 1000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConfidenceInterval {
    pub low: f64,
    pub high: f64,
}

/// Bootstrap intervals of one genre.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassIntervals {
    pub f1: ConfidenceInterval,
    /// `None` when no resample had both positive and negative tracks of this genre.
    pub auc: Option<ConfidenceInterval>,
    /// Resamples that entered the AUC interval.
    pub auc_resamples: usize,
}

/// numpy's default (`method="linear"`) percentile of `values`, `q` in [0, 100].
/// Hand-written: statrs' quantiles use another definition, and the golden files use numpy's.
pub fn percentile(values: &[f64], q: f64) -> Result<f64, EvalError> {
    if values.is_empty() || !(0.0..=100.0).contains(&q) || values.iter().any(|v| v.is_nan()) {
        return Err(EvalError::invalid(format!(
            "percentile {q} of {} values (need values without NaN and q in [0, 100])",
            values.len()
        )));
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let h = (sorted.len() - 1) as f64 * (q / 100.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // numpy's `_lerp`, which interpolates from the nearer end for accuracy.
    Ok(if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    })
}

fn interval(values: &[f64], confidence: f64) -> Result<ConfidenceInterval, EvalError> {
    let alpha = 1.0 - confidence;
    Ok(ConfidenceInterval {
        low: percentile(values, 100.0 * alpha / 2.0)?,
        high: percentile(values, 100.0 * (1.0 - alpha / 2.0))?,
    })
}

/// Seeded resamples of `n_tracks` track indices (ChaCha8: the same on every platform).
pub fn bootstrap_resamples(
    n_tracks: usize,
    config: &BootstrapConfig,
) -> impl Iterator<Item = Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    (0..config.resamples).map(move |_| {
        (0..n_tracks)
            .map(|_| rng.random_range(0..n_tracks))
            .collect()
    })
}

/// Percentile bootstrap intervals of every genre's F1 (at `threshold`) and AUC.
pub fn bootstrap_class_intervals(
    y_true: &[usize],
    scores: &ScoreMatrix,
    threshold: f64,
    config: &BootstrapConfig,
) -> Result<Vec<ClassIntervals>, EvalError> {
    if config.resamples == 0 {
        return Err(EvalError::invalid("bootstrap needs at least one resample"));
    }
    class_intervals_from_resamples(
        y_true,
        scores,
        threshold,
        config.confidence,
        bootstrap_resamples(y_true.len(), config),
    )
}

/// Percentile intervals over given resamples (each a list of track indices, repeats allowed).
pub fn class_intervals_from_resamples<R: AsRef<[usize]>>(
    y_true: &[usize],
    scores: &ScoreMatrix,
    threshold: f64,
    confidence: f64,
    resamples: impl IntoIterator<Item = R>,
) -> Result<Vec<ClassIntervals>, EvalError> {
    check_labels(y_true, scores)?;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(EvalError::invalid(format!(
            "confidence must be in (0, 1), got {confidence}"
        )));
    }
    let n_classes = scores.n_classes();
    let mut f1s: Vec<Vec<f64>> = vec![Vec::new(); n_classes];
    let mut aucs: Vec<Vec<f64>> = vec![Vec::new(); n_classes];
    for resample in resamples {
        let tracks = resample.as_ref();
        if let Some(&bad) = tracks.iter().find(|&&t| t >= y_true.len()) {
            return Err(EvalError::invalid(format!(
                "resample index {bad} out of range for {} tracks",
                y_true.len()
            )));
        }
        let counts = one_vs_rest_counts(y_true, scores, threshold, tracks.iter().copied());
        for k in 0..n_classes {
            f1s[k].push(f1_from_counts(&counts[k]).0);
            let truth: Vec<bool> = tracks.iter().map(|&t| y_true[t] == k).collect();
            let class_scores: Vec<f64> = tracks.iter().map(|&t| scores.get(t, k)).collect();
            if let Some(value) = roc_auc(&truth, &class_scores)?.value() {
                aucs[k].push(value);
            }
        }
    }
    if f1s[0].is_empty() {
        return Err(EvalError::invalid("bootstrap needs at least one resample"));
    }
    (0..n_classes)
        .map(|k| {
            Ok(ClassIntervals {
                f1: interval(&f1s[k], confidence)?,
                auc: if aucs[k].is_empty() {
                    None
                } else {
                    Some(interval(&aucs[k], confidence)?)
                },
                auc_resamples: aucs[k].len(),
            })
        })
        .collect()
}

// ------------------------------------------------------------------ ranks

/// 1-based ranks with ties given their average rank.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = 0.5 * (start + end - 1) as f64 + 1.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Sizes of groups of equal values.
fn tie_group_sizes(values: &[f64]) -> Vec<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.chunk_by(|a, b| a == b).map(<[f64]>::len).collect()
}

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("valid standard normal")
}

fn check_finite(name: &str, values: &[f64]) -> Result<(), EvalError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(EvalError::invalid(format!(
            "{name}[{i}] is not finite ({})",
            values[i]
        ))),
        None => Ok(()),
    }
}

fn check_paired(a: &[f64], b: &[f64]) -> Result<(), EvalError> {
    if a.len() != b.len() {
        return Err(EvalError::invalid(format!(
            "paired samples differ in length ({} vs {})",
            a.len(),
            b.len()
        )));
    }
    check_finite("a", a)?;
    check_finite("b", b)
}

// ------------------------------------------------------------------ DeLong

/// DeLong's test of `AUC_a - AUC_b` for two models scored on the same tracks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DelongTest {
    pub auc_a: f64,
    pub auc_b: f64,
    pub variance_a: f64,
    pub variance_b: f64,
    pub covariance: f64,
    /// `auc_a - auc_b`.
    pub difference: f64,
    pub std_error: f64,
    pub z: f64,
    /// Two-sided.
    pub p_value: f64,
    /// 95% interval of the difference.
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Per-model structural components: (AUC, V10 over positives, V01 over negatives).
fn delong_components(positives: &[f64], negatives: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let (m, n) = (positives.len() as f64, negatives.len() as f64);
    let all: Vec<f64> = positives.iter().chain(negatives).copied().collect();
    let (tx, ty, tz) = (midranks(positives), midranks(negatives), midranks(&all));
    let auc = tz[..positives.len()].iter().sum::<f64>() / m / n - (m + 1.0) / 2.0 / n;
    let v_pos = (0..positives.len()).map(|i| (tz[i] - tx[i]) / n).collect();
    let v_neg = (0..negatives.len())
        .map(|j| 1.0 - (tz[positives.len() + j] - ty[j]) / m)
        .collect();
    (auc, v_pos, v_neg)
}

/// Sample covariance (ddof = 1).
fn covariance(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / (n - 1.0)
}

/// DeLong's paired test (fast algorithm of Sun & Xu 2014) for one genre.
pub fn delong_test(
    y_true: &[bool],
    scores_a: &[f64],
    scores_b: &[f64],
) -> Result<DelongTest, EvalError> {
    if y_true.len() != scores_a.len() {
        return Err(EvalError::invalid(format!(
            "{} labels for {} scores",
            y_true.len(),
            scores_a.len()
        )));
    }
    check_paired(scores_a, scores_b)?;
    let split = |s: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let pos = s.iter().zip(y_true).filter(|(_, y)| **y).map(|(v, _)| *v);
        let neg = s.iter().zip(y_true).filter(|(_, y)| !**y).map(|(v, _)| *v);
        (pos.collect(), neg.collect())
    };
    let (pos_a, neg_a) = split(scores_a);
    let (pos_b, neg_b) = split(scores_b);
    if pos_a.len() < 2 || neg_a.len() < 2 {
        return Err(EvalError::Undefined(format!(
            "DeLong needs at least 2 positive and 2 negative tracks (got {} and {})",
            pos_a.len(),
            neg_a.len()
        )));
    }
    let (m, n) = (pos_a.len() as f64, neg_a.len() as f64);
    let (auc_a, vp_a, vn_a) = delong_components(&pos_a, &neg_a);
    let (auc_b, vp_b, vn_b) = delong_components(&pos_b, &neg_b);
    let cov = |x_pos: &[f64], x_neg: &[f64], y_pos: &[f64], y_neg: &[f64]| {
        covariance(x_pos, y_pos) / m + covariance(x_neg, y_neg) / n
    };
    let variance_a = cov(&vp_a, &vn_a, &vp_a, &vn_a);
    let variance_b = cov(&vp_b, &vn_b, &vp_b, &vn_b);
    let covariance_ab = cov(&vp_a, &vn_a, &vp_b, &vn_b);
    let difference = auc_a - auc_b;
    let variance = variance_a + variance_b - 2.0 * covariance_ab;
    let std_error = variance.max(0.0).sqrt();
    let (z, p_value) = if std_error > 0.0 {
        let z = difference / std_error;
        (z, 2.0 * standard_normal().sf(z.abs()))
    } else if difference == 0.0 {
        (0.0, 1.0) // identical rankings: no evidence of a difference
    } else {
        return Err(EvalError::Undefined(format!(
            "AUC difference {difference} has zero variance"
        )));
    };
    let q = standard_normal().inverse_cdf(0.975);
    Ok(DelongTest {
        auc_a,
        auc_b,
        variance_a,
        variance_b,
        covariance: covariance_ab,
        difference,
        std_error,
        z,
        p_value,
        ci_low: difference - q * std_error,
        ci_high: difference + q * std_error,
    })
}

// ------------------------------------------------------------------ McNemar

/// Paired correctness of two models on the same tracks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct McnemarTable {
    pub both_correct: u64,
    pub only_a_correct: u64,
    pub only_b_correct: u64,
    pub both_wrong: u64,
}

impl McnemarTable {
    /// From per-track correctness flags of models A and B.
    pub fn from_correctness(correct_a: &[bool], correct_b: &[bool]) -> Result<Self, EvalError> {
        if correct_a.len() != correct_b.len() {
            return Err(EvalError::invalid(format!(
                "paired samples differ in length ({} vs {})",
                correct_a.len(),
                correct_b.len()
            )));
        }
        let mut table = Self::default();
        for (&a, &b) in correct_a.iter().zip(correct_b) {
            match (a, b) {
                (true, true) => table.both_correct += 1,
                (true, false) => table.only_a_correct += 1,
                (false, true) => table.only_b_correct += 1,
                (false, false) => table.both_wrong += 1,
            }
        }
        Ok(table)
    }

    /// From true labels and each model's predicted labels.
    pub fn from_predictions(
        y_true: &[usize],
        pred_a: &[usize],
        pred_b: &[usize],
    ) -> Result<Self, EvalError> {
        if y_true.len() != pred_a.len() || y_true.len() != pred_b.len() {
            return Err(EvalError::invalid(format!(
                "{} labels, {} and {} predictions",
                y_true.len(),
                pred_a.len(),
                pred_b.len()
            )));
        }
        let correct = |p: &[usize]| {
            y_true
                .iter()
                .zip(p)
                .map(|(t, p)| t == p)
                .collect::<Vec<_>>()
        };
        Self::from_correctness(&correct(pred_a), &correct(pred_b))
    }
}

/// McNemar's test of equal accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct McnemarTest {
    pub table: McnemarTable,
    /// `min(only_a_correct, only_b_correct)`.
    pub exact_statistic: u64,
    /// Two-sided exact binomial p-value.
    pub exact_p_value: f64,
    /// `(|b - c| - 1)² / (b + c)`; `None` without discordant tracks (statsmodels gives inf).
    pub chi2_statistic: Option<f64>,
    pub chi2_p_value: Option<f64>,
}

/// McNemar's test, exact and chi-square with continuity correction.
pub fn mcnemar_test(table: &McnemarTable) -> McnemarTest {
    let (b, c) = (table.only_a_correct, table.only_b_correct);
    let discordant = b + c;
    let exact_statistic = b.min(c);
    let (exact_p_value, chi2_statistic, chi2_p_value) = if discordant == 0 {
        (1.0, None, None)
    } else {
        let binomial = Binomial::new(0.5, discordant).expect("p = 0.5 is valid");
        let exact = (2.0 * binomial.cdf(exact_statistic)).min(1.0);
        let statistic = ((b.abs_diff(c) as f64) - 1.0).powi(2) / discordant as f64;
        let chi2 = ChiSquared::new(1.0).expect("1 degree of freedom is valid");
        (exact, Some(statistic), Some(chi2.sf(statistic)))
    };
    McnemarTest {
        table: *table,
        exact_statistic,
        exact_p_value,
        chi2_statistic,
        chi2_p_value,
    }
}

// ------------------------------------------------------------------ paired t-test

/// The paired t-test of `a - b` and its effect size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairedTTest {
    pub n: usize,
    pub df: f64,
    pub mean_difference: f64,
    /// Sample standard deviation of the differences (ddof = 1).
    pub std_difference: f64,
    pub t: f64,
    /// Two-sided.
    pub p_value: f64,
    pub confidence: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Cohen's d_z: mean difference over the standard deviation of differences.
    pub cohens_dz: f64,
}

/// `scipy.stats.ttest_rel(a, b)` with a `confidence` interval of the mean difference.
/// Differences with zero variance are undefined (scipy returns ±inf or NaN with a warning).
pub fn paired_t_test(a: &[f64], b: &[f64], confidence: f64) -> Result<PairedTTest, EvalError> {
    check_paired(a, b)?;
    if a.len() < 2 {
        return Err(EvalError::invalid(format!(
            "paired t-test needs at least 2 pairs, got {}",
            a.len()
        )));
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(EvalError::invalid(format!(
            "confidence must be in (0, 1), got {confidence}"
        )));
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let variance = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    if variance == 0.0 {
        return Err(EvalError::Undefined(
            "paired differences have zero variance".into(),
        ));
    }
    let sd = variance.sqrt();
    let se = (variance / n).sqrt();
    let t = mean / se;
    let df = n - 1.0;
    let dist = StudentsT::new(0.0, 1.0, df).expect("df >= 1 is valid");
    let q = dist.inverse_cdf(0.5 + confidence / 2.0);
    Ok(PairedTTest {
        n: d.len(),
        df,
        mean_difference: mean,
        std_difference: sd,
        t,
        p_value: 2.0 * dist.sf(t.abs()),
        confidence,
        ci_low: mean - q * se,
        ci_high: mean + q * se,
        cohens_dz: mean / sd,
    })
}

// ------------------------------------------------------------------ Wilcoxon

/// How the Wilcoxon p-value was computed (scipy's `method="auto"` choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WilcoxonMethod {
    /// Exact null distribution: n <= 50, no ties, no zero differences.
    Exact,
    /// Every sign flip enumerated: n <= 13 with ties or zeros.
    Permutation,
    /// Normal approximation with tie correction.
    Asymptotic,
}

/// The Wilcoxon signed-rank test of `a - b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WilcoxonTest {
    /// `min(r_plus, r_minus)` (scipy's two-sided statistic).
    pub statistic: f64,
    pub r_plus: f64,
    pub r_minus: f64,
    /// Two-sided.
    pub p_value: f64,
    pub method: WilcoxonMethod,
    /// Pairs, zero differences included.
    pub n: usize,
    /// Zero differences (dropped: `zero_method="wilcox"`).
    pub n_zero: usize,
    pub has_ties: bool,
    /// `-|z|` for the normal approximation.
    pub z: Option<f64>,
}

/// Probabilities of each signed-rank sum `0..=n(n+1)/2` with `n` distinct ranks.
fn signed_rank_null(n: usize) -> Vec<f64> {
    let max_sum = n * (n + 1) / 2;
    // Subset-sum counts of {1..n}; at n = 50 they stay below 2^50, exact in u64 and f64.
    let mut counts = vec![0u64; max_sum + 1];
    counts[0] = 1;
    for rank in 1..=n {
        for s in (rank..=rank * (rank + 1) / 2).rev() {
            counts[s] += counts[s - rank];
        }
    }
    let total = 2f64.powi(n as i32);
    counts.into_iter().map(|c| c as f64 / total).collect()
}

/// `scipy.stats.wilcoxon(a, b)` with its defaults.
pub fn wilcoxon_signed_rank(a: &[f64], b: &[f64]) -> Result<WilcoxonTest, EvalError> {
    check_paired(a, b)?;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let nonzero: Vec<f64> = d.iter().copied().filter(|&x| x != 0.0).collect();
    let n_zero = d.len() - nonzero.len();
    if nonzero.is_empty() {
        return Err(EvalError::Undefined(
            "every paired difference is zero".into(),
        ));
    }
    let magnitudes: Vec<f64> = nonzero.iter().map(|x| x.abs()).collect();
    let ranks = midranks(&magnitudes);
    let ties = tie_group_sizes(&magnitudes);
    let has_ties = ties.iter().any(|&t| t > 1);
    let r_plus: f64 = ranks
        .iter()
        .zip(&nonzero)
        .filter(|(_, x)| **x > 0.0)
        .map(|(r, _)| r)
        .sum();
    let r_minus: f64 = ranks
        .iter()
        .zip(&nonzero)
        .filter(|(_, x)| **x < 0.0)
        .map(|(r, _)| r)
        .sum();
    let method = if d.len() > 50 {
        WilcoxonMethod::Asymptotic
    } else if !has_ties && n_zero == 0 {
        WilcoxonMethod::Exact
    } else if d.len() <= 13 {
        WilcoxonMethod::Permutation
    } else {
        WilcoxonMethod::Asymptotic
    };
    let count = nonzero.len() as f64;
    let (p_value, z) = match method {
        WilcoxonMethod::Asymptotic => {
            let mean = count * (count + 1.0) * 0.25;
            let tie_correction: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
            let se = ((count * (count + 1.0) * (2.0 * count + 1.0) - tie_correction / 2.0) / 24.0)
                .sqrt();
            let z = (r_plus - mean) / se;
            (2.0 * standard_normal().sf(z.abs()), Some(-z.abs()))
        }
        WilcoxonMethod::Exact => {
            let pmf = signed_rank_null(nonzero.len());
            let mean = count * (count + 1.0) / 4.0;
            // scipy sums the nearer tail and takes the complement for the other side.
            let lower_tail = |k: usize| pmf[..=k.min(pmf.len() - 1)].iter().sum::<f64>();
            let upper_tail = |k: usize| pmf.get(k..).map_or(0.0, |s| s.iter().sum::<f64>());
            let cdf = |k: usize| {
                if k as f64 <= mean {
                    lower_tail(k)
                } else {
                    1.0 - upper_tail(k + 1)
                }
            };
            let sf = |k: usize| {
                if k as f64 <= mean {
                    upper_tail(k)
                } else if k == 0 {
                    1.0
                } else {
                    1.0 - lower_tail(k - 1)
                }
            };
            let p = 2.0 * sf(r_plus.floor() as usize).min(cdf(r_plus.ceil() as usize));
            (p.clamp(0.0, 1.0), None)
        }
        WilcoxonMethod::Permutation => {
            // All 2^m sign flips of the non-zero differences (m <= 13); ranks do not change.
            let m = nonzero.len();
            let null: Vec<f64> = (0u32..1 << m)
                .map(|signs| {
                    (0..m)
                        .filter(|i| signs >> i & 1 == 1)
                        .map(|i| ranks[i])
                        .sum()
                })
                .collect();
            // scipy's relative tolerance for equal statistics computed in floating point.
            let gamma = (f64::EPSILON * 100.0 * r_plus).abs();
            let total = null.len() as f64;
            let less = null.iter().filter(|&&s| s <= r_plus + gamma).count() as f64 / total;
            let greater = null.iter().filter(|&&s| s >= r_plus - gamma).count() as f64 / total;
            ((2.0 * less.min(greater)).clamp(0.0, 1.0), None)
        }
    };
    Ok(WilcoxonTest {
        statistic: r_plus.min(r_minus),
        r_plus,
        r_minus,
        p_value,
        method,
        n: d.len(),
        n_zero,
        has_ties,
        z,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midranks_average_ties() {
        assert_eq!(midranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn signed_rank_null_sums_to_one_and_is_symmetric() {
        let pmf = signed_rank_null(10);
        assert_eq!(pmf.len(), 56);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        for k in 0..pmf.len() {
            assert_eq!(pmf[k], pmf[pmf.len() - 1 - k]);
        }
        assert_eq!(pmf[0], 1.0 / 1024.0);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile([1, 2, 3, 4], [0, 25, 50, 90, 100]) = [1, 1.75, 2.5, 3.7, 4]
        let v = [4.0, 1.0, 3.0, 2.0];
        for (q, want) in [
            (0.0, 1.0),
            (25.0, 1.75),
            (50.0, 2.5),
            (90.0, 3.7),
            (100.0, 4.0),
        ] {
            assert!((percentile(&v, q).unwrap() - want).abs() < 1e-12, "q={q}");
        }
        assert!(percentile(&[], 50.0).is_err());
        assert!(percentile(&v, 101.0).is_err());
    }
}
