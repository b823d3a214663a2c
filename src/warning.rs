//! What the generator reports without stopping. Every warning has a class, so users (and
//! `--strict`) can tell a note about a valid document from a defect the generator worked
//! around, and a place: a JSON pointer into the document, or `config`.

use std::fmt;

use crate::error::{Error, Result};

/// The kinds of warning, each with a stable kebab-case name shown in brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    // Notes: the document is valid; this is what the generator does with it.
    /// No server URL, or a relative one: the upstream comes from `UPSTREAM_BASE_URL`.
    UpstreamUrl,
    /// 3.1 webhooks: calls the API makes, never tools.
    Webhooks,
    /// An operation marked `x-mcp: false`.
    Hidden,
    /// A security scheme the server cannot supply upstream (mutual TLS, OpenID Connect, …).
    UnsupportedScheme,
    /// A parameter the server's upstream credential fills.
    CredentialParameter,
    /// An `Accept`, `Content-Type` or `Authorization` header parameter the server sets.
    ServerHeader,
    /// A `[tools.…]` or `[credentials.…]` entry of the config that matches nothing.
    UnusedConfig,
    // Defects: the document is wrong here; `--strict` makes them errors.
    /// A security requirement names a scheme `components.securitySchemes` lacks.
    UndefinedScheme,
    /// A Swagger 2.0 oauth2 flow that does not exist.
    UnknownFlow,
    /// A request body that lists no media type: the tool sends none.
    NoMediaType,
    /// A parameter's or body's schema that cannot be read: the argument takes any value.
    UntypedArgument,
    /// A response schema that cannot be read: the tool declares no `outputSchema`.
    NoOutputSchema,
    /// An operation that cannot be mapped at all: left out.
    OperationDropped,
}

impl Class {
    /// Every class, in the order the documentation lists them.
    pub const ALL: &'static [Class] = &[
        Class::UpstreamUrl,
        Class::Webhooks,
        Class::Hidden,
        Class::UnsupportedScheme,
        Class::CredentialParameter,
        Class::ServerHeader,
        Class::UnusedConfig,
        Class::UndefinedScheme,
        Class::UnknownFlow,
        Class::NoMediaType,
        Class::UntypedArgument,
        Class::NoOutputSchema,
        Class::OperationDropped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::UpstreamUrl => "upstream-url",
            Class::Webhooks => "webhooks",
            Class::Hidden => "hidden",
            Class::UnsupportedScheme => "unsupported-scheme",
            Class::CredentialParameter => "credential-parameter",
            Class::ServerHeader => "server-header",
            Class::UnusedConfig => "unused-config",
            Class::UndefinedScheme => "undefined-scheme",
            Class::UnknownFlow => "unknown-flow",
            Class::NoMediaType => "no-media-type",
            Class::UntypedArgument => "untyped-argument",
            Class::NoOutputSchema => "no-output-schema",
            Class::OperationDropped => "operation-dropped",
        }
    }

    /// The document is broken at that place and the generator worked around it.
    pub fn is_defect(self) -> bool {
        match self {
            Class::UpstreamUrl
            | Class::Webhooks
            | Class::Hidden
            | Class::UnsupportedScheme
            | Class::CredentialParameter
            | Class::ServerHeader
            | Class::UnusedConfig => false,
            Class::UndefinedScheme
            | Class::UnknownFlow
            | Class::NoMediaType
            | Class::UntypedArgument
            | Class::NoOutputSchema
            | Class::OperationDropped => true,
        }
    }

    /// The operation still became a tool, but a weaker one than the spec meant.
    pub fn degrades(self) -> bool {
        matches!(
            self,
            Class::NoMediaType | Class::UntypedArgument | Class::NoOutputSchema
        )
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub class: Class,
    /// A JSON pointer into the document, or `config`.
    pub at: String,
    pub message: String,
}

impl Warning {
    pub fn new(class: Class, at: impl fmt::Display, message: impl Into<String>) -> Self {
        Warning {
            class,
            at: at.to_string(),
            message: message.into(),
        }
    }
}

/// What a defect cost: one operation, or every operation of a path item.
#[derive(Debug, Clone, Copy)]
pub enum LeftOut {
    Operation,
    PathItem,
}

impl Warning {
    /// A defect confined to an operation or path item as the warning that replaces it.
    /// Other errors (I/O, usage) stay errors.
    pub fn left_out(e: Error, what: LeftOut) -> Result<Warning> {
        let what = match what {
            LeftOut::Operation => "operation left out",
            LeftOut::PathItem => "the operations of this path left out",
        };
        match e {
            Error::Spec { location, message } => Ok(Warning::new(
                Class::OperationDropped,
                location,
                format!("{message}; {what}"),
            )),
            other => Err(other),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.at, self.message, self.class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_defects_follow_notes() {
        let names: std::collections::BTreeSet<_> = Class::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Class::ALL.len());
        // Listed notes first, as the README's table.
        let first_defect = Class::ALL.iter().position(|c| c.is_defect()).unwrap();
        assert!(Class::ALL[first_defect..].iter().all(|c| c.is_defect()));
        assert!(!Class::ServerHeader.is_defect());
        assert!(Class::UntypedArgument.is_defect() && Class::UntypedArgument.degrades());
        assert!(Class::OperationDropped.is_defect() && !Class::OperationDropped.degrades());
    }

    #[test]
    fn shown_with_place_and_class() {
        let w = Warning::new(Class::Hidden, "/paths/~1a/get", "hidden by `x-mcp: false`");
        assert_eq!(
            w.to_string(),
            "/paths/~1a/get: hidden by `x-mcp: false` [hidden]"
        );
    }
}
