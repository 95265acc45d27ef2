//! `check-config --online` end to end, as the server sees a cluster: tokens come from the
//! stored login exactly as the server gets them; `/health` is asked without a token; each
//! failure is named for what it is (DNS, refused, TLS, plain HTTP on https://, 404, 401, a
//! missing discovery document) and told once, what it makes impossible said to be skipped;
//! and one `timeout_seconds` bounds each cluster's probe, discovery and read together.

mod common;

use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn check(dir: &Path, args: &[&str]) -> Output {
    bin_command()
        .arg("check-config")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("ACP_CLUSTER_CONFIG", dir.join("clusters.yaml"))
        .output()
        .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A stored login for `cluster` (as `mcp-acp login` leaves it), with `extra` keys.
fn store_login(home: &Path, cluster: &str, issuer: &str, extra: Value) {
    let dir = home.join(".config/acp/tokens");
    std::fs::create_dir_all(&dir).unwrap();
    for d in [home.join(".config"), home.join(".config/acp"), dir.clone()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut login = json!({"issuer": issuer, "client_id": "ocm-cli", "grant": "interactive",
                           "refresh_token": format!("seed-refresh-{cluster}-Jk4Lm9")});
    login.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let path = dir.join(format!("{cluster}.json"));
    std::fs::write(&path, login.to_string()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn oidc(issuer: &str) -> String {
    format!("    oidc:\n      issuer: \"{issuer}\"\n      client_id: ocm-cli\n")
}

/// The problems of `cluster`, one per line.
fn problems<'a>(text: &'a str, cluster: &str) -> Vec<&'a str> {
    let tag = format!("cluster '{cluster}': ");
    text.lines().filter(|l| l.trim_start().starts_with("error: ") && l.contains(&tag)).collect()
}

#[test]
fn online_gets_tokens_from_the_stored_login_and_asks_health_for_none() {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    idp.on_issue(env.api.token_acceptor());
    idp.add_refresh_token("seed-refresh-amb-Jk4Lm9", "ada");
    let gw = FakeGateway::start();
    gw.accept_token(TOKEN);
    gw.add_project("team-a");
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    default_project: team-a\n{}  \
         dev:\n    server: \"{}\"\n    default_project: team-a\n{}default_cluster: amb\n",
        env.api.url(),
        oidc(&idp.issuer()),
        gw.url(),
        oidc(&idp.issuer())
    ));
    let home = env.dir.path();
    // amb must be renewed from its refresh token; dev's access token is still good.
    store_login(home, "amb", &idp.issuer(), json!({}));
    store_login(home, "dev", &idp.issuer(), json!({"access_token": TOKEN, "expires_at": now() + 3600}));
    let out = check(home, &["--online"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("online: OIDC discovery ok; authenticated read ok: 2 project(s) visible"), "{text}");
    assert!(text.contains("online: /health ok; OIDC discovery ok; authenticated read ok: 0 session(s)"), "{text}");
    assert!(!text.contains("No authentication token"), "{text}");
    let health: Vec<_> = gw.requests().into_iter().filter(|r| r.path == "/health").collect();
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].header("authorization"), None, "/health was sent a token");
    // The renewal went through the server's own path: the rotated refresh token is stored.
    assert_eq!(idp.grants("refresh_token").len(), 1);
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join(".config/acp/tokens/amb.json")).unwrap()).unwrap();
    assert_eq!(stored["refresh_token"].as_str(), idp.issued_refresh().last().map(String::as_str));
    assert_no_token_leak(&text);
    for t in idp.issued_access().iter().chain(idp.issued_refresh().iter()) {
        assert!(!text.contains(t.as_str()) && !text.contains(&t[..12]), "a token was shown:\n{text}");
    }
}

