//! `MODEL.md`, the model card: what data, which command, which results, when and how long.

use std::fmt::Write as _;
use std::path::Path;

use musicrec_datasets::Split;

use crate::config::TrainConfig;
use crate::data::{TrainingData, describe_mel};
use crate::error::Result;
use crate::metrics::{ACCURACY_PLOT_FILE, LOSS_PLOT_FILE, METRICS_FILE, TrainReport};
use crate::model_dir::{
    CARD_FILE, CONFIG_FILE, ModelDirConfig, WEIGHTS_FILE, write_file_atomically,
};

/// This process's invocation, shell-quoted where needed, for a model card or a report.
pub fn command_line() -> String {
    shell_words(std::env::args())
}

/// `args` joined by spaces, each quoted for a POSIX shell unless it is plainly safe.
fn shell_words(args: impl IntoIterator<Item = String>) -> String {
    args.into_iter()
        .map(|arg| {
            if !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `out/MODEL.md` (atomically).
pub(crate) fn write_card(
    out: &Path,
    dir_config: &ModelDirConfig,
    config: &TrainConfig,
    data: &TrainingData,
    report: &TrainReport,
) -> Result<()> {
    let mut md = String::new();
    let arch = dir_config.arch.to_ascii_uppercase();
    let _ = writeln!(
        md,
        "# musicrec genre model: {arch}, {} genres\n",
        data.genres.len()
    );
    let _ = writeln!(
        md,
        "Trained {} with musicrec {} on {} in {:.1} s ({} epochs{}).\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        dir_config.musicrec_version,
        config.device,
        report.training_secs,
        report.history.len(),
        if report.stopped_early {
            ", stopped early"
        } else {
            ""
        },
    );

    let _ = writeln!(
        md,
        "## Command\n\n```sh\n{}\n```\n",
        config.command_line.as_deref().unwrap_or("(library call)")
    );

    let _ = writeln!(md, "## Data\n");
    let _ = writeln!(
        md,
        "- manifest: `{}` (blake3 `{}`)",
        dir_config.training.manifest.display(),
        dir_config.training.manifest_blake3
    );
    if let Some(seed) = dir_config.training.split_seed {
        let _ = writeln!(md, "- split seed: {seed}");
    }
    if data.unassigned > 0 {
        let _ = writeln!(
            md,
            "- {} manifest rows without a split were not used",
            data.unassigned
        );
    }
    let _ = writeln!(
        md,
        "- features: {}; windows of {} frames ({:.2} s), training windows every {} frames\n",
        describe_mel(&dir_config.mel),
        dir_config.window_frames,
        dir_config.window_secs(),
        dir_config.train_hop_frames
    );
    let _ = writeln!(
        md,
        "| genre | train | validation | test |\n|---|---:|---:|---:|"
    );
    let counts: Vec<Vec<usize>> = Split::ALL.iter().map(|s| data.counts(*s)).collect();
    for (g, genre) in data.genres.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {genre} | {} | {} | {} |",
            counts[0][g], counts[1][g], counts[2][g]
        );
    }
    let _ = writeln!(
        md,
        "| **total** | {} | {} | {} |\n",
        data.train.len(),
        data.validation.len(),
        data.test.len()
    );

    let _ = writeln!(md, "## Model and training\n");
    let _ = writeln!(
        md,
        "- {arch}, {} trainable parameters (width scale {}); config in `{CONFIG_FILE}`",
        report.parameters, config.width_scale
    );
    let _ = writeln!(
        md,
        "- Adam, learning rate {}, batch {}, binary cross-entropy on one-hot targets, up to {} epochs, \
         early stopping after {} epochs without a lower validation loss, seed {}\n",
        config.learning_rate, config.batch_size, config.epochs, config.patience, config.seed
    );

    let _ = writeln!(md, "## Results\n");
    if let Some(best) = report.best() {
        let _ = writeln!(
            md,
            "- kept weights: epoch {} (lowest validation loss)\n- validation loss {:.4}, accuracy {:.3} \
             per track ({} tracks), {:.3} per window",
            best.epoch,
            best.val_loss,
            best.val_acc,
            data.validation.len(),
            best.val_window_acc
        );
    }
    match &report.test {
        Some(test) => {
            let _ = writeln!(
                md,
                "- test loss {:.4}, accuracy {:.3} per track ({} tracks), {:.3} per window",
                test.loss, test.track_acc, test.tracks, test.window_acc
            );
        }
        None => {
            let _ = writeln!(md, "- no test split in the manifest");
        }
    }
    let _ = writeln!(
        md,
        "\nTrack accuracy averages each track's window probabilities before the argmax; \
         validation with so few tracks per genre is a noisy estimate.\n"
    );

    let _ = writeln!(
        md,
        "## Files\n\n- `{WEIGHTS_FILE}`: best weights\n- `{CONFIG_FILE}`: model, features, genres, window, provenance\n\
         - `{METRICS_FILE}`: per-epoch metrics\n- `{LOSS_PLOT_FILE}`, `{ACCURACY_PLOT_FILE}`: curves\n\
         - `checkpoint/`: last epoch's training state (`musicrec train ... --resume`)"
    );
    write_file_atomically(&out.join(CARD_FILE), md.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let args = ["musicrec", "train", "--out", "my models/x", "it's", ""].map(String::from);
        assert_eq!(
            super::shell_words(args),
            r"musicrec train --out 'my models/x' 'it'\''s' ''"
        );
    }
}
