//! The catalog contract (musicrec_testkit::contract) on SQLite: every scenario on a fresh
//! catalog file, reopened by path where a scenario asks for another connection.

use std::sync::Arc;

use musicrec_catalog::CatalogStore;
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_testkit::contract::Open;

fn fresh() -> Option<Open> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    Some(Arc::new(move || {
        // The folder lives as long as the opener.
        let _folder = &dir;
        Box::new(SqliteStore::open(&path).unwrap()) as Box<dyn CatalogStore>
    }))
}

musicrec_testkit::catalog_contract_tests!(fresh);
