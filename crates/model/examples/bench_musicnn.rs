//! Times the MusiCNN forward pass (built-in MSD weights, Burn's flex CPU backend) on log-mel
//! patches, and the whole analysis of audio files (decode -> resample -> musicnn log-mel ->
//! patches -> network -> mean penultimate) in x real time.
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p musicrec-model --example bench_musicnn -- \
//!     [--patches FILE.f32 --n-patches N] [--batch B] [--reps R] [--audio FILE]...
//! ```
//! `--patches`: raw little-endian float32 `[N, 187, 96]` log-mel patches (what
//! `scripts/bench/musicnn.py` writes, so that TensorFlow times the same input); without it, N
//! patches of a synthetic log-mel. Prints one JSON object per measurement on stdout; the script
//! runs this and TensorFlow at the same thread count and prints the ratio.

use std::time::Instant;

/// The allocator and setting the `musicrec` binary uses (crates/cli/src/allocator.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
/// `mi_option_purge_delay` in mimalloc.h.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

use burn::tensor::{Tensor, TensorData};
use musicrec_features::{MelConfig, MelExtractor};
use musicrec_model::Device;
use musicrec_model::musicnn::{self, MusicnnVariant, N_MELS, PATCH_FRAMES};

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // SAFETY: sets a mimalloc runtime option (-1: never return freed memory to the kernel).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    let args: Vec<String> = std::env::args().collect();
    let batch: usize = arg(&args, "--batch").unwrap_or(8);
    let reps: usize = arg(&args, "--reps").unwrap_or(3);
    let n_patches: usize = arg(&args, "--n-patches").unwrap_or(16);
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    let device = Device::flex();
    let model = musicnn::built_in(MusicnnVariant::Msd, &device)?;

    let patch_len = PATCH_FRAMES * N_MELS;
    let values: Vec<f32> = match arg::<String>(&args, "--patches") {
        Some(path) => std::fs::read(path)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        None => (0..n_patches * patch_len)
            .map(|i| 1.5 + (i as f32 * 0.618).sin())
            .collect(),
    };
    let n_patches = values.len() / patch_len;
    assert!(n_patches > 0, "no patches");
    let all = Tensor::<3>::from_data(
        TensorData::new(values, [n_patches, PATCH_FRAMES, N_MELS]),
        &device,
    );

    // Forward pass in batches of `batch`, over all patches; the best of `reps` runs.
    let run_all = || {
        let mut start = 0;
        while start < n_patches {
            let end = (start + batch).min(n_patches);
            #[allow(clippy::single_range_in_vec_init)] // Burn slices the first dimension
            let out = model.forward(all.clone().slice([start..end]));
            std::hint::black_box(out.penultimate.into_data());
            start = end;
        }
    };
    run_all(); // warm-up
    let best = (0..reps)
        .map(|_| {
            let t = Instant::now();
            run_all();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    let per_patch = best / n_patches as f64;
    println!(
        "{{\"framework\": \"burn\", \"what\": \"forward\", \"patches\": {n_patches}, \"batch\": {batch}, \
         \"threads\": \"{threads}\", \"ms_per_patch\": {:.3}, \"x_real_time\": {:.1}}}",
        per_patch * 1e3,
        // One patch is 187 hops of 256 samples at 16 kHz: 2.99 s of audio.
        PATCH_FRAMES as f64 * 256.0 / 16_000.0 / per_patch
    );

    // Whole analysis of each audio file: decode, resample, log-mel, all patches, network.
    let extractor = MelExtractor::new(&MelConfig::musicnn())?;
    for path in args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i > 0 && args[i - 1] == "--audio")
        .map(|(_, p)| p)
    {
        let analyse = || -> Result<(f64, usize), Box<dyn std::error::Error>> {
            let audio = musicrec_audio::load(path, Some(16_000))?;
            let mel = extractor.log_mel(&audio.samples);
            let starts = musicnn::patch_starts(mel.n_frames);
            let mut sum = vec![0.0f32; musicnn::PENULTIMATE_DIM];
            for chunk in starts.chunks(batch) {
                let x = musicnn::patches(&mel.data, mel.n_mels, mel.n_frames, chunk, &device)?;
                let pen = model
                    .forward(x)
                    .penultimate
                    .into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| format!("{e:?}"))?;
                for row in pen.chunks_exact(musicnn::PENULTIMATE_DIM) {
                    for (s, v) in sum.iter_mut().zip(row) {
                        *s += v;
                    }
                }
            }
            std::hint::black_box(sum);
            Ok((audio.duration_secs(), starts.len()))
        };
        analyse()?; // warm-up
        let mut best = f64::INFINITY;
        let mut info = (0.0, 0);
        for _ in 0..reps {
            let t = Instant::now();
            info = analyse()?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{{\"framework\": \"burn\", \"what\": \"track\", \"file\": \"{path}\", \"seconds\": {:.1}, \
             \"patches\": {}, \"threads\": \"{threads}\", \"analysis_s\": {best:.3}, \"x_real_time\": {:.1}}}",
            info.0,
            info.1,
            info.0 / best
        );
    }
    Ok(())
}
