//! `GET /metrics` (Prometheus text exposition) on a listener of its own, `METRICS_ADDR`
//! (default `127.0.0.1:9464`, `off` for none): never on the public port, so the series are
//! shown to whoever can reach that address (the pod network for a scrape in Kubernetes), not
//! to every MCP client. It keeps answering while the server drains, until the process ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use crate::config::{Bounds, ConfigError};
use crate::metrics::Metrics;

/// The OpenTelemetry Prometheus exporter's port, loopback only unless configured.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9464";
/// Scrapes at once; a scraper needs one.
const MAX_CONNECTIONS: usize = 8;
/// Longest a scrape connection may stay open, sending included.
const SCRAPE_DEADLINE: Duration = Duration::from_secs(30);

/// `METRICS_ADDR`: where `/metrics` listens, or `None` (`off`).
pub fn address_from(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<SocketAddr>, ConfigError> {
    let var = "METRICS_ADDR";
    let raw = lookup(var)
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    raw.parse::<SocketAddr>().map(Some).map_err(|_| ConfigError {
        var,
        message: format!(
            "{raw:?} is not an IP address and port such as {DEFAULT_ADDR} or 0.0.0.0:9464, nor `off`"
        ),
    })
}

/// Binds `address` (an error names `METRICS_ADDR`) and serves `/metrics` there in the
/// background, for the rest of the process. Returns the bound address.
pub async fn start(
    address: SocketAddr,
    metrics: Arc<Metrics>,
    bounds: &Bounds,
) -> Result<SocketAddr, String> {
    let socket = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| {
            format!("cannot listen on METRICS_ADDR={address}: {e} (set METRICS_ADDR to a free address, or to off)")
        })?;
    let bound = socket
        .local_addr()
        .map_err(|e| format!("cannot read the metrics address: {e}"))?;
    let app = Router::new().route(
        "/metrics",
        get(move || async move {
            match metrics.render() {
                Ok(text) => (
                    StatusCode::OK,
                    [(CONTENT_TYPE, prometheus::TEXT_FORMAT)],
                    text,
                )
                    .into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "cannot render the metrics");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            }
        }),
    );
    tokio::spawn(serve(socket, app, bounds.header_timeout));
    Ok(bound)
}

/// One scrape per connection, each within [`SCRAPE_DEADLINE`] from the accept: a client that
/// sends slowly or never reads its answer holds one of the [`MAX_CONNECTIONS`] slots that
/// long, not for good.
async fn serve(socket: tokio::net::TcpListener, app: Router, header_timeout: Duration) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(false);
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match socket.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a metrics connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(SCRAPE_DEADLINE, connection).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn one_scrape_per_connection_then_it_closes() {
        let catalog = crate::testkit::catalog(&[], &[]);
        let metrics = Arc::new(Metrics::new(catalog, "1.0.0").unwrap());
        let bounds = Bounds {
            header_timeout: Duration::from_millis(300),
            body_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            max_requests: 8,
            max_connections: 8,
            arguments: crate::validate::Limits::DEFAULT,
        };
        let bound = start("127.0.0.1:0".parse().unwrap(), metrics, &bounds)
            .await
            .unwrap();
        let mut stream = tokio::net::TcpStream::connect(bound).await.unwrap();
        // Two requests at once: only the first is answered, then the connection ends.
        stream
            .write_all(
                b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\nGET /metrics HTTP/1.1\r\nhost: x\r\n\r\n",
            )
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("closed after one answer")
            .unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
        assert!(text.contains("mcp_server_info"), "{text}");
        // A connection that sends nothing is closed after the header timeout.
        let mut idle = tokio::net::TcpStream::connect(bound).await.unwrap();
        let mut nothing = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut nothing))
            .await
            .expect("idle connection closed")
            .unwrap();
    }

    #[test]
    fn address_defaults_to_loopback_and_can_be_off() {
        let with = |value: Option<&str>| address_from(|_| value.map(str::to_owned));
        assert_eq!(with(None), Ok(Some(DEFAULT_ADDR.parse().unwrap())));
        assert_eq!(with(Some("OFF")), Ok(None));
        assert_eq!(
            with(Some("0.0.0.0:9100")),
            Ok(Some("0.0.0.0:9100".parse().unwrap()))
        );
        let error = with(Some("localhost")).unwrap_err();
        assert_eq!(error.var, "METRICS_ADDR");
        assert!(error.to_string().contains("nor `off`"), "{error}");
    }
}
