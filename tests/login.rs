//! acp_login and acp_whoami end to end: a token is checked with a real authenticated read
//! before it is kept (in memory, for that cluster only), a refused one is not kept, the token
//! is never shown, and whoami reads a JWT's user and expiry without contacting the server.

mod common;

use common::*;
use serde_json::json;

/// Tokens the fakes accept after the test says so (≥ 10 bearer characters).
const NEW: &str = "new-login-token-7Hq2ZpX";
const WRONG: &str = "wrong-login-token-9Lm4";
/// A JWT: {"sub":"f3a1","preferred_username":"ada","iss":"https://sso.example.com/realms/acp","exp":1900000000}.
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiAiZjNhMSIsICJwcmVmZXJyZWRfdXNlcm5hbWUiOiAiYWRhIiwgImlzcyI6ICJodHRwczovL3Nzby5leGFtcGxlLmNvbS9yZWFsbXMvYWNwIiwgImV4cCI6IDE5MDAwMDAwMDB9.c2lnbmF0dXJl";
/// A JWT of user bob that expired in 2020.
const EXPIRED_JWT: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiAiZjNhMSIsICJ1c2VybmFtZSI6ICJib2IiLCAiZXhwIjogMTYwMDAwMDAwMH0.c2lnbmF0dXJl";

fn no_secret_in(s: &Server, token: &str) {
    let (out, err) = (s.all_stdout(), s.stderr());
    assert!(!out.contains(token) && !err.contains(token), "the token was shown");
    assert!(!out.contains(&token[..12]) && !err.contains(&token[..12]), "a piece of the token was shown");
}

#[test]
fn a_token_the_server_accepts_is_checked_then_kept_and_used() {
    let env = AmbientEnv::new();
    env.api.revoke_token(TOKEN);
    env.api.accept_token(NEW);
    let mut s = env.spawn();
    let before = s.call_tool("acp_list_sessions", json!({}));
    assert!(before.is_error && before.text.contains("401"), "{}", before.text);
    env.api.clear_requests();
    let r = s.call_tool("acp_login", json!({"cluster": "amb", "token": NEW}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Authentication successful\n\nCluster: amb (ambient)"), "{}", r.text);
    assert!(r.text.contains("Checked: 2 project(s) visible") && r.text.contains("kept in memory"), "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["kept"], json!(true));
    // The check was one authenticated read, with the new token.
    let requests = env.api.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].path.starts_with("/api/ambient/v1/projects?"), "{}", requests[0].path);
    assert_eq!(requests[0].header("authorization"), Some(format!("Bearer {NEW}").as_str()));
    let after = s.call_tool("acp_list_sessions", json!({}));
    assert!(!after.is_error, "{}", after.text);
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("login"), "{}", who.text);
    assert!(who.text.contains("from the token given to acp_login (kept in memory only)"), "{}", who.text);
    no_secret_in(&s, NEW);
    finish(s);
    assert!(!std::fs::read_to_string(env.dir.path().join("clusters.yaml")).unwrap().contains(NEW));
}

#[test]
fn a_refused_token_is_not_kept_and_the_old_one_stays() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r = s.call_tool("acp_login", json!({"cluster": "amb", "token": WRONG}));
    assert!(r.is_error);
    assert!(r.text.starts_with("Authentication failed for cluster 'amb': "), "{}", r.text);
    assert!(r.text.contains("401") && r.text.ends_with("The token was not kept."), "{}", r.text);
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["token_source"], json!("config"));
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    no_secret_in(&s, WRONG);
    finish(s);
}

#[test]
fn bad_tokens_and_unknown_clusters_are_refused_before_any_request() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    for (args, expected) in [
        (json!({"cluster": "amb", "token": "has space-in-it-xyz"}), "Invalid argument: token: token contains spaces"),
        (json!({"cluster": "amb", "token": "short"}), "Invalid argument: token: token is only 5 characters"),
        (json!({"cluster": "amb", "token": ""}), "Invalid argument: token must not be empty"),
        (
            json!({"cluster": "nope", "token": NEW}),
            "Invalid argument: cluster \"nope\" is not configured. Configured clusters: amb",
        ),
        (json!({"token": NEW}), "Invalid argument: cluster is required"),
    ] {
        let r = s.call_tool("acp_login", args);
        assert!(r.is_error && r.text.starts_with(expected), "{expected}: {}", r.text);
        assert!(!r.text.contains("has space") && !r.text.contains(NEW), "the value was echoed: {}", r.text);
    }
    assert!(env.methods().is_empty(), "{:?}", env.methods());
    no_secret_in(&s, NEW);
    finish(s);
}

#[test]
fn without_a_token_it_checks_the_configured_one_on_the_gateway() {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_login", json!({"cluster": "dev"}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.contains("Checked: 1 session(s) in project 'team-a'"), "{}", r.text);
    assert!(r.text.contains("The cluster's configured token works."), "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["kept"], json!(false));
    let paths: Vec<String> = env.gateway.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(paths, ["GET /v1/sessions"]);
    finish(s);
}

#[test]
fn whoami_reads_the_user_and_expiry_from_a_jwt_without_showing_it() {
    let env = AmbientEnv::new();
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    token: \"{JWT}\"\n    default_project: team-a\n  old:\n    api: ambient\n    server: \"{}\"\n    token: \"{EXPIRED_JWT}\"\n    default_project: team-a\ndefault_cluster: amb\n",
        env.api.url(),
        env.api.url()
    ));
    let mut s = env.spawn();
    let who = s.call_tool("acp_whoami", json!({}));
    let me = &who.raw["structuredContent"];
    assert_eq!((&me["user"], &me["expires_at"], &me["expired"]), (&json!("ada"), &json!(1_900_000_000), &json!(false)));
    assert_eq!(me["issuer"], json!("https://sso.example.com/realms/acp"));
    assert!(who.text.contains("User (from the token): ada\n"), "{}", who.text);
    assert!(who.text.contains("Expires: 2030-03-17T17:46:40Z"), "{}", who.text);
    s.call_tool("acp_switch_cluster", json!({"cluster": "old"}));
    let who = s.call_tool("acp_whoami", json!({}));
    assert_eq!(who.raw["structuredContent"]["user"], json!("bob"));
    assert!(who.text.contains("Expired: 2020-09-13T12:26:40Z; get a new token"), "{}", who.text);
    assert!(env.methods().is_empty(), "whoami contacts no server: {:?}", env.methods());
    no_secret_in(&s, JWT);
    no_secret_in(&s, EXPIRED_JWT);
    finish(s);
}
