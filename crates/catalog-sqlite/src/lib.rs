//! musicrec's catalog in one SQLite file, the default backend.
//!
//! [`SqliteStore`] implements [`musicrec_catalog::CatalogStore`] and
//! [`musicrec_catalog::ExperimentStore`] through the SQL shared with the PostgreSQL backend
//! ([`musicrec_catalog::sql`]); what is SQLite's own lives here: opening a file without ever
//! damaging a foreign one, the connection settings (WAL, busy timeout), the migrations, and
//! the default catalog path. It must not import other backends or anything above the catalog.

mod paths;
mod store;

pub use musicrec_catalog::APPLICATION_ID;
pub use paths::default_catalog_path;
pub use store::SqliteStore;
