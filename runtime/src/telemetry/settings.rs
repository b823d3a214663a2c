//! The `OTEL_*` variables this server reads itself, with the meaning the OpenTelemetry
//! specification gives them (Environment Variable Specification, OTLP Exporter
//! Configuration). Spans are exported when an OTLP endpoint is set or `OTEL_TRACES_EXPORTER`
//! says `otlp`; `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` turn export off.
//! A value this server cannot honour stops it at startup, naming the variable: other
//! protocols and exporters, compression, certificate files.
//!
//! The SDK reads the rest from the process environment itself: `OTEL_EXPORTER_OTLP_HEADERS`
//! (and `_TRACES_HEADERS`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
//! `OTEL_TRACES_SAMPLER_ARG` and the batch processor's `OTEL_BSP_*`.

use std::time::Duration;

use crate::config::ConfigError;

/// OTLP/HTTP's port on the local machine: where the specification sends spans when export is
/// asked for (`OTEL_TRACES_EXPORTER=otlp`) without an endpoint.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
/// The specification's default export timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the `OTEL_*` variables ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `None`: no span is made or exported.
    pub export: Option<Export>,
    /// W3C trace context is read from requests and passed upstream (`OTEL_PROPAGATORS`
    /// names `tracecontext`, the default).
    pub propagate: bool,
    /// `OTEL_PROPAGATORS` names `baggage`, which is never passed on (it may carry anything
    /// the caller put there, a user id included): worth a warning at startup.
    pub baggage_requested: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The full URL spans are posted to (`…/v1/traces`).
    pub endpoint: String,
    /// For one export request, answer included.
    pub timeout: Duration,
    /// `service.name`: `OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`,
    /// else the server's own name.
    pub service_name: String,
}

fn error(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

impl Settings {
    /// `lookup` stands in for the environment (an empty value counts as unset);
    /// `server_name` is the default `service.name`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        server_name: &str,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (propagate, baggage_requested) = propagators(get("OTEL_PROPAGATORS"))?;
        let disabled = match get("OTEL_SDK_DISABLED").map(|v| v.to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => return Err(error("OTEL_SDK_DISABLED", format!("{v:?}: true or false"))),
        };
        let exporter = exporter(get("OTEL_TRACES_EXPORTER"))?;
        let traces_endpoint = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        let endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT");
        let wanted = match exporter {
            Exporter::None => false,
            Exporter::Otlp => true,
            Exporter::Unset => traces_endpoint.is_some() || endpoint.is_some(),
        };
        // Checked even when export is off, so a typo does not wait for the day it is turned on.
        protocol(&get)?;
        unsupported(&get)?;
        let endpoint = match (traces_endpoint, endpoint) {
            // The signal's own endpoint is used as written; the general one gets the path.
            (Some(url), _) => checked_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)?,
            (None, Some(base)) => checked_url(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("{}/v1/traces", base.trim_end_matches('/')),
            )?,
            (None, None) => format!("{DEFAULT_ENDPOINT}/v1/traces"),
        };
        let timeout = match get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") {
            Some(v) => millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", &v)?,
            None => match get("OTEL_EXPORTER_OTLP_TIMEOUT") {
                Some(v) => millis("OTEL_EXPORTER_OTLP_TIMEOUT", &v)?,
                None => DEFAULT_TIMEOUT,
            },
        };
        let service_name = get("OTEL_SERVICE_NAME")
            .or_else(|| resource_service_name(get("OTEL_RESOURCE_ATTRIBUTES")?.as_str()))
            .unwrap_or_else(|| server_name.to_owned());
        Ok(Self {
            export: (wanted && !disabled).then_some(Export {
                endpoint,
                timeout,
                service_name,
            }),
            propagate,
            baggage_requested,
        })
    }
}

enum Exporter {
    Unset,
    Otlp,
    None,
}

/// `OTEL_TRACES_EXPORTER`: a comma-separated list; this server exports over OTLP or not at all.
fn exporter(value: Option<String>) -> Result<Exporter, ConfigError> {
    let Some(value) = value else {
        return Ok(Exporter::Unset);
    };
    let names: Vec<String> = value
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.iter().any(|n| n == "none") {
        return Ok(Exporter::None);
    }
    match names.iter().find(|n| *n != "otlp") {
        Some(other) => Err(error(
            "OTEL_TRACES_EXPORTER",
            format!("{other:?} is not supported: otlp or none"),
        )),
        None => Ok(Exporter::Otlp),
    }
}

/// `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: this server
/// speaks `http/protobuf`, the specification's default.
fn protocol(get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(value) = get(var) {
            return match value.as_str() {
                "http/protobuf" => Ok(()),
                "grpc" | "http/json" => Err(error(
                    var,
                    format!(
                        "{value} is not supported: this server exports OTLP over http/protobuf (a collector's port 4318)"
                    ),
                )),
                _ => Err(error(
                    var,
                    format!("{value:?}: grpc, http/protobuf or http/json"),
                )),
            };
        }
    }
    Ok(())
}

