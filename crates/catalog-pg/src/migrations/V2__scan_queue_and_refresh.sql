-- PostgreSQL only, version 2: the scan job queue shared by `musicrec scan --worker` processes,
-- and the catalog revision that tells a server cheaply that its in-memory index is stale.

-- One row per (model, file): enqueued by a worker's walk, claimed with FOR UPDATE SKIP LOCKED
-- under a lease, marked done in the transaction that stores its result.
CREATE TABLE scan_jobs (
    model_id    TEXT    NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    path        TEXT    NOT NULL,
    size_bytes  BIGINT  NOT NULL,
    mtime_ns    BIGINT  NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    claimed_by  TEXT,                          -- worker name (host:pid) holding the lease
    claim_id    BIGINT,                        -- fencing token of the current claim
    lease_until TIMESTAMPTZ,                   -- database clock, so machines' clocks may differ
    attempts    INTEGER NOT NULL DEFAULT 0,    -- claims so far (a file that kills workers stops)
    enqueued_at BIGINT  NOT NULL,              -- Unix ms
    done_at     BIGINT,
    done_by     TEXT,
    outcome     TEXT,                          -- embedded, moved, refreshed, failed
    PRIMARY KEY (model_id, path)
);
CREATE INDEX scan_jobs_pending ON scan_jobs (model_id, path) WHERE state = 'pending';
CREATE SEQUENCE scan_claim_ids;

-- Bumped by every transaction that changes tracks or embeddings, as its last statement: the
-- row lock orders the bumps by commit, so a reader that sees revision r sees every change made
-- up to r (timestamps cannot promise that: concurrent writers commit out of timestamp order).
CREATE TABLE catalog_revision (
    id       BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    revision BIGINT  NOT NULL
);
INSERT INTO catalog_revision (revision) VALUES (0);
