//! The server's shared state: the catalog (one writer: the store sits behind a mutex and is only
//! touched from blocking tasks) and the in-memory search index loaded from it, swapped whole when
//! the catalog changes (`POST /api/reload`, or the periodic check of the catalog's change
//! revision, [`CatalogStore::revision`]: one row read on either backend, so polling costs nothing
//! however large the catalog, and a re-embedding that leaves every count as it was is noticed).

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use musicrec_app::{AppError, ModelIndex, ModelRequest};
use musicrec_catalog::CatalogStore;

use crate::error::ApiError;
use crate::map::MapData;
use crate::upstream::Upstream;
use crate::work::{WorkLimits, WorkPool};

/// One model's embeddings as loaded from the catalog, indexed ([`ModelIndex`]: `model_id`, `set`,
/// `index`), with the catalog revision they were read at and the 2-D map.
#[derive(Debug)]
pub struct LoadedIndex {
    pub model: ModelIndex,
    /// The catalog's change revision, read just before the embeddings were.
    pub revision: u64,
    /// The 2-D map, computed on first use (once per loaded index).
    map: OnceLock<Arc<MapData>>,
}

impl std::ops::Deref for LoadedIndex {
    type Target = ModelIndex;

    fn deref(&self) -> &ModelIndex {
        &self.model
    }
}

impl LoadedIndex {
    /// Wraps `model` (and builds its int8 copy, so that no request pays for it).
    pub fn new(model: ModelIndex, revision: u64) -> Self {
        model.index.prepare_quantized();
        Self {
            model,
            revision,
            map: OnceLock::new(),
        }
    }

    /// Most probable genre of a row and its probability (`None` for a model without genres).
    pub fn top_genre(&self, row: usize) -> Option<(&str, f32)> {
        let g = self.set.top_genre(row)?;
        Some((
            self.set.model.genres[g].as_str(),
            self.set.genre_probs(row)[g],
        ))
    }

    /// The 2-D PCA map of the embeddings (computed on the first call).
    pub fn map(&self) -> Arc<MapData> {
        self.map
            .get_or_init(|| Arc::new(MapData::from_set(&self.set)))
            .clone()
    }
}

struct Inner {
    store: Mutex<Box<dyn CatalogStore>>,
    index: RwLock<Option<Arc<LoadedIndex>>>,
    /// The revision the last load saw (also when it found no model to load).
    loaded_revision: Mutex<u64>,
    /// Which model to serve (see [`musicrec_app::choose_model`]).
    model: ModelRequest,
    /// Serialises reloads so that two of them never build the index at once.
    reload_lock: tokio::sync::Mutex<()>,
}

/// Cheap to clone: every handler gets one.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    /// Where catalog calls and computations run, bounded ([`WorkPool`]).
    work: Arc<WorkPool>,
    /// Companion mode: the Subsonic server whose songs musicrec maps ([`Upstream`]).
    upstream: Option<Arc<Upstream>>,
}

impl AppState {
    /// Opens the state over `store` and loads the index of `pinned` (a model id), else the
    /// catalog's only model, or the one with the most embedded tracks.
    pub fn new(store: Box<dyn CatalogStore>, pinned: Option<String>) -> Result<Self, ApiError> {
        Self::serving(
            store,
            ModelRequest {
                requested: pinned.map(|id| (id.clone(), id)),
                preferred: None,
            },
        )
    }

    /// Opens the state over `store` and loads the index of the model `model` chooses (as the
    /// CLI chooses: see [`musicrec_app::choose_model`]). A catalog without any embedded model is
    /// fine: the index is then empty until a reload.
    pub fn serving(store: Box<dyn CatalogStore>, model: ModelRequest) -> Result<Self, ApiError> {
        let (revision, loaded) = load(store.as_ref(), &model)?;
        Ok(Self {
            inner: Arc::new(Inner {
                store: Mutex::new(store),
                index: RwLock::new(loaded.map(Arc::new)),
                loaded_revision: Mutex::new(revision),
                model,
                reload_lock: tokio::sync::Mutex::new(()),
            }),
            work: Arc::new(WorkPool::new(WorkLimits::default())),
            upstream: None,
        })
    }

