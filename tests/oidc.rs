//! OIDC login end to end, the real binary against a fake identity provider (tests/common/idp.rs)
//! and the fake ambient API: `mcp-acp login` (device code with pending / slow_down / denied /
//! expired, client credentials, browser + PKCE), the stored login the server renews its tokens
//! from (refresh-token rotation, written atomically at 0600), an identity provider that is down,
//! logout, token precedence, reusing acpctl's login, acp_login's device flow, and never a token
//! on stdout or stderr.

mod common;

use common::raw::get_url;
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

fn setup() -> (AmbientEnv, FakeIdp) {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    idp.on_issue(env.api.token_acceptor());
    env.write(&yaml(&env, &idp, ""));
    (env, idp)
}

/// One ambient cluster `amb` with `oidc:` and no token, plus `extra` lines in its entry.
fn yaml(env: &AmbientEnv, idp: &FakeIdp, extra: &str) -> String {
    format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    default_project: team-a\n    oidc:\n      issuer: \"{}\"\n      client_id: ocm-cli\n{extra}default_cluster: amb\n",
        env.api.url(),
        idp.issuer()
    )
}

fn store(env: &AmbientEnv) -> PathBuf {
    env.dir.path().join(".config/acp/tokens/amb.json")
}

fn stored(env: &AmbientEnv) -> Value {
    serde_json::from_str(&std::fs::read_to_string(store(env)).unwrap()).unwrap()
}

fn command(env: &AmbientEnv, extra_env: &[(&str, &str)]) -> std::process::Command {
    let mut cmd = bin_command();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("ACP_CLUSTER_CONFIG", env.dir.path().join("clusters.yaml"))
        .env("RUST_LOG", "trace")
        .current_dir(env.dir.path());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd
}

