//! Times one training step (forward, backward, Adam) and one inference batch of the default
//! CNN and CRNN on Burn's flex CPU backend, batch 16, at 96x256 and 96x1366 inputs.
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p musicrec-model --example bench_step [-- --quick]
//! ```
//! Prints one JSON object per (model, input) on stdout; `scripts/bench/models.py` runs this,
//! times PyTorch on the same thread count and prints the ratios. `--quick` does one timed
//! repetition instead of three; `--only crnn:256` times one (model, input) pair, which lets the
//! script alternate Burn and PyTorch round by round so that load from other processes hits both.

use std::time::Instant;

/// The allocator and setting the `musicrec` binary uses (crates/cli/src/allocator.rs: Burn's
/// per-op buffers are reused instead of page-faulted in again).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
/// `mi_option_purge_delay` in mimalloc.h.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

use burn::module::Module;
use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Int, Tensor};
use musicrec_model::{CnnConfig, CrnnConfig, Device, ModelConfig};

const BATCH: usize = 16;
const N_GENRES: usize = 50;
const N_MELS: usize = 96;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // SAFETY: sets a mimalloc runtime option (-1: never return freed memory to the kernel).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|arg| arg == "--quick");
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let repetitions = if quick { 1 } else { 3 };
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    for (name, config) in [
        ("crnn", ModelConfig::Crnn(CrnnConfig::new(N_GENRES))),
        ("cnn", ModelConfig::Cnn(CnnConfig::new(N_GENRES))),
    ] {
        for frames in [256, 1366] {
            if only
                .as_ref()
                .is_some_and(|pair| *pair != format!("{name}:{frames}"))
            {
                continue;
            }
            let train = time_train_step(&config, frames, repetitions)?;
            let infer = time_inference(&config, frames, repetitions)?;
            println!(
                "{{\"framework\": \"burn\", \"model\": \"{name}\", \"frames\": {frames}, \
                 \"batch\": {BATCH}, \"threads\": \"{threads}\", \"train_step_s\": {train:.4}, \
                 \"inference_s\": {infer:.4}}}"
            );
        }
    }
    Ok(())
}

/// Median seconds of a forward + backward + Adam step, after one warm-up step.
fn time_train_step(
    config: &ModelConfig,
    frames: usize,
    repetitions: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let device = Device::flex().autodiff();
    let mut model = config.init(&device)?;
    let mut optimizer = AdamConfig::new().init();
    let loss_fn = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(&device);
    let x: Tensor<4> = Tensor::random(
        [BATCH, 1, N_MELS, frames],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let targets: Tensor<2, Int> =
        Tensor::random([BATCH, N_GENRES], Distribution::Uniform(0.0, 2.0), &device);
    let mut times = Vec::new();
    for step in 0..=repetitions {
        let start = Instant::now();
        let loss = loss_fn.forward(model.forward(x.clone())?, targets.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-3, model, grads);
        // Reading the loss back makes sure nothing is still queued (flex is eager anyway).
        let _ = loss.into_data();
        if step > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    Ok(median(times))
}

/// Median seconds of an eval-mode forward pass, after one warm-up pass.
fn time_inference(
    config: &ModelConfig,
    frames: usize,
    repetitions: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let device = Device::flex();
    let model = config.init(&device)?.valid();
    let x: Tensor<4> = Tensor::random(
        [BATCH, 1, N_MELS, frames],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let mut times = Vec::new();
    for pass in 0..=repetitions {
        let start = Instant::now();
        let _ = model.forward(x.clone())?.into_data();
        if pass > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    Ok(median(times))
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