/// Settings of the specification this server does not implement: refused rather than
/// ignored, so nobody believes spans are compressed, or checked against a private CA.
fn unsupported(get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
    ] {
        match get(var) {
            Some(v) if !v.eq_ignore_ascii_case("none") => {
                return Err(error(var, format!("{v:?} is not supported: none")));
            }
            _ => {}
        }
    }
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    ] {
        if get(var).is_some() {
            return Err(error(
                var,
                "is not supported: the collector's certificate is checked against the platform's roots, without a client certificate",
            ));
        }
    }
    Ok(())
}

/// `OTEL_PROPAGATORS`: whether `tracecontext` is on (the default), and whether `baggage` was
/// asked for. Formats this server does not speak are refused rather than silently dropped.
fn propagators(value: Option<String>) -> Result<(bool, bool), ConfigError> {
    let Some(value) = value else {
        return Ok((true, false));
    };
    let (mut tracecontext, mut baggage) = (false, false);
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name.to_ascii_lowercase().as_str() {
            "tracecontext" => tracecontext = true,
            "baggage" => baggage = true,
            "none" => return Ok((false, false)),
            _ => {
                return Err(error(
                    "OTEL_PROPAGATORS",
                    format!("{name:?} is not supported: tracecontext, baggage or none"),
                ));
            }
        }
    }
    Ok((tracecontext, baggage))
}

fn checked_url(var: &'static str, url: String) -> Result<String, ConfigError> {
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(url),
        _ => Err(error(
            var,
            format!("{url:?} is not an http(s) URL with a host"),
        )),
    }
}

fn millis(var: &'static str, value: &str) -> Result<Duration, ConfigError> {
    match value.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(error(
            var,
            format!("{value:?}: a number of milliseconds above 0"),
        )),
    }
}

/// `service.name=…` among `OTEL_RESOURCE_ATTRIBUTES`' `key=value` pairs (values
/// percent-encoded, as the specification writes them).
fn resource_service_name(attributes: &str) -> Option<String> {
    attributes.split(',').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == "service.name")
            .then(|| percent_encoding::percent_decode_str(value.trim()).decode_utf8_lossy())
            .map(|v| v.into_owned())
            .filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(
            move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            "petstore-mcp",
        )
    }

    #[test]
    fn off_without_variables_but_context_still_passes() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.export, None);
        assert!(s.propagate);
        // A service name alone exports nothing.
        assert_eq!(
            settings(&[("OTEL_SERVICE_NAME", "x")]).unwrap().export,
            None
        );
    }

    #[test]
    fn endpoints_resolve_as_the_specification_says() {
        let export = |vars: &[(&str, &str)]| settings(vars).unwrap().export.unwrap();
        let e = export(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]);
        assert_eq!(e.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(e.timeout, Duration::from_secs(10));
        assert_eq!(e.service_name, "petstore-mcp");
        let e = export(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c.example/otlp/")]);
        assert_eq!(e.endpoint, "https://c.example/otlp/v1/traces");
        // The signal's own endpoint is used as written, and wins.
        let e = export(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://wrong:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:9/custom"),
        ]);
        assert_eq!(e.endpoint, "http://c:9/custom");
        // Asked for without an endpoint: the local collector.
        let e = export(&[("OTEL_TRACES_EXPORTER", "otlp")]);
        assert_eq!(e.endpoint, "http://localhost:4318/v1/traces");
        let e = export(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,service.name=pets%20api",
            ),
        ]);
        assert_eq!(e.timeout, Duration::from_millis(2500));
        assert_eq!(e.service_name, "pets api");
        let e = export(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_SERVICE_NAME", "pets"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=other"),
        ]);
        assert_eq!(e.service_name, "pets");
    }

    #[test]
    fn none_and_disabled_turn_export_off() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318");
        for off in [
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_TRACES_EXPORTER", "otlp,none"),
            ("OTEL_SDK_DISABLED", "TRUE"),
        ] {
            assert_eq!(settings(&[endpoint, off]).unwrap().export, None, "{off:?}");
        }
        let s = settings(&[("OTEL_PROPAGATORS", "none")]).unwrap();
        assert!(!s.propagate);
        let s = settings(&[("OTEL_PROPAGATORS", "baggage, tracecontext")]).unwrap();
        assert!(s.propagate && s.baggage_requested);
    }

    #[test]
    fn what_cannot_be_honoured_is_an_error_naming_the_variable() {
        for (var, value) in [
            ("OTEL_TRACES_EXPORTER", "zipkin"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://c/x"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0"),
            ("OTEL_SDK_DISABLED", "yes"),
            ("OTEL_PROPAGATORS", "b3"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/ca.pem"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value}: {err}");
        }
        // The signal's protocol wins over the general one.
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
        ]);
        assert!(s.is_ok(), "{s:?}");
    }
}
