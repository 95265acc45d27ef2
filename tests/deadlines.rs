//! One time limit per tool call (issue 18, item 4): `timeout_seconds` bounds everything a call
//! sends (pages, reads first, retries, redirects, every session of a bulk call), and a
//! `notifications/cancelled` for the call stops it between two requests.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ROOT: &str = "/api/ambient/v1/sessions";

fn slow(after_ms: u64, fault: Fault) -> Fault {
    Fault::Delay(Duration::from_millis(after_ms), Box::new(fault))
}

/// An ambient cluster with `timeout_seconds: secs`.
fn ambient_with_timeout(secs: u64) -> AmbientEnv {
    let env = AmbientEnv::new();
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    timeout_seconds: {secs}\ndefault_cluster: amb\n",
        env.api.url()
    ));
    env
}

/// Ten pages of 100 new sessions each (the fake's own records), each answered after `ms`.
fn slow_pages(env: &AmbientEnv, ms: u64) {
    for _ in 0..10 {
        let items: Vec<Value> =
            (0..100).map(|i| env.api.session(&env.session("team-a", &format!("t{i}"))).unwrap()).collect();
        let body = json!({"kind": "SessionList", "page": 1, "size": 100, "total": 1000, "items": items}).to_string();
        env.api.fault_on(RouteMatch::new("GET", ROOT), slow(ms, Fault::Status(200, body)), Times::Once);
    }
}

fn pages_read(env: &AmbientEnv) -> usize {
    env.methods().iter().filter(|m| m.starts_with(&format!("GET {ROOT}?"))).count()
}

#[test]
fn slow_pages_share_one_deadline() {
    let env = ambient_with_timeout(1);
    slow_pages(&env, 400);
    let mut s = env.spawn();
    let started = Instant::now();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.contains("did not answer within 1 s"), "{:.300}", r.text);
    assert!(pages_read(&env) <= 3, "{} pages", pages_read(&env));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    finish(s);
}

/// Three running sessions whose read-first each answers after `ms`.
fn running_slow_to_read(env: &AmbientEnv, ms: u64) -> Vec<String> {
    let ids: Vec<String> = (0..3).map(|i| env.session("team-a", &format!("t{i}"))).collect();
    for id in &ids {
        env.api.set_phase(id, "Running");
        let body = env.api.session(id).unwrap().to_string();
        env.api.fault_on(
            RouteMatch::new("GET", &format!("{ROOT}/{id}")),
            slow(ms, Fault::Status(200, body)),
            Times::Once,
        );
    }
    ids
}