    /// The same state in companion mode of `upstream` (its `/rest` calls go there).
    pub fn with_upstream(mut self, upstream: Arc<Upstream>) -> Self {
        self.upstream = Some(upstream);
        self
    }

    /// The upstream Subsonic server, in companion mode.
    pub fn upstream(&self) -> Option<&Arc<Upstream>> {
        self.upstream.as_ref()
    }

    /// The same state with its own work pool of `limits` (the catalog and index are shared).
    pub fn with_work_limits(mut self, limits: WorkLimits) -> Self {
        self.work = Arc::new(WorkPool::new(limits));
        self
    }

    /// The pool catalog calls and computations run on.
    pub fn work(&self) -> &WorkPool {
        &self.work
    }

    /// Runs CPU-bound `job` on rayon's pool through the work pool (429 when it is full).
    pub async fn compute<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.work.compute(job).await
    }

    /// The index now in use (`None` while the catalog has no embedded model).
    pub fn index(&self) -> Option<Arc<LoadedIndex>> {
        self.inner
            .index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The index now in use, or a 409 saying the catalog has nothing embedded yet.
    pub fn require_index(&self) -> Result<Arc<LoadedIndex>, ApiError> {
        self.index().ok_or_else(|| {
            ApiError::unavailable(
                "the catalog has no embedded tracks yet: run `musicrec scan DIR --model MODEL_DIR`, then POST /api/reload",
            )
        })
    }

    /// Runs `f` with the store on a blocking thread (SQLite calls block; the store has one user
    /// at a time), through the work pool: 429 when too many jobs are running or waiting.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn CatalogStore) -> Result<T, ApiError> + Send + 'static,
    {
        let inner = self.inner.clone();
        self.work
            .blocking(move || {
                // A panic while holding the lock leaves SQLite consistent (every write is one
                // transaction), so a poisoned lock is still safe to use.
                let mut store = inner
                    .store
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                f(store.as_mut())
            })
            .await
    }

    /// Reloads the index from the catalog now. Returns the new index (or `None`: no model).
    pub async fn reload(&self) -> Result<Option<Arc<LoadedIndex>>, ApiError> {
        let _one_at_a_time = self.inner.reload_lock.lock().await;
        let model = self.inner.model.clone();
        let (revision, loaded) = self.with_store(move |store| load(store, &model)).await?;
        let loaded = loaded.map(Arc::new);
        *self
            .inner
            .index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = loaded.clone();
        *self
            .inner
            .loaded_revision
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = revision;
        Ok(loaded)
    }

    /// The catalog revision the index in use was loaded at (or the last load found no model).
    pub fn loaded_revision(&self) -> u64 {
        *self
            .inner
            .loaded_revision
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reloads when the catalog's change revision differs from the one the index was loaded
    /// at (any committed change to tracks or embeddings since); returns whether it reloaded.
    /// The check itself is one row read, on SQLite and PostgreSQL alike.
    pub async fn reload_if_changed(&self) -> Result<bool, ApiError> {
        let now = self.with_store(|store| Ok(store.revision()?)).await?;
        if now == self.loaded_revision() {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }
}

/// The revision read first (a change committed during the load then shows at the next check
/// instead of being missed), and the index of the chosen model, if the catalog holds any.
fn load(
    store: &dyn CatalogStore,
    model: &ModelRequest,
) -> Result<(u64, Option<LoadedIndex>), ApiError> {
    let revision = store.revision()?;
    let chosen = match musicrec_app::choose_model(store, model) {
        Ok(chosen) => chosen,
        Err(AppError::Unavailable(_)) => return Ok((revision, None)),
        Err(AppError::NotFound(message)) => return Err(ApiError::bad_request(message)),
        Err(other) => return Err(other.into()),
    };
    if let Some(note) = &chosen.note {
        tracing::info!("{note}");
    }
    let set = store.load_embeddings(&chosen.model_id)?;
    tracing::info!(model = %chosen.model_id, tracks = set.len(), revision, "index loaded");
    let model = ModelIndex::new(chosen.model_id, set)?;
    Ok((revision, Some(LoadedIndex::new(model, revision))))
}
