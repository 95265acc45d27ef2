//! MCP over the wire: lifecycle, version negotiation, dispatch. One message at a time.
//!
//! Two eras share one loop. Legacy clients (2024-11-05 … 2025-11-25) open with `initialize`
//! and the agreed version holds for the process. Stateless clients (2026-07-28) send the
//! version in every request's `_meta` and may call `server/discover`; each such request is
//! served on its own. What a result contains follows the revision it is served under.

use crate::input::{Inbox, Input};
use crate::jsonrpc::{self, Incoming, Line, RpcError};
use crate::tools::guard::Offer;
use crate::tools::{self, Context, Progress};
use crate::{logging, redact};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

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

const INSTRUCTIONS: &str = "mcp-acp manages agentic sessions on the Ambient Code Platform, through \
each cluster's public-api gateway or ambient API server: list, inspect, create, clone, change, \
label, stop, restart, message, wait for and delete sessions in a project, and see or switch the \
configured cluster. `project` defaults to the active cluster's default project; sessions are given \
by ID (`session`, `name`, `sessions`, `source_session`). Acting on several sessions needs \
confirm=true and is limited to 3 per call; use dry_run=true to preview any change. A tool the \
cluster's API cannot serve says so and sends nothing.";

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

/// Most messages in one JSON-RPC batch. A line is at most 4 MiB, but one short request can
/// ask for a large answer: without this, one line of 89,000 `tools/list` asked for 775 MB.
pub const MAX_BATCH: usize = 32;
/// Largest answer written for one request, and the budget of a whole batch's answer line.
pub const MAX_ANSWER: usize = 8 * 1024 * 1024;

pub struct Server {
    ctx: Context,
    /// The version agreed in `initialize`, once it has happened.
    handshake: Option<&'static str>,
    /// `tools/list` as last rendered, per kind of revision, for the offer it was rendered for.
    tools_cache: Option<(Offer, [Option<Box<RawValue>>; 3])>,
}

impl Server {
    pub fn new(ctx: Context) -> Server {
        Server { ctx, handshake: None, tools_cache: None }
    }

    /// Handle one input line; the answer line to write, if any (notifications get none).
    /// Every answer is serialized here, once, and is at most [`MAX_ANSWER`] bytes (a batch's
    /// answer may add small refusals, one per item, beyond that).
    pub fn handle_line(&mut self, line: &[u8]) -> Option<String> {
        if let Some(count) = oversized_batch(line) {
            log::warn!("refused a batch of {count} messages (the limit is {MAX_BATCH})");
            let message = format!(
                "a batch of {count} messages is more than the limit of {MAX_BATCH}; none of them was run. \
                 Send at most {MAX_BATCH} per batch, or one message per line"
            );
            return Some(line_of(&jsonrpc::error(Value::Null, jsonrpc::INVALID_REQUEST, &message)));
        }
        match jsonrpc::parse_json(line) {
            Err(error_response) => {
                log::warn!("rejected input line: {}", error_response["error"]["message"]);
                Some(line_of(&error_response))
            }
            Ok(Value::Array(items)) => self.batch(items),
            Ok(message) => self.message(message),
        }
    }

