//! `FakeAmbient`: an in-process stand-in for the ambient API server (`/api/ambient/v1`),
//! following docs/ambient-api.md §12.1–§12.12 as the "JWT on, authorization off" deployment
//! (every kustomize overlay, e.g. production): an accepted bearer token reaches every
//! project's sessions by id. Same HTTP plumbing ([`super::http`]) and fault rules
//! ([`super::faults`]) as [`super::FakeGateway`].
//!
//! Not modelled: gzip, CORS, SSE (`Accept: text/event-stream`), the runner pass-through
//! routes (answered 501 `not implemented by FakeAmbient`), authz on, users.

mod decode;
mod query;
mod routes;

use super::faults::{self, FaultRules};
use super::http::{self, Conn, Ctx, HttpServer, Next, Response, send};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

pub use super::faults::{Fault, RouteMatch, Times};
pub use super::gateway::RecordedRequest;

/// Where the API lives below [`FakeAmbient::url`].
pub const PREFIX: &str = "/api/ambient/v1";
/// Username of tokens added with [`FakeAmbient::accept_token`] (becomes `created_by_user_id`).
pub const DEFAULT_USER: &str = "test-user";
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-6";
const JSON_CT: &str = "application/json";
const TEXT_CT: &str = "text/plain; charset=utf-8";

/// One stored message of a session.
#[derive(Clone, Debug)]
pub(crate) struct Msg {
    pub id: String,
    pub session_id: String,
    pub seq: u64,
    pub event_type: String,
    pub payload: String,
    pub created_at: String,
}

impl Msg {
    /// Go struct order `{id,session_id,seq,event_type,payload,created_at}`.
    pub fn to_json(&self) -> String {
        let s = http::go_json_str;
        format!(
            "{{\"id\":{},\"session_id\":{},\"seq\":{},\"event_type\":{},\"payload\":{},\"created_at\":{}}}",
            s(&self.id),
            s(&self.session_id),
            self.seq,
            s(&self.event_type),
            s(&self.payload),
            s(&self.created_at)
        )
    }
}

pub(crate) struct State {
    pub requests: Vec<RecordedRequest>,
    /// token → username
    pub tokens: HashMap<String, String>,
    /// Project objects, in insertion order.
    pub projects: Vec<Map<String, Value>>,
    /// Session objects (output form: no null values), in insertion order.
    pub sessions: Vec<Map<String, Value>>,
    pub messages: Vec<Msg>,
    pub msg_seq: u64,
    last_micros: i64,
    pub faults: FaultRules,
}

impl State {
    /// A strictly increasing "now", RFC 3339 with microseconds (trailing zeros trimmed, as
    /// Go's RFC3339Nano).
    pub fn now(&mut self) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0);
        self.last_micros = now.max(self.last_micros + 1);
        rfc3339_micros(self.last_micros)
    }
    pub fn session(&self, id: &str) -> Option<&Map<String, Value>> {
        self.sessions.iter().find(|s| s.get("id").and_then(Value::as_str) == Some(id))
    }
    pub fn session_mut(&mut self, id: &str) -> Option<&mut Map<String, Value>> {
        self.sessions.iter_mut().find(|s| s.get("id").and_then(Value::as_str) == Some(id))
    }
    /// Stores a message for `session_id` and returns it.
    pub fn push_message(&mut self, session_id: &str, event_type: &str, payload: &str) -> Msg {
        self.msg_seq += 1;
        let m = Msg {
            id: ksuid(),
            session_id: session_id.to_string(),
            seq: self.msg_seq,
            event_type: event_type.to_string(),
            payload: payload.to_string(),
            created_at: self.now(),
        };
        self.messages.push(m.clone());
        m
    }
    /// A new session object: server fields and defaults, then `fields` (null = remove).
    pub fn new_session(&mut self, fields: Map<String, Value>) -> Map<String, Value> {
        let id = ksuid();
        let now = self.now();
        let mut s = Map::new();
        s.insert("id".into(), json!(id));
        s.insert("kind".into(), json!("Session"));
        s.insert("href".into(), json!(format!("{PREFIX}/sessions/{id}")));
        s.insert("created_at".into(), json!(now));
        s.insert("updated_at".into(), json!(now));
        s.insert("kube_cr_name".into(), json!(id));
        s.insert("name".into(), json!(""));
        s.insert("llm_model".into(), json!(DEFAULT_MODEL));
        s.insert("llm_temperature".into(), serde_json::from_str("0.7").unwrap_or(Value::Null));
        s.insert("llm_max_tokens".into(), json!(4000));
        merge(&mut s, fields);
        s
    }
}

