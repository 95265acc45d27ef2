//! Keep-alive connections that a router in front of the gateway dropped while idle, without
//! `Connection: close` or a FIN: the next request sent on one is answered with a TCP RST.
//! Reads and deletes are sent once more on a new connection; a create never goes out on an
//! idle connection, and is never sent twice.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

const IDLE_CLOSE: Duration = Duration::from_millis(50);
const CALLS: usize = 30;
const RETRY_LOG: &str = "retrying once on a new connection";

fn config(server: &str, timeout_seconds: u32) -> String {
    format!(
        "clusters:\n  dev:\n    server: \"{server}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    timeout_seconds: {timeout_seconds}\ndefault_cluster: dev\n\
         max_mutations_per_minute: 1000\n"
    )
}

/// Gateway with session `s1` (dropping connections idle for `idle_close`, if given), server
/// started and initialized, one list made (so a keep-alive connection is pooled).
fn ready_with(timeout_seconds: u32, idle_close: Option<Duration>) -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_config(&config(&env.gateway.url(), timeout_seconds));
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    if let Some(after) = idle_close {
        env.gateway.set_idle_close(after);
    }
    let mut s = env.spawn();
    s.initialize();
    let warm = list(&mut s);
    assert!(!warm.is_error, "{}", warm.text);
    (env, s)
}

fn ready() -> (TestEnv, Server) {
    ready_with(30, Some(IDLE_CLOSE))
}

fn list(s: &mut Server) -> ToolResult {
    s.call_tool("acp_list_sessions", json!({}))
}

/// Longer than the idle timeout, varied: 60, 70 or 80 ms.
fn idle_gap(i: usize) {
    std::thread::sleep(IDLE_CLOSE + Duration::from_millis(10 + 10 * (i % 3) as u64));
}

/// Close, expect exit 0 and no token in the output; returns how many stale-connection
/// retries the server logged.
fn finish(s: Server) -> usize {
    let f = s.close();
    assert_eq!(f.status.code(), Some(0), "{}", f.stderr);
    assert_no_token_leak(&f.stdout);
    assert_no_token_leak(&f.stderr);
    f.stderr.lines().filter(|l| l.contains(RETRY_LOG)).count()
}

fn count(env: &TestEnv, method: &str) -> usize {
    env.gateway.requests().iter().filter(|r| r.method == method).count()
}

/// Runs `CALLS` calls of `tool` with an idle gap before each; returns the texts of failures.
fn calls_after_idle_gaps(s: &mut Server, tool: &str, args: impl Fn(usize) -> serde_json::Value) -> Vec<String> {
    let mut failures = Vec::new();
    for i in 0..CALLS {
        idle_gap(i);
        let r = s.call_tool(tool, args(i));
        if r.is_error {
            failures.push(r.text);
        }
    }
    failures
}

#[test]
fn lists_on_connections_dropped_while_idle_all_succeed() {
    let (env, mut s) = ready();
    let conns_before = env.gateway.connection_count();
    let failures = calls_after_idle_gaps(&mut s, "acp_list_sessions", |_| json!({}));
    let new_conns = env.gateway.connection_count() - conns_before;
    let retries = finish(s);
    eprintln!("list: {CALLS} calls, {} failed, {retries} retries, {new_conns} new connections", failures.len());
    assert!(failures.is_empty(), "{} of {CALLS} failed; first: {}", failures.len(), failures[0]);
    assert_eq!(count(&env, "GET"), 1 + CALLS, "a dropped request never reaches the gateway");
    assert!(retries > CALLS / 2, "{retries} dropped connections: too few to prove anything");
    assert_eq!(new_conns, retries as u64, "each retry, and nothing else, on a new connection");
}

#[test]
fn gets_on_connections_dropped_while_idle_all_succeed() {
    let (env, mut s) = ready();
    let failures = calls_after_idle_gaps(&mut s, "acp_get_session", |_| json!({"session": "s1"}));
    let retries = finish(s);
    eprintln!("get: {CALLS} calls, {} failed, {retries} retries", failures.len());
    assert!(failures.is_empty(), "{} of {CALLS} failed; first: {}", failures.len(), failures[0]);
    assert!(retries > CALLS / 2, "{retries} dropped connections: too few to prove anything");
    assert_eq!(count(&env, "GET"), 1 + CALLS);
}

