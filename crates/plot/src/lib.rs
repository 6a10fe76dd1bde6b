//! The lowest-level plotting helpers every musicrec stage shares: the bundled font, PNG encoding
//! of a plotters RGB buffer, atomic PNG writing, a colour palette, and a simple multi-series
//! line chart (training curves).
//!
//! Text goes through plotters' `ab_glyph` feature with DejaVu Sans compiled into the crate
//! (`assets/`, license beside it), so rendering never depends on the machine's fonts or
//! fontconfig. Stages with their own chart types draw through [`render_png`] with
//! [`FONT_FAMILY`] and [`palette_color`]; [`plotters`] is re-exported so they use the same version.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use plotters;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// DejaVu Sans 2.37 from Debian's fonts-dejavu-core (license in assets/DejaVuSans-LICENSE.txt).
pub static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name the bundled font is registered under; use it in every text style.
pub const FONT_FAMILY: &str = "sans-serif";

/// matplotlib's "tab10" colours, so plots look like the Python ones people compare them with.
pub const PALETTE: [RGBColor; 10] = [
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

/// The `i`-th palette colour (wrapping around).
pub fn palette_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Everything that can go wrong drawing or writing a plot.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Drawing or encoding failed.
    #[error("cannot draw {}: {message}", path.display())]
    Draw { path: PathBuf, message: String },
    /// The data cannot be plotted (no series, wrong lengths, ...).
    #[error("cannot plot: {0}")]
    Invalid(String),
}

/// Registers the bundled font under [`FONT_FAMILY`] (once per process; later calls are free).
pub fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT_FAMILY, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "the bundled DejaVu Sans font does not parse".to_string())
        })
        .clone()
        .map_err(PlotError::Invalid)
}

/// Encodes a `width` x `height` 8-bit RGB buffer (plotters' bitmap layout) as PNG into `out`.
pub fn encode_png(
    rgb: &[u8],
    width: u32,
    height: u32,
    out: &mut dyn Write,
) -> Result<(), png::EncodingError> {
    let mut encoder = png::Encoder::new(out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()
}

/// Writes whatever `fill` produces to `path` atomically (musicrec-atomic: temp file in the same
/// folder, then rename), creating the folder if needed: a reader or a killed run never sees half
/// a file.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    musicrec_atomic::write_atomically(path, fill).map_err(|e| {
        e.into_error(|io| PlotError::Io {
            path: io.path,
            source: io.source,
        })
    })
}

/// Draws into a white `width` x `height` RGB canvas (font registered first) and writes it to
/// `path` as PNG, atomically. `draw` reports failures as text (plotters' errors are generic).
pub fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
) -> Result<(), PlotError> {
    let draw_err = |message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };
    ensure_font()?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(e.to_string()))?;
        draw(&root).map_err(draw_err)?;
        root.present().map_err(|e| draw_err(e.to_string()))?;
    }
    write_atomically(path, |out| {
        encode_png(&rgb, width, height, out).map_err(|e| draw_err(e.to_string()))
    })
}

/// One named line of a [`LineChart`]; non-finite points leave a gap.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    pub name: &'a str,
    pub points: &'a [(f64, f64)],
}

/// Titles and axes of a line chart.
#[derive(Clone, Debug)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// Fixed y range (e.g. 0..1 for accuracy); `None` fits the data with a margin.
    pub y_range: Option<(f64, f64)>,
    /// Canvas size in pixels.
    pub size: (u32, u32),
}

impl<'a> LineChart<'a> {
    /// A 720 x 480 chart with a data-fitted y range.
    pub fn new(title: &'a str, x_label: &'a str, y_label: &'a str) -> Self {
        Self {
            title,
            x_label,
            y_label,
            y_range: None,
            size: (720, 480),
        }
    }

    /// Draws `lines` (palette colours in order, dots on every point so a one-point line shows)
    /// with a legend, and writes the PNG to `path` atomically.
    pub fn draw(&self, path: &Path, lines: &[Line]) -> Result<(), PlotError> {
        if lines.is_empty() {
            return Err(PlotError::Invalid(format!(
                "line chart '{}' has no lines",
                self.title
            )));
        }
        let finite: Vec<(f64, f64)> = lines
            .iter()
            .flat_map(|l| l.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let (x_min, x_max) = padded_range(finite.iter().map(|p| p.0), 0.0);
        let (y_min, y_max) = match self.y_range {
            Some((lo, hi)) if lo.is_finite() && hi.is_finite() && lo < hi => (lo, hi),
            Some(range) => {
                return Err(PlotError::Invalid(format!(
                    "y range {range:?} of '{}' is empty or not finite",
                    self.title
                )));
            }
            None => padded_range(finite.iter().map(|p| p.1), 0.05),
        };
        let text = |e: &dyn std::fmt::Display| e.to_string();
        render_png(path, self.size, |root| {
            let mut chart = ChartBuilder::on(root)
                .caption(self.title, (FONT_FAMILY, 22))
                .margin(16)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(x_min..x_max, y_min..y_max)
                .map_err(|e| text(&e))?;
            chart
                .configure_mesh()
                .x_desc(self.x_label)
                .y_desc(self.y_label)
                .label_style((FONT_FAMILY, 14))
                .axis_desc_style((FONT_FAMILY, 16))
                .light_line_style(RGBColor(240, 240, 240))
                .draw()
                .map_err(|e| text(&e))?;
            for (i, line) in lines.iter().enumerate() {
                let color = palette_color(i);
                // Split at non-finite points so a missing value is a gap, not a jump to 0.
                for segment in line
                    .points
                    .split(|(x, y)| !x.is_finite() || !y.is_finite())
                    .filter(|s| !s.is_empty())
                {
                    chart
                        .draw_series(LineSeries::new(
                            segment.iter().copied(),
                            color.stroke_width(2),
                        ))
                        .map_err(|e| text(&e))?;
                }
                chart
                    .draw_series(
                        line.points
                            .iter()
                            .filter(|(x, y)| x.is_finite() && y.is_finite())
                            .map(|&p| Circle::new(p, 3, color.filled())),
                    )
                    .map_err(|e| text(&e))?
                    .label(line.name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT_FAMILY, 15))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(120, 120, 120))
                .draw()
                .map_err(|e| text(&e))
        })
    }
}

/// `[min, max]` of `values` widened by `margin` of the span; a single value or none gets a unit
/// span so the chart still has an axis.
fn padded_range(values: impl Iterator<Item = f64>, margin: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * margin;
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::padded_range;

    #[test]
    fn ranges_never_collapse() {
        assert_eq!(padded_range([].into_iter(), 0.1), (0.0, 1.0));
        assert_eq!(padded_range([2.0].into_iter(), 0.1), (1.5, 2.5));
        assert_eq!(padded_range([0.0, 10.0].into_iter(), 0.1), (-1.0, 11.0));
    }
}
