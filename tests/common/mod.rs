//! Test support shared by the integration tests: a fake public-api gateway
//! ([`gateway::FakeGateway`], plain or HTTPS with certificates from [`tls`]) and a driver for
//! the real binary over stdio ([`mcp::TestEnv`]; `MCP_ACP_BIN` picks another binary).
#![allow(dead_code)]
#![allow(unused_imports)]

pub mod ambient;
pub mod ambient_env;
pub mod faults;
pub mod gateway;
pub mod gobind;
pub mod http;
pub mod idp;
pub mod mcp;
pub mod raw;
pub mod tls;

pub use ambient::FakeAmbient;
pub use ambient_env::AmbientEnv;
pub use gateway::{FakeGateway, Fault, RecordedRequest, RouteMatch, Times};
pub use idp::FakeIdp;
pub use mcp::{
    BackgroundWriter, Finished, Server, TOKEN, TestEnv, ToolResult, assert_no_token_leak, bin_command, bin_path,
    finish, peak_rss, token_leak,
};
