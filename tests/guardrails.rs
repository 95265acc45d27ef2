//! Guardrails for autonomous clients, end to end: read-only mode from the flag, the
//! environment and clusters.yaml (whole process, or one cluster); toolsets; the project
//! allow-list; the mutation budget. Each refusal says why, and sends nothing.

mod common;

use common::*;
use serde_json::{Value, json};

const OTHER: &str = common::ambient_env::OTHER;

fn listed(s: &mut Server) -> Vec<String> {
    let r = s.request("tools/list", json!({}));
    let tools = r["result"]["tools"].as_array().unwrap_or_else(|| panic!("{r}"));
    tools.iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

fn annotated_read_only(s: &mut Server) -> bool {
    let r = s.request("tools/list", json!({}));
    r["result"]["tools"].as_array().unwrap().iter().all(|t| t["annotations"]["readOnlyHint"] == json!(true))
}

fn spawn_ambient(env: &AmbientEnv, args: &[&str], extra_env: &[(&str, &str)]) -> Server {
    let mut cmd = bin_command();
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("ACP_CLUSTER_CONFIG", env.dir.path().join("clusters.yaml"))
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut s = Server::start(cmd);
    s.initialize();
    s
}

fn config(env: &AmbientEnv, top: &str, cluster: &str) -> String {
    format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n{cluster}\
         default_cluster: amb\n{top}",
        env.api.url()
    )
}

/// Read-only mode from each of its three sources hides every tool that changes the platform,
/// and a call to one is refused with the reason and sends nothing.
#[test]
fn read_only_mode_lists_only_read_only_tools_and_refuses_the_rest() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "keep me");
    env.write(&config(&env, "read_only: true\n", ""));
    type Source<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let sources: [Source; 3] = [
        (&["--read-only"], &[], "(--read-only)"),
        (&[], &[("ACP_READ_ONLY", "1")], "(ACP_READ_ONLY=1)"),
        (&[], &[], "(read_only: true in clusters.yaml)"),
    ];
    for (i, (args, vars, why)) in sources.into_iter().enumerate() {
        if i < 2 {
            env.write(&config(&env, "", ""));
        } else {
            env.write(&config(&env, "read_only: true\n", ""));
        }
        let mut s = spawn_ambient(&env, args, vars);
        let names = listed(&mut s);
        assert_eq!(names.len(), 12, "{why}: {names:?}");
        assert!(names.contains(&"acp_switch_cluster".to_string()) && names.contains(&"acp_wait_session".to_string()));
        assert!(!names.iter().any(|n| n.contains("delete") || n.contains("label_resource")), "{names:?}");
        assert!(annotated_read_only(&mut s));
        env.api.clear_requests();
        let r = s.call_tool("acp_delete_session", json!({"session": id, "confirm": true}));
        assert!(r.is_error);
        assert_eq!(
            r.text,
            format!(
                "acp_delete_session is not offered: this server runs read-only {why}, so tools that change the \
                 platform are hidden and refused. Nothing was sent."
            )
        );
        assert!(env.methods().is_empty(), "{:?}", env.methods());
        assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
        finish(s);
    }
    assert!(env.api.session(&id).is_some(), "nothing was deleted");
}

/// `read_only` on one cluster keeps every tool listed but refuses changes there only.
#[test]
fn a_read_only_cluster_refuses_changes_and_another_cluster_does_not() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "work");
    let url = env.api.url();
    env.write(&format!(
        "clusters:\n  safe:\n    api: ambient\n    server: \"{url}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    read_only: true\n  \
         live:\n    api: ambient\n    server: \"{url}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\ndefault_cluster: safe\n"
    ));
    let mut s = spawn_ambient(&env, &[], &[]);
    assert_eq!(listed(&mut s).len(), 30);
    let r = s.call_tool("acp_stop_session", json!({"session": id}));
    assert_eq!(
        r.text,
        "acp_stop_session changes the platform, and cluster 'safe' is read-only (read_only: true in clusters.yaml). \
         Nothing was sent."
    );
    assert!(env.methods().is_empty());
    s.call_tool("acp_switch_cluster", json!({"cluster": "live"}));
    let r = s.call_tool("acp_update_session", json!({"session": id, "display_name": "renamed"}));
    assert!(!r.is_error, "{}", r.text);
    finish(s);
}

