//! Training checkpoints: after every epoch, everything needed to continue as if never stopped.
//!
//! ```text
//! MODEL_DIR/checkpoint/
//!   latest                 name of the newest complete checkpoint folder (replaced atomically)
//!   epoch-0007/
//!     model.bpk            model weights with their Burn parameter ids (burnpack)
//!     optimizer.bpk        Adam's moments and step counts, keyed by those ids (burnpack)
//!     state.json           epoch, seed, metrics so far, best epoch, optimizer steps, time
//! ```
//!
//! A checkpoint folder is written under a temporary name and renamed into place, then `latest`
//! is replaced (temp file + rename), then older folders are removed. A kill at any moment leaves
//! `latest` naming a complete folder (or no `latest` before the first epoch ends).
//!
//! Burnpack rather than SafeTensors for the model: the optimizer state is keyed by parameter id,
//! and only burnpack stores those ids, so a resumed Adam finds its moments again. The random
//! state needs no file: shuffling and dropout are reseeded from (seed, epoch) at every epoch.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use musicrec_model::GenreModel;
use musicrec_model::burn::module::Module;
use musicrec_model::burn::optim::{ModuleOptimizer, OptimizerRecord};
use musicrec_model::burn::store::burn_pack::Reader;
use musicrec_model::burn::store::{BurnpackStore, ModuleSnapshot};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::metrics::EpochMetrics;
use crate::model_dir::write_file_atomically;

/// The checkpoint folder inside a model directory.
pub const CHECKPOINT_DIR: &str = "checkpoint";
const LATEST: &str = "latest";
const MODEL_FILE: &str = "model.bpk";
const OPTIMIZER_FILE: &str = "optimizer.bpk";
const STATE_FILE: &str = "state.json";

/// The scalar part of a checkpoint (`state.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Epochs completed.
    pub epoch: usize,
    /// The training seed; epoch `e` shuffles and drops out with streams derived from (seed, e).
    pub seed: u64,
    /// Optimizer steps taken so far (batches).
    pub optimizer_steps: u64,
    /// Every epoch's metrics so far.
    pub history: Vec<EpochMetrics>,
    /// Epoch with the lowest validation loss (its weights are `weights.safetensors`).
    pub best_epoch: usize,
    pub best_val_loss: f64,
    /// Training seconds so far, over all sessions.
    pub training_secs: f64,
}

/// Whether `model_dir` holds a checkpoint to resume from.
pub fn exists(model_dir: &Path) -> bool {
    latest_dir(model_dir).is_some_and(|dir| dir.join(STATE_FILE).is_file())
}

fn latest_dir(model_dir: &Path) -> Option<PathBuf> {
    let root = model_dir.join(CHECKPOINT_DIR);
    let name = std::fs::read_to_string(root.join(LATEST)).ok()?;
    let name = name.trim();
    (!name.is_empty() && !name.contains(['/', '\\'])).then(|| root.join(name))
}

/// Writes the checkpoint of `state.epoch` (see the module doc for the crash-safe order).
pub fn save(
    model_dir: &Path,
    model: &GenreModel,
    optimizer: &ModuleOptimizer,
    state: &CheckpointState,
) -> Result<()> {
    let root = model_dir.join(CHECKPOINT_DIR);
    std::fs::create_dir_all(&root).map_err(|e| TrainError::io(&root, e))?;
    let name = format!("epoch-{:04}", state.epoch);
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&root)
        .map_err(|e| TrainError::io(&root, e))?;

    // `valid()` first: it syncs the batch-norm running statistics (Burn lags them one update)
    // and keeps the parameter ids the optimizer record refers to.
    let model_path = staging.path().join(MODEL_FILE);
    let mut store = BurnpackStore::from_file(&model_path).overwrite(true);
    model
        .valid()
        .save_into(&mut store)
        .map_err(|e| TrainError::checkpoint(&model_path, e))?;
    let optimizer_path = staging.path().join(OPTIMIZER_FILE);
    optimizer
        .save(&optimizer_path)
        .map_err(|e| TrainError::checkpoint(&optimizer_path, e))?;
    let state_path = staging.path().join(STATE_FILE);
    let json = serde_json::to_vec_pretty(state).expect("checkpoint state serialises");
    write_file_atomically(&state_path, &json)?;

    let target = root.join(&name);
    if target.exists() {
        // Left by a run killed between this rename and the `latest` update; `latest` does not
        // name it (it names an older epoch), so it is safe to replace.
        std::fs::remove_dir_all(&target).map_err(|e| TrainError::io(&target, e))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &target).map_err(|e| TrainError::io(&target, e))?;
    write_file_atomically(&root.join(LATEST), name.as_bytes())?;
    remove_all_but(&root, &name);
    Ok(())
}

