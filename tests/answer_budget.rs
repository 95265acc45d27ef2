//! Every answer fits the answer budget (max_answer_tokens, default 20,000 tokens of 4 bytes):
//! lists come a page at a time and say how to get the next; a session is concise unless asked
//! for in detail, and a detailed one has its long fields cut to fit, with a marker.

mod common;

use common::*;
use serde_json::{Value, json};

/// The default budget, in bytes.
const DEFAULT_BUDGET: usize = 20_000 * 4;

fn ids(r: &ToolResult) -> Vec<String> {
    let sessions = r.raw["structuredContent"]["sessions"].as_array().unwrap();
    sessions.iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_list_pages_by_default_and_the_last_line_gives_the_next_pages_arguments() {
    let env = AmbientEnv::new();
    let all: Vec<String> = (0..45).map(|i| env.session("team-a", &format!("task {i}\nsecond line"))).collect();
    let mut s = env.spawn();
    let first = s.call_tool("acp_list_sessions", json!({"status": "PENDING"}));
    assert!(!first.is_error, "{}", first.text);
    assert!(first.text.starts_with("Found 45 session(s)"), "{}", first.text);
    assert_eq!(ids(&first).len(), 20, "20 a page by default");
    let line = r#"Showing 1-20 of 45. 25 more sessions: call acp_list_sessions with {"offset":20,"status":"pending"}"#;
    assert!(first.text.trim_end().ends_with(line), "{}", first.text);
    // Concise: the first line of the task, no second line, and no model or times.
    assert!(first.text.contains(": task 44…\n") && !first.text.contains("second line"), "{}", first.text);
    let brief = &first.raw["structuredContent"]["sessions"][0];
    assert!(brief.get("createdAt").is_none() && brief["task"] == json!("task 44…"), "{brief}");
    assert_eq!(first.raw["structuredContent"]["next"], json!({"offset": 20, "status": "pending"}));

    let second = s.call_tool("acp_list_sessions", first.raw["structuredContent"]["next"].clone());
    let last = s.call_tool("acp_list_sessions", second.raw["structuredContent"]["next"].clone());
    assert!(last.text.trim_end().ends_with("Showing 41-45 of 45: the end of the list."), "{}", last.text);
    assert_eq!(last.raw["structuredContent"]["next"], Value::Null);
    let mut paged: Vec<String> = [ids(&first), ids(&second), ids(&last)].concat();
    paged.reverse();
    assert_eq!(paged, all, "every session once, newest first, across the pages");

    let past = s.call_tool("acp_list_sessions", json!({"offset": 50}));
    assert!(!past.is_error && past.text.contains("No sessions at offset 50: there are 45 in all."), "{}", past.text);
    let detailed = s.call_tool("acp_list_sessions", json!({"limit": 2, "response_format": "Detailed"}));
    assert!(detailed.text.contains("  Task: task 44\nsecond line\n"), "{}", detailed.text);
    assert!(detailed.raw["structuredContent"]["sessions"][0]["createdAt"].is_string(), "{}", detailed.raw);
    finish(s);
}

#[test]
fn a_session_is_concise_by_default_and_a_detailed_one_is_cut_to_fit_the_budget() {
    let env = TestEnv::new();
    env.write_default_config();
    let task = format!("Refactor the parser\n{}", "t".repeat(99_000));
    env.gateway.add_session_full(
        "team-a",
        json!({
            "metadata": {"name": "big", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"prompt": task, "model": "claude-x"},
            "status": {"phase": "Failed", "error": format!("boom\n{}", "e".repeat(19_000))},
        }),
    );
    let mut s = env.spawn();
    s.initialize();
    let concise = s.call_tool("acp_get_session", json!({"session": "big", "response_format": "concise"}));
    assert!(!concise.is_error, "{}", concise.text);
    assert!(concise.text.contains("  Status: failed\n"), "{}", concise.text);
    assert!(concise.text.contains("  Error: boom…\n") && concise.text.contains("  Task: Refactor the parser…\n"));
    assert!(concise.text.contains("response_format: detailed, the default, shows every field"), "{}", concise.text);
    assert!(!concise.text.contains("claude-x") && concise.raw.to_string().len() < 2_000, "{}", concise.raw);

    let detailed = s.call_tool("acp_get_session", json!({"session": "big", "response_format": "detailed"}));
    assert!(!detailed.is_error, "{:.300}", detailed.text);
    let answer = detailed.raw.to_string().len();
    assert!(answer <= DEFAULT_BUDGET && answer > DEFAULT_BUDGET / 2, "a {answer}-byte answer");
    let shown = &detailed.raw["structuredContent"]["session"];
    assert_eq!(shown["model"], json!("claude-x"));
    let marker = "characters in all; raise max_answer_tokens (or ACP_MAX_ANSWER_TOKENS) to see more]";
    let task_shown = shown["task"].as_str().unwrap();
    assert!(task_shown.starts_with("Refactor the parser\nttt") && task_shown.ends_with(marker), "{task_shown:.100}");
    assert!(detailed.text.contains(marker), "the text is cut too");
    finish(s);

    // A larger budget shows the whole task.
    let mut s = env.spawn_with(&[("ACP_MAX_ANSWER_TOKENS", "200000")], &[]);
    s.initialize();
    let whole = s.call_tool("acp_get_session", json!({"session": "big", "response_format": "detailed"}));
    assert_eq!(whole.raw["structuredContent"]["session"]["task"].as_str().map(str::len), Some(task.len()));
    finish(s);
}

#[test]
fn a_budget_out_of_range_is_refused_naming_the_setting_and_its_rule() {
    let env = TestEnv::new();
    let yaml = env.default_config_yaml();
    env.write_config(&format!("max_answer_tokens: 10\n{yaml}"));
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error, "{}", r.text);
    assert!(
        r.text.contains("max_answer_tokens must be a whole number from 1000 to 2000000 (found the number 10)"),
        "{}",
        r.text
    );
    finish(s);

    env.write_default_config();
    let mut s = env.spawn_with(&[("ACP_MAX_ANSWER_TOKENS", "lots")], &[]);
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("ACP_MAX_ANSWER_TOKENS: max_answer_tokens must be a whole number from 1000"), "{}", r.text);
    assert!(r.text.contains("(found \"lots\")"), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0, "nothing is sent");
    finish(s);
}
