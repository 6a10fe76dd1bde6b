//! Log-mel `.npy` files of audio files, outside any data set: one file, or a parallel batch into
//! a folder with one distinct output name per input (what `musicrec features` writes).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::ProgressBar;
use musicrec_features::{MelExtractor, write_npy};
use rayon::prelude::*;

/// Why one file's log-mel could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The file could not be decoded (the audio error's one-line reason).
    #[error("{0}")]
    Decode(String),
    /// The `.npy` file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Decodes `input`, resamples it to the extractor's sample rate, computes its log-mel and writes
/// it atomically to `out` as a float32 `[n_mels, n_frames]` `.npy` file.
pub fn extract_file(
    extractor: &MelExtractor,
    input: &Path,
    out: &Path,
) -> Result<(), ExtractError> {
    // The audio error's Display is the whole one-line reason; its source chain stays out.
    let audio = musicrec_audio::load(input, Some(extractor.config().sample_rate))
        .map_err(|err| ExtractError::Decode(err.to_string()))?;
    let mel = extractor.log_mel(&audio.samples);
    write_npy(out, &mel).map_err(|source| ExtractError::Write {
        path: out.to_path_buf(),
        source,
    })
}

/// The inputs of a batch, each given once (first occurrence kept, in order), with the name of
/// its output file (see [`output_names`]).
pub fn plan_batch(inputs: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut seen = HashSet::new();
    let inputs: Vec<&PathBuf> = inputs.iter().filter(|p| seen.insert(*p)).collect();
    let names = output_names(&inputs);
    inputs.into_iter().cloned().zip(names).collect()
}

/// Whether `name` is not the plain `<stem>.npy` of `input` (another input has the same stem).
pub fn is_renamed(input: &Path, name: &str) -> bool {
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    name != format!("{stem}.npy")
}

/// Writes the log-mel of every input of `plan` (from [`plan_batch`]) into the folder `out_dir`,
/// in parallel on the current rayon pool, advancing `progress` by one per file and
/// setting its message to the file in work. Returns the files that failed, sorted by path.
pub fn extract_batch(
    extractor: &MelExtractor,
    plan: &[(PathBuf, String)],
    out_dir: &Path,
    progress: &ProgressBar,
) -> Vec<(PathBuf, ExtractError)> {
    let failures = Mutex::new(Vec::new());
    plan.par_iter().for_each(|(input, name)| {
        progress.set_message(input.display().to_string());
        if let Err(err) = extract_file(extractor, input, &out_dir.join(name)) {
            failures
                .lock()
                .expect("no panic holds the lock")
                .push((input.clone(), err));
        }
        progress.inc(1);
    });
    let mut failures = failures.into_inner().expect("no panic holds the lock");
    // The plan holds every input once: the path alone orders the failures.
    failures.sort_by(|a, b| a.0.cmp(&b.0));
    failures
}

/// A rayon pool of `jobs` threads (`None`: one per core).
pub fn thread_pool(
    jobs: Option<NonZeroUsize>,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.map_or(0, NonZeroUsize::get))
        .build()
}

/// One distinct output file name per input: `<stem>.npy`; inputs sharing a stem get
/// `<file name>.npy`, and those still sharing one (same name in different folders) are numbered
/// `<file name>-2.npy`, `-3`, ... in input order. Never two inputs on one output.
pub fn output_names(inputs: &[&PathBuf]) -> Vec<String> {
    let stem = |p: &Path| {
        p.file_stem()
            .unwrap_or(p.as_os_str())
            .to_string_lossy()
            .into_owned()
    };
    let file_name = |p: &Path| {
        p.file_name()
            .unwrap_or(p.as_os_str())
            .to_string_lossy()
            .into_owned()
    };
    let mut stem_counts: HashMap<String, usize> = HashMap::new();
    for p in inputs {
        *stem_counts.entry(stem(p)).or_default() += 1;
    }
    let mut used: HashSet<String> = inputs
        .iter()
        .map(|p| stem(p))
        .filter(|s| stem_counts[s] == 1)
        .map(|s| format!("{s}.npy"))
        .collect();
    inputs
        .iter()
        .map(|p| {
            let s = stem(p);
            if stem_counts[&s] == 1 {
                return format!("{s}.npy");
            }
            let base = file_name(p);
            let mut name = format!("{base}.npy");
            let mut n = 1;
            while !used.insert(name.clone()) {
                n += 1;
                name = format!("{base}-{n}.npy");
            }
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_are_stems_unless_they_collide() {
        let paths: Vec<PathBuf> = [
            "a/blues.00000.wav",
            "a/song.mp3",
            "b/song.wav",
            "c/song.mp3",
            "d/other.flac",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let refs: Vec<&PathBuf> = paths.iter().collect();
        let names = output_names(&refs);
        assert_eq!(
            names,
            [
                "blues.00000.npy",
                "song.mp3.npy",
                "song.wav.npy",
                "song.mp3-2.npy",
                "other.npy"
            ]
        );
        let plan = plan_batch(&[paths[1].clone(), paths[0].clone(), paths[1].clone()]);
        assert_eq!(plan.len(), 2, "a repeated input is planned once");
        assert!(!is_renamed(&plan[0].0, &plan[0].1));
    }
}
