//! One module per subcommand. Each exposes clap `Args` (or a `Command` enum) and a `run` that returns
//! the process exit code (the table is in `musicrec --help` and the README): `SUCCESS` when done
//! (a library scan lists the files it could not read and still succeeds), `FAILURE` (1) when some
//! files named on the command line failed; an `Err`, or 2, is "nothing could be done". Output goes
//! through `outln!`/`out!` (see `stdout.rs`), never `println!`.

pub mod dataset;
pub mod decode;
pub mod eval;
pub mod eval_recs;
pub mod experiment;
pub mod features;
pub mod feedback;
pub mod mix;
pub mod model;
pub mod mpd;
pub mod path;
pub mod predict;
pub mod quickstart;
pub mod recommend;
pub mod reproduce;
pub mod scan;
pub mod serve;
pub mod stats;
pub mod tracks;
pub mod train;
