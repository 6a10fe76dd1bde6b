//! Admission control for the work a request hands off the async workers: catalog calls (blocking
//! threads) and computations (rayon's fixed pool). At most `workers` such jobs run at once; up to
//! `queue` more wait for a turn; beyond that a request is answered 429 with `Retry-After` at once,
//! instead of each one parking a thread of its own (300 concurrent searches used to start 300
//! blocking threads and keep ~550 MB resident).
//!
//! The permit and the queue slot travel into the job itself, so a request that is cancelled (a
//! client gone, the request timeout) still counts until its job has really finished: the bound
//! is on running work, not on waiting futures.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Default queue length: requests that wait for a worker before new ones are refused.
pub const DEFAULT_QUEUE: usize = 1024;

/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 1;

/// The pool's size: `workers` jobs at once, `queue` more waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkLimits {
    pub workers: usize,
    pub queue: usize,
}

impl Default for WorkLimits {
    /// One worker per core (at least two), [`DEFAULT_QUEUE`] waiting.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            workers: cores.max(2),
            queue: DEFAULT_QUEUE,
        }
    }
}

/// Admission-controlled offloading of blocking and CPU-bound jobs (one per server, shared).
#[derive(Debug)]
pub struct WorkPool {
    limits: WorkLimits,
    permits: Arc<Semaphore>,
    /// Jobs admitted and not yet finished (running or waiting).
    admitted: Arc<AtomicUsize>,
}

/// One admitted job: released when dropped (inside the job, once it has finished).
struct Admission {
    admitted: Arc<AtomicUsize>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a waiting job until it gets its permit (or its request is dropped while waiting).
struct QueueSlot(Option<Arc<AtomicUsize>>);

impl QueueSlot {
    fn into_admission(mut self, permit: OwnedSemaphorePermit) -> Admission {
        Admission {
            admitted: self.0.take().expect("slot used once"),
            _permit: permit,
        }
    }
}

impl Drop for QueueSlot {
    fn drop(&mut self) {
        if let Some(admitted) = self.0.take() {
            admitted.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl WorkPool {
    pub fn new(limits: WorkLimits) -> Self {
        let limits = WorkLimits {
            workers: limits.workers.max(1),
            queue: limits.queue,
        };
        Self {
            limits,
            permits: Arc::new(Semaphore::new(limits.workers)),
            admitted: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn limits(&self) -> WorkLimits {
        self.limits
    }

    /// Jobs running or waiting now.
    pub fn in_flight(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Waits for a turn, or refuses at once (429) when the queue is full.
    async fn admit(&self) -> Result<Admission, ApiError> {
        let capacity = self.limits.workers + self.limits.queue;
        let mut now = self.admitted.load(Ordering::Acquire);
        loop {
            if now >= capacity {
                return Err(ApiError::busy(format!(
                    "the server is busy ({} jobs running or waiting): retry in {RETRY_AFTER_SECS} s",
                    now
                )));
            }
            match self.admitted.compare_exchange_weak(
                now,
                now + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => now = actual,
            }
        }
        let slot = QueueSlot(Some(self.admitted.clone()));
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal("the work pool is closed"))?;
        Ok(slot.into_admission(permit))
    }

    /// Runs blocking `job` (catalog I/O, decoding) on tokio's blocking threads, once admitted.
    pub async fn blocking<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    {
        let admission = self.admit().await?;
        tokio::task::spawn_blocking(move || {
            let _admission = admission;
            job()
        })
        .await
        .map_err(|e| ApiError::internal(format!("catalog task failed: {e}")))?
    }

    /// Runs CPU-bound `job` on rayon's pool (searches are parallel there), once admitted, so that
    /// tokio's workers keep serving. A panic becomes a 500, not an abort.
    pub async fn compute<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let admission = self.admit().await?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        rayon::spawn(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(job));
            drop(admission);
            let _ = tx.send(result);
        });
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            _ => Err(ApiError::internal("a computation task failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_workers_and_queue_jobs_are_refused_and_slots_come_back() {
        let pool = Arc::new(WorkPool::new(WorkLimits {
            workers: 1,
            queue: 1,
        }));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
        // One job runs (blocked), one waits.
        let mut running = Vec::new();
        for _ in 0..2 {
            let pool = pool.clone();
            let rx = release_rx.clone();
            running.push(tokio::spawn(async move {
                pool.blocking(move || {
                    rx.lock().unwrap().recv().unwrap();
                    Ok(())
                })
                .await
            }));
        }
        while pool.in_flight() < 2 {
            tokio::task::yield_now().await;
        }
        let refused = pool.blocking(|| Ok(())).await.unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        let refused = pool.compute(|| ()).await.unwrap_err();
        assert_eq!(refused.code, "busy");
        release_tx.send(()).unwrap();
        release_tx.send(()).unwrap();
        for job in running {
            job.await.unwrap().unwrap();
        }
        assert_eq!(pool.in_flight(), 0);
        assert_eq!(pool.compute(|| 7).await.unwrap(), 7);
        assert_eq!(pool.in_flight(), 0);
    }
}
