use super::*;
use crate::gateway::Session;
use crate::gateway::memory::MemoryApi;
use serde_json::json;

/// Our output schemas, read strictly: an undeclared property is a mismatch.
fn conforms(schema: &Value, v: &Value, path: &str) -> Result<(), crate::schema::Mismatch> {
    let pattern = |p: &str, s: &str| p != "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" || crate::validate::is_dns1123_label(s);
    crate::schema::Checker { pattern: &pattern, closed: true }.check(schema, v, path)
}

fn config() -> crate::config::Config {
    crate::config::parse(
        "clusters:\n  dev:\n    server: https://gw.example.com\n    token: tok-unit-abcdef\n    default_project: p\n  two:\n    server: https://gw2.example.com\n    default_project: q\ndefault_cluster: dev\n\
         max_mutations_per_minute: 10000\n",
        None,
    )
    .unwrap()
}

fn context() -> Context {
    Context::with_config(config(), Box::new(memory_api()))
}

fn memory_api() -> MemoryApi {
    let mut api = MemoryApi::default();
    let session = |id: &str| Session {
        id: id.into(),
        status: "Stopped".into(),
        task: "t".into(),
        model: Some("m".into()),
        created_at: Some("2026-01-01T00:00:00Z".into()),
        completed_at: Some("2026-01-02T00:00:00Z".into()),
        ..Session::default()
    };
    api.sessions.extend(["s1", "s2", "s3"].map(|id| ("p".to_string(), session(id))));
    api.sessions[0].1.labels.insert("team".into(), "x".into());
    api
}

#[test]
fn every_tool_result_conforms_to_its_output_schema() {
    let cases = [
        ("acp_list_sessions", json!({"status": "stopped", "limit": 2})),
        ("acp_get_session", json!({"session": "s1"})),
        ("acp_get_session_metrics", json!({"session": "s1"})),
        ("acp_list_projects", json!({})),
        ("acp_get_session_transcript", json!({"session": "s1"})),
        ("acp_send_message", json!({"session": "s1", "message": "go on", "dry_run": true})),
        ("acp_send_message", json!({"session": "s1", "message": "go on"})),
        ("acp_send_message", json!({"session": "s2", "message": "and you"})),
        ("acp_get_session_transcript", json!({"session": "s1"})),
        ("acp_get_session_transcript", json!({"session": "s1", "format": "markdown"})),
        ("acp_create_session", json!({"initial_prompt": "x", "dry_run": true, "repos": ["https://g/x/y"]})),
        ("acp_create_session", json!({"initial_prompt": "x", "model": "m", "timeout": 900})),
        ("acp_create_session_from_template", json!({"template": "bugfix", "display_name": "B", "dry_run": true})),
        ("acp_create_session_from_template", json!({"template": "triage", "display_name": "T", "prompt": "p"})),
        ("acp_clone_session", json!({"source_session": "s1", "new_display_name": "C", "dry_run": true})),
        ("acp_clone_session", json!({"source_session": "s1", "new_display_name": "C"})),
        ("acp_update_session", json!({"session": "s1", "timeout": 900, "dry_run": true})),
        ("acp_update_session", json!({"session": "s1", "display_name": "N", "timeout": 900})),
        ("acp_stop_session", json!({"session": "s3", "dry_run": true})),
        ("acp_stop_session", json!({"session": "s3"})),
        ("acp_restart_session", json!({"session": "s3", "dry_run": true})),
        ("acp_restart_session", json!({"session": "s3"})),
        ("acp_restart_session", json!({"session": "s3"})),
        ("acp_bulk_stop_sessions", json!({"sessions": ["s3", "zz"], "dry_run": true})),
        ("acp_bulk_stop_sessions", json!({"sessions": ["s3", "zz"], "confirm": true})),
        ("acp_bulk_stop_sessions", json!({"sessions": ["s3"], "confirm": true})),
        ("acp_bulk_restart_sessions", json!({"sessions": ["s3", "zz"], "dry_run": true})),
        ("acp_bulk_restart_sessions", json!({"sessions": ["s3", "zz"], "confirm": true})),
        ("acp_bulk_restart_sessions", json!({"sessions": ["s3"], "confirm": true})),
        ("acp_stop_session", json!({"session": "s3"})),
        ("acp_delete_session", json!({"session": "s1", "dry_run": true})),
        ("acp_delete_session", json!({"session": "s1"})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["s2", "zz"], "confirm": true})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["s3"], "dry_run": true})),
        ("acp_label_resource", json!({"name": "s3", "labels": {"team": "x"}, "dry_run": true})),
        ("acp_label_resource", json!({"name": "s3", "labels": {"team": "x", "env": "dev"}})),
        ("acp_label_resource", json!({"name": "s3", "labels": {"team": "x"}})),
        ("acp_unlabel_resource", json!({"name": "s3", "label_keys": ["env", "nope"], "dry_run": true})),
        ("acp_unlabel_resource", json!({"name": "s3", "label_keys": ["env"]})),
        ("acp_unlabel_resource", json!({"name": "s3", "label_keys": ["env"]})),
        ("acp_list_sessions_by_label", json!({"labels": {"team": "x"}})),
        ("acp_bulk_label_resources", json!({"sessions": ["s3", "zz"], "labels": {"a": "1"}, "dry_run": true})),
        ("acp_bulk_label_resources", json!({"sessions": ["s3", "zz"], "labels": {"a": "1"}, "confirm": true})),
        ("acp_bulk_unlabel_resources", json!({"sessions": ["s3"], "label_keys": ["a", "b"], "dry_run": true})),
        ("acp_bulk_unlabel_resources", json!({"sessions": ["s3"], "label_keys": ["a"], "confirm": true})),
        ("acp_bulk_stop_sessions_by_label", json!({"labels": {"team": "x"}, "dry_run": true})),
        ("acp_bulk_restart_sessions_by_label", json!({"labels": {"team": "x"}, "confirm": true})),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": {"team": "none"}, "confirm": true})),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": {"team": "x"}, "confirm": true})),
        ("acp_list_clusters", json!({})),
        ("acp_whoami", json!({})),
        ("acp_switch_cluster", json!({"cluster": "two"})),
        ("acp_whoami", json!({})),
    ];
    let mut ctx = context();
    for (name, args) in cases {
        let tool = find(name).unwrap();
        let out = call(&mut ctx, tool, &args);
        let raw = out.structured.unwrap_or_else(|| panic!("{name} {args}: no structured content: {}", out.text));
        let data: Value = serde_json::from_str(raw.get()).unwrap();
        let schema = tool.output_schema();
        conforms(&schema, &data, name).unwrap_or_else(|e| panic!("{name} {args}: {e}\n{data}"));
    }
}