#[test]
fn toolsets_choose_what_is_offered() {
    let env = AmbientEnv::new();
    env.write(&config(&env, "toolsets: [clusters, projects]\n", ""));
    let mut s = spawn_ambient(&env, &[], &[]);
    assert_eq!(
        listed(&mut s),
        ["acp_list_projects", "acp_list_clusters", "acp_whoami", "acp_switch_cluster", "acp_login"]
    );
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error);
    assert_eq!(
        r.text,
        "acp_list_sessions is not offered: it is in the toolset 'sessions', and clusters.yaml selects only \
         [clusters, projects]. Nothing was sent."
    );
    assert!(env.methods().is_empty());
    finish(s);
}

/// A project outside `allowed_projects` is refused before any request; list_projects shows
/// only the allowed ones; a session of another project is not found (the ambient boundary).
#[test]
fn the_project_allow_list_refuses_other_projects_before_any_request() {
    let env = AmbientEnv::new();
    let theirs = env.session(OTHER, "theirs");
    env.write(&config(&env, "", "    allowed_projects: [team-a]\n"));
    let mut s = spawn_ambient(&env, &[], &[]);
    for (tool, args) in [
        ("acp_list_sessions", json!({"project": OTHER})),
        ("acp_delete_session", json!({"project": OTHER, "session": theirs})),
        ("acp_create_session", json!({"project": OTHER, "initial_prompt": "x"})),
    ] {
        let r = s.call_tool(tool, args);
        assert!(r.is_error);
        assert_eq!(
            r.text,
            format!(
                "Invalid argument: project '{OTHER}' is not allowed on cluster 'amb' (allowed_projects: team-a). \
                 Nothing was sent."
            ),
            "{tool}"
        );
    }
    assert!(env.methods().is_empty(), "{:?}", env.methods());
    let projects = s.call_tool("acp_list_projects", json!({}));
    assert_eq!(projects.raw["structuredContent"]["projects"], json!(["team-a"]), "{}", projects.text);
    let r = s.call_tool("acp_get_session", json!({"session": theirs}));
    assert!(r.is_error && r.text.contains("not found in project 'team-a'"), "{}", r.text);
    assert!(env.api.session(&theirs).is_some());
    finish(s);
}

/// Changes beyond the budget are refused with when to retry; reads and dry runs are free.
#[test]
fn the_mutation_budget_refuses_changes_beyond_it_and_not_reads_or_dry_runs() {
    let env = AmbientEnv::new();
    env.write(&config(&env, "max_mutations_per_minute: 2\n", ""));
    let ids: Vec<String> = (0..4).map(|i| env.session("team-a", &format!("s{i}"))).collect();
    let mut s = spawn_ambient(&env, &[], &[]);
    for id in &ids[..2] {
        let r = s.call_tool("acp_delete_session", json!({"session": id, "dry_run": true}));
        assert!(!r.is_error, "{}", r.text);
    }
    for id in &ids[..2] {
        let r = s.call_tool("acp_delete_session", json!({"session": id}));
        assert!(!r.is_error, "{}", r.text);
    }
    let before = env.api.request_count();
    let r = s.call_tool("acp_delete_session", json!({"session": ids[2]}));
    assert!(r.is_error);
    assert!(
        r.text.contains(
            "This server allows at most 2 changes per minute (max_mutations_per_minute in clusters.yaml), \
             and they are spent, so nothing was sent. Retry in "
        ),
        "{}",
        r.text
    );
    assert_eq!(env.api.request_count(), before, "nothing was sent");
    assert!(env.api.session(&ids[2]).is_some());
    // Reads still work.
    let list: Value = s.call_tool("acp_list_sessions", json!({})).raw;
    assert_eq!(list["structuredContent"]["sessions"].as_array().unwrap().len(), 2);
    finish(s);
}
