//! The accept loop: HTTP/1.1 connections served by hyper with a header-read timeout, so that a
//! connection idle between requests (keep-alive) or one that sent half a request head is closed
//! after [`crate::Limits::idle_timeout`] instead of holding a socket and a task forever.
//!
//! Hand-written over hyper rather than `axum::serve`, which sets no timer and so cannot apply
//! hyper's `header_read_timeout`.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in progress finish.
/// A connection that has not sent a complete request head within `idle_timeout` of being opened
/// or of its previous response is closed.
pub async fn serve<F>(
    listener: TcpListener,
    app: Router,
    idle_timeout: Duration,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(idle_timeout)
            .keep_alive(true);
        // No upgrades: the server has no WebSocket route.
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection closed: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
