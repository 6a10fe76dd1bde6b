//! The training loop: Adam on binary cross-entropy (from logits, one-hot targets) over shuffled
//! mini-batches of log-mel windows; validation after every epoch (loss, track- and window-level
//! accuracy); the best weights by validation loss; early stopping; a checkpoint every epoch; and,
//! at the end, test-split accuracy of the best weights and the model card.
//!
//! Reproducibility: weights are initialised after seeding the device with the seed, and epoch `e`
//! shuffles with a ChaCha8 stream and reseeds the device (dropout) with values derived from
//! (seed, e) alone. So a run resumed after epoch `k` draws exactly what an uninterrupted run
//! draws in epochs `k+1...`, and with the optimizer state restored from the checkpoint it follows
//! the same trajectory.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use musicrec_datasets::window::{WindowConfig, windows};
use musicrec_features::LogMel;
use musicrec_model::burn::module::Module;
use musicrec_model::burn::nn::loss::{BinaryCrossEntropyLoss, BinaryCrossEntropyLossConfig};
use musicrec_model::burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use musicrec_model::burn::tensor::{Int, Tensor, TensorData};
use musicrec_model::{Device, GenreModel};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::checkpoint::{self, CheckpointState};
use crate::config::TrainConfig;
use crate::data::{Clip, TrainingData};
use crate::error::{Result, TrainError};
use crate::metrics::{EpochMetrics, plot_curves, write_metrics_csv};
// The report types live with the other measurements, so that the model card (which the loop
// writes at the end) reads them without importing the loop.
pub use crate::metrics::{Evaluation, TrainReport};
use crate::model_dir::{
    CONFIG_FILE, FORMAT_NAME, FORMAT_VERSION, MUSICREC_VERSION, ModelDir, ModelDirConfig,
    Provenance, WEIGHTS_FILE,
};
use crate::predict::{argmax, input_tensor, rows};

/// Adam as PyTorch configures it (epsilon 1e-8; Burn's default is 1e-5).
fn adam() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-8).init()
}

fn bce(device: &Device) -> BinaryCrossEntropyLoss {
    // Burn's logits form is (1 - t) x - log_sigmoid(x), stable for large |x|.
    BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(device)
}

/// A 64-bit seed for stream `what` of epoch `epoch`, derived from the run's seed only.
fn stream_seed(seed: u64, what: &str, epoch: usize) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    hasher.update(what.as_bytes());
    hasher.update(&(epoch as u64).to_le_bytes());
    let bytes = hasher.finalize();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// Trains (or, with `resume`, continues training) the model `config` describes into
