//! W3C Trace Context (`traceparent`, `tracestate`) in and out. Read from the HTTP request's
//! headers or from an MCP request's `params._meta` (MCP 2026-07-28 reserves those two keys,
//! with `baggage`, for W3C values), parsed by the OpenTelemetry SDK's TraceContext propagator,
//! and bounded first: a `traceparent` longer than any version of it can be is ignored, and
//! `tracestate` is cut to the entries that fit 512 bytes, as W3C lets a hop do. Anything
//! malformed is ignored as if absent (W3C: start a new trace rather than fail the request).

use axum::http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_sdk::propagation::TraceContextPropagator;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
/// Version 00 is 55 bytes; later versions may only append fields. Longer is ignored unread.
const MAX_TRACEPARENT: usize = 256;
/// W3C: a hop should pass on at least 512 bytes of `tracestate`, dropping whole entries
/// (the longest, over 128 bytes, first; then from the end) to fit.
const MAX_TRACESTATE: usize = 512;
const MAX_TRACESTATE_ENTRY: usize = 128;

/// The caller's span from `traceparent` and `tracestate` header values. Two `traceparent`
/// headers are ambiguous and ignored; several `tracestate` headers are one list (RFC 9110).
pub fn remote_from_headers(headers: &HeaderMap) -> Option<SpanContext> {
    let mut parents = headers.get_all(TRACEPARENT).iter();
    let parent = parents.next()?;
    if parents.next().is_some() {
        return None;
    }
    let parent = parent.to_str().ok()?;
    let mut state = String::new();
    for value in headers.get_all(TRACESTATE) {
        let Ok(value) = value.to_str() else {
            state.clear();
            break;
        };
        if state.len() + value.len() > 4 * MAX_TRACESTATE {
            break;
        }
        if !state.is_empty() {
            state.push(',');
        }
        state.push_str(value);
    }
    remote(parent, (!state.is_empty()).then_some(state.as_str()))
}

/// The caller's span from the `traceparent` and `tracestate` strings of `params._meta`.
pub fn remote_from_meta(
    traceparent: Option<&str>,
    tracestate: Option<&str>,
) -> Option<SpanContext> {
    remote(traceparent?, tracestate)
}

fn remote(traceparent: &str, tracestate: Option<&str>) -> Option<SpanContext> {
    if traceparent.len() > MAX_TRACEPARENT || !well_formed(traceparent) {
        return None;
    }
    let state = tracestate.map(bounded_tracestate);
    let carrier = Carrier {
        traceparent,
        tracestate: state.as_deref(),
    };
    let cx = TraceContextPropagator::new().extract(&carrier);
    let span = cx.span().span_context().clone();
    span.is_valid().then_some(span)
}

/// W3C's field widths, which the propagator does not check (it takes a 31-digit trace id):
/// `version-traceid-parentid-flags` in 2, 32, 16 and 2 lowercase hex digits; a later version
/// may add fields after a `-`, version 00 may not.
fn well_formed(traceparent: &str) -> bool {
    let bytes = traceparent.as_bytes();
    let hex = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    bytes.len() >= 55
        && [2, 35, 52].iter().all(|&i| bytes[i] == b'-')
        && hex(0..2)
        && hex(3..35)
        && hex(36..52)
        && hex(53..55)
        && match &bytes[..2] {
            b"00" => bytes.len() == 55,
            _ => bytes.len() == 55 || bytes[55] == b'-',
        }
}

/// `tracestate` cut to whole entries that fit [`MAX_TRACESTATE`] bytes.
fn bounded_tracestate(value: &str) -> String {
    let mut out = String::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry.len() > MAX_TRACESTATE_ENTRY {
            continue;
        }
        if out.len() + entry.len() + 1 > MAX_TRACESTATE {
            break;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(entry);
    }
    out
}

struct Carrier<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => Some(self.traceparent),
            TRACESTATE => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

