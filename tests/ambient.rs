//! The session tools on a cluster with `api: ambient`, end to end against the fake ambient
//! API server: the project boundary the server does not keep (docs/ambient-api.md §12.4),
//! read-before-delete, the project check before create, and ids of the right syntax.

mod common;

use common::*;

const OTHER: &str = common::ambient_env::OTHER;
use serde_json::json;

#[test]
fn a_list_asks_for_the_project_and_shows_only_its_sessions() {
    let env = AmbientEnv::new();
    let ours = env.session("team-a", "ours");
    let theirs = env.session(OTHER, "theirs");
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.contains(&format!("- {ours}\n")) && !r.text.contains(&theirs), "{}", r.text);
    let requests = env.methods();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].starts_with("GET /api/ambient/v1/sessions?project_id=team-a&"), "{requests:?}");
    assert!(requests[0].contains("orderBy=created_at%20desc"), "{requests:?}");
    // A server that answers with another project's session anyway: it is dropped.
    let other = env.api.session(&theirs).unwrap();
    let body = json!({"kind": "SessionList", "page": 1, "size": 1, "total": 1, "items": [other]});
    env.api.push_fault_on(RouteMatch::new("GET", "/api/ambient/v1/sessions"), Fault::Status(200, body.to_string()));
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.text.starts_with("Found 0 session(s)") && !r.text.contains(&theirs), "{}", r.text);
    finish(s);
}

#[test]
fn a_list_reads_every_page_newest_first() {
    let env = AmbientEnv::new();
    let ids: Vec<String> = (0..150).map(|i| env.session("team-a", &format!("task {i}"))).collect();
    env.session(OTHER, "theirs");
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_sessions", json!({"limit": 1000}));
    assert!(r.text.starts_with("Found 150 session(s)"), "{:.200}", r.text);
    assert!(!r.text.contains("Note:"), "all were read: {:.300}", r.text);
    let shown: Vec<&str> =
        r.raw["structuredContent"]["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(shown, newest_first);
    let pages: Vec<String> = env.methods();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[0].contains("page=1") && pages[1].contains("page=2"), "{pages:?}");
    // Past 10 pages the list stops, and says so.
    (0..900).for_each(|i| drop(env.session("team-a", &format!("more {i}"))));
    let r = s.call_tool("acp_list_sessions", json!({"limit": 5}));
    assert!(r.text.contains("Note: only the 1000 newest sessions were read; older sessions exist."), "{:.300}", r.text);
    assert_eq!(r.raw["structuredContent"]["may_have_more"], json!(true));
    finish(s);
}

#[test]
fn another_projects_session_is_not_found_and_nothing_more_is_sent() {
    let env = AmbientEnv::new();
    let theirs = env.session(OTHER, "theirs");
    let mut s = env.spawn();
    for (tool, args) in [
        ("acp_get_session", json!({"session": theirs})),
        ("acp_delete_session", json!({"session": theirs})),
        ("acp_delete_session", json!({"session": theirs, "dry_run": true})),
    ] {
        env.api.clear_requests();
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        assert_eq!(r.text, format!("Session '{theirs}' not found in project 'team-a' (cluster 'amb')."), "{tool}");
        assert_eq!(env.methods(), [format!("GET /api/ambient/v1/sessions/{theirs}")], "{tool}: one read, no more");
    }
    let bulk = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": [theirs], "confirm": true}));
    assert!(bulk.is_error && bulk.text.contains("not found in project 'team-a'"), "{}", bulk.text);
    assert!(env.methods().iter().all(|m| !m.starts_with("DELETE")), "{:?}", env.methods());
    assert!(env.api.session(&theirs).is_some(), "the other project's session is untouched");
    finish(s);
}

#[test]
fn a_delete_reads_first_so_deleted_is_said_only_of_a_session_that_existed() {
    let env = AmbientEnv::new();
    let ours = env.session("team-a", "ours");
    let mut s = env.spawn();
    let r = s.call_tool("acp_delete_session", json!({"session": ours}));
    assert!(!r.is_error && r.text.starts_with(&format!("Deleted session '{ours}'")), "{}", r.text);
    assert_eq!(
        env.methods(),
        [format!("GET /api/ambient/v1/sessions/{ours}"), format!("DELETE /api/ambient/v1/sessions/{ours}")]
    );
    assert!(env.api.session(&ours).is_none());
    // The server would answer 204 to a second DELETE; we do not ask it.
    env.api.clear_requests();
    let again = s.call_tool("acp_delete_session", json!({"session": ours}));
    assert!(again.is_error && again.text.contains("not found in project 'team-a'"), "{}", again.text);
    assert_eq!(env.methods(), [format!("GET /api/ambient/v1/sessions/{ours}")]);
    finish(s);
}

