//! A long lossy file decoded on several threads (the caller's rayon pool, one segment per
//! thread, each after a pre-roll) against the same file decoded on one thread. The files are
//! made in the test with ffmpeg (`.ci/apt/audio.txt`) from `dubstep.wav` looped to 68.5 s, so
//! that 3 threads cut it into 3 segments of at least 20 s.

mod common;

use std::path::Path;

use common::*;
use musicrec_audio::{Audio, decode_file};

fn decode_on(threads: usize, path: &Path) -> Audio {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| decode_file(path).unwrap())
}

#[test]
fn long_lossy_files_decode_the_same_on_several_threads() {
    let (Some(data), Some(ffmpeg)) = (shared_data(), tool("ffmpeg")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = data.join("formats/dubstep.wav");
    // (file, encoder, whether the split decode must be bit-exact)
    let cases = [
        ("long.opus", "libopus", false),
        ("long.ogg", "libvorbis", true),
        ("long.mp3", "libmp3lame", true),
        // AAC is not split (see SPLIT_CODECS): it must come out the same on any pool.
        ("long.m4a", "aac", true),
    ];
    for (name, encoder, exact) in cases {
        let path = dir.path().join(name);
        run(
            &ffmpeg,
            &[
                "-v",
                "error",
                "-stream_loop",
                "9",
                "-i",
                source.to_str().unwrap(),
                "-c:a",
                encoder,
                "-b:a",
                "96k",
                path.to_str().unwrap(),
            ],
        );
        let serial = decode_on(1, &path);
        let parallel = decode_on(3, &path);
        assert!(
            serial.duration_secs() > 60.0,
            "{name}: {}",
            serial.duration_secs()
        );
        assert_eq!(serial.sample_rate, parallel.sample_rate, "{name}");
        assert_eq!(serial.samples.len(), parallel.samples.len(), "{name}");
        let (mut worst, mut diff_energy, mut energy) = (0.0f32, 0.0f64, 0.0f64);
        for (&a, &b) in serial.samples.iter().zip(&parallel.samples) {
            worst = worst.max((a - b).abs());
            diff_energy += f64::from(a - b).powi(2);
            energy += f64::from(a).powi(2);
        }
        let relative_rms = (diff_energy / energy).sqrt();
        eprintln!("{name}: max |serial - parallel| {worst:e}, relative RMS {relative_rms:e}");
        if exact {
            assert!(
                worst == 0.0,
                "{name}: not bit-exact (max difference {worst:e})"
            );
        } else {
            assert!(
                worst < 1e-4 && relative_rms < 1e-5,
                "{name}: max difference {worst:e}, relative RMS {relative_rms:e}"
            );
        }
    }
}
