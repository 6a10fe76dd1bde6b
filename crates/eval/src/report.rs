//! Evaluation reports for N named models on the same tracks: the metrics of each model, paired
//! tests of every model against the first one (the reference), and the files a person reads.
//!
//! Files (all written atomically): `metrics.json` (everything, machine-readable), `metrics.md`
//! and `metrics.html` (genres as rows, models side by side, like the paper's table, with a mark
//! on AUCs that differ from the reference model at the significance level by DeLong's test),
//! and PNG plots (ROC per genre, F1 and AUC bars, one confusion matrix per model).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::EvalError;
use crate::atomic::write_atomically;
use crate::html::escape_html;
use crate::metrics::{
    self, Auc, AveragedMetrics, DEFAULT_THRESHOLD, RocCurve, ScoreMatrix, check_labels,
};
use crate::plots::{self, BarSeries, RocSeries};
use crate::stats::{
    self, BootstrapConfig, ConfidenceInterval, DelongTest, McnemarTable, McnemarTest,
};

/// How to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EvalConfig {
    /// Positive when `score >= threshold`.
    pub threshold: f64,
    /// Per-genre F1/AUC intervals; `None` skips the bootstrap.
    pub bootstrap: Option<BootstrapConfig>,
    /// Level below which a paired test's p-value is marked significant.
    pub significance_level: f64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
            bootstrap: Some(BootstrapConfig::default()),
            significance_level: 0.05,
        }
    }
}

/// One model's scores by name.
#[derive(Debug, Clone, Copy)]
pub struct ModelScores<'a> {
    pub name: &'a str,
    pub scores: &'a ScoreMatrix,
}

/// One genre's results for one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenreResult {
    pub genre: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auc_undefined_reason: Option<String>,
    pub support: u64,
    pub predicted_positive: u64,
    pub precision_undefined: bool,
    pub recall_undefined: bool,
    pub f1_undefined: bool,
    pub f1_ci: Option<ConfidenceInterval>,
    pub auc_ci: Option<ConfidenceInterval>,
}

/// An average over genres.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AverageResult {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auc_undefined_reason: Option<String>,
}

impl AverageResult {
    fn new(prf: &AveragedMetrics, auc: &Auc) -> Self {
        Self {
            precision: prf.precision,
            recall: prf.recall,
            f1: prf.f1,
            auc: auc.value(),
            auc_undefined_reason: auc.undefined_reason().map(str::to_owned),
        }
    }
}

/// Everything measured for one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEvaluation {
    pub model: String,
    pub n_tracks: usize,
    pub threshold: f64,
    /// Top-1 (argmax) accuracy.
    pub accuracy: f64,
    pub genres: Vec<GenreResult>,
    pub macro_avg: AverageResult,
    pub micro_avg: AverageResult,
    pub weighted_avg: AverageResult,
    /// `[true genre][predicted genre]` counts (argmax).
    pub confusion_matrix: Vec<Vec<u64>>,
    /// Argmax prediction per track (for paired accuracy tests); not written to JSON.
    #[serde(skip)]
    pub predictions: Vec<usize>,
    /// One-vs-rest ROC curve per genre (for plots); not written to JSON.
    #[serde(skip)]
    pub roc_curves: Vec<RocCurve>,
}

/// DeLong's test for one genre, or why it could not be run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenreComparison {
    pub genre: String,
    pub delong: Option<DelongTest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undefined_reason: Option<String>,
}

/// Paired tests of `model_b` against the reference `model_a` on the same tracks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelComparison {
    pub model_a: String,
    pub model_b: String,
    /// Per-genre AUC difference (a − b).
    pub genres: Vec<GenreComparison>,
    /// Top-1 accuracy: McNemar's test on per-track correctness.
    pub accuracy: McnemarTest,
}

/// The whole evaluation: what `metrics.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationReport {
    pub genres: Vec<String>,
    pub config: EvalConfig,
    pub models: Vec<ModelEvaluation>,
    /// Every model after the first against the first.
    pub comparisons: Vec<ModelComparison>,
}

