//! One module per subcommand. Each exposes clap `Args` (or a `Command` enum) and a `run` that returns
//! the process exit code: `SUCCESS`, or `FAILURE` when some inputs of a batch failed.

pub mod dataset;
pub mod decode;
pub mod features;
pub mod predict;
pub mod recommend;
pub mod scan;
pub mod stats;
pub mod train;
