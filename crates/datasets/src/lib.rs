//! `datasets` stage: GTZAN, FMA, plain folders and manifests; screening, splits, windows and the feature cache.
//!
//! The flow every source shares:
//! 1. a loader ([`gtzan`], [`fma`], [`folder`], [`manifest::load_lenient`]) turns the source into candidate
//!    [`Entry`]s plus the [`DroppedTrack`]s it already rejected (malformed rows, multi-genre tracks, missing
//!    files);
//! 2. [`build::build`] chooses genres, screens the audio ([`screen`]), caps each genre for balance and
//!    assigns train/validation/test ([`split`]);
//! 3. the [`Manifest`] (CSV) and the dropped report ([`report`]) are written side by side;
//! 4. [`cache::prepare`] computes every clip's log-mel once into a content-addressed [`FeatureCache`];
//!    training reads it back with [`FeatureCache::get`] and cuts it into model windows ([`window`]).

pub mod build;
pub mod cache;
pub mod error;
pub mod fma;
pub mod folder;
pub mod gtzan;
pub mod manifest;
pub mod report;
pub mod screen;
mod seeded;
pub mod split;
pub mod stats;
pub mod window;

mod atomic;

pub use build::{BuildOptions, Built, Loaded, SplitMode, build};
pub use cache::{CacheLookup, ContentHash, FeatureCache, PrepareReport, prepare};
pub use error::DatasetError;
pub use manifest::{Entry, Manifest};
pub use report::{DropReason, DroppedTrack};
pub use screen::ScreenConfig;
pub use split::{Split, SplitRatio};
pub use stats::DatasetStats;
pub use window::{PadMode, WindowConfig};

/// File extensions (lower case) treated as audio when scanning folders. Everything the audio stage's
/// decoders open; anything else in a folder (cover art, `.mf` lists, `.DS_Store`) is ignored.
pub const AUDIO_EXTENSIONS: [&str; 14] = [
    "wav", "wave", "au", "snd", "flac", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "aac", "aif",
    "aiff",
];

/// Whether `path` has one of [`AUDIO_EXTENSIONS`] (case-insensitive).
pub fn is_audio_file(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
