//! A fake OpenID Connect provider (a Keycloak realm's routes) on 127.0.0.1 for the login
//! tests: discovery, the device authorization endpoint (RFC 8628), the authorization endpoint
//! (code + PKCE S256), and the token endpoint with the device_code, refresh_token (rotating),
//! client_credentials and authorization_code grants. It issues JWTs with an `exp` and a fake
//! signature (nobody verifies them). What a device-code poll answers is scripted; the whole
//! provider can be "down" (503 on every route).

use super::http::{Conn, Ctx, HttpServer, Next, Request, Response, percent_decode, send};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The realm's path: the issuer is `<url>/realms/acp`.
pub const REALM: &str = "/realms/acp";
/// The grant type of a device-code poll.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// One request as received: method, path (without the query), form or query fields, when.
#[derive(Debug, Clone)]
pub struct IdpRequest {
    pub method: String,
    pub path: String,
    pub form: HashMap<String, String>,
    pub at: Instant,
}

type OnIssue = Box<dyn Fn(&str) + Send>;

#[derive(Default)]
struct State {
    requests: Vec<IdpRequest>,
    down: bool,
    /// What the next device-code polls answer (an OAuth error code each); then success.
    device_script: VecDeque<String>,
    interval: u64,
    expires_in: u64,
    /// Live device codes → user code.
    device_codes: HashMap<String, String>,
    /// Valid refresh tokens → subject.
    refresh_tokens: HashMap<String, String>,
    /// Refresh tokens are replaced on every use.
    rotate: bool,
    /// Lifetime of issued access tokens (seconds).
    access_ttl: i64,
    /// Confidential clients: id → secret.
    clients: HashMap<String, String>,
    /// Authorization codes → (code_challenge, redirect_uri).
    codes: HashMap<String, (String, String)>,
    issued_access: Vec<String>,
    issued_refresh: Vec<String>,
    counter: u64,
    on_issue: Option<OnIssue>,
    /// Refresh grants answer this error instead (e.g. `invalid_grant`).
    refresh_error: Option<String>,
    /// How long the token endpoint takes before it looks at a request (see `slow_tokens`).
    token_delay: std::time::Duration,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct FakeIdp {
    shared: Shared,
    server: HttpServer,
}

impl FakeIdp {
    /// Device codes poll every second and live 30 s; access tokens live 300 s; refresh tokens rotate.
    pub fn start() -> FakeIdp {
        let shared: Shared = Arc::new(Mutex::new(State {
            interval: 1,
            expires_in: 30,
            rotate: true,
            access_ttl: 300,
            ..State::default()
        }));
        let sh = shared.clone();
        let server = HttpServer::start(move |req, ctx, w| handle(&sh, req, ctx, w));
        FakeIdp { shared, server }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.server.scheme(), self.server.addr())
    }
    /// The issuer: [`FakeIdp::url`] + [`REALM`].
    pub fn issuer(&self) -> String {
        format!("{}{REALM}", self.url())
    }
    pub fn set_down(&self, down: bool) {
        lock(&self.shared).down = down;
    }
    /// The OAuth error codes the next device-code polls answer, in order; then it succeeds.
    pub fn script_device(&self, answers: &[&str]) {
        lock(&self.shared).device_script = answers.iter().map(|s| s.to_string()).collect();
    }
    pub fn set_device_timing(&self, interval: u64, expires_in: u64) {
        let mut st = lock(&self.shared);
        (st.interval, st.expires_in) = (interval, expires_in);
    }
    pub fn set_rotate(&self, rotate: bool) {
        lock(&self.shared).rotate = rotate;
    }
    pub fn set_access_ttl(&self, secs: i64) {
        lock(&self.shared).access_ttl = secs;
    }
    pub fn add_client(&self, id: &str, secret: &str) {
        lock(&self.shared).clients.insert(id.into(), secret.into());
    }
    /// A refresh token the provider accepts, for `subject` (as if from an earlier login).
    pub fn add_refresh_token(&self, token: &str, subject: &str) {
        lock(&self.shared).refresh_tokens.insert(token.into(), subject.into());
    }
    pub fn refresh_valid(&self, token: &str) -> bool {
        lock(&self.shared).refresh_tokens.contains_key(token)
    }
    /// Refresh grants fail with this OAuth error from now on (`None`: they work again).
    pub fn fail_refresh(&self, error: Option<&str>) {
        lock(&self.shared).refresh_error = error.map(str::to_string);
    }
    /// Called with every access token issued (to make the fake platform accept it).
    pub fn on_issue(&self, f: impl Fn(&str) + Send + 'static) {
        lock(&self.shared).on_issue = Some(Box::new(f));
    }
    pub fn issued_access(&self) -> Vec<String> {
        lock(&self.shared).issued_access.clone()
    }
    pub fn issued_refresh(&self) -> Vec<String> {
        lock(&self.shared).issued_refresh.clone()
    }
    pub fn requests(&self) -> Vec<IdpRequest> {
        lock(&self.shared).requests.clone()
    }
    /// The token-endpoint requests with this grant type.
    pub fn grants(&self, grant: &str) -> Vec<IdpRequest> {
        let token = format!("{REALM}/protocol/openid-connect/token");
        self.requests()
            .into_iter()
            .filter(|r| r.path == token && r.form.get("grant_type").map(String::as_str) == Some(grant))
            .collect()
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Unpadded base64url.
pub fn b64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// An unsigned JWT with these claims.
pub fn jwt(claims: &Value) -> String {
    format!(
        "{}.{}.ZmFrZS1zaWduYXR1cmU",
        b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    )
}

/// SHA-256 (rustls' ring provider, as the binary uses).
pub fn sha256(data: &[u8]) -> Vec<u8> {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let rustls::SupportedCipherSuite::Tls13(s) = suite else { unreachable!() };
    s.common.hash_provider.hash(data).as_ref().to_vec()
}

/// `application/x-www-form-urlencoded` (or a query string) into fields.
pub fn form(text: &str) -> HashMap<String, String> {
    let dec = |s: &str| String::from_utf8_lossy(&percent_decode(&s.replace('+', " ")).unwrap_or_default()).into_owned();
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}

fn oauth_error(status: u16, error: &str) -> Response {
    Response::json(status, json!({"error": error, "error_description": format!("fake idp: {error}")}).to_string())
}

fn handle(sh: &Shared, req: &Request, ctx: &Ctx, w: &mut Conn) -> Next {
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    slow_token_endpoint(sh, path);
    let mut fields = form(query);
    fields.extend(form(&String::from_utf8_lossy(&req.body)));
    let resp = {
        let mut st = lock(sh);
        st.requests.push(IdpRequest {
            method: req.method.clone(),
            path: path.to_string(),
            form: fields.clone(),
            at: Instant::now(),
        });
        let base = format!("http://{}{REALM}", req.header("host").unwrap_or("127.0.0.1"));
        match (st.down, req.method.as_str(), path.strip_prefix(REALM).unwrap_or("")) {
            (true, _, _) => Response::new(503, Some("text/html"), "<h1>503 Service Unavailable</h1>"),
            (_, "GET", "/.well-known/openid-configuration") => Response::json(
                200,
                json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/protocol/openid-connect/auth"),
                    "token_endpoint": format!("{base}/protocol/openid-connect/token"),
                    "device_authorization_endpoint": format!("{base}/protocol/openid-connect/auth/device"),
                    "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT],
                    "code_challenge_methods_supported": ["S256"],
                })
                .to_string(),
            ),
            (_, "POST", "/protocol/openid-connect/auth/device") => device_start(&mut st, &fields, &base),
            (_, "GET", "/protocol/openid-connect/auth") => authorize(&mut st, &fields),
            (_, "POST", "/protocol/openid-connect/token") => token(&mut st, &fields, req.header("authorization"), &base),
            _ => Response::json(404, r#"{"error":"not_found"}"#),
        }
    };
    send(w, &resp, req.method == "HEAD", ctx.close)
}

fn device_start(st: &mut State, f: &HashMap<String, String>, base: &str) -> Response {
    if f.get("client_id").is_none_or(String::is_empty) {
        return oauth_error(400, "invalid_client");
    }
    st.counter += 1;
    let device_code = format!("device-code-{}-Zq8vP2", st.counter);
    let user_code = format!("WDJB-MJH{}", st.counter % 10);
    st.device_codes.insert(device_code.clone(), user_code.clone());
    Response::json(
        200,
        json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": format!("{base}/device"),
            "verification_uri_complete": format!("{base}/device?user_code={user_code}"),
            "expires_in": st.expires_in,
            "interval": st.interval,
        })
        .to_string(),
    )
}

