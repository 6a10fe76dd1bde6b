//! Test helpers shared by the stage crates' integration tests (`tests/*.rs`, and benchmarks):
//! where the shared real music is ([`data`]), a real-audio [`TrackEmbedder`] that needs no
//! model ([`embedder`]), a private PostgreSQL server per test process ([`pg`]), a real Subsonic
//! server (Supysonic) over a music folder ([`supysonic`]), a tiny synthetic catalog with known
//! embeddings ([`synthetic`]), the GTZAN-mini clips scanned into a catalog ([`scanned`]), and
//! the [`contract`] every catalog backend's tests run.
//!
//! This crate is only ever a `[dev-dependencies]` entry, never a normal dependency. It depends
//! on musicrec-catalog (and so musicrec-audio), whose own integration tests use it too: that
//! dev-dependency cycle is fine for `tests/*.rs`, which link the crate's normal library, but
//! not for unit tests inside a crate's `src/`, which are a second copy of that crate (its types
//! are not the ones this crate sees), so those must not use it.
//!
//! [`TrackEmbedder`]: musicrec_catalog::TrackEmbedder

pub mod contract;
pub mod data;
pub mod embedder;
pub mod pg;
pub mod scanned;
pub mod supysonic;
pub mod synthetic;