#[test]
fn the_validator_can_fail() {
    let schema = find("acp_list_sessions").unwrap().output_schema();
    assert!(conforms(&schema, &json!({"cluster": "c"}), "x").is_err());
    let bad = json!({"cluster": "c", "project": "p", "sessions": [{"id": 1}], "total": 1, "offset": 0, "next": null, "returned_by_gateway": 0, "may_have_more": false, "filters": {}});
    assert!(conforms(&schema, &bad, "x").unwrap_err().0.contains("sessions[0]"));
    let extra = json!({"cluster": "c", "project": "p", "sessions": [], "total": 0, "offset": 0, "next": null, "returned_by_gateway": 0, "may_have_more": false, "filters": {}, "x": 1});
    assert!(conforms(&schema, &extra, "x").unwrap_err().0.contains("undeclared"));
}

#[test]
fn tool_names_are_unique_and_output_schemas_are_objects() {
    for (i, t) in TOOLS.iter().enumerate() {
        assert!(TOOLS[..i].iter().all(|o| o.name() != t.name()), "{}", t.name());
        assert!(t.name().starts_with("acp_") && !t.description().is_empty(), "{}", t.name());
        assert_eq!(t.output_schema()["type"], json!("object"));
    }
}

/// Every declared parameter is a field of the tool's typed arguments, and the other way
/// round: arguments with every parameter given read back into the struct without loss.
#[test]
fn input_schemas_refuse_what_validation_refuses() {
    let schema_accepts = |t: &dyn AnyTool, args: &Value| {
        let schema = params::schema(t.params());
        crate::schema::Checker { pattern: &|_, _| true, closed: false }.check(&schema, args, t.name()).is_ok()
    };
    for t in TOOLS {
        assert!(!schema_accepts(*t, &json!({"no_such_argument": 1})), "{}: additionalProperties", t.name());
        for p in t.params() {
            assert!(!schema_accepts(*t, &json!({ p.name: null })), "{}.{}: null", t.name(), p.name);
        }
    }
}

