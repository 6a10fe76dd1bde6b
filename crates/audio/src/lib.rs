//! `audio` stage: decode any music file to mono f32 samples and resample them.
//!
//! - [`decode_file`] / [`decode_bytes`]: WAV (PCM 8-32 bit, float), FLAC, MP3, Ogg Vorbis,
//!   Ogg Opus, AAC (ADTS and MP4/M4A), AIFF, CAF, MKV/WebM and Sun/NeXT `.au`, detected from
//!   content. Output is the mean of the channels (as `librosa.load(mono=True)`), at the file's
//!   own rate, with the encoder delay and padding the file declares removed.
//! - [`resample`]: libsoxr at librosa's `soxr_hq` recipe, librosa's output length.
//! - [`load`]: both in one call ([`load_partial`]: keep what a truncated file holds); [`write_wav_f32`] for debugging and golden files.
//!
//! Every failure is an [`AudioError`] whose `Display` is one line without the path; no input,
//! however malformed, makes these functions panic.
//!
//! Threads: a long file (at least 20 s per thread) is decoded (Opus, Vorbis, MP3) and resampled
//! in segments on the threads of the caller's rayon pool, so that one long file keeps every
//! core busy; run inside a one-thread pool for one core. Results do not depend on the number
//! of threads, except for Opus's decoder state after a segment's pre-roll (relative RMS 1e-6).

mod decode;
mod error;
mod mono;
mod mp4_gapless;
mod quiet_panic;
mod resample;
mod sun_au;

use std::path::Path;

pub use decode::{decode_bytes, decode_file, decode_file_partial};
pub use error::AudioError;
pub use quiet_panic::catch_unwind_quietly;
pub use resample::{resample, resampled_len};

/// File extensions (lower case) treated as audio when folders are walked (the catalog's library
/// scan, the datasets' folder layouts): what [`decode_file`] opens, WAV, Sun `.au`, FLAC, MP3,
/// Ogg Vorbis/Opus, AAC/MP4, AIFF, CAF, Matroska audio. WMA is not among them. Anything else in
/// a folder (cover art, `.mf` lists, `.DS_Store`) is ignored. The one list of the workspace
/// (the catalog had 16 entries, the datasets 14 without `caf` and `mka`: this is their union).
pub const AUDIO_EXTENSIONS: [&str; 16] = [
    "wav", "wave", "au", "snd", "flac", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "aac", "aif",
    "aiff", "caf", "mka",
];

/// Whether `path` has one of [`AUDIO_EXTENSIONS`] (case-insensitive).
pub fn is_audio_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Mono audio at `sample_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Samples in [-1, 1] (floats may exceed it if the source does).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
    /// Set when the file ends early and `samples` hold only what could be read (see
    /// [`decode_file_partial`]); `None` for a complete file.
    pub truncation: Option<Truncation>,
}

/// How a file was cut short: what a player would still play, and why it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// Frames (samples per channel) decoded before the data ran out.
    pub decoded_frames: u64,
    /// Frames the header declares, when the container states an exact length.
    pub declared_frames: Option<u64>,
    /// One line: why decoding stopped.
    pub reason: String,
}

impl std::fmt::Display for Truncation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.declared_frames {
            Some(declared) => write!(
                f,
                "truncated: decoded {} of the {declared} frames the header declares",
                self.decoded_frames
            ),
            None => write!(
                f,
                "truncated: the data stops after {} frames ({})",
                self.decoded_frames, self.reason
            ),
        }
    }
}

impl Audio {
    /// Length in seconds (0 for a zero sample rate rather than a division by zero).
    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// [`decode_file`], then [`resample`] when `target_sr` is given and differs from the file's.
pub fn load(path: impl AsRef<Path>, target_sr: Option<u32>) -> Result<Audio, AudioError> {
    resample_to(decode_file(path)?, target_sr)
}

/// [`decode_file_partial`], then [`resample`] like [`load`]: a truncated file whose readable
/// part lasts at least `min_duration_secs` comes back flagged in [`Audio::truncation`].
pub fn load_partial(
    path: impl AsRef<Path>,
    target_sr: Option<u32>,
    min_duration_secs: f64,
) -> Result<Audio, AudioError> {
    resample_to(decode_file_partial(path, min_duration_secs)?, target_sr)
}

fn resample_to(audio: Audio, target_sr: Option<u32>) -> Result<Audio, AudioError> {
    match target_sr {
        // Decoded samples are already checked: skip `resample`'s own pass over them.
        Some(target) if target != audio.sample_rate => Ok(Audio {
            samples: resample::resample_checked(&audio.samples, audio.sample_rate, target)?,
            sample_rate: target,
            truncation: audio.truncation,
        }),
        _ => Ok(audio),
    }
}

/// Writes `audio` as a mono 32-bit float WAV.
pub fn write_wav_f32(path: impl AsRef<Path>, audio: &Audio) -> Result<(), AudioError> {
    let spec = wav_spec(audio)?;
    let writer = hound::WavWriter::create(path, spec).map_err(wav_error)?;
    write_samples(writer, audio)
}

/// Writes `audio` as a mono 32-bit float WAV into `out` (seekable: the header is completed at
/// the end), e.g. the temporary file of an atomic write.
pub fn write_wav_f32_to<W: std::io::Write + std::io::Seek>(
    out: W,
    audio: &Audio,
) -> Result<(), AudioError> {
    let spec = wav_spec(audio)?;
    let writer = hound::WavWriter::new(out, spec).map_err(wav_error)?;
    write_samples(writer, audio)
}

fn wav_spec(audio: &Audio) -> Result<hound::WavSpec, AudioError> {
    if audio.sample_rate == 0 {
        return Err(AudioError::InvalidStream(
            "cannot write a WAV with sample rate 0".into(),
        ));
    }
    Ok(hound::WavSpec {
        channels: 1,
        sample_rate: audio.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    })
}

fn wav_error(err: hound::Error) -> AudioError {
    match err {
        hound::Error::IoError(io) => AudioError::Io(io),
        other => AudioError::WavWrite(AudioError::one_line(other)),
    }
}

fn write_samples<W: std::io::Write + std::io::Seek>(
    mut writer: hound::WavWriter<W>,
    audio: &Audio,
) -> Result<(), AudioError> {
    for &sample in &audio.samples {
        writer.write_sample(sample).map_err(wav_error)?;
    }
    writer.finalize().map_err(wav_error)
}

/// Builders for crafted test inputs, shared by unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    /// A canonical 44-byte-header WAV around `data` (format tag 1 = PCM, 3 = IEEE float).
    pub(crate) fn wav_bytes(
        format_tag: u16,
        channels: u16,
        sample_rate: u32,
        bits: u16,
        data: &[u8],
    ) -> Vec<u8> {
        let block_align = channels * bits / 8;
        let mut wav = Vec::with_capacity(44 + data.len());
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&format_tag.to_le_bytes());
        wav.extend_from_slice(&channels.to_le_bytes());
        wav.extend_from_slice(&sample_rate.to_le_bytes());
        wav.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
        wav.extend_from_slice(&block_align.to_le_bytes());
        wav.extend_from_slice(&bits.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
        wav.extend_from_slice(data);
        wav
    }
}