    fn message(&mut self, message: Value) -> Option<String> {
        match jsonrpc::classify(message) {
            Err(error_response) => {
                log::warn!("rejected message: {}", error_response["error"]["message"]);
                Some(line_of(&error_response))
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

    /// JSON-RPC batches exist only in 2025-03-26, where servers must accept them. The answers
    /// share one [`MAX_ANSWER`] budget: once it is spent, the rest are refused, not run.
    fn batch(&mut self, items: Vec<Value>) -> Option<String> {
        let refuse = |id: Value, message: &str| line_of(&jsonrpc::error(id, jsonrpc::INVALID_REQUEST, message));
        if self.handshake != Some("2025-03-26") {
            return Some(refuse(
                Value::Null,
                "JSON-RPC batches are part of protocol 2025-03-26 only; send one message per line",
            ));
        }
        if items.is_empty() {
            return Some(refuse(Value::Null, "a batch must not be empty"));
        }
        let mut answers: Vec<String> = Vec::new();
        let mut size = 0;
        for item in items {
            let id = || item.get("id").filter(|id| id.is_string() || id.is_number()).cloned().unwrap_or(Value::Null);
            let answer = match item.get("method").and_then(Value::as_str) {
                Some("initialize") => Some(refuse(id(), "initialize must not be part of a batch")),
                _ if size > MAX_ANSWER => Some(line_of(&jsonrpc::error(
                    id(),
                    jsonrpc::INTERNAL_ERROR,
                    &format!(
                        "not run: the answers before it in this batch reached the limit of {MAX_ANSWER} bytes \
                         per answer line; send it again on its own line"
                    ),
                ))),
                _ => {
                    let id = id();
                    self.message(item).map(|line| match size + line.len() > MAX_ANSWER {
                        true => {
                            size = MAX_ANSWER + 1; // spent: what follows is not run
                            too_large(id, line.len())
                        }
                        false => line,
                    })
                }
            };
            if let Some(line) = answer {
                size += line.len() + 1;
                answers.push(line);
            }
        }
        (!answers.is_empty()).then(|| format!("[{}]", answers.join(",")))
    }

    fn request(&mut self, id: Value, method: &str, params: &Value) -> String {
        let rev = match self.revision_of(method, params) {
            Ok(rev) => rev,
            Err(e) => return line_of(&jsonrpc::failure(id, e)),
        };
        // A stateless request gets log messages only if it asks for them itself.
        let saved_level = logging::client_level();
        if rev.stateless() {
            let asked = meta(params, META_LOG_LEVEL).and_then(Value::as_str);
            if logging::set_client_level(asked).is_err() {
                let _ = logging::set_client_level(None);
            }
        }
        let line = match method {
            "tools/call" => match self.tools_call(&id, rev, params) {
                Ok(output) => call_answer(&id, &output, rev),
                Err(e) => line_of(&jsonrpc::failure(id.clone(), e)),
            },
            // The tool list is the one other large answer: written from its cached rendering.
            "tools/list" if !rev.stateless() => {
                let list = self.tools_list_raw(rev);
                answer(&id, rev, list)
            }
            _ => match self.dispatch(rev, method, params) {
                Ok(result) => answer(&id, rev, &result),
                Err(e) => line_of(&jsonrpc::failure(id.clone(), e)),
            },
        };
        if rev.stateless() {
            let _ = logging::set_client_level(saved_level);
        }
        match line.len() > MAX_ANSWER {
            true => too_large(id, line.len()),
            false => line,
        }
    }

    fn dispatch(&mut self, rev: Rev, method: &str, params: &Value) -> Result<Value, RpcError> {
        match (method, rev.stateless()) {
            ("initialize", false) => Ok(self.initialize(params)),
            ("server/discover", true) => Ok(discover()),
            ("tools/list", _) => Ok(tools_list(rev, &self.ctx.offer())),
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

    /// The tool list is the one other large answer: rendered once per kind of revision and
    /// offer (read-only mode and toolsets can only change when the configuration is first read).
    fn tools_list_raw(&mut self, rev: Rev) -> &RawValue {
        let offer = self.ctx.offer();
        if self.tools_cache.as_ref().is_none_or(|(cached, _)| *cached != offer) {
            self.tools_cache = Some((offer.clone(), [None, None, None]));
        }
        let kind = usize::from(rev.has_annotations()) + usize::from(rev.has_structured_output());
        let (_, lists) = self.tools_cache.as_mut().expect("set above");
        lists[kind].get_or_insert_with(|| {
            // One tool's tree at a time: the whole list as a tree was a third of the heap.
            let entries: Vec<String> = offered(rev, &offer).map(|tool| tool.to_string()).collect();
            let text = format!("{{\"tools\":[{}]}}", entries.join(","));
            RawValue::from_string(text).expect("serialized JSON is JSON")
        })
    }

    fn tools_call(&mut self, id: &Value, rev: Rev, params: &Value) -> Result<tools::Output, RpcError> {
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
        self.ctx.set_request(Some(id.clone()));
        let ctx = &mut self.ctx;
        let output = catch_unwind(AssertUnwindSafe(|| tools::call(ctx, tool, arguments))).unwrap_or_else(|_| {
            log::error!("tool_unexpected_error tool={name}: the tool panicked (see the message above)");
            tools::Output::failure(format!(
                "Internal error in {name}; it has been logged. Other calls are not affected."
            ))
        });
        self.ctx.set_progress(None);
        self.ctx.set_request(None);
        Ok(output)
    }
}

/// One message as one line of JSON.
fn line_of(message: &Value) -> String {
    message.to_string()
}

/// A message serialized straight from typed parts (no `Value` tree as large as the answer).
/// These cannot fail to serialize (string keys, valid raw JSON); if one ever did, the client
/// still gets an answer.
fn serialized(id: &Value, message: &impl Serialize) -> String {
    serde_json::to_string(message).unwrap_or_else(|e| {
        let message = format!("the answer could not be serialized ({e})");
        line_of(&jsonrpc::error(id.clone(), jsonrpc::INTERNAL_ERROR, &message))
    })
}

/// The answer for a request whose answer would pass [`MAX_ANSWER`].
fn too_large(id: Value, bytes: usize) -> String {
    log::warn!("an answer of {bytes} bytes was not sent (the limit is {MAX_ANSWER})");
    let message = format!(
        "the answer would be {bytes} bytes, more than the limit of {MAX_ANSWER} bytes per answer; ask for less"
    );
    line_of(&jsonrpc::error(id, jsonrpc::INTERNAL_ERROR, &message))
}

/// A tools/call answer. One too large to send becomes a tool error the model can act on: the
/// call itself ran (and may have changed something), only its report is too long.
fn call_answer(id: &Value, output: &tools::Output, rev: Rev) -> String {
    let line = answer(id, rev, &call_result(output, rev));
    if line.len() <= MAX_ANSWER {
        return line;
    }
    log::warn!("a tool result of {} bytes was replaced (the limit is {MAX_ANSWER})", line.len());
    let text = format!(
        "The call ran, but its result ({} bytes) is larger than the {MAX_ANSWER} bytes this server \
         sends in one answer, so it was not sent. Ask for less (for example a smaller `limit`).",
        line.len()
    );
    call_answer(id, &tools::Output::failure(text), rev)
}

/// Every successful answer is written here, the one place where a revision changes the
/// envelope: 2026-07-28 results also carry `resultType` and the server's identity in `_meta`.
fn answer<R: Serialize + ?Sized>(id: &Value, rev: Rev, result: &R) -> String {
    match rev.stateless() {
        false => serialized(id, &Message { jsonrpc: "2.0", id, result }),
        true => {
            let meta = json!({ META_SERVER_INFO: server_info(rev) });
            let result = Stateless { result, result_type: "complete", meta };
            serialized(id, &Message { jsonrpc: "2.0", id, result: &result })
        }
    }
}

#[derive(Serialize)]
struct Message<'a, R: ?Sized> {
    jsonrpc: &'static str,
    id: &'a Value,
    result: &'a R,
}

#[derive(Serialize)]
struct Stateless<'a, R: ?Sized> {
    #[serde(flatten)]
    result: &'a R,
    #[serde(rename = "resultType")]
    result_type: &'static str,
    #[serde(rename = "_meta")]
    meta: Value,
}

/// A batch with more items than [`MAX_BATCH`], counted without building its items: the count
/// comes first, so a huge batch costs one pass over the line and a pointer per item.
fn oversized_batch(line: &[u8]) -> Option<usize> {
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        return None;
    }
    // Not JSON: `parse_json` reports it the usual way.
    let items: Vec<&RawValue> = serde_json::from_slice(line).ok()?;
    (items.len() > MAX_BATCH).then_some(items.len())
}

#[derive(Serialize)]
struct CallResult<'a> {
    content: [TextContent<'a>; 1],
    #[serde(rename = "isError")]
    is_error: bool,
    #[serde(rename = "structuredContent", skip_serializing_if = "Option::is_none")]
    structured: Option<&'a RawValue>,
}

#[derive(Serialize)]
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

fn meta<'a>(params: &'a Value, key: &str) -> Option<&'a Value> {
    params.get("_meta").and_then(|m| m.get(key))
}

