//! musicrec's experiment workflows: what `musicrec eval`, `eval-recs` (genre precision@k and, with
//! `--interactions`, content vs collaborative filtering on held-out likes), `reproduce` and
//! `train --labels tags --from-db` do, as plain settings in and reports (or report files) out.
//!
//! Each workflow takes a settings struct of plain data (no command-line parsing) and returns what
//! it found; the files it writes go through [`files::write_atomically`] or
//! `musicrec_eval::html`. Progress and warnings go to stderr; what a command prints on stdout is
//! the caller's.
//!
//! This crate sits below the front ends: it must never import `musicrec-server` or the CLI
//! (`musicrec`); both may call it.

pub mod eval;
pub mod eval_recs;
pub mod files;
pub mod interactions;
pub mod reproduce;
pub mod tags_head;

pub use files::backbone_feature_cache;
