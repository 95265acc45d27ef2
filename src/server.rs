//! MCP over the wire: lifecycle, version negotiation, dispatch. One message at a time.
//!
//! Two eras share one loop. Legacy clients (2024-11-05 … 2025-11-25) open with `initialize`
//! and the agreed version holds for the process. Stateless clients (2026-07-28) send the
//! version in every request's `_meta` and may call `server/discover`; each such request is
//! served on its own. What a result contains follows the revision it is served under.

use crate::jsonrpc::{self, Incoming, Line, RpcError};
use crate::tools::{self, Context, Progress};
use crate::{logging, redact};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::io::{self, BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::OnceLock;

/// Revisions that open with `initialize`, newest first.
pub const HANDSHAKE_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// The stateless revision: no handshake, the version travels in each request's `_meta`.
pub const STATELESS_VERSION: &str = "2026-07-28";
/// Every revision we speak, newest first.
pub const ALL_VERSIONS: &[&str] = &["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

const INSTRUCTIONS: &str = "mcp-acp manages agentic sessions on the Ambient Code Platform through its \
public-api gateway: list, inspect, create and delete sessions in a project, and see or switch the \
configured cluster. `project` defaults to the active cluster's default project. Deleting several \
sessions needs confirm=true and is limited to 3 per call; use dry_run=true to preview any change.";

/// The revision a request is served under. Revisions are dates, so they compare as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rev(pub &'static str);

impl Rev {
    pub fn stateless(self) -> bool {
        self.0 == STATELESS_VERSION
    }
    /// Tool annotations and progress messages exist from 2025-03-26 on.
    pub fn has_annotations(self) -> bool {
        self.0 >= "2025-03-26"
    }
    /// `title`, `outputSchema` and `structuredContent` exist from 2025-06-18 on.
    pub fn has_structured_output(self) -> bool {
        self.0 >= "2025-06-18"
    }
}

pub struct Server {
    ctx: Context,
    /// The version agreed in `initialize`, once it has happened.
    handshake: Option<&'static str>,
}

impl Server {
    pub fn new(ctx: Context) -> Server {
        Server { ctx, handshake: None }
    }

    /// Handle one input line; the answer to write, if any (notifications get none).
    pub fn handle_line(&mut self, line: &[u8]) -> Option<Answer> {
        match jsonrpc::parse_json(line) {
            Err(error_response) => {
                log::warn!("rejected input line: {}", error_response["error"]["message"]);
                Some(Answer::Value(error_response))
            }
            Ok(Value::Array(items)) => self.batch(items),
            Ok(message) => self.message(message),
        }
    }

    fn message(&mut self, message: Value) -> Option<Answer> {
        match jsonrpc::classify(message) {
            Err(error_response) => {
                log::warn!("rejected message: {}", error_response["error"]["message"]);
                Some(Answer::Value(error_response))
            }
            Ok(Incoming::Request { id, method, params }) => Some(self.request(id, &method, &params)),
            Ok(Incoming::Notification { method, params }) => {
                notification(&method, &params);
                None
            }
            Ok(Incoming::Response) => {
                log::debug!("ignored a response from the client (this server sends no requests)");
                None
            }
        }
    }

    /// JSON-RPC batches exist only in 2025-03-26, where servers must accept them.
    fn batch(&mut self, items: Vec<Value>) -> Option<Answer> {
        if self.handshake != Some("2025-03-26") {
            let message = "JSON-RPC batches are part of protocol 2025-03-26 only; send one message per line";
            return Some(Answer::Value(jsonrpc::error(Value::Null, jsonrpc::INVALID_REQUEST, message)));
        }
        if items.is_empty() {
            let message = "a batch must not be empty";
            return Some(Answer::Value(jsonrpc::error(Value::Null, jsonrpc::INVALID_REQUEST, message)));
        }
        let answers: Vec<Value> = items
            .into_iter()
            .filter_map(|item| match item.get("method").and_then(Value::as_str) {
                Some("initialize") => {
                    let id = item.get("id").filter(|id| id.is_string() || id.is_number()).cloned();
                    let message = "initialize must not be part of a batch";
                    Some(jsonrpc::error(id.unwrap_or(Value::Null), jsonrpc::INVALID_REQUEST, message))
                }
                _ => self.message(item).map(Answer::into_value),
            })
            .collect();
        (!answers.is_empty()).then_some(Answer::Value(Value::Array(answers)))
    }

    fn request(&mut self, id: Value, method: &str, params: &Value) -> Answer {
        let rev = match self.revision_of(method, params) {
            Ok(rev) => rev,
            Err(e) => return Answer::Value(jsonrpc::failure(id, e)),
        };
        // The two answers that can be large are written without building a Value tree.
        if !rev.stateless() {
            match method {
                "tools/list" => return Answer::raw(&id, tools_list_raw(rev)),
                "tools/call" => {
                    return match self.tools_call(rev, params) {
                        Ok(output) => Answer::tool_result(&id, &output, rev),
                        Err(e) => Answer::Value(jsonrpc::failure(id, e)),
                    };
                }
                _ => {}
            }
        }
        Answer::Value(self.request_value(id, method, params, rev))
    }

    fn request_value(&mut self, id: Value, method: &str, params: &Value, rev: Rev) -> Value {
        // A stateless request gets log messages only if it asks for them itself.
        let saved_level = logging::client_level();
        if rev.stateless() {
            let asked = meta(params, META_LOG_LEVEL).and_then(Value::as_str);
            if logging::set_client_level(asked).is_err() {
                let _ = logging::set_client_level(None);
            }
        }
        let result = self.dispatch(rev, method, params);
        if rev.stateless() {
            let _ = logging::set_client_level(saved_level);
        }
        match result {
            Ok(mut result) => {
                if rev.stateless() {
                    result["resultType"] = json!("complete");
                    result["_meta"] = json!({ META_SERVER_INFO: server_info(rev) });
                }
                jsonrpc::ok(id, result)
            }
            Err(e) => jsonrpc::failure(id, e),
        }
    }

    fn dispatch(&mut self, rev: Rev, method: &str, params: &Value) -> Result<Value, RpcError> {
        match (method, rev.stateless()) {
            ("initialize", false) => Ok(self.initialize(params)),
            ("server/discover", true) => Ok(discover()),
            ("tools/list", _) => Ok(tools_list(rev)),
            ("tools/call", _) => self.tools_call(rev, params).map(|o| call_result_value(&o, rev)),
            ("ping", false) => Ok(json!({})),
            ("logging/setLevel", false) => set_log_level(params),
            _ => {
                log::warn!("unknown method {}", crate::validate::quote(method));
                let removed = match (rev.stateless(), method) {
                    (true, "initialize" | "ping" | "logging/setLevel") => " (not part of protocol 2026-07-28)",
                    _ => "",
                };
                Err(RpcError::new(
                    jsonrpc::METHOD_NOT_FOUND,
                    format!("Method not found: {}{removed}", crate::validate::quote(method)),
                ))
            }
        }
    }

    /// Which revision serves this request: the one in its `_meta` (stateless), else the one
    /// agreed in `initialize`, else our newest handshake revision.
    fn revision_of(&self, method: &str, params: &Value) -> Result<Rev, RpcError> {
        match meta(params, META_VERSION) {
            None if method == "server/discover" => Err(RpcError::new(
                jsonrpc::INVALID_PARAMS,
                format!(
                    "server/discover needs params._meta[\"{META_VERSION}\"] (protocol {STATELESS_VERSION}); \
                     clients of older revisions start with initialize"
                ),
            )),
            None => Ok(Rev(self.handshake.unwrap_or(HANDSHAKE_VERSIONS[0]))),
            Some(Value::String(v)) if v == STATELESS_VERSION => match meta(params, META_CAPABILITIES) {
                Some(Value::Object(_)) => Ok(Rev(STATELESS_VERSION)),
                _ => Err(RpcError::new(
                    jsonrpc::INVALID_PARAMS,
                    format!(
                        "params._meta[\"{META_CAPABILITIES}\"] is required (an object) in protocol {STATELESS_VERSION}"
                    ),
                )),
            },
            Some(Value::String(v)) => match HANDSHAKE_VERSIONS.iter().find(|known| *known == v) {
                Some(known) => Ok(Rev(known)),
                None => Err(RpcError {
                    code: jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
                    message: "Unsupported protocol version".into(),
                    data: Some(json!({"supported": ALL_VERSIONS, "requested": v})),
                }),
            },
            Some(_) => Err(RpcError::new(
                jsonrpc::INVALID_PARAMS,
                format!("params._meta[\"{META_VERSION}\"] must be a string"),
            )),
        }
    }

    /// Echo the client's version if we speak it, else offer our newest handshake revision.
    fn initialize(&mut self, params: &Value) -> Value {
        let asked = params.get("protocolVersion").and_then(Value::as_str).unwrap_or_default();
        let version = HANDSHAKE_VERSIONS.iter().copied().find(|v| *v == asked).unwrap_or(HANDSHAKE_VERSIONS[0]);
        self.handshake = Some(version);
        log::info!("initialize: client asked for {}, using {version}", crate::validate::quote(asked));
        json!({
            "protocolVersion": version,
            "capabilities": capabilities(),
            "serverInfo": server_info(Rev(version)),
            "instructions": INSTRUCTIONS,
        })
    }

    fn tools_call(&mut self, rev: Rev, params: &Value) -> Result<tools::Output, RpcError> {
        let invalid = |m: String| RpcError::new(jsonrpc::INVALID_PARAMS, m);
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("params.name (the tool to call) is required".into()))?;
        let tool = tools::find(name).ok_or_else(|| {
            invalid(format!("Unknown tool: {}. Call tools/list for the available tools.", crate::validate::quote(name)))
        })?;
        let arguments = params.get("arguments").unwrap_or(&Value::Null);
        let progress = meta(params, "progressToken")
            .filter(|t| t.is_string() || t.is_number())
            .map(|token| Progress { token: token.clone(), with_message: rev.has_annotations() });
        self.ctx.set_progress(progress);
        let ctx = &mut self.ctx;
        let output = catch_unwind(AssertUnwindSafe(|| tools::call(ctx, tool, arguments))).unwrap_or_else(|_| {
            log::error!("tool_unexpected_error tool={name}: the tool panicked (see the message above)");
            tools::Output::failure(format!(
                "Internal error in {name}; it has been logged. Other calls are not affected."
            ))
        });
        self.ctx.set_progress(None);
        Ok(output)
    }
}

/// An answer ready to write: a `Value`, or JSON already serialized (tool results and the
/// tool list), which spares building, serializing and dropping a tree as large as the answer.
pub enum Answer {
    Value(Value),
    Raw(String),
}

impl Answer {
    fn raw(id: &Value, result: &RawValue) -> Answer {
        Answer::serialized(id, &RawMessage { jsonrpc: "2.0", id, result })
    }

    fn tool_result(id: &Value, output: &tools::Output, rev: Rev) -> Answer {
        Answer::serialized(id, &ToolMessage { jsonrpc: "2.0", id, result: call_result(output, rev) })
    }

    /// These messages cannot fail to serialize (string keys, valid raw JSON); if one ever
    /// did, the client still gets an answer.
    fn serialized(id: &Value, message: &impl serde::Serialize) -> Answer {
        match serde_json::to_string(message) {
            Ok(s) => Answer::Raw(s),
            Err(e) => Answer::Value(jsonrpc::error(
                id.clone(),
                jsonrpc::INTERNAL_ERROR,
                &format!("the answer could not be serialized ({e})"),
            )),
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Answer::Value(v) => v,
            Answer::Raw(s) => serde_json::from_str(&s).expect("we serialized it"),
        }
    }
}

#[derive(serde::Serialize)]
struct RawMessage<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    result: &'a RawValue,
}

