//! Lists whatever a server sends (issue 18, item 3): a page with more items than were asked
//! for is refused while it is read, and across pages only a bounded amount is kept, so one
//! call stays under 64 MiB of memory and the process never aborts.

mod common;

use common::*;
use serde_json::{Value, json};

const MIB: usize = 1024 * 1024;
const ROOT: &str = "/api/ambient/v1/sessions";

fn assert_small(s: &Server, what: &str) {
    let peak = peak_rss(s.pid());
    eprintln!("peak RSS after {what}: {peak:?} bytes");
    assert!(peak.is_none_or(|p| p < 64 * MIB), "{what}: peak RSS {peak:?}");
}

fn session(prompt: &str) -> Value {
    json!({"id": common::ambient::ksuid(), "kind": "Session", "project_id": "team-a", "name": "", "phase": "Running",
           "prompt": prompt, "created_at": "2026-01-01T00:00:00Z"})
}

fn page(items: Vec<Value>, total: usize) -> String {
    json!({"kind": "SessionList", "page": 1, "size": items.len(), "total": total, "items": items}).to_string()
}

#[test]
fn a_page_of_16_mib_with_more_sessions_than_asked_for_is_refused() {
    let env = AmbientEnv::new();
    let body = page((0..19_000).map(|i| session(&format!("task {i} {}", "x".repeat(700)))).collect(), 19_000);
    assert!(body.len() > 14 * MIB && body.len() < 16 * MIB, "{} bytes", body.len());
    env.api.fault_on(RouteMatch::new("GET", ROOT), Fault::Status(200, body), Times::Always);
    let mut s = env.spawn_with(&[("RUST_LOG", "warn")]);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error, "{:.300}", r.text);
    assert!(r.text.contains("more than the 100 sessions asked for"), "{:.500}", r.text);
    assert_eq!(env.api.request_count(), 1, "no page after a refused one");
    assert_small(&s, "a 16 MiB page of 19,000 sessions");
    finish(s);
}

#[test]
fn ten_full_pages_of_large_sessions_keep_a_bounded_list() {
    let env = AmbientEnv::new();
    let task = "t".repeat(150_000);
    for n in 0..10 {
        let body = page((0..100).map(|_| session(&task)).collect(), 1000);
        assert!(body.len() < 16 * MIB, "{} bytes", body.len());
        env.api.fault_on(RouteMatch::new("GET", ROOT), Fault::Status(200, body), Times::Once);
        let _ = n;
    }
    let mut s = env.spawn_with(&[("RUST_LOG", "warn")]);
    let r = s.call_tool("acp_list_sessions", json!({"limit": 5}));
    assert!(!r.is_error, "{:.300}", r.text);
    let found: usize = r.text.strip_prefix("Found ").and_then(|t| t.split(' ').next()).unwrap().parse().unwrap();
    assert!((100..1000).contains(&found), "{found} kept: {:.300}", r.text);
    assert_eq!(r.raw["structuredContent"]["may_have_more"], json!(true));
    assert!(r.text.contains("older sessions exist"), "{:.500}", r.text);
    assert!(env.api.request_count() < 10, "paging stops once the list is full: {}", env.api.request_count());
    assert_small(&s, "ten pages of 100 sessions of 150,000 characters");
    finish(s);
}

#[test]
fn a_gateway_list_of_more_than_20_sessions_is_refused() {
    let env = TestEnv::new();
    env.write_default_config();
    let item = |i: usize| json!({"id": format!("session-{i}"), "status": "running", "task": "x".repeat(700)});
    let body = json!({"items": (0..20_000).map(item).collect::<Vec<_>>()}).to_string();
    assert!(body.len() > 14 * MIB && body.len() < 16 * MIB, "{} bytes", body.len());
    env.gateway.fault_on(RouteMatch::new("GET", "/v1/sessions"), Fault::Status(200, body), Times::Always);
    let mut s = env.spawn_with(&[("RUST_LOG", "warn")], &[]);
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error, "{:.300}", r.text);
    assert!(r.text.contains("more than the 20 sessions asked for"), "{:.500}", r.text);
    assert_small(&s, "a 16 MiB gateway list");
    finish(s);
}

#[test]
fn a_transcript_of_16_mib_keeps_the_newest_messages_and_says_so() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "chatty");
    let message = |i: usize| json!({"seq": i + 1, "event_type": "assistant", "payload": format!("m{i}")});
    let body = Value::Array((0..230_000).map(message).collect()).to_string();
    assert!(body.len() > 12 * MIB && body.len() < 16 * MIB, "{} bytes", body.len());
    let route = RouteMatch::new("GET", &format!("{ROOT}/{id}/messages"));
    env.api.fault_on(route, Fault::Status(200, body), Times::Always);
    let mut s = env.spawn_with(&[("RUST_LOG", "warn")]);
    let r = s.call_tool("acp_get_session_transcript", json!({"session": id}));
    assert!(!r.is_error, "{:.300}", r.text);
    assert!(r.text.contains("[#230000] assistant: m229999"), "the newest is shown: {:.300}", r.text);
    assert!(r.text.contains("the server returned 230000 messages; only the newest 1000 were kept"), "{:.300}", r.text);
    let m = s.call_tool("acp_get_session_metrics", json!({"session": id}));
    assert_eq!(m.raw["structuredContent"]["message_count"], json!(230_000), "{}", m.text);
    assert_small(&s, "a 16 MiB transcript of 230,000 messages");
    finish(s);
}

/// An error answer is evidence too: 15 MiB of it, in any shape, is read for the few fields an
/// error may carry and never held as a tree (a `[0,0,…]` body once took 504 MiB).
#[test]
fn an_error_answer_of_15_mib_is_read_for_its_fields_only() {
    let zeros = format!("[{}0]", "0,".repeat(15 * MIB / 2));
    let deep_field = format!(r#"{{"reason":{zeros},"code":"x"}}"#);
    for (status, body) in [(409, zeros.clone()), (500, zeros), (409, deep_field)] {
        let env = AmbientEnv::new();
        env.api.fault_on(RouteMatch::new("GET", ROOT), Fault::Status(status, body), Times::Always);
        let mut s = env.spawn_with(&[("RUST_LOG", "warn")]);
        let r = s.call_tool("acp_list_sessions", json!({}));
        assert!(r.is_error && r.text.len() < 2_000, "{:.300}", r.text);
        assert!(r.text.contains(&status.to_string()), "{:.300}", r.text);
        assert_small(&s, &format!("a {status} with a 15 MiB body"));
        finish(s);
    }
    // A gateway's error answer the same way.
    let gw = TestEnv::new();
    gw.write_default_config();
    gw.gateway.push_fault(Fault::Status(400, format!("[{}0]", "0,".repeat(15 * MIB / 2))));
    let mut s = gw.spawn();
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.contains("The gateway answered 400: \"[0,0,0"), "{:.300}", r.text);
    assert_small(&s, "a gateway 400 with a 15 MiB body");
    finish(s);
}
