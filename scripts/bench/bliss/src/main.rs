//! `musicrec-bench-bliss DIR [JOBS]`: analyses every audio file under DIR with bliss-rs
//! (`SymphoniaDecoder::analyze_paths_with_options`, JOBS cores, default all) and prints one line of
//! JSON: files, analysed, failed, wall seconds. (bliss's symphonia decoder leaves a song's duration
//! unset, so the benchmark takes the audio's length from musicrec's catalog of the same files.)

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

use bliss_audio::AnalysisOptions;
use bliss_audio::decoder::Decoder as _;
use bliss_audio::decoder::symphonia::SymphoniaDecoder;

/// What `musicrec scan` looks for (crates/audio `AUDIO_EXTENSIONS`) that symphonia can read.
const EXTENSIONS: &[&str] = &["wav", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac", "aiff", "aif"];

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: musicrec-bench-bliss DIR [JOBS]"));
    let jobs = args
        .next()
        .map(|j| j.parse::<NonZeroUsize>().expect("JOBS is a positive number"))
        .unwrap_or_else(|| std::thread::available_parallelism().expect("a CPU count"));
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    paths.sort();
    let files = paths.len();
    let options = AnalysisOptions {
        number_cores: jobs,
        ..AnalysisOptions::default()
    };
    let start = Instant::now();
    let (mut analysed, mut failed) = (0usize, 0usize);
    for (path, result) in SymphoniaDecoder::analyze_paths_with_options(paths, options) {
        match result {
            Ok(_) => analysed += 1,
            Err(err) => {
                failed += 1;
                eprintln!("bliss failed: {}: {err}", path.display());
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "{{\"files\": {files}, \"analysed\": {analysed}, \"failed\": {failed}, \"wall_s\": {wall:.3}}}"
    );
}
