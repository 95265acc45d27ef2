//! What exists about a session on each API: metrics from the record (both), projects (ambient
//! lists them, public-api knows only its default), and logs (neither: said, nothing sent).

mod common;

use common::*;
use serde_json::json;

#[test]
fn logs_are_served_by_neither_api_and_nothing_is_sent() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "x");
    let mut s = env.spawn();
    let r = s.call_tool("acp_get_session_logs", json!({"session": id, "tail_lines": 50}));
    assert!(
        r.is_error && r.text.contains("not available") && r.text.contains("acp_get_session_transcript"),
        "{}",
        r.text
    );
    let bad = s.call_tool("acp_get_session_logs", json!({"session": "../x"}));
    assert!(bad.text.starts_with("Invalid argument: session"), "{}", bad.text);
    assert_eq!(env.api.request_count(), 0);
    finish(s);

    let gw = TestEnv::new();
    gw.write_default_config();
    let mut s = gw.spawn();
    s.initialize();
    let r = s.call_tool("acp_get_session_logs", json!({"session": "s1"}));
    assert!(r.is_error && r.text.contains("nothing was sent"), "{}", r.text);
    assert_eq!(gw.gateway.request_count(), 0);
    finish(s);
}

#[test]
fn metrics_come_from_the_record_on_both_apis() {
    let env = AmbientEnv::new();
    let id = env.api.add_session(
        "team-a",
        json!({"name": "", "prompt": "x", "phase": "Completed", "start_time": "2026-11-01T10:00:00Z",
               "completion_time": "2026-11-01T10:30:00Z"}),
    );
    let mut s = env.spawn();
    let r = s.call_tool("acp_get_session_metrics", json!({"session": id}));
    assert!(!r.is_error, "{}", r.text);
    let m = &r.raw["structuredContent"];
    assert_eq!((&m["status"], &m["duration_seconds"]), (&json!("completed"), &json!(1800)), "{m}");
    assert!(
        r.text.contains("Duration: 1800 s\n") && r.text.contains("Not reported by the API: token counts"),
        "{}",
        r.text
    );
    let theirs = env.session(common::ambient_env::OTHER, "y");
    let r = s.call_tool("acp_get_session_metrics", json!({"session": theirs}));
    assert!(r.is_error && r.text.contains("not found in project 'team-a'"), "{}", r.text);
    finish(s);

    let gw = TestEnv::new();
    gw.write_default_config();
    gw.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = gw.spawn();
    s.initialize();
    let r = s.call_tool("acp_get_session_metrics", json!({"session": "s1"}));
    assert!(!r.is_error && r.raw["structuredContent"]["status"] == json!("running"), "{}", r.text);
    assert!(r.text.contains("(so far)"), "a running session's duration runs on: {}", r.text);
    finish(s);
}

