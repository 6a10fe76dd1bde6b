//! Per-epoch metrics: the `metrics.csv` table and the loss / accuracy curves (PNG) of a model
//! directory, both rewritten whole (atomically) after every epoch.

use std::path::{Path, PathBuf};

use musicrec_plot::{Line, LineChart};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// `metrics.csv`, one row per epoch.
pub const METRICS_FILE: &str = "metrics.csv";
/// Training and validation loss per epoch.
pub const LOSS_PLOT_FILE: &str = "loss.png";
/// Validation accuracy (track and window level) per epoch.
pub const ACCURACY_PLOT_FILE: &str = "accuracy.png";

/// What one epoch did. Column order of `metrics.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: usize,
    /// Mean binary cross-entropy of the epoch's training batches (train mode: dropout on).
    pub train_loss: f64,
    /// Mean binary cross-entropy over all validation windows (eval mode).
    pub val_loss: f64,
    /// Track-level validation accuracy: each track's window probabilities averaged, argmax vs label.
    pub val_acc: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Wall time of the epoch (training + validation), seconds.
    pub seconds: f64,
    /// Window-level validation accuracy (each window on its own).
    pub val_window_acc: f64,
}

/// Writes `history` as `dir/metrics.csv` (atomically).
pub fn write_metrics_csv(dir: &Path, history: &[EpochMetrics]) -> Result<()> {
    let path = dir.join(METRICS_FILE);
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in history {
        writer
            .serialize(row)
            .map_err(|e| TrainError::io(&path, std::io::Error::other(e)))?;
    }
    if history.is_empty() {
        writer
            .write_record([
                "epoch",
                "train_loss",
                "val_loss",
                "val_acc",
                "lr",
                "seconds",
                "val_window_acc",
            ])
            .map_err(|e| TrainError::io(&path, std::io::Error::other(e)))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| TrainError::io(&path, std::io::Error::other(e.to_string())))?;
    musicrec_plot::write_atomically(&path, |out| {
        out.write_all(&bytes)
            .map_err(|source| musicrec_plot::PlotError::Io {
                path: path.clone(),
                source,
            })
    })?;
    Ok(())
}

/// Reads a `metrics.csv` back.
pub fn read_metrics_csv(path: &Path) -> Result<Vec<EpochMetrics>> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| TrainError::io(path, std::io::Error::other(e)))?;
    reader
        .deserialize()
        .collect::<Result<Vec<EpochMetrics>, _>>()
        .map_err(|e| TrainError::io(path, std::io::Error::other(e)))
}

/// Draws `loss.png` and `accuracy.png` of `history` into `dir`.
pub fn plot_curves(dir: &Path, history: &[EpochMetrics]) -> Result<()> {
    let series = |f: fn(&EpochMetrics) -> f64| -> Vec<(f64, f64)> {
        history.iter().map(|m| (m.epoch as f64, f(m))).collect()
    };
    let (train, val) = (series(|m| m.train_loss), series(|m| m.val_loss));
    LineChart::new("Loss", "epoch", "binary cross-entropy").draw(
        &dir.join(LOSS_PLOT_FILE),
        &[
            Line {
                name: "train",
                points: &train,
            },
            Line {
                name: "validation",
                points: &val,
            },
        ],
    )?;
    let (track, window) = (series(|m| m.val_acc), series(|m| m.val_window_acc));
    let mut accuracy = LineChart::new("Validation accuracy", "epoch", "accuracy");
    accuracy.y_range = Some((0.0, 1.0));
    accuracy.draw(
        &dir.join(ACCURACY_PLOT_FILE),
        &[
            Line {
                name: "track (windows averaged)",
                points: &track,
            },
            Line {
                name: "window",
                points: &window,
            },
        ],
    )?;
    Ok(())
}

/// Loss and accuracy of a model on one split.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean binary cross-entropy over all windows (and genres).
    pub loss: f64,
    /// Track-level accuracy: window probabilities averaged per track, argmax vs label.
    pub track_acc: f64,
    /// Window-level accuracy.
    pub window_acc: f64,
    pub tracks: usize,
    pub windows: usize,
}

/// What [`crate::train`] did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    pub out: PathBuf,
    /// Every epoch's metrics, including those of earlier sessions of a resumed run.
    pub history: Vec<EpochMetrics>,
    /// Epoch of the kept weights (lowest validation loss).
    pub best_epoch: usize,
    /// The epoch this session started after (0 for a fresh run).
    pub resumed_after: usize,
    /// Stopped because validation loss had not improved for `patience` epochs.
    pub stopped_early: bool,
    /// Stopped by `stop_after_epochs` (checkpoint written, no card, no test evaluation).
    pub interrupted: bool,
    /// Test-split evaluation of the best weights, when the manifest has a test split.
    pub test: Option<Evaluation>,
    /// Training seconds over all sessions.
    pub training_secs: f64,
    /// Trainable parameters of the model.
    pub parameters: usize,
}

impl TrainReport {
    /// The metrics of the best epoch.
    pub fn best(&self) -> Option<&EpochMetrics> {
        self.history.iter().find(|m| m.epoch == self.best_epoch)
    }
}