fn authorize(st: &mut State, f: &HashMap<String, String>) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code" || get("code_challenge_method") != "S256" || get("code_challenge").len() != 43 {
        return oauth_error(400, "invalid_request");
    }
    let redirect = get("redirect_uri");
    if !redirect.starts_with("http://127.0.0.1:") {
        return oauth_error(400, "invalid_redirect_uri");
    }
    st.counter += 1;
    let code = format!("auth-code-{}", st.counter);
    st.codes.insert(code.clone(), (get("code_challenge"), redirect.clone()));
    let location = format!("{redirect}?code={code}&state={}", get("state"));
    Response::new(302, None, "").with_header("Location", &location)
}

fn token(st: &mut State, f: &HashMap<String, String>, authorization: Option<&str>, base: &str) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let subject = match get("grant_type").as_str() {
        DEVICE_GRANT => {
            if !st.device_codes.contains_key(&get("device_code")) {
                return oauth_error(400, "invalid_grant");
            }
            if let Some(answer) = st.device_script.pop_front() {
                if answer == "access_denied" || answer == "expired_token" {
                    st.device_codes.remove(&get("device_code"));
                }
                return oauth_error(400, &answer);
            }
            st.device_codes.remove(&get("device_code"));
            "ada".to_string()
        }
        "refresh_token" => {
            if let Some(e) = st.refresh_error.clone() {
                return oauth_error(400, &e);
            }
            let Some(subject) = st.refresh_tokens.get(&get("refresh_token")).cloned() else {
                return oauth_error(400, "invalid_grant");
            };
            if st.rotate {
                st.refresh_tokens.remove(&get("refresh_token"));
            } else {
                return issue(st, &subject, base, Some(get("refresh_token")));
            }
            subject
        }
        "client_credentials" => {
            let (id, secret) = match authorization.and_then(|a| a.strip_prefix("Basic ")) {
                Some(b) => {
                    let raw = super::http::base64_decode(b, false).unwrap_or_default();
                    let raw = String::from_utf8_lossy(&raw).into_owned();
                    let (i, s) = raw.split_once(':').unwrap_or(("", ""));
                    (i.to_string(), s.to_string())
                }
                None => (get("client_id"), get("client_secret")),
            };
            if st.clients.get(&id) != Some(&secret) || secret.is_empty() {
                return oauth_error(401, "invalid_client");
            }
            let access = new_access(st, &format!("service-account-{id}"), base);
            return Response::json(
                200,
                json!({"access_token": access, "token_type": "Bearer", "expires_in": st.access_ttl}).to_string(),
            );
        }
        "authorization_code" => {
            let Some((challenge, redirect)) = st.codes.remove(&get("code")) else {
                return oauth_error(400, "invalid_grant");
            };
            if redirect != get("redirect_uri") || b64url(&sha256(get("code_verifier").as_bytes())) != challenge {
                return oauth_error(400, "invalid_grant");
            }
            "ada".to_string()
        }
        _ => return oauth_error(400, "unsupported_grant_type"),
    };
    issue(st, &subject, base, None)
}

