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
//!
//! Everything is computed in f64; scores may be given as f32 (widened exactly).

mod atomic;
mod error;
pub mod metrics;
pub mod plots;
pub mod report;
pub mod stats;

pub use error::EvalError;
