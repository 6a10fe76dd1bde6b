//! PNG plots of an evaluation: ROC curves of several models for one genre, grouped per-genre
//! bar charts (F1, AUC; models side by side, as in the paper) and a confusion-matrix heat map.
//!
//! Drawing uses plotters' bitmap backend with text through `ab_glyph` and DejaVu Sans compiled
//! into the binary (through `musicrec-plot`), so rendering never depends on the machine's fonts or fontconfig.
//! The RGB buffer is encoded with the `png` crate and written atomically.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::EvalError;
use crate::atomic::write_atomically;
use crate::metrics::RocCurve;
use crate::stats::ConfidenceInterval;

/// DejaVu Sans, shipped once for every stage by `musicrec-plot`.
use musicrec_plot::DEJAVU_SANS;
const FONT: &str = "sans-serif";

/// matplotlib's "tab10" colours: one per model, in order.
const MODEL_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn model_color(i: usize) -> RGBColor {
    MODEL_COLORS[i % MODEL_COLORS.len()]
}

fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "the bundled DejaVu Sans font does not parse".to_string())
        })
        .clone()
}

/// Draws into a white `width` x `height` RGB canvas and writes it to `path` as PNG.
fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
) -> Result<(), EvalError> {
    let plot_err = |message: String| EvalError::Plot {
        path: path.to_path_buf(),
        message,
    };
    ensure_font().map_err(plot_err)?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root).map_err(plot_err)?;
        root.present().map_err(|e| plot_err(e.to_string()))?;
    }
    write_atomically(path, |out| {
        let mut encoder = png::Encoder::new(out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| plot_err(e.to_string()))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| plot_err(e.to_string()))?;
        writer.finish().map_err(|e| plot_err(e.to_string()))
    })
}

fn text_err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// One model's ROC curve for a genre.
#[derive(Debug, Clone, Copy)]
pub struct RocSeries<'a> {
    pub model: &'a str,
    pub curve: &'a RocCurve,
    pub auc: Option<f64>,
}

/// ROC curves of several models for one genre on one plot, with the chance diagonal.
/// A curve that is undefined (no positive or no negative track) is listed but not drawn.
pub fn plot_roc(path: &Path, title: &str, series: &[RocSeries]) -> Result<(), EvalError> {
    if series.is_empty() {
        return Err(EvalError::invalid("ROC plot needs at least one model"));
    }
    render_png(path, (720, 640), |root| {
        root.fill(&WHITE).map_err(text_err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..1f64, 0f64..1.0f64)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .x_desc("False positive rate")
            .y_desc("True positive rate")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()
            .map_err(text_err)?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                RGBColor(150, 150, 150).stroke_width(1),
            ))
            .map_err(text_err)?;
        for (i, s) in series.iter().enumerate() {
            let color = model_color(i);
            let label = match s.auc {
                Some(auc) => format!("{} (AUC {auc:.3})", s.model),
                None => format!("{} (AUC undefined)", s.model),
            };
            let drawable = s.curve.fpr.len() == s.curve.tpr.len()
                && s.curve
                    .fpr
                    .iter()
                    .chain(&s.curve.tpr)
                    .all(|v| v.is_finite());
            let points: Vec<(f64, f64)> = if drawable {
                s.curve
                    .fpr
                    .iter()
                    .copied()
                    .zip(s.curve.tpr.iter().copied())
                    .collect()
            } else {
                Vec::new()
            };
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(3)))
                .map_err(text_err)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(120, 120, 120))
            .draw()
            .map_err(text_err)
    })
}

/// One model's per-genre values for a grouped bar chart, optionally with interval whiskers.
#[derive(Debug, Clone, Copy)]
pub struct BarSeries<'a> {
    pub model: &'a str,
    /// One value per genre; NaN leaves the bar out.
    pub values: &'a [f64],
    pub intervals: Option<&'a [Option<ConfidenceInterval>]>,
}

