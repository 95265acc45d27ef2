//! A stand-in for the public-api gateway and the ambient API server: std only, HTTP/1.1
//! keep-alive, on 127.0.0.1.
//!
//! Public-api gateway (docs/public-api.md §1, §3, §6, §7): `GET /v1/sessions` answers a
//! pre-rendered `{"items":[…],"total":N}` chosen by `X-Ambient-Project`; `GET /v1/sessions/{id}`
//! a session with that id; `POST /v1/sessions` 201 `{"id":…,"message":"Session created"}`.
//!
//! Ambient API server (docs/ambient-api.md §12): `GET /api/ambient/v1/sessions?project_id=P&page=N&size=S&orderBy=…`
//! a page `{"kind":"SessionList","page","size","total","items"}` of project P's list (the same
//! sessions as the gateway's, with 27-character KSUID ids); `GET …/sessions/{id}` and
//! `POST …/sessions` (201) a session of project `sessions-20`; `GET …/projects/{p}` a project.
//!
//! Every route wants `Authorization: Bearer <token>` (401 without); JSON answers are
//! `application/json; charset=utf-8`; other routes get a plain-text 404. Like Go's net/http,
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

/// The task of every session the by-id routes answer: the prompt the bench creates with, so a
/// create that reads its session back finds what it sent.
pub const PROMPT: &str = "Benchmark: summarise the open pull requests";
/// The project of every session the by-id routes answer (the bench's default project).
pub const BY_ID_PROJECT: &str = "sessions-20";
const AMBIENT: &str = "/api/ambient/v1";

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
    let mut ambient = HashMap::new();
    for (project, n) in lists {
        answers.insert(project.to_string(), render(200, JSON, &list_body(*n), framing));
        ambient.insert(project.to_string(), ambient_items(project, *n));
    }
    let shared = Arc::new(Answers {
        auth: format!("Bearer {token}"),
        framing,
        lists: answers,
        ambient,
        pages: std::sync::Mutex::new(HashMap::new()),
        created: AtomicU64::new(0),
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

const JSON: &str = "application/json; charset=utf-8";

/// (project, page, size) of an ambient list page.
type PageKey = (String, usize, usize);

struct Answers {
    auth: String,
    framing: Framing,
    /// Public-api list answers by project.
    lists: HashMap<String, Vec<u8>>,
    /// Ambient list items (rendered JSON objects) by project.
    ambient: HashMap<String, Vec<String>>,
    /// Ambient list pages rendered so far, by (project, page, size).
    pages: std::sync::Mutex<HashMap<PageKey, Arc<Vec<u8>>>>,
    /// Sessions created so far (their ids are numbered).
    created: AtomicU64,
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
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let answer = answer(answers, &method, &path, auth.as_deref(), project.as_deref(), &body);
        writer.write_all(&answer)?; // one write: headers and body together
        requests.fetch_add(1, Ordering::Relaxed);
        if close {
            return Ok(());
        }
    }
}

/// Either a pre-rendered answer or one made for this request.
enum Answer<'a> {
    Ready(&'a [u8]),
    Shared(Arc<Vec<u8>>),
    Made(Vec<u8>),
}

impl std::ops::Deref for Answer<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Answer::Ready(b) => b,
            Answer::Shared(b) => b,
            Answer::Made(b) => b,
        }
    }
}

