//! MCP over the wire: lifecycle, version negotiation, dispatch. One message at a time.

use crate::jsonrpc::{self, Incoming, Line};
use crate::redact;
use crate::tools::{self, Context};
use serde_json::{Value, json};
use std::io::{self, BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Protocol revisions we speak, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

const INSTRUCTIONS: &str = "mcp-acp manages agentic sessions on the Ambient Code Platform through its \
public-api gateway: list, inspect, create and delete sessions in a project, and see or switch the \
configured cluster. `project` defaults to the active cluster's default project. Deletes of several \
sessions need confirm=true and are limited to 3; use dry_run=true to preview any change.";

pub struct Server {
    ctx: Context,
    /// The version agreed in `initialize`, once it has happened.
    version: Option<&'static str>,
}

impl Server {
    pub fn new(ctx: Context) -> Server {
        Server { ctx, version: None }
    }

    /// Handle one input line; the answer to write, if any (notifications get none).
    pub fn handle_line(&mut self, line: &[u8]) -> Option<Value> {
        match jsonrpc::parse_line(line) {
            Err(error_response) => {
                log::warn!("rejected input line: {}", error_response["error"]["message"]);
                Some(error_response)
            }
            Ok(Incoming::Request { id, method, params }) => Some(self.request(id, &method, params)),
            Ok(Incoming::Notification { method, .. }) => {
                log::debug!("notification {method}");
                None
            }
            Ok(Incoming::Response) => {
                log::debug!("ignored a response from the client (we send no requests)");
                None
            }
        }
    }

    fn request(&mut self, id: Value, method: &str, params: Value) -> Value {
        match method {
            "initialize" => jsonrpc::ok(id, self.initialize(&params)),
            "ping" => jsonrpc::ok(id, json!({})),
            "tools/list" => jsonrpc::ok(id, tools_list()),
            "tools/call" => match self.tools_call(&params) {
                Ok(result) => jsonrpc::ok(id, result),
                Err(message) => jsonrpc::error(id, jsonrpc::INVALID_PARAMS, &message),
            },
            _ => {
                log::warn!("unknown method {}", crate::validate::quote(method));
                jsonrpc::error(
                    id,
                    jsonrpc::METHOD_NOT_FOUND,
                    &format!("Method not found: {}", crate::validate::quote(method)),
                )
            }
        }
    }

    /// Echo the client's version if we speak it, else offer our newest.
    fn initialize(&mut self, params: &Value) -> Value {
        let asked = params.get("protocolVersion").and_then(Value::as_str).unwrap_or_default();
        let version = SUPPORTED_VERSIONS.iter().copied().find(|v| *v == asked).unwrap_or(SUPPORTED_VERSIONS[0]);
        self.version = Some(version);
        log::info!("initialize: client asked for {asked:?}, using {version}");
        json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
            "instructions": INSTRUCTIONS,
        })
    }

    fn tools_call(&mut self, params: &Value) -> Result<Value, String> {
        let name = params.get("name").and_then(Value::as_str).ok_or("params.name (the tool to call) is required")?;
        let tool = tools::find(name).ok_or_else(|| {
            format!("Unknown tool: {}. Call tools/list for the available tools.", crate::validate::quote(name))
        })?;
        let arguments = params.get("arguments").unwrap_or(&Value::Null);
        let ctx = &mut self.ctx;
        let output = catch_unwind(AssertUnwindSafe(|| tools::call(ctx, tool, arguments))).unwrap_or_else(|_| {
            log::error!("tool_unexpected_error tool={name}: the tool panicked (see the message above)");
            tools::Output {
                is_error: true,
                text: format!("Internal error in {name}; it has been logged. Other calls are not affected."),
                structured: Value::Null,
            }
        });
        Ok(json!({"content": [{"type": "text", "text": output.text}], "isError": output.is_error}))
    }
}

fn tools_list() -> Value {
    let tools: Vec<Value> = tools::TOOLS
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "title": t.title,
                "description": t.description,
                "inputSchema": tools::params::schema(t.params),
                "annotations": {
                    "title": t.title,
                    "readOnlyHint": t.read_only,
                    "destructiveHint": t.destructive,
                    "idempotentHint": t.idempotent,
                    "openWorldHint": t.open_world,
                },
            })
        })
        .collect();
    json!({ "tools": tools })
}

/// The loop: read a line, answer it, until end of input.
pub fn serve(server: &mut Server, mut input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        let answer = match jsonrpc::read_line(&mut input, &mut buf, jsonrpc::MAX_LINE)? {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                log::warn!("rejected an input line longer than {} bytes", jsonrpc::MAX_LINE);
                Some(jsonrpc::error(
                    Value::Null,
                    jsonrpc::INVALID_REQUEST,
                    &format!("message too long: the limit is {} bytes per line", jsonrpc::MAX_LINE),
                ))
            }
            Line::Complete if buf.iter().all(u8::is_ascii_whitespace) => None,
            Line::Complete => server.handle_line(&buf),
        };
        if let Some(answer) = answer {
            jsonrpc::write_line(&mut output, &redact::redact(&answer.to_string()))?;
        }
    }
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
mod tests {
    use super::*;
    use crate::gateway::memory::MemoryApi;

    fn server() -> Server {
        Server::new(Context::new("/nonexistent/clusters.yaml".into(), Box::new(MemoryApi::default())))
    }

    fn ask(s: &mut Server, line: &str) -> Value {
        s.handle_line(line.as_bytes()).expect("an answer")
    }

    #[test]
    fn initialize_echoes_supported_versions_and_offers_newest_otherwise() {
        for v in SUPPORTED_VERSIONS {
            let r = ask(
                &mut server(),
                &format!(r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"{v}"}}}}"#),
            );
            assert_eq!(r["result"]["protocolVersion"], json!(v));
        }
        let r = ask(
            &mut server(),
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}"#,
        );
        assert_eq!(r["result"]["protocolVersion"], json!("2025-11-25"));
        assert_eq!(r["result"]["capabilities"], json!({"tools": {"listChanged": false}}));
        assert_eq!(r["result"]["serverInfo"]["name"], json!("mcp-acp"));
    }

    #[test]
    fn notifications_get_no_answer() {
        assert!(server().handle_line(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).is_none());
    }

    #[test]
    fn unknown_methods_and_tools_get_protocol_errors() {
        let mut s = server();
        assert_eq!(
            ask(&mut s, r#"{"jsonrpc":"2.0","id":1,"method":"server/discover"}"#)["error"]["code"],
            json!(-32601)
        );
        let r = ask(&mut s, r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nope"}}"#);
        assert_eq!(r["error"]["code"], json!(-32602));
        let r = ask(&mut s, r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#);
        assert_eq!(r["error"]["code"], json!(-32602));
    }

    #[test]
    fn tools_list_has_every_tool_with_a_closed_schema() {
        let r = ask(&mut server(), r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        let tools = r["result"]["tools"].as_array().unwrap();
        assert_eq!(tools.len(), 8);
        assert!(tools.iter().all(|t| t["inputSchema"]["additionalProperties"] == json!(false)));
    }

    #[test]
    fn serve_answers_each_line_and_survives_garbage() {
        let input = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n\xff\n\n{bad\n";
        let mut out = Vec::new();
        serve(&mut server(), &input[..], &mut out).unwrap();
        let lines: Vec<Value> =
            out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["result"], json!({}));
        assert_eq!(lines[1]["error"]["code"], json!(-32700));
        assert_eq!(lines[2]["id"], Value::Null);
    }
}
