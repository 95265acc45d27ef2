use super::*;
use crate::config;
use crate::gateway::memory::MemoryApi;
use crate::gateway::{Answer, ApiError, Backend, Capabilities, Op, Request, Session, Target};
use std::cell::RefCell;
use std::rc::Rc;

const CONFIG: &str = "clusters:\n  dev:\n    server: https://gw.example.com\n    token: tok-unit-123456\n    default_project: team-a\ndefault_cluster: dev\n";

fn server() -> Server {
    let mut api = MemoryApi::default();
    for id in ["s1", "s2"] {
        let session = Session {
            id: id.into(),
            status: "running".into(),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            ..Session::default()
        };
        api.sessions.push(("team-a".into(), session));
    }
    Server::new(Context::with_config(config::parse(CONFIG, None).unwrap(), Box::new(api)))
}

fn ask(s: &mut Server, message: Value) -> Value {
    let line = s.handle_line(message.to_string().as_bytes()).expect("an answer");
    serde_json::from_str(&line).expect("an answer is one line of JSON")
}

fn req(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn initialized(version: &str) -> Server {
    let mut s = server();
    ask(&mut s, req(0, "initialize", json!({"protocolVersion": version})));
    s
}

fn stateless_meta() -> Value {
    json!({META_VERSION: STATELESS_VERSION, META_CAPABILITIES: {}})
}

#[test]
fn initialize_echoes_supported_versions_and_offers_newest_otherwise() {
    for v in HANDSHAKE_VERSIONS {
        let r = ask(&mut server(), req(1, "initialize", json!({"protocolVersion": v})));
        assert_eq!(r["result"]["protocolVersion"], json!(v));
    }
    for asked in ["1999-01-01", STATELESS_VERSION] {
        let r = ask(&mut server(), req(1, "initialize", json!({"protocolVersion": asked})));
        assert_eq!(r["result"]["protocolVersion"], json!("2025-11-25"), "asked {asked}");
    }
    let r = ask(&mut server(), req(1, "initialize", json!({"protocolVersion": "2025-06-18"})));
    assert_eq!(r["result"]["capabilities"], json!({"tools": {"listChanged": false}, "logging": {}}));
    assert_eq!(r["result"]["serverInfo"]["name"], json!("mcp-acp"));
    assert!(r["result"]["serverInfo"]["title"].is_string());
    let r = ask(&mut server(), req(1, "initialize", json!({"protocolVersion": "2025-03-26"})));
    assert!(r["result"]["serverInfo"].get("title").is_none(), "Implementation.title is 2025-06-18+");
}

#[test]
fn tools_list_shows_only_what_the_revision_defines() {
    let first_tool = |v: &str| ask(&mut initialized(v), req(1, "tools/list", json!({})))["result"]["tools"][0].clone();
    let old = first_tool("2024-11-05");
    assert_eq!(old.as_object().unwrap().keys().collect::<Vec<_>>(), ["description", "inputSchema", "name"]);
    let mid = first_tool("2025-03-26");
    assert!(mid.get("annotations").is_some() && mid.get("title").is_none() && mid.get("outputSchema").is_none());
    let new = first_tool("2025-11-25");
    assert_eq!(new["title"], json!("List sessions"));
    assert_eq!(new["annotations"]["readOnlyHint"], json!(true));
    assert_eq!(new["outputSchema"]["type"], json!("object"));
}

/// The annotations on the wire are each tool's `Effect`, whatever the tool is called.
#[test]
fn every_tool_has_annotations_that_match_its_effect() {
    let r = ask(&mut initialized("2025-11-25"), req(1, "tools/list", json!({})));
    let listed = r["result"]["tools"].as_array().unwrap();
    assert_eq!(listed.len(), tools::TOOLS.len());
    for (t, tool) in listed.iter().zip(tools::TOOLS) {
        let (name, effect) = (tool.name(), tool.effect());
        assert_eq!(t["name"], json!(name));
        let a = &t["annotations"];
        assert_eq!(a["destructiveHint"], json!(effect.destructive()), "{name}");
        assert_eq!(a["readOnlyHint"], json!(effect.read_only()), "{name}");
        assert_eq!(a["idempotentHint"], json!(effect.idempotent), "{name}");
        assert_eq!(a["openWorldHint"], json!(effect.remote), "{name}");
        assert_eq!(t["inputSchema"]["additionalProperties"], json!(false), "{name}");
        assert!(t["description"].as_str().unwrap().len() > 60, "{name} is described for a model");
    }
    // And the effects are what the tools do: one of each kind, checked by behaviour in
    // tools::tests::read_only_local_and_dry_run_calls_change_nothing.
    let hint =
        |name: &str, key: &str| listed.iter().find(|t| t["name"] == json!(name)).unwrap()["annotations"][key].clone();
    assert_eq!(hint("acp_bulk_delete_sessions", "destructiveHint"), json!(true));
    assert_eq!(hint("acp_list_sessions", "readOnlyHint"), json!(true));
    assert_eq!(hint("acp_create_session", "idempotentHint"), json!(false));
    assert_eq!(hint("acp_whoami", "openWorldHint"), json!(false));
}

#[test]
fn structured_content_is_sent_from_2025_06_18_on() {
    let call = |v: &str| {
        ask(
            &mut initialized(v),
            req(1, "tools/call", json!({"name": "acp_get_session", "arguments": {"session": "s1"}})),
        )
    };
    let new = call("2025-06-18");
    assert_eq!(new["result"]["structuredContent"]["session"]["id"], json!("s1"));
    assert!(new["result"]["content"][0]["text"].as_str().unwrap().contains("Session 's1'"));
    assert!(call("2025-03-26")["result"].get("structuredContent").is_none());
}

#[test]
fn plain_failures_carry_no_structured_content() {
    let r = ask(
        &mut initialized("2025-11-25"),
        req(1, "tools/call", json!({"name": "acp_get_session", "arguments": {"session": "Bad"}})),
    );
    assert_eq!(r["result"]["isError"], json!(true));
    assert!(r["result"].get("structuredContent").is_none());
}

#[test]
fn batches_are_served_only_under_2025_03_26() {
    let batch = json!([req(1, "ping", json!({})), {"jsonrpc": "2.0", "method": "notifications/x"}, req(2, "tools/list", json!({}))]);
    let r = ask(&mut initialized("2025-03-26"), batch.clone());
    let answers = r.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 2);
    assert_eq!((answers[0]["id"].clone(), answers[1]["id"].clone()), (json!(1), json!(2)));
    let r = ask(&mut initialized("2025-06-18"), batch);
    assert_eq!(r["error"]["code"], json!(jsonrpc::INVALID_REQUEST));
    let r = ask(&mut initialized("2025-03-26"), json!([req(5, "initialize", json!({}))]));
    assert_eq!(r[0]["id"], json!(5));
    assert!(r[0]["error"]["message"].as_str().unwrap().contains("initialize must not be part of a batch"));
    assert_eq!(ask(&mut initialized("2025-03-26"), json!([]))["error"]["code"], json!(jsonrpc::INVALID_REQUEST));
    let notifications_only = json!([{"jsonrpc": "2.0", "method": "notifications/x"}]);
    assert!(initialized("2025-03-26").handle_line(notifications_only.to_string().as_bytes()).is_none());
}