fn new_access(st: &mut State, subject: &str, base: &str) -> String {
    st.counter += 1;
    let t = now();
    let access = jwt(&json!({"sub": subject, "preferred_username": subject, "iss": base, "iat": t,
                              "exp": t + st.access_ttl, "jti": st.counter, "azp": "ocm-cli"}));
    st.issued_access.push(access.clone());
    if let Some(f) = &st.on_issue {
        f(&access);
    }
    access
}

/// A new access token, and a refresh token (`keep`, or a new one).
fn issue(st: &mut State, subject: &str, base: &str, keep: Option<String>) -> Response {
    let access = new_access(st, subject, base);
    let refresh = keep.unwrap_or_else(|| {
        st.counter += 1;
        let r = format!("refresh-{}-{}-Kp3xW9", subject, st.counter);
        st.issued_refresh.push(r.clone());
        st.refresh_tokens.insert(r.clone(), subject.to_string());
        r
    });
    Response::json(
        200,
        json!({"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
               "expires_in": st.access_ttl, "refresh_expires_in": 1800, "scope": "openid"})
        .to_string(),
    )
}

// A slow token endpoint, so that two clients renewing at once both ask before either has its
// answer (the race a lock must prevent).

impl FakeIdp {
    /// The token endpoint waits `delay` before it reads each request (other routes do not).
    pub fn slow_tokens(&self, delay: std::time::Duration) {
        lock(&self.shared).token_delay = delay;
    }
}

fn slow_token_endpoint(sh: &Shared, path: &str) {
    if path.ends_with("/protocol/openid-connect/token") {
        let delay = lock(sh).token_delay;
        std::thread::sleep(delay);
    }
}
