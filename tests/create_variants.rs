//! Sessions made from others and changed in place, end to end on both fakes: templates, clones,
//! updates, and the metrics of a record. Exact requests, what the fake stored, the text and the
//! structured content; refusals on the public-api gateway send nothing.

mod common;

use common::*;
use serde_json::{Value, json};

const OTHER: &str = common::ambient_env::OTHER;
const ROOT: &str = "/api/ambient/v1";

fn gateway() -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_default_config();
    let mut s = env.spawn();
    s.initialize();
    (env, s)
}

/// A session of `project` with a prompt, model, repos, labels, temperature and timeout.
fn rich_session(env: &AmbientEnv, project: &str) -> String {
    env.api.add_session(
        project,
        json!({"name": "Source", "prompt": "Fix the flaky test", "llm_model": "m-1", "repo_url": "https://g/a",
               "repos": "[{\"url\":\"https://g/a\",\"branch\":\"dev\"},{\"url\":\"https://g/b\"}]",
               "labels": "{\"team\":\"x\"}", "llm_temperature": 0.3, "timeout": 900}),
    )
}

fn posts(env: &AmbientEnv) -> Vec<RecordedRequest> {
    env.api.requests().into_iter().filter(|r| r.method == "POST").collect()
}

// ---- acp_update_session ----

