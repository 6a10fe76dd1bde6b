//! One module per subcommand. Each exposes clap `Args` (or a `Command` enum) and a `run` that returns
//! the process exit code: `SUCCESS`, or `FAILURE` when some inputs of a batch failed.

pub mod dataset;
pub mod decode;
pub mod eval;
pub mod eval_interactions;
pub mod eval_recs;
pub mod experiment;
pub mod features;
pub mod feedback;
pub mod model;
pub mod predict;
pub mod quickstart;
pub mod recommend;
pub mod reproduce;
pub mod scan;
pub mod serve;
pub mod stats;
pub mod train;
