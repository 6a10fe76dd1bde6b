//! Aligned text tables, as a text front end prints songs and tracks (`musicrec recommend`,
//! `tracks`, `mix`, `path`): each column as wide as its widest cell (measured in terminal cells
//! with unicode-width, so CJK and accented names line up), and when the table is wider than the
//! terminal, the flexible columns (song, path) are cut with an ellipsis. How wide the terminal
//! is, is the front end's to say.
//!
//! Hand-written in ~100 lines because the table crates (comfy-table, tabled) wrap or cut cells
//! only at their end, while a path is best cut at its start (the file name is what tells songs
//! apart), and they draw borders these plain, grep-able listings do not want.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::{Song, Step, TrackEntry};

/// Horizontal alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// How a column gives way when the table is too wide for the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Never cut (numbers, short labels).
    Fixed,
    /// Cut at the end: "A long song na…".
    CutEnd,
    /// Cut at the start: "…/album/03 song.flac".
    CutStart,
}

/// One column: header, alignment, and how it fits.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub align: Align,
    pub fit: Fit,
}

impl Column {
    pub const fn new(header: &'static str, align: Align, fit: Fit) -> Self {
        Self { header, align, fit }
    }
}

/// A table of songs or tracks, ready to render: the columns and one row of cells per item.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: &'static [Column],
    pub rows: Vec<Vec<String>>,
}

/// `value`, or "-" when unknown.
fn or_dash(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "-".to_owned())
}

impl Table {
    /// Ranked songs (`recommend`, `mix`): rank, id, score, top genre, name, path.
    pub fn ranked(songs: &[Song]) -> Self {
        const COLUMNS: [Column; 6] = [
            Column::new("#", Align::Right, Fit::Fixed),
            Column::new("id", Align::Right, Fit::Fixed),
            Column::new("score", Align::Right, Fit::Fixed),
            Column::new("genre", Align::Left, Fit::Fixed),
            Column::new("song", Align::Left, Fit::CutEnd),
            Column::new("path", Align::Left, Fit::CutStart),
        ];
        let rows = songs
            .iter()
            .enumerate()
            .map(|(rank, song)| {
                vec![
                    (rank + 1).to_string(),
                    song.id.to_string(),
                    format!("{:.4}", song.score.unwrap_or(f32::NAN)),
                    or_dash(&song.genre),
                    song.name(),
                    song.path.display().to_string(),
                ]
            })
            .collect();
        Self {
            columns: &COLUMNS,
            rows,
        }
    }

    /// Tracks found (`tracks`): id, song, album, genre, length, path.
    pub fn tracks(entries: &[TrackEntry]) -> Self {
        const COLUMNS: [Column; 6] = [
            Column::new("id", Align::Right, Fit::Fixed),
            Column::new("song", Align::Left, Fit::CutEnd),
            Column::new("album", Align::Left, Fit::CutEnd),
            Column::new("genre", Align::Left, Fit::Fixed),
            Column::new("length", Align::Right, Fit::Fixed),
            Column::new("path", Align::Left, Fit::CutStart),
        ];
        let rows = entries
            .iter()
            .map(|e| {
                vec![
                    e.id.to_string(),
                    e.song(),
                    or_dash(&e.album),
                    or_dash(&e.genre),
                    e.length().unwrap_or_else(|| "-".to_owned()),
                    e.path.display().to_string(),
                ]
            })
            .collect();
        Self {
            columns: &COLUMNS,
            rows,
        }
    }

    /// A song path (`path`): step, id, cosine similarity to the first and last song, genre,
    /// name, path.
    pub fn path(steps: &[Step]) -> Self {
        const COLUMNS: [Column; 7] = [
            Column::new("#", Align::Right, Fit::Fixed),
            Column::new("id", Align::Right, Fit::Fixed),
            Column::new("~from", Align::Right, Fit::Fixed),
            Column::new("~to", Align::Right, Fit::Fixed),
            Column::new("genre", Align::Left, Fit::Fixed),
            Column::new("song", Align::Left, Fit::CutEnd),
            Column::new("path", Align::Left, Fit::CutStart),
        ];
        let rows = steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                vec![
                    (i + 1).to_string(),
                    step.song.id.to_string(),
                    format!("{:.3}", step.similarity_to_start),
                    format!("{:.3}", step.similarity_to_end),
                    or_dash(&step.song.genre),
                    step.song.name(),
                    step.song.path.display().to_string(),
                ]
            })
            .collect();
        Self {
            columns: &COLUMNS,
            rows,
        }
    }

    /// The lines (header first), fitted to `width` when given.
    pub fn lines(&self, width: Option<usize>) -> Vec<String> {
        render(self.columns, &self.rows, width)
    }
}

