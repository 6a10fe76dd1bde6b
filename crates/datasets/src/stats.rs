//! Data set statistics: clips per genre and split, durations, and dropped tracks by reason.

use std::collections::BTreeMap;
use std::fmt;

use crate::entry::{DropReason, DroppedTrack, Split};
use crate::manifest::Manifest;

/// Counts of one label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelStats {
    pub total: usize,
    /// train, validation, test, unassigned.
    pub per_split: [usize; 4],
    /// Clips with a known duration, and their sum / min / max in seconds.
    pub with_duration: usize,
    pub duration_sum: f64,
    pub duration_min: f64,
    pub duration_max: f64,
}

/// Everything `musicrec dataset stats` prints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatasetStats {
    pub per_label: BTreeMap<String, LabelStats>,
    pub overall: LabelStats,
    /// Dropped tracks by reason, when a report was found.
    pub dropped: Option<BTreeMap<DropReason, usize>>,
}

impl DatasetStats {
    pub fn new(manifest: &Manifest, dropped: Option<&[DroppedTrack]>) -> Self {
        let mut stats = Self::default();
        for e in &manifest.entries {
            for s in [
                stats.per_label.entry(e.label.clone()).or_default(),
                &mut stats.overall,
            ] {
                s.total += 1;
                let k = match e.split {
                    Some(Split::Train) => 0,
                    Some(Split::Validation) => 1,
                    Some(Split::Test) => 2,
                    None => 3,
                };
                s.per_split[k] += 1;
                if let Some(d) = e.duration_secs {
                    if s.with_duration == 0 {
                        s.duration_min = d;
                        s.duration_max = d;
                    }
                    s.with_duration += 1;
                    s.duration_sum += d;
                    s.duration_min = s.duration_min.min(d);
                    s.duration_max = s.duration_max.max(d);
                }
            }
        }
        stats.dropped = dropped.map(|d| {
            let mut by_reason = BTreeMap::new();
            for t in d {
                *by_reason.entry(t.reason).or_default() += 1;
            }
            by_reason
        });
        stats
    }
}

impl fmt::Display for DatasetStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .per_label
            .keys()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(
            f,
            "{:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>8}  {:>8}  {:>8}",
            "genre", "clips", "train", "val", "test", "none", "min s", "mean s", "max s"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &LabelStats| {
            let dur = |v: f64| {
                if s.with_duration > 0 {
                    format!("{v:.1}")
                } else {
                    "-".into()
                }
            };
            let mean = if s.with_duration > 0 {
                s.duration_sum / s.with_duration as f64
            } else {
                0.0
            };
            writeln!(
                f,
                "{name:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>8}  {:>8}  {:>8}",
                s.total,
                s.per_split[0],
                s.per_split[1],
                s.per_split[2],
                s.per_split[3],
                dur(s.duration_min),
                dur(mean),
                dur(s.duration_max)
            )
        };
        for (label, s) in &self.per_label {
            row(f, label, s)?;
        }
        row(f, "total", &self.overall)?;
        if self.overall.with_duration > 0 {
            writeln!(
                f,
                "total duration: {:.2} h over {} clips with a known duration",
                self.overall.duration_sum / 3600.0,
                self.overall.with_duration
            )?;
        }
        match &self.dropped {
            None => writeln!(f, "dropped: no report found")?,
            Some(d) if d.is_empty() => writeln!(f, "dropped: none")?,
            Some(d) => {
                writeln!(f, "dropped: {} tracks", d.values().sum::<usize>())?;
                for (reason, n) in d {
                    writeln!(f, "  {:<20} {n}", reason.as_str())?;
                }
            }
        }
        Ok(())
    }
}
