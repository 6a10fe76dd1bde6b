//! The front end alone (decode -> resample -> log-mel -> .npy), for `scripts/bench/frontend.py`
//! and profiling: what `musicrec features` does per file, without the CLI around it.
//!
//! `cargo run --release -p musicrec-features --example frontend -- --preset librosa --jobs 1 [--out DIR] FILE...`
//!
//! Prints one line: files, seconds of audio, wall seconds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use musicrec_features::{MelConfig, MelExtractor, write_npy};
use rayon::prelude::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut preset, mut jobs, mut out, mut files) =
        ("librosa".to_owned(), 1usize, None, Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--preset" => preset = args.next().expect("--preset NAME"),
            "--jobs" => jobs = args.next().and_then(|j| j.parse().ok()).expect("--jobs N"),
            "--out" => out = Some(std::path::PathBuf::from(args.next().expect("--out DIR"))),
            _ => files.push(std::path::PathBuf::from(arg)),
        }
    }
    let cfg = MelConfig::from_preset(&preset).unwrap_or_else(|| panic!("unknown preset {preset}"));
    let extractor = MelExtractor::new(&cfg).unwrap();
    let audio_frames = AtomicUsize::new(0);
    // One rayon pool of `jobs` threads, as `musicrec features` runs: files are spread over its
    // threads, and a long file's decoding, resampling and STFT over the threads left idle.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .unwrap();
    let started = Instant::now();
    pool.install(|| {
        files.par_iter().for_each(|file| {
            let audio = musicrec_audio::load(file, Some(cfg.sample_rate))
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let mel = extractor.log_mel(&audio.samples);
            audio_frames.fetch_add(audio.samples.len(), Ordering::Relaxed);
            if let Some(dir) = &out {
                let name = file.file_stem().unwrap().to_string_lossy();
                write_npy(dir.join(format!("{name}.npy")), &mel).unwrap();
            } else {
                std::hint::black_box(&mel);
            }
        })
    });
    let wall = started.elapsed().as_secs_f64();
    let audio_secs = audio_frames.into_inner() as f64 / f64::from(cfg.sample_rate);
    println!(
        "{} files, {audio_secs:.1} s of audio, {wall:.4} s wall",
        files.len()
    );
}
