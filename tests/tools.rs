//! The 8 tools end to end: the real binary over pipes against the fake gateway.

mod common;

use common::*;
use serde_json::json;

fn ready() -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_default_config();
    let mut server = env.spawn();
    server.initialize();
    (env, server)
}

#[test]
fn list_sessions_sends_the_contract_headers_and_shows_sessions() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "session-old", "Running", "2026-01-01T00:00:00Z");
    env.gateway.add_session("team-a", "session-new", "Stopped", "2026-02-01T00:00:00Z");
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Found 2 session(s) in project 'team-a' (cluster 'dev')"), "{}", r.text);
    // Concise by default: the id on its line, then phase, age and task on one more.
    assert!(r.text.contains("- session-new\n  Stopped, "), "{}", r.text);
    assert!(r.text.contains("- session-old\n  running, "), "{}", r.text);
    assert!(r.text.contains(" old: (no task recorded)\n"), "{}", r.text);
    let reqs = env.gateway.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("GET", "/v1/sessions"));
    assert_eq!(reqs[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(reqs[0].header("x-ambient-project"), Some("team-a"));
    assert_eq!(reqs[0].header("accept"), Some("application/json"));
    let detailed = s.call_tool("acp_list_sessions", json!({"response_format": "detailed"}));
    assert!(
        detailed.text.contains("- session-new\n  Status: Stopped\n  Created: 2026-02-01T00:00:00Z"),
        "{}",
        detailed.text
    );
    assert_no_token_leak(&s.close().stdout);
}

#[test]
fn list_sessions_warns_when_the_gateway_hits_its_20_session_ceiling() {
    let (env, mut s) = ready();
    for i in 0..25 {
        env.gateway.add_session(
            "team-a",
            &format!("session-{i:02}"),
            "Running",
            &format!("2026-01-{:02}T00:00:00Z", i + 1),
        );
    }
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.text.starts_with("Found 20 session(s)"), "{}", r.text);
    assert!(r.text.contains("older sessions may exist that this gateway cannot list"), "{}", r.text);
    assert!(r.text.contains("session-24") && !r.text.contains("session-04\n"), "{}", r.text);
}

#[test]
fn list_sessions_filters_sorts_and_limits() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s-run", "Running", "2020-01-01T00:00:00Z");
    env.gateway.add_session("team-a", "s-stopped", "Stopped", "2020-01-02T00:00:00Z");
    env.gateway.add_session("team-a", "s-creating", "Creating", "2020-01-03T00:00:00Z");
    env.gateway.add_session("team-a", "s-fresh", "Running", "2099-01-01T00:00:00Z");
    let r = s.call_tool("acp_list_sessions", json!({"status": "stopped"}));
    assert!(r.text.starts_with("Found 1 session(s)") && r.text.contains("s-stopped"), "{}", r.text);
    let r = s.call_tool("acp_list_sessions", json!({"status": "creating"}));
    assert!(r.text.contains("- s-creating\n  pending, "), "{}", r.text);
    let r = s.call_tool("acp_list_sessions", json!({"status": "running", "older_than": "30d"}));
    assert!(r.text.starts_with("Found 1 session(s)") && r.text.contains("s-run"), "{}", r.text);
    let r = s.call_tool("acp_list_sessions", json!({"sort_by": "name", "limit": 2}));
    assert!(r.text.contains("Filters applied:"), "{}", r.text);
    let first = r.text.find("- s-creating").expect("s-creating listed");
    let second = r.text.find("- s-fresh").expect("s-fresh listed");
    assert!(first < second && !r.text.contains("s-run"), "{}", r.text);
}

