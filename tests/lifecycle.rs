//! Stop and restart, one session and in bulk, end to end: on a cluster with `api: ambient`
//! against the fake ambient API server (read first, then POST /stop or /start; a 409 names the
//! phase and is an answer), and on the public-api gateway, which cannot do either: a precise
//! refusal, and not one request sent.

mod common;

use common::*;
use serde_json::{Value, json};

const OTHER: &str = common::ambient_env::OTHER;
const ROOT: &str = "/api/ambient/v1/sessions";

fn phase(env: &AmbientEnv, id: &str) -> Value {
    env.api.session(id).unwrap()["phase"].clone()
}

/// A session of team-a in `phase`.
fn in_phase(env: &AmbientEnv, phase: &str) -> String {
    let id = env.session("team-a", "work");
    env.api.set_phase(&id, phase);
    id
}

#[test]
fn stop_a_running_session_reads_first_then_stops_it() {
    let env = AmbientEnv::new();
    let id = in_phase(&env, "Running");
    let mut s = env.spawn();
    let r = s.call_tool("acp_stop_session", json!({"session": id}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(r.text, format!("Stopped session '{id}' in project 'team-a' (cluster 'amb'); status now: stopping."));
    assert_eq!(r.raw["structuredContent"], json!({"session": id, "outcome": "stopped", "status": "stopping"}));
    assert_eq!(phase(&env, &id), json!("Stopping"));
    assert_eq!(env.methods(), [format!("GET {ROOT}/{id}"), format!("POST {ROOT}/{id}/stop")]);
    finish(s);
}

#[test]
fn stopping_a_stopped_session_names_the_phase_and_is_not_an_error() {
    let env = AmbientEnv::new();
    let id = in_phase(&env, "Stopped");
    let mut s = env.spawn();
    let r = s.call_tool("acp_stop_session", json!({"session": id}));
    assert!(!r.is_error, "a 409 is an answer: {}", r.text);
    assert_eq!(r.text, format!("Session '{id}' is not running (phase Stopped); nothing to stop."));
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("skipped"));
    assert_eq!(r.raw["structuredContent"]["status"], json!("stopped"));
    assert_eq!(phase(&env, &id), json!("Stopped"));
    assert_eq!(env.methods(), [format!("GET {ROOT}/{id}"), format!("POST {ROOT}/{id}/stop")]);
    // No phase yet: the server's 409 says phase "". The session will still run, so that is
    // no "nothing to stop": an error that says to wait for it.
    let fresh = env.session("team-a", "new");
    let r = s.call_tool("acp_stop_session", json!({"session": fresh}));
    assert!(
        r.is_error && r.text.contains("is not picked up yet (no phase): it can be stopped only from"),
        "{}",
        r.text
    );
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("failed"));
    finish(s);
}

