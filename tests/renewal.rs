//! A stored login's token refused with 401 (issue 18, item 7): a read renews it once and is
//! sent once more; a change is never sent twice, and says so.

mod common;

use common::*;
use serde_json::json;
use std::process::Stdio;

const ROOT: &str = "/api/ambient/v1/sessions";
const REFUSED: &str = r#"{"kind":"Error","id":"401","code":"rh-trex-401","reason":"token expired"}"#;

fn logged_in() -> (AmbientEnv, FakeIdp, Server) {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    idp.on_issue(env.api.token_acceptor());
    env.write_oidc(&idp.issuer());
    let out = env.command().args(["login", "amb"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s = env.spawn();
    (env, idp, s)
}

fn count(env: &AmbientEnv, prefix: &str) -> usize {
    env.methods().iter().filter(|m| m.starts_with(prefix)).count()
}

#[test]
fn a_read_refused_with_401_is_renewed_once_and_sent_once_more() {
    let (env, idp, mut s) = logged_in();
    env.session("team-a", "work");
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    assert_eq!(idp.grants("refresh_token").len(), 0);
    env.api.clear_requests();
    env.api.fault_on(RouteMatch::new("GET", ROOT), Fault::Status(401, REFUSED.into()), Times::Once);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Found 1 session(s)"), "{}", r.text);
    assert_eq!(idp.grants("refresh_token").len(), 1, "renewed once");
    assert_eq!(count(&env, &format!("GET {ROOT}?")), 2, "{:?}", env.methods());
    // Refused again after the renewal: said, and not tried a third time.
    env.api.clear_requests();
    env.api.fault_on(RouteMatch::new("GET", ROOT), Fault::Status(401, REFUSED.into()), Times::N(2));
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.contains("renewed from the stored login and the read sent once more"), "{}", r.text);
    assert_eq!(count(&env, &format!("GET {ROOT}?")), 2, "{:?}", env.methods());
    assert_eq!(idp.grants("refresh_token").len(), 2);
    finish(s);
}

#[test]
fn a_change_refused_with_401_is_sent_once_only() {
    let (env, idp, mut s) = logged_in();
    let id = env.session("team-a", "work");
    env.api.set_phase(&id, "Running");
    let stop = format!("{ROOT}/{id}/stop");
    env.api.fault_on(RouteMatch::new("POST", &stop), Fault::Status(401, REFUSED.into()), Times::Once);
    let r = s.call_tool("acp_stop_session", json!({"session": id}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("Nothing more was sent: a change is never sent twice"), "{}", r.text);
    assert_eq!(count(&env, &format!("POST {stop}")), 1, "{:?}", env.methods());
    assert_eq!(idp.grants("refresh_token").len(), 0, "not renewed for a change");
    assert_eq!(env.api.session(&id).unwrap()["phase"], json!("Running"));
    // The next call renews the dropped token and goes through.
    let r = s.call_tool("acp_stop_session", json!({"session": id}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(idp.grants("refresh_token").len(), 1);
    finish(s);
}
