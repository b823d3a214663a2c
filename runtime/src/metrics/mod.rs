//! Prometheus metrics of the HTTP server, in the standard text exposition (the `prometheus`
//! crate), served at `/metrics` on a listener of their own (`METRICS_ADDR`,
//! src/app/metrics_listener.rs). The series:
//!
//! - `mcp_tool_calls_total{tool,outcome}` and `mcp_tool_call_duration_seconds{tool,outcome}`:
//!   every tool call, from the request's arrival to its answer; `outcome` is an [`Outcome`];
//! - `mcp_upstream_request_duration_seconds{tool,status_class}`: the upstream exchange of a
//!   call (credential, request, reply read), by [`UpstreamClass`];
//! - `mcp_requests_in_flight`: requests to `/mcp` being served;
//! - `mcp_requests_shed_total`: requests to `/mcp` answered 503 at `MAX_CONCURRENT_REQUESTS`;
//! - `mcp_auth_refusals_total{reason}`: requests or calls refused for their credentials;
//! - `mcp_jwks_fetches_total{result}`, `mcp_introspection_requests_total{result}`: the
//!   authorization server's keys and token introspection;
//! - `mcp_server_info{server,version}`: always 1.
//!
//! Labels hold only fixed words and the names of the catalog's tools, never a token, a
//! subject or an argument, so the number of series is bounded by the catalog. A tool's series
//! are created at its first call with that outcome and then reached through a slot of their
//! own: a call costs a few atomic operations, no label lookup.

mod outcome;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

pub use outcome::{FetchResult, Outcome, Refusal, UpstreamClass};

use crate::catalog::Catalog;

/// Seconds, from a cached answer to the default upstream timeout and past it.
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

pub struct Metrics {
    registry: Registry,
    calls: IntCounterVec,
    call_seconds: HistogramVec,
    upstream_seconds: HistogramVec,
    in_flight: IntGauge,
    shed: IntCounter,
    refusals: Vec<IntCounter>,
    auth: AuthCounters,
    /// The names a tool index stands for: the operations, then catalog mode's own tools.
    names: Vec<&'static str>,
    by_name: HashMap<&'static str, usize>,
    /// One slot per name, filled at the tool's first call.
    tools: Box<[OnceLock<Box<ToolSeries>>]>,
}

/// One tool's series, each created at its first use.
struct ToolSeries {
    calls: [OnceLock<(IntCounter, Histogram)>; Outcome::ALL.len()],
    upstream: [OnceLock<Histogram>; UpstreamClass::ALL.len()],
}

/// The counters of the authorization server's side, handed to the key store and the
/// introspector (cheap to clone: each is a shared atomic).
#[derive(Clone)]
pub struct AuthCounters {
    jwks_ok: IntCounter,
    jwks_error: IntCounter,
    introspection: Vec<IntCounter>,
}

const INTROSPECTION_RESULTS: [FetchResult; 4] = [
    FetchResult::Ok,
    FetchResult::Inactive,
    FetchResult::Error,
    FetchResult::Throttled,
];

impl AuthCounters {
    pub fn jwks_fetch(&self, loaded: bool) {
        if loaded {
            self.jwks_ok.inc();
        } else {
            self.jwks_error.inc();
        }
    }

    pub fn introspection(&self, result: FetchResult) {
        if let Some(i) = INTROSPECTION_RESULTS.iter().position(|r| *r == result) {
            self.introspection[i].inc();
        }
    }
}

/// Counts a request as in flight until dropped.
pub struct InFlight<'a>(&'a IntGauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn registered<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    made: prometheus::Result<C>,
) -> Result<C, String> {
    let collector = made.map_err(|e| format!("metrics: {e}"))?;
    registry
        .register(Box::new(collector.clone()))
        .map_err(|e| format!("metrics: {e}"))?;
    Ok(collector)
}

