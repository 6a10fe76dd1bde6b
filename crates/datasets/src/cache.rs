//! The feature cache: every clip's log-mel computed once, stored as `.npy`, keyed by the blake3 hash of
//! the audio file's bytes and by [`MelConfig::cache_key`].
//!
//! Layout: `<root>/<cache_key>/<first 2 hex>/<blake3 hex>.npy`, plus `<root>/<cache_key>/config.json`
//! (the full [`MelConfig`], for people). Content keys make renamed or moved files hit the cache and
//! edited files miss it; the config key means changing any feature parameter never reuses a stale entry.
//!
//! Crash safety: an entry is written in a per-process staging folder `<root>/<cache_key>/.partial/<pid>/`
//! and renamed into place, so an entry that exists is complete. A killed run leaves at most its staging
//! folder, which the next [`prepare`] removes (when that process is gone) before resuming; finished
//! entries are never recomputed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::ProgressBar;
use musicrec_features::{LogMel, MelConfig, MelExtractor};
use rayon::prelude::*;

use crate::atomic::write_atomic;
use crate::error::{DatasetError, Result};

/// blake3 hash of a file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    /// Hashes the whole file at `path`.
    pub fn of_file(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
        let mut hasher = blake3::Hasher::new();
        hasher
            .update_reader(file)
            .map_err(|e| DatasetError::io(path, e))?;
        Ok(Self(*hasher.finalize().as_bytes()))
    }

    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl std::fmt::Display for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::str::FromStr for ContentHash {
    type Err = DatasetError;
    fn from_str(s: &str) -> Result<Self> {
        blake3::Hash::from_hex(s.trim())
            .map(|h| Self(*h.as_bytes()))
            .map_err(|_| {
                DatasetError::InvalidOption(format!("'{s}' is not a 64-digit blake3 hex hash"))
            })
    }
}

/// What to look up: an audio file (hashed on the spot) or a hash already known.
#[derive(Clone, Copy, Debug)]
pub enum CacheLookup<'a> {
    Path(&'a Path),
    Hash(ContentHash),
}

impl<'a> From<&'a Path> for CacheLookup<'a> {
    fn from(p: &'a Path) -> Self {
        Self::Path(p)
    }
}

impl<'a> From<&'a PathBuf> for CacheLookup<'a> {
    fn from(p: &'a PathBuf) -> Self {
        Self::Path(p)
    }
}

impl From<ContentHash> for CacheLookup<'_> {
    fn from(h: ContentHash) -> Self {
        Self::Hash(h)
    }
}

/// A feature cache folder (see the module doc).
#[derive(Clone, Debug)]
pub struct FeatureCache {
    root: PathBuf,
}

const STAGING: &str = ".partial";

impl FeatureCache {
    /// Opens (creating if needed) the cache at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| DatasetError::io(&root, e))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/<cache_key>`: every entry of one feature configuration.
    pub fn config_dir(&self, cfg: &MelConfig) -> PathBuf {
        self.root.join(cfg.cache_key())
    }

    /// Where the entry for `hash` under `cfg` lives (whether or not it exists).
    pub fn entry_path(&self, hash: &ContentHash, cfg: &MelConfig) -> PathBuf {
        let hex = hash.to_hex();
        self.config_dir(cfg)
            .join(&hex[..2])
            .join(format!("{hex}.npy"))
    }

    pub fn contains(&self, hash: &ContentHash, cfg: &MelConfig) -> bool {
        self.entry_path(hash, cfg).is_file()
    }

