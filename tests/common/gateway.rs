//! `FakeGateway`: an in-process stand-in for the public-api gateway and the backend behind it,
//! following docs/public-api.md §1–§9 (routes, middleware order, auth,
//! project resolution, name validation, body binding, DTOs, forwarding, rate limit, CORS,
//! trailing-slash redirects, 404s). One thread per connection, keep-alive supported.

use super::faults::{self, FaultRules};
use super::gobind;
use super::http::{self, Conn, Ctx, HttpServer, Next, Response, send};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// One request as the gateway received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Raw request target, including the query string.
    pub path: String,
    /// Names lower-cased, values as received (surrounding blanks trimmed).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body parsed as JSON; panics (in the test thread) if it is not JSON.
    pub fn body_json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

pub use super::faults::{Fault, RouteMatch, Times};

pub const DEFAULT_BACKEND_MODEL: &str = "claude-sonnet-4-6";
const PROJECT_REQUIRED: &str = "Project required. Set X-Ambient-Project header or use a project-scoped access key.";
const CORS_ORIGINS: [&str; 3] = ["http://localhost:3000", "http://localhost:8080", "https://*.apps-crc.testing"];
const LIST_LIMIT: usize = 20;

struct State {
    requests: Vec<RecordedRequest>,
    tokens: HashSet<String>,
    projects: HashSet<String>,
    /// project → (insertion sequence, backend AgenticSession JSON)
    sessions: HashMap<String, Vec<(u64, Value)>>,
    seq: u64,
    faithful: bool,
    faults: FaultRules,
    /// (requests per second, burst); per client IP token buckets.
    rate: (f64, f64),
    buckets: HashMap<String, (f64, Instant)>,
}

type Shared = Mutex<State>;

fn lock(sh: &Shared) -> MutexGuard<'_, State> {
    sh.lock().unwrap_or_else(|e| e.into_inner())
}

/// Dropping it stops the server and releases every connection (including `Hang`s).
pub struct FakeGateway {
    shared: Arc<Shared>,
    server: HttpServer,
}

impl FakeGateway {
    /// Starts listening on 127.0.0.1:0. No tokens, projects or sessions yet.
    pub fn start() -> FakeGateway {
        let shared = FakeGateway::state();
        let sh = shared.clone();
        let server = HttpServer::start(move |req, ctx, w| handle(&sh, req, ctx, w));
        FakeGateway { shared, server }
    }

    /// The same gateway over HTTPS on 127.0.0.1:0, presenting `cert_chain_pem` (leaf first)
    /// with the private key `key_pem` (see [`super::tls`] to make them). A client that
    /// refuses the certificate never completes the handshake, so nothing is recorded.
    pub fn start_tls(cert_chain_pem: &str, key_pem: &str) -> FakeGateway {
        FakeGateway::start_tls_config(super::tls::server_config(cert_chain_pem, key_pem))
    }

    /// Over HTTPS with a rustls configuration of the test's own (one that demands a client
    /// certificate: [`super::tls::server_config_requiring_client`]).
    pub fn start_tls_config(config: std::sync::Arc<rustls::ServerConfig>) -> FakeGateway {
        let shared = FakeGateway::state();
        let sh = shared.clone();
        let server = HttpServer::start_tls(config, move |req, ctx, w| handle(&sh, req, ctx, w));
        FakeGateway { shared, server }
    }

    fn state() -> Arc<Shared> {
        Arc::new(Mutex::new(State {
            requests: Vec::new(),
            tokens: HashSet::new(),
            projects: HashSet::new(),
            sessions: HashMap::new(),
            seq: 0,
            faithful: false,
            faults: FaultRules::default(),
            rate: (100.0, 200.0),
            buckets: HashMap::new(),
        }))
    }