/// Overwrites `dst` with `fields`; a null value removes the key.
pub(crate) fn merge(dst: &mut Map<String, Value>, fields: Map<String, Value>) {
    for (k, v) in fields {
        if v.is_null() {
            dst.remove(&k);
        } else {
            dst.insert(k, v);
        }
    }
}

type Shared = Mutex<State>;

pub(crate) fn lock(sh: &Shared) -> MutexGuard<'_, State> {
    sh.lock().unwrap_or_else(|e| e.into_inner())
}

/// Dropping it stops the server and releases every connection (including `Hang`s).
pub struct FakeAmbient {
    shared: Arc<Shared>,
    server: HttpServer,
}

impl FakeAmbient {
    /// Starts listening on 127.0.0.1:0. No tokens, projects or sessions yet.
    pub fn start() -> FakeAmbient {
        let shared = FakeAmbient::state();
        let sh = shared.clone();
        let server = HttpServer::start(move |req, ctx, w| handle(&sh, req, ctx, w));
        FakeAmbient { shared, server }
    }

    /// The same over HTTPS, presenting `cert_chain_pem` / `key_pem` (see [`super::tls`]).
    pub fn start_tls(cert_chain_pem: &str, key_pem: &str) -> FakeAmbient {
        FakeAmbient::start_tls_config(super::tls::server_config(cert_chain_pem, key_pem))
    }

    /// Over HTTPS with a rustls configuration of the test's own (one that demands a client
    /// certificate: [`super::tls::server_config_requiring_client`]).
    pub fn start_tls_config(config: std::sync::Arc<rustls::ServerConfig>) -> FakeAmbient {
        let shared = FakeAmbient::state();
        let sh = shared.clone();
        let server = HttpServer::start_tls(config, move |req, ctx, w| handle(&sh, req, ctx, w));
        FakeAmbient { shared, server }
    }

    fn state() -> Arc<Shared> {
        Arc::new(Mutex::new(State {
            requests: Vec::new(),
            tokens: HashMap::new(),
            projects: Vec::new(),
            sessions: Vec::new(),
            messages: Vec::new(),
            msg_seq: 0,
            last_micros: 0,
            faults: FaultRules::default(),
        }))
    }