#[test]
fn project_argument_overrides_the_default_project() {
    let (env, mut s) = ready();
    env.gateway.add_project("other");
    env.gateway.add_session("other", "s1", "Running", "2026-01-01T00:00:00Z");
    let r = s.call_tool("acp_get_session", json!({"project": "other", "session": "s1"}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Session 's1' (project 'other', cluster 'dev')\n  Status: running"), "{}", r.text);
    assert!(r.text.contains("Task: (none recorded)"), "{}", r.text);
    let req = &env.gateway.requests()[0];
    assert_eq!((req.path.as_str(), req.header("x-ambient-project")), ("/v1/sessions/s1", Some("other")));
}

#[test]
fn get_session_not_found_is_an_error_naming_session_and_project() {
    let (_env, mut s) = ready();
    let r = s.call_tool("acp_get_session", json!({"session": "nope"}));
    assert!(r.is_error);
    assert_eq!(r.text, "Session 'nope' not found in project 'team-a' (cluster 'dev').");
}

#[test]
fn create_sends_the_body_the_gateway_binds() {
    let (env, mut s) = ready();
    env.gateway.set_faithful_backend(true);
    let r = s.call_tool(
        "acp_create_session",
        json!({"initial_prompt": "Fix the bug", "model": "claude-sonnet-4-6",
               "repos": ["https://github.com/o/a", {"url": "https://github.com/o/b", "branch": "dev"}]}),
    );
    assert!(!r.is_error, "{}", r.text);
    let post = &env.gateway.requests()[0];
    assert_eq!((post.method.as_str(), post.path.as_str()), ("POST", "/v1/sessions"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(
        post.body_json(),
        json!({"task": "Fix the bug", "model": "claude-sonnet-4-6",
               "repos": [{"url": "https://github.com/o/a"}, {"url": "https://github.com/o/b", "branch": "dev"}]})
    );
    let id = env.gateway.session_ids("team-a").pop().expect("created");
    assert!(r.text.starts_with(&format!("Session created: {id}\n")), "{}", r.text);
    assert!(!r.text.contains("WARNING"), "{}", r.text);
    let readback = &env.gateway.requests()[1];
    assert_eq!((readback.method.as_str(), readback.path.clone()), ("GET", format!("/v1/sessions/{id}")));
}

#[test]
fn create_reports_plainly_when_todays_gateway_loses_the_prompt_and_model() {
    let (env, mut s) = ready();
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "Do the thing", "model": "claude-opus-4"}));
    assert!(r.is_error, "a session without its prompt is not a success: {}", r.text);
    let id = env.gateway.session_ids("team-a").pop().expect("the session exists");
    assert!(r.text.contains(&format!("Session created: {id}")), "{}", r.text);
    assert!(r.text.contains("did NOT store the prompt"), "{}", r.text);
    assert!(r.text.contains("Do not retry"), "{}", r.text);
    assert!(r.text.contains("The model 'claude-opus-4' was not stored"), "{}", r.text);
}

#[test]
fn create_lists_options_the_gateway_cannot_apply() {
    let (env, mut s) = ready();
    env.gateway.set_faithful_backend(true);
    let r = s.call_tool(
        "acp_create_session",
        json!({"initial_prompt": "x", "display_name": "Nice", "timeout": 900, "interactive": false}),
    );
    assert!(r.text.contains("Not applied: display_name, interactive, timeout"), "{}", r.text);
    assert_eq!(env.gateway.requests()[0].body_json(), json!({"task": "x"}));
}

#[test]
fn create_dry_run_shows_the_exact_request_and_sends_nothing() {
    let (env, mut s) = ready();
    let r =
        s.call_tool("acp_create_session", json!({"initial_prompt": "Plan it", "dry_run": true, "display_name": "D"}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0);
    assert!(r.text.starts_with("DRY RUN - nothing was sent."), "{}", r.text);
    assert!(r.text.contains(&format!("POST {}/v1/sessions", env.gateway.url())), "{}", r.text);
    assert!(r.text.contains("Authorization: Bearer ***"), "{}", r.text);
    assert!(r.text.contains("\"task\": \"Plan it\""), "{}", r.text);
    assert!(r.text.contains("Not applied: display_name"), "{}", r.text);
}

#[test]
fn delete_removes_the_session() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s1", "Completed", "2026-01-01T00:00:00Z");
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(r.text, "Deleted session 's1' from project 'team-a' (cluster 'dev').");
    assert!(env.gateway.session_ids("team-a").is_empty());
    let req = &env.gateway.requests()[0];
    assert_eq!((req.method.as_str(), req.path.as_str()), ("DELETE", "/v1/sessions/s1"));
    let again = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(again.is_error && again.text.contains("not found"), "{}", again.text);
}

#[test]
fn delete_dry_run_looks_but_does_not_touch() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let r = s.call_tool("acp_delete_session", json!({"session": "s1", "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.contains("Would delete session 's1' in project 'team-a'"), "{}", r.text);
    assert!(r.text.contains("Status: running"), "{}", r.text);
    assert_eq!(env.gateway.session_ids("team-a"), ["s1"]);
    assert!(env.gateway.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn delete_dry_run_reports_a_failed_lookup_as_what_it_was() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    env.gateway.revoke_token(TOKEN);
    let r = s.call_tool("acp_delete_session", json!({"session": "s1", "dry_run": true}));
    assert!(r.is_error);
    assert!(r.text.contains("401") && r.text.contains("rejected the token"), "{}", r.text);
    assert!(!r.text.contains("not found"), "{}", r.text);
}

#[test]
fn bulk_delete_needs_confirm_and_sends_nothing_without_it() {
    let (env, mut s) = ready();
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["a", "b"]}));
    assert!(r.is_error && r.text.contains("confirm=true"), "{}", r.text);
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["a", "b"], "confirm": "true"}));
    assert!(r.is_error && r.text.contains("confirm must be a boolean"), "{}", r.text);
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["a", "b", "c", "d"], "confirm": true}));
    assert!(r.is_error && r.text.contains("more than the limit of 3"), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0);
}

