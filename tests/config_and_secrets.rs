//! clusters.yaml handling, token resolution and the promise that the token is never printed.

mod common;

use common::*;
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn cluster_yaml(server: &str, extra: &str) -> String {
    format!(
        "clusters:\n  dev:\n    server: {server}\n    token: {TOKEN}\n    default_project: team-a\n{extra}default_cluster: dev\n"
    )
}

#[test]
fn missing_config_is_explained_by_every_tool_and_fixing_it_needs_no_restart() {
    let env = TestEnv::new();
    let mut s = env.spawn();
    s.initialize();
    for tool in ["acp_list_sessions", "acp_list_clusters", "acp_whoami"] {
        let r = s.call_tool(tool, json!({}));
        assert!(r.is_error, "{tool}");
        assert!(
            r.text.contains(&format!("Cluster configuration not found: {}", env.config_path().display())),
            "{}",
            r.text
        );
        assert!(r.text.contains("default_project: my-project"), "shows an example: {}", r.text);
    }
    env.write_default_config();
    let r = s.call_tool("acp_whoami", json!({}));
    assert!(!r.is_error, "{}", r.text);
}

#[test]
fn malformed_yaml_reports_line_and_column() {
    let env = TestEnv::new();
    env.write_config("clusters:\n  dev:\n    server: [unclosed\n");
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_clusters", json!({}));
    assert!(r.is_error);
    assert!(r.text.contains("YAML error: ") && r.text.contains("at line 3 column 13"), "{}", r.text);
}

#[test]
fn kubernetes_api_url_is_refused_naming_the_cluster() {
    let env = TestEnv::new();
    env.write_config(&cluster_yaml("https://api.cluster.example.com:6443", ""));
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    assert!(
        r.text.contains("cluster 'dev': server: Direct Kubernetes API URLs (port 6443) are not supported"),
        "{}",
        r.text
    );
    assert!(r.text.contains("public-api gateway URL"), "{}", r.text);
}

#[test]
fn group_writable_config_is_refused_and_nothing_is_sent() {
    let env = TestEnv::new();
    env.write_default_config();
    fs::set_permissions(env.config_path(), fs::Permissions::from_mode(0o664)).unwrap();
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    assert!(r.text.contains("Refusing to use") && r.text.contains("mode is 0664"), "{}", r.text);
    assert!(r.text.contains(&format!("chmod 600 {}", env.config_path().display())), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0);
}

#[test]
fn readable_config_and_open_directory_are_warned_about_but_used() {
    let env = TestEnv::new();
    env.write_default_config();
    fs::set_permissions(env.config_path(), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let mut s = env.spawn_with(&[("RUST_LOG", "warn")], &[]);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    let f = s.close();
    assert!(f.stderr.contains("has mode 0644") && f.stderr.contains("chmod 600"), "{}", f.stderr);
    assert!(f.stderr.contains("has mode 0755") && f.stderr.contains("chmod 700"), "{}", f.stderr);
}

#[test]
fn no_token_anywhere_is_an_error_naming_both_places_and_generic_env_vars_are_ignored() {
    let env = TestEnv::new();
    env.write_config(&format!(
        "clusters:\n  dev:\n    server: {}\n    default_project: team-a\ndefault_cluster: dev\n",
        env.gateway.url()
    ));
    // The Python original filled a missing token from a generic TOKEN variable; we must not.
    let mut s = env.spawn_with(&[("TOKEN", TOKEN), ("SERVER", "http://127.0.0.1:1")], &["ACP_TOKEN"]);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    assert!(
        r.text.contains("Set `token` for it in clusters.yaml or set the ACP_TOKEN environment variable"),
        "{}",
        r.text
    );
    assert_eq!(env.gateway.request_count(), 0);
}

#[test]
fn a_rejected_token_says_where_it_came_from_without_showing_it() {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.revoke_token(TOKEN);
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    assert!(r.text.contains("rejected the token (401: Token expired or invalid)"), "{}", r.text);
    assert!(r.text.contains("the cluster's `token` in clusters.yaml for cluster 'dev'"), "{}", r.text);
    assert_no_token_leak(&r.text);
}

/// Every tool, success and failure, at the most verbose log level: the token appears in no
/// output at all (not even split across a hex dump: `assert_no_token_leak` checks pieces).
#[test]
fn the_token_never_appears_in_stdout_stderr_or_results_at_trace() {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.set_faithful_backend(true);
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn_with(&[("RUST_LOG", "trace")], &[]);
    s.initialize();
    let calls = [
        ("acp_list_sessions", json!({})),
        ("acp_get_session", json!({"session": "s1"})),
        ("acp_get_session", json!({"session": "missing"})),
        ("acp_create_session", json!({"initial_prompt": "p", "dry_run": true})),
        ("acp_create_session", json!({"initial_prompt": format!("please echo {TOKEN}"), "dry_run": true})),
        ("acp_create_session", json!({"initial_prompt": "real", "model": "m"})),
        ("acp_delete_session", json!({"session": "s1", "dry_run": true})),
        ("acp_delete_session", json!({"session": "s1"})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["a", "b"], "confirm": true})),
        ("acp_list_clusters", json!({})),
        ("acp_whoami", json!({})),
        ("acp_get_session", json!({"session": TOKEN})),
        ("acp_switch_cluster", json!({"cluster": TOKEN})),
        ("acp_get_session", json!({"session": "x", "token": TOKEN})),
    ];
    for (tool, args) in calls {
        let r = s.call_tool(tool, args);
        assert_no_token_leak(&r.text);
    }
    env.gateway.revoke_token(TOKEN);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    let f = s.close();
    assert!(f.stderr.contains("TRACE") || f.stderr.contains("DEBUG"), "the run really logged verbosely");
    assert_no_token_leak(&f.stdout);
    assert_no_token_leak(&f.stderr);
    let sent = env.gateway.requests();
    assert!(sent.iter().all(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str())));
}
