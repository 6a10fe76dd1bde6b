//! musicrec's application service: what a front end (the CLI, the web server, a player bridge)
//! asks of musicrec, written once. It opens a catalog from a `--db` value ([`store`]), chooses
//! the model whose embeddings to use and loads them ([`ModelIndex`]), resolves a track as a user
//! typed it ([`resolve_track`]), and recommends ([`recommend()`]) with every method, metric,
//! artist cap and listener feedback, returning [`AppError`]s that say which kind of failure
//! they are. Around them: songs as front ends show them and M3U playlists in and out
//! ([`Song`], [`m3u`], [`read_m3u`]), mixes and paths ([`mix()`], [`path()`]), track search and
//! ratings ([`search_tracks`], [`rate_track`]), the listening experiments ([`experiment`]), and
//! songs as aligned text tables ([`table`]).
//!
//! Sits above `catalog` (and its SQLite and PostgreSQL stores), `recommend` and `study`; it must
//! not import the model stages (front ends compute model ids and pass them in), `server` or `cli`.

mod error;
pub mod experiment;
mod lookup;
mod playlist;
mod recommend;
mod song;
pub mod store;
pub mod table;
mod tracks;

pub use error::{AppError, Result};
pub use lookup::{
    ChosenModel, ModelIndex, ModelRequest, check_seed_count, choose_model, random_seeds_under,
    resolve_seed, resolve_track,
};
pub use playlist::{MixQuery, Mixed, Step, Walk, mix, path, seeds_from_m3u};
pub use recommend::{
    Listener, RecommendMethod, RecommendQuery, Recommended, UserFeedback, fit_cf, recommend,
};
pub use song::{M3u, Song, m3u, read_m3u};
pub use tracks::{TrackEntry, TrackList, rate_track, search_tracks};
