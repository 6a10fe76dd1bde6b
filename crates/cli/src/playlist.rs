//! Songs as commands print them: the ranked table of `recommend` and `mix`, and M3U out (the
//! songs and playlists themselves are `musicrec_app`'s).

use std::path::Path;

use anyhow::Context;
pub use musicrec_app::Song;

use crate::table::{Align, Column, Fit};

/// The table of ranked songs (`recommend`, `mix`): rank, id, score, top genre, name, path.
pub fn print_ranked(songs: &[Song]) -> anyhow::Result<()> {
    const COLUMNS: [Column; 6] = [
        Column::new("#", Align::Right, Fit::Fixed),
        Column::new("id", Align::Right, Fit::Fixed),
        Column::new("score", Align::Right, Fit::Fixed),
        Column::new("genre", Align::Left, Fit::Fixed),
        Column::new("song", Align::Left, Fit::CutEnd),
        Column::new("path", Align::Left, Fit::CutStart),
    ];
    let rows: Vec<Vec<String>> = songs
        .iter()
        .enumerate()
        .map(|(rank, song)| {
            vec![
                (rank + 1).to_string(),
                song.id.to_string(),
                format!("{:.4}", song.score.unwrap_or(f32::NAN)),
                song.genre.clone().unwrap_or_else(|| "-".to_owned()),
                song.name(),
                song.path.display().to_string(),
            ]
        })
        .collect();
    print_rows(&COLUMNS, &rows)
}

/// `rows` under `columns`, fitted to the terminal.
pub fn print_rows(columns: &[Column], rows: &[Vec<String>]) -> anyhow::Result<()> {
    for line in crate::table::render(columns, rows, crate::table::output_width()) {
        outln!("{line}")?;
    }
    Ok(())
}

/// Extended M3U ([`musicrec_app::m3u`]), paths relative to `--base` when given; a note says how
/// many songs lie outside it (they keep their absolute paths).
pub fn m3u(songs: &[Song], base: Option<&Path>) -> anyhow::Result<String> {
    let base = base
        .map(|dir| {
            std::fs::canonicalize(dir)
                .with_context(|| format!("--base {}: no such folder", dir.display()))
        })
        .transpose()?;
    let written = musicrec_app::m3u(songs, base.as_deref());
    if written.outside > 0 {
        eprintln!(
            "note: {} of {} songs lie outside --base {} and keep their absolute paths",
            written.outside,
            songs.len(),
            base.as_deref().unwrap_or(Path::new("")).display()
        );
    }
    Ok(written.text)
}
