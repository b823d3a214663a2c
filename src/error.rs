//! The generator's failures, each with the exit code the CLI promises (ARCHITECTURE.md, Pipeline).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document is unreadable or not valid OpenAPI; `location` is a JSON pointer,
    /// a `line:column`, a file or a URL.
    #[error("{location}: {message}")]
    Spec { location: String, message: String },
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing the output failed: `action` is what was being done to `path`.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The server's tools/list is over its budget in the mode asked for; the message says by
    /// how much and what to do.
    #[error("{0}")]
    Budget(String),
    /// `--check` found the output stale.
    #[error("{0}")]
    Drift(String),
    /// A fault of mcp-gen itself (a template that does not render, generated code that does
    /// not parse), never of the input; `what` says which.
    #[error("internal error: {what}: {source}")]
    Internal {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    pub fn spec(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Spec {
            location: location.into(),
            message: message.into(),
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn internal(
        what: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Internal {
            what,
            source: source.into(),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec { .. } | Error::Budget(_) | Error::Io { .. } | Error::Internal { .. } => 1,
            Error::Usage(_) => 2,
            Error::Drift(_) => 3,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
