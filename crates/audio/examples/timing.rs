//! Times decoding (file and in-memory) and resampling to 22 050 Hz; the best of N runs.
//!
//! `cargo run --release -p musicrec-audio --example timing -- FILE...`

use std::time::Instant;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<(), musicrec_audio::AudioError> {
    for path in std::env::args().skip(1) {
        let audio = musicrec_audio::decode_file(&path)?;
        let bytes = std::fs::read(&path)?;
        let file = best_of(30, || musicrec_audio::decode_file(&path));
        let memory = best_of(30, || musicrec_audio::decode_bytes(bytes.clone(), None));
        let resample = best_of(30, || {
            musicrec_audio::resample(&audio.samples, audio.sample_rate, 22_050)
        });
        println!(
            "{path}: {:.2} s at {} Hz | decode file {:.3} ms, bytes {:.3} ms ({:.0}x real time) | resample to 22050 {:.3} ms",
            audio.duration_secs(),
            audio.sample_rate,
            file * 1e3,
            memory * 1e3,
            audio.duration_secs() / file,
            resample * 1e3,
        );
    }
    Ok(())
}