    /// `http://127.0.0.1:<port>` (`https://` in HTTPS mode), without [`PREFIX`].
    pub fn url(&self) -> String {
        format!("{}://{}", self.server.scheme(), self.server.addr())
    }
    /// `url()` + `/api/ambient/v1`.
    pub fn api_url(&self) -> String {
        format!("{}{PREFIX}", self.url())
    }
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }
    /// Closes every open (keep-alive) connection; new ones are accepted.
    pub fn close_connections(&self) {
        self.server.close_connections();
    }
    /// See [`HttpServer::set_idle_close`].
    pub fn set_idle_close(&self, after: std::time::Duration) {
        self.server.set_idle_close(after);
    }

    /// Every request received (faulted and refused ones included), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }
    pub fn request_count(&self) -> usize {
        lock(&self.shared).requests.len()
    }
    pub fn clear_requests(&self) {
        lock(&self.shared).requests.clear();
    }

    /// A token the server accepts as `Authorization: Bearer <token>`, for user [`DEFAULT_USER`].
    pub fn accept_token(&self, token: &str) {
        self.accept_token_as(token, DEFAULT_USER);
    }
    /// Accepts tokens (as [`FakeAmbient::accept_token`]) from another thread: a fake IdP's issue hook.
    pub fn token_acceptor(&self) -> impl Fn(&str) + Send + 'static {
        let shared = self.shared.clone();
        move |token| {
            lock(&shared).tokens.insert(token.to_string(), DEFAULT_USER.to_string());
        }
    }
    /// A token for `username` (what `created_by_user_id` gets on create).
    pub fn accept_token_as(&self, token: &str, username: &str) {
        lock(&self.shared).tokens.insert(token.to_string(), username.to_string());
    }
    pub fn revoke_token(&self, token: &str) {
        lock(&self.shared).tokens.remove(token);
    }

    /// A project (`id` == `name`); adding an existing one does nothing.
    pub fn add_project(&self, name: &str) {
        let mut st = lock(&self.shared);
        if st.projects.iter().any(|p| p.get("id").and_then(Value::as_str) == Some(name)) {
            return;
        }
        let now = st.now();
        let p = json!({
            "id": name, "kind": "Project", "href": format!("{PREFIX}/projects/{name}"),
            "name": name, "created_at": now, "updated_at": now,
        });
        if let Value::Object(m) = p {
            st.projects.push(m);
        }
    }
    /// Names of the projects, in insertion order.
    pub fn projects(&self) -> Vec<String> {
        let st = lock(&self.shared);
        st.projects.iter().filter_map(|p| p.get("id").and_then(Value::as_str).map(str::to_string)).collect()
    }

    /// Stores a session of `project` and returns its new id (KSUID-like, time-ordered).
    /// `fields` (a JSON object) is merged over the defaults (`id`, `kind`, `href`,
    /// `created_at`, `updated_at`, `kube_cr_name`, `name:""`, `project_id`, `llm_*`); a null
    /// value removes a key. No phase unless `fields` sets one; no message is stored.
    pub fn add_session(&self, project: &str, fields: Value) -> String {
        let mut st = lock(&self.shared);
        let mut f = match fields {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => panic!("add_session: fields must be a JSON object, got {other}"),
        };
        if !f.contains_key("project_id") {
            f.insert("project_id".into(), json!(project));
        }
        let s = st.new_session(f);
        let id = s.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        st.sessions.push(s);
        id
    }
    /// The stored session object (as GET would return it).
    pub fn session(&self, id: &str) -> Option<Value> {
        lock(&self.shared).session(id).map(|s| Value::Object(s.clone()))
    }
    /// Ids of the sessions whose `project_id` is `project`, in creation order.
    pub fn session_ids(&self, project: &str) -> Vec<String> {
        let st = lock(&self.shared);
        st.sessions
            .iter()
            .filter(|s| s.get("project_id").and_then(Value::as_str) == Some(project))
            .filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    }
    /// Every stored session id, in creation order.
    pub fn all_session_ids(&self) -> Vec<String> {
        let st = lock(&self.shared);
        st.sessions.iter().filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_string)).collect()
    }
    /// Merges `fields` into a stored session as the control plane would (null removes a key,
    /// `updated_at` is bumped). Returns false for an unknown id.
    pub fn update_session(&self, id: &str, fields: Value) -> bool {
        let mut st = lock(&self.shared);
        let now = st.now();
        let Some(s) = st.session_mut(id) else {
            return false;
        };
        if let Value::Object(m) = fields {
            merge(s, m);
        }
        s.insert("updated_at".into(), json!(now));
        true
    }
    /// Sets the phase as the control plane does (`""` removes it). Panics on an unknown id.
    pub fn set_phase(&self, id: &str, phase: &str) {
        let v = if phase.is_empty() { Value::Null } else { json!(phase) };
        assert!(self.update_session(id, json!({ "phase": v })), "set_phase: no session {id}");
    }
    /// Stores a message (e.g. an `assistant` reply) for a session; returns its `seq`.
    pub fn add_message(&self, session_id: &str, event_type: &str, payload: &str) -> u64 {
        lock(&self.shared).push_message(session_id, event_type, payload).seq
    }
    /// The session's messages as `GET …/messages` returns them (ascending `seq`).
    pub fn messages(&self, session_id: &str) -> Vec<Value> {
        let st = lock(&self.shared);
        st.messages
            .iter()
            .filter(|m| m.session_id == session_id)
            .map(|m| serde_json::from_str(&m.to_json()).unwrap_or(Value::Null))
            .collect()
    }

    /// `fault` for the next request whose path starts with `/api/ambient/v1`.
    pub fn push_fault(&self, fault: Fault) {
        self.fault_on(RouteMatch::prefix(PREFIX), fault, Times::Once);
    }
    /// `fault` for the next request matching `route`, e.g.
    /// `push_fault_on(RouteMatch::new("GET", "/api/ambient/v1/sessions/*"), Fault::Hang)`.
    pub fn push_fault_on(&self, route: RouteMatch, fault: Fault) {
        self.fault_on(route, fault, Times::Once);
    }
    /// `fault` for the next `times` requests matching `route` (full path, any path the server
    /// receives). Checked after recording and before everything else (auth included).
    pub fn fault_on(&self, route: RouteMatch, fault: Fault, times: Times) {
        lock(&self.shared).faults.add(route, fault, times);
    }
    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared).faults.pending()
    }
}

// ---------------------------------------------------------------- ids, clocks, answers

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A KSUID: 4 bytes of seconds since 2014-05-13, 16 bytes of payload, base62, 27 chars.
/// The payload starts with a process-wide counter, so ids made later sort later.
pub fn ksuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    let mut bytes = [0u8; 20];
    bytes[..4].copy_from_slice(&(secs.saturating_sub(1_400_000_000) as u32).to_be_bytes());
    bytes[4..12].copy_from_slice(&n.to_be_bytes());
    bytes[12..].copy_from_slice(&h.finish().to_be_bytes());
    let mut digits = [b'0'; 27];
    let mut num = bytes.to_vec();
    for d in digits.iter_mut().rev() {
        let mut rem = 0u32;
        for b in num.iter_mut() {
            let acc = (rem << 8) | *b as u32;
            *b = (acc / 62) as u8;
            rem = acc % 62;
        }
        *d = BASE62[rem as usize];
    }
    String::from_utf8_lossy(&digits).into_owned()
}