/// The context tax (issue 14, goal 4): what a model reads of `tools/list` on every turn, each
/// tool's name, description and input schema as compact JSON (title, annotations and output
/// schema are not counted), stays within upstream's 13,400 bytes for its 26 tools. Counted as
/// Python's `json.dumps` counts (a non-ASCII character as its `\uXXXX` escape), like the
/// README's measurement.
#[test]
fn the_tool_list_a_model_reads_stays_small() {
    const BUDGET: usize = 13_400;
    let escaped = |c: char| match c as u32 {
        0..0x80 => 1,
        0x80..0x10000 => 6,
        _ => 12,
    };
    let size = |t: &dyn AnyTool| {
        let v = json!({"name": t.name(), "description": t.description(), "inputSchema": params::schema(t.params())});
        serde_json::to_string(&v).unwrap().chars().map(escaped).sum::<usize>()
    };
    let mut sizes: Vec<(usize, &str)> = TOOLS.iter().map(|t| (size(*t), t.name())).collect();
    let total: usize = sizes.iter().map(|(n, _)| n).sum();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let table: String = sizes.iter().map(|(n, name)| format!("\n{n:>6}  {name}")).collect();
    assert!(total <= BUDGET, "tools/list shows a model {total} bytes, more than {BUDGET}; per tool:{table}");
}

/// The annotations clients see come from each tool's `Effect`, and mean what it says.
#[test]
fn effects_match_what_the_tools_do() {
    let effect = |name: &str| find(name).unwrap().effect();
    for name in ["acp_list_sessions", "acp_get_session", "acp_get_session_transcript"] {
        assert_eq!(effect(name), Effect::READ, "{name}");
    }
    for name in ["acp_list_clusters", "acp_whoami"] {
        assert_eq!(effect(name), Effect::LOCAL_READ, "{name}");
    }
    for name in ["acp_delete_session", "acp_bulk_delete_sessions", "acp_bulk_delete_sessions_by_label"] {
        assert!(effect(name).destructive() && !effect(name).read_only(), "{name}");
    }
    for name in ["acp_create_session", "acp_send_message", "acp_create_session_from_template", "acp_clone_session"] {
        assert!(!effect(name).idempotent && !effect(name).read_only() && !effect(name).destructive(), "{name}");
    }
    let control = [
        "acp_stop_session",
        "acp_restart_session",
        "acp_bulk_stop_sessions",
        "acp_bulk_restart_sessions",
        "acp_label_resource",
        "acp_unlabel_resource",
        "acp_bulk_label_resources",
        "acp_bulk_unlabel_resources",
        "acp_bulk_stop_sessions_by_label",
        "acp_bulk_restart_sessions_by_label",
        "acp_update_session",
    ];
    assert_eq!(effect("acp_list_sessions_by_label"), Effect::READ);
    for name in control {
        assert_eq!(effect(name), Effect::CONTROL, "{name}");
        assert!(!effect(name).destructive() && !effect(name).read_only(), "{name}");
    }
    assert!(!effect("acp_create_session").idempotent && !effect("acp_create_session").read_only());
    // Switching cluster and logging in change only this process's state: read-only.
    assert!(!effect("acp_switch_cluster").remote && effect("acp_switch_cluster").read_only());
    assert!(effect("acp_login").read_only());
}

