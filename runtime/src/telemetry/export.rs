//! The tracer provider: spans batched by the SDK's batch span processor and posted as
//! OTLP/HTTP protobuf through the runtime's own HTTP client (reqwest on rustls), flushed when
//! the server stops.

use std::time::Duration;

use async_trait::async_trait;
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tokio::runtime::Handle;

use crate::telemetry::Tracing;
use crate::telemetry::settings::{Export, Settings};

/// A collector's answer is a small protobuf message; more is not read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How long stopping waits for the last spans to reach the collector.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Owns the tracer provider, when spans are exported; [`Telemetry::shutdown`] flushes it.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    tracing: Tracing,
}

impl Telemetry {
    /// Starts export as `settings` ask: `runtime` runs the export requests (the batch
    /// processor works from a thread of its own, outside the async runtime).
    pub fn start(settings: &Settings, version: &str, runtime: Handle) -> Result<Self, String> {
        if settings.baggage_requested {
            tracing::warn!(
                "OTEL_PROPAGATORS names baggage: it is never passed to the upstream API (it may carry anything a caller put there)"
            );
        }
        let Some(export) = &settings.export else {
            return Ok(Self {
                provider: None,
                tracing: Tracing {
                    tracer: None,
                    propagate: settings.propagate,
                },
            });
        };
        let provider = provider(export, version, runtime)?;
        let scope = InstrumentationScope::builder("mcp-gen-runtime")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let tracer = provider.tracer_with_scope(scope);
        tracing::info!(
            endpoint = %without_userinfo(&export.endpoint),
            service = %export.service_name,
            "traces exported over OTLP"
        );
        Ok(Self {
            provider: Some(provider),
            tracing: Tracing {
                tracer: Some(tracer),
                propagate: settings.propagate,
            },
        })
    }

    /// What the server's parts need to make spans and pass context on.
    pub fn tracing(&self) -> Tracing {
        self.tracing.clone()
    }

    /// Sends the spans still queued and stops the export thread. Blocks up to a few seconds:
    /// called once serving has ended, outside the async runtime, which must still exist.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown_with_timeout(FLUSH_TIMEOUT)
        {
            tracing::warn!("traces: the last spans may not have been exported: {e}");
        }
    }
}

/// A URL for the log: any `user:password@` left out.
fn without_userinfo(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => String::new(),
    }
}

fn provider(export: &Export, version: &str, runtime: Handle) -> Result<SdkTracerProvider, String> {
    // No redirects: a collector answers where it was asked.
    let http = reqwest::Client::builder()
        .timeout(export.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("traces: cannot build the HTTP client: {e}"))?;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_http_client(OtlpHttp { http, runtime })
        .with_endpoint(export.endpoint.clone())
        .with_protocol(Protocol::HttpBinary)
        .with_timeout(export.timeout)
        .build()
        .map_err(|e| format!("traces: cannot start the OTLP exporter: {e}"))?;
    let resource = Resource::builder()
        .with_service_name(export.service_name.clone())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            version.to_owned(),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The exporter's HTTP client: reqwest, with each request run on the server's async runtime
/// (reqwest needs one; the batch processor's thread is not in it).
#[derive(Debug)]
struct OtlpHttp {
    http: reqwest::Client,
    runtime: Handle,
}

#[async_trait]
impl HttpClient for OtlpHttp {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let http = self.http.clone();
        self.runtime
            .spawn(async move {
                let mut response = http.execute(request).await?;
                let status = response.status();
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await? {
                    if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        return Err("the collector's answer is too large".into());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok::<_, HttpError>(Response::builder().status(status).body(Bytes::from(body))?)
            })
            .await?
    }
}