#[derive(serde::Serialize)]
struct ToolMessage<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    result: CallResult<'a>,
}

#[derive(serde::Serialize)]
struct CallResult<'a> {
    content: [TextContent<'a>; 1],
    #[serde(rename = "isError")]
    is_error: bool,
    #[serde(rename = "structuredContent", skip_serializing_if = "Option::is_none")]
    structured: Option<&'a RawValue>,
}

#[derive(serde::Serialize)]
struct TextContent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

fn call_result(output: &tools::Output, rev: Rev) -> CallResult<'_> {
    CallResult {
        content: [TextContent { kind: "text", text: &output.text }],
        is_error: output.is_error,
        structured: output.structured.as_deref().filter(|_| rev.has_structured_output()),
    }
}

/// The result of a tools/call as a Value, for stateless requests (which add fields to it).
fn call_result_value(output: &tools::Output, rev: Rev) -> Value {
    serde_json::to_value(call_result(output, rev)).expect("a tool result serializes")
}

/// The tool list cannot change while the process runs: render it once per kind of revision
/// (plain; with annotations; with titles and output schemas too).
fn tools_list_raw(rev: Rev) -> &'static RawValue {
    static CACHE: [OnceLock<Box<RawValue>>; 3] = [const { OnceLock::new() }; 3];
    let kind = usize::from(rev.has_annotations()) + usize::from(rev.has_structured_output());
    CACHE[kind].get_or_init(|| serde_json::value::to_raw_value(&tools_list(rev)).expect("a Value serializes"))
}