/// Metrics of one model (and bootstrap intervals when configured).
pub fn evaluate_model(
    name: &str,
    genres: &[impl AsRef<str>],
    y_true: &[usize],
    scores: &ScoreMatrix,
    config: &EvalConfig,
) -> Result<ModelEvaluation, EvalError> {
    check_labels(y_true, scores)?;
    if genres.len() != scores.n_classes() {
        return Err(EvalError::invalid(format!(
            "{} genre names for {} score columns",
            genres.len(),
            scores.n_classes()
        )));
    }
    let prf = metrics::precision_recall_f1(y_true, scores, config.threshold)?;
    let aucs = metrics::roc_auc_per_class(y_true, scores)?;
    let intervals = config
        .bootstrap
        .map(|b| stats::bootstrap_class_intervals(y_true, scores, config.threshold, &b))
        .transpose()?;
    let predictions = metrics::argmax_predictions(scores);
    let genre_results = genres
        .iter()
        .enumerate()
        .map(|(k, genre)| {
            let m = &prf.per_class[k];
            let ci = intervals.as_ref().map(|all| &all[k]);
            GenreResult {
                genre: genre.as_ref().to_owned(),
                precision: m.precision,
                recall: m.recall,
                f1: m.f1,
                auc: aucs.per_class[k].value(),
                auc_undefined_reason: aucs.per_class[k].undefined_reason().map(str::to_owned),
                support: m.support,
                predicted_positive: m.predicted_positive,
                precision_undefined: m.precision_undefined,
                recall_undefined: m.recall_undefined,
                f1_undefined: m.f1_undefined,
                f1_ci: ci.map(|c| c.f1),
                auc_ci: ci.and_then(|c| c.auc),
            }
        })
        .collect();
    Ok(ModelEvaluation {
        model: name.to_owned(),
        n_tracks: y_true.len(),
        threshold: config.threshold,
        accuracy: metrics::top1_accuracy(y_true, scores)?,
        genres: genre_results,
        macro_avg: AverageResult::new(&prf.macro_avg, &aucs.macro_avg),
        micro_avg: AverageResult::new(&prf.micro_avg, &aucs.micro_avg),
        weighted_avg: AverageResult::new(&prf.weighted_avg, &aucs.weighted_avg),
        confusion_matrix: metrics::confusion_matrix(y_true, &predictions, scores.n_classes())?,
        predictions,
        roc_curves: metrics::roc_curves_per_class(y_true, scores)?,
    })
}

/// DeLong per genre and McNemar on accuracy, `b` against the reference `a`.
pub fn compare_models(
    genres: &[impl AsRef<str>],
    y_true: &[usize],
    a: ModelScores,
    b: ModelScores,
) -> Result<ModelComparison, EvalError> {
    check_labels(y_true, a.scores)?;
    check_labels(y_true, b.scores)?;
    if a.scores.n_classes() != genres.len() || b.scores.n_classes() != genres.len() {
        return Err(EvalError::invalid(format!(
            "{} genre names for {} and {} score columns",
            genres.len(),
            a.scores.n_classes(),
            b.scores.n_classes()
        )));
    }
    let genre_tests = genres
        .iter()
        .enumerate()
        .map(|(k, genre)| {
            let truth = metrics::class_indicator(y_true, k);
            let (delong, undefined_reason) =
                match stats::delong_test(&truth, &a.scores.column(k), &b.scores.column(k)) {
                    Ok(test) => (Some(test), None),
                    Err(EvalError::Undefined(reason)) => (None, Some(reason)),
                    Err(e) => return Err(e),
                };
            Ok(GenreComparison {
                genre: genre.as_ref().to_owned(),
                delong,
                undefined_reason,
            })
        })
        .collect::<Result<Vec<_>, EvalError>>()?;
    let table = McnemarTable::from_predictions(
        y_true,
        &metrics::argmax_predictions(a.scores),
        &metrics::argmax_predictions(b.scores),
    )?;
    Ok(ModelComparison {
        model_a: a.name.to_owned(),
        model_b: b.name.to_owned(),
        genres: genre_tests,
        accuracy: stats::mcnemar_test(&table),
    })
}

/// Evaluates every model and compares each later model with the first.
pub fn evaluate(
    genres: &[impl AsRef<str>],
    y_true: &[usize],
    models: &[ModelScores],
    config: &EvalConfig,
) -> Result<EvaluationReport, EvalError> {
    if models.is_empty() {
        return Err(EvalError::invalid("no model to evaluate"));
    }
    let mut names: Vec<&str> = models.iter().map(|m| m.name).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(EvalError::invalid(format!(
            "model name {:?} given twice",
            w[0]
        )));
    }
    if !(config.significance_level > 0.0 && config.significance_level < 1.0) {
        return Err(EvalError::invalid(format!(
            "significance level must be in (0, 1), got {}",
            config.significance_level
        )));
    }
    let evaluations = models
        .iter()
        .map(|m| evaluate_model(m.name, genres, y_true, m.scores, config))
        .collect::<Result<Vec<_>, _>>()?;
    let comparisons = models[1..]
        .iter()
        .map(|&b| compare_models(genres, y_true, models[0], b))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EvaluationReport {
        genres: genres.iter().map(|g| g.as_ref().to_owned()).collect(),
        config: *config,
        models: evaluations,
        comparisons,
    })
}

