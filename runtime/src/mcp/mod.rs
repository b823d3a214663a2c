//! The MCP side: the handler (`server`), how tools are listed (`listing`), catalog mode's
//! search and describe (`catalog_mode`), and how an upstream reply becomes a tool result
//! (`outcome`).

pub(crate) mod catalog_mode;
pub(crate) mod listing;
pub(crate) mod outcome;
pub(crate) mod server;
