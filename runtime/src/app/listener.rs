//! The listener: accepts connections within bounds (header-read timeout, a connection cap)
//! and, on SIGTERM or Ctrl-C, stops accepting and lets open connections finish.

use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, watch};

use crate::app::rate_limit::ClientAddr;
use crate::config::Bounds;

/// Accepts connections until `stop` completes, then lets open ones finish. Unlike
/// `axum::serve`, it bounds the time to send headers (and to stay idle between requests) and
/// the number of open connections: beyond it, new ones wait in the listen queue.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    bounds: &Bounds,
    stop: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(bounds.header_timeout);
    let slots = Arc::new(Semaphore::new(bounds.max_connections));
    let (closing, closed) = watch::channel(false);
    let mut stop = pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit,
            () = &mut stop => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(WithClientAddr {
                app: app.clone(),
                peer: ClientAddr(peer),
            }),
        );
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut connection = pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = closed.changed() => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    let _ = closing.send(true);
    // Every connection holds a slot until it ends.
    let all = u32::try_from(bounds.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// The app, with the connection's peer address in each request's extensions (the rate limit
/// counts anonymous callers by it).
#[derive(Clone)]
struct WithClientAddr {
    app: Router,
    peer: ClientAddr,
}

impl<B> tower_service::Service<hyper::Request<B>> for WithClientAddr
where
    Router: tower_service::Service<hyper::Request<B>>,
{
    type Response = <Router as tower_service::Service<hyper::Request<B>>>::Response;
    type Error = <Router as tower_service::Service<hyper::Request<B>>>::Error;
    type Future = <Router as tower_service::Service<hyper::Request<B>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower_service::Service::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, mut request: hyper::Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.peer);
        tower_service::Service::call(&mut self.app, request)
    }
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
