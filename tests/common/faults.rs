//! Faults the fake gateway can inject in place of its answers, and the rules that attach
//! them to requests ([`RouteMatch`] × [`Times`], kept in [`FaultRules`]).
//!
//! The gateway checks the rules for every request it reads, after recording it and before
//! anything else it does (redirects, CORS, rate limit, auth, routing), so a fault can be
//! attached to a path the fake does not route yet. Only what Go's net/http itself rejects
//! before any handler (no `Host` in HTTP/1.1, a bad `%` escape in the path) comes first.

use super::http::{self, Conn, Ctx, Next, Response, send};
use std::io::Write;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

/// A misbehaviour that replaces the gateway's answer to one request (see [`FaultRules`] for
/// which request). The request is still recorded.
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
    /// The other fault, after this long (a slow server).
    Delay(Duration, Box<Fault>),
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
        Fault::Delay(after, fault) => {
            thread::sleep(after);
            apply(*fault, ctx, w, head_only)
        }
    }
}

// ---------------------------------------------------------------- which requests

/// Which requests a fault applies to: a method (any unless restricted) and a path pattern.
///
/// Patterns are matched against the percent-decoded request path, without its query string
/// (an absolute-form target `http://host/p` counts as `/p`):
/// - [`RouteMatch::path`]: the whole path, segment by segment. A segment that is exactly `*`
///   matches one non-empty segment; anything else matches itself only. `/v1/sessions/*`
///   matches `/v1/sessions/abc`, not `/v1/sessions`, `/v1/sessions/`, `/v1/sessions/a/b`
///   or `/v1/sessions/a%2Fb` (two segments once decoded).
/// - [`RouteMatch::prefix`]: any path starting with that string, compared byte by byte
///   (`prefix("/v1")` also matches `/v1x`; write `/api/ambient/v1/` to mean "below").
///
/// Methods compare exactly (`"get"` is not `"GET"`), as HTTP methods are case-sensitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    method: Option<String>,
    pattern: Pattern,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    /// The pattern split at `/` (so the first segment is the empty one before the root).
    Segments(Vec<String>),
    Prefix(String),
}

impl RouteMatch {
    /// `method` requests whose path matches `pattern` (see [`RouteMatch::path`]).
    pub fn new(method: &str, pattern: &str) -> RouteMatch {
        RouteMatch::path(pattern).method(method)
    }

    /// Requests of any method whose whole path matches `pattern`: `/`-separated segments,
    /// `*` standing for one non-empty segment. Panics unless `pattern` starts with `/` and
    /// holds no `?`.
    pub fn path(pattern: &str) -> RouteMatch {
        assert!(
            pattern.starts_with('/') && !pattern.contains('?'),
            "route pattern {pattern:?}: must start with '/' and match the path only (no query)"
        );
        RouteMatch { method: None, pattern: Pattern::Segments(pattern.split('/').map(str::to_string).collect()) }
    }

    /// Requests of any method whose path starts with `prefix`. Panics unless `prefix`
    /// starts with `/` and holds no `?`.
    pub fn prefix(prefix: &str) -> RouteMatch {
        assert!(
            prefix.starts_with('/') && !prefix.contains('?'),
            "route prefix {prefix:?}: must start with '/' and match the path only (no query)"
        );
        RouteMatch { method: None, pattern: Pattern::Prefix(prefix.to_string()) }
    }

    /// The same, restricted to `method` requests.
    pub fn method(mut self, method: &str) -> RouteMatch {
        self.method = Some(method.to_string());
        self
    }

    /// Whether a request with this method and (decoded, query-less) path matches.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return false;
        }
        match &self.pattern {
            Pattern::Prefix(p) => path.starts_with(p.as_str()),
            Pattern::Segments(want) => {
                let got: Vec<&str> = path.split('/').collect();
                got.len() == want.len()
                    && want.iter().zip(&got).all(|(w, g)| if w == "*" { !g.is_empty() } else { w == g })
            }
        }
    }
}

/// How many matching requests a fault rule answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// The next matching request only.
    Once,
    /// The next N matching requests (N ≥ 1).
    N(usize),
    /// Every matching request, until [`FaultRules::clear`] (`FakeGateway::clear_faults`).
    Always,
}

struct Rule {
    route: RouteMatch,
    fault: Fault,
    /// Uses left; `None` = always.
    left: Option<usize>,
}

/// The gateway's fault rules, checked in the order they were added: the first rule that
/// matches a request answers it with a copy of its fault and uses up one of its times; a
/// used-up rule is dropped. An `Always` rule therefore shadows every later rule for the
/// requests it matches.
#[derive(Default)]
pub struct FaultRules {
    rules: Vec<Rule>,
}

impl FaultRules {
    /// Adds a rule after the existing ones. Panics on `Times::N(0)`, which would never fire.
    pub fn add(&mut self, route: RouteMatch, fault: Fault, times: Times) {
        let left = match times {
            Times::Once => Some(1),
            Times::N(n) => {
                assert!(n > 0, "Times::N(0) for {route:?} would never fire");
                Some(n)
            }
            Times::Always => None,
        };
        self.rules.push(Rule { route, fault, left });
    }

    /// The fault for this request, if a rule matches (using up one of that rule's times).
    pub fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let i = self.rules.iter().position(|r| r.route.matches(method, path))?;
        let rule = &mut self.rules[i];
        match &mut rule.left {
            None => Some(rule.fault.clone()),
            Some(n) if *n > 1 => {
                *n -= 1;
                Some(rule.fault.clone())
            }
            Some(_) => Some(self.rules.remove(i).fault),
        }
    }

    /// Rules still armed: each counts one until its last use (`Always` rules until cleared).
    pub fn pending(&self) -> usize {
        self.rules.len()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }
}
