//! `acp_send_message` and `acp_get_session_transcript` end to end: against the fake ambient API
//! server (docs/ambient-api.md §12.5, the `/messages` routes), and on a public-api cluster,
//! where both refuse and send nothing.

mod common;

use common::*;
use serde_json::{Value, json};

const OTHER: &str = common::ambient_env::OTHER;
const SEND: &str = "acp_send_message";
const TRANSCRIPT: &str = "acp_get_session_transcript";

fn session_path(id: &str) -> String {
    format!("/api/ambient/v1/sessions/{id}")
}

fn messages_path(id: &str) -> String {
    format!("/api/ambient/v1/sessions/{id}/messages")
}

/// `structuredContent.messages` as (seq, event_type, payload).
fn shown(r: &ToolResult) -> Vec<(u64, String, String)> {
    let items = r.raw["structuredContent"]["messages"].as_array().unwrap_or_else(|| panic!("no messages: {}", r.raw));
    let field = |m: &Value, k: &str| m[k].as_str().unwrap().to_string();
    items.iter().map(|m| (m["seq"].as_u64().unwrap(), field(m, "event_type"), field(m, "payload"))).collect()
}

#[test]
fn a_message_is_sent_as_the_user_after_the_session_is_read() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "Fix the bug");
    let before = env.api.messages(&id).len();
    let mut s = env.spawn();
    let r = s.call_tool(SEND, json!({"session": id, "message": "Also add a test, please."}));
    assert!(!r.is_error, "{}", r.text);
    let stored = env.api.messages(&id);
    assert_eq!(stored.len(), before + 1, "{stored:?}");
    let last = stored.last().unwrap();
    assert_eq!((&last["event_type"], &last["payload"]), (&json!("user"), &json!("Also add a test, please.")));
    assert_eq!(r.raw["structuredContent"]["seq"], last["seq"], "the stored message's seq is reported");
    assert!(r.text.contains(&format!("seq {}", last["seq"])), "{}", r.text);
    assert_eq!(env.methods(), [format!("GET {}", session_path(&id)), format!("POST {}", messages_path(&id))]);
    let post = env.api.requests().into_iter().find(|q| q.method == "POST").unwrap();
    assert_eq!(post.body_json(), json!({"event_type": "user", "payload": "Also add a test, please."}));
    // Not idempotent: a second call sends a second message.
    let again = s.call_tool(SEND, json!({"session": id, "message": "Also add a test, please."}));
    assert!(!again.is_error, "{}", again.text);
    assert_eq!(env.api.messages(&id).len(), before + 2);
    finish(s);
}

