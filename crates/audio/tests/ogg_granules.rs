//! An Ogg Vorbis stream whose pages carry non-monotonic granule positions (some ffmpeg filter
//! graphs write such files) must decode every sample, as ffmpeg and libsndfile do. The test
//! makes the file itself: the real 61 s Vorbis file of `formats/` with the granule position of
//! every fifth page moved 3000 frames before the previous page's (page CRCs recomputed), then
//! compares our sample count and waveform with ffmpeg's decode of the same bytes.

mod common;

use std::process::Command;

use common::*;
use musicrec_audio::decode_bytes;

/// Ogg's CRC-32 (polynomial 0x04c11db7, no reflection, initial value 0), over the page with its
/// checksum field zeroed.
fn ogg_crc(bytes: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &byte in bytes {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Rewrites the granule position of every fifth page (after the headers) to run backwards.
/// Returns the bytes and how many pages were changed.
fn with_backward_granules(mut ogg: Vec<u8>) -> (Vec<u8>, usize) {
    let (mut at, mut page, mut changed, mut previous) = (0usize, 0usize, 0usize, None::<i64>);
    while at + 27 <= ogg.len() {
        assert_eq!(&ogg[at..at + 4], b"OggS", "page {page} at byte {at}");
        let segments = usize::from(ogg[at + 26]);
        let body: usize = ogg[at + 27..at + 27 + segments]
            .iter()
            .map(|&s| usize::from(s))
            .sum();
        let len = 27 + segments + body;
        let granule = i64::from_le_bytes(ogg[at + 6..at + 14].try_into().unwrap());
        if page > 3
            && page % 5 == 0
            && granule != -1
            && let Some(previous) = previous
        {
            ogg[at + 6..at + 14].copy_from_slice(&(previous - 3000).to_le_bytes());
            ogg[at + 22..at + 26].fill(0);
            let crc = ogg_crc(&ogg[at..at + len]);
            ogg[at + 22..at + 26].copy_from_slice(&crc.to_le_bytes());
            changed += 1;
        }
        if granule != -1 {
            previous = Some(granule);
        }
        at += len;
        page += 1;
    }
    (ogg, changed)
}

#[test]
fn backward_granule_positions_lose_no_samples() {
    let (Some(data), Some(ffmpeg)) = (shared_data(), tool("ffmpeg")) else {
        return;
    };
    let original = std::fs::read(data.join("formats/vibe-ace-kevin-macleod.ogg")).unwrap();
    let (odd, changed) = with_backward_granules(original.clone());
    assert!(changed > 50, "{changed} pages changed");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.ogg");
    std::fs::write(&path, &odd).unwrap();
    let output = Command::new(&ffmpeg)
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "f32le", "-ac", "1", "-"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: Vec<f32> = output
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();

    let ours = decode_bytes(odd, None).unwrap();
    let intact = decode_bytes(original, None).unwrap();
    eprintln!(
        "{changed} pages changed: ffmpeg {} samples, ours {} (intact file: {})",
        reference.len(),
        ours.samples.len(),
        intact.samples.len()
    );
    // The granule positions only ever trim the final page's padding: the damaged file decodes
    // to exactly the samples of the intact one, and ffmpeg's count within one Vorbis block.
    assert_eq!(ours.samples, intact.samples);
    assert!(
        ours.samples.len().abs_diff(reference.len()) <= 2048,
        "ours {} vs ffmpeg {}",
        ours.samples.len(),
        reference.len()
    );
    // Still aligned over the last 4.5 s (a lost packet shifts everything after it).
    let tail = reference.len().min(ours.samples.len()) - 200_000;
    let lag = best_lag(&reference[tail..], &ours.samples[tail..], 64);
    assert_eq!(lag, 0, "waveform shifted by {lag} samples near the end");
    // ffmpeg's `-ac 1` mixes at its own gain: compare the shape, not the level.
    let end = tail + 200_000;
    let r = correlation(&reference[tail..end], &ours.samples[tail..end]);
    eprintln!("last 4.5 s: lag {lag}, correlation with ffmpeg {r:.4}");
    assert!(
        r > 0.99,
        "the last 4.5 s differ from ffmpeg's: correlation {r:.4}"
    );
}
