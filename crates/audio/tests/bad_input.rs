//! Crafted bad inputs: each gives the right one-line `AudioError`, never a panic.

mod common;

use common::*;
use musicrec_audio::{AudioError, decode_bytes, decode_file, resample, write_wav_f32};

fn assert_one_line(err: &AudioError) {
    let text = err.to_string();
    assert!(!text.is_empty() && !text.contains('\n'), "{text:?}");
}

#[test]
fn empty_input_is_empty() {
    let err = decode_bytes(Vec::new(), Some("wav")).unwrap_err();
    assert!(matches!(err, AudioError::Empty(_)), "{err:?}");
    assert_one_line(&err);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.mp3");
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        decode_file(&path).unwrap_err(),
        AudioError::Empty(_)
    ));
}

#[test]
fn missing_file_is_io() {
    let err = decode_file("/nonexistent/musicrec/clip.wav").unwrap_err();
    assert!(matches!(err, AudioError::Io(_)), "{err:?}");
    assert_one_line(&err);
}

#[test]
fn a_text_file_named_mp3_is_an_unsupported_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.mp3");
    std::fs::write(
        &path,
        "These are not the samples you are looking for.\n".repeat(50),
    )
    .unwrap();
    let err = decode_file(&path).unwrap_err();
    assert!(matches!(err, AudioError::UnsupportedFormat(_)), "{err:?}");
    assert_one_line(&err);
}

#[test]
fn truncated_wav_reports_decoded_and_declared_frames() {
    let data = tone_pcm16(10_000, 2, 22_050);
    // The header promises 10 000 stereo frames; only the first 4 000 are there.
    let wav = wav_bytes(1, 2, 22_050, 16, data.len() as u32, &data[..4_000 * 4]);
    let err = decode_bytes(wav, None).unwrap_err();
    match err {
        AudioError::Truncated {
            decoded_frames,
            declared_frames,
        } => {
            assert_eq!(declared_frames, 10_000);
            assert!(
                (3_000..=4_000).contains(&decoded_frames),
                "{decoded_frames}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Intact, the same bytes decode.
    let whole = wav_bytes(1, 2, 22_050, 16, data.len() as u32, &data);
    assert_eq!(decode_bytes(whole, None).unwrap().samples.len(), 10_000);
}

#[test]
fn truncated_au_reports_decoded_and_declared_frames() {
    let samples: Vec<u8> = (0..20_000u32)
        .flat_map(|i| ((i % 2000) as i16 * 10).to_be_bytes())
        .collect();
    let au = au_bytes(samples.len() as u32, 3, 22_050, 1, &samples[..15_000]);
    match decode_bytes(au, Some("au")).unwrap_err() {
        AudioError::Truncated {
            decoded_frames,
            declared_frames,
        } => {
            assert_eq!((decoded_frames, declared_frames), (7_500, 20_000));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_flac_is_truncated() {
    let Some(data) = shared_data() else { return };
    let flac = std::fs::read(data.join("formats/dubstep.flac")).unwrap();
    let err = decode_bytes(flac[..flac.len() / 2].to_vec(), Some("flac")).unwrap_err();
    match &err {
        AudioError::Truncated {
            decoded_frames,
            declared_frames,
        } => {
            assert_eq!(*declared_frames, 302_085);
            assert!(
                *decoded_frames > 100_000 && *decoded_frames < 200_000,
                "{decoded_frames}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_one_line(&err);
}

#[test]
fn zero_channels_and_zero_rate_are_invalid_streams() {
    let data = tone_pcm16(1_000, 1, 8_000);
    let cases = [
        (
            "wav, 0 channels",
            wav_bytes(1, 0, 22_050, 16, data.len() as u32, &data),
        ),
        (
            "wav, rate 0",
            wav_bytes(1, 1, 0, 16, data.len() as u32, &data),
        ),
        (
            "au, 0 channels",
            au_bytes(data.len() as u32, 3, 22_050, 0, &data),
        ),
        ("au, rate 0", au_bytes(data.len() as u32, 3, 0, 1, &data)),
    ];
    for (what, bytes) in cases {
        let err = decode_bytes(bytes, None).unwrap_err();
        assert_one_line(&err);
        assert!(
            matches!(err, AudioError::InvalidStream(_)),
            "{what}: {err:?}"
        );
    }
}

#[test]
fn unsupported_au_encoding_is_an_unsupported_codec() {
    // Encoding 23 is G.721 ADPCM, which nothing here decodes.
    let err = decode_bytes(au_bytes(100, 23, 8_000, 1, &[0; 100]), None).unwrap_err();
    assert!(matches!(err, AudioError::UnsupportedCodec(_)), "{err:?}");
    assert_one_line(&err);
}

#[test]
fn header_only_wav_is_empty() {
    let err = decode_bytes(wav_bytes(1, 2, 44_100, 16, 0, &[]), None).unwrap_err();
    assert!(matches!(err, AudioError::Empty(_)), "{err:?}");
}

#[test]
fn resample_rejects_zero_rates_and_write_rejects_rate_zero() {
    assert!(matches!(
        resample(&[0.0; 10], 0, 22_050),
        Err(AudioError::Resample(_))
    ));
    assert!(matches!(
        resample(&[0.0; 10], 22_050, 0),
        Err(AudioError::Resample(_))
    ));
    let dir = tempfile::tempdir().unwrap();
    let audio = musicrec_audio::Audio {
        samples: vec![0.0; 4],
        sample_rate: 0,
        truncation: None,
    };
    assert!(write_wav_f32(dir.path().join("x.wav"), &audio).is_err());
}

#[test]
fn written_float_wav_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("round.wav");
    let audio = musicrec_audio::Audio {
        samples: (0..1000).map(|i| (i as f32 * 0.01).sin() * 0.7).collect(),
        sample_rate: 16_000,
        truncation: None,
    };
    write_wav_f32(&path, &audio).unwrap();
    assert_eq!(decode_file(&path).unwrap(), audio);
    assert_eq!(hound_mono(&path), (audio.samples.clone(), 16_000));
}

/// A float WAV whose data holds NaN, infinity or an absurd magnitude (what byte damage in
/// float samples produces) is rejected at decode with the reason, and `resample` refuses such
/// samples instead of failing inside the resampler (rubato, the one before libsoxr, panicked).
#[test]
fn non_finite_float_samples_are_rejected() {
    for (bad, expected) in [
        (f32::NAN, "non-finite sample (NaN)"),
        (f32::INFINITY, "non-finite sample (inf)"),
        (f32::NEG_INFINITY, "non-finite sample (-inf)"),
        (3.0e30, "magnitude 3e30"),
    ] {
        let mut samples: Vec<f32> = (0..20_000).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
        samples[12_345] = bad;
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let wav = wav_bytes(3, 1, 44_100, 32, data.len() as u32, &data);
        let err = decode_bytes(wav, None).unwrap_err();
        assert!(matches!(err, AudioError::Corrupt(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(expected) && text.contains("at mono sample 12345"),
            "{text}"
        );
        assert_one_line(&err);

        let err = resample(&samples, 44_100, 22_050).unwrap_err();
        assert!(matches!(err, AudioError::Resample(_)), "{err:?}");
    }
    // Loud but plausible float audio (well above full scale) still decodes.
    let loud: Vec<u8> = (0..20_000)
        .flat_map(|i| ((i as f32 * 0.01).sin() * 1000.0).to_le_bytes())
        .collect();
    let wav = wav_bytes(3, 1, 44_100, 32, loud.len() as u32, &loud);
    assert_eq!(decode_bytes(wav, None).unwrap().samples.len(), 20_000);
}
