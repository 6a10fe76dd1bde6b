//! The collaborative-filtering model behind `POST /api/recommend` methods `cf` and `hybrid`:
//! fitted from every user's latest likes in the catalog (as `musicrec recommend --method cf`
//! does), kept in memory and refitted only when the feedback changed.
//!
//! Two things say the feedback may have changed: a rating recorded through this server (or a
//! reload) bumps a generation counter, and a fit older than [`CF_RECHECK_EVERY`] is checked again
//! so that ratings recorded by another process (`musicrec feedback`) are seen too. A check reads
//! the interactions and refits only when they differ from the ones the model was fitted on.
//!
//! The fitted model (discorec's) caches norms in a `RefCell`, so it is not `Sync`: it sits behind
//! a mutex and CF requests rank one at a time (a ranking is one pass over the embeddings).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use musicrec_recommend::cf::{CfModel, CfParams, Interaction, interactions_from_catalog};

use crate::error::ApiError;
use crate::state::AppState;

/// A fit is compared with the catalog again after this long, even when no rating came through
/// this server.
pub const CF_RECHECK_EVERY: Duration = Duration::from_secs(10);

/// A fitted model shared by the requests (one ranks with it at a time).
pub type SharedCfModel = Arc<Mutex<CfModel>>;

/// What a recommendation gets from the cache.
#[derive(Debug, Clone)]
pub struct CfSnapshot {
    /// `None` while nobody has liked anything (every user is a cold start).
    pub model: Option<SharedCfModel>,
    /// How many times the model was fitted since the server started.
    pub fits: u64,
}

struct Fitted {
    interactions: Vec<Interaction>,
    model: Option<SharedCfModel>,
    generation: u64,
    checked_at: Instant,
}

/// The shared, lazily fitted CF model (one per application).
pub struct CfCache {
    params: CfParams,
    recheck_every: Duration,
    generation: AtomicU64,
    fits: AtomicU64,
    /// Also serialises refits: two requests never fit at once.
    slot: tokio::sync::Mutex<Option<Fitted>>,
}

impl Default for CfCache {
    fn default() -> Self {
        Self::new(CfParams::default(), CF_RECHECK_EVERY)
    }
}

impl std::fmt::Debug for CfCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfCache")
            .field("generation", &self.generation.load(Ordering::SeqCst))
            .field("fits", &self.fits.load(Ordering::SeqCst))
            .finish()
    }
}

impl CfCache {
    pub fn new(params: CfParams, recheck_every: Duration) -> Self {
        Self {
            params,
            recheck_every,
            generation: AtomicU64::new(0),
            fits: AtomicU64::new(0),
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// Says that the feedback may have changed: the next request checks the catalog.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// How many times the model was fitted so far.
    pub fn fits(&self) -> u64 {
        self.fits.load(Ordering::SeqCst)
    }

    /// The model for the catalog's current feedback, refitted if that changed.
    pub async fn model(&self, app: &AppState) -> Result<CfSnapshot, ApiError> {
        let mut slot = self.slot.lock().await;
        // Read before the catalog so that a rating recorded meanwhile forces another check.
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(fitted) = slot.as_ref()
            && fitted.generation == generation
            && fitted.checked_at.elapsed() < self.recheck_every
        {
            return Ok(self.snapshot(fitted));
        }
        let interactions = app
            .with_store(|store| Ok(interactions_from_catalog(store)?))
            .await?;
        if let Some(fitted) = slot.as_mut()
            && fitted.interactions == interactions
        {
            fitted.generation = generation;
            fitted.checked_at = Instant::now();
            return Ok(self.snapshot(fitted));
        }
        let params = self.params;
        let (model, interactions) = app
            .compute(move || {
                let model = CfModel::fit(&interactions, &params).map(|m| Arc::new(Mutex::new(m)));
                (model, interactions)
            })
            .await?;
        self.fits.fetch_add(1, Ordering::SeqCst);
        if let Some(m) = &model {
            let (users, tracks) = lock(m).size();
            tracing::info!(users, tracks, "collaborative-filtering model fitted");
        }
        let fitted = slot.insert(Fitted {
            interactions,
            model,
            generation,
            checked_at: Instant::now(),
        });
        Ok(self.snapshot(fitted))
    }

    fn snapshot(&self, fitted: &Fitted) -> CfSnapshot {
        CfSnapshot {
            model: fitted.model.clone(),
            fits: self.fits(),
        }
    }
}

/// The model, also after a panic elsewhere while it was locked (ranking does not change it).
pub fn lock(model: &SharedCfModel) -> std::sync::MutexGuard<'_, CfModel> {
    model
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
