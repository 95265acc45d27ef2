//! Token checks before any request: an expired or not-yet-valid JWT is refused with nothing
//! sent, one about to expire is warned about once, and on the public-api a service-account
//! token for another namespace than the project is refused (the gateway would answer 400).

mod common;

use common::*;
use serde_json::{Value, json};

/// A JWT (unsigned: the platform verifies, we only read) with these claims.
fn jwt(claims: Value) -> String {
    let part = |v: &Value| mcp_acp::base64::encode_url(v.to_string().as_bytes());
    format!("{}.{}.c2lnbmF0dXJl", part(&json!({"alg": "RS256"})), part(&claims))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The gateway env whose `dev` cluster has `token` (which the gateway accepts), and `extra` at the top level.
fn gateway_with(token: &str, extra: &str) -> TestEnv {
    let env = TestEnv::new();
    env.gateway.accept_token(token);
    env.gateway.add_project("team-b");
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    env.write_config(&format!(
        "clusters:\n  dev:\n    server: \"{}\"\n    token: \"{token}\"\n    default_project: team-a\ndefault_cluster: dev\n{extra}",
        env.gateway.url()
    ));
    env
}

#[test]
fn an_expired_token_is_refused_before_any_request_and_audited_as_refused() {
    let token = jwt(json!({"sub": "u-1", "username": "bob", "exp": 1_600_000_000}));
    let env = gateway_with(&token, "audit_log: audit.jsonl\n");
    let mut s = env.spawn();
    s.initialize();
    let expected = "token for cluster dev expired at 2020-09-13T12:26:40Z; run `mcp-acp login dev` or replace it. \
                    Nothing was sent.";
    for (tool, args) in [
        ("acp_list_sessions", json!({})),
        ("acp_delete_session", json!({"session": "s1"})),
        ("acp_login", json!({"cluster": "dev"})),
    ] {
        let r = s.call_tool(tool, args);
        assert!(r.is_error && r.text == expected, "{tool}: {}", r.text);
    }
    assert_eq!(env.gateway.request_count(), 0, "nothing is sent with an expired token");
    // whoami reads the token without sending it, and says it expired.
    let who = s.call_tool("acp_whoami", json!({}));
    assert!(who.text.contains("Expired: 2020-09-13T12:26:40Z"), "{}", who.text);
    assert_eq!(who.raw["structuredContent"]["subject"], json!("u-1"));
    finish(s);
    let log = std::fs::read_to_string(env.dir.path().join("audit.jsonl")).unwrap();
    let records: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // Login changes only this process's state (annotated read-only): audited with audit_reads.
    assert_eq!(records.len(), 1, "the delete is audited: {log}");
    assert_eq!((&records[0]["outcome"], &records[0]["subject"]), (&json!("refused"), &json!("bob")));
    assert!(records[0]["reason"].as_str().unwrap().starts_with("token for cluster dev expired at"), "{log}");
    assert!(!log.contains(&token[20..30]), "no piece of the token in the audit log");
}

#[test]
fn a_token_not_yet_valid_is_refused_and_an_opaque_one_passes() {
    let token = jwt(json!({"sub": "u-1", "nbf": now() + 3600, "exp": now() + 7200}));
    let env = gateway_with(&token, "");
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.starts_with("token for cluster dev is not valid before "), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0);
    finish(s);
    // The opaque TOKEN of the default config is sent as it is.
    env.write_default_config();
    let mut s = env.spawn();
    s.initialize();
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    assert_eq!(env.gateway.request_count(), 1);
    finish(s);
}

#[test]
fn a_token_about_to_expire_is_warned_about_once() {
    let token = jwt(json!({"sub": "u-1", "exp": now() + 300}));
    let env = gateway_with(&token, "");
    let mut s = env.spawn();
    s.initialize();
    let first = s.call_tool("acp_list_sessions", json!({}));
    assert!(!first.is_error, "{}", first.text);
    assert!(
        first.text.contains("\n\nNote: the token for cluster 'dev' expires at ")
            && first.text.contains("replace it soon."),
        "{}",
        first.text
    );
    let second = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(!second.is_error && !second.text.contains("Note: the token"), "{}", second.text);
    assert_eq!(env.gateway.request_count(), 2, "a token about to expire is still used");
    let stderr = s.stderr();
    assert_eq!(stderr.matches("Note: the token for cluster 'dev' expires at").count(), 1, "{stderr}");
    finish(s);
}

#[test]
fn a_service_account_token_for_another_namespace_is_refused_on_the_gateway() {
    let token = jwt(json!({"sub": "system:serviceaccount:team-b:ci-bot", "kubernetes.io": {"namespace": "team-b"}}));
    let env = gateway_with(&token, "");
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error, "{}", r.text);
    assert!(
        r.text.starts_with(
            "the token for cluster dev is a service-account token of namespace \"team-b\", but the call is for \
             project \"team-a\""
        ),
        "{}",
        r.text
    );
    assert!(r.text.ends_with("Nothing was sent."), "{}", r.text);
    let r = s.call_tool("acp_delete_session", json!({"session": "s1", "project": "team-a"}));
    assert!(r.is_error && r.text.contains("namespace \"team-b\""), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0);
    // Its own namespace is fine.
    let r = s.call_tool("acp_list_sessions", json!({"project": "team-b"}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.gateway.request_count(), 1);
    finish(s);
}

#[test]
fn a_service_account_token_is_not_judged_by_namespace_on_ambient() {
    let env = AmbientEnv::new();
    let token = jwt(json!({"sub": "system:serviceaccount:team-b:ci-bot"}));
    env.api.accept_token(&token);
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    token: \"{token}\"\n    default_project: team-a\ndefault_cluster: amb\n",
        env.api.url()
    ));
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    finish(s);
}