/// `mcp-acp <args>` to completion.
fn cli(env: &AmbientEnv, args: &[&str], extra_env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out: Output = command(env, extra_env).args(args).stdin(Stdio::null()).output().unwrap();
    assert!(out.stdout.is_empty(), "login writes nothing to stdout: {}", String::from_utf8_lossy(&out.stdout));
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The server, started with extra environment and initialized.
fn spawn(env: &AmbientEnv, extra_env: &[(&str, &str)]) -> Server {
    let mut cmd = command(env, extra_env);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut s = Server::start(cmd);
    s.initialize();
    s
}

/// No token the provider issued, nor a refresh token, nor a client secret, shows in `text`.
fn no_tokens_in(text: &str, idp: &FakeIdp, more: &[&str]) {
    for t in idp.issued_access() {
        let payload = t.split('.').nth(1).unwrap();
        assert!(!text.contains(&t) && !text.contains(payload), "an access token was shown:\n{text}");
    }
    for t in idp.issued_refresh().iter().map(String::as_str).chain(more.iter().copied()) {
        assert!(!text.contains(t) && !text.contains(&t[..t.len().min(12)]), "{t} was shown:\n{text}");
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn device_login_stores_the_refresh_token_privately_and_the_server_uses_it() {
    let (env, idp) = setup();
    idp.script_device(&["authorization_pending", "authorization_pending"]);
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("! First copy your one-time code: WDJB-MJH"), "{err}");
    assert!(err.contains(&format!("{}/device\n", idp.issuer())), "{err}");
    assert!(err.contains("/device?user_code=WDJB-MJH"), "{err}");
    assert!(err.contains("Logged in to cluster amb as ada."), "{err}");
    no_tokens_in(&err, &idp, &[]);
    assert_eq!(idp.grants("urn:ietf:params:oauth:grant-type:device_code").len(), 3);
    // Discovery first, then the device endpoint.
    let paths: Vec<String> = idp.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths[0].ends_with("/.well-known/openid-configuration") && paths[1].ends_with("/auth/device"), "{paths:?}");
    // Polls at the provider's interval (1 s).
    let polls = idp.grants("urn:ietf:params:oauth:grant-type:device_code");
    assert!(polls[1].at.duration_since(polls[0].at) >= Duration::from_millis(950));
    assert_eq!((mode(&store(&env)), mode(store(&env).parent().unwrap())), (0o600, 0o700));
    let saved = stored(&env);
    assert_eq!(saved["refresh_token"].as_str(), idp.issued_refresh().first().map(String::as_str));
    assert_eq!((saved["grant"].as_str(), saved["client_id"].as_str()), (Some("interactive"), Some("ocm-cli")));

    let mut s = spawn(&env, &[]);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("oidc"), "{}", who.text);
    assert_eq!(who.raw["structuredContent"]["user"], json!("ada"));
    assert!(idp.grants("refresh_token").is_empty(), "a fresh access token is used as it is");
    // The server renews this token itself: no "expires soon, log in again" note.
    assert!(!r.text.contains("expires at"), "{}", r.text);
    let f = s.close();
    no_tokens_in(&format!("{}{}", f.stdout, f.stderr), &idp, &[]);

    // The first call of a process is audited with the subject of the stored login's token.
    let audit = env.dir.path().join("audit.jsonl");
    let id = env.session("team-a", "x");
    let mut s = spawn(&env, &[("ACP_AUDIT_LOG", audit.to_str().unwrap())]);
    let r = s.call_tool("acp_delete_session", json!({"session": id, "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    let f = s.close();
    let record: Value = serde_json::from_str(std::fs::read_to_string(&audit).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!((&record["subject"], &record["dry_run"]), (&json!("ada"), &json!(true)), "{record}");
    no_tokens_in(&format!("{}{}", f.stdout, f.stderr), &idp, &[]);
}

#[test]
fn slow_down_adds_five_seconds_to_the_interval() {
    let (env, idp) = setup();
    idp.script_device(&["slow_down"]);
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let polls = idp.grants("urn:ietf:params:oauth:grant-type:device_code");
    assert_eq!(polls.len(), 2);
    let gap = polls[1].at.duration_since(polls[0].at);
    assert!(gap >= Duration::from_millis(5900), "polled again after {gap:?}");
}

#[test]
fn a_denied_or_expired_device_login_says_so_and_stores_nothing() {
    let (env, idp) = setup();
    idp.script_device(&["authorization_pending", "access_denied"]);
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("The login for cluster amb was denied at the identity provider."), "{err}");
    idp.script_device(&["expired_token"]);
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("The code for cluster amb expired before it was confirmed"), "{err}");
    // The provider says the code lives 2 s; we stop polling then, without being told.
    idp.set_device_timing(1, 2);
    idp.script_device(&["authorization_pending"; 20]);
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("expired before it was confirmed"), "{err}");
    assert!(!store(&env).exists());
}

#[test]
fn client_credentials_read_the_secret_from_a_private_file_or_the_environment_never_argv() {
    let (env, idp) = setup();
    const SECRET: &str = "robot-secret-Vt7Qm2Lp";
    idp.add_client("ocm-cli", SECRET);
    let file = env.dir.path().join("secret.txt");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, err) = cli(&env, &["login", "amb", "--client-secret", SECRET], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("never taken from the command line"), "{err}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let path = file.to_str().unwrap();
    let (code, err) = cli(&env, &["login", "amb", "--client-credentials", "--client-secret-file", path], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Refusing to use the stored login") && err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, err) = cli(&env, &["login", "amb", "--client-credentials", "--client-secret-file", path], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("Logged in to cluster amb as service-account-ocm-cli"), "{err}");
    no_tokens_in(&err, &idp, &[SECRET]);
    let saved = stored(&env);
    assert_eq!(saved["grant"], "client_credentials");
    assert!(!saved.to_string().contains(SECRET), "the secret itself is never stored");
    let (code, err) = cli(&env, &["login", "amb", "--client-credentials"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("give --client-secret-file PATH") && err.contains("ACP_OIDC_CLIENT_SECRET"), "{err}");
    let (code, err) = cli(&env, &["login", "amb", "--client-credentials"], &[("ACP_OIDC_CLIENT_SECRET", SECRET)]);
    assert_eq!(code, Some(0), "{err}");

    // The server asks again when the token is due, with the secret from the recorded file.
    idp.set_access_ttl(30);
    let (code, err) = cli(&env, &["login", "amb", "--client-credentials", "--client-secret-file", path], &[]);
    assert_eq!(code, Some(0), "{err}");
    let before = idp.grants("client_credentials").len();
    let mut s = spawn(&env, &[]);
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    assert_eq!(idp.grants("client_credentials").len(), before + 1, "renewed 60 s before exp");
    let f = s.close();
    no_tokens_in(&format!("{}{}", f.stdout, f.stderr), &idp, &[SECRET]);
}

#[test]
fn the_server_renews_before_exp_and_stores_each_rotated_refresh_token_atomically() {
    let (env, idp) = setup();
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let first = stored(&env)["refresh_token"].as_str().unwrap().to_string();
    // Tokens that expire within the minute we renew before: every call renews.
    idp.set_access_ttl(30);
    let mut saved = stored(&env);
    saved["expires_at"] = json!(1);
    std::fs::write(store(&env), saved.to_string()).unwrap();
    let inode = std::fs::metadata(store(&env)).unwrap().ino();
    let mut s = spawn(&env, &[]);
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    let second = stored(&env)["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second, "rotated");
    assert!(!idp.refresh_valid(&first) && idp.refresh_valid(&second));
    assert_ne!(std::fs::metadata(store(&env)).unwrap().ino(), inode, "replaced by a rename, not rewritten");
    assert_eq!(mode(&store(&env)), 0o600);
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    let third = stored(&env)["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, third);
    assert_eq!(idp.grants("refresh_token").len(), 2);
    let names = std::fs::read_dir(store(&env).parent().unwrap()).unwrap().map(|e| e.unwrap().file_name());
    let mut names: Vec<String> = names.map(|n| n.to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, [".amb.json.lock", "amb.json"], "no temporary file left behind; the renewal's lock stays");
    let f = s.close();
    no_tokens_in(&format!("{}{}", f.stdout, f.stderr), &idp, &[&first]);
}

#[test]
fn a_refresh_that_fails_or_an_idp_that_is_down_says_so_and_what_to_run() {
    let (env, idp) = setup();
    assert_eq!(cli(&env, &["login", "amb"], &[]).0, Some(0));
    idp.set_access_ttl(30);
    let mut saved = stored(&env);
    saved["expires_at"] = json!(1);
    std::fs::write(store(&env), saved.to_string()).unwrap();
    let mut s = spawn(&env, &[]);
    idp.fail_refresh(Some("invalid_grant"));
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    assert!(
        r.text.starts_with(
            "The stored login for cluster amb could not be renewed: the identity provider refused (400 invalid_grant"
        ),
        "{}",
        r.text
    );
    assert!(r.text.contains("Run `mcp-acp login amb` to log in again. Nothing was sent."), "{}", r.text);
    idp.fail_refresh(None);
    idp.set_down(true);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.text.contains("could not be renewed: the identity provider answered HTTP 503"), "{}", r.text);
    let who = s.call_tool("acp_whoami", json!({}));
    assert!(who.text.contains("Token: none. The stored login for cluster amb could not be renewed"), "{}", who.text);
    assert!(env.methods().is_empty(), "nothing reached the platform: {:?}", env.methods());
    finish(s);
    // login against a provider nobody answers at.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    env.write(&yaml(&env, &idp, "").replace(&idp.url(), &format!("http://{dead}")));
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("login to cluster amb failed: the identity provider at http://127.0.0.1:"), "{err}");
    assert!(err.contains("could not be reached (connection refused: nothing listens on that port)"), "{err}");
}

#[test]
fn logout_deletes_the_stored_login_and_clusters_without_oidc_say_how_to_add_it() {
    let (env, idp) = setup();
    assert_eq!(cli(&env, &["login", "amb"], &[]).0, Some(0));
    assert!(store(&env).exists());
    let (code, err) = cli(&env, &["logout", "amb"], &[]);
    assert_eq!(code, Some(0));
    assert!(err.contains("Logged out of cluster amb: deleted"), "{err}");
    assert!(!store(&env).exists());
    let (_, err) = cli(&env, &["logout", "amb"], &[]);
    assert!(err.contains("No stored login for cluster amb"), "{err}");
    env.write(&format!(
        "clusters:\n  plain:\n    api: ambient\n    server: \"{}\"\n    default_project: team-a\n",
        env.api.url()
    ));
    let (code, err) = cli(&env, &["login", "plain"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("cluster plain has no `oidc:` in clusters.yaml") && err.contains("client_id: ocm-cli"),
        "{err}"
    );
    let (code, err) = cli(&env, &["login", "nope"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("cluster \"nope\" is not in"), "{err}");
    let _ = idp;
}

#[test]
fn token_precedence_is_config_then_stored_login_then_acp_token() {
    let (env, idp) = setup();
    let mut s = spawn(&env, &[("ACP_TOKEN", TOKEN)]);
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("env"), "no stored login yet: {}", who.text);
    finish(s);
    let mut s = spawn(&env, &[]);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.text.contains("Or log in with `mcp-acp login amb`"), "{}", r.text);
    finish(s);
    assert_eq!(cli(&env, &["login", "amb"], &[]).0, Some(0));
    let mut s = spawn(&env, &[("ACP_TOKEN", TOKEN)]);
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("oidc"), "{}", who.text);
    assert!(who.text.contains("from the login stored by `mcp-acp login`"), "{}", who.text);
    finish(s);
    env.write(&yaml(&env, &idp, &format!("    token: \"{TOKEN}\"\n")));
    let mut s = spawn(&env, &[("ACP_TOKEN", TOKEN)]);
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("config"), "{}", who.text);
    finish(s);
}

#[test]
fn token_from_acpctl_reuses_and_refreshes_its_login_keeping_its_file() {
    let (env, idp) = setup();
    idp.add_refresh_token("acpctl-refresh-Hx82Nd0q", "ada");
    let dir = env.dir.path().join("ambient-cfg");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let file = dir.join("config.json");
    let expired = common::idp::jwt(&json!({"sub": "ada", "exp": 1_600_000_000}));
    let config = json!({"api_url": env.api.url(), "access_token": expired, "refresh_token": "acpctl-refresh-Hx82Nd0q",
                        "issuer_url": idp.issuer(), "client_id": "ocm-cli", "project": "team-a", "request_timeout": 60});
    std::fs::write(&file, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    default_project: team-a\n    token_from: acpctl\ndefault_cluster: amb\n",
        env.api.url()
    ));
    let mut s = spawn(&env, &[("AMBIENT_CONFIG", file.to_str().unwrap())]);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("acpctl"), "{}", who.text);
    let after: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        after["refresh_token"].as_str(),
        idp.issued_refresh().first().map(String::as_str),
        "rotated token written back"
    );
    assert_eq!(after["access_token"].as_str(), idp.issued_access().first().map(String::as_str));
    for key in ["api_url", "issuer_url", "client_id", "project", "request_timeout"] {
        assert_eq!(after[key], config[key], "{key} kept");
    }
    assert_eq!(mode(&file), 0o600);
    assert!(!idp.refresh_valid("acpctl-refresh-Hx82Nd0q"));
    let f = s.close();
    no_tokens_in(&format!("{}{}", f.stdout, f.stderr), &idp, &["acpctl-refresh-Hx82Nd0q"]);
    // `mcp-acp login` on such a cluster points at acpctl.
    let (code, err) = cli(&env, &["login", "amb"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("run `acpctl login` instead"), "{err}");
}