/// Removes every other checkpoint folder and staging leftover; failures only cost disk space.
fn remove_all_but(root: &Path, keep: &str) {
    for item in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = item.file_name();
        let name = name.to_string_lossy();
        if item.path().is_dir()
            && name != keep
            && (name.starts_with("epoch-") || name.starts_with(".staging-"))
        {
            let _ = std::fs::remove_dir_all(item.path());
        }
    }
}

/// The newest checkpoint of `model_dir`, loaded into `model` (a fresh model of the same config on
/// the training device) and `optimizer` (a fresh optimizer of the same config).
pub fn load(
    model_dir: &Path,
    mut model: GenreModel,
    optimizer: ModuleOptimizer,
) -> Result<(GenreModel, ModuleOptimizer, CheckpointState)> {
    let dir = latest_dir(model_dir).ok_or_else(|| {
        TrainError::checkpoint(
            model_dir.join(CHECKPOINT_DIR),
            "no checkpoint to resume from (no epoch has finished yet); drop --resume to start",
        )
    })?;
    let state_path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).map_err(|e| TrainError::io(&state_path, e))?;
    let state: CheckpointState =
        serde_json::from_str(&text).map_err(|e| TrainError::checkpoint(&state_path, e))?;

    let model_path = dir.join(MODEL_FILE);
    let mut store = BurnpackStore::from_file(&model_path);
    let applied = model
        .load_from(&mut store)
        .map_err(|e| TrainError::checkpoint(&model_path, e))?;
    if !applied.errors.is_empty() || !applied.missing.is_empty() || !applied.unused.is_empty() {
        return Err(TrainError::checkpoint(
            &model_path,
            format!(
                "does not fit the model: {} errors, {} missing, {} unused tensors",
                applied.errors.len(),
                applied.missing.len(),
                applied.unused.len()
            ),
        ));
    }
    let optimizer_path = dir.join(OPTIMIZER_FILE);
    check_optimizer_state(&model_path, &optimizer_path, state.optimizer_steps)?;
    let record = OptimizerRecord::load(&optimizer_path)
        .map_err(|e| TrainError::checkpoint(&optimizer_path, e))?;
    Ok((model, optimizer.load_record(record), state))
}

/// Parameter ids of the tensors in a burnpack file.
fn param_ids(path: &Path) -> Result<BTreeSet<u64>> {
    let tensors = Reader::from_file(path)
        .and_then(Reader::into_tensors)
        .map_err(|e| TrainError::checkpoint(path, e))?;
    Ok(tensors.iter().filter_map(|t| t.param_id).collect())
}

/// Burn's `load_record` accepts any record and silently ignores state whose parameter ids are
/// not in the model, which would resume with a fresh Adam. Refuse that: after any step the
/// optimizer state must exist and belong to the checkpoint's own parameters.
fn check_optimizer_state(model_path: &Path, optimizer_path: &Path, steps: u64) -> Result<()> {
    if steps == 0 {
        return Ok(());
    }
    let model_ids = param_ids(model_path)?;
    let optimizer_ids = param_ids(optimizer_path)?;
    if optimizer_ids.is_empty() {
        return Err(TrainError::checkpoint(
            optimizer_path,
            "holds no optimizer state",
        ));
    }
    let foreign = optimizer_ids.difference(&model_ids).count();
    if foreign > 0 {
        return Err(TrainError::checkpoint(
            optimizer_path,
            format!(
                "optimizer state does not belong to this checkpoint's model ({foreign} of {} \
                 parameter ids unknown)",
                optimizer_ids.len()
            ),
        ));
    }
    Ok(())
}

/// Number of Adam moment tensors stored in the newest checkpoint of `model_dir` (tests use it to
/// see that a resumed run restored, not reset, the optimizer).
pub fn optimizer_tensors(model_dir: &Path) -> Result<usize> {
    let dir = latest_dir(model_dir)
        .ok_or_else(|| TrainError::checkpoint(model_dir.join(CHECKPOINT_DIR), "no checkpoint"))?;
    let path = dir.join(OPTIMIZER_FILE);
    Ok(OptimizerRecord::load(&path)
        .map_err(|e| TrainError::checkpoint(&path, e))?
        .len())
}

/// The state of the newest checkpoint of `model_dir`.
pub fn read_state(model_dir: &Path) -> Result<CheckpointState> {
    let dir = latest_dir(model_dir)
        .ok_or_else(|| TrainError::checkpoint(model_dir.join(CHECKPOINT_DIR), "no checkpoint"))?;
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| TrainError::checkpoint(&path, e))
}
