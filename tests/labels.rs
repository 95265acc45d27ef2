//! The label tools end to end: label and unlabel one session or up to 3 (one read, then one
//! PATCH of the whole label map, none when nothing changes), list by label (matched here,
//! exactly), and delete, stop or restart by label (confirm first, at most 3 matches) on a
//! cluster with `api: ambient`; and on the public-api gateway, which has no labels: a precise
//! refusal and not one request.

mod common;

use common::*;
use serde_json::{Value, json};

const OTHER: &str = common::ambient_env::OTHER;
const ROOT: &str = "/api/ambient/v1/sessions";

/// A session of `project` whose labels are this JSON text.
fn labeled(env: &AmbientEnv, project: &str, labels: &str) -> String {
    env.api.add_session(project, json!({"name": "", "prompt": "work", "labels": labels}))
}

/// The label text the fake stores for a session.
fn stored(env: &AmbientEnv, id: &str) -> Value {
    env.api.session(id).unwrap()["labels"].clone()
}

/// What every label change sent (or previewed) says: the whole map is written back.
const WHOLE_MAP: &str = "Note: the whole label map is written back, so a label change that another client makes at the same moment can be lost.";

fn patches(env: &AmbientEnv) -> Vec<Value> {
    env.api.requests().into_iter().filter(|r| r.method == "PATCH").map(|r| r.body_json()).collect()
}

fn sc(r: &ToolResult) -> &Value {
    &r.raw["structuredContent"]
}