#[test]
fn acp_login_without_a_token_runs_the_device_flow_over_two_calls() {
    let (env, idp) = setup();
    idp.script_device(&["authorization_pending"]);
    let mut s = spawn(&env, &[]);
    let r = s.call_tool("acp_login", json!({"cluster": "amb"}));
    assert!(!r.is_error, "{}", r.text);
    let device = &r.raw["structuredContent"]["device"];
    assert!(device["user_code"].as_str().unwrap().starts_with("WDJB-MJH"), "{}", r.text);
    assert!(r.text.contains("then call acp_login with cluster \"amb\" again to finish"), "{}", r.text);
    assert!(r.text.contains(&format!("open {}/device", idp.issuer())), "{}", r.text);
    let r = s.call_tool("acp_login", json!({"cluster": "amb"}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Authentication successful"), "{}", r.text);
    assert!(store(&env).exists());
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("oidc"));
    // With a usable login, acp_login checks it, as before.
    let r = s.call_tool("acp_login", json!({"cluster": "amb"}));
    assert!(r.text.contains("The cluster's configured token works."), "{}", r.text);
    let f = s.close();
    no_tokens_in(&format!("{}{}", f.stdout, f.stderr), &idp, &[]);
}

/// The second acp_login of a device flow polls within its own call's deadline, not the first
/// call's: with `timeout_seconds: 1` and the user confirming a few seconds later, it logs in.
#[test]
fn acp_login_finishes_a_device_flow_within_its_own_calls_deadline() {
    let (env, idp) = setup();
    env.write(&yaml(&env, &idp, "    timeout_seconds: 1\n"));
    let mut s = spawn(&env, &[]);
    let r = s.call_tool("acp_login", json!({"cluster": "amb"}));
    assert!(!r.is_error && r.raw["structuredContent"]["device"]["user_code"].is_string(), "{}", r.text);
    assert!(idp.grants(common::idp::DEVICE_GRANT).is_empty(), "the first call only starts the flow");
    // The first call's deadline is long past when the user confirms and the second call comes.
    std::thread::sleep(Duration::from_millis(2500));
    idp.script_device(&[]);
    let r = s.call_tool("acp_login", json!({"cluster": "amb"}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Authentication successful"), "{}", r.text);
    assert!(!r.text.contains("time ran out"), "{}", r.text);
    assert_eq!(idp.grants(common::idp::DEVICE_GRANT).len(), 1, "one poll, answered with the tokens");
    assert!(store(&env).exists());
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("oidc"), "{}", who.text);
    let f = s.close();
    no_tokens_in(&format!("{}{}", f.stdout, f.stderr), &idp, &[]);
}

#[test]
fn browser_login_uses_pkce_s256_and_a_loopback_redirect() {
    let (env, idp) = setup();
    let mut child = command(&env, &[])
        .args(["login", "amb", "--browser"])
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the URL is printed").unwrap();
        if let Some(u) = line.trim().strip_prefix(&format!("{}/protocol/openid-connect/auth?", idp.issuer())) {
            break format!("{}/protocol/openid-connect/auth?{u}", idp.issuer());
        }
    };
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{url}"
    );
    // The scripted browser: the provider redirects it to the loopback address.
    let (status, location, _) = get_url(&url);
    assert_eq!(status, 302);
    let (status, _, _) = get_url(&location.unwrap());
    assert_eq!(status, 200);
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("Logged in to cluster amb as ada.")), "{rest:?}");
    assert_eq!(idp.grants("authorization_code").len(), 1);
    assert!(store(&env).exists());
    no_tokens_in(&rest.join("\n"), &idp, &[]);
}
