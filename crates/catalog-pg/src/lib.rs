//! musicrec's catalog in PostgreSQL, for catalogs shared by several machines.
//!
//! - [`PostgresStore`]: the [`musicrec_catalog::CatalogStore`] backend (`--db postgres://...`):
//!   the SQLite store's schema and behaviour, refinery migrations, a refusal of databases that
//!   are not musicrec's, a streamed binary [`load_embeddings`](musicrec_catalog::CatalogStore::load_embeddings),
//!   the change [`revision`](musicrec_catalog::CatalogStore::revision) servers poll to refresh
//!   their in-memory index, the listening-experiment tables
//!   ([`musicrec_catalog::ExperimentStore`]), and [`PostgresStore::import_new_tracks`]
//!   (COPY BINARY) for bulk loads.
//! - [`queue`]: the scan job queue that any number of `musicrec scan --worker` processes share
//!   (`FOR UPDATE SKIP LOCKED` claims with leases and fencing tokens; a killed worker's jobs
//!   are taken over, and no job is stored twice).
//!
//! Similarity search is not done in SQL: Debian's PostgreSQL has no pgvector, so every `serve`
//! process loads the embeddings into memory (musicrec-recommend's index) and reloads when
//! the [`revision`](musicrec_catalog::CatalogStore::revision) changes. Operating it (starting
//! the server, workers, leases, the benchmark): `docs/scaling-out.md`.

mod error;
pub mod queue;
mod store;

pub use queue::{
    Claim, Completion, EnqueueReport, JobOutcome, QueueCounts, ScanQueue, WorkerOptions,
    WorkerReport, enqueue, run_worker,
};
pub use store::{PostgresStore, known_schema_version, redact_url};

/// Whether `text` is a PostgreSQL connection URL (`postgres://` or `postgresql://`).
pub fn is_postgres_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}
