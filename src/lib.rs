//! mcp-acp: an MCP server for the Ambient Code Platform (public-api gateway and ambient API server).
//!
//! `main.rs` parses arguments and starts [`server::serve`]; everything else lives in one
//! module per concern.

pub mod audit;
pub mod base64;
pub mod config;
pub mod credentials;
pub mod deadline;
pub mod demo;
pub mod der;
#[cfg(feature = "http")]
pub mod doctor;
pub mod gateway;
pub mod input;
pub mod jsonrpc;
pub mod jwt;
pub mod logging;
pub mod login_source;
#[cfg(feature = "http")]
pub mod oidc;
pub mod redact;
pub mod schema;
pub mod secure_file;
pub mod server;
pub mod tools;
pub mod validate;
