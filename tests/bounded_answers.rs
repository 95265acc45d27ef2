//! The work one input line can cause, and the size of what reaches the model, are bounded:
//! a batch holds at most 32 messages, one answer line at most 8 MiB (a batch shares that
//! budget), and every string taken from the gateway is cut, with a marker, to a length fit to
//! show. After each of these the server keeps serving.

mod common;

use common::*;
use serde_json::{Value, json};

const MIB: usize = 1024 * 1024;
/// README: "at most 32 messages per batch", "at most 8 MiB per answer".
const MAX_BATCH: usize = 32;
const MAX_ANSWER: usize = 8 * MIB;

fn started(version: &str) -> (TestEnv, Server) {
    started_with(version, &[])
}

/// The largest answer budget (2,000,000 tokens, about 8 MB), for the tests of the 8 MiB cap.
const WHOLE: (&str, &str) = ("ACP_MAX_ANSWER_TOKENS", "2000000");

fn started_with(version: &str, env_vars: &[(&str, &str)]) -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_default_config();
    let mut vars = vec![("RUST_LOG", "warn")];
    vars.extend_from_slice(env_vars);
    let mut s = env.spawn_with(&vars, &[]);
    let r = s.request("initialize", json!({"protocolVersion": version, "capabilities": {}}));
    assert_eq!(r["result"]["protocolVersion"], json!(version), "{r}");
    s.notify("notifications/initialized", None);
    (env, s)
}

fn next_line(s: &mut Server) -> String {
    s.recv_timeout(std::time::Duration::from_secs(60)).unwrap_or_else(|| panic!("no answer\n{}", s.stderr()))
}

fn assert_still_serving(s: &mut Server) {
    s.send_line(r#"{"jsonrpc":"2.0","id":"alive","method":"ping"}"#);
    assert_eq!(s.recv(), json!({"jsonrpc": "2.0", "id": "alive", "result": {}}));
}

fn batch_of(n: usize, item: impl Fn(usize) -> String) -> String {
    format!("[{}]", (0..n).map(item).collect::<Vec<_>>().join(","))
}

fn list_call(i: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"acp_list_sessions","arguments":{{}}}}}}"#
    )
}

// ---------------------------------------------------------------- batch amplification

#[test]
fn a_batch_of_89000_requests_is_refused_whole_in_one_small_answer() {
    let (_env, mut s) = started("2025-03-26");
    let line = batch_of(89_000, |_| r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_string());
    assert!(line.len() > 4_000_000 && line.len() < 4 * MIB, "{} bytes: under the line cap", line.len());
    let w = s.write_in_background(format!("{line}\n").into_bytes());
    let answer = next_line(&mut s);
    s.finish_writing(w);
    assert!(answer.len() < 1024, "a {}-byte answer to a refused batch", answer.len());
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!((&v["id"], &v["error"]["code"]), (&Value::Null, &json!(-32600)), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("89000 messages") && message.contains("limit of 32"), "{message}");
    assert!(message.contains("none of them was run"), "{message}");
    let peak = peak_rss(s.pid());
    eprintln!("peak RSS after the 89,000-item batch line: {peak:?} bytes");
    // Was 5.75 GB: every item answered (775 MB line) before anything was written.
    assert!(peak.is_none_or(|p| p < 64 * MIB), "peak RSS {peak:?}");
    assert_still_serving(&mut s);
    finish(s);
}

#[test]
fn a_batch_at_the_limit_is_served_and_one_more_runs_nothing() {
    let (env, mut s) = started("2025-03-26");
    s.send_line(&batch_of(MAX_BATCH, list_call));
    let answers = s.recv();
    let answers = answers.as_array().expect("a batch answer");
    assert_eq!(answers.len(), MAX_BATCH);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["id"], json!(i), "{a}");
        assert_eq!(a["result"]["isError"], json!(false), "{a}");
    }
    assert_eq!(env.gateway.request_count(), MAX_BATCH);

    env.gateway.clear_requests();
    s.send_line(&batch_of(MAX_BATCH + 1, list_call));
    let v = s.recv();
    assert_eq!(v["error"]["code"], json!(-32600), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("33 messages"), "{v}");
    assert_eq!(env.gateway.request_count(), 0, "nothing of a refused batch runs");
    assert_still_serving(&mut s);
    finish(s);
}

