//! What the `jsonrpc_line` and `tool_args` targets share: a fixed configuration with
//! tokens, an in-memory gateway with a few sessions, and a leak check.
#![allow(dead_code)]

use mcp_acp::config::{self, Config};
use mcp_acp::gateway::Session;
use mcp_acp::gateway::memory::MemoryApi;
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

/// Every call that reached the gateway stand-in, as `METHOD project [id]`.
pub type CallLog = std::rc::Rc<std::cell::RefCell<Vec<String>>>;

/// [`MemoryApi`] that also records its calls where the fuzz target can still see them
/// after the context has taken ownership of the API.
pub struct RecordingApi {
    inner: MemoryApi,
    log: CallLog,
}

mod recording {
    use super::RecordingApi;
    use mcp_acp::gateway::{ApiError, NewSession, RequestPreview, Session, SessionApi, SessionList, Target};

    impl SessionApi for RecordingApi {
        fn list(&mut self, t: &Target) -> Result<SessionList, ApiError> {
            self.log.borrow_mut().push(format!("GET {}", t.project));
            self.inner.list(t)
        }
        fn get(&mut self, t: &Target, id: &str) -> Result<Session, ApiError> {
            self.log.borrow_mut().push(format!("GET {} {id}", t.project));
            self.inner.get(t, id)
        }
        fn create(&mut self, t: &Target, new: &NewSession) -> Result<String, ApiError> {
            self.log.borrow_mut().push(format!("POST {}", t.project));
            self.inner.create(t, new)
        }
        fn delete(&mut self, t: &Target, id: &str) -> Result<(), ApiError> {
            self.log.borrow_mut().push(format!("DELETE {} {id}", t.project));
            self.inner.delete(t, id)
        }
        fn preview_create(&self, t: &Target, new: &NewSession) -> RequestPreview {
            self.inner.preview_create(t, new)
        }
    }
}

/// Like [`context`], plus the log of the calls the tools make.
pub fn recording_context() -> (Context, CallLog) {
    let log = CallLog::default();
    let api = RecordingApi { inner: memory_api(), log: log.clone() };
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

fn is_integer(v: &Value) -> bool {
    v.as_i64().is_some() || v.as_u64().is_some() || v.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// Does `v` satisfy `schema`? Implements the keywords `tools::params::schema` and the tools'
/// output schemas use; any other keyword is ignored (which can only make this check more
/// lenient, never a false alarm).
pub fn schema_check(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let num = |k: &str| schema.get(k).and_then(Value::as_u64);
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array)
        && !branches.iter().any(|s| schema_check(s, v, at).is_ok())
    {
        return Err(format!("{at}: {v} matches no anyOf branch"));
    }
    if let Some(t) = schema.get("type") {
        let is = |t: &str| match t {
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            "number" => v.is_number(),
            "integer" => is_integer(v),
            "null" => v.is_null(),
            other => panic!("unknown schema type {other:?}"),
        };
        let ok = match t {
            Value::String(t) => is(t),
            Value::Array(ts) => ts.iter().any(|t| t.as_str().is_some_and(is)),
            other => panic!("schema type must be a string or a list, not {other}"),
        };
        if !ok {
            return Err(format!("{at}: {v} is not of type {t}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        return Err(format!("{at}: {v} not in enum"));
    }
    if let Some(s) = v.as_str() {
        let len = s.chars().count() as u64; // JSON Schema counts characters
        if num("minLength").is_some_and(|m| len < m) || num("maxLength").is_some_and(|m| len > m) {
            return Err(format!("{at}: length {len} of {v} out of bounds"));
        }
        if let Some(p) = schema.get("pattern").and_then(Value::as_str)
            && !compiled(p).is_match(s)
        {
            return Err(format!("{at}: {v} does not match {p:?}"));
        }
    }
    if v.is_number() {
        let (lo, hi) = (schema.get("minimum"), schema.get("maximum"));
        let below = |b: &Value| match (v.as_i64(), b.as_i64()) {
            (Some(x), Some(b)) => x < b,
            _ => v.as_f64().zip(b.as_f64()).is_some_and(|(x, b)| x < b),
        };
        let above = |b: &Value| match (v.as_i64(), b.as_i64()) {
            (Some(x), Some(b)) => x > b,
            _ => v.as_f64().zip(b.as_f64()).is_some_and(|(x, b)| x > b),
        };
        if lo.is_some_and(below) || hi.is_some_and(above) {
            return Err(format!("{at}: {v} out of range"));
        }
    }
    if let Some(items) = v.as_array() {
        let n = items.len() as u64;
        if num("minItems").is_some_and(|m| n < m) || num("maxItems").is_some_and(|m| n > m) {
            return Err(format!("{at}: {n} items out of bounds"));
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    return Err(format!("{at}: {item} repeated"));
                }
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                schema_check(item_schema, item, &format!("{at}[{i}]"))?;
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !req.as_str().is_some_and(|r| obj.contains_key(r)) {
                return Err(format!("{at}: required {req} missing"));
            }
        }
        for (k, item) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => schema_check(s, item, &format!("{at}.{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: additional property {k:?}"));
                }
                None => {}
            }
        }
    }
    Ok(())
}