/// `config.out`. Every check on options and data runs before the first batch.
pub fn train(config: &TrainConfig) -> Result<TrainReport> {
    config.validate()?;
    let mel = config.mel()?;
    let frames = config.window.frames(&mel)?;
    let hop = config.train_hop_frames.unwrap_or((frames / 2).max(1));
    let out = &config.out;
    let has_checkpoint = checkpoint::exists(out);
    if config.resume && !has_checkpoint {
        return Err(TrainError::Config(format!(
            "nothing to resume in {}: no checkpoint (no epoch has finished there); drop --resume to start",
            out.display()
        )));
    }
    if !config.resume && (has_checkpoint || out.join(CONFIG_FILE).exists()) {
        return Err(TrainError::Config(format!(
            "{} already holds a training run; pass --resume to continue it or choose another --out",
            out.display()
        )));
    }
    let device = config.device.device()?;
    let data = TrainingData::load(&config.manifest, &config.cache, &mel, &config.preset)?;
    let model_config =
        config
            .arch
            .model_config(data.genres.len(), mel.n_mels, config.width_scale)?;
    let dir_config = ModelDirConfig {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        musicrec_version: MUSICREC_VERSION.into(),
        arch: config.arch.as_str().into(),
        model: model_config.clone(),
        preset: Some(config.preset.to_ascii_lowercase()),
        mel: mel.clone(),
        genres: data.genres.clone(),
        window_frames: frames,
        train_hop_frames: hop,
        training: Provenance {
            manifest: config.manifest.clone(),
            manifest_blake3: data.manifest_blake3.clone(),
            split_seed: config.split_seed,
            seed: config.seed,
            batch_size: config.batch_size,
            learning_rate: config.learning_rate,
            max_epochs: config.epochs,
            patience: config.patience,
            width_scale: config.width_scale,
            device: config.device.as_str().into(),
        },
    };
    if config.resume {
        let stored = ModelDirConfig::read(out)?;
        let mismatches = stored.resume_mismatches(&dir_config);
        if !mismatches.is_empty() {
            return Err(TrainError::Config(format!(
                "cannot resume {}: the run was started with other settings ({}); use the same \
                 options or another --out",
                out.display(),
                mismatches.join("; ")
            )));
        }
    }

    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let model = model_config.init(&train_device)?;
    model.check_input([config.batch_size, 1, mel.n_mels, frames])?;
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    dir_config.write(out)?;
    let parameters = model.num_params();

    let (mut model, mut optimizer, mut state) = if config.resume {
        checkpoint::load(out, model, adam())?
    } else {
        let fresh = CheckpointState {
            epoch: 0,
            seed: config.seed,
            optimizer_steps: 0,
            history: Vec::new(),
            best_epoch: 0,
            best_val_loss: f64::INFINITY,
            training_secs: 0.0,
        };
        (model, adam(), fresh)
    };
    let resumed_after = state.epoch;
    if config.progress && resumed_after > 0 {
        eprintln!(
            "resuming {} after epoch {resumed_after} (best so far: epoch {}, validation loss {:.4})",
            out.display(),
            state.best_epoch,
            state.best_val_loss
        );
    }

    let loss_fn = bce(&train_device);
    let all_windows = data.train_windows(frames, hop);
    let n_genres = data.genres.len();
    let n_batches = all_windows.len().div_ceil(config.batch_size);
    let terminal = config.progress && std::io::stderr().is_terminal();
    let mut stopped_early = false;
    let mut interrupted = false;
    let mut epochs_this_session = 0;
    while state.epoch < config.epochs {
        if state.epoch > 0 && state.epoch - state.best_epoch >= config.patience {
            stopped_early = true;
            break;
        }
        if config
            .stop_after_epochs
            .is_some_and(|n| epochs_this_session >= n)
        {
            interrupted = true;
            break;
        }
        let epoch = state.epoch + 1;
        let started = Instant::now();
        let bar = epoch_bar(terminal, n_batches, epoch, config.epochs);
        let last_val = state.history.last().map_or(String::new(), |m| {
            format!("  last val loss {:.4} acc {:.3}", m.val_loss, m.val_acc)
        });

        train_device.seed(stream_seed(config.seed, "dropout", epoch));
        let mut order = all_windows.clone();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream_seed(
            config.seed,
            "shuffle",
            epoch,
        )));
        let (mut loss_sum, mut loss_count) = (0.0f64, 0usize);
        for batch in order.chunks(config.batch_size) {
            let (inputs, targets) = data.train_batch(batch, frames)?;
            let x = input_tensor(inputs, batch.len(), mel.n_mels, frames, &train_device);
            let y = Tensor::<2, Int>::from_data(
                TensorData::new(targets, [batch.len(), n_genres]),
                &train_device,
            );
            let loss = loss_fn.forward(model.forward(x)?, y);
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                bar.finish_and_clear();
                return Err(TrainError::Config(format!(
                    "training diverged (loss {value} in epoch {epoch}); lower --lr (now {})",
                    config.learning_rate
                )));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(config.learning_rate, model, grads);
            state.optimizer_steps += 1;
            loss_sum += value * batch.len() as f64;
            loss_count += batch.len();
            bar.set_message(format!(
                "loss {:.4}{last_val}",
                loss_sum / loss_count as f64
            ));
            bar.inc(1);
        }
        bar.set_message(format!(
            "loss {:.4}  validating...",
            loss_sum / loss_count.max(1) as f64
        ));

        let eval_model = model.valid();
        let val = evaluate(
            &eval_model,
            &device,
            &data,
            &data.validation,
            frames,
            config.batch_size,
        )?;
        let seconds = started.elapsed().as_secs_f64();
        bar.finish_and_clear();
        let metrics = EpochMetrics {
            epoch,
            train_loss: loss_sum / loss_count.max(1) as f64,
            val_loss: val.loss,
            val_acc: val.track_acc,
            lr: config.learning_rate,
            seconds,
            val_window_acc: val.window_acc,
        };
        let improved = val.loss < state.best_val_loss;
        if improved {
            state.best_val_loss = val.loss;
            state.best_epoch = epoch;
            // Written before the checkpoint: a kill in between redoes this epoch, which
            // (deterministic, see the module doc) writes the same weights again.
            eval_model.save_weights(&out.join(WEIGHTS_FILE))?;
        }
        state.history.push(metrics.clone());
        state.epoch = epoch;
        state.training_secs += seconds;
        write_metrics_csv(out, &state.history)?;
        plot_curves(out, &state.history)?;
        checkpoint::save(out, &model, &optimizer, &state)?;
        epochs_this_session += 1;
        if config.progress {
            let line = format!(
                "epoch {epoch}/{}: train loss {:.4}, val loss {:.4}, val acc {:.3} (window {:.3}), {:.1} s{}",
                config.epochs,
                metrics.train_loss,
                metrics.val_loss,
                metrics.val_acc,
                metrics.val_window_acc,
                seconds,
                if improved { ", best so far" } else { "" }
            );
            eprintln!("{line}");
        }
    }

    let mut report = TrainReport {
        out: out.clone(),
        history: state.history.clone(),
        best_epoch: state.best_epoch,
        resumed_after,
        stopped_early,
        interrupted,
        test: None,
        training_secs: state.training_secs,
        parameters,
    };
    if interrupted {
        return Ok(report);
    }
    if state.best_epoch == 0 {
        return Err(TrainError::Config(
            "no epoch produced a finite validation loss; nothing to keep".into(),
        ));
    }
    if !data.test.is_empty() {
        let best = ModelDir::load_on(out, config.device)?;
        report.test = Some(evaluate(
            best.model(),
            best.device(),
            &data,
            &data.test,
            frames,
            config.batch_size,
        )?);
    }
    crate::card::write_card(out, &dir_config, config, &data, &report)?;
    Ok(report)
}