impl Metrics {
    /// The series of a server over `catalog`; `version` is the project's.
    pub fn new(catalog: &'static Catalog, version: &str) -> Result<Self, String> {
        let registry = Registry::new();
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            registered(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()),
                    labels,
                ),
            )
        };
        let counter = |name: &str, help: &str, labels: &[&str]| {
            registered(&registry, IntCounterVec::new(Opts::new(name, help), labels))
        };
        let calls = counter(
            "mcp_tool_calls_total",
            "Tool calls, by tool and outcome.",
            &["tool", "outcome"],
        )?;
        let call_seconds = histogram(
            "mcp_tool_call_duration_seconds",
            "Time from a tool call's arrival to its answer, by tool and outcome.",
            &["tool", "outcome"],
        )?;
        let upstream_seconds = histogram(
            "mcp_upstream_request_duration_seconds",
            "Time of a tool call's upstream exchange (credential, request, reply), by tool and status class.",
            &["tool", "status_class"],
        )?;
        let in_flight = registered(
            &registry,
            IntGauge::new("mcp_requests_in_flight", "Requests to /mcp being served."),
        )?;
        let shed = registered(
            &registry,
            IntCounter::new(
                "mcp_requests_shed_total",
                "Requests to /mcp answered 503 at once: MAX_CONCURRENT_REQUESTS were being served.",
            ),
        )?;
        let refused = counter(
            "mcp_auth_refusals_total",
            "Requests and tool calls refused for their credentials, by reason.",
            &["reason"],
        )?;
        let jwks = counter(
            "mcp_jwks_fetches_total",
            "Fetches of the authorization server's signing keys, by result.",
            &["result"],
        )?;
        let introspection = counter(
            "mcp_introspection_requests_total",
            "Token introspection requests (RFC 7662), by result; throttled ones were not sent.",
            &["result"],
        )?;
        let info = registered(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "mcp_server_info",
                    "The server's name and version; always 1.",
                ),
                &["server", "version"],
            ),
        )?;
        info.with_label_values(&[catalog.server_name, version])
            .set(1);
        let names: Vec<&'static str> = catalog
            .tools
            .iter()
            .map(|t| t.name)
            .chain(catalog.catalog_tools.iter().map(|t| t.name))
            .collect();
        let by_name = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        Ok(Self {
            refusals: Refusal::ALL
                .iter()
                .map(|r| refused.with_label_values(&[r.as_str()]))
                .collect(),
            auth: AuthCounters {
                jwks_ok: jwks.with_label_values(&[FetchResult::Ok.as_str()]),
                jwks_error: jwks.with_label_values(&[FetchResult::Error.as_str()]),
                introspection: INTROSPECTION_RESULTS
                    .iter()
                    .map(|r| introspection.with_label_values(&[r.as_str()]))
                    .collect(),
            },
            tools: names.iter().map(|_| OnceLock::new()).collect(),
            names,
            by_name,
            registry,
            calls,
            call_seconds,
            upstream_seconds,
            in_flight,
            shed,
        })
    }

    /// The slot of tool `index` (see [`Metrics::index_of`]).
    fn tool(&self, index: usize) -> Option<&ToolSeries> {
        let slot = self.tools.get(index)?;
        Some(slot.get_or_init(|| {
            Box::new(ToolSeries {
                calls: [const { OnceLock::new() }; Outcome::ALL.len()],
                upstream: [const { OnceLock::new() }; UpstreamClass::ALL.len()],
            })
        }))
    }

    /// The index of a tool of the catalog by name: the operations in catalog order, then
    /// catalog mode's tools. `None` for any other name, which no series is made for.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// One tool call of tool `index` that ended with `outcome` after `elapsed`.
    pub fn tool_call(&self, index: usize, outcome: Outcome, elapsed: Duration) {
        let Some(series) = self.tool(index) else {
            return;
        };
        let (count, seconds) = series.calls[outcome.index()].get_or_init(|| {
            let labels = [self.names[index], outcome.as_str()];
            (
                self.calls.with_label_values(&labels),
                self.call_seconds.with_label_values(&labels),
            )
        });
        count.inc();
        seconds.observe(elapsed.as_secs_f64());
    }

    /// The upstream exchange of a call of tool `index`.
    pub fn upstream_request(&self, index: usize, class: UpstreamClass, elapsed: Duration) {
        let Some(series) = self.tool(index) else {
            return;
        };
        series.upstream[class.index()]
            .get_or_init(|| {
                self.upstream_seconds
                    .with_label_values(&[self.names[index], class.as_str()])
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn refused(&self, reason: Refusal) {
        self.refusals[reason.index()].inc();
    }

    /// A request to `/mcp` shed at `MAX_CONCURRENT_REQUESTS`.
    pub fn shed(&self) {
        self.shed.inc();
    }

    /// Counts a request to `/mcp` as in flight while the guard lives.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    pub fn auth_counters(&self) -> AuthCounters {
        self.auth.clone()
    }

    /// The text exposition of every series (`Content-Type`: [`prometheus::TEXT_FORMAT`]).
    pub fn render(&self) -> Result<String, String> {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .map_err(|e| format!("metrics: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Access, ToolSpec};
    use crate::testkit;

    static TOOLS: &[ToolSpec] = &[
        testkit::tool(
            "get_pet",
            Access {
                anonymous: true,
                oauth2: None,
            },
        ),
        testkit::tool(
            "add_pet",
            Access {
                anonymous: false,
                oauth2: Some(&["write"]),
            },
        ),
    ];

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn exposition_has_the_series_and_only_catalog_names() {
        let metrics = Metrics::new(testkit::catalog(TOOLS, &[]), "1.2.3").unwrap();
        metrics.tool_call(0, Outcome::Ok, Duration::from_millis(3));
        metrics.tool_call(0, Outcome::Ok, Duration::from_millis(40));
        metrics.tool_call(1, Outcome::RefusedInsufficientScope, Duration::ZERO);
        metrics.upstream_request(0, UpstreamClass::S2xx, Duration::from_millis(2));
        metrics.refused(Refusal::InvalidToken);
        metrics.auth_counters().jwks_fetch(true);
        metrics
            .auth_counters()
            .introspection(FetchResult::Throttled);
        // An index outside the catalog makes no series.
        metrics.tool_call(99, Outcome::Ok, Duration::ZERO);
        assert_eq!(metrics.index_of("add_pet"), Some(1));
        assert_eq!(metrics.index_of("Bearer abc"), None);
        metrics.shed();
        let guard = metrics.in_flight();
        let text = metrics.render().unwrap();
        drop(guard);
        for (series, value) in [
            (r#"mcp_tool_calls_total{outcome="ok",tool="get_pet"}"#, 2.0),
            (
                r#"mcp_tool_calls_total{outcome="refused_insufficient_scope",tool="add_pet"}"#,
                1.0,
            ),
            (
                r#"mcp_tool_call_duration_seconds_count{outcome="ok",tool="get_pet"}"#,
                2.0,
            ),
            (
                r#"mcp_tool_call_duration_seconds_bucket{outcome="ok",tool="get_pet",le="0.005"}"#,
                1.0,
            ),
            (
                r#"mcp_upstream_request_duration_seconds_count{status_class="2xx",tool="get_pet"}"#,
                1.0,
            ),
            ("mcp_requests_in_flight", 1.0),
            ("mcp_requests_shed_total", 1.0),
            (r#"mcp_auth_refusals_total{reason="invalid_token"}"#, 1.0),
            (r#"mcp_auth_refusals_total{reason="no_token"}"#, 0.0),
            (r#"mcp_jwks_fetches_total{result="ok"}"#, 1.0),
            (r#"mcp_jwks_fetches_total{result="error"}"#, 0.0),
            (
                r#"mcp_introspection_requests_total{result="throttled"}"#,
                1.0,
            ),
            (r#"mcp_server_info{server="test-mcp",version="1.2.3"}"#, 1.0),
        ] {
            assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
        }
        assert!(text.contains("# TYPE mcp_tool_call_duration_seconds histogram"));
        assert!(text.contains("# HELP mcp_tool_calls_total "));
        // Series appear with their first call: none for outcomes never seen.
        assert!(!text.contains("upstream_5xx"), "{text}");
        assert_eq!(
            sample(&metrics.render().unwrap(), "mcp_requests_in_flight"),
            Some(0.0)
        );
    }
}
