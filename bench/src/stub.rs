//! A stand-in for the public-api gateway: std only, HTTP/1.1 keep-alive, on 127.0.0.1,
//! answering `GET /v1/sessions` with a pre-rendered body chosen by `X-Ambient-Project`.
//!
//! Only what the list call needs, answered the way the gateway answers (docs/public-api.md §1, §3,
//! §7): 200 `{"items":[…],"total":N}` with `application/json; charset=utf-8`; 401 without
//! `Authorization: Bearer <token>`; plain-text 404 for other routes. Like Go's net/http,
//! a body over 2 KiB written in one piece goes out as one chunk of a chunked answer, a
//! smaller one with Content-Length.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bodies up to this size get a Content-Length; larger ones are chunked (Go's rule).
const GO_BUFFER_BEFORE_CHUNKING: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Framing {
    /// What Go's net/http does: Content-Length up to 2 KiB, chunked above.
    Go,
    /// Always Content-Length.
    Length,
}

pub struct Stub {
    pub addr: SocketAddr,
    /// TCP connections accepted so far (keep-alive means this stays small).
    pub connections: Arc<AtomicU64>,
    /// Requests answered so far.
    pub requests: Arc<AtomicU64>,
}

/// Start the stub on an ephemeral port. `lists` maps a project name to its session count.
pub fn start(token: &str, lists: &[(&str, usize)], framing: Framing) -> io::Result<Stub> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut answers = HashMap::new();
    for (project, n) in lists {
        answers.insert(project.to_string(), render(200, "application/json; charset=utf-8", &list_body(*n), framing));
    }
    let shared = Arc::new(Answers {
        auth: format!("Bearer {token}"),
        lists: answers,
        unauthorized: render(
            401,
            "application/json; charset=utf-8",
            br#"{"error":"Missing or invalid authorization"}"#,
            framing,
        ),
        forbidden: render(
            403,
            "application/json; charset=utf-8",
            br#"{"error":"Unauthorized to access project"}"#,
            framing,
        ),
        not_found: render(404, "text/plain", b"404 page not found", framing),
    });
    let connections = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let (c, r) = (connections.clone(), requests.clone());
    std::thread::Builder::new().name("stub-accept".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            c.fetch_add(1, Ordering::Relaxed);
            let (answers, requests) = (shared.clone(), r.clone());
            let _ = std::thread::Builder::new().name("stub-conn".into()).spawn(move || {
                let _ = serve_connection(stream, &answers, &requests);
            });
        }
    })?;
    Ok(Stub { addr, connections, requests })
}

struct Answers {
    auth: String,
    lists: HashMap<String, Vec<u8>>,
    unauthorized: Vec<u8>,
    forbidden: Vec<u8>,
    not_found: Vec<u8>,
}

fn serve_connection(stream: TcpStream, answers: &Answers, requests: &AtomicU64) -> io::Result<()> {
    stream.set_nodelay(true)?; // Go's default
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut line = String::new();
    loop {
        // Request line.
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(()); // the client closed the connection
        }
        let mut parts = line.split_ascii_whitespace();
        let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        // Headers.
        let (mut auth, mut project, mut length, mut close) = (None, None, 0usize, false);
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end_matches(['\r', '\n']);
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else { continue };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "authorization" => auth = Some(value.to_string()),
                "x-ambient-project" => project = Some(value.to_string()),
                "content-length" => length = value.parse().unwrap_or(0),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        if length > 0 {
            io::copy(&mut (&mut reader).take(length as u64), &mut io::sink())?;
        }
        let answer = if method != "GET" || path != "/v1/sessions" {
            &answers.not_found
        } else if auth.as_deref() != Some(answers.auth.as_str()) {
            &answers.unauthorized
        } else {
            project.and_then(|p| answers.lists.get(&p)).unwrap_or(&answers.forbidden)
        };
        writer.write_all(answer)?; // one write: headers and body together
        requests.fetch_add(1, Ordering::Relaxed);
        if close {
            return Ok(());
        }
    }
}

/// A whole HTTP answer, headers and body, ready to write.
fn render(status: u16, content_type: &str, body: &[u8], framing: Framing) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nDate: Thu, 12 Mar 2026 10:00:00 GMT\r\n"
    )
    .into_bytes();
    if framing == Framing::Go && body.len() > GO_BUFFER_BEFORE_CHUNKING {
        out.extend_from_slice(format!("Transfer-Encoding: chunked\r\n\r\n{:x}\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
    } else {
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// `{"items":[…],"total":n}`: sessions newest first, ids `session-<uuid4>` (the backend's
/// names, DNS-1123 labels), statuses a mix of running, pending and completed, RFC 3339
/// times. Deterministic.
pub fn list_body(n: usize) -> Vec<u8> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ n as u64);
    let newest = 1_773_309_600i64; // 2026-03-12T10:00:00Z
    let tasks = [
        "Fix the flaky integration test in the payments service",
        "Upgrade the Go toolchain to 1.24 and fix the new vet warnings",
        "Write release notes for v2.3 from the merged pull requests",
        "",
        "Add retries with backoff to the webhook sender",
    ];
    let mut body = String::with_capacity(n * 260 + 32);
    body.push_str(r#"{"items":["#);
    for i in 0..n {
        if i > 0 {
            body.push(',');
        }
        let (a, b) = (rng.next(), rng.next());
        let id = format!(
            "session-{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        );
        let created = newest - (i as i64) * 97 - (rng.next() % 60) as i64;
        let status = match rng.next() % 10 {
            0..=3 => "completed",
            4..=6 => "running",
            _ => "pending",
        };
        let task = tasks[(rng.next() % tasks.len() as u64) as usize];
        body.push_str(&format!(
            r#"{{"id":"{id}","status":"{status}","task":"{task}","createdAt":"{}""#,
            rfc3339(created)
        ));
        if status == "completed" {
            body.push_str(&format!(r#","completedAt":"{}""#, rfc3339(created + 600 + (rng.next() % 3000) as i64)));
        }
        body.push('}');
    }
    body.push_str(&format!(r#"],"total":{n}}}"#));
    body.into_bytes()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Seconds since the epoch → `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil_from_days).
pub fn rfc3339(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_773_309_600), "2026-03-12T10:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn list_is_valid_json_with_dns1123_ids() {
        let v: serde_json::Value = serde_json::from_slice(&list_body(50)).unwrap();
        assert_eq!(v["total"], 50);
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 50);
        for s in items {
            let id = s["id"].as_str().unwrap();
            assert_eq!(id.len(), 44, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert!(["running", "pending", "completed"].contains(&s["status"].as_str().unwrap()));
        }
    }
}
