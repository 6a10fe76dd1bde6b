-- Version 3: listening experiments, the SQLite store's schema v2 (crates/catalog/src/sqlite.rs,
-- EXPERIMENT_SCHEMA) translated column for column. Session items keep the track id *and* its
-- path without a foreign key to tracks, so purging missing tracks never deletes a study's
-- recorded answers. SQLite's 0/1 flags are BOOLEAN here; counts and rounds are BIGINT so that
-- every value the Rust types allow (usize, u32) fits.

CREATE TABLE studies (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    methods_json TEXT    NOT NULL,             -- JSON array of method names, in order
    k            BIGINT  NOT NULL CHECK (k > 0),
    decoys       BIGINT  NOT NULL CHECK (decoys >= 0),
    simulated    BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL              -- Unix ms
);

CREATE TABLE study_sessions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id    BIGINT  NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    participant TEXT    NOT NULL,
    seeds_json  TEXT    NOT NULL,              -- JSON array of track ids
    simulated   BOOLEAN NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (study_id, participant)
);

CREATE TABLE session_items (
    session_id   BIGINT  NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    track_id     BIGINT  NOT NULL,
    track_path   TEXT    NOT NULL,
    origins_json TEXT    NOT NULL,             -- JSON array: method names and/or decoy
    PRIMARY KEY (session_id, position),
    UNIQUE (session_id, track_id)
);

CREATE TABLE session_responses (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id BIGINT  NOT NULL,
    track_id   BIGINT  NOT NULL,
    round      BIGINT  NOT NULL CHECK (round >= 1),
    rating     INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    created_at BIGINT  NOT NULL,
    FOREIGN KEY (session_id, track_id) REFERENCES session_items (session_id, track_id)
        ON DELETE CASCADE
);
CREATE INDEX session_responses_session ON session_responses (session_id, track_id, round);