#[test]
fn a_dry_run_looks_the_session_up_and_shows_the_request_without_sending_it() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "Fix the bug");
    let before = env.api.messages(&id);
    let mut s = env.spawn();
    let r = s.call_tool(SEND, json!({"session": id, "message": "Stop and summarize.", "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("DRY RUN - nothing was sent."), "{}", r.text);
    assert_eq!(env.methods(), [format!("GET {}", session_path(&id))], "one look-up, no POST");
    assert_eq!(env.api.messages(&id), before);
    let request = &r.raw["structuredContent"]["request"];
    assert_eq!(request["method"], json!("POST"));
    assert_eq!(request["url"], json!(format!("{}{}", env.api.url(), messages_path(&id))));
    assert_eq!(request["body"], json!({"event_type": "user", "payload": "Stop and summarize."}));
    assert!(r.text.contains(&format!("POST {}{}", env.api.url(), messages_path(&id))), "{}", r.text);
    assert!(r.text.contains("Authorization: Bearer ***\n"), "the token is masked: {}", r.text);
    assert!(r.raw["structuredContent"].get("seq").is_none(), "{}", r.raw);
    // A dry run for a session that does not exist says so, and still sends nothing.
    env.api.clear_requests();
    let missing = "2zzzzzzzzzzzzzzzzzzzzzzzzzz";
    let r = s.call_tool(SEND, json!({"session": missing, "message": "x", "dry_run": true}));
    assert!(r.is_error, "{}", r.text);
    assert_eq!(r.text, format!("Session '{missing}' not found in project 'team-a' (cluster 'amb')."));
    assert_eq!(env.methods(), [format!("GET {}", session_path(missing))]);
    finish(s);
}

#[test]
fn another_projects_session_is_not_found_and_nothing_is_posted_or_read() {
    let env = AmbientEnv::new();
    let theirs = env.session(OTHER, "theirs");
    env.api.add_message(&theirs, "assistant", "their secret plan");
    let before = env.api.messages(&theirs);
    let mut s = env.spawn();
    for (tool, args) in [
        (SEND, json!({"session": theirs, "message": "hello"})),
        (SEND, json!({"session": theirs, "message": "hello", "dry_run": true})),
        (TRANSCRIPT, json!({"session": theirs})),
        (TRANSCRIPT, json!({"session": theirs, "format": "markdown"})),
    ] {
        env.api.clear_requests();
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        assert_eq!(r.text, format!("Session '{theirs}' not found in project 'team-a' (cluster 'amb')."), "{tool}");
        assert_eq!(env.methods(), [format!("GET {}", session_path(&theirs))], "{tool} {args}: one read, no more");
    }
    assert_eq!(env.api.messages(&theirs), before, "nothing was posted to the other project's session");
    finish(s);
}

#[test]
fn a_transcript_as_json_and_as_markdown() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "Fix the bug in main.rs");
    env.api.add_message(&id, "user", "Fix the bug in main.rs");
    env.api.add_message(&id, "assistant", "Looking at main.rs now.");
    env.api.add_message(&id, "assistant", "Done:\n- fixed the off-by-one\n- added a test");
    let expected: Vec<(u64, String, String)> = env
        .api
        .messages(&id)
        .iter()
        .map(|m| {
            (
                m["seq"].as_u64().unwrap(),
                m["event_type"].as_str().unwrap().into(),
                m["payload"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(expected.len() >= 3 && expected.windows(2).all(|w| w[0].0 < w[1].0), "{expected:?}");
    let mut s = env.spawn();

    let r = s.call_tool(TRANSCRIPT, json!({"session": id}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(shown(&r), expected, "every message, oldest first, payload as stored");
    let data = &r.raw["structuredContent"];
    assert_eq!(
        (&data["format"], &data["total"], &data["omitted"]),
        (&json!("json"), &json!(expected.len()), &json!(0))
    );
    assert!(data["messages"][0]["created_at"].is_string(), "{data}");
    let last = expected.last().unwrap();
    assert!(r.text.contains(&format!("{} message(s), oldest first.", expected.len())), "{}", r.text);
    let first_line = r.text.find("Looking at main.rs now.").unwrap();
    assert!(first_line < r.text.find("fixed the off-by-one").unwrap(), "oldest first: {}", r.text);
    assert!(r.text.contains(&format!("[#{}, ", last.0)) && r.text.contains("] assistant: Done:"), "{}", r.text);
    assert_eq!(env.methods(), [format!("GET {}", session_path(&id)), format!("GET {}", messages_path(&id))]);

    let md = s.call_tool(TRANSCRIPT, json!({"session": id, "format": "markdown"}));
    assert!(!md.is_error, "{}", md.text);
    let stored = env.api.messages(&id);
    let mut at = 0;
    for m in &stored {
        let heading = format!(
            "### {} (#{}, {})\n\n{}\n",
            m["event_type"].as_str().unwrap(),
            m["seq"],
            m["created_at"].as_str().unwrap(),
            m["payload"].as_str().unwrap()
        );
        let found = md.text[at..].find(&heading).unwrap_or_else(|| panic!("no {heading:?} after {at} in\n{}", md.text));
        at += found + heading.len();
    }
    let data = &md.raw["structuredContent"];
    assert_eq!((&data["format"], &data["total"]), (&json!("markdown"), &json!(stored.len())));
    assert!(data.get("messages").is_none(), "markdown carries the conversation in the text: {data}");
    finish(s);
}

#[test]
fn an_empty_transcript_is_an_answer_not_an_error() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "");
    assert!(env.api.messages(&id).is_empty());
    let mut s = env.spawn();
    for format in ["json", "markdown"] {
        let r = s.call_tool(TRANSCRIPT, json!({"session": id, "format": format}));
        assert!(!r.is_error, "{}", r.text);
        assert!(r.text.contains("no messages yet"), "{}", r.text);
        assert_eq!(r.raw["structuredContent"]["total"], json!(0));
        assert_eq!(r.raw["structuredContent"]["omitted"], json!(0));
    }
    let json_result = s.call_tool(TRANSCRIPT, json!({"session": id}));
    assert_eq!(shown(&json_result), []);
    finish(s);
}

#[test]
fn past_200_messages_the_newest_200_are_shown_and_the_rest_counted() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "");
    let seqs: Vec<u64> = (1..=250).map(|i| env.api.add_message(&id, "assistant", &format!("step {i}"))).collect();
    let mut s = env.spawn();
    let r = s.call_tool(TRANSCRIPT, json!({"session": id}));
    assert!(!r.is_error, "{:.300}", r.text);
    let got = shown(&r);
    assert_eq!(got.len(), 200);
    assert_eq!(got.iter().map(|m| m.0).collect::<Vec<_>>(), seqs[50..], "the newest 200, oldest first");
    assert_eq!((got[0].2.as_str(), got[199].2.as_str()), ("step 51", "step 250"));
    assert_eq!(r.raw["structuredContent"]["total"], json!(250));
    assert_eq!(r.raw["structuredContent"]["omitted"], json!(50));
    assert!(r.text.contains("200 of 250 messages, oldest first (50 older and 0 newer not shown)"), "{:.300}", r.text);
    let next = format!("50 older message(s): call {TRANSCRIPT} with {{\"offset\":200,\"session\":\"{id}\"}}");
    assert!(r.text.trim_end().ends_with(&next), "{}", &r.text[r.text.len() - 300..]);
    // The next page: the 50 oldest, and nothing older.
    let older = s.call_tool(TRANSCRIPT, json!({"session": id, "offset": 200}));
    assert_eq!(shown(&older).iter().map(|m| m.0).collect::<Vec<_>>(), seqs[..50]);
    assert_eq!(older.raw["structuredContent"]["next"], json!(null));
    assert!(
        older.text.contains("50 of 250 messages, oldest first (0 older and 200 newer not shown)"),
        "{:.300}",
        older.text
    );
    let md = s.call_tool(TRANSCRIPT, json!({"session": id, "format": "markdown"}));
    assert!(md.text.contains("(50 older and 0 newer not shown)"), "{:.300}", md.text);
    assert!(md.text.contains("\n\nstep 51\n") && !md.text.contains("\n\nstep 50\n"), "{:.300}", md.text);
    // Within a small budget the page shrinks, and each payload is cut with a marker.
    let (env, big) = (env, "w".repeat(30_000));
    env.api.add_message(&id, "assistant", &big);
    finish(s);
    let mut s = env.spawn_with(&[("ACP_MAX_ANSWER_TOKENS", "2000")]);
    let r = s.call_tool(TRANSCRIPT, json!({"session": id}));
    assert!(!r.is_error && r.raw.to_string().len() <= 8_000, "{} bytes: {:.300}", r.raw.to_string().len(), r.text);
    assert!(
        r.text.contains("characters in all; raise max_answer_tokens (or ACP_MAX_ANSWER_TOKENS) to see more]"),
        "{}",
        r.text
    );
    let shown_now = shown(&r).len();
    let next = format!("{} older message(s): call {TRANSCRIPT} with {{\"offset\":{shown_now},", 251 - shown_now);
    assert!((2..200).contains(&shown_now) && r.text.contains(&next), "{shown_now}: {:.300}", r.text);
    finish(s);
}

#[test]
fn a_route_miss_on_messages_is_not_a_missing_session() {
    let env = AmbientEnv::new();
    let id = env.session("team-a", "x");
    let mut s = env.spawn();
    let miss = json!({"type": "Error", "id": "404", "href": "/api/ambient/v1/errors/404",
                      "code": "ambient-api-server-404", "reason": "The requested resource doesn't exist"});
    for (tool, method, args) in
        [(TRANSCRIPT, "GET", json!({"session": id})), (SEND, "POST", json!({"session": id, "message": "hi"}))]
    {
        env.api.push_fault_on(RouteMatch::new(method, &messages_path(&id)), Fault::Status(404, miss.to_string()));
        let r = s.call_tool(tool, args);
        assert!(r.is_error, "{}", r.text);
        assert!(!r.text.contains("not found in project"), "{tool}: {}", r.text);
        assert!(r.text.contains("This is not a missing session."), "{tool}: {}", r.text);
    }
    finish(s);
}

#[test]
fn on_a_public_api_cluster_both_refuse_and_send_nothing() {
    let env = TestEnv::new();
    env.write_default_config();
    let id = "session-1a2b3c";
    env.gateway.add_session("team-a", id, "running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    for (tool, args, doing) in [
        (SEND, json!({"session": id, "message": "hello"}), "Sending a message"),
        (SEND, json!({"session": id, "message": "hello", "dry_run": true}), "Sending a message"),
        (TRANSCRIPT, json!({"session": id}), "Reading a transcript"),
        (TRANSCRIPT, json!({"session": id, "format": "markdown"}), "Reading a transcript"),
    ] {
        let r = s.call_tool(tool, args.clone());
        assert!(r.is_error, "{tool} {args}: {}", r.text);
        let needs = format!("{doing} needs a cluster with `api: ambient`; cluster 'dev' has `api: public-api`");
        assert!(r.text.starts_with(&needs), "{tool}: {}", r.text);
        assert!(r.text.contains("so nothing was sent"), "{tool}: {}", r.text);
        assert!(!r.text.contains("not found"), "{tool}: {}", r.text);
        assert!(r.raw.get("structuredContent").is_none(), "{}", r.raw);
    }
    assert_eq!(env.gateway.request_count(), 0, "not even a look-up: {:?}", env.gateway.requests());
    finish(s);
}
