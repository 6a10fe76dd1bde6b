-- musicrec catalog schema for PostgreSQL, version 1: crates/catalog/src/schema.sql (SQLite)
-- translated column for column, so both backends hold the same data. Applied by refinery;
-- later changes are new files V<n>__*.sql, never edits of this one.
-- INTEGER PRIMARY KEY -> BIGINT identity; SQLite REAL (8 bytes) -> DOUBLE PRECISION;
-- BLOB -> BYTEA with the same f32 little-endian layout (see store.rs for why not real[]).

CREATE TABLE tracks (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path          TEXT    NOT NULL UNIQUE,
    content_hash  TEXT    NOT NULL,            -- blake3, 64 lower-case hex digits
    size_bytes    BIGINT  NOT NULL CHECK (size_bytes >= 0),
    mtime_ns      BIGINT  NOT NULL,
    duration_secs DOUBLE PRECISION,
    artist        TEXT,
    title         TEXT,
    album         TEXT,
    genre_tag     TEXT,
    year          INTEGER,
    artist_key    TEXT,                        -- Unicode-lower-cased, trimmed copies for lookups
    title_key     TEXT,
    album_key     TEXT,
    added_at      BIGINT  NOT NULL,            -- Unix ms
    updated_at    BIGINT  NOT NULL,
    missing_since BIGINT                       -- Unix ms; NULL while the file exists
);
CREATE INDEX tracks_content_hash ON tracks (content_hash);
CREATE INDEX tracks_artist_title ON tracks (artist_key, title_key);
CREATE INDEX tracks_title ON tracks (title_key);

CREATE TABLE models (
    id            TEXT    PRIMARY KEY,
    config_json   TEXT    NOT NULL,
    genres_json   TEXT    NOT NULL,            -- JSON array of names, in probability order
    embedding_dim INTEGER NOT NULL CHECK (embedding_dim > 0),
    registered_at BIGINT  NOT NULL
);

CREATE TABLE embeddings (
    track_id    BIGINT  NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    model_id    TEXT    NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    embedding   BYTEA   NOT NULL,              -- f32 little-endian, embedding_dim values
    genre_probs BYTEA   NOT NULL,              -- f32 little-endian, one per model genre
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (track_id, model_id)
);
CREATE INDEX embeddings_model ON embeddings (model_id);

CREATE TABLE genre_centroids (
    model_id        TEXT    NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    genre_index     INTEGER NOT NULL,
    genre           TEXT    NOT NULL,
    centroid        BYTEA   NOT NULL,          -- f32 little-endian mean embedding
    member_count    BIGINT  NOT NULL,
    centre_track_id BIGINT  REFERENCES tracks (id) ON DELETE SET NULL,
    computed_at     BIGINT  NOT NULL,
    PRIMARY KEY (model_id, genre_index)
);

CREATE TABLE users (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL
);

CREATE TABLE feedback (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    track_id   BIGINT  NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    rating     INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    created_at BIGINT  NOT NULL
);
CREATE INDEX feedback_user_track ON feedback (user_id, track_id);
CREATE INDEX feedback_track ON feedback (track_id);

CREATE TABLE scan_failures (
    path       TEXT    PRIMARY KEY,
    model_id   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    size_bytes BIGINT,
    mtime_ns   BIGINT,
    failed_at  BIGINT  NOT NULL
);
