//! Input lines through `Server::handle_line`, over a fixed configuration with tokens and an
//! in-memory gateway (no I/O). A fresh server per input, for determinism.
//!
//! The input is split into lines the way `server::serve` frames stdin (`\n`, a trailing
//! `\r` stripped, blank lines skipped), so a one-line input is one message and a
//! multi-line input is a session (initialize, then a batch; create, then get; switch,
//! then whoami; logging/setLevel, then a call ...).
//!
//! Every answer must be a JSON-RPC 2.0 response object (or, for a batch, a non-empty array
//! of them) with exactly one of result/error; it answers exactly the requests, with their
//! id; it serialises to one line; a tool's structuredContent conforms to the tool's output
//! schema; and no configured token appears in it unless the input itself carried that
//! token. Progress notifications and log messages for the client obey the same rules.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mcp_acp::jsonrpc::{self, Incoming, MAX_LINE};
use mcp_acp::server::{MAX_ANSWER, Server};
use mcp_acp::{logging, redact, tools};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Once;

/// At most this many lines per input (the rest is ignored): keeps executions fast.
const MAX_LINES: usize = 16;

/// What a line must not leak: the whole input, and every line of it parsed (an answer may
/// quote any earlier line: a prompt stored by a create shows in a later list).
struct Input<'a> {
    raw: &'a [u8],
    lines: &'a [&'a [u8]],
}

impl Input<'_> {
    fn assert_no_leak(&self, text: &str, what: &str) {
        if common::TOKENS.iter().any(|t| text.contains(t)) {
            let parsed = Value::Array(self.lines.iter().filter_map(|l| serde_json::from_slice(l).ok()).collect());
            common::assert_no_token_leak(text, self.raw, Some(&parsed), what);
        }
    }
}

/// What `serve` would write for `message`: redacted, still one line of valid JSON, no token.
fn check_wire(message: &Value, input: &Input, what: &str) {
    check_wire_text(&message.to_string(), input, what)
}

/// The same for a message as `serve` serializes it (`text`).
fn check_wire_text(text: &str, input: &Input, what: &str) {
    assert!(!text.contains('\n'), "{what} serialises with a raw newline: {text:?}");
    input.assert_no_leak(text, what);
    let wire = redact::redact_json(text);
    if let std::borrow::Cow::Owned(wire) = &wire {
        assert!(serde_json::from_str::<Value>(wire).is_ok(), "redaction broke the JSON: {wire}");
    }
    for token in common::TOKENS {
        assert!(!wire.contains(token), "the wire line shows a token: {wire}");
    }
}

/// One response object. `tool` is the tool a `tools/call` request named, if known.
fn check_response(answer: &Value, tool: Option<&dyn tools::AnyTool>) {
    let obj = answer.as_object().unwrap_or_else(|| panic!("response is not an object: {answer}"));
    assert_eq!(obj.get("jsonrpc"), Some(&Value::from("2.0")), "response: {answer}");
    assert!(
        obj.contains_key("result") != obj.contains_key("error"),
        "response needs exactly one of result/error: {answer}"
    );
    let id = obj.get("id").unwrap_or_else(|| panic!("response has no id: {answer}"));
    assert!(id.is_null() || id.is_string() || id.is_number(), "bad id in response: {answer}");
    assert!(obj.keys().all(|k| ["jsonrpc", "id", "result", "error"].contains(&k.as_str())), "response: {answer}");
    if let Some(error) = obj.get("error") {
        assert!(error["code"].as_i64().is_some(), "error without an integer code: {answer}");
        assert!(error["message"].is_string(), "error without a message: {answer}");
    }
    if let Some(result) = obj.get("result") {
        assert!(result.is_object(), "result is not an object: {answer}");
        if let Some(content) = result.get("content") {
            assert_eq!(content[0]["type"], "text", "response: {answer}");
            assert!(content[0]["text"].is_string(), "response: {answer}");
            assert!(result["isError"].is_boolean(), "response: {answer}");
        }
        if let (Some(data), Some(tool)) = (result.get("structuredContent"), tool)
            && let Err(e) = common::schema_check(&tool.output_schema(), data, "structuredContent")
        {
            panic!("{}: structuredContent breaks the output schema: {e}\nresponse: {answer}", tool.name());
        }
    }
}

/// The tool a message calls, if it is a `tools/call` for a known tool.
fn called_tool(message: &Value) -> Option<&'static dyn tools::AnyTool> {
    if message.get("method")? != "tools/call" {
        return None;
    }
    tools::find(message.get("params")?.get("name")?.as_str()?)
}

