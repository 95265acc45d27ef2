//! Faults the fake gateway can inject into its next `/v1` answers.

use super::http::{self, Conn, Ctx, Next, Response, send};
use std::io::Write;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

/// A misbehaviour applied to the next `/v1` request (one fault per request, queue order).
/// The request is still recorded.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// This status with this exact body, `Content-Type: application/json; charset=utf-8`.
    Status(u16, String),
    /// These raw bytes as the whole response, then close.
    Raw(Vec<u8>),
    /// Never answer; the socket stays open until the gateway is dropped.
    Hang,
    /// 200 JSON with the full Content-Length, body written at about `bytes_per_sec`.
    Trickle { body: String, bytes_per_sec: usize },
    /// Close with a TCP RST (SO_LINGER 0) right after reading the request.
    Reset,
    /// 200 JSON whose Content-Length is 64 bytes more than what is sent, then close.
    Truncated,
    /// 200 `text/html`, body `<html>oops</html>`.
    NonJson200,
    /// 200 JSON `{"unexpected":true}` (use `Status(200, "[1,2]".into())` for an array).
    WrongShape200,
    /// 200 JSON body of exactly N bytes: `{"items":[],"total":0,"pad":"xxxx…"}`.
    Huge(usize),
    /// 429 `{"error":"Rate limit exceeded","retry_after":"1s"}`, no Retry-After header.
    RateLimited,
    /// This status with `Location: <string>` and an empty body.
    Redirect(u16, String),
}

/// Answers (or refuses to answer) one request according to `fault`.
pub fn apply(fault: Fault, ctx: &Ctx, w: &mut Conn, head_only: bool) -> Next {
    let close = ctx.close;
    match fault {
        Fault::Status(code, body) => send(w, &Response::json(code, body), head_only, close),
        Fault::Raw(bytes) => {
            let _ = w.write_all(&bytes).and_then(|_| w.flush());
            Next::Close
        }
        Fault::Hang => Next::Hang,
        Fault::Reset => Next::Reset,
        Fault::Trickle { body, bytes_per_sec } => {
            let resp = Response::json(200, Vec::new());
            if w.write_all(&http::head_bytes(&resp, close, Some(body.len()))).is_err() {
                return Next::Close;
            }
            let bps = bytes_per_sec.max(1);
            let (chunk, pause) = if bps >= 10 {
                (bps / 10, Duration::from_millis(100))
            } else {
                (1, Duration::from_millis(1000 / bps as u64))
            };
            for (i, piece) in body.as_bytes().chunks(chunk).enumerate() {
                if i > 0 {
                    thread::sleep(pause);
                }
                if ctx.stopped.load(Ordering::SeqCst) || w.write_all(piece).and_then(|_| w.flush()).is_err() {
                    return Next::Close;
                }
            }
            if close { Next::Close } else { Next::Continue }
        }
        Fault::Truncated => {
            let body = br#"{"items":[{"id":"session-trunc","status":"running""#;
            let resp = Response::json(200, Vec::new());
            let mut bytes = http::head_bytes(&resp, false, Some(body.len() + 64));
            bytes.extend_from_slice(body);
            let _ = w.write_all(&bytes).and_then(|_| w.flush());
            Next::Close
        }
        Fault::NonJson200 => send(w, &Response::new(200, Some("text/html"), "<html>oops</html>"), head_only, close),
        Fault::WrongShape200 => send(w, &Response::json(200, r#"{"unexpected":true}"#), head_only, close),
        Fault::Huge(n) => {
            let prefix = r#"{"items":[],"total":0,"pad":""#;
            let body = if n >= prefix.len() + 2 {
                format!("{prefix}{}\"}}", "x".repeat(n - prefix.len() - 2))
            } else {
                format!("\"{}\"", "x".repeat(n.saturating_sub(2)))
            };
            send(w, &Response::json(200, body), head_only, close)
        }
        Fault::RateLimited => {
            send(w, &Response::json(429, r#"{"error":"Rate limit exceeded","retry_after":"1s"}"#), head_only, close)
        }
        Fault::Redirect(code, loc) => {
            send(w, &Response::new(code, None, Vec::new()).with_header("Location", &loc), head_only, close)
        }
    }
}