/// RFC 3339 UTC with the fraction Go's RFC3339Nano writes (trailing zeros trimmed).
pub fn rfc3339_micros(micros: i64) -> String {
    let base = http::rfc3339(micros.div_euclid(1_000_000));
    let frac = format!("{:06}", micros.rem_euclid(1_000_000));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { base } else { format!("{}.{frac}Z", &base[..base.len() - 1]) }
}

/// A JSON answer (Go's HTML-safe escaping), `Content-Type: application/json`.
pub(crate) fn json_resp(status: u16, body: &str) -> Response {
    Response::new(status, Some(JSON_CT), http::go_html_escape(body)).with_header("Vary", "Authorization")
}

pub(crate) fn value_resp(status: u16, v: &Value) -> Response {
    json_resp(status, &v.to_string())
}

/// A Go `http.Error` answer: the message plus a newline, as text.
pub(crate) fn text_resp(status: u16, msg: &str) -> Response {
    Response::new(status, Some(TEXT_CT), format!("{msg}\n")).with_header("X-Content-Type-Options", "nosniff")
}

/// A trex error (§12.8) before it gets the request's operation id.
#[derive(Debug)]
pub(crate) struct Trex(pub u16, pub u32, pub String);

impl Trex {
    pub fn resp(&self, op: &str) -> Response {
        let Trex(status, n, reason) = self;
        let v = json!({
            "code": format!("ambient-api-server-{n}"), "href": format!("{PREFIX}/errors/{n}"),
            "id": n.to_string(), "kind": "Error", "operation_id": op, "reason": reason,
        });
        value_resp(*status, &v)
    }
}

// ---------------------------------------------------------------- pipeline

fn handle(sh: &Shared, req: &http::Request, ctx: &Ctx, w: &mut Conn) -> Next {
    let close = ctx.close;
    lock(sh).requests.push(RecordedRequest {
        method: req.method.clone(),
        path: req.target.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
    });
    let head_only = req.method == "HEAD";
    if req.version == "HTTP/1.1" && req.header("host").is_none() {
        let _ = http::write_bad_request(w, Some("missing required Host header"));
        return Next::Close;
    }
    let mut target = req.target.as_str();
    if let Some(rest) = target.strip_prefix("http://").or_else(|| target.strip_prefix("https://")) {
        target = rest.find('/').map_or("/", |p| &rest[p..]);
    }
    let (raw_path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = match http::percent_decode(raw_path) {
        Some(d) if raw_path.starts_with('/') => String::from_utf8_lossy(&d).into_owned(),
        _ => {
            let _ = http::write_bad_request(w, None);
            return Next::Close;
        }
    };
    let fault = lock(sh).faults.take(&req.method, &path);
    if let Some(f) = fault {
        return faults::apply(f, ctx, w, head_only);
    }
    let resp = answer(sh, req, &path, query);
    send(w, &resp, head_only, close)
}

fn answer(sh: &Shared, req: &http::Request, path: &str, query: &str) -> Response {
    // RemoveTrailingSlash: one `/`.
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    if path == "/api/ambient" {
        // Public; the liveness probe.
        let v = json!({"id": "ambient-api-server", "kind": "API", "href": "/api/ambient", "version": "fake", "build_time": "fake"});
        return value_resp(200, &v);
    }
    let public = ["", "/openapi", "/openapi.html", "/errors"];
    if path.strip_prefix(PREFIX).is_some_and(|rest| public.contains(&rest)) {
        return text_resp(501, "not implemented by FakeAmbient");
    }
    // JWT handler: exactly `Bearer <accepted token>`.
    let user = {
        let st = lock(sh);
        req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).and_then(|t| st.tokens.get(t)).cloned()
    };
    let Some(user) = user else {
        return text_resp(401, "Unauthorized");
    };
    if path == format!("{PREFIX}/version") {
        if req.method != "GET" {
            return Response::new(405, None, Vec::new());
        }
        return value_resp(200, &json!({"version": "fake", "build_time": "fake", "git_tag": "fake"}));
    }
    if !path.starts_with("/api/ambient/") && path != "/metrics" && path != "/favicon.ico" {
        // The pass-through proxy to a V1 backend that is not there.
        return text_resp(502, "backend unavailable");
    }
    let op = ksuid();
    let call = routes::Call { req, path, query: parse_query(query), op: op.clone(), user };
    routes::route(sh, &call).with_header("X-Operation-ID", &op)
}

/// Go's `url.ParseQuery` (`+` is a space); pairs with a bad escape are dropped.
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    let dec = |s: &str| http::percent_decode(&s.replace('+', " ")).map(|b| String::from_utf8_lossy(&b).into_owned());
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((dec(k)?, dec(v)?))
        })
        .collect()
}
