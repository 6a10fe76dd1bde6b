-- Version 4: the songs of Subsonic servers musicrec is the companion of, and their catalog
-- tracks: the SQLite store's schema v4 (crates/catalog-sqlite/src/store.rs, UPSTREAM_SCHEMA)
-- translated column for column. No foreign key to tracks: a purged track leaves a stale id that
-- readers skip, and the next sync corrects it.

CREATE TABLE upstream_songs (
    upstream    TEXT   NOT NULL,              -- the server's URL and user
    upstream_id TEXT   NOT NULL,
    track_id    BIGINT,                       -- NULL: no catalog track matched
    matched_by  TEXT,                         -- path or tags
    song_json   TEXT   NOT NULL,              -- the server's Child object
    synced_at   BIGINT NOT NULL,              -- Unix ms
    PRIMARY KEY (upstream, upstream_id)
);