#[test]
fn deletes_on_connections_dropped_while_idle_all_succeed() {
    let (env, mut s) = ready();
    for i in 0..CALLS {
        env.gateway.add_session("team-a", &format!("d-{i:02}"), "Running", "2026-01-01T00:00:00Z");
    }
    let failures = calls_after_idle_gaps(&mut s, "acp_delete_session", |i| json!({"session": format!("d-{i:02}")}));
    let retries = finish(s);
    eprintln!("delete: {CALLS} calls, {} failed, {retries} retries", failures.len());
    assert!(failures.is_empty(), "{} of {CALLS} failed; first: {}", failures.len(), failures[0]);
    assert_eq!(env.gateway.session_ids("team-a"), ["s1"], "every d-NN deleted");
    assert_eq!(count(&env, "DELETE"), CALLS, "one DELETE each reached the gateway");
    assert!(retries > CALLS / 2, "{retries} dropped connections: too few to prove anything");
}

/// The same over HTTPS, where the reset surfaces through the TLS layer.
#[test]
fn lists_over_https_on_connections_dropped_while_idle_all_succeed() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let ca = common::tls::Ca::new("Private CA");
    let cert = ca.issue(&["127.0.0.1"]);
    let gw = FakeGateway::start_tls(&cert.chain_pem, &cert.key_pem);
    gw.accept_token(TOKEN);
    gw.add_project("team-a");
    gw.set_idle_close(IDLE_CLOSE);
    let ca_file = env.dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::set_permissions(&ca_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.write_config(&config(&gw.url(), 30).replace("default_cluster", "    ca_cert: \"ca.pem\"\ndefault_cluster"));
    let mut s = env.spawn();
    s.initialize();
    let failures: Vec<String> = (0..10)
        .map(|i| {
            idle_gap(i);
            list(&mut s)
        })
        .filter(|r| r.is_error)
        .map(|r| r.text)
        .collect();
    let retries = finish(s);
    assert!(failures.is_empty(), "{} of 10 failed; first: {}", failures.len(), failures[0]);
    assert_eq!(gw.request_count(), 10);
    assert!(retries > 5, "{retries} dropped connections: too few to prove anything");
}

/// A create after an idle gap goes out on a new connection, so it neither fails for the
/// dropped one nor is ever sent twice; one that fails on its own connection is not retried.
#[test]
fn a_create_never_goes_out_on_an_idle_connection_and_is_not_retried() {
    let (env, mut s) = ready();
    env.gateway.set_faithful_backend(true);
    idle_gap(0);
    let conns_before = env.gateway.connection_count();
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "do it"}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(count(&env, "POST"), 1, "exactly one create");
    assert!(env.gateway.connection_count() > conns_before, "the create went out on a new connection");

    env.gateway.push_fault(Fault::Reset);
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "again"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("closed the connection") && r.text.contains("may have been created"), "{}", r.text);
    assert_eq!(count(&env, "POST"), 2, "the failed create was sent once, not retried");
    assert_eq!(finish(s), 0, "no create is retried");
}

/// The first DELETE reached the gateway and deleted the session, but its answer was lost with
/// the connection; the retry then finds nothing. That is not reported as "not found".
#[test]
fn a_404_to_a_retried_delete_says_the_first_attempt_may_have_deleted_it() {
    let (env, mut s) = ready_with(30, None);
    env.gateway.push_fault(Fault::Reset);
    env.gateway.push_fault(Fault::Status(404, r#"{"error":"Session not found"}"#.into()));
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("Failed to delete session 's1': "), "{}", r.text);
    assert!(r.text.contains("first attempt") && r.text.contains("deleted"), "{}", r.text);
    assert!(!r.text.contains("Session 's1' not found"), "{}", r.text);
    assert_eq!(count(&env, "DELETE"), 2, "the first attempt and one retry");
    assert_eq!(finish(s), 1);
}

/// Once only: a reset on the retry's new connection is reported, and a timeout on a reused
/// connection is not retried at all (the gateway may be working on the request).
#[test]
fn a_read_is_retried_once_and_a_timeout_not_at_all() {
    let (env, mut s) = ready_with(1, None);
    env.gateway.push_fault(Fault::Reset);
    env.gateway.push_fault(Fault::Reset);
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("closed the connection") || r.text.contains("reset"), "{}", r.text);
    assert_eq!(count(&env, "GET"), 1 + 2, "the warm-up list, the first attempt and one retry");

    let warm = list(&mut s);
    assert!(!warm.is_error, "{}", warm.text);
    env.gateway.push_fault(Fault::Hang);
    let r = list(&mut s);
    assert!(r.is_error && r.text.contains("did not answer within 1 s"), "{}", r.text);
    assert_eq!(count(&env, "GET"), 3 + 2, "the timed-out list was sent once");
    assert_eq!(finish(s), 1);
}