/// Paths of the files [`EvaluationReport::write_all`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub plots: Vec<PathBuf>,
}

fn fmt3(v: f64) -> String {
    format!("{v:.3}")
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), fmt3)
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

fn fmt_ci(ci: Option<ConfidenceInterval>) -> String {
    ci.map_or_else(
        || "n/a".to_owned(),
        |c| format!("{}–{}", fmt3(c.low), fmt3(c.high)),
    )
}

/// A file-name-safe form of a genre or model name.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "_".to_owned() } else { s }
}

/// A rendered table: header cells, then rows of cells; `true` marks a significant AUC.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<(String, bool)>>,
}

impl EvaluationReport {
    /// The comparison of model `m` (> 0) with the reference, if any.
    fn comparison_for(&self, m: usize) -> Option<&ModelComparison> {
        let name = &self.models.get(m)?.model;
        self.comparisons.iter().find(|c| &c.model_b == name)
    }

    /// Whether model `m`'s AUC for genre `g` differs from the reference's.
    fn auc_significant(&self, m: usize, g: usize) -> bool {
        self.comparison_for(m)
            .and_then(|c| c.genres[g].delong.as_ref())
            .is_some_and(|d| d.p_value < self.config.significance_level)
    }

    fn main_table(&self) -> Table {
        let mut header = vec!["Genre".to_owned(), "Support".to_owned()];
        for m in &self.models {
            for metric in ["P", "R", "F1", "AUC"] {
                header.push(format!("{} {metric}", m.model));
            }
        }
        let mut rows = Vec::new();
        for (g, genre) in self.genres.iter().enumerate() {
            let support = self.models[0].genres[g].support;
            let mut row = vec![(genre.clone(), false), (support.to_string(), false)];
            for (m, model) in self.models.iter().enumerate() {
                let r = &model.genres[g];
                row.push((fmt3(r.precision), false));
                row.push((fmt3(r.recall), false));
                row.push((fmt3(r.f1), false));
                row.push((fmt_opt(r.auc), self.auc_significant(m, g)));
            }
            rows.push(row);
        }
        let n_tracks = self.models[0].n_tracks.to_string();
        for (label, pick) in [
            (
                "macro avg",
                (|m: &ModelEvaluation| &m.macro_avg) as fn(&ModelEvaluation) -> &AverageResult,
            ),
            ("micro avg", |m| &m.micro_avg),
            ("weighted avg", |m| &m.weighted_avg),
        ] {
            let mut row = vec![(label.to_owned(), false), (n_tracks.clone(), false)];
            for model in &self.models {
                let a = pick(model);
                row.extend([
                    (fmt3(a.precision), false),
                    (fmt3(a.recall), false),
                    (fmt3(a.f1), false),
                    (fmt_opt(a.auc), false),
                ]);
            }
            rows.push(row);
        }
        Table { header, rows }
    }

    fn interval_table(&self) -> Option<Table> {
        let bootstrap = self.config.bootstrap?;
        let pct = (bootstrap.confidence * 100.0).round();
        let mut header = vec!["Genre".to_owned()];
        for m in &self.models {
            header.push(format!("{} F1 {pct}% CI", m.model));
            header.push(format!("{} AUC {pct}% CI", m.model));
        }
        let rows = self
            .genres
            .iter()
            .enumerate()
            .map(|(g, genre)| {
                let mut row = vec![(genre.clone(), false)];
                for m in &self.models {
                    row.push((fmt_ci(m.genres[g].f1_ci), false));
                    row.push((fmt_ci(m.genres[g].auc_ci), false));
                }
                row
            })
            .collect();
        Some(Table { header, rows })
    }

