-- musicrec catalog schema, version 1 (applied by rusqlite_migration; later changes are new
-- migrations appended in sqlite.rs, never edits of this file).
-- Plain SQL types and constraints so that a PostgreSQL schema can mirror it closely
-- (INTEGER PRIMARY KEY -> BIGINT GENERATED ALWAYS AS IDENTITY, BLOB -> BYTEA).

CREATE TABLE tracks (
    id            INTEGER PRIMARY KEY,
    path          TEXT    NOT NULL UNIQUE,
    content_hash  TEXT    NOT NULL,            -- blake3, 64 lower-case hex digits
    size_bytes    INTEGER NOT NULL CHECK (size_bytes >= 0),
    mtime_ns      INTEGER NOT NULL,
    duration_secs REAL,
    artist        TEXT,
    title         TEXT,
    album         TEXT,
    genre_tag     TEXT,
    year          INTEGER,
    artist_key    TEXT,                        -- Unicode-lower-cased, trimmed copies for lookups
    title_key     TEXT,
    album_key     TEXT,
    added_at      INTEGER NOT NULL,            -- Unix ms
    updated_at    INTEGER NOT NULL,
    missing_since INTEGER                      -- Unix ms; NULL while the file exists
);
CREATE INDEX tracks_content_hash ON tracks (content_hash);
CREATE INDEX tracks_artist_title ON tracks (artist_key, title_key);
CREATE INDEX tracks_title ON tracks (title_key);

CREATE TABLE models (
    id            TEXT    PRIMARY KEY,
    config_json   TEXT    NOT NULL,
    genres_json   TEXT    NOT NULL,            -- JSON array of names, in probability order
    embedding_dim INTEGER NOT NULL CHECK (embedding_dim > 0),
    registered_at INTEGER NOT NULL
);

CREATE TABLE embeddings (
    track_id    INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id    TEXT    NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    embedding   BLOB    NOT NULL,              -- f32 little-endian, embedding_dim values
    genre_probs BLOB    NOT NULL,              -- f32 little-endian, one per model genre
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (track_id, model_id)
);
CREATE INDEX embeddings_model ON embeddings (model_id);

CREATE TABLE genre_centroids (
    model_id        TEXT    NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    genre_index     INTEGER NOT NULL,
    genre           TEXT    NOT NULL,
    centroid        BLOB    NOT NULL,          -- f32 little-endian mean embedding
    member_count    INTEGER NOT NULL,
    centre_track_id INTEGER REFERENCES tracks (id) ON DELETE SET NULL,
    computed_at     INTEGER NOT NULL,
    PRIMARY KEY (model_id, genre_index)
);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE feedback (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    track_id   INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    rating     INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    created_at INTEGER NOT NULL
);
CREATE INDEX feedback_user_track ON feedback (user_id, track_id);
CREATE INDEX feedback_track ON feedback (track_id);

CREATE TABLE scan_failures (
    path       TEXT    PRIMARY KEY,
    model_id   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    size_bytes INTEGER,
    mtime_ns   INTEGER,
    failed_at  INTEGER NOT NULL
);
