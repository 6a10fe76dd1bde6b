//! Replays deterministic mutants of every real file in `../shared/data/formats` through the
//! whole front end (decode -> resample -> log-mel, both presets' rates): byte flips, runs of
//! 0xFF (NaN in float samples), truncations, inserted junk, and headers swapped between
//! formats. Each mutant runs on its own thread with a time bound: a panic anywhere (the
//! thread dies) or a hang (no answer in time) fails the test. A success must give finite
//! log-mel values; an error must be one line.
//!
//! The mutants come from a fixed xorshift seed, so a failure names a mutant that reproduces.
//! A cargo-fuzz target for open-ended search is in `fuzz/` (not part of the workspace).

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::shared_data;
use musicrec_features::{MelConfig, MelExtractor};

/// Mutants per file (11 files: 330 in all).
const MUTANTS_PER_FILE: usize = 30;
/// One mutant may take this long (the longest file, 61 s of Vorbis, takes well under a second).
const TIME_BOUND: Duration = Duration::from_secs(60);

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What was done to a file, for the failure message.
fn mutate(
    original: &[u8],
    donors: &[Vec<u8>],
    rng: &mut XorShift,
    kind: usize,
) -> (Vec<u8>, String) {
    let mut bytes = original.to_vec();
    let len = bytes.len();
    // Half the positions fall in the first 512 bytes, where the headers are.
    let pos = |rng: &mut XorShift| {
        if rng.next().is_multiple_of(2) {
            rng.below(len.min(512))
        } else {
            rng.below(len)
        }
    };
    let what = match kind % 6 {
        0 => {
            let mut flips = Vec::new();
            for _ in 0..1 + rng.below(8) {
                let at = pos(rng);
                let mask = 1u8 << rng.below(8);
                bytes[at] ^= mask;
                flips.push(at);
            }
            format!("bit flips at {flips:?}")
        }
        1 => {
            // 0xFF bytes: NaN in float samples, sync words and maximal sizes elsewhere.
            let at = rng.below(len);
            let run = 1 + rng.below(64);
            for b in bytes.iter_mut().skip(at).take(run) {
                *b = 0xff;
            }
            format!("{run} bytes of 0xff at {at}")
        }
        2 => {
            let at = pos(rng);
            bytes.truncate(at);
            format!("truncated to {at} bytes")
        }
        3 => {
            let at = rng.below(len);
            bytes.truncate(at);
            format!("truncated to {at} bytes (anywhere)")
        }
        4 => {
            let at = pos(rng);
            let junk: Vec<u8> = (0..1 + rng.below(300)).map(|_| rng.next() as u8).collect();
            let n = junk.len();
            bytes.splice(at..at, junk);
            format!("{n} junk bytes inserted at {at}")
        }
        _ => {
            // Another format's header on this file's body.
            let donor = &donors[rng.below(donors.len())];
            let head = 4 + rng.below(200);
            let n = head.min(donor.len()).min(len);
            bytes[..n].copy_from_slice(&donor[..n]);
            format!("first {n} bytes replaced by another file's header")
        }
    };
    (bytes, what)
}

/// decode -> resample -> log-mel; `Ok(frames)` or the one-line error.
fn front_end(bytes: Vec<u8>, hint: Option<String>) -> Result<usize, String> {
    let audio = musicrec_audio::decode_bytes(bytes, hint.as_deref()).map_err(|e| e.to_string())?;
    let mut frames = 0;
    for cfg in [MelConfig::librosa(), MelConfig::choi()] {
        let samples = musicrec_audio::resample(&audio.samples, audio.sample_rate, cfg.sample_rate)
            .map_err(|e| e.to_string())?;
        let mel = MelExtractor::new(&cfg).unwrap().log_mel(&samples);
        assert!(mel.data.iter().all(|v| v.is_finite()), "non-finite log-mel");
        frames += mel.n_frames;
    }
    Ok(frames)
}

#[test]
fn mutated_real_files_never_panic_or_hang() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("formats");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the formats/ files in {}",
        dir.display()
    );
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let donors: Vec<Vec<u8>> = originals
        .iter()
        .map(|b| b[..b.len().min(512)].to_vec())
        .collect();

    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut decoded, mut rejected, mut slowest) = (0usize, 0usize, Duration::ZERO);
    for (file, original) in files.iter().zip(&originals) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let hint = file.extension().map(|e| e.to_string_lossy().into_owned());
        for k in 0..MUTANTS_PER_FILE {
            let (bytes, what) = mutate(original, &donors, &mut rng, k);
            let (tx, rx) = mpsc::channel();
            let hint = hint.clone();
            let started = Instant::now();
            std::thread::spawn(move || {
                let _ = tx.send(front_end(bytes, hint));
            });
            match rx.recv_timeout(TIME_BOUND) {
                Ok(Ok(_)) => decoded += 1,
                Ok(Err(reason)) => {
                    assert!(
                        !reason.is_empty() && !reason.contains('\n'),
                        "{name} ({what}): {reason:?}"
                    );
                    rejected += 1;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("{name}, mutant {k} ({what}): the front end panicked")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("{name}, mutant {k} ({what}): no result within {TIME_BOUND:?}")
                }
            }
            slowest = slowest.max(started.elapsed());
        }
    }
    println!("{decoded} mutants decoded, {rejected} rejected with a reason, slowest {slowest:?}");
    assert_eq!(decoded + rejected, files.len() * MUTANTS_PER_FILE);
    assert!(files.len() * MUTANTS_PER_FILE >= 300);
}
