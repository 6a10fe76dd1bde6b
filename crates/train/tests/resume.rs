//! Checkpoints and resume: a run stopped after 2 epochs and resumed to 4 ends exactly where a
//! straight 4-epoch run ends (same metrics, same weights), because the optimizer state comes
//! back from the checkpoint and every epoch's random draws depend on (seed, epoch) only. A run
//! handed no optimizer state, or another run's, is refused rather than silently restarted.

mod common;

use std::path::Path;

use common::{GENRES, choi_cache, training_lock, write_manifest};
use musicrec_testkit::data::shared_data;
use musicrec_train::checkpoint;
use musicrec_train::{Arch, TrainConfig, WindowLength, train};

fn tiny(manifest: &Path, cache: &Path, out: &Path, epochs: usize) -> TrainConfig {
    let mut config = TrainConfig::new(manifest, cache, out);
    config.arch = Arch::Crnn;
    config.width_scale = 0.125;
    config.window = WindowLength::Frames(96);
    config.train_hop_frames = Some(96);
    config.epochs = epochs;
    config.batch_size = 8;
    config.learning_rate = 2e-3;
    config.seed = 3;
    config
}

/// The best weights file as (header JSON, tensor bytes): SafeTensors is an 8-byte header length,
/// a JSON header (Burn writes its metadata map in hash order, so compare it parsed), then data.
fn weights(dir: &Path) -> (serde_json::Value, Vec<u8>) {
    let bytes = std::fs::read(dir.join("weights.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    (header, bytes[8 + header_len..].to_vec())
}

#[test]
fn resumed_run_matches_a_straight_run() {
    let Some(data) = shared_data() else { return };
    let root = tempfile::tempdir().unwrap();
    let manifest = root.path().join("data.csv");
    // Two genres, 3 + 2 clips each: checkpoints, not learning, are under test here.
    write_manifest(&manifest, &data, &GENRES[..2], |id| match id {
        0..=2 => Some("train"),
        3 | 4 => Some("validation"),
        _ => None,
    });
    let cache = choi_cache(&data);
    let _lock = training_lock();

    let straight_dir = root.path().join("straight");
    let straight = train(&tiny(&manifest, cache, &straight_dir, 4)).unwrap();
    assert_eq!(straight.history.len(), 4);

    // "Killed" after epoch 2: the checkpoint is all that is left of the session.
    let resumed_dir = root.path().join("resumed");
    let mut first = tiny(&manifest, cache, &resumed_dir, 4);
    first.stop_after_epochs = Some(2);
    let stopped = train(&first).unwrap();
    assert!(stopped.interrupted);
    assert_eq!(stopped.history.len(), 2);
    assert!(!resumed_dir.join("MODEL.md").exists());
    let state = checkpoint::read_state(&resumed_dir).unwrap();
    assert_eq!(state.epoch, 2);
    assert!(state.optimizer_steps > 0);
    assert!(
        checkpoint::optimizer_tensors(&resumed_dir).unwrap() > 0,
        "no Adam moments saved"
    );

    // Without --resume the directory is protected; with it, training goes on from epoch 3.
    let err = train(&tiny(&manifest, cache, &resumed_dir, 4))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--resume"), "{err}");
    let mut again = tiny(&manifest, cache, &resumed_dir, 4);
    again.resume = true;
    let resumed = train(&again).unwrap();
    assert_eq!(resumed.resumed_after, 2);
    assert_eq!(resumed.history.len(), 4);
    assert_eq!(
        checkpoint::read_state(&resumed_dir)
            .unwrap()
            .optimizer_steps,
        2 * state.optimizer_steps
    );

    for (a, b) in straight.history.iter().zip(&resumed.history) {
        assert_eq!(a.epoch, b.epoch);
        for (x, y) in [
            (a.train_loss, b.train_loss),
            (a.val_loss, b.val_loss),
            (a.val_acc, b.val_acc),
        ] {
            assert!(
                (x - y).abs() < 1e-6,
                "epoch {}: straight {a:?} vs resumed {b:?}",
                a.epoch
            );
        }
    }
    assert_eq!(straight.best_epoch, resumed.best_epoch);
    assert_eq!(
        weights(&straight_dir),
        weights(&resumed_dir),
        "best weights differ"
    );
    assert!(resumed_dir.join("MODEL.md").is_file());

    // A resumed run must get its own Adam state back: none at all, or another run's (Burn
    // would silently ignore state for unknown parameter ids and start Adam afresh), is refused.
    let reset_dir = root.path().join("reset");
    let mut first = tiny(&manifest, cache, &reset_dir, 4);
    first.stop_after_epochs = Some(2);
    train(&first).unwrap();
    let checkpoint_of = |dir: &Path| {
        let latest = std::fs::read_to_string(dir.join("checkpoint/latest")).unwrap();
        dir.join("checkpoint").join(latest.trim())
    };
    let optimizer = checkpoint_of(&reset_dir).join("optimizer.bpk");
    let mut again = tiny(&manifest, cache, &reset_dir, 4);
    again.resume = true;
    std::fs::copy(
        checkpoint_of(&straight_dir).join("optimizer.bpk"),
        &optimizer,
    )
    .unwrap();
    let err = train(&again).unwrap_err().to_string();
    assert!(
        err.contains("does not belong to this checkpoint's model"),
        "{err}"
    );
    musicrec_model::burn::optim::AdamConfig::new()
        .init()
        .save(&optimizer)
        .unwrap();
    let err = train(&again).unwrap_err().to_string();
    assert!(err.contains("holds no optimizer state"), "{err}");
}

#[test]
fn resume_refuses_other_settings_and_missing_checkpoints() {
    let Some(data) = shared_data() else { return };
    let root = tempfile::tempdir().unwrap();
    let manifest = root.path().join("data.csv");
    write_manifest(&manifest, &data, &GENRES[..2], |id| match id {
        0 | 1 => Some("train"),
        2 => Some("validation"),
        _ => None,
    });
    let cache = choi_cache(&data);
    let out = root.path().join("model");

    let mut config = tiny(&manifest, cache, &out, 2);
    config.resume = true;
    let err = train(&config).unwrap_err().to_string();
    assert!(err.contains("nothing to resume"), "{err}");

    let _lock = training_lock();
    let mut config = tiny(&manifest, cache, &out, 2);
    config.stop_after_epochs = Some(1);
    train(&config).unwrap();
    let mut other = tiny(&manifest, cache, &out, 2);
    other.resume = true;
    other.learning_rate = 1e-2;
    other.batch_size = 4;
    let err = train(&other).unwrap_err().to_string();
    assert!(
        err.contains("cannot resume")
            && err.contains("learning rate")
            && err.contains("batch size"),
        "{err}"
    );
}