fn notification(method: &str, params: &Value) {
    match method {
        // One request at a time: a waiting call sees its own cancellation (`Inbox::wait`); by
        // the time any other is read here, its request has been answered.
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
        // The tool list changes only with the binary and its configuration (read-only, toolsets).
        "ttlMs": 3_600_000,
        "cacheScope": "public",
    })
}

fn set_log_level(params: &Value) -> Result<Value, RpcError> {
    let level = params.get("level").and_then(Value::as_str).unwrap_or_default();
    logging::set_client_level(Some(level)).map_err(|e| RpcError::new(jsonrpc::INVALID_PARAMS, e.to_string()))?;
    Ok(json!({}))
}

/// Each tool as the revision describes tools: fields a revision does not know are left out.
fn tools_list(rev: Rev, offer: &Offer) -> Value {
    let mut result = json!({});
    result["tools"] = Value::Array(offered(rev, offer).collect());
    if rev.stateless() {
        result["ttlMs"] = json!(3_600_000);
        result["cacheScope"] = json!("public");
    }
    result
}

/// Each offered tool as `tools/list` shows it, made one at a time.
fn offered<'a>(rev: Rev, offer: &'a Offer) -> impl Iterator<Item = Value> + 'a {
    tools::TOOLS.iter().filter(|t| offer.offers(**t)).map(move |t| {
        let mut tool = json!({"name": t.name(), "description": t.description()});
        tool["inputSchema"] = tools::params::schema(t.params()); // moved in, not copied
        if rev.has_annotations() {
            let effect = t.effect();
            tool["annotations"] = json!({
                "title": t.title(),
                "readOnlyHint": effect.read_only(),
                "destructiveHint": effect.destructive(),
                "idempotentHint": effect.idempotent,
                "openWorldHint": effect.remote,
            });
        }
        if rev.has_structured_output() {
            tool["title"] = json!(t.title());
            tool["outputSchema"] = t.output_schema();
        }
        tool
    })
}

