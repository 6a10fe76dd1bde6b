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
pub mod entry;
pub mod error;
pub mod extract;
pub mod fma;
pub mod folder;
pub mod gtzan;
pub mod manifest;
pub mod report;
pub mod screen;
mod seeded;
pub mod split;
pub mod stats;
pub mod steps;
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

pub use musicrec_audio::{AUDIO_EXTENSIONS, is_audio_file};