#[test]
fn bulk_delete_reports_each_session_and_goes_on_after_a_failure() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s1", "Completed", "2026-01-01T00:00:00Z");
    env.gateway.add_session("team-a", "s3", "Failed", "2026-01-01T00:00:00Z");
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["s1", "s2", "s3"], "confirm": true}));
    assert!(r.is_error, "one session failed, so the call reports an error: {}", r.text);
    assert!(r.text.contains("Deleted 2 of 3 session(s)"), "{}", r.text);
    assert!(r.text.contains("  - s1: deleted\n"), "{}", r.text);
    assert!(r.text.contains("  - s2: Session 's2' not found"), "{}", r.text);
    assert!(r.text.contains("  - s3: deleted\n"), "{}", r.text);
    assert!(env.gateway.session_ids("team-a").is_empty());
    assert_eq!(env.gateway.requests().iter().filter(|r| r.method == "DELETE").count(), 3);
}

#[test]
fn bulk_delete_dry_run_only_reads() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["s1", "s2"], "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.contains("Would delete 1 of 2"), "{}", r.text);
    assert!(r.text.contains("  - s1: would be deleted (status: running)"), "{}", r.text);
    assert!(r.text.contains("  - s2: Session 's2' not found"), "{}", r.text);
    assert_eq!(env.gateway.session_ids("team-a"), ["s1"]);
    assert!(env.gateway.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn cluster_tools_read_configuration_only() {
    let (env, mut s) = ready();
    let r = s.call_tool("acp_list_clusters", json!({}));
    assert!(r.text.starts_with("Configured clusters (active: dev):"), "{}", r.text);
    assert!(r.text.contains("- dev [ACTIVE]\n  Server: http://127.0.0.1:"), "{}", r.text);
    assert!(
        r.text.contains("- prod\n  Server: https://prod.example.invalid\n  Default project: prod-proj"),
        "{}",
        r.text
    );
    let r = s.call_tool("acp_whoami", json!({}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.contains("Cluster: dev\n") && r.text.contains("Project: team-a\n"), "{}", r.text);
    assert!(r.text.contains("Token: configured, from the cluster's `token` in clusters.yaml"), "{}", r.text);
    let r = s.call_tool("acp_switch_cluster", json!({"cluster": "prod"}));
    assert_eq!(
        r.text,
        "Switched from dev to prod. Later calls use this cluster until the server stops; clusters.yaml is unchanged."
    );
    let r = s.call_tool("acp_whoami", json!({}));
    assert!(r.is_error, "prod has no token and no ACP_TOKEN is set: {}", r.text);
    assert!(r.text.contains("Cluster: prod") && r.text.contains("ACP_TOKEN"), "{}", r.text);
    let r = s.call_tool("acp_switch_cluster", json!({"cluster": "staging"}));
    assert!(
        r.is_error && r.text.contains("\"staging\" is not configured. Configured clusters: dev, prod"),
        "{}",
        r.text
    );
    assert_eq!(env.gateway.request_count(), 0);
    assert!(env.config_path().exists());
    let f = s.close();
    assert_no_token_leak(&f.stdout);
    assert_no_token_leak(&f.stderr);
}

#[test]
fn whoami_names_the_environment_as_token_source() {
    let env = TestEnv::new();
    env.write_config(&format!(
        "clusters:\n  dev:\n    server: {}\n    default_project: team-a\ndefault_cluster: dev\n",
        env.gateway.url()
    ));
    let mut s = env.spawn_with(&[("ACP_TOKEN", TOKEN)], &[]);
    s.initialize();
    let r = s.call_tool("acp_whoami", json!({}));
    assert!(r.text.contains("from the ACP_TOKEN environment variable"), "{}", r.text);
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.gateway.requests()[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
}
