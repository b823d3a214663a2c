//! Traces: OpenTelemetry spans exported over OTLP when the standard `OTEL_*` variables ask for
//! it, and the W3C trace context carried from the caller to the upstream API either way.
//!
//! - `settings`: which `OTEL_*` variables are read, what they mean, and their errors;
//! - `export`: the tracer provider, its OTLP/HTTP exporter on the runtime's reqwest, and the
//!   flush at shutdown;
//! - `context`: `traceparent`/`tracestate` read from an HTTP request or an MCP request's
//!   `params._meta`, checked and bounded, and written onto an upstream request;
//! - `spans`: the two spans the server makes: one per MCP request (kind server, started by
//!   the HTTP gate) and one per upstream request (kind client).
//!
//! Off (no `OTEL_*` asking for export), no exporter, batch thread or span exists: each request
//! costs a header lookup, and a `traceparent` the caller sent is passed to the upstream as it
//! came (a hop that does not trace keeps the caller's trace whole). None is ever made up.
//! A span carries names fixed by the server (method, tool, URL template, status), never a
//! token, a caller's identity or an argument value.

mod context;
mod export;
mod settings;
mod spans;

use opentelemetry::Context;
use opentelemetry_sdk::trace::SdkTracer;

pub use export::Telemetry;
pub use settings::Settings;
pub use spans::{ClientSpan, Ended, RequestTrace, Rpc};

/// What every part that makes spans or passes trace context needs: the tracer when spans are
/// exported, and whether W3C trace context is read and passed on at all (`OTEL_PROPAGATORS`).
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tracing {
    tracer: Option<SdkTracer>,
    propagate: bool,
}

impl Default for Tracing {
    /// No export; trace context passed through (no `OTEL_*` variable set).
    fn default() -> Self {
        Self {
            tracer: None,
            propagate: true,
        }
    }
}

impl Tracing {
    /// Spans are made and exported.
    pub fn exporting(&self) -> bool {
        self.tracer.is_some()
    }
}

/// The trace context a tool call runs in, handed by the HTTP gate to the MCP handler through
/// the request's extensions: the server span when exporting, else the caller's own context.
#[derive(Clone, Debug)]
pub struct CallContext(pub Context);

/// Spans recorded in memory as they end, for tests of what the server traces.
#[cfg(test)]
pub fn recording() -> (
    Tracing,
    std::sync::Arc<std::sync::Mutex<Vec<opentelemetry_sdk::trace::SpanData>>>,
) {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use std::sync::{Arc, Mutex};

    #[derive(Debug, Clone, Default)]
    struct Memory(Arc<Mutex<Vec<SpanData>>>);
    impl SpanExporter for Memory {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.lock().unwrap().extend(batch);
            Ok(())
        }
    }
    let memory = Memory::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    let tracing = Tracing {
        tracer: Some(provider.tracer("test")),
        propagate: true,
    };
    (tracing, memory.0)
}