    fn significance_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for c in &self.comparisons {
            let t = &c.accuracy;
            let chi2 = match (t.chi2_statistic, t.chi2_p_value) {
                (Some(s), Some(p)) => format!("χ² = {s:.3}, p = {}", fmt_p(p)),
                _ => "χ² undefined (no discordant tracks)".to_owned(),
            };
            lines.push(format!(
                "Accuracy {} vs {}: McNemar exact p = {} ({} tracks only {} got right, {} only {}); {}.",
                c.model_b,
                c.model_a,
                fmt_p(t.exact_p_value),
                t.table.only_b_correct,
                c.model_b,
                t.table.only_a_correct,
                c.model_a,
                chi2
            ));
            for g in &c.genres {
                lines.push(match (&g.delong, &g.undefined_reason) {
                    (Some(d), _) => format!(
                        "{} AUC: {} − {} = {:+.3} (95% CI {:+.3} to {:+.3}), DeLong z = {:.2}, p = {}.",
                        g.genre,
                        c.model_a,
                        c.model_b,
                        d.difference,
                        d.ci_low,
                        d.ci_high,
                        d.z,
                        fmt_p(d.p_value)
                    ),
                    (None, reason) => format!(
                        "{} AUC, {} vs {}: DeLong undefined ({}).",
                        g.genre,
                        c.model_a,
                        c.model_b,
                        reason.as_deref().unwrap_or("unknown")
                    ),
                });
            }
        }
        lines
    }

    /// Every paired test with its verdict at the significance level: accuracy (McNemar, exact)
    /// and each genre's AUC (DeLong), differences given as later model − reference.
    fn verdict_table(&self) -> Option<Table> {
        if self.comparisons.is_empty() {
            return None;
        }
        let alpha = self.config.significance_level;
        let header = [
            "Comparison",
            "Metric",
            "Reference",
            "Other",
            "Difference",
            "Test",
            "p",
            &format!("Significant at {alpha}"),
        ]
        .map(str::to_owned)
        .to_vec();
        let verdict = |p: f64| if p < alpha { "yes" } else { "no" }.to_owned();
        let mut rows = Vec::new();
        for c in &self.comparisons {
            let name = format!("{} vs {}", c.model_b, c.model_a);
            let (a, b) = (
                self.models.iter().find(|m| m.model == c.model_a),
                self.models.iter().find(|m| m.model == c.model_b),
            );
            let (Some(a), Some(b)) = (a, b) else { continue };
            let p = c.accuracy.exact_p_value;
            rows.push(
                [
                    name.clone(),
                    "top-1 accuracy".into(),
                    fmt3(a.accuracy),
                    fmt3(b.accuracy),
                    format!("{:+.3}", b.accuracy - a.accuracy),
                    "McNemar (exact)".into(),
                    fmt_p(p),
                    verdict(p),
                ]
                .map(|c| (c, false))
                .to_vec(),
            );
            for (g, test) in c.genres.iter().enumerate() {
                let (ra, rb) = (&a.genres[g], &b.genres[g]);
                let row = match &test.delong {
                    Some(d) => [
                        name.clone(),
                        format!("{} AUC", test.genre),
                        fmt3(d.auc_a),
                        fmt3(d.auc_b),
                        format!("{:+.3}", -d.difference),
                        "DeLong".into(),
                        fmt_p(d.p_value),
                        verdict(d.p_value),
                    ],
                    None => [
                        name.clone(),
                        format!("{} AUC", test.genre),
                        fmt_opt(ra.auc),
                        fmt_opt(rb.auc),
                        match (ra.auc, rb.auc) {
                            (Some(x), Some(y)) => format!("{:+.3}", y - x),
                            _ => "n/a".into(),
                        },
                        "DeLong".into(),
                        "n/a".into(),
                        format!(
                            "untestable ({})",
                            test.undefined_reason.as_deref().unwrap_or("undefined")
                        ),
                    ],
                };
                rows.push(row.map(|c| (c, false)).to_vec());
            }
        }
        Some(Table { header, rows })
    }

    /// One sentence per comparison: which differences are significant at the level.
    pub fn significance_summary(&self) -> Vec<String> {
        let alpha = self.config.significance_level;
        self.comparisons
            .iter()
            .map(|c| {
                let accuracy = if c.accuracy.exact_p_value < alpha {
                    "significant"
                } else {
                    "not significant"
                };
                let significant: Vec<&str> = c
                    .genres
                    .iter()
                    .filter(|g| g.delong.as_ref().is_some_and(|d| d.p_value < alpha))
                    .map(|g| g.genre.as_str())
                    .collect();
                let untestable = c.genres.iter().filter(|g| g.delong.is_none()).count();
                format!(
                    "{} vs {} at {alpha}: accuracy difference {accuracy} (McNemar exact p = {}); \
                     AUC differs significantly (DeLong) in {} of {} genres{}{}.",
                    c.model_b,
                    c.model_a,
                    fmt_p(c.accuracy.exact_p_value),
                    significant.len(),
                    c.genres.len(),
                    if significant.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", significant.join(", "))
                    },
                    if untestable > 0 {
                        format!("; {untestable} genre(s) untestable (too few tracks)")
                    } else {
                        String::new()
                    }
                )
            })
            .collect()
    }

    fn legend(&self) -> String {
        let accuracies: Vec<String> = self
            .models
            .iter()
            .map(|m| format!("{} {}", m.model, fmt3(m.accuracy)))
            .collect();
        let mut text = format!(
            "{} tracks; P/R/F1 at score ≥ {}; top-1 accuracy: {}.",
            self.models[0].n_tracks,
            self.config.threshold,
            accuracies.join(", ")
        );
        if self.models.len() > 1 {
            let _ = write!(
                text,
                " * AUC differs from {} (DeLong, two-sided p < {}).",
                self.models[0].model, self.config.significance_level
            );
        }
        text
    }

    /// `metrics.json` content.
    pub fn to_json(&self) -> Result<String, EvalError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// A Markdown report: the side-by-side table, intervals and test results.
    pub fn to_markdown(&self) -> String {
        let render = |t: &Table| {
            let mut s = format!("| {} |\n", t.header.join(" | "));
            let aligns: Vec<&str> = (0..t.header.len())
                .map(|i| if i == 0 { "---" } else { "---:" })
                .collect();
            let _ = writeln!(s, "| {} |", aligns.join(" | "));
            for row in &t.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|(c, sig)| if *sig { format!("{c}*") } else { c.clone() })
                    .collect();
                let _ = writeln!(s, "| {} |", cells.join(" | "));
            }
            s
        };
        let mut md = String::from("# Genre classification\n\n");
        md.push_str(&render(&self.main_table()));
        let _ = writeln!(md, "\n{}\n", self.legend());
        if let Some(t) = self.interval_table() {
            md.push_str("## Bootstrap intervals (percentile)\n\n");
            md.push_str(&render(&t));
            md.push('\n');
        }
        if let Some(t) = self.verdict_table() {
            md.push_str("## Significance\n\n");
            for line in self.significance_summary() {
                let _ = writeln!(md, "{line}\n");
            }
            md.push_str(&render(&t));
            md.push('\n');
        }
        let lines = self.significance_lines();
        if !lines.is_empty() {
            md.push_str("## Paired tests\n\n");
            for l in lines {
                let _ = writeln!(md, "- {l}");
            }
        }
        md
    }

    /// A self-contained HTML page with the same content as [`Self::to_markdown`].
    pub fn to_html(&self) -> String {
        let mut html = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>Genre classification</title>\n<style>\n\
             body { font-family: sans-serif; margin: 2em; }\n\
             table { border-collapse: collapse; margin-bottom: 1em; }\n\
             th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }\n\
             td { text-align: right; font-variant-numeric: tabular-nums; }\n\
             tbody th { text-align: left; }\n\
             sup { color: #b00; }\n</style>\n</head>\n<body>\n<h1>Genre classification</h1>\n",
        );
        html.push_str(&self.to_html_fragment(2));
        html.push_str("</body>\n</html>\n");
        html
    }

    /// The body of [`Self::to_html`] (tables, legend, intervals, tests) to embed in another
    /// page; section headings are `<h{heading_level}>`.
    pub fn to_html_fragment(&self, heading_level: u8) -> String {
        let h = heading_level.clamp(1, 6);
        let render = |t: &Table| {
            let mut s = String::from("<table>\n<thead><tr>");
            for h in &t.header {
                let _ = write!(s, "<th>{}</th>", escape_html(h));
            }
            s.push_str("</tr></thead>\n<tbody>\n");
            for row in &t.rows {
                s.push_str("<tr>");
                for (i, (c, sig)) in row.iter().enumerate() {
                    let tag = if i == 0 { "th" } else { "td" };
                    let mark = if *sig { "<sup>*</sup>" } else { "" };
                    let _ = write!(s, "<{tag}>{}{mark}</{tag}>", escape_html(c));
                }
                s.push_str("</tr>\n");
            }
            s.push_str("</tbody>\n</table>\n");
            s
        };
        let mut html = render(&self.main_table());
        let _ = writeln!(html, "<p>{}</p>", escape_html(&self.legend()));
        if let Some(t) = self.interval_table() {
            let _ = writeln!(html, "<h{h}>Bootstrap intervals (percentile)</h{h}>");
            html.push_str(&render(&t));
        }
        if let Some(t) = self.verdict_table() {
            let _ = writeln!(html, "<h{h}>Significance</h{h}>");
            for line in self.significance_summary() {
                let _ = writeln!(html, "<p>{}</p>", escape_html(&line));
            }
            html.push_str(&render(&t));
        }
        let lines = self.significance_lines();
        if !lines.is_empty() {
            let _ = writeln!(html, "<h{h}>Paired tests</h{h}>\n<ul>");
            for l in lines {
                let _ = writeln!(html, "<li>{}</li>", escape_html(&l));
            }
            html.push_str("</ul>\n");
        }
        html
    }

    pub fn write_json(&self, path: &Path) -> Result<(), EvalError> {
        let json = self.to_json()?;
        write_text(path, &json)
    }

    pub fn write_markdown(&self, path: &Path) -> Result<(), EvalError> {
        write_text(path, &self.to_markdown())
    }

    pub fn write_html(&self, path: &Path) -> Result<(), EvalError> {
        write_text(path, &self.to_html())
    }

    /// ROC per genre (`roc_<genre>.png`), `f1_bars.png`, `auc_bars.png` and
    /// `confusion_<model>.png` in `dir`.
    pub fn write_plots(&self, dir: &Path) -> Result<Vec<PathBuf>, EvalError> {
        let mut written = Vec::new();
        for (g, genre) in self.genres.iter().enumerate() {
            let series: Vec<RocSeries> = self
                .models
                .iter()
                .map(|m| RocSeries {
                    model: &m.model,
                    curve: &m.roc_curves[g],
                    auc: m.genres[g].auc,
                })
                .collect();
            let path = dir.join(format!("roc_{}.png", slug(genre)));
            plots::plot_roc(&path, &format!("ROC: {genre}"), &series)?;
            written.push(path);
        }
        let column = |m: &ModelEvaluation, f: fn(&GenreResult) -> f64| -> Vec<f64> {
            m.genres.iter().map(f).collect()
        };
        let f1s: Vec<Vec<f64>> = self.models.iter().map(|m| column(m, |r| r.f1)).collect();
        let aucs: Vec<Vec<f64>> = self
            .models
            .iter()
            .map(|m| column(m, |r| r.auc.unwrap_or(f64::NAN)))
            .collect();
        let f1_cis: Vec<Vec<Option<ConfidenceInterval>>> = self
            .models
            .iter()
            .map(|m| m.genres.iter().map(|r| r.f1_ci).collect())
            .collect();
        let auc_cis: Vec<Vec<Option<ConfidenceInterval>>> = self
            .models
            .iter()
            .map(|m| m.genres.iter().map(|r| r.auc_ci).collect())
            .collect();
        let with_ci = self.config.bootstrap.is_some();
        for (file, title, metric, values, cis) in [
            ("f1_bars.png", "F1 per genre", "F1", &f1s, &f1_cis),
            ("auc_bars.png", "ROC AUC per genre", "AUC", &aucs, &auc_cis),
        ] {
            let series: Vec<BarSeries> = self
                .models
                .iter()
                .enumerate()
                .map(|(i, m)| BarSeries {
                    model: &m.model,
                    values: &values[i],
                    intervals: with_ci.then_some(cis[i].as_slice()),
                })
                .collect();
            let path = dir.join(file);
            plots::plot_grouped_bars(&path, title, metric, &self.genres, &series)?;
            written.push(path);
        }
        for m in &self.models {
            let path = dir.join(format!("confusion_{}.png", slug(&m.model)));
            plots::plot_confusion_matrix(
                &path,
                &format!("Confusion matrix: {}", m.model),
                &self.genres,
                &m.confusion_matrix,
            )?;
            written.push(path);
        }
        Ok(written)
    }

    /// `metrics.json`, `metrics.md`, `metrics.html` and the plots, all in `dir`.
    pub fn write_all(&self, dir: &Path) -> Result<ReportFiles, EvalError> {
        let files = ReportFiles {
            json: dir.join("metrics.json"),
            markdown: dir.join("metrics.md"),
            html: dir.join("metrics.html"),
            plots: self.write_plots(dir)?,
        };
        self.write_json(&files.json)?;
        self.write_markdown(&files.markdown)?;
        self.write_html(&files.html)?;
        Ok(files)
    }
}

fn write_text(path: &Path, text: &str) -> Result<(), EvalError> {
    write_atomically(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|source| EvalError::Io {
                path: path.to_path_buf(),
                source,
            })
    })
}
