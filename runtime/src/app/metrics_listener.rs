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

use crate::app::listener;
use crate::config::{Bounds, ConfigError};
use crate::metrics::Metrics;

/// The OpenTelemetry Prometheus exporter's port, loopback only unless configured.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9464";
/// Scrapes at once; a scraper needs one.
const MAX_CONNECTIONS: usize = 8;

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
    let bounds = Bounds {
        max_connections: MAX_CONNECTIONS,
        ..*bounds
    };
    tokio::spawn(async move {
        listener::serve(socket, app, &bounds, Duration::ZERO, std::future::pending()).await
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

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