#[test]
fn server_discover_describes_the_server_statelessly() {
    let r = ask(&mut server(), req(1, "server/discover", json!({"_meta": stateless_meta()})));
    let result = &r["result"];
    assert_eq!(result["supportedVersions"], json!(ALL_VERSIONS));
    assert_eq!(result["resultType"], json!("complete"));
    assert_eq!(result["capabilities"]["tools"], json!({"listChanged": false}));
    assert_eq!(result["_meta"][META_SERVER_INFO]["name"], json!("mcp-acp"));
    assert!(result["ttlMs"].as_u64().is_some() && result["cacheScope"] == json!("public"));
}

#[test]
fn stateless_requests_are_checked_and_marked_complete() {
    let mut s = server();
    let r = ask(&mut s, req(1, "server/discover", json!({})));
    assert_eq!(r["error"]["code"], json!(jsonrpc::INVALID_PARAMS));
    let r = ask(&mut s, req(2, "tools/list", json!({"_meta": {META_VERSION: "2031-01-01", META_CAPABILITIES: {}}})));
    assert_eq!(r["error"]["code"], json!(jsonrpc::UNSUPPORTED_PROTOCOL_VERSION));
    assert_eq!(r["error"]["data"], json!({"supported": ALL_VERSIONS, "requested": "2031-01-01"}));
    let r = ask(&mut s, req(3, "tools/list", json!({"_meta": {META_VERSION: STATELESS_VERSION}})));
    assert_eq!(r["error"]["code"], json!(jsonrpc::INVALID_PARAMS));
    let r = ask(&mut s, req(4, "tools/list", json!({"_meta": stateless_meta()})));
    assert_eq!(r["result"]["resultType"], json!("complete"));
    assert_eq!(r["result"]["tools"].as_array().unwrap().len(), tools::TOOLS.len());
    assert!(r["result"]["tools"][0].get("outputSchema").is_some());
    let call = json!({"_meta": stateless_meta(), "name": "acp_whoami", "arguments": {}});
    let r = ask(&mut s, req(5, "tools/call", call));
    assert_eq!(r["result"]["resultType"], json!("complete"));
    assert_eq!(r["result"]["structuredContent"]["cluster"], json!("dev"));
    let r = ask(&mut s, req(6, "ping", json!({"_meta": stateless_meta()})));
    assert_eq!(r["error"]["code"], json!(jsonrpc::METHOD_NOT_FOUND));
}

