//! musicrec's `study` stage: how well the recommendations do, measured. Listening experiments
//! ([`experiment`]: a blind session hides every compared method's recommendations among random
//! decoys; the analysis compares methods with a paired t-test and a Wilcoxon signed-rank test and
//! writes a report with a plot), simulated listeners that run a study end to end ([`simulate`]),
//! the offline comparison of recommendation methods on labelled tracks ([`offline`]: genre
//! precision@k against the exact random baseline), and content vs collaborative filtering vs the
//! hybrid on held-out likes ([`interactions`]).
//!
//! Sits above `recommend` (whose search, methods and CF model it measures), `catalog` (studies
//! and answers are stored there), `eval` (the significance tests) and `plot`; it must not import
//! the model stages (`model`, `train`, `embed`, `lab`) or anything that links Burn (`app`, and
//! so the server, depend on it), nor `app`, `server` or `cli`.

pub mod experiment;
pub mod interactions;
pub mod offline;
pub mod simulate;

pub use experiment::{
    ExperimentError, ExperimentResult, StudyAnalysis, StudyMethod, analyze_study, plan_session,
};
pub use interactions::{
    CompareOptions, InteractionComparison, InteractionData, InteractionSource,
    compare_on_interactions,
};