fn meta<'a>(params: &'a Value, key: &str) -> Option<&'a Value> {
    params.get("_meta").and_then(|m| m.get(key))
}

fn notification(method: &str, params: &Value) {
    match method {
        // One request at a time: by the time a cancellation is read, its request has been answered.
        "notifications/cancelled" => {
            log::debug!("cancellation for request {} ignored: it had already finished", params["requestId"])
        }
        _ => log::debug!("notification {}", crate::validate::quote(method)),
    }
}

fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}, "logging": {}})
}

fn server_info(rev: Rev) -> Value {
    let mut info = json!({"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")});
    if rev.has_structured_output() {
        info["title"] = json!("Ambient Code Platform sessions");
    }
    info
}

fn discover() -> Value {
    json!({
        "supportedVersions": ALL_VERSIONS,
        "capabilities": capabilities(),
        "instructions": INSTRUCTIONS,
        // The tool list never changes while the binary stays the same.
        "ttlMs": 3_600_000,
        "cacheScope": "public",
    })
}

fn set_log_level(params: &Value) -> Result<Value, RpcError> {
    let level = params.get("level").and_then(Value::as_str).unwrap_or_default();
    logging::set_client_level(Some(level)).map_err(|m| RpcError::new(jsonrpc::INVALID_PARAMS, m))?;
    Ok(json!({}))
}