#[test]
fn legacy_clients_keep_working_beside_stateless_ones() {
    let mut s = initialized("2025-03-26");
    ask(&mut s, req(1, "server/discover", json!({"_meta": stateless_meta()})));
    let r = ask(&mut s, req(2, "tools/list", json!({})));
    assert!(r["result"].get("resultType").is_none());
    assert!(r["result"]["tools"][0].get("outputSchema").is_none(), "still served as 2025-03-26");
}

#[test]
fn log_level_is_checked() {
    let mut s = initialized("2025-06-18");
    assert_eq!(ask(&mut s, req(1, "logging/setLevel", json!({"level": "loud"})))["error"]["code"], json!(-32602));
    assert_eq!(ask(&mut s, req(2, "logging/setLevel", json!({"level": "error"})))["result"], json!({}));
    crate::logging::set_client_level(None).unwrap();
}

#[test]
fn unknown_methods_and_tools_get_protocol_errors() {
    let mut s = server();
    assert_eq!(ask(&mut s, req(1, "resources/list", json!({})))["error"]["code"], json!(-32601));
    assert_eq!(ask(&mut s, req(2, "tools/call", json!({"name": "nope"})))["error"]["code"], json!(-32602));
    assert_eq!(ask(&mut s, req(3, "tools/call", json!({})))["error"]["code"], json!(-32602));
}

/// A `Write` the test can read after `serve` has taken ownership of it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn serve_lines(s: &mut Server, input: &str) -> Vec<Value> {
    let out = Shared::default();
    serve(s, std::io::Cursor::new(input.as_bytes().to_vec()), out.clone()).unwrap();
    let bytes = out.0.borrow().clone();
    bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect()
}

#[test]
fn serve_answers_each_line_and_survives_garbage() {
    let lines = serve_lines(&mut server(), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n\u{1}\n\n{bad\n");
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["result"], json!({}));
    assert_eq!(lines[1]["error"]["code"], json!(-32700));
    assert_eq!(lines[2]["id"], Value::Null);
}

#[test]
fn bulk_delete_reports_progress_per_session_before_answering() {
    let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
        "_meta": {"progressToken": "p1"},
        "name": "acp_bulk_delete_sessions", "arguments": {"sessions": ["s1", "s2", "s3"], "confirm": true}}});
    let lines = serve_lines(&mut initialized("2025-06-18"), &format!("{call}\n"));
    let progress: Vec<&Value> = lines.iter().filter(|l| l["method"] == json!("notifications/progress")).collect();
    assert_eq!(progress.len(), 3);
    assert_eq!(
        progress[0]["params"],
        json!({"progressToken": "p1", "progress": 1, "total": 3, "message": "s1: deleted"})
    );
    assert_eq!(progress[2]["params"]["message"], json!("s3: not_found"));
    assert_eq!(lines.last().unwrap()["id"], json!(9), "the answer comes last");
    let without_token = call.to_string().replace(r#""_meta":{"progressToken":"p1"},"#, "");
    assert_eq!(serve_lines(&mut initialized("2025-06-18"), &format!("{without_token}\n")).len(), 1);
}

