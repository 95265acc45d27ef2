//! acp_wait_session end to end: it polls until the phase is reached, gives up at its timeout,
//! sends progress when asked, stops at once when the client cancels, serves what arrived
//! meanwhile afterwards, and keeps the project boundary.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const OTHER: &str = common::ambient_env::OTHER;

fn in_phase(env: &AmbientEnv, phase: &str) -> String {
    let id = env.session("team-a", "work");
    env.api.set_phase(&id, phase);
    id
}

#[test]
fn it_returns_when_the_session_reaches_the_phase() {
    let env = AmbientEnv::new();
    let id = in_phase(&env, "Running");
    let mut s = env.spawn();
    let r = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(1500));
            env.api.set_phase(&id, "Completed");
        });
        s.call_tool(
            "acp_wait_session",
            json!({"session": id, "phases": ["COMPLETED", "failed"], "timeout_seconds": 20}),
        )
    });
    assert!(!r.is_error, "{}", r.text);
    let w = &r.raw["structuredContent"];
    assert_eq!((&w["outcome"], &w["phase"]), (&json!("reached"), &json!("completed")));
    assert_eq!(w["phases_seen"], json!(["running", "completed"]));
    // Polls at 0, 1 and 3 s (backoff): three reads, and nothing else.
    assert_eq!(w["polls"], json!(3), "{w}");
    assert!(r.text.starts_with(&format!("Session '{id}' is completed (after ")), "{}", r.text);
    assert!(env.methods().iter().all(|m| m == &format!("GET /api/ambient/v1/sessions/{id}")), "{:?}", env.methods());
    finish(s);
}

#[test]
fn by_default_leaving_running_ends_the_wait_and_a_final_phase_at_once() {
    let env = AmbientEnv::new();
    let done = in_phase(&env, "Failed");
    let mut s = env.spawn();
    let r = s.call_tool("acp_wait_session", json!({"session": done}));
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("reached"), "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["polls"], json!(1));
    let running = in_phase(&env, "Running");
    let r = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(500));
            env.api.set_phase(&running, "Stopping");
        });
        s.call_tool("acp_wait_session", json!({"session": running, "timeout_seconds": 10}))
    });
    assert_eq!(r.raw["structuredContent"]["phase"], json!("stopping"), "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("reached"));
    finish(s);
}

#[test]
fn it_times_out_with_the_phase_it_saw_and_how_to_go_on() {
    let env = AmbientEnv::new();
    let id = in_phase(&env, "Pending");
    let mut s = env.spawn();
    let started = Instant::now();
    let r = s.call_tool("acp_wait_session", json!({"session": id, "phases": ["running"], "timeout_seconds": 2}));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!r.is_error, "a timeout is an answer: {}", r.text);
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("timed_out"));
    assert!(r.text.starts_with("Timed out after 2 s: session"), "{}", r.text);
    assert!(r.text.contains("is still pending (waiting for running") && r.text.contains("again"), "{}", r.text);
    finish(s);
}

/// A cancellation ends the wait at once; a ping sent meanwhile is answered after it.
#[test]
fn a_cancellation_ends_the_wait_and_what_came_meanwhile_is_served_after() {
    let env = AmbientEnv::new();
    let id = in_phase(&env, "Running");
    let mut s = env.spawn();
    let call = json!({"jsonrpc": "2.0", "id": 70, "method": "tools/call", "params": {
        "name": "acp_wait_session", "arguments": {"session": id, "phases": ["completed"], "timeout_seconds": 300},
        "_meta": {"progressToken": "w1"}}});
    s.send_json(&call);
    // The first progress notification says the wait is under way.
    let progress = s.recv();
    assert_eq!(progress["method"], json!("notifications/progress"), "{progress}");
    assert_eq!((&progress["params"]["progressToken"], &progress["params"]["total"]), (&json!("w1"), &json!(300)));
    assert!(progress["params"]["message"].as_str().unwrap().contains("is running"), "{progress}");
    s.send_json(&json!({"jsonrpc": "2.0", "id": 71, "method": "ping"}));
    let started = Instant::now();
    s.send_json(&json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 70}}));
    let mut answers: Vec<Value> = vec![];
    while answers.len() < 2 {
        let m = s.recv();
        if m.get("id").is_some() {
            answers.push(m);
        }
    }
    assert!(started.elapsed() < Duration::from_secs(5), "the cancellation was not seen at once");
    assert_eq!(answers[0]["id"], json!(70));
    assert_eq!(answers[0]["result"]["structuredContent"]["outcome"], json!("cancelled"), "{}", answers[0]);
    assert_eq!((&answers[1]["id"], &answers[1]["result"]), (&json!(71), &json!({})));
    finish(s);
}

#[test]
fn a_session_of_another_project_is_not_found_and_bad_arguments_send_nothing() {
    let env = AmbientEnv::new();
    let theirs = env.session(OTHER, "theirs");
    let mut s = env.spawn();
    let r = s.call_tool("acp_wait_session", json!({"session": theirs, "timeout_seconds": 5}));
    assert!(r.is_error);
    assert_eq!(r.text, format!("Session '{theirs}' not found in project 'team-a' (cluster 'amb')."));
    env.api.clear_requests();
    for (args, rule) in [
        (json!({"session": theirs, "timeout_seconds": 601}), "timeout_seconds must be a whole number from 1 to 600"),
        (json!({"session": theirs, "phases": ["done"]}), "phases[0] \"done\" is not one of: pending, creating"),
        (json!({"session": theirs, "phases": []}), "phases must list at least one of"),
        (json!({"session": theirs, "phases": ["running", "Running"]}), "phases names \"Running\" more than once"),
    ] {
        let r = s.call_tool("acp_wait_session", args);
        assert!(r.is_error && r.text.contains(rule), "{rule}: {}", r.text);
    }
    assert!(env.methods().is_empty(), "{:?}", env.methods());
    finish(s);
}

#[test]
fn on_the_gateway_creating_is_reached_when_it_says_pending() {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.add_session("team-a", "s1", "Pending", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_wait_session", json!({"session": "s1", "phases": ["creating"], "timeout_seconds": 5}));
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("reached"), "{}", r.text);
    finish(s);
}