/// Writes `cx`'s span as `traceparent` (and a non-empty `tracestate`) onto `headers`,
/// replacing any already there; nothing when `cx` has no valid span.
pub fn inject(cx: &Context, headers: &mut reqwest::header::HeaderMap) {
    TraceContextPropagator::new().inject_context(cx, &mut HeaderInjector(headers));
}

struct HeaderInjector<'a>(&'a mut reqwest::header::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let name = match key {
            TRACEPARENT => reqwest::header::HeaderName::from_static(TRACEPARENT),
            TRACESTATE => reqwest::header::HeaderName::from_static(TRACESTATE),
            _ => return,
        };
        if value.is_empty() {
            self.0.remove(&name);
            return;
        }
        // Both were parsed or written by the propagator: visible ASCII.
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&value) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn reads_a_valid_traceparent_and_its_state() {
        let span = remote_from_headers(&headers(&[
            ("traceparent", PARENT),
            ("tracestate", "congo=t61rcWkgMzE"),
            ("tracestate", "rojo=00f067aa0ba902b7"),
        ]))
        .unwrap();
        assert_eq!(
            span.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(span.span_id().to_string(), "b7ad6b7169203331");
        assert!(span.is_sampled() && span.is_remote());
        assert_eq!(
            span.trace_state().header(),
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
        );
        let span = remote_from_meta(Some(PARENT), None).unwrap();
        assert_eq!(span.span_id().to_string(), "b7ad6b7169203331");
        assert_eq!(remote_from_meta(None, Some("a=b")), None);
    }

    #[test]
    fn malformed_or_ambiguous_context_is_ignored() {
        for bad in [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "zz-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",
        ] {
            assert_eq!(remote_from_meta(Some(bad), None), None, "{bad}");
        }
        // Two traceparent headers: which one is meant is unknown.
        let two = headers(&[("traceparent", PARENT), ("traceparent", PARENT)]);
        assert_eq!(remote_from_headers(&two), None);
        // A later version may append fields, within bounds.
        let later = format!("01-{}-01-{}", &PARENT[3..52], "ab".repeat(20));
        assert!(remote_from_meta(Some(&later), None).is_some());
        let huge = format!("01-{}-01-{}", &PARENT[3..52], "ab".repeat(200));
        assert_eq!(remote_from_meta(Some(&huge), None), None);
        // A malformed tracestate is dropped, the traceparent still holds.
        let span = remote_from_meta(Some(PARENT), Some("no equals sign")).unwrap();
        assert_eq!(span.trace_state().header(), "");
    }

    #[test]
    fn tracestate_is_cut_to_whole_entries_within_512_bytes() {
        let long = format!("big={}", "x".repeat(200));
        let entries: Vec<String> = (0..40)
            .map(|i| format!("k{i}={}", "v".repeat(20)))
            .collect();
        let state = format!("{long},{}", entries.join(","));
        let cut = bounded_tracestate(&state);
        assert!(cut.len() <= MAX_TRACESTATE, "{}", cut.len());
        assert!(cut.starts_with("k0=") && !cut.contains("big="), "{cut}");
        assert!(cut.split(',').all(|e| entries.contains(&e.to_owned())));
    }

    #[test]
    fn injects_the_span_and_replaces_what_was_there() {
        let span = remote_from_meta(Some(PARENT), Some("congo=t61rcWkgMzE")).unwrap();
        let cx = Context::new().with_remote_span_context(span);
        let mut out = reqwest::header::HeaderMap::new();
        out.insert("traceparent", "from-an-argument".parse().unwrap());
        inject(&cx, &mut out);
        assert_eq!(out["traceparent"], PARENT);
        assert_eq!(out["tracestate"], "congo=t61rcWkgMzE");
        let mut none = reqwest::header::HeaderMap::new();
        inject(&Context::new(), &mut none);
        assert!(none.is_empty());
    }
}
