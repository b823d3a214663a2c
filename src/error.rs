//! The generator's failures, each with the exit code the CLI promises (ARCHITECTURE.md, Pipeline).

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The document is unreadable or not valid OpenAPI; `location` is a JSON pointer,
    /// a `line:column`, a file or a URL.
    Spec { location: String, message: String },
    /// The command line asks for something impossible.
    Usage(String),
    /// Reading or writing files failed.
    Io(String),
    /// `--check` found the output stale.
    Drift(String),
}

impl Error {
    pub fn spec(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Spec {
            location: location.into(),
            message: message.into(),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec { .. } | Error::Io(_) => 1,
            Error::Usage(_) => 2,
            Error::Drift(_) => 3,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spec { location, message } => write!(f, "{location}: {message}"),
            Error::Usage(message) | Error::Io(message) | Error::Drift(message) => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
