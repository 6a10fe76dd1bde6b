//! Songs as commands print them: a table ([`musicrec_app::table`]) fitted to the terminal, and
//! M3U out (the songs, playlists and tables themselves are `musicrec_app`'s).

use std::path::Path;

use anyhow::Context;
pub use musicrec_app::Song;

use musicrec_app::table::Table;

/// `table` fitted to the terminal.
pub fn print_table(table: &Table) -> anyhow::Result<()> {
    for line in table.lines(output_width()) {
        outln!("{line}")?;
    }
    Ok(())
}

/// The width to fit tables to: `COLUMNS` when set (as `ls` honours it), else the width of the
/// terminal that stdout is; `None` when stdout is not a terminal (a pipe or a file gets whole
/// lines).
fn output_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(columns);
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
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
