//! Robustness summary: how each model's headline numbers move from the clean test audio to each
//! degraded condition (noise, codec), one row per condition, models side by side.

use serde::Serialize;

use crate::report::EvaluationReport;

/// One model's headline numbers under one condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelHeadline {
    pub model: String,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// `None` when some genre's AUC is undefined.
    pub macro_auc: Option<f64>,
}

/// Every model's headline numbers under one condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionSummary {
    pub condition: String,
    pub models: Vec<ModelHeadline>,
}

impl ConditionSummary {
    /// The headline numbers of `report`, evaluated under `condition`.
    pub fn new(condition: &str, report: &EvaluationReport) -> Self {
        Self {
            condition: condition.to_owned(),
            models: report
                .models
                .iter()
                .map(|m| ModelHeadline {
                    model: m.model.clone(),
                    accuracy: m.accuracy,
                    macro_f1: m.macro_avg.f1,
                    macro_auc: m.macro_avg.auc,
                })
                .collect(),
        }
    }
}

/// Header and rows of the robustness table: `Condition`, then per model accuracy, macro F1 and
/// macro AUC; each degraded value is followed by its change from the first (clean) row.
pub fn robustness_table(conditions: &[ConditionSummary]) -> (Vec<String>, Vec<Vec<String>>) {
    let Some(first) = conditions.first() else {
        return (Vec::new(), Vec::new());
    };
    let mut header = vec!["Condition".to_owned()];
    for m in &first.models {
        header.push(format!("{} accuracy", m.model));
        header.push(format!("{} macro F1", m.model));
        header.push(format!("{} macro AUC", m.model));
    }
    let cell = |value: Option<f64>, clean: Option<f64>, is_clean: bool| match (value, clean) {
        (Some(v), Some(c)) if !is_clean => format!("{v:.3} ({:+.3})", v - c),
        (Some(v), _) => format!("{v:.3}"),
        (None, _) => "n/a".to_owned(),
    };
    let rows = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut row = vec![c.condition.clone()];
            for (m, clean) in c.models.iter().zip(&first.models) {
                row.push(cell(Some(m.accuracy), Some(clean.accuracy), i == 0));
                row.push(cell(Some(m.macro_f1), Some(clean.macro_f1), i == 0));
                row.push(cell(m.macro_auc, clean.macro_auc, i == 0));
            }
            row
        })
        .collect();
    (header, rows)
}

/// The robustness table as Markdown.
pub fn robustness_markdown(conditions: &[ConditionSummary]) -> String {
    let (header, rows) = robustness_table(conditions);
    if header.is_empty() {
        return String::new();
    }
    let mut md = format!("| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        md.push_str(if i == 0 { " --- |" } else { " ---: |" });
    }
    md.push('\n');
    for row in rows {
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degraded_rows_show_the_change_from_clean() {
        let headline = |acc, auc| ModelHeadline {
            model: "cnn".into(),
            accuracy: acc,
            macro_f1: 0.5,
            macro_auc: auc,
        };
        let conditions = [
            ConditionSummary {
                condition: "clean".into(),
                models: vec![headline(0.8, Some(0.9))],
            },
            ConditionSummary {
                condition: "noise 0 dB SNR".into(),
                models: vec![headline(0.5, None)],
            },
        ];
        let (header, rows) = robustness_table(&conditions);
        assert_eq!(header[1], "cnn accuracy");
        assert_eq!(rows[0][1], "0.800");
        assert_eq!(rows[1][1], "0.500 (-0.300)");
        assert_eq!(rows[1][3], "n/a");
        assert!(robustness_markdown(&conditions).contains("| noise 0 dB SNR | 0.500 (-0.300) |"));
    }
}
