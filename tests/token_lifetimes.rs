//! What an identity provider says of a token's lifetime is not trusted blindly, end to end:
//! the real server renews a stored login from a provider (on 127.0.0.1) that answers with
//! hostile lifetimes. An `expires_in` of 2^63-1 or a JWT `exp` in the year 9999 is held to a
//! day (no overflow, no renewal on every call, no token kept for ever); a JWT that arrives
//! expired is refused, naming the clocks; an unknown lifetime means the token is used; a
//! stored `expires_at` past a day is renewed rather than believed.

mod common;

use common::http::{HttpServer, Response, send};
use common::idp::{form, jwt};
use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const REALM: &str = "/realms/acp";
const DAY: i64 = 24 * 3600;

/// A provider whose n-th refresh grant (from 1) answers `answer(n)`; it counts them.
struct Provider {
    server: HttpServer,
    refreshes: Arc<AtomicUsize>,
}

impl Provider {
    fn start(answer: impl Fn(usize) -> Value + Send + Sync + 'static) -> Provider {
        let refreshes = Arc::new(AtomicUsize::new(0));
        let count = refreshes.clone();
        let server = HttpServer::start(move |req, ctx, w| {
            let base = format!("http://{}{REALM}", req.header("host").unwrap_or_default());
            let resp = match (req.method.as_str(), req.target.as_str().strip_prefix(REALM).unwrap_or("")) {
                ("GET", "/.well-known/openid-configuration") => {
                    Response::json(200, json!({"issuer": base, "token_endpoint": format!("{base}/token")}).to_string())
                }
                ("POST", "/token")
                    if form(&String::from_utf8_lossy(&req.body)).get("grant_type").map(String::as_str)
                        == Some("refresh_token") =>
                {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    Response::json(200, answer(n).to_string())
                }
                _ => Response::json(404, r#"{"error":"not_found"}"#),
            };
            send(w, &resp, false, ctx.close)
        });
        Provider { server, refreshes }
    }

    fn issuer(&self) -> String {
        format!("http://{}{REALM}", self.server.addr())
    }

    fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Cluster `amb` logging in at `p`, with a stored login holding a refresh token and `extra`.
fn setup(p: &Provider, extra: Value) -> AmbientEnv {
    let env = AmbientEnv::new();
    env.write_oidc(&p.issuer());
    let mut login = json!({"issuer": p.issuer(), "client_id": "ocm-cli", "grant": "interactive",
                           "refresh_token": "stored-refresh-Hh7Yt2Qp"});
    login.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let dir = env.dir.path().join(".config/acp/tokens");
    std::fs::create_dir_all(&dir).unwrap();
    for d in [env.dir.path().join(".config"), env.dir.path().join(".config/acp"), dir.clone()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(dir.join("amb.json"), login.to_string()).unwrap();
    std::fs::set_permissions(dir.join("amb.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    env
}

fn stored(env: &AmbientEnv) -> Value {
    serde_json::from_str(&std::fs::read_to_string(env.dir.path().join(".config/acp/tokens/amb.json")).unwrap()).unwrap()
}

/// `calls` reads through the server: each must succeed.
fn reads(env: &AmbientEnv, calls: usize) {
    let mut s = env.spawn();
    for _ in 0..calls {
        let r = s.call_tool("acp_list_sessions", json!({}));
        assert!(!r.is_error, "{}", r.text);
    }
    let f = s.close();
    assert!(!f.stderr.contains("panicked"), "{}", f.stderr);
}

#[test]
fn a_huge_expires_in_is_held_to_a_day_and_renews_once() {
    let p = Provider::start(|n| {
        json!({"access_token": format!("opaque-access-{n}-Zx81KqLm"), "refresh_token": format!("rotated-{n}-Pq9Wm2Xc"),
               "token_type": "Bearer", "expires_in": i64::MAX})
    });
    let env = setup(&p, json!({}));
    for n in 1..=3 {
        env.api.accept_token(&format!("opaque-access-{n}-Zx81KqLm"));
    }
    let before = now();
    reads(&env, 3);
    assert_eq!(p.refreshes(), 1, "renewed on more than the first call");
    let at = stored(&env)["expires_at"].as_i64().expect("an expiry is stored");
    assert!(at > before && at <= now() + DAY, "expires_at {at} is not within a day of {before}");
    // A second process uses the stored token: still no renewal.
    reads(&env, 2);
    assert_eq!(p.refreshes(), 1);
}

#[test]
fn a_jwt_exp_in_the_year_9999_is_held_to_a_day() {
    let token = jwt(&json!({"sub": "ada", "preferred_username": "ada", "exp": 253_402_300_799_i64}));
    let answer = token.clone();
    let p = Provider::start(move |_| json!({"access_token": answer, "token_type": "Bearer", "expires_in": 300}));
    let env = setup(&p, json!({}));
    env.api.accept_token(&token);
    reads(&env, 2);
    assert_eq!(p.refreshes(), 1);
    let at = stored(&env)["expires_at"].as_i64().unwrap();
    assert!(at > now() && at <= now() + DAY, "expires_at {at} is past a day from now");
}

#[test]
fn a_stored_expiry_past_a_day_is_renewed_not_believed() {
    let p = Provider::start(
        |_| json!({"access_token": "opaque-new-access-Rt5Vb8", "token_type": "Bearer", "expires_in": 600}),
    );
    let env = setup(&p, json!({"access_token": "opaque-old-access-Ln3Kd7", "expires_at": i64::MAX}));
    env.api.accept_token("opaque-old-access-Ln3Kd7");
    env.api.accept_token("opaque-new-access-Rt5Vb8");
    reads(&env, 2);
    assert_eq!(p.refreshes(), 1, "the stored expiry of year 292 billion was believed");
    assert_eq!(stored(&env)["access_token"], json!("opaque-new-access-Rt5Vb8"));
}

#[test]
fn an_unknown_lifetime_is_used_and_an_expired_jwt_is_refused_naming_the_clocks() {
    // No expires_in (or a negative one) with an opaque token: used, not renewed on every call.
    for expires_in in [Value::Null, json!(-30), json!(0)] {
        let e = expires_in.clone();
        let p = Provider::start(move |_| json!({"access_token": "opaque-forever-Wq2Ez4", "expires_in": e}));
        let env = setup(&p, json!({}));
        env.api.accept_token("opaque-forever-Wq2Ez4");
        reads(&env, 3);
        assert_eq!(p.refreshes(), 1, "expires_in {expires_in}");
        assert_eq!(stored(&env).get("expires_at"), None, "expires_in {expires_in}");
    }
    // A JWT that expired an hour ago: refused once per call, with the reason, never sent.
    let token = jwt(&json!({"sub": "ada", "exp": now() - 3600}));
    let answer = token.clone();
    let p = Provider::start(move |_| json!({"access_token": answer, "expires_in": 300}));
    let env = setup(&p, json!({}));
    env.api.accept_token(&token);
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("The stored login for cluster amb could not be renewed: "), "{}", r.text);
    let ago = r.text.contains("expired already (3600 s ago") || r.text.contains("expired already (3601 s ago");
    assert!(ago, "{}", r.text);
    assert!(r.text.contains("check the clocks of this machine and of the identity provider"), "{}", r.text);
    assert_eq!(p.refreshes(), 1);
    assert!(env.api.requests().is_empty(), "an expired token was sent");
    let f = s.close();
    assert!(!f.stdout.contains(&token) && !f.stderr.contains(&token));
}