#[test]
fn each_failure_is_named_for_what_it_is_and_told_once() {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    let plain = FakeGateway::start();
    let cert = common::tls::self_signed(&["127.0.0.1"]);
    let untrusted = FakeGateway::start_tls(&cert.chain_pem, &cert.key_pem);
    let plain_port = plain.addr().port();
    let missing_issuer = format!("{}/realms/nowhere", idp.url());
    let cluster = |name: &str, server: &str, extra: &str| {
        format!("  {name}:\n    server: \"{server}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n{extra}")
    };
    let no_token = |name: &str, server: &str, extra: &str| {
        format!("  {name}:\n    api: ambient\n    server: \"{server}\"\n    default_project: team-a\n{extra}")
    };
    env.write(&format!(
        "clusters:\n{}{}{}{}{}{}{}{}default_cluster: dns\n",
        cluster("dns", "https://nonexistent.invalid", ""),
        cluster("refused", "http://127.0.0.1:9", ""),
        cluster("untrusted", &untrusted.url(), ""),
        cluster("plain", &format!("https://127.0.0.1:{plain_port}"), ""),
        cluster("prefix", &format!("{}/gateway", plain.url()), ""),
        cluster("refusedtoken", &env.api.url(), "    api: ambient\n"),
        no_token("issuer", &env.api.url(), &oidc(&missing_issuer)),
        no_token("nologin", &env.api.url(), &oidc(&idp.issuer())),
    ));
    store_login(env.dir.path(), "issuer", &missing_issuer, json!({}));
    env.api.revoke_token(TOKEN);
    let out = check(env.dir.path(), &["--online"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{text}");
    for (name, said) in [
        ("dns", "/health: Cannot resolve the gateway's host name in https://nonexistent.invalid"),
        ("refused", "/health: Cannot connect to the gateway at http://127.0.0.1:9 (connection refused)"),
        ("untrusted", "/health: TLS connection to https://127.0.0.1:"),
        ("plain", "/health: Cannot connect to the gateway at https://127.0.0.1:"),
        ("prefix", "/health: the server answered 404 for http://127.0.0.1:"),
        ("refusedtoken", "authenticated read: The ambient API server rejected the token (401"),
        ("issuer", "oidc.issuer: the identity provider has no discovery document at "),
        ("nologin", "no login stored at "),
    ] {
        let found = problems(&text, name);
        assert_eq!(found.len(), 1, "{name}: one problem, not {found:?}:\n{text}");
        assert!(found[0].contains(said), "{name}: expected {said:?} in {:?}", found[0]);
    }
    let line = |name: &str| problems(&text, name)[0].to_string();
    assert!(line("untrusted").contains("invalid peer certificate"), "{}", line("untrusted"));
    assert!(line("plain").contains("speaks plain HTTP (not TLS) on that port: use http://"), "{}", line("plain"));
    assert!(line("prefix").contains("path prefix"), "{}", line("prefix"));
    assert!(line("refusedtoken").contains("taken from the cluster's `token` in clusters.yaml"), "{}", text);
    assert!(line("issuer").contains("check `oidc.issuer`"), "{}", line("issuer"));
    for name in ["dns", "refused", "untrusted", "plain", "prefix"] {
        assert!(text.contains("authenticated read skipped: /health failed"), "{name}:\n{text}");
    }
    assert!(text.contains("online: OIDC discovery failed; authenticated read skipped: no token without"), "{text}");
    assert!(text.contains("online: OIDC discovery ok; authenticated read skipped: no token to read with"), "{text}");
    assert!(!text.contains("Authentication failed"), "{text}");
    assert_no_token_leak(&text);
}

/// A server that accepts connections and never answers; how many it accepted.
fn silent() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut open = vec![];
        for tcp in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            open.push(tcp);
        }
    });
    (url, count)
}

#[test]
fn one_timeout_bounds_each_clusters_probe_discovery_and_read() {
    let env = AmbientEnv::new();
    let (idp, idp_connections) = silent();
    let issuer = format!("{idp}/realms/acp");
    let gw = FakeGateway::start();
    gw.fault_on(RouteMatch::path("/health"), Fault::Hang, Times::Always);
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    default_project: team-a\n    timeout_seconds: 1\n{}  \
         dev:\n    server: \"{}\"\n    default_project: team-a\n    timeout_seconds: 1\n{}default_cluster: amb\n",
        env.api.url(),
        oidc(&issuer),
        gw.url(),
        oidc(&issuer)
    ));
    store_login(env.dir.path(), "amb", &issuer, json!({}));
    store_login(env.dir.path(), "dev", &issuer, json!({}));
    let started = std::time::Instant::now();
    let out = check(env.dir.path(), &["--online"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{text}");
    assert_eq!(out.status.code(), Some(2), "{text}");
    // amb: discovery waits out the second; the renewal it would need is not tried after it.
    assert!(
        text.contains(
            "online: OIDC discovery failed; authenticated read skipped: the cluster's timeout_seconds (1 s) ran out"
        ),
        "{text}"
    );
    // dev: /health waits out the second; nothing else is sent for it.
    assert!(text.contains("online: /health failed; OIDC discovery skipped: the cluster's timeout_seconds (1 s) ran out; authenticated read skipped: /health failed"), "{text}");
    assert_eq!(idp_connections.load(Ordering::SeqCst), 1, "{text}");
    assert_eq!(gw.request_count(), 1, "{text}");
    assert_eq!((problems(&text, "amb").len(), problems(&text, "dev").len()), (1, 1), "{text}");
    assert!(env.api.requests().is_empty(), "{text}");
}