#[test]
fn restart_a_stopped_session_and_a_running_one_is_already_running() {
    let env = AmbientEnv::new();
    let stopped = in_phase(&env, "Stopped");
    let running = in_phase(&env, "Running");
    let mut s = env.spawn();
    let r = s.call_tool("acp_restart_session", json!({"session": stopped}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with(&format!("Restarted session '{stopped}'")), "{}", r.text);
    assert!(r.text.ends_with("status now: pending."), "{}", r.text);
    assert_eq!(phase(&env, &stopped), json!("Pending"));
    assert_eq!(env.methods(), [format!("GET {ROOT}/{stopped}"), format!("POST {ROOT}/{stopped}/start")]);
    env.api.clear_requests();
    let r = s.call_tool("acp_restart_session", json!({"session": running}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(r.text, format!("Session '{running}' is already running (phase Running); nothing to restart."));
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("skipped"));
    assert_eq!(phase(&env, &running), json!("Running"));
    assert_eq!(env.methods(), [format!("GET {ROOT}/{running}"), format!("POST {ROOT}/{running}/start")]);
    // Stopping is neither running nor a phase it starts from: said as it is, not "already running".
    let stopping = in_phase(&env, "Stopping");
    let r = s.call_tool("acp_restart_session", json!({"session": stopping}));
    assert!(r.is_error, "not done, and not already done: {}", r.text);
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("failed"));
    assert!(
        r.text.starts_with(&format!("Session '{stopping}' is Stopping: it can be restarted only from Stopped, Failed")),
        "{}",
        r.text
    );
    assert!(!r.text.contains("already running"), "{}", r.text);
    finish(s);
}

#[test]
fn another_projects_session_is_not_found_and_only_read() {
    let env = AmbientEnv::new();
    let theirs = env.session(OTHER, "theirs");
    env.api.set_phase(&theirs, "Running");
    let mut s = env.spawn();
    for tool in ["acp_stop_session", "acp_restart_session"] {
        for dry_run in [false, true] {
            env.api.clear_requests();
            let r = s.call_tool(tool, json!({"session": theirs, "dry_run": dry_run}));
            assert!(r.is_error, "{tool}: {}", r.text);
            assert_eq!(r.text, format!("Session '{theirs}' not found in project 'team-a' (cluster 'amb')."), "{tool}");
            assert_eq!(env.methods(), [format!("GET {ROOT}/{theirs}")], "{tool} dry_run={dry_run}: one read");
        }
    }
    for tool in ["acp_bulk_stop_sessions", "acp_bulk_restart_sessions"] {
        env.api.clear_requests();
        let r = s.call_tool(tool, json!({"sessions": [theirs], "confirm": true}));
        assert!(r.is_error && r.text.contains("not found in project 'team-a'"), "{tool}: {}", r.text);
        assert_eq!(r.raw["structuredContent"]["results"][0]["outcome"], json!("not_found"));
        assert_eq!(env.methods(), [format!("GET {ROOT}/{theirs}")], "{tool}");
    }
    assert_eq!(phase(&env, &theirs), json!("Running"), "the other project's session is untouched");
    finish(s);
}

#[test]
fn dry_runs_look_the_session_up_and_change_nothing() {
    let env = AmbientEnv::new();
    let running = in_phase(&env, "Running");
    let stopped = in_phase(&env, "Stopped");
    let mut s = env.spawn();
    let r = s.call_tool("acp_stop_session", json!({"session": running, "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("DRY RUN - nothing was stopped."), "{}", r.text);
    assert!(r.text.contains(&format!("Would stop session '{running}' (status: running)")), "{}", r.text);
    assert!(!r.text.contains("refuse"), "{}", r.text);
    assert_eq!(r.raw["structuredContent"]["outcome"], json!("would_stop"));
    let r = s.call_tool("acp_restart_session", json!({"session": stopped, "dry_run": true}));
    assert!(r.text.contains(&format!("Would restart session '{stopped}' (status: stopped)")), "{}", r.text);
    let r = s.call_tool("acp_stop_session", json!({"session": stopped, "dry_run": true}));
    assert!(!r.is_error && r.text.contains("The server will likely refuse"), "{}", r.text);
    for tool in ["acp_bulk_stop_sessions", "acp_bulk_restart_sessions"] {
        let r = s.call_tool(tool, json!({"sessions": [running, stopped], "dry_run": true}));
        assert!(!r.is_error && r.text.starts_with("DRY RUN - nothing was"), "{tool}: {}", r.text);
    }
    assert!(env.methods().iter().all(|m| m.starts_with("GET ")), "{:?}", env.methods());
    assert_eq!(env.methods().len(), 7);
    assert_eq!((phase(&env, &running), phase(&env, &stopped)), (json!("Running"), json!("Stopped")));
    finish(s);
}

#[test]
fn bulk_stop_and_restart_report_each_outcome_and_need_confirm() {
    let env = AmbientEnv::new();
    let running = in_phase(&env, "Running");
    let stopped = in_phase(&env, "Stopped");
    let missing = common::ambient::ksuid();
    let mut s = env.spawn();
    let ids = json!([running, stopped, missing]);
    for tool in ["acp_bulk_stop_sessions", "acp_bulk_restart_sessions"] {
        let r = s.call_tool(tool, json!({"sessions": ids}));
        assert!(r.is_error && r.text.contains("requires confirm=true"), "{tool}: {}", r.text);
        assert!(r.text.contains("Nothing was sent"), "{tool}: {}", r.text);
    }
    assert_eq!(env.api.request_count(), 0);

    let r = s.call_tool("acp_bulk_stop_sessions", json!({"sessions": ids, "confirm": true}));
    assert!(r.is_error, "a session was not found: {}", r.text);
    assert!(r.text.contains("Stopped 1 of 3 session(s) in project 'team-a'"), "{}", r.text);
    assert!(r.text.contains(&format!("  - {running}: stopped (status: stopping)")), "{}", r.text);
    assert!(r.text.contains(&format!("  - {stopped}: skipped: not running (phase Stopped)")), "{}", r.text);
    let outcomes = |r: &ToolResult| -> Vec<Value> {
        r.raw["structuredContent"]["results"].as_array().unwrap().iter().map(|i| i["outcome"].clone()).collect()
    };
    assert_eq!(outcomes(&r), [json!("stopped"), json!("skipped"), json!("not_found")]);
    assert_eq!((phase(&env, &running), phase(&env, &stopped)), (json!("Stopping"), json!("Stopped")));
    let posts: Vec<String> = env.methods().into_iter().filter(|m| m.starts_with("POST")).collect();
    assert_eq!(posts, [format!("POST {ROOT}/{running}/stop"), format!("POST {ROOT}/{stopped}/stop")]);

    env.api.set_phase(&running, "Running");
    env.api.clear_requests();
    let r = s.call_tool("acp_bulk_restart_sessions", json!({"sessions": ids, "confirm": true}));
    assert!(r.text.contains("Restarted 1 of 3"), "{}", r.text);
    assert_eq!(outcomes(&r), [json!("skipped"), json!("restarted"), json!("not_found")]);
    assert_eq!(r.raw["structuredContent"]["results"][0]["status"], json!("running"));
    assert_eq!((phase(&env, &running), phase(&env, &stopped)), (json!("Running"), json!("Pending")));

    // Done and skipped only: nothing failed, so not an error.
    let r = s.call_tool("acp_bulk_stop_sessions", json!({"sessions": [running, stopped], "confirm": true}));
    assert!(!r.is_error && r.text.contains("Stopped 2 of 2"), "{}", r.text);
    let r = s.call_tool("acp_bulk_stop_sessions", json!({"sessions": [running], "confirm": true}));
    assert!(!r.is_error && r.text.contains("Stopped 0 of 1") && r.text.contains("skipped"), "{}", r.text);
    finish(s);
}

#[test]
fn the_public_api_gateway_refuses_all_four_and_sends_nothing() {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    let cases = [
        ("acp_stop_session", json!({"session": "s1"}), "stop sessions"),
        ("acp_stop_session", json!({"session": "s1", "dry_run": true}), "stop sessions"),
        ("acp_restart_session", json!({"session": "s1"}), "start (restart) sessions"),
        ("acp_restart_session", json!({"session": "s1", "dry_run": true}), "start (restart) sessions"),
        ("acp_bulk_stop_sessions", json!({"sessions": ["s1"], "confirm": true}), "stop sessions"),
        ("acp_bulk_stop_sessions", json!({"sessions": ["s1"], "dry_run": true}), "stop sessions"),
        ("acp_bulk_restart_sessions", json!({"sessions": ["s1"], "confirm": true}), "start (restart) sessions"),
        ("acp_bulk_restart_sessions", json!({"sessions": ["s1"], "dry_run": true}), "start (restart) sessions"),
    ];
    for (tool, args, what) in cases {
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        assert!(r.text.contains(&format!("the gateway cannot {what}")), "{tool} {args}: {}", r.text);
        assert!(r.text.contains("nothing was sent") && r.text.contains("api: ambient"), "{tool}: {}", r.text);
        assert!(!r.text.contains("not found"), "{tool}: a refusal is not a missing session: {}", r.text);
        assert_eq!(env.gateway.request_count(), 0, "{tool} {args}: sent {:?}", env.gateway.requests());
    }
    finish(s);
}
