//! The line chart end to end: a real PNG of the asked size with each line in its palette colour,
//! text drawn with the bundled font, gaps for missing values, and clear errors for bad input.

use std::path::Path;

use musicrec_plot::{Line, LineChart, PALETTE, PlotError};

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgb);
    (info.width, info.height, buf)
}

fn count_color(rgb: &[u8], color: (u8, u8, u8)) -> usize {
    rgb.chunks_exact(3)
        .filter(|p| (p[0], p[1], p[2]) == color)
        .count()
}

#[test]
fn draws_every_line_in_its_colour_with_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/curves.png");
    let train: Vec<(f64, f64)> = (1..=10).map(|e| (e as f64, 1.0 / e as f64)).collect();
    let val: Vec<(f64, f64)> = (1..=10)
        .map(|e| (e as f64, if e == 5 { f64::NAN } else { 1.2 / e as f64 }))
        .collect();
    LineChart::new("Loss", "epoch", "BCE")
        .draw(
            &path,
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
        )
        .unwrap();
    let (w, h, rgb) = decode(&path);
    assert_eq!((w, h), (720, 480));
    for (i, c) in PALETTE.iter().take(2).enumerate() {
        let n = count_color(&rgb, (c.0, c.1, c.2));
        assert!(n > 200, "line {i} has only {n} pixels of its colour");
    }
    assert_eq!(
        count_color(&rgb, (PALETTE[2].0, PALETTE[2].1, PALETTE[2].2)),
        0
    );
    // Title, tick labels and legend: dark anti-aliased glyph pixels that are in no line colour.
    let dark = rgb
        .chunks_exact(3)
        .filter(|p| p.iter().all(|&v| v < 80))
        .count();
    assert!(dark > 300, "no text drawn ({dark} dark pixels)");
    // Nothing else is left in the folder (the temp file was renamed).
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
}

#[test]
fn a_single_point_and_a_fixed_range_still_plot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acc.png");
    let mut chart = LineChart::new("Accuracy", "epoch", "accuracy");
    chart.y_range = Some((0.0, 1.0));
    chart
        .draw(
            &path,
            &[Line {
                name: "val",
                points: &[(1.0, 0.5)],
            }],
        )
        .unwrap();
    let (_, _, rgb) = decode(&path);
    assert!(count_color(&rgb, (PALETTE[0].0, PALETTE[0].1, PALETTE[0].2)) > 10);
}

#[test]
fn bad_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.png");
    let chart = LineChart::new("t", "x", "y");
    assert!(matches!(chart.draw(&path, &[]), Err(PlotError::Invalid(_))));
    let mut fixed = chart.clone();
    fixed.y_range = Some((1.0, 1.0));
    let err = fixed
        .draw(
            &path,
            &[Line {
                name: "a",
                points: &[(0.0, 1.0)],
            }],
        )
        .unwrap_err();
    assert!(err.to_string().contains("y range"), "{err}");
    assert!(!path.exists());
}
