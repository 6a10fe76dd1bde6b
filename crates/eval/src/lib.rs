//! musicrec eval stage: how well genre classifiers do, and whether two of them differ.
//!
//! Works on plain arrays (a class index per track, a sigmoid score per track and genre, genre
//! names) so it depends on no other musicrec crate.
//! - [`metrics`]: per-genre precision/recall/F1 at a threshold, ROC curves and AUC, averages,
//!   top-1 accuracy and the confusion matrix, matching scikit-learn (degenerate cases included).
//! - [`stats`]: bootstrap confidence intervals, DeLong's paired AUC test, McNemar's test, the
//!   paired t-test and the Wilcoxon signed-rank test, matching scipy/statsmodels.
//! - [`plots`]: ROC curves, grouped F1/AUC bars and a confusion-matrix heat map as PNG.
//! - [`report`]: `metrics.json`, side-by-side Markdown and HTML tables, written atomically.
//! - [`predictions`]: `predictions.csv`, every track's scores per model, read back exactly.
//! - [`degrade`]: test-time noise and codec conditions; [`robustness`]: clean vs degraded summary.
//! - [`html`]: self-contained HTML pages with plots inlined as data URIs.
//!
//! Everything is computed in f64; scores may be given as f32 (widened exactly).

mod atomic;
pub mod degrade;
mod error;
pub mod html;
pub mod metrics;
pub mod plots;
pub mod predictions;
pub mod report;
pub mod robustness;
pub mod stats;

pub use error::EvalError;
