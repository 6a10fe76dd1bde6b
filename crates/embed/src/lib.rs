//! musicrec's inference stage: what turns a music file into the vector and genre probabilities
//! the catalog stores. It owns the models built into the binary ([`built_in`]), how a `--model`
//! value is resolved to one of them or to a directory and given a stable model id
//! ([`ModelChoice`]), and the adapters from trained models and backbones with heads to the
//! catalog's `TrackEmbedder` seam ([`ModelEmbedder`]); what a scan is set up with ([`scan`]), the
//! genre predictions of single files ([`predict`]) and a model's summary and cards ([`summary`]).
//!
//! Sits above `train` (model directories, backbones, heads) and `catalog` (the seam it
//! implements); it must not import `recommend`, `server` or any front end.

pub mod built_in;
mod embedder;
pub mod predict;
pub mod scan;
pub mod summary;

pub use embedder::*;