fn answer<'a>(
    answers: &'a Answers,
    method: &str,
    target: &str,
    auth: Option<&str>,
    project: Option<&str>,
    body: &[u8],
) -> Answer<'a> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let known = path == "/v1/sessions"
        || path.starts_with("/v1/sessions/")
        || path == "/api/ambient/v1/sessions"
        || path.starts_with("/api/ambient/v1/sessions/")
        || path.starts_with("/api/ambient/v1/projects/");
    if !known {
        return Answer::Ready(&answers.not_found);
    }
    if auth != Some(answers.auth.as_str()) {
        return Answer::Ready(&answers.unauthorized);
    }
    let made = |status: u16, body: String| Answer::Made(render(status, JSON, body.as_bytes(), answers.framing));
    let n = || answers.created.fetch_add(1, Ordering::Relaxed) + 1;
    match (method, path) {
        ("GET", "/v1/sessions") => {
            Answer::Ready(project.and_then(|p| answers.lists.get(p)).unwrap_or(&answers.forbidden))
        }
        ("POST", "/v1/sessions") => {
            let id = format!("session-{:08x}-0000-4000-8000-{:012x}", 0xbe0c_0000u32, n());
            made(201, format!(r#"{{"id":"{id}","message":"Session created"}}"#))
        }
        ("GET", p) if p.starts_with("/v1/sessions/") => {
            let id = &p["/v1/sessions/".len()..];
            made(
                200,
                format!(
                    r#"{{"id":"{id}","status":"running","task":"{PROMPT}","model":"claude-sonnet-4","createdAt":"2026-03-12T10:00:00Z"}}"#
                ),
            )
        }
        ("GET", "/api/ambient/v1/sessions") => {
            let param = |k: &str| query.split('&').find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='));
            let number = |k: &str, d: usize| param(k).and_then(|v| v.parse().ok()).unwrap_or(d);
            let (page, size) = (number("page", 1).max(1), number("size", 100).min(65_500));
            let Some((project, items)) = param("project_id").and_then(|p| answers.ambient.get_key_value(p)) else {
                return made(200, r#"{"kind":"SessionList","page":1,"size":0,"total":0,"items":[]}"#.into());
            };
            let key = (project.clone(), page, size);
            let mut pages = answers.pages.lock().unwrap_or_else(|e| e.into_inner());
            let ready = pages.entry(key).or_insert_with(|| {
                let shown: Vec<&str> = items.iter().skip((page - 1) * size).take(size).map(String::as_str).collect();
                let body = format!(
                    r#"{{"kind":"SessionList","page":{page},"size":{},"total":{},"items":[{}]}}"#,
                    shown.len(),
                    items.len(),
                    shown.join(",")
                );
                Arc::new(render(200, JSON, body.as_bytes(), answers.framing))
            });
            Answer::Shared(ready.clone())
        }
        ("POST", "/api/ambient/v1/sessions") => {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let project = v["project_id"].as_str().unwrap_or(BY_ID_PROJECT);
            let id = ksuid(0xc0ffee ^ n());
            made(201, ambient_session(&id, project, "Pending", v["prompt"].as_str().unwrap_or(""), None))
        }
        ("GET", p) if p.starts_with("/api/ambient/v1/sessions/") => {
            let id = &p["/api/ambient/v1/sessions/".len()..];
            made(200, ambient_session(id, BY_ID_PROJECT, "Running", PROMPT, None))
        }
        ("GET", p) if p.starts_with("/api/ambient/v1/projects/") => {
            let name = &p["/api/ambient/v1/projects/".len()..];
            match answers.ambient.contains_key(name) {
                true => made(
                    200,
                    format!(r#"{{"id":"{name}","kind":"Project","href":"{AMBIENT}/projects/{name}","name":"{name}"}}"#),
                ),
                false => made(
                    404,
                    format!(
                        r#"{{"id":"404","kind":"Error","href":"{AMBIENT}/errors/404","code":"ambient-api-server-404","reason":"Project with id='{name}' not found"}}"#
                    ),
                ),
            }
        }
        _ => Answer::Ready(&answers.not_found),
    }
}

/// A session as the ambient API server writes it (§12.6).
fn ambient_session(id: &str, project: &str, phase: &str, prompt: &str, completed: Option<&str>) -> String {
    let created = "2026-03-12T10:00:00Z";
    let mut s = format!(
        r#"{{"id":"{id}","kind":"Session","href":"{AMBIENT}/sessions/{id}","created_at":"{created}","updated_at":"{created}","name":"","project_id":"{project}","phase":"{phase}","prompt":"{prompt}","llm_model":"claude-sonnet-4","llm_temperature":0.7,"llm_max_tokens":4000,"kube_cr_name":"{}""#,
        id.to_ascii_lowercase()
    );
    if let Some(at) = completed {
        s.push_str(&format!(r#","completion_time":"{at}""#));
    }
    s.push('}');
    s
}

/// The ambient list of `project`: the same sessions as [`list_body`], with KSUID ids.
fn ambient_items(project: &str, n: usize) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&list_body(n)).expect("valid list");
    let items = v["items"].as_array().expect("items");
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let phase = match s["status"].as_str().unwrap_or("") {
                "completed" => "Completed",
                "running" => "Running",
                _ => "Pending",
            };
            ambient_session(
                &ksuid(n as u64 * 1_000_003 + i as u64),
                project,
                phase,
                s["task"].as_str().unwrap_or(""),
                s["completedAt"].as_str(),
            )
        })
        .collect()
}

/// A deterministic 27-character base62 id (the shape of a KSUID).
pub fn ksuid(seed: u64) -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..27).map(|_| B62[(rng.next() % 62) as usize] as char).collect()
}

/// A whole HTTP answer, headers and body, ready to write.
fn render(status: u16, content_type: &str, body: &[u8], framing: Framing) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
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

    #[test]
    fn ambient_pages_cover_the_list() {
        let items = ambient_items("p", 250);
        assert_eq!(items.len(), 250);
        for s in &items {
            let v: serde_json::Value = serde_json::from_str(s).unwrap();
            let id = v["id"].as_str().unwrap();
            assert!(id.len() == 27 && id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
            assert_eq!(v["project_id"], "p");
        }
    }
}
