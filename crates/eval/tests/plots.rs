//! Every plot renders to a real PNG with content (not blank, several colours, text drawn).
//! Set MUSICREC_EVAL_KEEP_PLOTS=<dir> to keep the images for a look.

mod common;

use std::collections::HashSet;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use musicrec_eval::metrics;
use musicrec_eval::plots::{self, BarSeries, RocSeries};
use musicrec_eval::stats::ConfidenceInterval;

struct Png {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

fn decode(path: &Path) -> Png {
    let file = std::fs::File::open(path).unwrap();
    let decoder = png::Decoder::new(BufReader::new(file));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    Png {
        width: info.width,
        height: info.height,
        rgb: buf,
    }
}

fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("MUSICREC_EVAL_KEEP_PLOTS") {
        Some(dir) => (None, PathBuf::from(dir)),
        None => {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().to_path_buf();
            (Some(tmp), path)
        }
    }
}

/// Checks the PNG decodes, has the expected size and real content; returns its colours.
fn check_png(path: &Path, min_size: (u32, u32), must_contain: &[(u8, u8, u8)]) -> HashSet<[u8; 3]> {
    let bytes = std::fs::metadata(path).unwrap().len();
    assert!(bytes > 5_000, "{}: only {bytes} bytes", path.display());
    let png = decode(path);
    assert!(
        png.width >= min_size.0 && png.height >= min_size.1,
        "{}: {}x{}",
        path.display(),
        png.width,
        png.height
    );
    let pixels: Vec<[u8; 3]> = png
        .rgb
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let colours: HashSet<[u8; 3]> = pixels.iter().copied().collect();
    // Anti-aliased text gives many grey levels; a blank or single-colour image gives one.
    assert!(
        colours.len() > 20,
        "{}: only {} colours",
        path.display(),
        colours.len()
    );
    let white = pixels.iter().filter(|p| **p == [255, 255, 255]).count();
    assert!(
        white < pixels.len() * 98 / 100,
        "{}: almost all white",
        path.display()
    );
    let greys = pixels
        .iter()
        .filter(|p| p[0] == p[1] && p[1] == p[2] && p[0] < 128)
        .count();
    assert!(
        greys > 200,
        "{}: hardly any dark text/axis pixels ({greys})",
        path.display()
    );
    for &(r, g, b) in must_contain {
        assert!(
            colours.contains(&[r, g, b]),
            "{}: colour ({r}, {g}, {b}) missing",
            path.display()
        );
    }
    colours
}

const BLUE: (u8, u8, u8) = (31, 119, 180);
const ORANGE: (u8, u8, u8) = (255, 127, 14);

#[test]
fn roc_plot_draws_every_model() {
    let (_guard, dir) = out_dir();
    let (y, cnn) = common::synthetic(300, 1.5, 1);
    let crnn = common::second_model(&y, 2.5, 2);
    let truth = metrics::class_indicator(&y, 0);
    let curve_a = metrics::roc_curve(&truth, &cnn.column(0), true).unwrap();
    let curve_b = metrics::roc_curve(&truth, &crnn.column(0), true).unwrap();
    let auc_a = metrics::roc_auc(&truth, &cnn.column(0)).unwrap().value();
    let auc_b = metrics::roc_auc(&truth, &crnn.column(0)).unwrap().value();
    let path = dir.join("roc_blues.png");
    plots::plot_roc(
        &path,
        "ROC: blues",
        &[
            RocSeries {
                model: "CNN",
                curve: &curve_a,
                auc: auc_a,
            },
            RocSeries {
                model: "CRNN",
                curve: &curve_b,
                auc: auc_b,
            },
        ],
    )
    .unwrap();
    check_png(&path, (600, 500), &[BLUE, ORANGE]);
    assert!(plots::plot_roc(&path, "empty", &[]).is_err());
}

#[test]
fn roc_plot_lists_an_undefined_curve_without_drawing_it() {
    let (_guard, dir) = out_dir();
    let truth = [false, false, false];
    let curve = metrics::roc_curve(&truth, &[0.1, 0.5, 0.9], true).unwrap();
    assert!(curve.tpr.iter().all(|v| v.is_nan()));
    let path = dir.join("roc_undefined.png");
    plots::plot_roc(
        &path,
        "ROC: nobody",
        &[RocSeries {
            model: "CNN",
            curve: &curve,
            auc: None,
        }],
    )
    .unwrap();
    check_png(&path, (600, 500), &[]);
}

#[test]
fn grouped_bars_show_models_side_by_side() {
    let (_guard, dir) = out_dir();
    let cnn = [0.61, 0.92, 0.45, 0.70, 0.55];
    let crnn = [0.66, 0.95, 0.52, 0.68, f64::NAN];
    let ci: Vec<Option<ConfidenceInterval>> = cnn
        .iter()
        .map(|v| {
            Some(ConfidenceInterval {
                low: v - 0.05,
                high: v + 0.04,
            })
        })
        .collect();
    let path = dir.join("f1_bars.png");
    plots::plot_grouped_bars(
        &path,
        "F1 per genre",
        "F1",
        &common::GENRES,
        &[
            BarSeries {
                model: "CNN",
                values: &cnn,
                intervals: Some(&ci),
            },
            BarSeries {
                model: "CRNN",
                values: &crnn,
                intervals: None,
            },
        ],
    )
    .unwrap();
    check_png(&path, (700, 500), &[BLUE, ORANGE]);
    let err = plots::plot_grouped_bars(
        &path,
        "bad",
        "F1",
        &common::GENRES,
        &[BarSeries {
            model: "CNN",
            values: &cnn[..3],
            intervals: None,
        }],
    )
    .unwrap_err();
    assert!(err.to_string().contains("3 values for 5 genres"), "{err}");
}

#[test]
fn confusion_matrix_heat_map_has_shades_and_counts() {
    let (_guard, dir) = out_dir();
    let (y, scores) = common::synthetic(400, 2.0, 3);
    let cm = metrics::confusion_matrix(&y, &metrics::argmax_predictions(&scores), 5).unwrap();
    let path = dir.join("confusion_cnn.png");
    plots::plot_confusion_matrix(&path, "Confusion matrix: CNN", &common::GENRES, &cm).unwrap();
    let colours = check_png(&path, (500, 500), &[(8, 48, 107)]); // the largest count: darkest blue
    let blues = colours.iter().filter(|c| c[2] > c[0] && c[2] > 100).count();
    assert!(blues > 5, "only {blues} shades of blue");
    assert!(plots::plot_confusion_matrix(&path, "bad", &common::GENRES, &cm[..2]).is_err());
}