fn check_progress(note: &Value, input: &Input) {
    assert_eq!(note["jsonrpc"], "2.0", "notification: {note}");
    assert_eq!(note["method"], "notifications/progress", "notification: {note}");
    let p = &note["params"];
    assert!(p["progressToken"].is_string() || p["progressToken"].is_number(), "notification: {note}");
    let (done, total) = (p["progress"].as_u64(), p["total"].as_u64());
    assert!(done.zip(total).is_some_and(|(d, t)| 1 <= d && d <= t), "notification: {note}");
    check_wire(note, input, "progress notification");
}

fn check_log_message(params: &Value, input: &Input) {
    assert!(params["level"].as_str().is_some_and(|l| logging::LEVELS.contains(&l)), "log message: {params}");
    assert!(params["logger"].is_string() && params["data"].is_string(), "log message: {params}");
    let note = jsonrpc::notification("notifications/message", params.clone());
    check_wire(&note, input, "log message");
}

fuzz_target!(|data: &[u8]| {
    // The logger (stderr off) queues log messages for the client once it asks for them.
    // Its level is process-global: reset it, so every input starts alike.
    static LOGGER: Once = Once::new();
    LOGGER.call_once(|| logging::init("off"));
    let _ = logging::set_client_level(None);
    logging::take_client_messages();

    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .take(MAX_LINES)
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace)) // serve() skips blank lines
        .collect();
    let input = Input { raw: data, lines: &lines };

    let notes = Rc::new(RefCell::new(Vec::new()));
    let mut ctx = common::context();
    let sink = Rc::clone(&notes);
    ctx.set_notifier(Box::new(move |note| sink.borrow_mut().push(note)));
    let mut server = Server::new(ctx);

    for &line in &lines {
        let parsed = jsonrpc::parse_json(line);
        // The answer as `serve` would serialize it, and as a Value to inspect.
        let (wire, answer) = match server.handle_line(line) {
            None => (None, None),
            Some(s) => {
                assert!(s.len() <= MAX_ANSWER + MAX_LINE, "an answer of {} bytes", s.len());
                let v = serde_json::from_str(&s).unwrap_or_else(|e| panic!("an answer is not JSON ({e}): {s}"));
                (Some(s), Some(v))
            }
        };
        match (parsed, &answer) {
            (Err(e), Some(a)) => assert_eq!(a, &e, "a parse error answered differently"),
            (Err(e), None) => panic!("a bad line got no answer (expected {e})"),
            (Ok(Value::Array(items)), answer) => match answer {
                // Refused, or only notifications and responses in it.
                None => assert!(!items.is_empty(), "an empty batch got no answer"),
                Some(Value::Array(answers)) => {
                    assert!(!answers.is_empty() && answers.len() <= items.len(), "batch answers: {answers:?}");
                    for a in answers {
                        let id = &a["id"];
                        let request = items.iter().find(|i| !id.is_null() && &i["id"] == id);
                        assert!(id.is_null() || request.is_some(), "batch answer for no request: {a}");
                        check_response(a, request.and_then(called_tool));
                        check_wire(a, &input, "batch answer");
                    }
                }
                Some(a) => {
                    assert_eq!(a["id"], Value::Null, "a refused batch: {a}");
                    assert!(a.get("error").is_some(), "a batch answered by one result: {a}");
                }
            },
            (Ok(message), answer) => {
                let tool = called_tool(&message);
                match (jsonrpc::classify(message), answer) {
                    (Ok(Incoming::Request { id, .. }), Some(a)) => assert_eq!(a["id"], id, "answer id differs: {a}"),
                    (Ok(Incoming::Request { .. }), None) => panic!("a request got no answer"),
                    (Ok(other), Some(a)) => panic!("{other:?} got an answer: {a}"),
                    (Ok(_), None) => {}
                    (Err(e), Some(a)) => assert_eq!(a, &e, "an envelope error answered differently"),
                    (Err(e), None) => panic!("a bad message got no answer (expected {e})"),
                }
                if let Some(a) = &answer {
                    check_response(a, tool);
                }
            }
        }
        if let Some(text) = &wire {
            check_wire_text(text, &input, "answer");
        }
        for note in notes.borrow_mut().drain(..) {
            check_progress(&note, &input);
        }
        for params in logging::take_client_messages() {
            check_log_message(&params, &input);
        }
    }
});
