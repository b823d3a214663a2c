//! The MCP side: the handler (`server`), how tools are listed (`listing`), and how an
//! upstream reply becomes a tool result (`outcome`).

pub(crate) mod listing;
pub(crate) mod outcome;
pub(crate) mod server;
