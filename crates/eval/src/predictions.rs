//! `predictions.csv`: every evaluated track with its true genre and each model's probability for
//! each genre, so any metric can be recomputed (or a new one computed) without running a model.
//!
//! Columns: `path,true_genre`, then `<model>:<genre>` for every model and genre, in model order
//! then genre order. Probabilities are written with Rust's shortest round-trip formatting of the
//! model's f32 outputs, so reading them back gives exactly the scores the metrics were computed on.

use std::path::{Path, PathBuf};

use crate::EvalError;
use crate::atomic::write_atomically;
use crate::metrics::ScoreMatrix;

/// The scores of several models on the same tracks.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionTable {
    pub paths: Vec<PathBuf>,
    /// Index into `genres` per track.
    pub y_true: Vec<usize>,
    pub genres: Vec<String>,
    /// Model name and its `[track][genre]` probabilities (f32 outputs).
    pub models: Vec<(String, Vec<Vec<f32>>)>,
}

impl PredictionTable {
    /// Checks shapes: one label per path, one row per track and one value per genre per model.
    pub fn check(&self) -> Result<(), EvalError> {
        let n = self.paths.len();
        if self.y_true.len() != n {
            return Err(EvalError::invalid(format!(
                "{} labels for {n} tracks",
                self.y_true.len()
            )));
        }
        if let Some(&bad) = self.y_true.iter().find(|&&g| g >= self.genres.len()) {
            return Err(EvalError::invalid(format!(
                "label {bad} out of range for {} genres",
                self.genres.len()
            )));
        }
        for (name, rows) in &self.models {
            if name.contains(':') {
                return Err(EvalError::invalid(format!(
                    "model name {name:?} contains ':', which separates model and genre in column names"
                )));
            }
            if rows.len() != n || rows.iter().any(|r| r.len() != self.genres.len()) {
                return Err(EvalError::invalid(format!(
                    "model {name} has scores that do not match {n} tracks x {} genres",
                    self.genres.len()
                )));
            }
        }
        Ok(())
    }

    /// Model `m`'s scores as a [`ScoreMatrix`].
    pub fn scores(&self, m: usize) -> Result<ScoreMatrix, EvalError> {
        ScoreMatrix::from_rows(&self.models[m].1)
    }

    /// Writes the CSV atomically.
    pub fn write(&self, path: &Path) -> Result<(), EvalError> {
        self.check()?;
        let csv_err = |e: csv::Error| EvalError::invalid(format!("{}: {e}", path.display()));
        write_atomically(path, |out| {
            let mut writer = csv::Writer::from_writer(out);
            let mut header = vec!["path".to_owned(), "true_genre".to_owned()];
            for (name, _) in &self.models {
                header.extend(self.genres.iter().map(|g| format!("{name}:{g}")));
            }
            writer.write_record(&header).map_err(csv_err)?;
            for (t, track) in self.paths.iter().enumerate() {
                let mut row = vec![
                    track.display().to_string(),
                    self.genres[self.y_true[t]].clone(),
                ];
                for (_, rows) in &self.models {
                    row.extend(rows[t].iter().map(|p| p.to_string()));
                }
                writer.write_record(&row).map_err(csv_err)?;
            }
            writer.flush().map_err(|source| EvalError::Io {
                path: path.to_path_buf(),
                source,
            })
        })
    }

    /// Reads a CSV written by [`PredictionTable::write`]; `genres` names the genre columns (in
    /// order), models are found from the header.
    pub fn read(path: &Path, genres: &[String]) -> Result<Self, EvalError> {
        let bad = |m: String| EvalError::invalid(format!("{}: {m}", path.display()));
        let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(str::to_owned)
            .collect();
        if header.len() < 2 || header[0] != "path" || header[1] != "true_genre" {
            return Err(bad("the header does not start with path,true_genre".into()));
        }
        let score_columns = &header[2..];
        if genres.is_empty() || !score_columns.len().is_multiple_of(genres.len()) {
            return Err(bad(format!(
                "{} score columns do not split into models of {} genres",
                score_columns.len(),
                genres.len()
            )));
        }
        let mut names = Vec::new();
        for chunk in score_columns.chunks(genres.len()) {
            let name = chunk[0]
                .strip_suffix(&format!(":{}", genres[0]))
                .ok_or_else(|| bad(format!("column {} is not <model>:{}", chunk[0], genres[0])))?;
            for (column, genre) in chunk.iter().zip(genres) {
                if *column != format!("{name}:{genre}") {
                    return Err(bad(format!("column {column} should be {name}:{genre}")));
                }
            }
            names.push(name.to_owned());
        }
        let mut table = PredictionTable {
            paths: Vec::new(),
            y_true: Vec::new(),
            genres: genres.to_vec(),
            models: names.into_iter().map(|n| (n, Vec::new())).collect(),
        };
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| bad(e.to_string()))?;
            table.paths.push(PathBuf::from(&record[0]));
            let label = genres
                .iter()
                .position(|g| g == &record[1])
                .ok_or_else(|| bad(format!("row {}: unknown genre {}", line + 2, &record[1])))?;
            table.y_true.push(label);
            for (m, (_, rows)) in table.models.iter_mut().enumerate() {
                let start = 2 + m * genres.len();
                let row = (start..start + genres.len())
                    .map(|c| {
                        record[c].parse::<f32>().map_err(|_| {
                            bad(format!(
                                "row {}: '{}' is not a number",
                                line + 2,
                                &record[c]
                            ))
                        })
                    })
                    .collect::<Result<Vec<f32>, _>>()?;
                rows.push(row);
            }
        }
        table.check()?;
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_scores_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        let table = PredictionTable {
            paths: vec!["a, b.wav".into(), "c.wav".into()],
            y_true: vec![1, 0],
            genres: vec!["jazz".into(), "rock".into()],
            models: vec![
                (
                    "cnn".into(),
                    vec![vec![0.1, 1.0 / 3.0], vec![1e-7, 0.999_999_9]],
                ),
                ("crnn".into(), vec![vec![0.5, 0.25], vec![0.0, 1.0]]),
            ],
        };
        table.write(&path).unwrap();
        let back = PredictionTable::read(&path, &table.genres).unwrap();
        assert_eq!(back, table);
        let mut bad = table.clone();
        bad.models[0].0 = "a:b".into();
        assert!(bad.write(&path).is_err());
    }
}
