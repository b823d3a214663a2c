//! Logs: to stderr in every mode (on stdio, stdout carries the protocol), filtered by
//! `RUST_LOG`, as text lines or, with `LOG_FORMAT=json`, one JSON object a line for log
//! collectors. What is logged is the same either way, and never holds a token.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{ConfigError, Environment};

/// `LOG_FORMAT`: how each line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn format_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Format, ConfigError> {
    let var = "LOG_FORMAT";
    match lookup(var)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("" | "text") => Ok(Format::Text),
        Some("json") => Ok(Format::Json),
        Some(other) => Err(ConfigError {
            var,
            message: format!("{other:?} is neither \"text\" nor \"json\""),
        }),
    }
}

/// Starts logging as `RUST_LOG` and `LOG_FORMAT` say; `Err` names the variable that is wrong.
pub fn init(env: &Environment) -> Result<(), String> {
    let format = format_from(|name| env.get(name)).map_err(|e| e.to_string())?;
    let filter = match env.get("RUST_LOG") {
        Some(spec) => {
            EnvFilter::try_new(&spec).map_err(|e| format!("invalid RUST_LOG {spec:?}: {e}"))?
        }
        None => EnvFilter::new("info,rmcp=warn"),
    };
    tracing::subscriber::set_global_default(subscriber(filter, format, std::io::stderr))
        .map_err(|e| format!("cannot start logging: {e}"))
}

/// The log lines in `format`, written to `writer`.
pub fn subscriber<W>(
    filter: EnvFilter,
    format: Format,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    match format {
        Format::Text => Box::new(builder.finish()),
        // Fields at the top level beside `timestamp`, `level` and `message`, as collectors
        // index them; no span list (the server's lines carry their own fields).
        Format::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_text_json_or_an_error_naming_the_variable() {
        let with = |value: Option<&str>| format_from(|_| value.map(str::to_owned));
        assert_eq!(with(None), Ok(Format::Text));
        assert_eq!(with(Some("JSON")), Ok(Format::Json));
        assert_eq!(with(Some(" text ")), Ok(Format::Text));
        let error = with(Some("yaml")).unwrap_err().to_string();
        assert_eq!(
            error,
            r#"invalid LOG_FORMAT: "yaml" is neither "text" nor "json""#
        );
    }
}
