//! The listener: accepts connections within bounds (header-read timeout, a connection cap)
//! and drains on SIGTERM or Ctrl-C: it stops accepting (the connections the kernel already
//! took are still served), answers what is in flight with `Connection: close`, closes idle
//! keep-alive connections, and waits for the open ones at most `SHUTDOWN_GRACE_SECS`.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::config::{Bounds, ConfigError};

/// Default `SHUTDOWN_GRACE_SECS`: as long as the default `REQUEST_TIMEOUT_SECS`, so every
/// request in flight can end; the Deployment's `terminationGracePeriodSeconds` (70) covers it,
/// its preStop pause (5) and a margin.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60);

/// `SHUTDOWN_GRACE_SECS`: how long a SIGTERM waits for requests in flight.
pub fn grace_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    let var = "SHUTDOWN_GRACE_SECS";
    match lookup(var).map(|v| v.trim().to_owned()) {
        None => Ok(DEFAULT_GRACE),
        Some(raw) => match raw.parse::<f64>() {
            Ok(secs) if (0.0..=3600.0).contains(&secs) => Ok(Duration::from_secs_f64(secs)),
            _ => Err(ConfigError {
                var,
                message: format!("{raw:?} is not a number of seconds from 0 to 3600"),
            }),
        },
    }
}

/// How a drain ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Drained {
    /// Every connection ended by itself.
    Complete,
    /// The grace period ran out with this many connections open; they are dropped with the
    /// runtime.
    Cut(usize),
}

struct Connections {
    http: hyper::server::conn::http1::Builder,
    app: Router,
    closed: watch::Receiver<bool>,
}

impl Connections {
    /// Serves one connection on a task of its own; from the moment the listener closes (now,
    /// or later) it ends after the request it is reading or answering.
    fn spawn(&self, stream: TcpStream, permit: OwnedSemaphorePermit) {
        let connection = self.http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(self.app.clone()),
        );
        let mut closed = self.closed.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut connection = pin!(connection);
            if !*closed.borrow_and_update() {
                tokio::select! {
                    _ = connection.as_mut() => return,
                    _ = closed.changed() => {}
                }
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
}

/// Accepts connections until `stop` completes, then drains within `grace`. Unlike
/// `axum::serve`, it bounds the time to send headers (and to stay idle between requests) and
/// the number of open connections: beyond it, new ones wait in the listen queue.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    bounds: &Bounds,
    grace: Duration,
    stop: impl Future<Output = ()>,
) -> Drained {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(bounds.header_timeout);
    let slots = Arc::new(Semaphore::new(bounds.max_connections));
    let (closing, closed) = watch::channel(false);
    let connections = Connections { http, app, closed };
    let mut stop = pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit,
            () = &mut stop => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, _peer) = tokio::select! {
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
        connections.spawn(stream, permit);
    }
    let _ = closing.send(true);
    let backlog = accept_backlog(listener, &connections, &slots);
    let open = bounds.max_connections - slots.available_permits();
    tracing::info!(
        open,
        backlog,
        grace_secs = grace.as_secs_f64(),
        "stopped accepting; draining open connections"
    );
    // Every connection holds a slot until it ends.
    let all = u32::try_from(bounds.max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(grace, slots.acquire_many(all)).await {
        Ok(_) => Drained::Complete,
        Err(_) => Drained::Cut(bounds.max_connections - slots.available_permits()),
    }
}

/// Serves the connections the kernel completed before the listener closes: their clients
/// may have sent a request already, which a closed socket would lose without an answer.
/// Returns how many there were.
fn accept_backlog(
    listener: tokio::net::TcpListener,
    connections: &Connections,
    slots: &Arc<Semaphore>,
) -> usize {
    // Taken out of the reactor, the (non-blocking) socket answers `accept` at once: with a
    // connection, or `WouldBlock` when the queue is empty.
    let Ok(listener) = listener.into_std() else {
        return 0;
    };
    let mut served = 0;
    while let Ok((stream, _)) = listener.accept() {
        // Beyond the cap they are refused by the close, as a full queue would.
        let Ok(permit) = Arc::clone(slots).try_acquire_owned() else {
            break;
        };
        let stream = stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream));
        if let Ok(stream) = stream {
            connections.spawn(stream, permit);
            served += 1;
        }
    }
    served
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