#[test]
fn update_reads_then_patches_only_the_given_fields_and_reports_old_and_new() {
    let env = AmbientEnv::new();
    let id = env.api.add_session("team-a", json!({"name": "Old", "prompt": "x", "timeout": 300}));
    let mut s = env.spawn();
    let r = s.call_tool("acp_update_session", json!({"session": id, "display_name": "New", "timeout": 900}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.methods(), [format!("GET {ROOT}/sessions/{id}"), format!("PATCH {ROOT}/sessions/{id}")]);
    let patch = env.api.requests().pop().unwrap();
    assert_eq!(patch.body_json(), json!({"name": "New", "timeout": 900}));
    let stored = env.api.session(&id).unwrap();
    assert_eq!((&stored["name"], &stored["timeout"], &stored["prompt"]), (&json!("New"), &json!(900), &json!("x")));
    assert_eq!(
        r.text,
        format!(
            "Updated session '{id}' in project 'team-a' (cluster 'amb'):\n  display_name: 'Old' → 'New'\n  \
             timeout: 300 → 900\n"
        )
    );
    assert_eq!(
        r.raw["structuredContent"],
        json!({"cluster": "amb", "project": "team-a", "session": id, "dry_run": false, "warnings": [],
               "changes": [{"field": "display_name", "before": "Old", "after": "New"},
                           {"field": "timeout", "before": 300, "after": 900}]})
    );
    env.api.clear_requests();
    let r = s.call_tool("acp_update_session", json!({"session": id, "timeout": 900}));
    assert!(r.text.contains("timeout: 900 → 900 (unchanged)"), "{}", r.text);
    assert_eq!(env.api.requests().pop().unwrap().body_json(), json!({"timeout": 900}));
    finish(s);
}

#[test]
fn an_update_dry_run_reads_and_shows_the_patch_without_sending_it() {
    let env = AmbientEnv::new();
    let id = env.api.add_session("team-a", json!({"name": "Old", "prompt": "x"}));
    let mut s = env.spawn();
    let r = s.call_tool("acp_update_session", json!({"session": id, "timeout": 600, "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.methods(), [format!("GET {ROOT}/sessions/{id}")]);
    assert!(r.text.starts_with("DRY RUN - nothing was changed."), "{}", r.text);
    assert!(r.text.contains("  timeout: (none) → 600\n"), "{}", r.text);
    let data = &r.raw["structuredContent"];
    assert_eq!(data["changes"], json!([{"field": "timeout", "before": null, "after": 600}]));
    assert_eq!((&data["request"]["method"], &data["request"]["body"]), (&json!("PATCH"), &json!({"timeout": 600})));
    assert!(env.api.session(&id).unwrap().get("timeout").is_none(), "nothing changed");
    assert_eq!(data["warnings"], json!([]), "not running: the timeout applies");
    // A running session keeps the timeout it started with: the result says so, dry run or not.
    env.api.set_phase(&id, "Running");
    for dry_run in [true, false] {
        let r = s.call_tool("acp_update_session", json!({"session": id, "timeout": 600, "dry_run": dry_run}));
        assert!(!r.is_error, "{}", r.text);
        let warning = format!(
            "Session '{id}' is running, and a running session keeps the timeout it started with: the new timeout is \
             stored, not applied to this run."
        );
        assert_eq!(r.raw["structuredContent"]["warnings"], json!([warning]), "{}", r.text);
        assert!(r.text.contains(&format!("WARNING: {warning}")), "{}", r.text);
    }
    let r = s.call_tool("acp_update_session", json!({"session": id, "display_name": "N"}));
    assert_eq!(r.raw["structuredContent"]["warnings"], json!([]), "only a timeout change is warned about");
    finish(s);
}

#[test]
fn an_update_with_nothing_to_change_or_bad_values_sends_nothing() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "x");
    let mut s = env.spawn();
    let r = s.call_tool("acp_update_session", json!({"session": id}));
    assert!(r.is_error, "{}", r.text);
    assert_eq!(r.text, "Invalid argument: No fields to update. Provide display_name or timeout. Nothing was sent.");
    for (args, starts) in [
        (json!({"session": id, "timeout": 30}), "Invalid argument: timeout must be a whole number from 60 to 86400"),
        (json!({"session": id, "display_name": " "}), "Invalid argument: display_name \" \" is invalid"),
        (json!({"session": id, "display_name": "x".repeat(51)}), "Invalid argument: display_name"),
        (json!({"session": "../x", "timeout": 60}), "Invalid argument: session"),
    ] {
        let r = s.call_tool("acp_update_session", args.clone());
        assert!(r.is_error && r.text.starts_with(starts), "{args}: {}", r.text);
    }
    assert_eq!(env.api.request_count(), 0);
    finish(s);
}

#[test]
fn another_projects_session_is_neither_updated_nor_cloned() {
    let env = AmbientEnv::new();
    let theirs = rich_session(&env, OTHER);
    let before = env.api.session(&theirs).unwrap();
    let mut s = env.spawn();
    for (tool, args) in [
        ("acp_update_session", json!({"session": theirs, "display_name": "Mine"})),
        ("acp_update_session", json!({"session": theirs, "timeout": 600, "dry_run": true})),
        ("acp_clone_session", json!({"source_session": theirs, "new_display_name": "Mine"})),
        ("acp_clone_session", json!({"source_session": theirs, "new_display_name": "Mine", "dry_run": true})),
    ] {
        env.api.clear_requests();
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        assert_eq!(r.text, format!("Session '{theirs}' not found in project 'team-a' (cluster 'amb')."), "{tool}");
        assert_eq!(env.methods(), [format!("GET {ROOT}/sessions/{theirs}")], "{tool} {args}: one read, no more");
    }
    assert_eq!(env.api.session(&theirs).unwrap(), before, "untouched");
    assert!(env.api.session_ids("team-a").is_empty() && env.api.session_ids(OTHER).len() == 1, "nothing created");
    finish(s);
}

#[test]
fn the_gateway_cannot_update_or_clone_and_nothing_is_sent() {
    let (env, mut s) = gateway();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    for dry_run in [false, true] {
        let r = s.call_tool("acp_update_session", json!({"session": "s1", "timeout": 600, "dry_run": dry_run}));
        assert!(r.is_error, "{}", r.text);
        assert!(r.text.starts_with("Cannot update session 's1': the gateway cannot change a session's settings"));
        assert!(r.text.contains("nothing was sent") && r.text.contains("api: ambient"), "{}", r.text);
        let r = s.call_tool(
            "acp_clone_session",
            json!({"source_session": "s1", "new_display_name": "C", "dry_run": dry_run}),
        );
        assert!(r.is_error, "{}", r.text);
        assert_eq!(
            r.text,
            "Cannot clone session 's1': the gateway does not return a session's prompt, so a clone would be a \
             different session without the source's task. Nothing was sent. Use acp_create_session with the prompt \
             instead."
        );
    }
    assert_eq!(env.gateway.request_count(), 0);
    finish(s);
}

// ---- acp_clone_session ----

#[test]
fn a_clone_copies_prompt_model_repos_labels_and_settings_and_records_the_parent() {
    let env = AmbientEnv::new();
    let src = rich_session(&env, "team-a");
    let mut s = env.spawn();
    let r = s.call_tool("acp_clone_session", json!({"source_session": src, "new_display_name": "Copy"}));
    assert!(!r.is_error, "{}", r.text);
    let data = &r.raw["structuredContent"];
    let id = data["session"].as_str().unwrap().to_string();
    assert_eq!(
        env.methods(),
        [
            format!("GET {ROOT}/sessions/{src}"),
            format!("GET {ROOT}/projects/team-a"),
            format!("POST {ROOT}/sessions"),
            format!("GET {ROOT}/sessions/{id}"),
        ],
        "a plain create, never the API's /clone (it drops the prompt)"
    );
    assert_eq!(
        posts(&env)[0].body_json(),
        json!({"name": "Copy", "project_id": "team-a", "prompt": "Fix the flaky test", "llm_model": "m-1",
               "timeout": 900, "llm_temperature": 0.3, "parent_session_id": src, "labels": "{\"team\":\"x\"}",
               "repo_url": "https://g/a",
               "repos": "[{\"url\":\"https://g/a\",\"branch\":\"dev\"},{\"url\":\"https://g/b\"}]"})
    );
    let stored = env.api.session(&id).unwrap();
    assert_eq!((&stored["prompt"], &stored["parent_session_id"]), (&json!("Fix the flaky test"), &json!(src)));
    assert_eq!(
        (&stored["name"], &stored["llm_model"], &stored["labels"]),
        (&json!("Copy"), &json!("m-1"), &json!("{\"team\":\"x\"}"))
    );
    assert_eq!(
        data["copied"],
        json!(["prompt", "model", "repos", "labels", "temperature", "timeout", "parent_session_id"])
    );
    assert_eq!((&data["source_session"], &data["prompt_stored"]), (&json!(src), &json!(true)));
    assert_eq!(data["stored"]["parent_session_id"], json!(src));
    assert!(
        r.text.starts_with(&format!("Session created: {id}\nProject: team-a (cluster 'amb')\nCloned from: {src}\n"))
    );
    assert!(
        r.text.contains(
            "Copied: prompt (18 characters), model m-1, repos (2), labels (team=x), temperature 0.3, \
                         timeout 900 s, parent_session_id\n"
        ),
        "{}",
        r.text
    );
    assert!(r.text.contains("Not copied: max_tokens (4000;"), "{}", r.text);
    finish(s);
}

#[test]
fn a_clone_dry_run_reads_the_source_and_shows_the_create_without_sending_it() {
    let env = AmbientEnv::new();
    let src = rich_session(&env, "team-a");
    let mut s = env.spawn();
    let r =
        s.call_tool("acp_clone_session", json!({"source_session": src, "new_display_name": "Copy", "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.methods(), [format!("GET {ROOT}/sessions/{src}")]);
    let request = &r.raw["structuredContent"]["request"];
    assert_eq!((&request["method"], &request["body"]["prompt"]), (&json!("POST"), &json!("Fix the flaky test")));
    assert_eq!(request["body"]["parent_session_id"], json!(src));
    assert!(r.text.starts_with("DRY RUN - nothing was sent.") && r.text.contains(&format!("Would clone: {src}\n")));
    assert_eq!(env.api.session_ids("team-a"), vec![src.clone()], "nothing created");
    let bad = [
        json!({"source_session": src}),
        json!({"source_session": "session-1", "new_display_name": "C"}),
        json!({"source_session": src, "new_display_name": "a\nb"}),
    ];
    env.api.clear_requests();
    for args in bad {
        let r = s.call_tool("acp_clone_session", args.clone());
        assert!(r.is_error && r.text.to_lowercase().contains("nothing was sent"), "{args}: {}", r.text);
    }
    assert_eq!(env.api.request_count(), 0);
    finish(s);
}

// ---- acp_create_session_from_template ----

#[test]
fn a_template_on_ambient_sends_its_workflow_and_temperature_and_says_what_reaches_the_agent() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r = s.call_tool(
        "acp_create_session_from_template",
        json!({"template": "bugfix", "display_name": "Fixer", "prompt": "Fix #12",
               "repos": ["https://g/a", {"url": "https://g/b", "branch": "dev"}]}),
    );
    assert!(!r.is_error, "{}", r.text);
    let data = &r.raw["structuredContent"];
    let id = data["session"].as_str().unwrap().to_string();
    assert_eq!(
        posts(&env)[0].body_json(),
        json!({"name": "Fixer", "project_id": "team-a", "prompt": "Fix #12", "llm_temperature": 0.3,
               "workflow_id": "bugfix", "repo_url": "https://g/a",
               "repos": "[{\"url\":\"https://g/a\"},{\"url\":\"https://g/b\",\"branch\":\"dev\"}]"}),
        "no model: the API's default applies"
    );
    let stored = env.api.session(&id).unwrap();
    assert_eq!((&stored["workflow_id"], &stored["llm_temperature"]), (&json!("bugfix"), &json!(0.3)));
    assert_eq!(
        (&data["template"], &data["workflow"], &data["temperature"]),
        (&json!("bugfix"), &json!("bugfix"), &json!(0.3))
    );
    assert_eq!(data["reaches_agent"], json!(["prompt", "the first of 2 repositories", "temperature 0.3"]));
    assert_eq!(data["stored_only"], json!(["the 1 repository after it", "workflow 'bugfix'"]));
    assert_eq!(data["not_applied"], json!([]));
    assert!(r.text.contains("Template: bugfix (workflow 'bugfix', temperature 0.3)\n"), "{}", r.text);
    assert!(
        r.text.contains("Stored only, not passed to the agent by today's control plane: the 1 repository after it, workflow 'bugfix'"),
        "{}",
        r.text
    );
    finish(s);
}

#[test]
fn a_template_without_a_prompt_on_ambient_is_created_and_warns_that_the_agent_has_no_task() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r = s.call_tool("acp_create_session_from_template", json!({"template": "Exploration", "display_name": "Look"}));
    assert!(!r.is_error, "{}", r.text);
    let body = posts(&env)[0].body_json();
    assert_eq!(
        body,
        json!({"name": "Look", "project_id": "team-a", "prompt": "", "llm_temperature": 0.8,
                            "workflow_id": "codebase-exploration"})
    );
    assert!(r.text.contains("WARNING: No prompt was given"), "{}", r.text);
    assert!(!r.text.contains("did NOT store the prompt"), "none was asked for: {}", r.text);
    assert_eq!(r.raw["structuredContent"]["template"], json!("exploration"));
    finish(s);
}

#[test]
fn a_template_dry_run_or_bad_input_sends_nothing() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r = s.call_tool(
        "acp_create_session_from_template",
        json!({"template": "feature", "display_name": "F", "prompt": "p", "dry_run": true}),
    );
    assert!(!r.is_error && r.text.starts_with("DRY RUN - nothing was sent."), "{}", r.text);
    let body = &r.raw["structuredContent"]["request"]["body"];
    assert_eq!((&body["workflow_id"], &body["llm_temperature"]), (&json!("feature-development"), &json!(0.5)));
    for args in [
        json!({"template": "nope", "display_name": "F"}),
        json!({"template": "triage"}),
        json!({"template": "triage", "display_name": "F", "prompt": " "}),
        json!({"template": "triage", "display_name": "F", "repos": ["file:///etc"]}),
    ] {
        let r = s.call_tool("acp_create_session_from_template", args.clone());
        assert!(r.is_error && r.text.starts_with("Invalid argument:"), "{args}: {}", r.text);
    }
    assert_eq!(env.api.request_count(), 0);
    finish(s);
}

#[test]
fn a_template_on_the_gateway_needs_a_prompt_and_names_what_it_cannot_apply() {
    let (env, mut s) = gateway();
    env.gateway.set_faithful_backend(true);
    for dry_run in [false, true] {
        let r = s.call_tool(
            "acp_create_session_from_template",
            json!({"template": "triage", "display_name": "T", "dry_run": dry_run}),
        );
        assert!(r.is_error, "{}", r.text);
        assert!(r.text.starts_with("Invalid argument: prompt is required on this cluster: the gateway"), "{}", r.text);
    }
    assert_eq!(env.gateway.request_count(), 0);
    let r = s.call_tool(
        "acp_create_session_from_template",
        json!({"template": "triage", "display_name": "T", "prompt": "Triage #7", "repos": ["https://g/a"]}),
    );
    assert!(!r.is_error, "{}", r.text);
    let requests = env.gateway.requests();
    assert_eq!(requests[0].body_json(), json!({"task": "Triage #7", "repos": [{"url": "https://g/a"}]}));
    assert_eq!(requests.len(), 2, "the create and the read back");
    let data = &r.raw["structuredContent"];
    assert_eq!(data["not_applied"], json!(["display_name", "temperature", "workflow"]));
    assert_eq!((&data["reaches_agent"], &data["stored_only"]), (&json!(["prompt", "1 repository"]), &json!([])));
    assert!(r.text.contains("Not applied: display_name, temperature, workflow"), "{}", r.text);
    finish(s);
}

// ---- acp_get_session_metrics ----

#[test]
fn metrics_on_ambient_show_the_record_and_the_message_count() {
    let env = AmbientEnv::new();
    let id = env.api.add_session(
        "team-a",
        json!({"name": "", "prompt": "x", "phase": "Completed", "start_time": "2026-11-01T10:00:00Z",
               "completion_time": "2026-11-01T10:30:00Z", "sdk_restart_count": 2}),
    );
    for kind in ["user", "assistant", "assistant"] {
        env.api.add_message(&id, kind, "m");
    }
    let mut s = env.spawn();
    let r = s.call_tool("acp_get_session_metrics", json!({"session": id}));
    assert!(!r.is_error, "{}", r.text);
    let m = &r.raw["structuredContent"];
    assert_eq!(
        (&m["message_count"], &m["restart_count"], &m["temperature"], &m["max_tokens"], &m["model"]),
        (&json!(3), &json!(2), &json!(0.7), &json!(4000), &json!("claude-sonnet-4-6"))
    );
    assert_eq!((&m["duration_seconds"], &m["not_reported"]), (&json!(1800), &json!(["tokens", "tool_calls"])));
    for line in ["  Messages: 3\n", "  Restarts: 2\n", "  Temperature: 0.7\n", "  Max tokens: 4000\n"] {
        assert!(r.text.contains(line), "{line:?}: {}", r.text);
    }
    assert!(env.methods().last().unwrap().ends_with("/messages"), "{:?}", env.methods());
    // The messages fail: the record's metrics still come, and the failure is said.
    let route = format!("{ROOT}/sessions/{id}/messages");
    env.api.push_fault_on(RouteMatch::new("GET", &route), Fault::Status(403, json!({"reason": "no"}).to_string()));
    let r = s.call_tool("acp_get_session_metrics", json!({"session": id}));
    assert!(!r.is_error, "{}", r.text);
    let m = &r.raw["structuredContent"];
    assert!(m.get("message_count").is_none() && m["messages_error"].as_str().unwrap().contains("403"), "{m}");
    assert_eq!(m["not_reported"], json!(["tokens", "tool_calls", "message_count"]));
    assert!(r.text.contains("  Messages: could not be read (") && r.text.contains("Restarts: 2"), "{}", r.text);
    finish(s);
}

#[test]
fn metrics_on_the_gateway_read_the_record_only() {
    let (env, mut s) = gateway();
    env.gateway.add_session("team-a", "s1", "Completed", "2026-01-01T00:00:00Z");
    let r = s.call_tool("acp_get_session_metrics", json!({"session": "s1"}));
    assert!(!r.is_error, "{}", r.text);
    let paths: Vec<String> = env.gateway.requests().iter().map(|q| format!("{} {}", q.method, q.path)).collect();
    assert_eq!(paths, ["GET /v1/sessions/s1"]);
    let m: &Value = &r.raw["structuredContent"];
    assert_eq!(m["not_reported"], json!(["tokens", "tool_calls", "restart_count", "message_count"]));
    assert!(m.get("temperature").is_none() && m.get("message_count").is_none(), "{m}");
    assert!(r.text.contains("Not reported by the API: token counts, tool calls, restart count, message count."));
    finish(s);
}
