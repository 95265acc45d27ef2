//! Test support shared by the integration tests: a fake public-api gateway
//! ([`gateway::FakeGateway`]) and a driver for the real binary over stdio ([`mcp::TestEnv`]).
#![allow(dead_code)]
#![allow(unused_imports)]

pub mod faults;
pub mod gateway;
pub mod gobind;
pub mod http;
pub mod mcp;

pub use gateway::{FakeGateway, Fault, RecordedRequest};
pub use mcp::{Finished, Server, TOKEN, TestEnv, ToolResult, assert_no_token_leak, token_leak};