/// Each tool as the revision describes tools: fields a revision does not know are left out.
fn tools_list(rev: Rev) -> Value {
    let tools: Vec<Value> = tools::TOOLS
        .iter()
        .map(|t| {
            let mut tool = json!({"name": t.name, "description": t.description});
            tool["inputSchema"] = tools::params::schema(t.params); // moved in, not copied
            if rev.has_annotations() {
                tool["annotations"] = json!({
                    "title": t.title,
                    "readOnlyHint": t.read_only,
                    "destructiveHint": t.destructive,
                    "idempotentHint": t.idempotent,
                    "openWorldHint": t.open_world,
                });
            }
            if rev.has_structured_output() {
                tool["title"] = json!(t.title);
                tool["outputSchema"] = (t.output_schema)();
            }
            tool
        })
        .collect();
    let mut result = json!({});
    result["tools"] = Value::Array(tools);
    if rev.stateless() {
        result["ttlMs"] = json!(3_600_000);
        result["cacheScope"] = json!("public");
    }
    result
}

/// The loop: read a line, answer it, until end of input. Notifications a tool sends while it
/// runs (progress) go out at once; log messages for the client go out before the answer.
pub fn serve<W: Write + 'static>(server: &mut Server, mut input: impl BufRead, output: W) -> io::Result<()> {
    let out = Rc::new(RefCell::new(output));
    let sink = Rc::clone(&out);
    server.ctx.set_notifier(Box::new(move |message| {
        let _ = write_message(&mut *sink.borrow_mut(), &message);
    }));
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        let answer = match jsonrpc::read_line(&mut input, &mut buf, jsonrpc::MAX_LINE)? {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                log::warn!("rejected an input line longer than {} bytes", jsonrpc::MAX_LINE);
                Some(Answer::Value(jsonrpc::error(
                    Value::Null,
                    jsonrpc::INVALID_REQUEST,
                    &format!("message too long: the limit is {} bytes per line", jsonrpc::MAX_LINE),
                )))
            }
            Line::Complete if buf.iter().all(u8::is_ascii_whitespace) => None,
            Line::Complete => server.handle_line(&buf),
        };
        let mut out = out.borrow_mut();
        for params in logging::take_client_messages() {
            write_message(&mut *out, &jsonrpc::notification("notifications/message", params))?;
        }
        if let Some(answer) = answer {
            write_answer(&mut *out, &answer)?;
        }
    }
}

/// Every line leaves through here: compact JSON, secrets redacted, flushed.
fn write_answer(out: &mut impl Write, answer: &Answer) -> io::Result<()> {
    match answer {
        Answer::Value(v) => write_message(out, v),
        Answer::Raw(s) => jsonrpc::write_line(out, &redact::redact_json(s)),
    }
}

fn write_message(out: &mut impl Write, message: &Value) -> io::Result<()> {
    let line = String::from_utf8(serde_json::to_vec(message)?).map_err(io::Error::other)?;
    jsonrpc::write_line(out, &redact::redact_json(&line))
}

/// Send panics to the log (redacted) instead of raw to stderr.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        log::error!("panic{location}: {payload}");
    }));
}

#[cfg(test)]
mod tests;
