//! The audio stage's error type: one variant per way a file can fail to become samples.
//!
//! `Display` gives the reason on one line and never the file path: callers know the path and
//! prefix it themselves (`"{path}: {err}"`).

/// Why audio could not be decoded, resampled or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The file could not be opened, read or written.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// No demuxer recognises the container (e.g. a text file named `.mp3`).
    #[error("unsupported or unrecognised format: {0}")]
    UnsupportedFormat(String),
    /// The container is known but no decoder exists for the codec in it.
    #[error("unsupported codec: {0}")]
    UnsupportedCodec(String),
    /// The data is malformed beyond what the decoder can skip over.
    #[error("corrupt audio data: {0}")]
    Corrupt(String),
    /// The audio data stops before the length its header declares.
    #[error(
        "truncated: decoded {decoded_frames} of the {declared_frames} frames the header declares"
    )]
    Truncated {
        /// Frames (samples per channel) actually decoded.
        decoded_frames: u64,
        /// Frames the container header promised.
        declared_frames: u64,
    },
    /// The input holds no audio samples at all (empty file, or nothing decodable).
    #[error("no audio samples: {0}")]
    Empty(String),
    /// The stream's parameters make no sense (zero channels, sample rate 0, ...).
    #[error("invalid stream: {0}")]
    InvalidStream(String),
    /// Resampling failed (zero rate, invalid samples, or a libsoxr error).
    #[error("resampling failed: {0}")]
    Resample(String),
    /// Writing a WAV file failed for a reason other than plain I/O.
    #[error("wav write failed: {0}")]
    WavWrite(String),
}

impl AudioError {
    /// Keeps the one-line promise of `Display` even when a library message spans lines.
    pub(crate) fn one_line(message: impl std::fmt::Display) -> String {
        message
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}
