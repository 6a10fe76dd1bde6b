//! `features` stage: STFT, mel filterbank and dB scaling, numerically matching librosa 0.11
//! (`librosa.power_to_db(librosa.feature.melspectrogram(y=..., sr=..., n_fft=..., hop_length=...,
//! n_mels=..., fmin=..., fmax=...), ref=1.0, amin=1e-10, top_db=...)`), plus `.npy` storage.
//! A long signal's frames are computed on the threads of the caller's rayon pool, with the same
//! bits as on one thread.
//!
//! ```
//! use musicrec_features::{MelConfig, MelExtractor};
//! let extractor = MelExtractor::new(&MelConfig::librosa()).unwrap();
//! let mel = extractor.log_mel(&vec![0.0f32; 22_050]);
//! assert_eq!((mel.n_mels, mel.n_frames), (128, 44));
//! ```

mod config;
mod error;
mod extractor;
mod filterbank;
pub mod mfcc;
mod npy;
mod overrides;

pub use config::{LogScale, MelConfig};
pub use error::FeatureError;
pub use extractor::{LogMel, MelExtractor};
pub use filterbank::{hz_to_mel, mel_filterbank, mel_to_hz};
pub use npy::{read_npy, write_npy};
pub use overrides::MelOverrides;