#[test]
fn projects_are_listed_on_ambient_and_only_the_default_is_known_on_public_api() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_projects", json!({}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["projects"], json!(["team-a", "team-b"]));
    assert_eq!(r.raw["structuredContent"]["complete"], json!(true));
    assert!(env.methods()[0].starts_with("GET /api/ambient/v1/projects?"), "{:?}", env.methods());
    // A page at a time, with the arguments of the next.
    let r = s.call_tool("acp_list_projects", json!({"limit": 1}));
    assert_eq!(r.raw["structuredContent"]["projects"], json!(["team-a"]));
    assert!(r.text.contains(r#"1 more projects: call acp_list_projects with {"limit":1,"offset":1}"#), "{}", r.text);
    let r = s.call_tool("acp_list_projects", r.raw["structuredContent"]["next"].clone());
    assert_eq!(r.raw["structuredContent"]["projects"], json!(["team-b"]));
    finish(s);

    let gw = TestEnv::new();
    gw.write_default_config();
    let mut s = gw.spawn();
    s.initialize();
    let r = s.call_tool("acp_list_projects", json!({}));
    assert!(!r.is_error && r.text.contains("cannot list projects"), "{}", r.text);
    assert_eq!(
        r.raw["structuredContent"],
        json!({"cluster": "dev", "projects": ["team-a"], "complete": false, "total": 1, "next": null})
    );
    assert_eq!(gw.gateway.request_count(), 0);
    finish(s);
}

/// One session's default answer shows what a user asks about first (issue 18, item 15): the
/// model, its times, labels and result or error, without `response_format: detailed`.
#[test]
fn one_session_shows_model_times_labels_and_result_by_default_on_both_apis() {
    let env = AmbientEnv::new();
    let id = env.api.add_session(
        "team-a",
        json!({"name": "nightly", "prompt": "x", "phase": "Completed", "llm_model": "claude-z",
               "labels": "{\"team\":\"core\"}", "created_at": "2026-11-01T09:59:00Z",
               "start_time": "2026-11-01T10:00:00Z", "completion_time": "2026-11-01T10:30:00Z"}),
    );
    let mut s = env.spawn();
    let r = s.call_tool("acp_get_session", json!({"session": id}));
    assert!(!r.is_error, "{}", r.text);
    for line in [
        "  Model: claude-z\n",
        "  Started: 2026-11-01T10:00:00Z\n",
        "  Completed: 2026-11-01T10:30:00Z\n",
        "  Labels: team=core\n",
    ] {
        assert!(r.text.contains(line), "{line:?} missing from {}", r.text);
    }
    let shown = &r.raw["structuredContent"]["session"];
    assert_eq!((&shown["model"], &shown["labels"]["team"]), (&json!("claude-z"), &json!("core")), "{shown}");
    let concise = s.call_tool("acp_get_session", json!({"session": id, "response_format": "concise"}));
    assert!(!concise.text.contains("claude-z"), "concise is asked for by name: {}", concise.text);
    finish(s);

    let gw = TestEnv::new();
    gw.write_default_config();
    gw.gateway.add_session_full(
        "team-a",
        json!({"metadata": {"name": "s1", "creationTimestamp": "2026-01-01T00:00:00Z"},
               "spec": {"prompt": "p", "model": "claude-y"},
               "status": {"phase": "Failed", "error": "it broke"}}),
    );
    let mut s = gw.spawn();
    s.initialize();
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.text.contains("  Model: claude-y\n") && r.text.contains("  Error: it broke\n"), "{}", r.text);
    finish(s);
}

/// Labels and repositories are cut last, and only as far as the answer budget needs: a session
/// whose labels alone pass the budget still shows its status, times and error.
#[test]
fn labels_past_the_answer_budget_are_left_out_not_the_session() {
    let env = AmbientEnv::new();
    let labels: serde_json::Map<String, serde_json::Value> =
        (0..150).map(|i| (format!("key-{i:03}"), json!("\u{1}".repeat(15)))).collect();
    let labels = serde_json::Value::Object(labels).to_string();
    assert!(labels.len() < 20_000, "{} characters: the server's text must be read whole", labels.len());
    let id = env.api.add_session(
        "team-a",
        json!({"name": "n", "prompt": "x", "phase": "Failed", "labels": labels, "llm_model": "claude-z"}),
    );
    let mut s = env.spawn_with(&[("ACP_MAX_ANSWER_TOKENS", "1000")]);
    let r = s.call_tool("acp_get_session", json!({"session": id}));
    assert!(!r.is_error, "{:.400}", r.text);
    assert!(r.text.contains("  Status: failed\n") && r.text.contains("  Model: claude-z\n"), "{:.400}", r.text);
    assert!(r.text.contains("labels or repositories not shown: raise max_answer_tokens"), "{:.600}", r.text);
    assert!(r.raw.to_string().len() <= 4_000, "{} bytes", r.raw.to_string().len());
    let kept = r.raw["structuredContent"]["session"]["labels"].as_object().map_or(0, |m| m.len());
    assert!(kept < 150, "{kept} labels kept");
    finish(s);
}