/// A clusters.yaml of 6,000 clusters (about 500 kB): `acp_list_clusters` answers about 600 kB,
/// within the largest answer budget, and a batch of 32 such answers is far over 8 MiB.
fn many_clusters(env: &TestEnv, top: &str) {
    let url = env.gateway.url();
    let clusters: String =
        (0..6_000).map(|i| format!("  c{i}:\n    server: {url}\n    default_project: team-a\n")).collect();
    env.write_config(&format!("default_cluster: c0\n{top}clusters:\n{clusters}"));
}

fn clusters_call(i: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"acp_list_clusters","arguments":{{}}}}}}"#
    )
}

#[test]
fn a_batch_shares_one_answer_budget_and_what_is_past_it_is_not_run() {
    let env = TestEnv::new();
    many_clusters(&env, "max_answer_tokens: 2000000\n");
    let mut s = env.spawn_with(&[("RUST_LOG", "warn"), ("ACP_TOKEN", TOKEN)], &[]);
    let r = s.request("initialize", json!({"protocolVersion": "2025-03-26", "capabilities": {}}));
    assert_eq!(r["result"]["protocolVersion"], json!("2025-03-26"), "{r}");
    s.send_line(&batch_of(MAX_BATCH, clusters_call));
    let line = next_line(&mut s);
    assert!(line.len() <= MAX_ANSWER + MAX_BATCH * 512, "a batch answer of {} bytes", line.len());
    let v: Value = serde_json::from_str(&line).unwrap();
    let answers = v.as_array().expect("a batch answer");
    assert_eq!(answers.len(), MAX_BATCH, "every request is answered");
    let served = answers.iter().take_while(|a| a["result"]["isError"] == json!(false)).count();
    assert!((2..MAX_BATCH).contains(&served), "{served} served");
    for (i, a) in answers.iter().enumerate().skip(served) {
        assert_eq!(a["id"], json!(i), "{a:.300}");
        assert_eq!(a["error"]["code"], json!(-32603), "{a:.300}");
        let message = a["error"]["message"].as_str().unwrap();
        let expected = if i == served { "more than the limit of 8388608 bytes" } else { "not run" };
        assert!(message.contains(expected), "item {i}: {message}");
    }
    assert_still_serving(&mut s);
    finish(s);
}

