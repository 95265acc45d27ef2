//! What the `jsonrpc_line` and `tool_args` targets share: a fixed configuration with
//! tokens, an in-memory gateway with a few sessions, and a leak check.
#![allow(dead_code)]

use mcp_acp::config::{self, Config};
use mcp_acp::gateway::Session;
use mcp_acp::gateway::memory::{CallLog, MemoryApi, Recording};
use mcp_acp::schema::Checker;
use mcp_acp::tools::Context;
use regex::Regex;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The tokens of the fixed configuration. Neither may ever appear in an answer unless the
/// input itself carried it (an error message may quote the input).
pub const TOKENS: &[&str] = &["fuzz-token-dev-5f3a9c1e7b2d4086", "fuzz-token-lab-90ab7c3d11e2f465"];

/// Three clusters: `dev` (active, with a token, a path prefix), `prod` (no token and no
/// ACP_TOKEN, so every gateway call fails with a configuration error) and `lab` (IPv6,
/// its own token).
pub const CONFIG_YAML: &str = "
clusters:
  dev:
    server: https://gw.example.com/prefix/
    token: fuzz-token-dev-5f3a9c1e7b2d4086
    default_project: team-a
    description: Fuzzing cluster
  prod:
    server: http://127.0.0.1:8081
    default_project: prod
  lab:
    server: https://[::1]:9443
    token: '  fuzz-token-lab-90ab7c3d11e2f465  '
    default_project: lab-project
    timeout_seconds: 5
    ca_cert: lab-ca.pem
default_cluster: dev
";

/// 2026-11-25T00:00:00Z: a fixed clock, so `older_than` filters are deterministic.
pub fn fixed_now() -> i64 {
    1_795_564_800
}

pub fn config() -> Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| config::parse(CONFIG_YAML, None).expect("the fixed fuzz configuration is valid")).clone()
}

fn session(id: &str, status: &str, created: &str, completed: Option<&str>, task: &str) -> Session {
    Session {
        id: id.into(),
        status: status.into(),
        task: task.into(),
        model: Some("claude-sonnet-4-6".into()),
        created_at: Some(created.into()),
        completed_at: completed.map(Into::into),
        result: completed.map(|_| "done".into()),
        error: (status == "failed").then(|| "it broke".into()),
        ..Session::default()
    }
}

/// A gateway stand-in holding a few sessions in `team-a` (dev's default project) and one
/// in `lab-project`, so get, delete and list have something to find.
pub fn memory_api() -> MemoryApi {
    let mut api = MemoryApi::default();
    let team = |s| ("team-a".to_string(), s);
    api.sessions = vec![
        team(session("alpha", "running", "2026-11-20T00:00:00Z", None, "Fix the flaky test")),
        team(session("beta-2", "completed", "2026-11-01T10:00:00.5+02:00", Some("2026-11-02T00:00:00Z"), "")),
        team(session("gamma", "failed", "2025-01-01T00:00:00Z", Some("2025-01-01T01:00:00Z"), &"long ".repeat(100))),
        team(session("delta", "Stopped", "not a timestamp", None, "é✓ unicode task")),
        ("lab-project".to_string(), session("alpha", "pending", "2026-11-24T23:59:59Z", None, "lab task")),
    ];
    api
}

/// A fresh tool context over the fixed configuration and a fresh in-memory gateway.
pub fn context() -> Context {
    let mut ctx = Context::with_config(config(), Box::new(memory_api()));
    ctx.now = fixed_now;
    ctx
}

/// Does any string (or object key) in `v` contain `needle`?
pub fn json_mentions(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|i| json_mentions(i, needle)),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains(needle) || json_mentions(v, needle)),
        _ => false,
    }
}

/// Could the input have spelled `token` itself (raw, or through JSON escapes)?
pub fn input_mentions(raw: &[u8], parsed: Option<&Value>, token: &str) -> bool {
    raw.windows(token.len()).any(|w| w == token.as_bytes()) || parsed.is_some_and(|v| json_mentions(v, token))
}

/// Panic if `text` shows a configured token that the input did not carry.
pub fn assert_no_token_leak(text: &str, raw: &[u8], parsed: Option<&Value>, what: &str) {
    for token in TOKENS {
        if text.contains(token) && !input_mentions(raw, parsed, token) {
            panic!("{what} leaks a configured token: {text}");
        }
    }
}

/// Like [`context`], plus the log of the calls the tools make.
pub fn recording_context() -> (Context, CallLog) {
    let (api, log) = Recording::new(memory_api());
    let mut ctx = Context::with_config(config(), Box::new(api));
    ctx.now = fixed_now;
    (ctx, log)
}

// ---- the JSON Schema subset the server emits (input and output schemas) --------------

fn compiled(pattern: &str) -> Regex {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        c.borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| Regex::new(pattern).unwrap_or_else(|e| panic!("schema pattern {pattern:?}: {e}")))
            .clone()
    })
}

/// Does `v` satisfy `schema`? The server's own checker ([`mcp_acp::schema`]), with the
/// `regex` crate for patterns (the server has no regex engine).
pub fn schema_check(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let pattern = |p: &str, s: &str| compiled(p).is_match(s);
    Checker { pattern: &pattern, closed: false }.check(schema, v, at).map_err(|e| e.0)
}
