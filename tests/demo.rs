//! `mcp-acp --demo`: every tool works against the built-in platform with no configuration, no
//! token and no network, and every result says it is a demo.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Stdio;

fn demo() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin_command();
    // No HOME, no ACP_*: nothing to read a configuration from. A proxy that would catch any
    // attempt to reach the network: nothing listens there.
    cmd.env_clear()
        .env("RUST_LOG", "debug")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .current_dir(dir.path())
        .arg("--demo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Server::start(cmd)
}

#[test]
fn every_tool_works_in_the_demo_and_says_so() {
    let mut s = demo();
    s.initialize();
    let tools = s.request("tools/list", json!({}));
    assert_eq!(tools["result"]["tools"].as_array().map(Vec::len), Some(mcp_acp::tools::TOOLS.len()), "{tools}");

    let mut results = Vec::new();
    let list = s.call_tool("acp_list_sessions", json!({}));
    assert!(!list.is_error && list.text.contains("Found 4 session(s) in project 'demo-project' (cluster 'demo')"));
    assert!(list.text.contains("- fix-flaky-login-test\n  running, "), "{}", list.text);
    results.push(list);
    results.push(s.call_tool("acp_list_sessions", json!({"status": "failed"})));
    results.push(s.call_tool("acp_get_session", json!({"session": "upgrade-go-deps"})));
    let created = s.call_tool("acp_create_session", json!({"initial_prompt": "Add a changelog entry"}));
    assert!(!created.is_error, "{}", created.text);
    let id = created.raw["structuredContent"]["session"].as_str().unwrap().to_string();
    assert_eq!(created.raw["structuredContent"]["stored"]["task"], json!("Add a changelog entry"));
    results.push(created);
    results.push(s.call_tool("acp_create_session", json!({"initial_prompt": "x", "dry_run": true})));
    results.push(s.call_tool("acp_delete_session", json!({"session": id, "dry_run": true})));
    results.push(s.call_tool("acp_delete_session", json!({"session": id})));
    let gone = s.call_tool("acp_get_session", json!({"session": id}));
    assert!(gone.is_error && gone.text.contains("not found"), "{}", gone.text);
    results.push(gone);
    let bulk = json!({"sessions": ["triage-issue-42", "write-release-notes"], "confirm": true});
    let bulk = s.call_tool("acp_bulk_delete_sessions", bulk);
    assert!(!bulk.is_error && bulk.text.contains("Deleted 2 of 2 session(s)"), "{}", bulk.text);
    results.push(bulk);
    results.push(s.call_tool("acp_list_clusters", json!({})));
    let who = s.call_tool("acp_whoami", json!({}));
    assert!(who.text.contains("Cluster: demo") && who.text.contains("Token: configured"), "{}", who.text);
    results.push(who);
    results.push(s.call_tool("acp_switch_cluster", json!({"cluster": "demo"})));
    for r in &results {
        assert!(r.text.starts_with("[DEMO: "), "a result that does not say it is a demo: {}", r.text);
    }
    let after = s.call_tool("acp_list_sessions", json!({}));
    assert!(after.text.contains("Found 2 session(s)"), "the demo keeps its state while it runs: {}", after.text);

    let f = s.close();
    assert_eq!(f.status.code(), Some(0), "{}", f.stderr);
    assert!(!f.stderr.contains("ERROR") && !f.stderr.contains("demo-token"), "{}", f.stderr);
    let lines: Vec<Value> = f.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().all(|l| l["jsonrpc"] == json!("2.0")));
}

#[test]
fn without_demo_nothing_is_made_up() {
    let env = TestEnv::new();
    let mut s = env.spawn_with(&[("ACP_CLUSTER_CONFIG", "/nonexistent/clusters.yaml")], &[]);
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.contains("Cluster configuration not found"), "{}", r.text);
    assert!(!r.text.contains("DEMO"), "{}", r.text);
    s.close();
}
