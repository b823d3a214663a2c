//! The listener: accepts connections within bounds (header-read timeout, a connection cap)
//! and drains on SIGTERM or Ctrl-C: it stops accepting (the connections the kernel already
//! took are still served), answers what is in flight, and the first request of connections
//! opened just before, with `Connection: close`, closes idle keep-alive connections, and
//! waits for the open ones at most `SHUTDOWN_GRACE_SECS`.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::app::rate_limit::ClientAddr;
use crate::config::{Bounds, ConfigError};

/// Default `SHUTDOWN_GRACE_SECS`: as long as the default `REQUEST_TIMEOUT_SECS`, so every
/// request in flight can end; the Deployment's `terminationGracePeriodSeconds` (75) covers it,
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
    header_timeout: Duration,
}

impl Connections {
    /// Serves one connection on a task of its own; from the moment the listener closes (now,
    /// or later) it ends after the request it is reading or answering.
    fn spawn(&self, stream: TcpStream, peer: SocketAddr, permit: OwnedSemaphorePermit) {
        let http = self.http.clone();
        let app = WithClientAddr {
            app: self.app.clone(),
            peer: ClientAddr(peer),
        };
        let mut closed = self.closed.clone();
        let header_timeout = self.header_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            // hyper drops a connection shut down before it read a byte: a client that
            // connected just before a SIGTERM would see its request refused unanswered. So
            // hyper gets the connection with its first bytes, which must come within the
            // header timeout; hyper's own timeout then applies in full to every request head
            // and idle wait (cutting it to what was left would shorten them all), so a first
            // request has at most twice the header timeout. `peek`, as `readable` may wake
            // before any byte.
            let mut first = [0u8; 1];
            let arrived = tokio::time::timeout(header_timeout, stream.peek(&mut first)).await;
            if !matches!(arrived, Ok(Ok(n)) if n > 0) {
                return;
            }
            let connection =
                http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
            let mut connection = pin!(connection);
            tokio::select! {
                // The connection first: its first poll reads what arrived.
                biased;
                _ = connection.as_mut() => return,
                _ = closed.wait_for(|closed| *closed) => {}
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
    let connections = Connections {
        http,
        app,
        closed,
        header_timeout: bounds.header_timeout,
    };
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
        connections.spawn(stream, peer, permit);
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
    while let Ok((stream, peer)) = listener.accept() {
        // Beyond the cap they are refused by the close, as a full queue would.
        let Ok(permit) = Arc::clone(slots).try_acquire_owned() else {
            break;
        };
        let stream = stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream));
        if let Ok(stream) = stream {
            connections.spawn(stream, peer, permit);
            served += 1;
        }
    }
    served
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

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::oneshot;

    use std::time::Instant;

    use super::*;
    use crate::validate::Limits;

    fn bounds() -> Bounds {
        Bounds {
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            max_requests: 8,
            max_connections: 8,
            arguments: Limits::DEFAULT,
        }
    }

    /// A server whose `/sleep/MS` answers after MS milliseconds, draining within `grace`
    /// once `stop` fires; the task ends with how the drain went.
    async fn server(
        grace: Duration,
    ) -> (
        String,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<Drained>,
    ) {
        let app = Router::new().route(
            "/sleep/{ms}",
            get(
                |axum::extract::Path(ms): axum::extract::Path<u64>| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "done"
                },
            ),
        );
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = socket.local_addr().unwrap().to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(socket, app, &bounds(), grace, async move {
                let _ = stopped.await;
            })
            .await
        });
        (address, stop, task)
    }

    /// Sends one request on a new connection; the raw answer.
    async fn get_raw(address: &str, path: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(address).await?;
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_in_flight_finish_and_get_connection_close() {
        let (address, stop, task) = server(Duration::from_secs(10)).await;
        let in_flight = tokio::spawn({
            let address = address.clone();
            async move { get_raw(&address, "/sleep/500").await }
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        let stopped = Instant::now();
        stop.send(()).unwrap();
        // The answer comes whole, and says the connection closes; the listener is gone.
        let answer = in_flight.await.unwrap().unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert!(answer.ends_with("done"), "{answer}");
        assert_eq!(task.await.unwrap(), Drained::Complete);
        assert!(stopped.elapsed() < Duration::from_secs(2));
        assert!(
            TcpStream::connect(&address).await.is_err(),
            "still accepting"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_connected_before_the_stop_is_answered_after_it() {
        let (address, stop, task) = server(Duration::from_secs(10)).await;
        // Connected (accepted, or still in the listen queue) but nothing sent yet.
        let mut early = TcpStream::connect(&address).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        early
            .write_all(b"GET /sleep/0 HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        early.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert_eq!(task.await.unwrap(), Drained::Complete);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_longer_than_the_grace_period_is_cut() {
        let grace = Duration::from_millis(300);
        let (address, stop, task) = server(grace).await;
        let slow = tokio::spawn({
            let address = address.clone();
            async move { get_raw(&address, "/sleep/30000").await }
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        let stopped = Instant::now();
        stop.send(()).unwrap();
        assert_eq!(task.await.unwrap(), Drained::Cut(1));
        let took = stopped.elapsed();
        assert!(
            took >= grace && took < grace + Duration::from_secs(1),
            "{took:?}"
        );
        // The process ends the runtime next, which drops the connection; here it is
        // still open (its task lives on in the test's runtime).
        slow.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_keep_alive_connections_are_closed_at_once() {
        let (address, stop, task) = server(Duration::from_secs(10)).await;
        let mut idle = TcpStream::connect(&address).await.unwrap();
        idle.write_all(b"GET /sleep/0 HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 512];
        let n = idle.read(&mut first).await.unwrap();
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
        let stopped = Instant::now();
        stop.send(()).unwrap();
        // The server closes it: the read sees the end of the stream.
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(2), idle.read_to_end(&mut rest)).await;
        assert!(matches!(read, Ok(Ok(0))), "{read:?}");
        assert_eq!(task.await.unwrap(), Drained::Complete);
        assert!(stopped.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn grace_is_seconds_from_zero_to_an_hour() {
        let with = |value: Option<&str>| grace_from(|_| value.map(str::to_owned));
        assert_eq!(with(None), Ok(DEFAULT_GRACE));
        assert_eq!(with(Some("0")), Ok(Duration::ZERO));
        assert_eq!(with(Some("2.5")), Ok(Duration::from_millis(2500)));
        for bad in ["-1", "3601", "soon"] {
            let error = with(Some(bad)).unwrap_err();
            assert_eq!(error.var, "SHUTDOWN_GRACE_SECS", "{bad}");
        }
    }
}