/// The narrowest a flexible column is cut to, in terminal cells.
const MIN_FLEXIBLE_WIDTH: usize = 12;
/// Spaces between columns.
const GAP: &str = "  ";

/// Renders `rows` under `columns` as lines (header first), fitted to `width` when given.
pub fn render(columns: &[Column], rows: &[Vec<String>], width: Option<usize>) -> Vec<String> {
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            rows.iter()
                .map(|row| row.get(i).map_or(0, |cell| cell.width()))
                .chain([column.header.width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    if let Some(limit) = width {
        let total =
            |widths: &[usize]| widths.iter().sum::<usize>() + GAP.len() * (widths.len() - 1);
        // Take one cell at a time from the widest flexible column until the table fits or every
        // flexible column is at its minimum.
        while total(&widths) > limit {
            let widest = (0..columns.len())
                .filter(|&i| columns[i].fit != Fit::Fixed && widths[i] > MIN_FLEXIBLE_WIDTH)
                .max_by_key(|&i| (widths[i], i));
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str(GAP);
            }
            let cell = fit(cell, widths[i], columns[i].fit);
            let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
            match columns[i].align {
                Align::Left => {
                    text.push_str(&cell);
                    text.push_str(&pad);
                }
                Align::Right => {
                    text.push_str(&pad);
                    text.push_str(&cell);
                }
            }
        }
        text.trim_end().to_owned()
    };
    let mut lines = vec![line(&mut columns.iter().map(|c| c.header))];
    for row in rows {
        lines.push(line(&mut row.iter().map(String::as_str)));
    }
    lines
}

/// `text` cut to `width` terminal cells with an ellipsis, at the end or start as `fit` says.
fn fit(text: &str, width: usize, fit: Fit) -> String {
    if text.width() <= width || fit == Fit::Fixed || width == 0 {
        return text.to_owned();
    }
    let budget = width - 1; // the ellipsis takes one cell
    let mut kept = String::new();
    let mut used = 0;
    let take = |c: char, used: &mut usize| {
        let w = c.width().unwrap_or(0);
        if *used + w > budget {
            return false;
        }
        *used += w;
        true
    };
    match fit {
        Fit::CutEnd => {
            for c in text.chars() {
                if !take(c, &mut used) {
                    break;
                }
                kept.push(c);
            }
            kept.push('…');
            kept
        }
        _ => {
            let mut tail: Vec<char> = Vec::new();
            for c in text.chars().rev() {
                if !take(c, &mut used) {
                    break;
                }
                tail.push(c);
            }
            kept.push('…');
            kept.extend(tail.into_iter().rev());
            kept
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 3] = [
        Column::new("#", Align::Right, Fit::Fixed),
        Column::new("song", Align::Left, Fit::CutEnd),
        Column::new("path", Align::Left, Fit::CutStart),
    ];

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["1".into(), "Short".into(), "/m/a.flac".into()],
            vec![
                "10".into(),
                "Sigur Rós - Hoppípolla (a very long live version)".into(),
                "/music/Sigur Rós/Takk/03 Hoppípolla.flac".into(),
            ],
            vec!["3".into(), "久石譲 - あの夏へ".into(), "/m/b.flac".into()],
        ]
    }

    #[test]
    fn columns_line_up_in_terminal_cells() {
        let lines = render(&COLUMNS, &rows(), None);
        // Every path starts in the same terminal column, wide characters included.
        let starts: Vec<usize> = lines
            .iter()
            .map(|l| l[..l.find("path").or_else(|| l.find('/')).unwrap()].width())
            .collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{lines:#?}");
        assert!(
            lines[2].contains("(a very long live version)"),
            "no cut without a width"
        );
    }

    #[test]
    fn too_wide_tables_cut_song_ends_and_path_starts() {
        let lines = render(&COLUMNS, &rows(), Some(50));
        for line in &lines {
            assert!(line.width() <= 50, "{line:?} is {} wide", line.width());
        }
        assert!(lines[2].contains("Sigur Rós - Hopp"), "{lines:#?}");
        assert!(lines[2].contains('…'), "{lines:#?}");
        assert!(lines[2].ends_with("Hoppípolla.flac"), "{lines:#?}");
        // Untouched rows keep their text.
        assert!(lines[3].contains("久石譲 - あの夏へ"), "{lines:#?}");
    }

    #[test]
    fn cutting_respects_wide_characters() {
        assert_eq!(fit("久石譲 - あの夏へ", 6, Fit::CutEnd), "久石…");
        assert_eq!(fit("abcdef", 4, Fit::CutStart), "…def");
        assert_eq!(fit("abc", 4, Fit::CutStart), "abc");
    }
}
