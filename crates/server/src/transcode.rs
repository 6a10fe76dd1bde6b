//! Audio in formats browsers cannot play (Sun `.au`, AIFF, CAF: decided by the file extension)
//! is decoded with musicrec-audio and streamed as a 16-bit PCM WAV, which every browser plays;
//! the WAV is made per request (no cache on disk) and answers Range requests like a file.
//! Everything else is served as it is (`tower_http::services::ServeFile`).

use std::io::Cursor;
use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Extensions of the scanned formats that Chromium, Firefox and Safari do not all play.
pub const TRANSCODED_EXTENSIONS: [&str; 6] = ["au", "snd", "aif", "aiff", "aifc", "caf"];

/// Longest track transcoded (the decoded samples are held in memory while the WAV is written).
pub const MAX_TRANSCODE_SECS: f64 = 30.0 * 60.0;

/// Whether `path` is served as a WAV made from it rather than as it is.
pub fn needs_transcoding(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        TRANSCODED_EXTENSIONS
            .iter()
            .any(|t| t.eq_ignore_ascii_case(e))
    })
}

/// Decodes `path` (mono, at its own sample rate) into a 16-bit PCM WAV. Blocking.
pub fn wav_of(path: &Path) -> Result<Bytes, ApiError> {
    let audio = musicrec_audio::decode_file(path).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_playable",
            format!("cannot decode the file for streaming: {e}"),
        )
    })?;
    if audio.duration_secs() > MAX_TRANSCODE_SECS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_playable",
            format!(
                "the track is {:.0} min long: only tracks up to {:.0} min are converted for the browser",
                audio.duration_secs() / 60.0,
                MAX_TRANSCODE_SECS / 60.0
            ),
        ));
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + 2 * audio.samples.len()));
    let failed = |e: hound::Error| ApiError::internal(format!("cannot write the WAV: {e}"));
    {
        let mut writer = hound::WavWriter::new(&mut out, spec).map_err(failed)?;
        let mut samples = writer.get_i16_writer(audio.samples.len() as u32);
        for &s in &audio.samples {
            // Round to the nearest 16-bit step; out-of-range floats are clipped.
            samples.write_sample((s.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16);
        }
        samples.flush().map_err(failed)?;
        writer.finalize().map_err(failed)?;
    }
    Ok(Bytes::from(out.into_inner()))
}

/// `bytes` as `content_type`, whole (200) or the one range the request's `Range` asks for
/// (206; 416 for a range outside it or several ranges).
pub fn ranged(bytes: Bytes, content_type: &'static str, request: &HeaderMap) -> Response {
    let len = bytes.len() as u64;
    let range = request
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            http_range_header::parse_range_header(v)
                .and_then(|parsed| parsed.validate(len))
                .ok()
                .filter(|ranges| ranges.len() == 1 && len > 0)
                .map(|mut ranges| ranges.remove(0))
        });
    let mut response = match range {
        None => (StatusCode::OK, Body::from(bytes)).into_response(),
        Some(None) => {
            let mut refused = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            refused.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}")).expect("ASCII"),
            );
            return refused;
        }
        Some(Some(range)) => {
            let (start, end) = (*range.start(), *range.end());
            let mut partial = (
                StatusCode::PARTIAL_CONTENT,
                Body::from(bytes.slice(start as usize..=end as usize)),
            )
                .into_response();
            partial.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")).expect("ASCII"),
            );
            partial
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_formats_pass_and_others_are_converted() {
        for name in ["a.au", "b.SND", "c.aiff", "d.aif", "e.caf"] {
            assert!(needs_transcoding(Path::new(name)), "{name}");
        }
        for name in [
            "a.wav", "b.mp3", "c.ogg", "d.opus", "e.flac", "f.m4a", "noext",
        ] {
            assert!(!needs_transcoding(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn ranges_of_the_converted_bytes() {
        let bytes = Bytes::from_static(b"0123456789");
        let mut request = HeaderMap::new();
        let whole = ranged(bytes.clone(), "audio/wav", &request);
        assert_eq!(whole.status(), StatusCode::OK);
        request.insert(header::RANGE, HeaderValue::from_static("bytes=2-4"));
        let part = ranged(bytes.clone(), "audio/wav", &request);
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 2-4/10");
        request.insert(header::RANGE, HeaderValue::from_static("bytes=-3"));
        let tail = ranged(bytes.clone(), "audio/wav", &request);
        assert_eq!(tail.headers()[header::CONTENT_RANGE], "bytes 7-9/10");
        request.insert(header::RANGE, HeaderValue::from_static("bytes=20-"));
        let outside = ranged(bytes, "audio/wav", &request);
        assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(outside.headers()[header::CONTENT_RANGE], "bytes */10");
    }
}
