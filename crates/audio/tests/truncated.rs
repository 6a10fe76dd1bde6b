//! Files cut off mid-stream are read as far as they go by `decode_file_partial` (and
//! `load_partial`), flagged as truncated, when enough audio remains; the strict `decode_file`
//! keeps refusing containers whose declared length is not there.

mod common;

use common::*;
use musicrec_audio::{AudioError, decode_file, decode_file_partial, load_partial};

fn cut(
    data: &std::path::Path,
    file: &str,
    fraction: f64,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let bytes = std::fs::read(data.join(file)).unwrap();
    let keep = (bytes.len() as f64 * fraction) as usize;
    let path = dir.join(format!("cut-{}", file.rsplit('/').next().unwrap()));
    std::fs::write(&path, &bytes[..keep]).unwrap();
    path
}

#[test]
fn a_truncated_file_is_read_as_far_as_it_goes() {
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    // FLAC and WAV declare their length; the MP3 and Vorbis files are cut mid-packet.
    for (file, min_secs) in [
        ("formats/dubstep.flac", 1.0),
        ("formats/dubstep.wav", 1.0),
        ("formats/dubstep.mp3", 1.0),
        ("formats/vibe-ace-kevin-macleod.ogg", 10.0),
    ] {
        let whole = decode_file(data.join(file)).unwrap();
        assert!(whole.truncation.is_none(), "{file}: {:?}", whole.truncation);
        let path = cut(&data, file, 0.4, dir.path());

        let partial = decode_file_partial(&path, min_secs).unwrap();
        let truncation = partial
            .truncation
            .clone()
            .unwrap_or_else(|| panic!("{file}: not flagged as truncated"));
        let secs = partial.duration_secs();
        eprintln!(
            "{file}: {secs:.2} s of {:.2} s, {truncation}",
            whole.duration_secs()
        );
        assert!(
            secs > 0.3 * whole.duration_secs() && secs < 0.45 * whole.duration_secs(),
            "{file}: {secs} s"
        );
        // What was read is the start of the whole decode.
        let n = partial.samples.len().min(whole.samples.len()) - 4096;
        assert_eq!(&partial.samples[..n], &whole.samples[..n], "{file}");
        assert!(!truncation.to_string().contains('\n'));

        // Too little left: refused, whatever the container.
        let err = decode_file_partial(&path, whole.duration_secs()).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{file}: {err}");

        let resampled = load_partial(&path, Some(12_000), min_secs).unwrap();
        assert_eq!(resampled.truncation, Some(truncation.clone()));
        if truncation.declared_frames.is_some() {
            assert!(matches!(
                decode_file(&path).unwrap_err(),
                AudioError::Truncated { .. }
            ));
        }
    }
}
