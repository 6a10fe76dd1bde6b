//! The catalog contract (musicrec_testkit::contract) on PostgreSQL: every scenario on a fresh
//! database of the test process's private server (skipped without PostgreSQL outside CI).

use std::sync::Arc;

use musicrec_catalog::CatalogStore;
use musicrec_catalog_pg::PostgresStore;
use musicrec_testkit::contract::Open;
use musicrec_testkit::pg::PgServer;

fn fresh() -> Option<Open> {
    let url = PgServer::shared()?.new_database("contract");
    Some(Arc::new(move || {
        Box::new(PostgresStore::connect(&url).unwrap()) as Box<dyn CatalogStore>
    }))
}

musicrec_testkit::catalog_contract_tests!(fresh);