#[test]
fn a_list_of_20_sessions_is_answered_a_page_at_a_time_within_the_budget() {
    let (env, mut s) = started_with("2025-06-18", &[("ACP_MAX_ANSWER_TOKENS", "1000")]);
    // The most the gateway lists (more is refused: tests/hostile_pages.rs).
    let session = |i: usize| format!(r#"{{"id":"s-{i}","status":"running","task":"{}"}}"#, "t".repeat(150));
    let body = format!(r#"{{"items":[{}]}}"#, (0..20).map(session).collect::<Vec<_>>().join(","));
    assert!(body.len() < 16 * MIB, "under the body cap: {}", body.len());
    env.gateway.push_fault(Fault::Status(200, body));
    let r = s.call_tool("acp_list_sessions", json!({"limit": 1000, "response_format": "detailed"}));
    assert!(!r.is_error, "{}", &r.text[..200.min(r.text.len())]);
    let answer = r.raw.to_string();
    assert!(answer.len() <= 4_000, "a {}-byte answer over a budget of 1,000 tokens", answer.len());
    assert!(r.text.starts_with("Found 20 session(s)"), "{}", r.text);
    // The page shrank to fit; its last line says exactly how to go on.
    let shown = r.raw["structuredContent"]["sessions"].as_array().unwrap().len();
    assert!((1..20).contains(&shown), "{shown} shown");
    let next = format!(
        "{} more sessions: call acp_list_sessions with {{\"limit\":1000,\"offset\":{shown},\"response_format\":\"detailed\"}}",
        20 - shown
    );
    assert!(r.text.trim_end().ends_with(&next), "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["next"]["offset"], json!(shown));
    finish(s);
}

#[test]
fn an_answer_over_the_budget_is_a_tool_error_that_says_how_to_ask_for_less() {
    let env = TestEnv::new();
    many_clusters(&env, "max_answer_tokens: 1000\n");
    let mut s = env.spawn_with(&[("RUST_LOG", "warn"), ("ACP_TOKEN", TOKEN)], &[]);
    s.initialize();
    let r = s.call_tool("acp_list_clusters", json!({}));
    assert!(r.is_error, "{:.300}", r.text);
    assert!(r.text.contains("more than the answer budget of 1000 tokens (max_answer_tokens"), "{}", r.text);
    assert!(r.text.contains("Ask for less"), "{}", r.text);
    assert!(r.raw.to_string().len() < 1_000, "{}", r.raw);
    // A smaller answer of the same process is served.
    let ok = s.call_tool("acp_whoami", json!({}));
    assert!(!ok.is_error, "{}", ok.text);
    finish(s);
}

// ---------------------------------------------------------------- strings from the gateway

#[test]
fn a_15_mb_error_text_is_cut_with_a_marker() {
    let (env, mut s) = started("2025-06-18");
    let error = "e".repeat(15 * 1_000_000);
    env.gateway.push_fault(Fault::Status(400, format!(r#"{{"error":"{error}"}}"#)));
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.is_error);
    assert!(r.text.len() < 4096, "{} bytes of error text", r.text.len());
    assert!(r.text.contains("The gateway answered 400: eeee"), "{}", r.text);
    assert!(r.text.contains("… [cut: 15000000 characters in all]"), "{}", r.text);
    assert_still_serving(&mut s);
    finish(s);
}

#[test]
fn a_session_with_7_mb_task_and_error_is_shown_cut() {
    let (env, mut s) = started_with("2025-06-18", &[WHOLE]);
    let big = |c: &str| c.repeat(7_000_000);
    let body = format!(r#"{{"id":"s1","status":"failed","task":"{}","error":"{}","result":"r"}}"#, big("t"), big("e"));
    env.gateway.push_fault(Fault::Status(200, body));
    let r = s.call_tool("acp_get_session", json!({"session": "s1", "response_format": "detailed"}));
    assert!(!r.is_error, "{}", &r.text[..300.min(r.text.len())]);
    let answer = r.raw.to_string();
    assert!(answer.len() < 400_000, "a {}-byte answer", answer.len());
    let session = &r.raw["structuredContent"]["session"];
    let task = session["task"].as_str().unwrap();
    assert!(
        task.starts_with(&"t".repeat(100_000)) && task.ends_with("… [cut: 7000000 characters in all]"),
        "{}",
        task.len()
    );
    let error = session["error"].as_str().unwrap();
    assert!(error.starts_with(&"e".repeat(20_000)) && error.ends_with("… [cut: 7000000 characters in all]"));
    assert!(r.text.contains("  Error: eeee") && r.text.contains("… [cut: 7000000 characters in all]"), "text too");
    finish(s);
}

#[test]
fn a_body_of_the_wrong_shape_is_not_echoed_at_length() {
    let (env, mut s) = started("2025-06-18");
    // serde's message quotes the offending value: 5 MB of it, unless cut.
    env.gateway.push_fault(Fault::Status(200, format!(r#"{{"items":"{}"}}"#, "x".repeat(5_000_000))));
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    assert!(r.text.len() < 4096 && r.text.contains("[cut: "), "{} bytes: {:.300}", r.text.len(), r.text);
    finish(s);
}
