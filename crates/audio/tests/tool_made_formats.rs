//! Formats not in `shared/data`, made in the test from `dubstep.wav`/`.aac` with the tools in
//! `.ci/apt/audio.txt` (missing tools fail under `CI=true`): Ogg Opus, AIFF, M4A (remuxed ADTS,
//! remuxed with an `iTunSMPB` tag, and freshly encoded with an edit list), and an AC-3 track
//! as an unsupported codec.

mod common;

use std::path::Path;

use common::*;
use musicrec_audio::{AudioError, decode_file};

fn dubstep(data: &Path) -> std::path::PathBuf {
    data.join("formats/dubstep.wav")
}

#[test]
fn aiff_from_sox_equals_the_wav() {
    let (Some(data), Some(sox)) = (shared_data(), tool("sox")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let aiff = dir.path().join("dubstep.aiff");
    run(
        &sox,
        &[dubstep(&data).to_str().unwrap(), aiff.to_str().unwrap()],
    );
    assert_eq!(
        decode_file(&aiff).unwrap(),
        decode_file(dubstep(&data)).unwrap()
    );
}

#[test]
fn opus_from_opusenc_lines_up_with_its_48k_source() {
    let (Some(data), Some(ffmpeg), Some(opusenc)) =
        (shared_data(), tool("ffmpeg"), tool("opusenc"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Opus always decodes at 48 kHz, so the reference is the 48 kHz WAV opusenc was fed.
    let source = dir.path().join("dubstep48.wav");
    let opus = dir.path().join("dubstep.opus");
    let src = dubstep(&data);
    run(
        &ffmpeg,
        &[
            "-v",
            "error",
            "-i",
            src.to_str().unwrap(),
            "-ar",
            "48000",
            source.to_str().unwrap(),
        ],
    );
    run(
        &opusenc,
        &[
            "--quiet",
            "--bitrate",
            "128",
            source.to_str().unwrap(),
            opus.to_str().unwrap(),
        ],
    );
    let reference = decode_file(&source).unwrap();
    let decoded = decode_file(&opus).unwrap();
    assert_eq!(decoded.sample_rate, 48_000);
    // Pre-skip and the end granule trim exactly: same length as the source.
    assert_eq!(decoded.samples.len(), reference.samples.len());
    assert_lossy_agrees("opus", &reference.samples, 48_000, &decoded.samples, 0);
}

#[test]
fn m4a_gapless_info_is_applied() {
    let (Some(data), Some(ffmpeg), Some(atomicparsley)) =
        (shared_data(), tool("ffmpeg"), tool("AtomicParsley"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wav = decode_file(dubstep(&data)).unwrap();
    let adts_path = data.join("formats/dubstep.aac");
    let adts = decode_file(&adts_path).unwrap();

    // Remuxed ADTS: same packets, and no delay info to apply (ffmpeg writes media_time 0).
    let remux = dir.path().join("remux.m4a");
    run(
        &ffmpeg,
        &[
            "-v",
            "error",
            "-i",
            adts_path.to_str().unwrap(),
            "-c",
            "copy",
            remux.to_str().unwrap(),
        ],
    );
    assert_eq!(decode_file(&remux).unwrap(), adts);

    // The same file with iTunes' gapless tag: 1024 priming frames, 302 080 valid frames.
    let tagged = dir.path().join("tagged.m4a");
    run(
        &atomicparsley,
        &[
            remux.to_str().unwrap(),
            "--rDNSatom",
            " 00000000 00000400 00000000 0000000000049C00",
            "name=iTunSMPB",
            "domain=com.apple.iTunes",
            "-o",
            tagged.to_str().unwrap(),
        ],
    );
    let gapless = decode_file(&tagged).unwrap();
    assert_eq!(gapless.samples.len(), 0x49C00);
    assert_eq!(gapless.samples[..], adts.samples[1024..1024 + 0x49C00]);
    assert_lossy_agrees("m4a iTunSMPB", &wav.samples, 44_100, &gapless.samples, 0);

    // A fresh AAC encode: ffmpeg declares its 1024 priming frames in the edit list.
    let encoded = dir.path().join("encoded.m4a");
    run(
        &ffmpeg,
        &[
            "-v",
            "error",
            "-i",
            dubstep(&data).to_str().unwrap(),
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            encoded.to_str().unwrap(),
        ],
    );
    let decoded = decode_file(&encoded).unwrap();
    assert_eq!(decoded.samples.len(), wav.samples.len());
    assert_lossy_agrees("m4a edit list", &wav.samples, 44_100, &decoded.samples, 0);
}

#[test]
fn an_unsupported_codec_is_a_one_line_error() {
    let (Some(data), Some(ffmpeg)) = (shared_data(), tool("ffmpeg")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for container in ["mka", "m4a"] {
        let ac3 = dir.path().join(format!("ac3.{container}"));
        let src = dubstep(&data);
        run(
            &ffmpeg,
            &[
                "-v",
                "error",
                "-i",
                src.to_str().unwrap(),
                "-t",
                "1",
                "-c:a",
                "ac3",
                ac3.to_str().unwrap(),
            ],
        );
        let err = decode_file(&ac3).unwrap_err();
        assert!(
            matches!(err, AudioError::UnsupportedCodec(_)),
            "{container}: {err:?}"
        );
        assert!(!err.to_string().contains('\n'));
    }
}