    /// `http://127.0.0.1:<port>` (`https://` in HTTPS mode).
    pub fn url(&self) -> String {
        format!("{}://{}", self.server.scheme(), self.server.addr())
    }
    /// The URL with another host name for the same port, e.g. `https://localhost:<port>`.
    pub fn url_for_host(&self, host: &str) -> String {
        format!("{}://{host}:{}", self.server.scheme(), self.server.addr().port())
    }
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }
    /// Closes every open (keep-alive) connection, as an idle timeout would; new ones are accepted.
    pub fn close_connections(&self) {
        self.server.close_connections();
    }
    /// Drops connections idle for `after` as a router does: the next request sent on one is
    /// answered with a TCP RST and never recorded (see [`HttpServer::set_idle_close`]).
    pub fn set_idle_close(&self, after: std::time::Duration) {
        self.server.set_idle_close(after);
    }
    /// TCP connections accepted so far.
    pub fn connection_count(&self) -> u64 {
        self.server.connection_count()
    }
    /// Every request received (including /health, 404s, faulted ones), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }
    pub fn request_count(&self) -> usize {
        lock(&self.shared).requests.len()
    }
    pub fn clear_requests(&self) {
        lock(&self.shared).requests.clear();
    }
    /// A token the backend accepts; any other → 401 `{"error":"Token expired or invalid"}`.
    pub fn accept_token(&self, token: &str) {
        lock(&self.shared).tokens.insert(token.to_string());
    }
    pub fn revoke_token(&self, token: &str) {
        lock(&self.shared).tokens.remove(token);
    }
    /// A project that exists and accepted tokens may access; others → 403.
    pub fn add_project(&self, project: &str) {
        lock(&self.shared).projects.insert(project.to_string());
    }
    pub fn remove_project(&self, project: &str) {
        lock(&self.shared).projects.remove(project);
    }
    /// A backend AgenticSession as today's backend stores it (no `spec.prompt`, no `spec.model`).
    /// Does not add the project.
    pub fn add_session(&self, project: &str, id: &str, phase: &str, created_at: &str) {
        let status = if phase.is_empty() { json!({}) } else { json!({ "phase": phase }) };
        self.add_session_full(
            project,
            json!({
                "metadata": { "name": id, "creationTimestamp": created_at },
                "spec": { "llmSettings": { "model": DEFAULT_BACKEND_MODEL, "temperature": 0.7, "maxTokens": 4000 }, "timeout": 300 },
                "status": status,
            }),
        );
    }
    /// Raw backend AgenticSession JSON; replaces a stored one with the same `metadata.name`.
    pub fn add_session_full(&self, project: &str, session: Value) {
        let mut st = lock(&self.shared);
        st.seq += 1;
        let seq = st.seq;
        let list = st.sessions.entry(project.to_string()).or_default();
        let name = backend_name(&session).to_string();
        list.retain(|(_, s)| name.is_empty() || backend_name(s) != name);
        list.push((seq, session));
    }
    /// false (default): today's gateway/backend pair loses task and model on create (§6, §7).
    /// true: an imagined fixed pair storing them in `spec.prompt` / `spec.model`.
    pub fn set_faithful_backend(&self, on: bool) {
        lock(&self.shared).faithful = on;
    }
    /// Queues a fault for the next request whose path starts with `/v1` (any method):
    /// `fault_on(RouteMatch::prefix("/v1"), fault, Times::Once)`. Pushed faults fire in
    /// queue order, one per request.
    pub fn push_fault(&self, fault: Fault) {
        self.fault_on(RouteMatch::prefix("/v1"), fault, Times::Once);
    }
    /// `fault` for the next request matching `route`, e.g.
    /// `push_fault_on(RouteMatch::new("DELETE", "/v1/sessions/*"), Fault::Hang)`.
    pub fn push_fault_on(&self, route: RouteMatch, fault: Fault) {
        self.fault_on(route, fault, Times::Once);
    }
    /// `fault` for the next `times` requests matching `route`, on any path the gateway
    /// receives, routed or not. Rules (including [`FakeGateway::push_fault`]'s) are checked
    /// in the order they were added and the first match answers (see [`FaultRules`]).
    pub fn fault_on(&self, route: RouteMatch, fault: Fault, times: Times) {
        lock(&self.shared).faults.add(route, fault, times);
    }
    /// Drops every armed fault rule, `Times::Always` ones and queued `push_fault`s included.
    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }
    /// Fault rules still armed (an `Always` rule counts until cleared).
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared).faults.pending()
    }
    /// `metadata.name` of the project's stored sessions, in insertion order.
    pub fn session_ids(&self, project: &str) -> Vec<String> {
        let st = lock(&self.shared);
        st.sessions
            .get(project)
            .map(|l| l.iter().map(|(_, s)| backend_name(s).to_string()).collect())
            .unwrap_or_default()
    }
    /// The stored backend JSON of one session.
    pub fn session(&self, project: &str, id: &str) -> Option<Value> {
        let st = lock(&self.shared);
        st.sessions.get(project)?.iter().find(|(_, s)| backend_name(s) == id).map(|(_, s)| s.clone())
    }
    /// Token bucket per client IP (§9); defaults 100/s, burst 200.
    pub fn set_rate_limit(&self, rps: f64, burst: f64) {
        let mut st = lock(&self.shared);
        st.rate = (rps, burst);
        st.buckets.clear();
    }
}