    /// The cached log-mel of a file or hash; [`DatasetError::NotCached`] when absent, a features
    /// error when the entry cannot be read.
    pub fn get<'a>(&self, what: impl Into<CacheLookup<'a>>, cfg: &MelConfig) -> Result<LogMel> {
        let what = what.into();
        self.try_get(what, cfg)?.ok_or_else(|| {
            DatasetError::NotCached(match what {
                CacheLookup::Path(p) => format!("{} (run `musicrec dataset prepare`)", p.display()),
                CacheLookup::Hash(h) => h.to_hex(),
            })
        })
    }

    /// Like [`FeatureCache::get`], with `None` for an absent entry.
    pub fn try_get<'a>(
        &self,
        what: impl Into<CacheLookup<'a>>,
        cfg: &MelConfig,
    ) -> Result<Option<LogMel>> {
        let hash = match what.into() {
            CacheLookup::Path(p) => ContentHash::of_file(p)?,
            CacheLookup::Hash(h) => h,
        };
        let path = self.entry_path(&hash, cfg);
        if !path.is_file() {
            return Ok(None);
        }
        Ok(Some(musicrec_features::read_npy(&path)?))
    }

    /// Stores `mel` as the entry for `hash` under `cfg`, atomically.
    pub fn insert(&self, hash: &ContentHash, cfg: &MelConfig, mel: &LogMel) -> Result<()> {
        let config_dir = self.config_dir(cfg);
        let config_json = config_dir.join("config.json");
        if !config_json.is_file() {
            let json = serde_json::to_vec_pretty(cfg).expect("MelConfig serialises");
            write_atomic(&config_json, |w| w.write_all(&json))?;
        }
        let staging = self.staging_dir(cfg);
        std::fs::create_dir_all(&staging).map_err(|e| DatasetError::io(&staging, e))?;
        let target = self.entry_path(hash, cfg);
        let shard = target.parent().expect("entry has a shard folder");
        std::fs::create_dir_all(shard).map_err(|e| DatasetError::io(shard, e))?;
        // Unique per call: two files with the same content may be computed at the same moment.
        static STAGED: AtomicU64 = AtomicU64::new(0);
        let staged = staging.join(format!(
            "{}.{}.npy",
            hash.to_hex(),
            STAGED.fetch_add(1, Ordering::Relaxed)
        ));
        musicrec_features::write_npy(&staged, mel).map_err(|e| DatasetError::io(&staged, e))?;
        // write_npy's temp file is 0600; cache entries are shared data like the audio they come from.
        #[cfg(unix)]
        std::fs::set_permissions(&staged, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .map_err(|e| DatasetError::io(&staged, e))?;
        std::fs::rename(&staged, &target).map_err(|e| DatasetError::io(&target, e))?;
        Ok(())
    }

    fn staging_dir(&self, cfg: &MelConfig) -> PathBuf {
        self.config_dir(cfg)
            .join(STAGING)
            .join(std::process::id().to_string())
    }

    /// Removes staging folders left by processes that no longer run (a killed `prepare`).
    pub fn remove_stale_staging(&self, cfg: &MelConfig) -> Result<usize> {
        let staging_root = self.config_dir(cfg).join(STAGING);
        let Ok(items) = std::fs::read_dir(&staging_root) else {
            return Ok(0);
        };
        let mut removed = 0;
        for item in items.flatten() {
            let name = item.file_name();
            let pid = name.to_str().and_then(|n| n.parse::<u32>().ok());
            let stale = match pid {
                Some(pid) => pid != std::process::id() && !process_alive(pid),
                None => true,
            };
            if stale {
                let path = item.path();
                let result = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                result.map_err(|e| DatasetError::io(&path, e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn remove_own_staging(&self, cfg: &MelConfig) {
        let own = self.staging_dir(cfg);
        let _ = std::fs::remove_dir_all(&own);
        // Leave no empty `.partial` behind either; fails harmlessly while another run uses it.
        let _ = std::fs::remove_dir(self.config_dir(cfg).join(STAGING));
    }
}

/// Whether process `pid` exists. Linux: `/proc/<pid>`; elsewhere we cannot tell cheaply and say yes, so a
/// staging folder is only ever removed when it is surely abandoned.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// What [`prepare`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrepareReport {
    /// Distinct files asked for.
    pub total: usize,
    /// Log-mels computed now.
    pub computed: usize,
    /// Already in the cache (earlier run, or the same content under another name).
    pub cached: usize,
    /// Files that could not be read or decoded, with the reason; the rest went on.
    pub failed: Vec<(PathBuf, String)>,
}

enum Outcome {
    Computed,
    Cached,
    Failed(String),
}

/// Computes the log-mel of every file in `paths` not yet cached under `cfg`, in parallel (current rayon
/// pool), resuming after any interruption (see the module doc). `progress` gets one tick per file.
pub fn prepare(
    paths: &[PathBuf],
    cache: &FeatureCache,
    cfg: &MelConfig,
    progress: &ProgressBar,
) -> Result<PrepareReport> {
    cfg.validate()?;
    let extractor = MelExtractor::new(cfg)?;
    let removed = cache.remove_stale_staging(cfg)?;
    if removed > 0 {
        tracing::info!(removed, "removed staging folders of interrupted runs");
    }
    let mut unique: Vec<&PathBuf> = paths.iter().collect();
    unique.sort();
    unique.dedup();
    progress.set_length(unique.len() as u64);

    let outcomes: Vec<(PathBuf, Outcome)> = unique
        .par_iter()
        .map(|path| {
            let outcome = prepare_one(path, cache, cfg, &extractor);
            if let Outcome::Failed(reason) = &outcome {
                progress.suspend(|| tracing::warn!("{}: {reason}", path.display()));
            }
            progress.inc(1);
            ((*path).clone(), outcome)
        })
        .collect();
    cache.remove_own_staging(cfg);

    let mut report = PrepareReport {
        total: unique.len(),
        ..PrepareReport::default()
    };
    for (path, outcome) in outcomes {
        match outcome {
            Outcome::Computed => report.computed += 1,
            Outcome::Cached => report.cached += 1,
            Outcome::Failed(reason) => report.failed.push((path, reason)),
        }
    }
    Ok(report)
}

fn prepare_one(
    path: &Path,
    cache: &FeatureCache,
    cfg: &MelConfig,
    extractor: &MelExtractor,
) -> Outcome {
    let hash = match ContentHash::of_file(path) {
        Ok(h) => h,
        Err(e) => return Outcome::Failed(format!("cannot read: {}", source_message(&e))),
    };
    if cache.contains(&hash, cfg) {
        return Outcome::Cached;
    }
    let audio = match musicrec_audio::load(path, Some(cfg.sample_rate)) {
        Ok(a) => a,
        Err(e) => return Outcome::Failed(format!("cannot decode: {e}")),
    };
    let mel = extractor.log_mel(&audio.samples);
    match cache.insert(&hash, cfg, &mel) {
        Ok(()) => Outcome::Computed,
        Err(e) => Outcome::Failed(format!("cannot write the cache entry: {e}")),
    }
}

fn source_message(e: &DatasetError) -> String {
    match e {
        DatasetError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_hex_roundtrip() {
        let h = ContentHash::of_bytes(b"abc");
        assert_eq!(h.to_hex().len(), 64);
        assert_eq!(h.to_hex().parse::<ContentHash>().unwrap(), h);
        assert!("xyz".parse::<ContentHash>().is_err());
    }

    #[test]
    fn stale_staging_of_dead_process_is_removed_live_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::open(dir.path()).unwrap();
        let cfg = MelConfig::librosa();
        let staging = cache.config_dir(&cfg).join(STAGING);
        // u32::MAX is above Linux's pid_max, so that process surely does not exist.
        let dead = staging.join(u32::MAX.to_string());
        let mine = staging.join(std::process::id().to_string());
        for d in [&dead, &mine] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("x.npy.tmp"), b"half").unwrap();
        }
        let removed = cache.remove_stale_staging(&cfg).unwrap();
        assert_eq!(removed, usize::from(cfg!(target_os = "linux")));
        assert!(mine.exists());
        assert_eq!(dead.exists(), !cfg!(target_os = "linux"));
    }
}