#[test]
fn every_session_of_a_bulk_call_draws_on_the_same_deadline() {
    let env = ambient_with_timeout(1);
    let ids = running_slow_to_read(&env, 450);
    let mut s = env.spawn();
    let r = s.call_tool("acp_bulk_stop_sessions", json!({"sessions": ids, "confirm": true}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("did not answer within 1 s"), "{}", r.text);
    let stops = env.methods().iter().filter(|m| m.ends_with("/stop")).count();
    assert!(stops < 3, "{stops} stops sent: {:?}", env.methods());
    finish(s);
}

#[test]
fn retries_and_redirects_on_the_gateway_end_at_the_deadline() {
    let env = TestEnv::new();
    env.write_config(&format!(
        "clusters:\n  dev:\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    timeout_seconds: 1\ndefault_cluster: dev\n",
        env.gateway.url()
    ));
    let mut s = env.spawn();
    s.initialize();
    let list = RouteMatch::new("GET", "/v1/sessions");
    for fault in [
        slow(400, Fault::Status(500, r#"{"error":"boom"}"#.into())),
        slow(400, Fault::Redirect(302, "/v1/sessions".into())),
    ] {
        env.gateway.clear_faults();
        env.gateway.clear_requests();
        env.gateway.fault_on(list.clone(), fault.clone(), Times::Always);
        let started = Instant::now();
        let r = s.call_tool("acp_list_sessions", json!({}));
        assert!(r.is_error && r.text.contains("did not answer within 1 s"), "{fault:?}: {}", r.text);
        assert!(env.gateway.request_count() <= 3, "{fault:?}: {} requests", env.gateway.request_count());
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }
    finish(s);
}

/// Send `tools/call` with id `id`, then cancel it after `after`; the answer.
fn cancelled_call(s: &mut Server, id: &str, tool: &str, args: Value, after: Duration) -> Value {
    let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": args}});
    s.send_json(&call);
    std::thread::sleep(after);
    s.notify("notifications/cancelled", Some(json!({"requestId": id, "reason": "user"})));
    loop {
        let msg = s.recv();
        if msg["id"] == json!(id) {
            return msg;
        }
    }
}

fn text_of(answer: &Value) -> String {
    answer["result"]["content"][0]["text"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_cancelled_list_reads_no_more_pages() {
    let env = AmbientEnv::new();
    slow_pages(&env, 400);
    let mut s = env.spawn();
    let answer = cancelled_call(&mut s, "list-1", "acp_list_sessions", json!({}), Duration::from_millis(600));
    let text = text_of(&answer);
    assert_eq!(answer["result"]["isError"], json!(true), "{answer}");
    assert!(text.contains("The client cancelled this call, so nothing more was sent."), "{text}");
    assert!(pages_read(&env) <= 3, "{} pages", pages_read(&env));
    // The next call is served as usual.
    env.api.clear_faults();
    assert!(!s.call_tool("acp_list_sessions", json!({"limit": 1})).is_error);
    finish(s);
}

#[test]
fn a_cancelled_bulk_call_stops_between_sessions() {
    let env = AmbientEnv::new();
    let ids = running_slow_to_read(&env, 500);
    let mut s = env.spawn();
    let args = json!({"sessions": ids, "confirm": true});
    let answer = cancelled_call(&mut s, "bulk-1", "acp_bulk_stop_sessions", args, Duration::from_millis(250));
    let text = text_of(&answer);
    assert!(text.contains("Cancelled by the client: nothing was sent for"), "{text}");
    assert!(text.contains(&ids[2]), "{text}");
    let stops = env.methods().iter().filter(|m| m.ends_with("/stop")).count();
    assert!(stops <= 1, "{stops} stops: {:?}", env.methods());
    assert_eq!(env.api.session(&ids[2]).unwrap()["phase"], json!("Running"));
    finish(s);
}

/// `acp_wait_session` keeps its own timeout: a poll that hangs gets what is left of the wait,
/// not the cluster's `timeout_seconds` afresh, and the wait ends when its time is up.
#[test]
fn a_hanging_poll_of_a_wait_gets_only_what_is_left_of_the_wait() {
    let env = ambient_with_timeout(30);
    let id = env.session("team-a", "w");
    env.api.set_phase(&id, "Running");
    let body = env.api.session(&id).unwrap().to_string();
    // The first poll answers, the second hangs far past the wait's 3 s.
    let route = || RouteMatch::new("GET", &format!("{ROOT}/{id}"));
    env.api.fault_on(route(), Fault::Status(200, body), Times::Once);
    env.api.fault_on(route(), slow(25_000, Fault::Status(500, String::new())), Times::Always);
    let mut s = env.spawn();
    let started = Instant::now();
    let r = s.call_tool("acp_wait_session", json!({"session": id, "phases": ["completed"], "timeout_seconds": 3}));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(12), "the wait took {took:?}: a poll got a deadline of its own");
    assert!(!r.is_error && r.text.starts_with("Timed out after "), "{}", r.text);
    assert!(r.text.contains(&format!("session '{id}' is still running")), "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("timed_out"));
    let polls = env.methods().iter().filter(|m| **m == format!("GET {ROOT}/{id}")).count();
    assert!((1..=3).contains(&polls), "{polls} polls");
    finish(s);
}