/// Per-genre bars of a metric in [0, 1] (F1 or AUC), models side by side within each genre.
pub fn plot_grouped_bars(
    path: &Path,
    title: &str,
    metric: &str,
    genres: &[impl AsRef<str>],
    series: &[BarSeries],
) -> Result<(), EvalError> {
    if genres.is_empty() || series.is_empty() {
        return Err(EvalError::invalid(
            "bar chart needs at least one genre and one model",
        ));
    }
    if let Some(s) = series.iter().find(|s| {
        s.values.len() != genres.len() || s.intervals.is_some_and(|c| c.len() != genres.len())
    }) {
        return Err(EvalError::invalid(format!(
            "model {} has {} values for {} genres",
            s.model,
            s.values.len(),
            genres.len()
        )));
    }
    let n = genres.len();
    let width = (160 + 90 * n as u32).max(720);
    // Headroom above 1.0 for the legend, so it never hides a bar.
    let y_max = 1.0 + 0.06 * (series.len() + 1) as f64;
    render_png(path, (width, 560), |root| {
        root.fill(&WHITE).map_err(text_err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, 0f64..y_max)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(metric)
            .y_label_formatter(&|v| {
                if *v <= 1.0 + 1e-9 {
                    format!("{v:.1}")
                } else {
                    String::new()
                }
            })
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(text_err)?;
        // Each genre takes a unit slot: 80% of it for the bars, split evenly between models.
        let bar_width = 0.8 / series.len() as f64;
        for (m, s) in series.iter().enumerate() {
            let color = model_color(m);
            let left = |g: usize| g as f64 + 0.1 + m as f64 * bar_width;
            let bars = s
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(g, &v)| {
                    Rectangle::new(
                        [
                            (left(g), 0.0),
                            (left(g) + bar_width * 0.92, v.clamp(0.0, 1.0)),
                        ],
                        color.filled(),
                    )
                });
            chart
                .draw_series(bars)
                .map_err(text_err)?
                .label(s.model)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled())
                });
            if let Some(intervals) = s.intervals {
                let whiskers = intervals.iter().enumerate().filter_map(|(g, ci)| {
                    let ci = ci.as_ref()?;
                    let x = left(g) + bar_width * 0.46;
                    Some(PathElement::new(
                        vec![(x, ci.low.clamp(0.0, 1.0)), (x, ci.high.clamp(0.0, 1.0))],
                        BLACK.stroke_width(2),
                    ))
                });
                chart.draw_series(whiskers).map_err(text_err)?;
            }
        }
        // Genre names under each group, drawn in pixel space (plotters' numeric axis would put
        // labels at "nice" numbers, not at group centres).
        let label_style = TextStyle::from((FONT, 15).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (g, name) in genres.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
            root.draw_text(name.as_ref(), &label_style, (x, y + 8))
                .map_err(text_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(120, 120, 120))
            .draw()
            .map_err(text_err)
    })
}

/// Confusion-matrix heat map (rows: true genre, columns: predicted) with the count in each cell.
pub fn plot_confusion_matrix(
    path: &Path,
    title: &str,
    class_names: &[impl AsRef<str>],
    matrix: &[Vec<u64>],
) -> Result<(), EvalError> {
    let n = class_names.len();
    if n == 0 || matrix.len() != n || matrix.iter().any(|row| row.len() != n) {
        return Err(EvalError::invalid(format!(
            "confusion matrix must be {n} x {n} for {n} class names"
        )));
    }
    let max_count = matrix.iter().flatten().copied().max().unwrap_or(0).max(1);
    let cell = (560 / n as u32).clamp(28, 80);
    let side = cell * n as u32;
    render_png(path, (side + 230, side + 170), |root| {
        root.fill(&WHITE).map_err(text_err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(16)
            .margin_right(40)
            .x_label_area_size(80)
            .y_label_area_size(120)
            .build_cartesian_2d(0f64..n as f64, 0f64..n as f64)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc("Predicted genre")
            .y_desc("True genre")
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(text_err)?;
        // Row `t` is drawn at the top for t = 0, like scikit-learn's ConfusionMatrixDisplay.
        let top = |t: usize| (n - t) as f64;
        for (t, row) in matrix.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let share = count as f64 / max_count as f64;
                // White to matplotlib-"Blues" dark blue.
                let mix = |lo: f64, hi: f64| (lo + (hi - lo) * share).round() as u8;
                let fill = RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0));
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(p as f64, top(t)), (p as f64 + 1.0, top(t) - 1.0)],
                        fill.filled(),
                    )))
                    .map_err(text_err)?;
                let text_color = if share > 0.5 { WHITE } else { BLACK };
                let style = TextStyle::from((FONT, (cell / 3).clamp(11, 20)).into_font())
                    .color(&text_color)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let centre = chart.backend_coord(&(p as f64 + 0.5, top(t) - 0.5));
                root.draw_text(&count.to_string(), &style, centre)
                    .map_err(text_err)?;
            }
        }
        let x_style = TextStyle::from((FONT, 14).into_font())
            .color(&BLACK)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let y_style = TextStyle::from((FONT, 14).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (k, name) in class_names.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(k as f64 + 0.5, 0.0));
            root.draw_text(name.as_ref(), &x_style, (x, y + 6))
                .map_err(text_err)?;
            let (x, y) = chart.backend_coord(&(0.0, top(k) - 0.5));
            root.draw_text(name.as_ref(), &y_style, (x - 6, y))
                .map_err(text_err)?;
        }
        Ok(())
    })
}