#[test]
fn a_create_checks_the_project_once_and_sends_the_prompt() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r =
        s.call_tool("acp_create_session", json!({"initial_prompt": "Fix it", "display_name": "Fixer", "model": "m-1"}));
    assert!(!r.is_error, "{}", r.text);
    let id = r.raw["structuredContent"]["session"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 27, "a KSUID: {id}");
    assert_eq!(r.raw["structuredContent"]["prompt_stored"], json!(true));
    assert_eq!(r.raw["structuredContent"]["not_applied"], json!([]), "name and model are fields here");
    let post = env.api.requests().into_iter().find(|q| q.method == "POST").unwrap();
    assert_eq!(
        post.body_json(),
        json!({"name": "Fixer", "project_id": "team-a", "prompt": "Fix it", "llm_model": "m-1"})
    );
    let stored = env.api.session(&id).unwrap();
    assert_eq!((&stored["project_id"], &stored["prompt"]), (&json!("team-a"), &json!("Fix it")));
    // No /start after create (a race gives 409): the control plane provisions it.
    assert!(env.methods().iter().all(|m| !m.ends_with("/start")), "{:?}", env.methods());
    env.api.clear_requests();
    s.call_tool("acp_create_session", json!({"initial_prompt": "again"}));
    assert!(env.methods().iter().all(|m| !m.contains("/projects/")), "checked once: {:?}", env.methods());
    finish(s);
}

#[test]
fn a_create_for_a_project_the_server_does_not_have_is_refused() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "x", "project": "no-such-team"}));
    assert!(r.is_error && r.text.contains("project 'no-such-team' does not exist"), "{}", r.text);
    assert_eq!(env.methods(), ["GET /api/ambient/v1/projects/no-such-team"]);
    let dry = s.call_tool("acp_create_session", json!({"initial_prompt": "x", "dry_run": true}));
    assert!(!dry.is_error, "{}", dry.text);
    let request = &dry.raw["structuredContent"]["request"];
    assert_eq!(request["method"], json!("POST"));
    assert!(request["url"].as_str().unwrap().ends_with("/api/ambient/v1/sessions"), "{request}");
    assert_eq!(env.methods().len(), 1, "a dry run sends nothing");
    finish(s);
}

#[test]
fn project_names_the_ambient_server_refuses_send_nothing() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    // DNS-1123 labels both, but the ambient API's own rule wants a letter first and two characters.
    for project in ["1abc", "a"] {
        let r = s.call_tool("acp_list_sessions", json!({"project": project}));
        assert!(r.is_error, "{}", r.text);
        assert!(
            r.text.contains(&format!("project \"{project}\" is invalid on an ambient API server: 2-63")),
            "{}",
            r.text
        );
    }
    assert_eq!(env.api.request_count(), 0, "{:?}", env.methods());
    finish(s);
}

#[test]
fn ids_of_the_other_apis_syntax_send_nothing() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let r = s.call_tool("acp_get_session", json!({"session": "session-1a2b"}));
    assert!(r.is_error && r.text.contains("is not a session ID of the ambient API server"), "{}", r.text);
    assert!(r.text.contains("nothing was sent"), "{}", r.text);
    assert_eq!(env.api.request_count(), 0);
    finish(s);

    // And a KSUID on the public-api gateway.
    let gw = TestEnv::new();
    gw.write_default_config();
    let mut s = gw.spawn();
    s.initialize();
    let r = s.call_tool("acp_delete_session", json!({"session": "2abcDEF0123456789ghijklmnoP"}));
    assert!(r.is_error && r.text.contains("is not a session ID of the gateway"), "{}", r.text);
    assert_eq!(gw.gateway.request_count(), 0);
    finish(s);
}