/// Read-only and local tools send nothing that changes the platform; dry runs neither.
#[test]
fn read_only_local_and_dry_run_calls_change_nothing() {
    use crate::gateway::memory::Recording;
    let cases = [
        ("acp_list_sessions", json!({})),
        ("acp_get_session", json!({"session": "s1"})),
        ("acp_get_session_metrics", json!({"session": "s1"})),
        ("acp_get_session_logs", json!({"session": "s1"})),
        ("acp_list_projects", json!({})),
        ("acp_get_session_transcript", json!({"session": "s1"})),
        ("acp_get_session_transcript", json!({"session": "s1", "format": "markdown"})),
        ("acp_send_message", json!({"session": "s1", "message": "x", "dry_run": true})),
        ("acp_list_clusters", json!({})),
        ("acp_whoami", json!({})),
        ("acp_create_session", json!({"initial_prompt": "x", "dry_run": true})),
        ("acp_create_session_from_template", json!({"template": "feature", "display_name": "F", "dry_run": true})),
        ("acp_clone_session", json!({"source_session": "s1", "new_display_name": "C", "dry_run": true})),
        ("acp_update_session", json!({"session": "s1", "display_name": "N", "dry_run": true})),
        ("acp_update_session", json!({"session": "s1"})),
        ("acp_delete_session", json!({"session": "s1", "dry_run": true})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["s1", "s2"], "dry_run": true})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["s1", "s2"]})),
        ("acp_stop_session", json!({"session": "s1", "dry_run": true})),
        ("acp_restart_session", json!({"session": "s1", "dry_run": true})),
        ("acp_bulk_stop_sessions", json!({"sessions": ["s1", "s2"], "dry_run": true})),
        ("acp_bulk_stop_sessions", json!({"sessions": ["s1", "s2"]})),
        ("acp_bulk_restart_sessions", json!({"sessions": ["s1", "zz"], "dry_run": true})),
        ("acp_bulk_restart_sessions", json!({"sessions": ["s1", "s2"], "confirm": false})),
        ("acp_list_sessions_by_label", json!({"labels": {"team": "x"}})),
        ("acp_label_resource", json!({"name": "s1", "labels": {"team": "y"}, "dry_run": true})),
        ("acp_unlabel_resource", json!({"name": "s1", "label_keys": ["team"], "dry_run": true})),
        ("acp_bulk_label_resources", json!({"sessions": ["s1", "s2"], "labels": {"a": "1"}, "dry_run": true})),
        ("acp_bulk_label_resources", json!({"sessions": ["s1", "s2"], "labels": {"a": "1"}})),
        ("acp_bulk_unlabel_resources", json!({"sessions": ["s1"], "label_keys": ["team"], "dry_run": true})),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": {"team": "x"}, "dry_run": true})),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": {"team": "x"}})),
        ("acp_bulk_stop_sessions_by_label", json!({"labels": {"team": "x"}, "dry_run": true})),
        ("acp_bulk_restart_sessions_by_label", json!({"labels": {"team": "x"}, "confirm": false})),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": {"team": "nobody"}, "confirm": true})),
    ];
    for (name, args) in cases {
        let (api, log) = Recording::new(memory_api());
        let mut ctx = Context::with_config(config(), Box::new(api));
        let tool = find(name).unwrap();
        let out = call(&mut ctx, tool, &args);
        let calls = log.borrow();
        assert!(calls.iter().all(|c| !c.op.changes()), "{name} {args}: {calls:?}: {}", out.text);
        if !tool.effect().remote {
            assert!(calls.is_empty(), "{name}: local, but sent {calls:?}");
        }
    }
    // And the checks can fail: a real delete is seen as a change.
    let (api, log) = Recording::new(memory_api());
    let mut ctx = Context::with_config(config(), Box::new(api));
    call(&mut ctx, find("acp_delete_session").unwrap(), &json!({"session": "s1"}));
    assert_eq!(log.borrow().iter().filter(|c| c.op.changes()).count(), 1);
    // And a real send is one too.
    let (api, log) = Recording::new(memory_api());
    let mut ctx = Context::with_config(config(), Box::new(api));
    let out = call(&mut ctx, find("acp_send_message").unwrap(), &json!({"session": "s1", "message": "x"}));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(log.borrow().iter().map(|c| c.op).collect::<Vec<_>>(), [crate::gateway::OpKind::SendMessage]);
    call(&mut ctx, find("acp_restart_session").unwrap(), &json!({"session": "s2"}));
    assert_eq!(log.borrow().iter().filter(|c| c.op.changes()).count(), 2);
}

/// Stop and restart in memory, with the ambient 409 rules: a refusal names the phase and is
/// not an error; the result carries the new status.
#[test]
fn stop_and_restart_report_the_new_status_and_a_refusal_is_an_answer() {
    let mut ctx = context();
    let mut run = |name: &str, args: Value| {
        let out = call(&mut ctx, find(name).unwrap(), &args);
        let data: Value = out.structured.map(|r| serde_json::from_str(r.get()).unwrap()).unwrap_or_default();
        (out.is_error, out.text, data)
    };
    let (err, text, data) = run("acp_stop_session", json!({"session": "s1"}));
    assert!(!err && text == "Session 's1' is not running (phase Stopped); nothing to stop.", "{text}");
    assert_eq!(data, json!({"session": "s1", "outcome": "skipped", "status": "stopped"}));
    let (err, text, data) = run("acp_restart_session", json!({"session": "s1"}));
    assert!(!err && text.starts_with("Restarted session 's1' in project 'p'"), "{text}");
    assert_eq!(data["status"], json!("pending"));
    let (err, text, _) = run("acp_restart_session", json!({"session": "s1"}));
    assert!(!err && text == "Session 's1' is already running (phase Pending); nothing to restart.", "{text}");
    let (err, text, _) = run("acp_stop_session", json!({"session": "s1", "dry_run": true}));
    assert!(!err && text.contains("Would stop session 's1' (status: pending)"), "{text}");
    let (err, text, _) = run("acp_stop_session", json!({"session": "nope"}));
    assert!(err && text.contains("not found in project 'p'"), "{text}");
    let (err, text, data) = run("acp_bulk_stop_sessions", json!({"sessions": ["s1", "s2"], "confirm": true}));
    assert!(!err, "skipped is not a failure: {text}");
    assert!(text.contains("Stopped 1 of 2") && text.contains("  - s1: stopped (status: stopped)"), "{text}");
    assert_eq!(data["results"][1]["outcome"], json!("skipped"));
}