fn epoch_bar(visible: bool, batches: usize, epoch: usize, epochs: usize) -> ProgressBar {
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(batches as u64), target);
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix} {bar:30} {pos}/{len} batches  {msg}  [{elapsed}<{eta}]",
        )
        .expect("static template is valid"),
    );
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

/// Loss and accuracies of `model` (eval mode, on `device`) over the non-overlapping windows of
/// `clips`.
pub(crate) fn evaluate(
    model: &GenreModel,
    device: &Device,
    data: &TrainingData,
    clips: &[Clip],
    frames: usize,
    batch_size: usize,
) -> Result<Evaluation> {
    let n_genres = data.genres.len();
    let loss_fn = bce(device);
    let window_config = WindowConfig::new(frames);
    let mut sums = vec![vec![0f64; n_genres]; clips.len()];
    let mut counts = vec![0usize; clips.len()];
    let (mut loss_sum, mut window_correct, mut n_windows) = (0f64, 0usize, 0usize);
    let mut pending: Vec<(usize, LogMel)> = Vec::new();

    let mut flush = |pending: &mut Vec<(usize, LogMel)>| -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let n = pending.len();
        let data: Vec<f32> = pending
            .iter()
            .flat_map(|(_, w)| w.data.iter().copied())
            .collect();
        let mut targets = vec![0i64; n * n_genres];
        for (row, (clip, _)) in pending.iter().enumerate() {
            targets[row * n_genres + clips[*clip].label] = 1;
        }
        let x = input_tensor(data, n, pending[0].1.n_mels, frames, device);
        let logits = model.forward(x)?;
        let y = Tensor::<2, Int>::from_data(TensorData::new(targets, [n, n_genres]), device);
        let loss = f64::from(loss_fn.forward(logits.clone(), y).into_scalar::<f32>());
        loss_sum += loss * n as f64;
        let probabilities = rows(musicrec_model::burn::tensor::activation::sigmoid(logits))?;
        for ((clip, _), p) in pending.iter().zip(&probabilities) {
            window_correct += usize::from(argmax(p) == clips[*clip].label);
            for (s, v) in sums[*clip].iter_mut().zip(p) {
                *s += f64::from(*v);
            }
            counts[*clip] += 1;
        }
        n_windows += n;
        pending.clear();
        Ok(())
    };
    for (i, clip) in clips.iter().enumerate() {
        let log_mel = data.log_mel(clip)?;
        for window in windows(&log_mel, &window_config) {
            pending.push((i, window));
            if pending.len() == batch_size {
                flush(&mut pending)?;
            }
        }
    }
    flush(&mut pending)?;

    let track_correct = sums
        .iter()
        .zip(clips)
        .filter(|(s, clip)| {
            let mean: Vec<f32> = s.iter().map(|&v| v as f32).collect();
            argmax(&mean) == clip.label
        })
        .count();
    Ok(Evaluation {
        loss: loss_sum / n_windows.max(1) as f64,
        track_acc: track_correct as f64 / clips.len().max(1) as f64,
        window_acc: window_correct as f64 / n_windows.max(1) as f64,
        tracks: clips.len(),
        windows: n_windows,
    })
}

/// Track-level accuracy of a loaded model directory on `clips` (tests and tools).
pub fn evaluate_model_dir(
    model: &ModelDir,
    data: &TrainingData,
    clips: &[Clip],
) -> Result<Evaluation> {
    evaluate(
        model.model(),
        model.device(),
        data,
        clips,
        model.config().window_frames,
        32,
    )
}