/// The loop: read a line, answer it, until end of input. Notifications a tool sends while it
/// runs (progress) go out at once; log messages for the client go out before the answer. A
/// tool that waits looks at the input meanwhile ([`Inbox::wait`]); what it reads is served next.
pub fn serve<I: Input + 'static, W: Write + 'static>(server: &mut Server, input: I, output: W) -> io::Result<()> {
    let out = Rc::new(RefCell::new(output));
    let sink = Rc::clone(&out);
    server.ctx.set_notifier(Box::new(move |message| {
        let _ = write_message(&mut *sink.borrow_mut(), &message);
    }));
    let input = Rc::new(RefCell::new(input));
    let inbox = Rc::new(RefCell::new(Inbox::default()));
    let (waiting_input, waiting_inbox) = (Rc::clone(&input), Rc::clone(&inbox));
    server.ctx.set_waiter(Box::new(move |timeout, id| {
        waiting_inbox.borrow_mut().wait(&mut *waiting_input.borrow_mut(), timeout, id)
    }));
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        let line = inbox.borrow_mut().next(&mut *input.borrow_mut(), &mut buf)?;
        let answer = match line {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                log::warn!("rejected an input line longer than {} bytes", jsonrpc::MAX_LINE);
                Some(line_of(&jsonrpc::error(
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
            write_line(&mut *out, &answer)?;
        }
    }
}

/// Every line leaves through here: compact JSON, secrets redacted, flushed.
fn write_line(out: &mut impl Write, line: &str) -> io::Result<()> {
    jsonrpc::write_line(out, &redact::redact_json(line))
}

fn write_message(out: &mut impl Write, message: &Value) -> io::Result<()> {
    write_line(out, &line_of(message))
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