fn backend_name(s: &Value) -> &str {
    s.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("")
}

// ---------------------------------------------------------------- request handling

enum Route {
    Health,
    Ready,
    Metrics,
    List,
    Create,
    Get(String),
    Delete(String),
}

fn route(method: &str, path: &str) -> Option<Route> {
    Some(match (method, path) {
        ("GET", "/health") => Route::Health,
        ("GET", "/ready") => Route::Ready,
        ("GET", "/metrics") => Route::Metrics,
        ("GET", "/v1/sessions") => Route::List,
        ("POST", "/v1/sessions") => Route::Create,
        _ => {
            let id = path.strip_prefix("/v1/sessions/").filter(|id| !id.is_empty() && !id.contains('/'))?;
            match method {
                "GET" => Route::Get(id.to_string()),
                "DELETE" => Route::Delete(id.to_string()),
                _ => return None,
            }
        }
    })
}

fn handle(sh: &Shared, req: &http::Request, ctx: &Ctx, w: &mut Conn) -> Next {
    let close = ctx.close;
    lock(sh).requests.push(RecordedRequest {
        method: req.method.clone(),
        path: req.target.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
    });
    let head_only = req.method == "HEAD";
    // What Go's net/http itself rejects before any handler.
    if req.version == "HTTP/1.1" && req.header("host").is_none() {
        let _ = http::write_bad_request(w, Some("missing required Host header"));
        return Next::Close;
    }
    let mut target = req.target.as_str();
    if let Some(rest) = target.strip_prefix("http://").or_else(|| target.strip_prefix("https://")) {
        target = rest.find('/').map_or("/", |p| &rest[p..]);
    }
    let (raw_path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let decoded = match http::percent_decode(raw_path) {
        Some(d) if raw_path.starts_with('/') || raw_path == "*" => d,
        _ => {
            let _ = http::write_bad_request(w, None);
            return Next::Close;
        }
    };
    let path = String::from_utf8_lossy(&decoded).into_owned();

    // Faults come before everything the gateway itself does, on any path.
    let fault = lock(sh).faults.take(&req.method, &path);
    if let Some(f) = fault {
        return faults::apply(f, ctx, w, head_only);
    }

    let found = route(&req.method, &path);
    // gin RedirectTrailingSlash: decided before any middleware.
    if found.is_none() && path.len() > 1 && path.ends_with('/') && route(&req.method, &path[..path.len() - 1]).is_some()
    {
        let mut loc = http::clean_path(&http::escape_path(&decoded[..decoded.len() - 1]));
        if let Some(q) = query {
            loc = format!("{loc}?{q}");
        }
        let code = if req.method == "GET" { 301 } else { 307 };
        let mut resp = Response::new(code, None, Vec::new()).with_header("Location", &loc);
        if req.method == "GET" {
            resp = resp.with_header("Content-Type", "text/html; charset=utf-8");
            resp.body = format!("<a href=\"{}\">{}</a>.\n\n", http::html_escape(&loc), http::reason(code)).into_bytes();
        }
        return send(w, &resp, head_only, close);
    }

    // CORS (gin-contrib/cors).
    let mut cors_headers: Vec<(String, String)> = Vec::new();
    if let Some(origin) = req.header("origin").filter(|o| !o.is_empty()) {
        let host = req.header("host").unwrap_or("");
        if origin != format!("http://{host}") && origin != format!("https://{host}") {
            if !CORS_ORIGINS.contains(&origin) {
                return send(w, &Response::new(403, None, Vec::new()), head_only, close);
            }
            let h = |n: &str, v: &str| (n.to_string(), v.to_string());
            if req.method == "OPTIONS" {
                let mut resp = Response::new(204, None, Vec::new());
                resp.headers = vec![
                    h("Access-Control-Allow-Credentials", "true"),
                    h("Access-Control-Allow-Headers", "Origin,Content-Type,Accept,Authorization,X-Ambient-Project"),
                    h("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS"),
                    h("Access-Control-Allow-Origin", origin),
                    h("Access-Control-Max-Age", "43200"),
                    h("Vary", "Origin"),
                    h("Vary", "Access-Control-Request-Method"),
                    h("Vary", "Access-Control-Request-Headers"),
                ];
                return send(w, &resp, head_only, close);
            }
            cors_headers = vec![
                h("Access-Control-Allow-Credentials", "true"),
                h("Access-Control-Allow-Origin", origin),
                h("Access-Control-Expose-Headers", "Content-Length,Content-Type"),
                h("Vary", "Origin"),
            ];
        }
    }

    let mut resp = if !matches!(path.as_str(), "/health" | "/ready" | "/metrics")
        && !rate_allow(sh, &client_ip(req, ctx.peer_ip))
    {
        Response::json(429, r#"{"error":"Rate limit exceeded","retry_after":"1s"}"#)
    } else {
        match found {
            None => Response::new(404, Some("text/plain"), "404 page not found"),
            Some(Route::Health) => Response::json(200, r#"{"status":"ok"}"#),
            Some(Route::Ready) => Response::json(200, r#"{"status":"ready"}"#),
            Some(Route::Metrics) => Response::new(
                200,
                Some("text/plain; version=0.0.4; charset=utf-8; escaping=underscores"),
                "# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines 8\n",
            ),
            Some(r) => v1(sh, req, r),
        }
    };
    resp.headers.extend(cors_headers);
    send(w, &resp, head_only, close)
}

/// gin `ClientIP()` with every proxy trusted: leftmost X-Forwarded-For entry, then X-Real-IP.
fn client_ip(req: &http::Request, peer: &str) -> String {
    for name in ["x-forwarded-for", "x-real-ip"] {
        if let Some(v) = req.header(name).filter(|v| !v.is_empty()) {
            let items: Vec<&str> = v.split(',').map(str::trim).collect();
            if items.iter().all(|i| i.parse::<std::net::IpAddr>().is_ok()) {
                return items[0].to_string();
            }
        }
    }
    peer.to_string()
}

fn rate_allow(sh: &Shared, ip: &str) -> bool {
    let mut st = lock(sh);
    let (rps, burst) = st.rate;
    let now = Instant::now();
    let b = st.buckets.entry(ip.to_string()).or_insert((burst, now));
    b.0 = (b.0 + now.duration_since(b.1).as_secs_f64() * rps).min(burst);
    b.1 = now;
    if b.0 >= 1.0 {
        b.0 -= 1.0;
        true
    } else {
        false
    }
}

fn err(status: u16, msg: &str) -> Response {
    Response::json(status, http::error_body(msg))
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, 1–63 bytes.
pub fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&b.len()) && edge(&b[0]) && edge(&b[b.len() - 1]) && b.iter().all(|c| edge(c) || *c == b'-')
}

fn extract_token(req: &http::Request) -> String {
    let auth = req.header("authorization").unwrap_or("");
    if let Some(t) = auth.strip_prefix("Bearer ") {
        return t.to_string();
    }
    req.header("x-forwarded-access-token").unwrap_or("").to_string()
}

/// `sub` of a three-part JWT (payload unpadded base64url, else standard base64), unverified.
fn jwt_sub(token: &str) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let payload = http::base64_decode(parts[1], true).or_else(|| http::base64_decode(parts[1], false))?;
    let claims: Value = serde_json::from_slice(&payload).ok()?;
    claims.get("sub")?.as_str().map(str::to_string)
}

/// §4: header, token namespace, or "" (→ 400) on a mismatch / when neither is there.
fn extract_project(req: &http::Request, token: &str) -> String {
    let header = req.header("x-ambient-project").unwrap_or("");
    let token_project = jwt_sub(token)
        .filter(|s| s.starts_with("system:serviceaccount:"))
        .and_then(|s| s.split(':').nth(2).map(str::to_string))
        .unwrap_or_default();
    if !header.is_empty() && !token_project.is_empty() && header != token_project {
        return String::new();
    }
    if header.is_empty() { token_project } else { header.to_string() }
}

fn v1(sh: &Shared, req: &http::Request, route: Route) -> Response {
    let token = extract_token(req);
    if token.is_empty() {
        return err(401, "Missing or invalid authorization");
    }
    let project = extract_project(req, &token);
    if project.is_empty() {
        return err(400, PROJECT_REQUIRED);
    }
    if !valid_name(&project) {
        return err(400, "Invalid project name");
    }
    if let Route::Get(id) | Route::Delete(id) = &route {
        if !valid_name(id) {
            return err(400, "Invalid session ID");
        }
    }
    let create = match route {
        Route::Create => match gobind::bind_create(&req.body) {
            Ok(c) => Some(c),
            Err(e) => return err(400, &e),
        },
        _ => None,
    };
    // The backend's ValidateProjectContext.
    let mut st = lock(sh);
    if !st.tokens.contains(&token) {
        return err(401, "Token expired or invalid");
    }
    if !st.projects.contains(&project) {
        return err(403, "Unauthorized to access project");
    }
    match route {
        Route::List => {
            let mut items: Vec<&(u64, Value)> =
                st.sessions.get(&project).map(|l| l.iter().collect()).unwrap_or_default();
            let ts = |v: &Value| -> String {
                v.get("metadata")
                    .and_then(|m| m.get("creationTimestamp"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            items.sort_by(|a, b| ts(&b.1).cmp(&ts(&a.1)).then(b.0.cmp(&a.0)));
            items.truncate(LIST_LIMIT);
            let dtos: Vec<String> = items.iter().map(|(_, s)| dto(s)).collect();
            Response::json(200, format!("{{\"items\":[{}],\"total\":{}}}", dtos.join(","), dtos.len()))
        }
        Route::Get(id) => match st.sessions.get(&project).and_then(|l| l.iter().find(|(_, s)| backend_name(s) == id)) {
            Some((_, s)) => Response::json(200, dto(s)),
            None => err(404, "Session not found"),
        },
        Route::Delete(id) => {
            let list = st.sessions.entry(project).or_default();
            match list.iter().position(|(_, s)| backend_name(s) == id) {
                Some(i) => {
                    list.remove(i);
                    Response::new(204, None, Vec::new())
                }
                None => err(404, "Session not found"),
            }
        }
        Route::Create => {
            let c = create.unwrap_or_default();
            let id = new_session_id();
            let repos = c.repos.unwrap_or_default();
            let mut spec = if st.faithful {
                let mut spec = json!({ "prompt": c.task });
                if !c.model.is_empty() {
                    spec["model"] = json!(c.model);
                }
                if !repos.is_empty() {
                    spec["repos"] = repos.iter().map(|r| json!({ "url": r.url, "branch": r.branch })).collect();
                }
                spec
            } else {
                // Today's backend ignores prompt/model/repos[].input (docs/public-api.md §6).
                let mut spec = json!({ "llmSettings": { "model": DEFAULT_BACKEND_MODEL, "temperature": 0.7, "maxTokens": 4000 }, "timeout": 300 });
                if !repos.is_empty() {
                    spec["repos"] = repos.iter().map(|_| json!({ "url": "" })).collect();
                }
                spec
            };
            spec["runnerType"] = json!("claude-agent-sdk");
            st.seq += 1;
            let seq = st.seq;
            let session = json!({
                "metadata": { "name": id, "creationTimestamp": http::rfc3339_now() },
                "spec": spec,
                "status": { "phase": "Pending" },
            });
            st.sessions.entry(project).or_default().push((seq, session));
            Response::json(201, format!("{{\"id\":{},\"message\":\"Session created\"}}", http::go_json_str(&id)))
        }
        Route::Health | Route::Ready | Route::Metrics => Response::new(404, Some("text/plain"), "404 page not found"),
    }
}

fn normalize_phase(phase: &str) -> &str {
    match phase {
        "Pending" | "Creating" | "Initializing" => "pending",
        "Running" | "Active" => "running",
        "Completed" | "Succeeded" => "completed",
        "Failed" | "Error" => "failed",
        other => other,
    }
}

/// The gateway's `transformSession` → `SessionResponse` JSON, keys in struct order.
pub fn dto(v: &Value) -> String {
    let get =
        |obj: &str, key: &str| -> &str { v.get(obj).and_then(|o| o.get(key)).and_then(Value::as_str).unwrap_or("") };
    let mut id = get("metadata", "name");
    if id.is_empty() {
        id = v.get("name").and_then(Value::as_str).unwrap_or("");
    }
    let mut status = normalize_phase(get("status", "phase"));
    if status.is_empty() {
        status = "pending";
    }
    let js = http::go_json_str;
    let mut out = format!("{{\"id\":{},\"status\":{},\"task\":{}", js(id), js(status), js(get("spec", "prompt")));
    let push_opt = |out: &mut String, k: &str, val: &str| {
        if !val.is_empty() {
            out.push_str(&format!(",\"{k}\":{}", js(val)));
        }
    };
    push_opt(&mut out, "model", get("spec", "model"));
    out.push_str(&format!(",\"createdAt\":{}", js(get("metadata", "creationTimestamp"))));
    push_opt(&mut out, "completedAt", get("status", "completionTime"));
    push_opt(&mut out, "result", get("status", "result"));
    push_opt(&mut out, "error", get("status", "error"));
    out.push('}');
    out
}

/// `session-<uuid4>` (44 characters).
fn new_session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 16];
    for half in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0),
        );
        bytes[half * 8..half * 8 + 8].copy_from_slice(&h.finish().to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("session-{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}
