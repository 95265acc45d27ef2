//! The JSON-RPC / MCP loop over real pipes: lifecycle, errors, framing, exit.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

fn bin() -> Command {
    bin_command()
}

fn started() -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_default_config();
    let server = env.spawn();
    (env, server)
}

#[test]
fn help_and_version_print_to_stdout_and_exit_0() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: mcp-acp"));
    let out = bin().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("mcp-acp {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_arguments_are_a_one_line_error_and_exit_2() {
    let out = bin().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--frobnicate"), "{err}");
}

#[test]
fn initialize_negotiates_the_version_and_describes_the_server() {
    for (asked, got) in [
        ("2025-11-25", "2025-11-25"),
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("2024-11-05", "2024-11-05"),
        ("2023-01-01", "2025-11-25"),
    ] {
        let (_env, mut s) = started();
        let r = s.request(
            "initialize",
            json!({"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        );
        let result = &r["result"];
        assert_eq!(result["protocolVersion"], json!(got), "asked {asked}");
        assert_eq!(result["serverInfo"]["name"], json!("mcp-acp"));
        assert_eq!(result["serverInfo"]["version"], json!(env!("CARGO_PKG_VERSION")));
        assert_eq!(result["capabilities"]["tools"], json!({"listChanged": false}));
        assert!(result["instructions"].as_str().unwrap().contains("agentic sessions"));
    }
}

#[test]
fn ping_and_tools_list() {
    let (_env, mut s) = started();
    s.initialize();
    assert_eq!(s.request("ping", json!({}))["result"], json!({}));
    let r = s.request("tools/list", json!({}));
    let names: Vec<&str> =
        r["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    let listed: Vec<&str> = mcp_acp::tools::TOOLS.iter().map(|t| t.name()).collect();
    assert_eq!(names, listed, "tools/list shows every tool, in the list's order");
    // The original's eight keep their relative order (clients and docs refer to them).
    let original = [
        "acp_list_sessions",
        "acp_get_session",
        "acp_create_session",
        "acp_delete_session",
        "acp_bulk_delete_sessions",
        "acp_list_clusters",
        "acp_whoami",
        "acp_switch_cluster",
    ];
    let positions: Vec<usize> = original.iter().map(|o| names.iter().position(|n| n == o).expect(o)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{names:?}");
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap_or_else(|| panic!("not an error: {v}"))
}

#[test]
fn protocol_errors_have_the_right_codes_and_the_loop_goes_on() {
    let (env, mut s) = started();
    s.initialize();
    assert_eq!(error_code(&s.request("no/such/method", json!({}))), -32601);
    assert_eq!(error_code(&s.request("tools/call", json!({"arguments": {}}))), -32602);
    let r = s.request("tools/call", json!({"name": "acp_launch_missiles"}));
    assert_eq!(error_code(&r), -32602);
    assert!(r["error"]["message"].as_str().unwrap().contains("acp_launch_missiles"));

    s.send_line("{not json");
    let r = s.recv();
    assert_eq!((error_code(&r), &r["id"]), (-32700, &Value::Null));
    s.send_line(r#"{"jsonrpc":"2.0","method":5,"id":9}"#);
    let r = s.recv();
    assert_eq!((error_code(&r), &r["id"]), (-32600, &json!(9)));
    s.send_raw(b"\xff\xfe\xfd\n");
    assert_eq!(error_code(&s.recv()), -32700);

    assert_eq!(s.request("ping", json!({}))["result"], json!({}), "still serving");
    assert_eq!(env.gateway.request_count(), 0);
}

#[test]
fn server_discover_is_answered_at_once() {
    let (_env, mut s) = started();
    s.send_line(r#"{"jsonrpc":"2.0","id":"d1","method":"server/discover","params":{}}"#);
    let line = s.recv_timeout(Duration::from_secs(5)).expect("an immediate answer to server/discover");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["id"], json!("d1"));
}

#[test]
fn an_overlong_line_is_rejected_and_the_next_one_served() {
    let (_env, mut s) = started();
    s.initialize();
    let mut big = vec![b'x'; 5 * 1024 * 1024];
    big.push(b'\n');
    s.send_raw(&big);
    let r = s.recv();
    assert_eq!((error_code(&r), &r["id"]), (-32600, &Value::Null));
    assert!(r["error"]["message"].as_str().unwrap().contains("too long"));
    assert_eq!(s.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn notifications_and_client_responses_get_no_answer() {
    let (_env, mut s) = started();
    s.initialize();
    s.notify("notifications/cancelled", Some(json!({"requestId": 99})));
    s.notify("notifications/whatever", None);
    s.send_line(r#"{"jsonrpc":"2.0","id":"x","result":{}}"#);
    assert_eq!(s.request("ping", json!({}))["result"], json!({}));
    assert_eq!(s.stdout_lines().len(), 2, "only the initialize and ping answers: {:?}", s.stdout_lines());
}

#[test]
fn end_of_input_exits_0_and_stdout_is_only_json_rpc() {
    let (_env, mut s) = started();
    s.initialize();
    s.call_tool("acp_list_sessions", json!({}));
    s.call_tool("acp_get_session", json!({"session": "BAD"}));
    let f = s.close();
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    for line in f.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert_eq!(v["jsonrpc"], json!("2.0"), "{line}");
    }
    assert!(f.stderr.contains("tool_validation_error"), "logs go to stderr: {}", f.stderr);
}

#[test]
fn end_of_input_in_the_middle_of_a_line_still_exits_0() {
    let (_env, mut s) = started();
    s.send_raw(br#"{"jsonrpc":"2.0","id":1,"method":"pi"#);
    let f = s.close();
    assert_eq!(f.status.code(), Some(0));
}