#[test]
fn progress_has_no_message_under_2024_11_05() {
    let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
        "_meta": {"progressToken": 7}, "name": "acp_bulk_delete_sessions",
        "arguments": {"sessions": ["s1"], "dry_run": true}}});
    let lines = serve_lines(&mut initialized("2024-11-05"), &format!("{call}\n"));
    assert_eq!(lines[0]["params"], json!({"progressToken": 7, "progress": 1, "total": 1}));
}

/// A tool that panics becomes an error result, and the server keeps serving.
#[test]
fn a_panicking_tool_call_is_contained() {
    struct Exploding;
    impl Backend for Exploding {
        fn capabilities(&self) -> &'static Capabilities {
            panic!("boom")
        }
        fn plan(&self, _: &Target, _: &Op) -> Option<Request> {
            panic!("boom")
        }
        fn execute(&mut self, _: &Target, _: &Op) -> Result<Answer, ApiError> {
            panic!("boom")
        }
    }
    let mut s = Server::new(Context::with_config(config::parse(CONFIG, None).unwrap(), Box::new(Exploding)));
    let r = ask(&mut s, req(1, "tools/call", json!({"name": "acp_list_sessions"})));
    assert_eq!(r["result"]["isError"], json!(true));
    assert!(r["result"]["content"][0]["text"].as_str().unwrap().starts_with("Internal error in acp_list_sessions"));
    assert_eq!(ask(&mut s, req(2, "ping", json!({})))["result"], json!({}));
}

/// A call that panics leaves no state behind: the next call gets a deadline of its own, not
/// the one of the call that panicked (which had passed, so every later call timed out).
#[test]
fn a_panic_does_not_leave_its_deadline_to_the_next_call() {
    struct Once {
        panicked: bool,
        inner: MemoryApi,
    }
    impl Backend for Once {
        fn capabilities(&self) -> &'static Capabilities {
            self.inner.capabilities()
        }
        fn plan(&self, t: &Target, op: &Op) -> Option<Request> {
            self.inner.plan(t, op)
        }
        fn execute(&mut self, t: &Target, op: &Op) -> Result<Answer, ApiError> {
            if !std::mem::replace(&mut self.panicked, true) {
                panic!("boom");
            }
            match t.deadline.passed() {
                true => Err(ApiError::Timeout { secs: t.deadline.given_secs() }),
                false => self.inner.execute(t, op),
            }
        }
    }
    let yaml = CONFIG.replace("default_project: team-a\n", "default_project: team-a\n    timeout_seconds: 1\n");
    let backend = Once { panicked: false, inner: MemoryApi::default() };
    let mut s = Server::new(Context::with_config(config::parse(&yaml, None).unwrap(), Box::new(backend)));
    let r = ask(&mut s, req(1, "tools/call", json!({"name": "acp_list_sessions"})));
    assert!(r["result"]["content"][0]["text"].as_str().unwrap().starts_with("Internal error in acp_list_sessions"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = ask(&mut s, req(2, "tools/call", json!({"name": "acp_list_sessions"})));
    assert_eq!(r["result"]["isError"], json!(false), "{r}");
}

#[test]
fn initialize_is_not_a_2026_07_28_method() {
    let mut s = initialized("2024-11-05");
    let r = ask(&mut s, req(1, "initialize", json!({"_meta": stateless_meta()})));
    assert_eq!(r["error"]["code"], json!(jsonrpc::METHOD_NOT_FOUND), "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("not part of protocol 2026-07-28"));
    // The legacy client's revision is untouched: 2024-11-05 tools have no annotations.
    let tools = ask(&mut s, req(2, "tools/list", json!({})));
    assert!(tools["result"]["tools"][0].get("annotations").is_none(), "{tools}");
    let r = ask(&mut s, req(3, "prompts/list", json!({"_meta": stateless_meta()})));
    assert!(!r["error"]["message"].as_str().unwrap().contains("not part of"), "{r}");
}

#[test]
fn oversized_batches_are_counted_without_building_them() {
    let line = format!("[{}]", vec![r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#; 33].join(","));
    assert_eq!(oversized_batch(line.as_bytes()), Some(33));
    assert_eq!(oversized_batch(b" [1,2]"), None);
    assert_eq!(oversized_batch(b"[1,2"), None);
}