#[test]
fn whoami_and_list_clusters_name_the_api_and_config_errors_name_the_right_one() {
    let env = AmbientEnv::new();
    let mut s = env.spawn();
    let who = s.call_tool("acp_whoami", json!({}));
    assert!(who.text.contains("(ambient)") && who.raw["structuredContent"]["api"] == json!("ambient"), "{}", who.text);
    let clusters = s.call_tool("acp_list_clusters", json!({}));
    assert!(clusters.text.contains("  API: ambient"), "{}", clusters.text);
    finish(s);

    env.write(
        "clusters:\n  amb:\n    api: ambient\n    server: https://api.c.example.com:6443\n    default_project: p\n",
    );
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_clusters", json!({}));
    assert!(r.is_error && r.text.contains("ambient API server's URL"), "{}", r.text);
    assert!(!r.text.contains("public-api gateway URL"), "{}", r.text);
    finish(s);

    env.write("clusters:\n  amb:\n    api: ambiant\n    server: https://a.example.com\n    default_project: p\n");
    let mut s = env.spawn();
    let r = s.call_tool("acp_list_clusters", json!({}));
    assert!(r.text.contains("api \"ambiant\" is not one of: public-api, ambient"), "{}", r.text);
    finish(s);
}

#[test]
fn errors_of_the_ambient_server_are_shown_as_what_they_are() {
    let env = AmbientEnv::new();
    let ours = env.session("team-a", "ours");
    let mut s = env.spawn();
    let trex = json!({"code": "ambient-api-server-9", "href": "/api/ambient/v1/errors/9", "id": "9", "kind": "Error",
                      "operation_id": "x", "reason": "Unable to list resources: boom"});
    env.api.push_fault_on(RouteMatch::path("/api/ambient/v1/sessions"), Fault::Status(400, trex.to_string()));
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.text.contains("Unable to list resources: boom (ambient-api-server-9)"), "{}", r.text);
    assert!(r.text.contains("The ambient API server answered 400") && !r.text.contains("gateway"), "{}", r.text);
    let unknown_route = json!({"type": "Error", "id": "404", "href": "/api/ambient/v1/errors/404",
                               "code": "ambient-api-server-404", "reason": "The requested resource doesn't exist"});
    env.api.push_fault_on(
        RouteMatch::new("GET", &format!("/api/ambient/v1/sessions/{ours}")),
        Fault::Status(404, unknown_route.to_string()),
    );
    let r = s.call_tool("acp_get_session", json!({"session": ours}));
    assert!(
        r.is_error && !r.text.contains("not found in project"),
        "a route miss is not a missing session: {}",
        r.text
    );
    // An RBAC refusal has a reason and no code; the messages routes answer plain text (a 400
    // here: a GET that gets a 500 is retried).
    let rbac = json!({"kind": "Error", "reason": "user ada is not allowed to delete sessions"});
    env.api.push_fault_on(RouteMatch::path("/api/ambient/v1/sessions"), Fault::Status(403, rbac.to_string()));
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(
        r.is_error && r.text.contains("403") && r.text.contains("user ada is not allowed to delete sessions"),
        "{}",
        r.text
    );
    let text_body = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\nfailed to list events".to_vec();
    env.api.push_fault_on(
        RouteMatch::new("GET", &format!("/api/ambient/v1/sessions/{ours}/messages")),
        Fault::Raw(text_body),
    );
    let r = s.call_tool("acp_get_session_transcript", json!({"session": ours}));
    assert!(r.is_error && r.text.contains("400") && r.text.contains("\"failed to list events\""), "{}", r.text);
    assert!(!r.text.contains("not found in project"), "{}", r.text);
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    token: not-the-right-token\n    default_project: team-a\ndefault_cluster: amb\n",
        env.api.url()
    ));
    let mut s2 = env.spawn();
    let r = s2.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.contains("The ambient API server rejected the token (401"), "{}", r.text);
    finish(s2);
    finish(s);
}

#[test]
fn bulk_delete_reads_each_first_and_deletes_only_this_projects_sessions() {
    let env = AmbientEnv::new();
    let (a, b) = (env.session("team-a", "a"), env.session("team-a", "b"));
    let theirs = env.session(OTHER, "theirs");
    let mut s = env.spawn();
    let dry = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": [a, theirs], "dry_run": true}));
    assert!(!dry.is_error, "{}", dry.text);
    assert!(env.methods().iter().all(|m| m.starts_with("GET ")), "a dry run only reads: {:?}", env.methods());
    env.api.clear_requests();
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": [a, b, theirs], "confirm": true}));
    let outcomes: Vec<&str> = r.raw["structuredContent"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["deleted", "deleted", "not_found"], "{}", r.text);
    assert_eq!(env.api.session_ids("team-a"), Vec::<String>::new());
    assert_eq!(env.api.session_ids(OTHER), std::slice::from_ref(&theirs), "another project's session is untouched");
    let deletes: Vec<String> = env.methods().into_iter().filter(|m| m.starts_with("DELETE")).collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    finish(s);
}
