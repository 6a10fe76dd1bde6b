-- Version 5: what a scan noticed about a file it still embedded (a truncated file analysed as
-- far as it could be read), shown by `scan --failed`; NULL for a file read whole. The SQLite
-- store's schema v5 (crates/catalog-sqlite/src/store.rs, WARNING_SCHEMA).

ALTER TABLE tracks ADD COLUMN warning TEXT;
