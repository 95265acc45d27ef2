//! The wire: newline-delimited JSON-RPC 2.0. Nothing else knows the framing.
//!
//! Reading is bounded (a line may not exceed [`MAX_LINE`]) and never fails on content:
//! every malformed line becomes an error response with `"id": null`, and the loop goes on.

use serde_json::{Map, Value, json};
use std::io::{self, BufRead, Write};

/// Longest line we accept; longer lines are skipped and answered with an error.
pub const MAX_LINE: usize = 4 * 1024 * 1024;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP 2026-07-28: the request's protocol version is not one we speak.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// An error answer: code, message and optional data.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: String) -> RpcError {
        RpcError { code, message, data: None }
    }
}

/// One line read from stdin.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// A complete line (without its `\n` / `\r\n`).
    Complete,
    /// The line was longer than the cap; its bytes were discarded up to the newline.
    TooLong,
    /// End of input.
    Eof,
}

/// Read one line into `buf` (cleared first), keeping at most `max` bytes.
/// A final line without a newline still counts as a line.
pub fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut saw_any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(match (saw_any, too_long) {
                (false, _) => Line::Eof,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        saw_any = true;
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        if !too_long && buf.len() + part.len() <= max {
            buf.extend_from_slice(part);
        } else {
            too_long = true;
            buf.clear();
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(if too_long { Line::TooLong } else { Line::Complete });
        }
    }
}

/// A message from the client, after the envelope has been checked.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// A response to something we sent (we send no requests): ignored.
    Response,
}

/// Check a parsed JSON value against the JSON-RPC 2.0 envelope rules.
/// `Err` carries the error response to send.
pub fn classify(msg: Value) -> Result<Incoming, Value> {
    let Value::Object(mut obj) = msg else {
        let what = if msg.is_array() {
            "JSON-RPC batches are not supported: send one request per line"
        } else {
            "a JSON-RPC message must be a JSON object"
        };
        return Err(error(Value::Null, INVALID_REQUEST, what));
    };
    // A response (to us, who send no requests) is ignored whatever its id, null included
    // (JSON-RPC 2.0 §5: an error about an unreadable message has id null).
    if !obj.contains_key("method")
        && obj.contains_key("id")
        && (obj.contains_key("result") || obj.contains_key("error"))
    {
        return Ok(Incoming::Response);
    }
    let id = obj.remove("id");
    if let Some(id) = &id {
        if !(id.is_string() || id.is_number()) {
            return Err(error(Value::Null, INVALID_REQUEST, "id must be a string or a number"));
        }
    }
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(error(id.unwrap_or(Value::Null), INVALID_REQUEST, "jsonrpc must be \"2.0\""));
    }
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        Some(_) => return Err(error(id.unwrap_or(Value::Null), INVALID_REQUEST, "method must be a string")),
        None if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) => {
            return Ok(Incoming::Response);
        }
        None => return Err(error(id.unwrap_or(Value::Null), INVALID_REQUEST, "method is missing")),
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p,
        Some(_) => {
            return Err(error(id.unwrap_or(Value::Null), INVALID_PARAMS, "params must be a JSON object"));
        }
    };
    Ok(match id {
        Some(id) => Incoming::Request { id, method, params },
        None => Incoming::Notification { method, params },
    })
}

/// Parse one line: bytes → UTF-8 → JSON. The envelope is checked by [`classify`].
pub fn parse_json(line: &[u8]) -> Result<Value, Value> {
    let text = std::str::from_utf8(line)
        .map_err(|e| error(Value::Null, PARSE_ERROR, &format!("line is not valid UTF-8 ({e})")))?;
    serde_json::from_str(text).map_err(|e| error(Value::Null, PARSE_ERROR, &format!("line is not valid JSON ({e})")))
}

/// [`parse_json`] then [`classify`]: one line that must hold one message.
pub fn parse_line(line: &[u8]) -> Result<Incoming, Value> {
    classify(parse_json(line)?)
}

pub fn ok(id: Value, result: Value) -> Value {
    envelope(id, "result", result)
}

/// `{"jsonrpc":"2.0","id":…,key:value}`, moving `id` and `value` in. (`json!` would copy
/// them: it serializes every interpolated expression into a new `Value`.)
fn envelope(id: Value, key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("jsonrpc".into(), Value::String("2.0".into()));
    m.insert("id".into(), id);
    m.insert(key.into(), value);
    Value::Object(m)
}

pub fn error(id: Value, code: i64, message: &str) -> Value {
    envelope(id, "error", json!({"code": code, "message": message}))
}

pub fn failure(id: Value, e: RpcError) -> Value {
    let mut response = error(id, e.code, &e.message);
    if let Some(data) = e.data {
        response["error"]["data"] = data;
    }
    response
}

pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// Write one message as one compact line and flush, so the client sees it at once.
pub fn write_line(out: &mut impl Write, line: &str) -> io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        let mut r = io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        loop {
            let l = read_line(&mut r, &mut buf, max).unwrap();
            if l == Line::Eof {
                return out;
            }
            out.push((l, buf.clone()));
        }
    }

    #[test]
    fn read_line_splits_on_newline_and_strips_cr() {
        let got = lines(b"ab\r\ncd\nef", 100);
        assert_eq!(
            got,
            vec![(Line::Complete, b"ab".to_vec()), (Line::Complete, b"cd".to_vec()), (Line::Complete, b"ef".to_vec())]
        );
    }

    #[test]
    fn read_line_skips_an_overlong_line_and_keeps_going() {
        let got = lines(b"0123456789\nok\n", 5);
        assert_eq!(got, vec![(Line::TooLong, vec![]), (Line::Complete, b"ok".to_vec())]);
    }

    #[test]
    fn read_line_accepts_a_line_exactly_at_the_cap() {
        assert_eq!(lines(b"12345\n", 5), vec![(Line::Complete, b"12345".to_vec())]);
    }

    #[test]
    fn request_notification_and_response_are_told_apart() {
        let req = parse_line(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
        assert_eq!(req, Incoming::Request { id: json!(7), method: "ping".into(), params: json!({}) });
        let note = parse_line(br#"{"jsonrpc":"2.0","method":"x"}"#).unwrap();
        assert!(matches!(note, Incoming::Notification { .. }));
        let resp = parse_line(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert_eq!(resp, Incoming::Response);
    }

    #[test]
    fn huge_integer_ids_are_echoed_exactly() {
        let Incoming::Request { id, .. } =
            parse_line(br#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            ok(id, json!({})).to_string(),
            r#"{"id":123456789012345678901234567890,"jsonrpc":"2.0","result":{}}"#
        );
    }

    #[test]
    fn malformed_envelopes_get_the_right_codes() {
        let code = |line: &[u8]| parse_line(line).unwrap_err()["error"]["code"].as_i64().unwrap();
        assert_eq!(code(b"{nope"), PARSE_ERROR);
        assert_eq!(code(b"\xff\xfe"), PARSE_ERROR);
        assert_eq!(code(b"[]"), INVALID_REQUEST);
        assert_eq!(code(b"42"), INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#), INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#), INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#), INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":1,"method":5}"#), INVALID_REQUEST);
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#), INVALID_PARAMS);
    }

    #[test]
    fn errors_keep_the_request_id_when_it_is_known() {
        let e = parse_line(br#"{"jsonrpc":"2.0","id":"q","method":5}"#).unwrap_err();
        assert_eq!(e["id"], json!("q"));
    }
}