#[test]
fn label_reads_once_patches_the_whole_map_and_says_what_changed() {
    let env = AmbientEnv::new();
    let id = labeled(&env, "team-a", r#"{"env":"dev","keep":"1"}"#);
    let mut s = env.spawn();
    let r = s.call_tool("acp_label_resource", json!({"name": id, "labels": {"team": "x", "env": "prod", "keep": "1"}}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(
        r.text,
        format!(
            "Labeled session '{id}' in project 'team-a' (cluster 'amb'): added team=x; changed env: dev → prod; \
             already set: keep.\nLabels now: {{\"env\":\"prod\",\"keep\":\"1\",\"team\":\"x\"}}\n{WHOLE_MAP}"
        )
    );
    assert_eq!(env.methods(), [format!("GET {ROOT}/{id}"), format!("PATCH {ROOT}/{id}")]);
    assert_eq!(patches(&env), [json!({"labels": "{\"env\":\"prod\",\"keep\":\"1\",\"team\":\"x\"}"})]);
    assert_eq!(stored(&env, &id), json!("{\"env\":\"prod\",\"keep\":\"1\",\"team\":\"x\"}"));
    assert_eq!(
        *sc(&r),
        json!({"cluster": "amb", "project": "team-a", "session": id, "dry_run": false, "outcome": "labeled",
               "added": {"team": "x"}, "changed": {"env": {"from": "dev", "to": "prod"}}, "removed": {},
               "unchanged": ["keep"], "absent": [], "labels": {"env": "prod", "keep": "1", "team": "x"}})
    );

    // The same labels again: nothing changes, so nothing but the read is sent.
    env.api.clear_requests();
    let r = s.call_tool(
        "acp_label_resource",
        json!({"name": id, "labels": {"team": "x"}, "resource_type": "agenticsession"}),
    );
    assert!(!r.is_error, "{}", r.text);
    assert!(
        r.text.starts_with(&format!(
            "Session '{id}' in project 'team-a' (cluster 'amb'): nothing to change (already set: team)."
        )),
        "{}",
        r.text
    );
    assert_eq!(sc(&r)["outcome"], json!("skipped"));
    assert_eq!(env.methods(), [format!("GET {ROOT}/{id}")]);
    finish(s);
}

#[test]
fn unlabel_removes_present_keys_and_absent_keys_are_not_an_error() {
    let env = AmbientEnv::new();
    let id = labeled(&env, "team-a", r#"{"env":"dev","team":"x"}"#);
    let mut s = env.spawn();
    let r = s.call_tool("acp_unlabel_resource", json!({"name": id, "label_keys": ["nope", "other"]}));
    assert!(!r.is_error, "absent keys are an answer: {}", r.text);
    assert_eq!(
        r.text,
        format!(
            "Session '{id}' in project 'team-a' (cluster 'amb'): nothing to remove (not present: nope, other).\nLabels now: {{\"env\":\"dev\",\"team\":\"x\"}}"
        )
    );
    assert_eq!((sc(&r)["outcome"].clone(), sc(&r)["absent"].clone()), (json!("skipped"), json!(["nope", "other"])));
    assert_eq!(env.methods(), [format!("GET {ROOT}/{id}")], "no PATCH when nothing changes");

    env.api.clear_requests();
    let r = s.call_tool("acp_unlabel_resource", json!({"name": id, "label_keys": ["env", "nope"]}));
    assert!(!r.is_error, "{}", r.text);
    assert!(
        r.text.starts_with(&format!(
            "Unlabeled session '{id}' in project 'team-a' (cluster 'amb'): removed env=dev; not present: nope."
        )),
        "{}",
        r.text
    );
    assert_eq!((sc(&r)["removed"].clone(), sc(&r)["labels"].clone()), (json!({"env": "dev"}), json!({"team": "x"})));
    assert_eq!(env.methods(), [format!("GET {ROOT}/{id}"), format!("PATCH {ROOT}/{id}")]);
    assert_eq!(patches(&env), [json!({"labels": "{\"team\":\"x\"}"})]);
    assert_eq!(stored(&env, &id), json!("{\"team\":\"x\"}"));
    // The last label: the stored text becomes an empty map.
    s.call_tool("acp_unlabel_resource", json!({"name": id, "label_keys": ["team"]}));
    assert_eq!(stored(&env, &id), json!("{}"));
    finish(s);
}

#[test]
fn dry_runs_read_and_show_the_change_without_sending_one() {
    let env = AmbientEnv::new();
    let a = labeled(&env, "team-a", r#"{"team":"x"}"#);
    let b = labeled(&env, "team-a", r#"{"team":"y"}"#);
    let mut s = env.spawn();
    let r = s.call_tool("acp_label_resource", json!({"name": a, "labels": {"team": "z"}, "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(
        r.text,
        format!(
            "DRY RUN - nothing was labeled.\n\nWould label session '{a}' in project 'team-a' (cluster 'amb'): change team: x → z.\nLabels would be: {{\"team\":\"z\"}}\n{WHOLE_MAP}"
        )
    );
    assert_eq!((sc(&r)["outcome"].clone(), sc(&r)["dry_run"].clone()), (json!("would_label"), json!(true)));
    let r = s.call_tool("acp_unlabel_resource", json!({"name": a, "label_keys": ["team"], "dry_run": true}));
    assert!(r.text.contains("Would unlabel session") && r.text.contains("remove team=x"), "{}", r.text);
    let r =
        s.call_tool("acp_bulk_label_resources", json!({"sessions": [a, b], "labels": {"team": "y"}, "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("DRY RUN - nothing was labeled.\n\nWould label 1 of 2 session(s)"), "{}", r.text);
    assert!(r.text.contains(&format!("  - {a}: would be labeled (status: pending): change team: x → y")), "{}", r.text);
    assert!(r.text.contains(&format!("  - {b}: skipped: nothing to change (already set: team)")), "{}", r.text);
    assert!(r.text.ends_with(&format!("{WHOLE_MAP}\n")), "a change would be sent: {}", r.text);
    let r =
        s.call_tool("acp_bulk_unlabel_resources", json!({"sessions": [a], "label_keys": ["team"], "dry_run": true}));
    assert_eq!(sc(&r)["results"][0]["outcome"], json!("would_unlabel"), "{}", r.text);
    assert!(env.methods().iter().all(|m| m.starts_with("GET ")), "{:?}", env.methods());
    assert_eq!(env.methods().len(), 5);
    assert_eq!((stored(&env, &a), stored(&env, &b)), (json!("{\"team\":\"x\"}"), json!("{\"team\":\"y\"}")));
    finish(s);
}

#[test]
fn another_projects_session_is_not_found_and_never_patched() {
    let env = AmbientEnv::new();
    let theirs = labeled(&env, OTHER, r#"{"team":"x"}"#);
    let ours = labeled(&env, "team-a", "{}");
    let mut s = env.spawn();
    for (tool, args) in [
        ("acp_label_resource", json!({"name": theirs, "labels": {"team": "y"}})),
        ("acp_label_resource", json!({"name": theirs, "labels": {"team": "y"}, "dry_run": true})),
        ("acp_unlabel_resource", json!({"name": theirs, "label_keys": ["team"]})),
    ] {
        env.api.clear_requests();
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        assert_eq!(r.text, format!("Session '{theirs}' not found in project 'team-a' (cluster 'amb')."), "{tool}");
        assert_eq!(env.methods(), [format!("GET {ROOT}/{theirs}")], "{tool}: one read, no more");
    }
    env.api.clear_requests();
    let missing = common::ambient::ksuid();
    let r = s.call_tool(
        "acp_bulk_label_resources",
        json!({"sessions": [ours, theirs, missing], "labels": {"team": "y"}, "confirm": true}),
    );
    assert!(r.is_error, "two were not found: {}", r.text);
    assert!(r.text.starts_with("Labeled 1 of 3 session(s) in project 'team-a' (cluster 'amb'):"), "{}", r.text);
    assert!(r.text.contains(&format!("  - {ours}: labeled (status: pending): added team=y")), "{}", r.text);
    let outcomes: Vec<&Value> = sc(&r)["results"].as_array().unwrap().iter().map(|i| &i["outcome"]).collect();
    assert_eq!(outcomes, [&json!("labeled"), &json!("not_found"), &json!("not_found")]);
    assert_eq!(sc(&r)["results"][0]["note"], json!("added team=y"));
    let patched: Vec<String> = env.methods().into_iter().filter(|m| m.starts_with("PATCH")).collect();
    assert_eq!(patched, [format!("PATCH {ROOT}/{ours}")]);
    assert_eq!(stored(&env, &theirs), json!("{\"team\":\"x\"}"), "the other project's session is untouched");
    assert_eq!(stored(&env, &ours), json!("{\"team\":\"y\"}"));
    let r = s.call_tool("acp_bulk_unlabel_resources", json!({"sessions": [ours], "label_keys": ["team"]}));
    assert!(r.is_error && r.text.contains("requires confirm=true"), "{}", r.text);
    finish(s);
}

/// Labels another client stored in a shape we cannot read whole are never written over.
#[test]
fn labels_that_cannot_be_read_whole_are_not_overwritten() {
    let env = AmbientEnv::new();
    let odd = labeled(&env, "team-a", r#"{"team":"x","replicas":3}"#);
    let huge = labeled(&env, "team-a", &format!("{{\"k\":\"{}\"}}", "v".repeat(30_000)));
    let mut s = env.spawn();
    for id in [&odd, &huge] {
        env.api.clear_requests();
        let r = s.call_tool("acp_label_resource", json!({"name": id, "labels": {"team": "y"}}));
        assert!(r.is_error, "{}", r.text);
        assert!(r.text.contains("are not a JSON map of strings that can be read whole"), "{}", r.text);
        assert!(r.text.contains("nothing was sent"), "{}", r.text);
        assert_eq!(env.methods(), [format!("GET {ROOT}/{id}")], "one read, no PATCH");
    }
    assert_eq!(stored(&env, &odd), json!(r#"{"team":"x","replicas":3}"#));
    // A rename of such a session still works: it does not touch the labels.
    let r = s.call_tool("acp_update_session", json!({"session": odd, "display_name": "renamed"}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(stored(&env, &odd), json!(r#"{"team":"x","replicas":3}"#));
    finish(s);
}

#[test]
fn invalid_labels_and_keys_send_nothing() {
    let env = AmbientEnv::new();
    let id = labeled(&env, "team-a", "{}");
    let mut s = env.spawn();
    let cases = [
        ("acp_label_resource", json!({"name": id, "labels": {}}), "labels must hold 1 to 20 labels"),
        ("acp_label_resource", json!({"name": id, "labels": {"bad key": "x"}}), "labels key \"bad key\" is invalid"),
        ("acp_label_resource", json!({"name": id, "labels": {"team": ""}}), "labels.team value \"\" is invalid"),
        ("acp_label_resource", json!({"name": id, "labels": {"team": 1}}), "labels.team"),
        ("acp_label_resource", json!({"name": id, "labels": {"a": "b"}, "resource_type": "pod"}), "resource_type"),
        ("acp_unlabel_resource", json!({"name": id, "label_keys": []}), "label_keys must list 1 to 20"),
        ("acp_unlabel_resource", json!({"name": id, "label_keys": ["-x"]}), "label_keys[0] \"-x\" is invalid"),
        ("acp_list_sessions_by_label", json!({"labels": {"a/b": "c"}}), "labels key \"a/b\" is invalid"),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": {"a": "b c"}, "confirm": true}), "labels.a value"),
        (
            "acp_bulk_label_resources",
            json!({"sessions": [id, "b", "c", "d"], "labels": {"a": "b"}, "confirm": true}),
            "more than the limit of 3",
        ),
        ("acp_label_resource", json!({"name": "Not-An-Id!", "labels": {"a": "b"}}), "name"),
    ];
    for (tool, args, says) in cases {
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        assert!(r.text.starts_with("Invalid argument: ") && r.text.contains(says), "{tool} {args}: {}", r.text);
        assert!(r.text.ends_with("Nothing was sent."), "{tool}: {}", r.text);
    }
    assert_eq!(env.api.request_count(), 0, "{:?}", env.methods());
    finish(s);
}

#[test]
fn the_public_api_gateway_refuses_every_label_tool_and_sends_nothing() {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    let update = "the gateway cannot change a session's settings or labels";
    let no_labels = "the gateway returns no labels with sessions and ignores a label selector";
    let labels = json!({"team": "x"});
    let cases = [
        ("acp_label_resource", json!({"name": "s1", "labels": labels}), update),
        ("acp_label_resource", json!({"name": "s1", "labels": labels, "dry_run": true}), update),
        ("acp_unlabel_resource", json!({"name": "s1", "label_keys": ["team"]}), update),
        ("acp_unlabel_resource", json!({"name": "s1", "label_keys": ["team"], "dry_run": true}), update),
        ("acp_bulk_label_resources", json!({"sessions": ["s1"], "labels": labels, "confirm": true}), update),
        ("acp_bulk_label_resources", json!({"sessions": ["s1"], "labels": labels, "dry_run": true}), update),
        ("acp_bulk_unlabel_resources", json!({"sessions": ["s1"], "label_keys": ["a"], "confirm": true}), update),
        ("acp_list_sessions_by_label", json!({"labels": labels}), no_labels),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": labels, "confirm": true}), no_labels),
        ("acp_bulk_delete_sessions_by_label", json!({"labels": labels, "dry_run": true}), no_labels),
        ("acp_bulk_stop_sessions_by_label", json!({"labels": labels, "confirm": true}), no_labels),
        ("acp_bulk_restart_sessions_by_label", json!({"labels": labels, "dry_run": true}), no_labels),
    ];
    for (tool, args, says) in cases {
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        assert!(r.text.contains(says), "{tool} {args}: {}", r.text);
        assert!(r.text.contains("nothing was sent") && r.text.contains("api: ambient"), "{tool}: {}", r.text);
        assert!(!r.text.contains("not found"), "{tool}: a refusal is not a missing session: {}", r.text);
        assert_eq!(env.gateway.request_count(), 0, "{tool} {args}: sent {:?}", env.gateway.requests());
    }
    finish(s);
}

/// team=x; team=x2; team=x and env=prod; env=prod; none; and team=x in the other project.
fn population(env: &AmbientEnv) -> [String; 6] {
    [
        labeled(env, "team-a", r#"{"team":"x"}"#),
        labeled(env, "team-a", r#"{"team":"x2"}"#),
        labeled(env, "team-a", r#"{"env":"prod","team":"x"}"#),
        labeled(env, "team-a", r#"{"env":"prod"}"#),
        env.session("team-a", "no labels"),
        labeled(env, OTHER, r#"{"team":"x"}"#),
    ]
}

fn ids(r: &ToolResult, key: &str) -> Vec<String> {
    let items = sc(r)[key].as_array().unwrap_or_else(|| panic!("no {key}: {}", r.raw));
    items
        .iter()
        .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i["id"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn list_by_label_matches_every_label_exactly_here() {
    let env = AmbientEnv::new();
    let [x, _x2, x_prod, _prod, _none, _theirs] = population(&env);
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions_by_label", json!({"labels": {"team": "x"}}));
    assert!(!r.is_error, "{}", r.text);
    assert!(
        r.text.starts_with(
            "Found 2 session(s) in project 'team-a' (cluster 'amb')\nLabel filter: {\"team\":\"x\"}\nSearched all 5 session(s) of the project.\n\nSessions:\n"
        ),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(&format!("- {x_prod}\n")) && r.text.contains("  Labels: {\"env\":\"prod\",\"team\":\"x\"}"),
        "{}",
        r.text
    );
    assert_eq!(ids(&r, "sessions"), [x_prod.clone(), x.clone()], "newest first");
    assert_eq!((sc(&r)["searched"].clone(), sc(&r)["may_have_more"].clone()), (json!(5), json!(false)));
    assert_eq!(sc(&r)["labels"], json!({"team": "x"}));
    let list = env.methods();
    assert_eq!(list.len(), 1, "one list, no label search on the server: {list:?}");
    assert!(list[0].starts_with(&format!("GET {ROOT}?project_id=team-a&")) && !list[0].contains("search"), "{list:?}");
    let r = s.call_tool("acp_list_sessions_by_label", json!({"labels": {"team": "x", "env": "prod"}}));
    assert_eq!(ids(&r, "sessions"), [x_prod]);
    let r = s.call_tool("acp_list_sessions_by_label", json!({"labels": {"team": "X"}}));
    assert!(!r.is_error && r.text.starts_with("Found 0 session(s)") && !r.text.contains("Sessions:"), "{}", r.text);
    // A list that did not reach every session says so.
    let only = env.api.session(&x).unwrap();
    let page = json!({"kind": "SessionList", "page": 1, "size": 1, "total": 5000, "items": [only]});
    env.api.push_fault_on(RouteMatch::new("GET", ROOT), Fault::Status(200, page.to_string()));
    let r = s.call_tool("acp_list_sessions_by_label", json!({"labels": {"team": "x"}}));
    assert!(
        r.text.contains(
            "Searched only the 1 newest session(s): older sessions exist that were not searched, and may match."
        ),
        "{}",
        r.text
    );
    assert_eq!(sc(&r)["may_have_more"], json!(true));
    finish(s);
}

#[test]
fn delete_by_label_needs_confirm_first_and_deletes_only_exact_matches() {
    let env = AmbientEnv::new();
    let [x, x2, x_prod, prod, none, theirs] = population(&env);
    let mut s = env.spawn();
    let r = s.call_tool("acp_bulk_delete_sessions_by_label", json!({"labels": {"env": "prod"}}));
    assert!(r.is_error && r.text.contains("confirm: bulk delete by label requires confirm=true"), "{}", r.text);
    assert!(r.text.ends_with("Nothing was sent."), "{}", r.text);
    assert_eq!(env.api.request_count(), 0);

    let r = s.call_tool("acp_bulk_delete_sessions_by_label", json!({"labels": {"team": "nobody"}, "confirm": true}));
    assert!(!r.is_error, "no match is an answer: {}", r.text);
    assert_eq!(
        r.text,
        "No sessions in project 'team-a' (cluster 'amb') match labels {\"team\":\"nobody\"}; nothing was deleted.\n\
         Label filter: {\"team\":\"nobody\"}\nSearched all 5 session(s) of the project.\n"
    );
    assert_eq!((sc(&r)["match_count"].clone(), sc(&r)["results"].clone()), (json!(0), json!([])));
    assert_eq!(env.methods().len(), 1, "the list only: {:?}", env.methods());

    env.api.clear_requests();
    let r = s.call_tool("acp_bulk_delete_sessions_by_label", json!({"labels": {"env": "prod"}, "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("DRY RUN - nothing was deleted.\n\nWould delete 2 of 2 session(s)"), "{}", r.text);
    assert_eq!(ids(&r, "matched"), [prod.clone(), x_prod.clone()]);
    assert!(r.text.contains("Label filter: {\"env\":\"prod\"}"), "{}", r.text);
    assert!(env.methods().iter().all(|m| m.starts_with("GET ")), "{:?}", env.methods());

    env.api.clear_requests();
    let r = s.call_tool(
        "acp_bulk_delete_sessions_by_label",
        json!({"labels": {"team": "x", "env": "prod"}, "confirm": true}),
    );
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Deleted 1 of 1 session(s) in project 'team-a' (cluster 'amb'):"), "{}", r.text);
    let deletes: Vec<String> = env.methods().into_iter().filter(|m| m.starts_with("DELETE")).collect();
    assert_eq!(deletes, [format!("DELETE {ROOT}/{x_prod}")]);
    assert!(env.api.session(&x_prod).is_none());
    for kept in [&x, &x2, &prod, &none, &theirs] {
        assert!(env.api.session(kept).is_some(), "{kept} has not every label, or is another project's");
    }
    finish(s);
}

#[test]
fn more_than_three_matches_are_refused_and_nothing_is_touched() {
    let env = AmbientEnv::new();
    let many: Vec<String> = (0..4).map(|_| labeled(&env, "team-a", r#"{"batch":"7"}"#)).collect();
    for id in &many {
        env.api.set_phase(id, "Running");
    }
    let mut s = env.spawn();
    for tool in ["acp_bulk_delete_sessions_by_label", "acp_bulk_stop_sessions_by_label"] {
        for confirm in [json!({"confirm": true}), json!({"dry_run": true})] {
            env.api.clear_requests();
            let mut args = json!({"labels": {"batch": "7"}});
            args.as_object_mut().unwrap().extend(confirm.as_object().unwrap().clone());
            let r = s.call_tool(tool, args.clone());
            assert!(r.is_error, "{tool} {args}: {}", r.text);
            assert!(r.text.starts_with("Refused: 4 sessions in project 'team-a' (cluster 'amb') match labels {\"batch\":\"7\"}, more than the limit of 3 per call"), "{}", r.text);
            assert!(r.text.contains("Narrow the labels"), "{}", r.text);
            for id in &many {
                assert!(r.text.contains(id.as_str()), "lists every match: {}", r.text);
            }
            assert_eq!(sc(&r)["match_count"], json!(4));
            assert_eq!(env.methods().len(), 1, "{tool}: the list only: {:?}", env.methods());
        }
    }
    for id in &many {
        assert_eq!(env.api.session(id).unwrap()["phase"], json!("Running"));
    }
    finish(s);
}

#[test]
fn stop_and_restart_by_label_act_on_the_matches_and_report_each() {
    let env = AmbientEnv::new();
    let a = labeled(&env, "team-a", r#"{"pool":"blue"}"#);
    let b = labeled(&env, "team-a", r#"{"pool":"blue"}"#);
    let other = labeled(&env, "team-a", r#"{"pool":"green"}"#);
    for id in [&a, &b, &other] {
        env.api.set_phase(id, "Running");
    }
    env.api.set_phase(&b, "Stopped");
    let mut s = env.spawn();
    let r = s.call_tool("acp_bulk_stop_sessions_by_label", json!({"labels": {"pool": "blue"}, "confirm": true}));
    assert!(!r.is_error, "stopped and skipped: {}", r.text);
    assert!(r.text.starts_with("Stopped 1 of 2 session(s)"), "{}", r.text);
    assert!(r.text.contains(&format!("  - {a}: stopped (status: stopping)")), "{}", r.text);
    assert!(
        r.text.ends_with("Label filter: {\"pool\":\"blue\"}\nSearched all 3 session(s) of the project.\n"),
        "{}",
        r.text
    );
    let posts: Vec<String> = env.methods().into_iter().filter(|m| m.starts_with("POST")).collect();
    assert_eq!(posts, [format!("POST {ROOT}/{b}/stop"), format!("POST {ROOT}/{a}/stop")]);
    assert_eq!(env.api.session(&other).unwrap()["phase"], json!("Running"));

    env.api.clear_requests();
    let r = s.call_tool("acp_bulk_restart_sessions_by_label", json!({"labels": {"pool": "blue"}, "confirm": true}));
    assert!(r.text.starts_with("Restarted 1 of 2"), "{}", r.text);
    // Stopping is not a phase a restart has nothing to do in: it failed, and says the phase.
    let outcomes: Vec<&Value> = sc(&r)["results"].as_array().unwrap().iter().map(|i| &i["outcome"]).collect();
    assert_eq!(outcomes, [&json!("restarted"), &json!("failed")]);
    assert!(r.is_error && r.text.contains("the session is in phase stopping"), "{}", r.text);
    assert_eq!(env.api.session(&b).unwrap()["phase"], json!("Pending"));
    finish(s);
}
