//! Saving and loading model weights as SafeTensors files (via burn-store).
//!
//! SafeTensors rather than Burn's own burnpack: the same file opens in Python
//! (`safetensors.torch.load_file`), which is how the PyTorch golden weights get in. Tensor
//! names are the module paths (`blocks.0.conv.weight`, `grus.1.new_gate.hidden_transform.bias`,
//! batch-norm `gamma`/`beta`/`running_mean`/`running_var`); dense weights are Burn's
//! `[in, out]` layout. Enum variant names are left out of the paths, so a [`crate::GenreModel`]
//! file is the same as one written from the bare [`crate::Cnn`] / [`crate::Crnn`]. Loading checks every name, shape and dtype against the model first, so a
//! file from another architecture or width is a one-line error, never a panic.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, ModuleStore, SafetensorsStore};

use crate::ModelError;

/// Writes every parameter and batch-norm running statistic of `model` to `path`
/// (overwriting an existing file atomically).
pub fn save_weights<M: Module>(model: &M, path: &Path) -> Result<(), ModelError> {
    // Burn's running statistics lag one update behind until synced, and visiting a module
    // does not sync them; `valid()` does (and drops the autodiff graph we do not need).
    let model = model.valid();
    let mut store = SafetensorsStore::from_file(path)
        .overwrite(true)
        .skip_enum_variants(true);
    model
        .save_into(&mut store)
        .map_err(|err| weights_error(path, err.to_string()))
}

/// Loads `path` into `model`, which must have the same architecture and widths as the model
/// that wrote it (build it from the same config first).
pub fn load_weights<M: Module>(model: M, path: &Path) -> Result<M, ModelError> {
    if !path.is_file() {
        return Err(weights_error(path, "no such file".into()));
    }
    let store = SafetensorsStore::from_file(path).skip_enum_variants(true);
    load_from_store(model, store, path)
}

/// Loads the bytes of a SafeTensors file (e.g. weights built into a binary) into `model`, with
/// the same checks as [`load_weights`]; `name` stands for the file in messages.
pub fn load_weights_from_bytes<M: Module>(
    model: M,
    bytes: &[u8],
    name: &Path,
) -> Result<M, ModelError> {
    let store = SafetensorsStore::from_bytes(Some(bytes.to_vec())).skip_enum_variants(true);
    load_from_store(model, store, name)
}

fn load_from_store<M: Module>(
    mut model: M,
    mut store: SafetensorsStore,
    path: &Path,
) -> Result<M, ModelError> {
    let expected: BTreeMap<String, (String, String)> = model
        .collect(None, None, true)
        .into_iter()
        .map(|t| {
            (
                t.name,
                (
                    format!("{:?}", t.shape.as_slice()),
                    format!("{:?}", t.dtype),
                ),
            )
        })
        .collect();
    let found: BTreeMap<String, (String, String)> = store
        .get_all_tensors()
        .map_err(|err| weights_error(path, format!("not a readable SafeTensors file: {err}")))?
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                (
                    format!("{:?}", t.shape.as_slice()),
                    format!("{:?}", t.dtype),
                ),
            )
        })
        .collect();

    let missing: Vec<&str> = expected
        .keys()
        .filter(|name| !found.contains_key(*name))
        .map(String::as_str)
        .collect();
    let unexpected: Vec<&str> = found
        .keys()
        .filter(|name| !expected.contains_key(*name))
        .map(String::as_str)
        .collect();
    let mismatched: Vec<String> = expected
        .iter()
        .filter_map(|(name, want)| {
            let got = found.get(name)?;
            (got != want).then(|| {
                format!(
                    "{name}: model {} {}, file {} {}",
                    want.0, want.1, got.0, got.1
                )
            })
        })
        .collect();
    if !missing.is_empty() || !unexpected.is_empty() || !mismatched.is_empty() {
        return Err(weights_error(
            path,
            format!(
                "does not match this model (different architecture or config?): \
                 {} missing [{}], {} unexpected [{}], {} mismatched [{}]",
                missing.len(),
                first_few(&missing),
                unexpected.len(),
                first_few(&unexpected),
                mismatched.len(),
                first_few(&mismatched)
            ),
        ));
    }

    model
        .load_from(&mut store)
        .map_err(|err| weights_error(path, err.to_string()))?;
    Ok(model)
}

fn first_few<S: AsRef<str>>(items: &[S]) -> String {
    const SHOWN: usize = 3;
    let mut listed: Vec<&str> = items.iter().take(SHOWN).map(AsRef::as_ref).collect();
    if items.len() > SHOWN {
        listed.push("...");
    }
    listed.join(", ")
}

fn weights_error(path: &Path, reason: String) -> ModelError {
    ModelError::Weights {
        path: path.to_path_buf(),
        reason,
    }
}
