//! Self-tests of `FakeAmbient`, driven by a raw std HTTP client. Expected values come from
//! docs/ambient-api.md (§12.x), the "JWT on, authorization off" deployment.

mod common;

use common::ambient::{FakeAmbient, Fault, RouteMatch, Times};
use common::raw::{Resp, build, send_to};
use serde_json::{Value, json};

const TOK: &str = "tok-ambient";
const AUTH: &str = "Bearer tok-ambient";
const JSON_CT: &str = "application/json";
const TEXT_CT: &str = "text/plain; charset=utf-8";
const V1: &str = "/api/ambient/v1";

// ---------------------------------------------------------------- raw client

/// What this API's answers are checked for, beside `common::raw::Resp`'s own.
trait AmbientResp {
    fn ok_json(&self, status: u16) -> Value;
    fn trex(&self, status: u16, n: u32, reason: &str);
    fn text_err(&self, status: u16, msg: &str);
}

impl AmbientResp for Resp {
    /// Status, `Content-Type: application/json`, and the body as JSON.
    fn ok_json(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some(JSON_CT));
        self.json()
    }
    /// A trex error body (§12.8), exact, with `operation_id` equal to `X-Operation-ID`.
    fn trex(&self, status: u16, n: u32, reason: &str) {
        let op = self.header("x-operation-id").expect("X-Operation-ID").to_string();
        assert_eq!(op.len(), 27, "operation id {op:?}");
        let want = json!({
            "code": format!("ambient-api-server-{n}"), "href": format!("{V1}/errors/{n}"), "id": n.to_string(),
            "kind": "Error", "operation_id": op, "reason": reason,
        });
        assert_eq!((self.status, self.text()), (status, want.to_string()));
        assert_eq!(self.header("content-type"), Some(JSON_CT));
    }
    /// A Go `http.Error` text answer.
    fn text_err(&self, status: u16, msg: &str) {
        assert_eq!((self.status, self.text()), (status, format!("{msg}\n")));
        assert_eq!(self.header("content-type"), Some(TEXT_CT));
    }
}

/// Every answer but a 204 carries its length (Go's server sets it for these small bodies).
fn req(fa: &FakeAmbient, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    let resp = send_to(fa.addr(), &build(method, path, headers, body));
    if resp.status != 204 {
        assert!(resp.header("content-length").is_some(), "{method} {path}: no Content-Length");
    }
    resp
}

/// Authenticated, no project header; `path` is relative to `/api/ambient/v1`.
fn api(fa: &FakeAmbient, method: &str, path: &str, body: Option<&str>) -> Resp {
    req(fa, method, &format!("{V1}{path}"), &[("Authorization", AUTH)], body)
}

/// Authenticated, with `X-Ambient-Project: <project>`.
fn in_project(fa: &FakeAmbient, project: &str, method: &str, path: &str, body: Option<&str>) -> Resp {
    req(fa, method, &format!("{V1}{path}"), &[("Authorization", AUTH), ("X-Ambient-Project", project)], body)
}

fn fake() -> FakeAmbient {
    let fa = FakeAmbient::start();
    fa.accept_token(TOK);
    fa.add_project("team-a");
    fa.add_project("team-b");
    fa
}

fn ids(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------- auth

#[test]
fn auth_needs_exactly_bearer_and_an_accepted_token() {
    let fa = fake();
    let bad: &[&[(&str, &str)]] = &[
        &[],
        &[("Authorization", "Bearer nope")],
        &[("Authorization", "bearer tok-ambient")],
        &[("Authorization", "Token tok-ambient")],
        &[("Authorization", "Bearer")],
        &[("X-Forwarded-Access-Token", TOK)],
    ];
    for headers in bad {
        for path in ["/sessions", "/sessions/x", "/no/such/route", "/version"] {
            let r = req(&fa, "GET", &format!("{V1}{path}"), headers, None);
            r.text_err(401, "Unauthorized");
            assert_eq!(r.header("x-operation-id"), None, "rejected before the router");
        }
    }
    // The pass-through proxy also sits behind the JWT check.
    req(&fa, "GET", "/api/projects", &[], None).text_err(401, "Unauthorized");
    req(&fa, "GET", "/api/projects", &[("Authorization", AUTH)], None).text_err(502, "backend unavailable");
    // The liveness probe is public.
    assert_eq!(req(&fa, "GET", "/api/ambient", &[], None).ok_json(200)["kind"], "API");
    api(&fa, "GET", "/sessions", None).ok_json(200);
    fa.revoke_token(TOK);
    api(&fa, "GET", "/sessions", None).text_err(401, "Unauthorized");
    assert_eq!(fa.request_count(), 4 * 6 + 5);
}

// ---------------------------------------------------------------- create

#[test]
fn strict_create_failure_rows() {
    let fa = fake();
    let f17 = |body: &str, msg: &str| {
        in_project(&fa, "team-a", "POST", "/sessions", Some(body)).trex(
            400,
            17,
            &format!("Invalid request format: {msg}"),
        );
    };
    f17("", "unexpected end of JSON input");
    f17("{\"name\":", "unexpected end of JSON input");
    f17("[1]", "json: cannot unmarshal array into Go value of type map[string]interface {}");
    f17("\"x\"", "json: cannot unmarshal string into Go value of type map[string]interface {}");
    f17("{}", "no value given for required property name");
    f17("null", "no value given for required property name");
    f17(r#"{"Name":"x"}"#, "no value given for required property name");
    f17(r#"{"name":"a","foo":1}"#, r#"json: unknown field "foo""#);
    f17(r#"{"name":5}"#, "json: cannot unmarshal number into Go struct field _Session.name of type string");
    f17(
        r#"{"name":"a","timeout":"9"}"#,
        "json: cannot unmarshal string into Go struct field _Session.timeout of type int32",
    );
    f17(
        r#"{"name":"a","timeout":1.5}"#,
        "json: cannot unmarshal number 1.5 into Go struct field _Session.timeout of type int32",
    );
    f17(
        r#"{"name":"a","llm_temperature":true}"#,
        "json: cannot unmarshal bool into Go struct field _Session.llm_temperature of type float64",
    );
    f17("{\"name\":\"a\"} x", "invalid character 'x' after top-level value");
    // The first error in document order wins.
    f17(r#"{"name":"a","foo":1,"timeout":"x"}"#, r#"json: unknown field "foo""#);
    in_project(&fa, "team-a", "POST", "/sessions", Some(r#"{"name":"a","id":"abc"}"#)).trex(400, 8, "id must be empty");
    assert!(fa.session_ids("team-a").is_empty());
    in_project(&fa, "team-a", "POST", "/sessions", Some(r#"{"name":"a","id":""}"#)).ok_json(201);
    in_project(&fa, "team-a", "POST", "/sessions", Some(r#"{"name":null}"#)).ok_json(201);
    assert_eq!(fa.session_ids("team-a").len(), 2);
}

#[test]
fn create_returns_full_session_with_defaults_and_stores_prompt_as_message() {
    let fa = fake();
    let body = r#"{"name":"job","prompt":"do it","labels":"{\"team\":\"x\"}","phase":"Running","kind":"X","created_by_user_id":"evil","kube_namespace":"ns"}"#;
    let r = in_project(&fa, "team-a", "POST", "/sessions", Some(body));
    assert_eq!(r.header("vary"), Some("Authorization"));
    let s = r.ok_json(201);
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 27);
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    let created = s["created_at"].as_str().unwrap().to_string();
    assert!(created.ends_with('Z') && created.contains('.') && created.len() > 20, "{created}");
    let want = json!({
        "id": id, "kind": "Session", "href": format!("{V1}/sessions/{id}"), "created_at": created,
        "updated_at": created, "kube_cr_name": id, "name": "job", "prompt": "do it", "labels": "{\"team\":\"x\"}",
        "project_id": "team-a", "created_by_user_id": "test-user", "llm_model": "claude-sonnet-4-6",
        "llm_temperature": 0.7, "llm_max_tokens": 4000,
    });
    // Sorted keys, no phase, no null keys.
    assert_eq!(r.text(), want.to_string());
    assert_eq!(fa.session(&id), Some(want));
    let msgs = api(&fa, "GET", &format!("/sessions/{id}/messages"), None).ok_json(200);
    assert_eq!(msgs.as_array().unwrap().len(), 1);
    assert_eq!((&msgs[0]["event_type"], &msgs[0]["payload"]), (&json!("user"), &json!("do it")));

    // Body project_id beats the header; an unknown project is not refused; ids are time-ordered.
    let s2 =
        in_project(&fa, "team-a", "POST", "/sessions", Some(r#"{"name":"n","project_id":"nowhere"}"#)).ok_json(201);
    assert_eq!(s2["project_id"], "nowhere");
    assert!(s2["id"].as_str().unwrap() > id.as_str());
    let s3 = api(&fa, "POST", "/sessions", Some(r#"{"name":"n","created_at":"2020-01-01T00:00:00Z"}"#)).ok_json(201);
    assert_eq!((s3.get("project_id"), &s3["created_at"]), (None, &json!("2020-01-01T00:00:00Z")));
    assert_eq!(api(&fa, "GET", &format!("/sessions/{}/messages", s3["id"].as_str().unwrap()), None).text(), "[]");
}

// ---------------------------------------------------------------- lists

/// team-a: a1 (labels team x), a2, a3; team-b: b1 — created in this order.
fn listing_fixture() -> (FakeAmbient, Vec<String>) {
    let fa = fake();
    let ids = vec![
        fa.add_session("team-a", json!({"name": "a1", "labels": "{\"team\":\"x\"}"})),
        fa.add_session("team-a", json!({"name": "a2"})),
        fa.add_session("team-a", json!({"name": "a3", "timeout": 30})),
        fa.add_session("team-b", json!({"name": "b1"})),
    ];
    (fa, ids)
}

#[test]
fn list_filters_by_project_query_or_header_and_checks_its_format() {
    let (fa, id) = listing_fixture();
    let all = api(&fa, "GET", "/sessions?orderBy=created_at%20asc", None).ok_json(200);
    assert_eq!(
        (&all["kind"], &all["page"], &all["size"], &all["total"]),
        (&json!("SessionList"), &json!(1), &json!(4), &json!(4))
    );
    assert_eq!(ids(&all), id);
    let a = in_project(&fa, "team-a", "GET", "/sessions?orderBy=created_at", None).ok_json(200);
    assert_eq!(ids(&a), id[..3].to_vec());
    let b = in_project(&fa, "team-a", "GET", "/sessions?project_id=team-b", None).ok_json(200);
    assert_eq!(ids(&b), vec![id[3].clone()], "query wins over header");
    let r = in_project(&fa, "team-a", "GET", "/sessions?project_id=nobody", None);
    assert_eq!(r.text(), r#"{"kind":"SessionList","page":1,"size":0,"total":0,"items":[]}"#);
    api(&fa, "GET", "/sessions?project_id=a%20b", None).trex(400, 8, "invalid project_id format");
    in_project(&fa, "team/a", "GET", "/sessions", None).trex(400, 8, "invalid project_id format");
}

#[test]
fn list_paging_and_order() {
    let (fa, id) = listing_fixture();
    let desc = api(&fa, "GET", "/sessions?orderBy=created_at+desc", None).ok_json(200);
    assert_eq!(ids(&desc), id.iter().rev().cloned().collect::<Vec<_>>());
    let by_name = api(&fa, "GET", "/sessions?orderBy=name%20desc", None).ok_json(200);
    assert_eq!(ids(&by_name), vec![id[3].clone(), id[2].clone(), id[1].clone(), id[0].clone()]);
    let p2 = api(&fa, "GET", "/sessions?orderBy=created_at%20asc&size=2&page=2", None).ok_json(200);
    assert_eq!((&p2["page"], &p2["size"], &p2["total"]), (&json!(2), &json!(2), &json!(4)));
    assert_eq!(ids(&p2), id[2..].to_vec());
    let p3 = api(&fa, "GET", "/sessions?orderBy=created_at&size=3&page=2", None).ok_json(200);
    assert_eq!(ids(&p3), vec![id[3].clone()]);
    let zero = api(&fa, "GET", "/sessions?size=0", None);
    assert_eq!(zero.text(), r#"{"kind":"SessionList","page":1,"size":0,"total":4,"items":[]}"#);
    for bad in ["created_at%20sideways", "created_at%20asc%20x", "name,%20"] {
        let shown = bad.replace("%20", " ");
        let item = shown.split(',').find(|i| i.trim().contains(' ') || i.trim().is_empty()).unwrap().trim();
        api(&fa, "GET", &format!("/sessions?orderBy={bad}"), None).trex(400, 21, &format!("bad order value '{item}'"));
    }
    api(&fa, "GET", "/sessions?orderBy=nope", None).trex(
        500,
        9,
        "Unable to list resources: ERROR: column \"nope\" does not exist (SQLSTATE 42703)",
    );
}

#[test]
fn list_search_subset() {
    let (fa, id) = listing_fixture();
    let search = |q: &str| {
        let enc = q.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('\'', "%27");
        api(&fa, "GET", &format!("/sessions?orderBy=created_at&search={enc}"), None)
    };
    assert_eq!(ids(&search("name = 'a2'").ok_json(200)), vec![id[1].clone()]);
    assert_eq!(ids(&search(r#"labels like '%"team":"x"%'"#).ok_json(200)), vec![id[0].clone()]);
    assert_eq!(ids(&search("project_id = 'team-a' and name != 'a1'").ok_json(200)), id[1..3].to_vec());
    assert_eq!(ids(&search("name = 'a1' or name = 'b1'").ok_json(200)), vec![id[0].clone(), id[3].clone()]);
    assert_eq!(ids(&search("timeout > 10").ok_json(200)), vec![id[2].clone()]);
    assert_eq!(ids(&search("name in ('a3','b1')").ok_json(200)), id[2..].to_vec());
    assert_eq!(ids(&search("labels is null").ok_json(200)), id[1..].to_vec());
    assert_eq!(ids(&search("NAME ILIKE 'A%' AND NOT (name = 'a2')").ok_json(200)), vec![id[0].clone(), id[2].clone()]);
    // The project scope is ANDed in front.
    let r = in_project(&fa, "team-b", "GET", "/sessions?search=name%20%3D%20%27a1%27", None).ok_json(200);
    assert_eq!(r["total"], 0);
    for bad in ["name ==", "name = 'x", "(name = 'a'", "name ~= 'a'", "and"] {
        search(bad).trex(400, 21, &format!("Failed to parse search query: {bad}"));
    }
    search("colour = 'red'").trex(
        500,
        9,
        "Unable to list resources: ERROR: column \"colour\" does not exist (SQLSTATE 42703)",
    );
}

// ---------------------------------------------------------------- by id

#[test]
fn id_routes_ignore_the_project_authz_off() {
    let (fa, id) = listing_fixture();
    let s = in_project(&fa, "team-b", "GET", &format!("/sessions/{}", id[0]), None).ok_json(200);
    assert_eq!(s, fa.session(&id[0]).unwrap());
    let patched =
        in_project(&fa, "team-b", "PATCH", &format!("/sessions/{}", id[0]), Some(r#"{"prompt":"p"}"#)).ok_json(200);
    assert_eq!((&patched["prompt"], &patched["project_id"]), (&json!("p"), &json!("team-a")));
    assert_eq!(in_project(&fa, "team-b", "DELETE", &format!("/sessions/{}", id[0]), None).status, 204);
    assert_eq!(fa.session_ids("team-a"), id[1..3].to_vec());
}

#[test]
fn get_and_delete_unknown_and_patch_is_loose() {
    let fa = fake();
    api(&fa, "GET", "/sessions/nope", None).trex(404, 7, "Session with id='nope' not found");
    let r = api(&fa, "DELETE", "/sessions/nope", None);
    assert_eq!((r.status, r.body.len(), r.header("content-length")), (204, 0, None));
    let id = fa.add_session("team-a", json!({"name": "n", "prompt": "keep", "phase": "Running"}));
    let body = r#"{"name":"m","prompt":null,"project_id":"team-b","phase":"Failed","zzz":1,"timeout":60}"#;
    let s = api(&fa, "PATCH", &format!("/sessions/{id}"), Some(body)).ok_json(200);
    let want = json!({"name": "m", "prompt": "keep", "project_id": "team-a", "phase": "Running", "timeout": 60});
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&s[k], v, "{k}");
    }
    api(&fa, "PATCH", &format!("/sessions/{id}"), Some(r#"{"name":1}"#)).trex(
        400,
        17,
        "Invalid request format: json: cannot unmarshal number into Go struct field SessionPatchRequest.name of type string",
    );
    api(&fa, "PATCH", "/sessions/nope", Some("{}")).trex(404, 7, "Session with id='nope' not found");
    assert_eq!(api(&fa, "DELETE", &format!("/sessions/{id}"), None).status, 204);
    api(&fa, "GET", &format!("/sessions/{id}"), None).trex(404, 7, &format!("Session with id='{id}' not found"));
}

#[test]
fn start_and_stop_follow_the_phase_rules() {
    let fa = fake();
    let id = fa.add_session("team-a", json!({"name": "n"}));
    let path = |verb: &str| format!("/sessions/{id}/{verb}");
    let cannot_stop = |p: &str| format!("cannot stop session in phase \"{p}\"; must be Running, Creating, or Pending");
    let cannot_start =
        |p: &str| format!("cannot start session in phase \"{p}\"; must be empty, Stopped, Failed, or Completed");
    api(&fa, "POST", &path("stop"), None).trex(409, 6, &cannot_stop(""));
    assert_eq!(api(&fa, "POST", &path("start"), None).ok_json(200)["phase"], "Pending");
    api(&fa, "POST", &path("start"), None).trex(409, 6, &cannot_start("Pending"));
    for p in ["Running", "Creating", "Stopping"] {
        fa.set_phase(&id, p);
        api(&fa, "POST", &path("start"), None).trex(409, 6, &cannot_start(p));
    }
    for p in ["Running", "Creating", "Pending"] {
        fa.set_phase(&id, p);
        assert_eq!(api(&fa, "POST", &path("stop"), None).ok_json(200)["phase"], "Stopping");
    }
    for p in ["Stopped", "Failed", "Completed"] {
        fa.set_phase(&id, p);
        api(&fa, "POST", &path("stop"), None).trex(409, 6, &cannot_stop(p));
        assert_eq!(api(&fa, "POST", &path("start"), None).ok_json(200)["phase"], "Pending");
    }
    api(&fa, "POST", "/sessions/nope/start", None).trex(404, 7, "Session with id='nope' not found");
    api(&fa, "POST", "/sessions/nope/stop", None).trex(404, 7, "Session with id='nope' not found");
}

#[test]
fn clone_copies_settings_but_not_prompt_phase_or_creator() {
    let fa = fake();
    let src = fa.add_session(
        "team-a",
        json!({"name": "n", "prompt": "p", "phase": "Running", "labels": "{}", "llm_model": "m", "created_by_user_id": "u", "timeout": 5}),
    );
    let c = api(&fa, "POST", &format!("/sessions/{src}/clone"), None).ok_json(201);
    let cid = c["id"].as_str().unwrap();
    assert_ne!(cid, src);
    for (k, v) in [("name", "n-clone"), ("parent_session_id", src.as_str()), ("labels", "{}"), ("llm_model", "m")] {
        assert_eq!(c[k], v, "{k}");
    }
    assert_eq!((&c["timeout"], &c["project_id"], &c["kube_cr_name"]), (&json!(5), &json!("team-a"), &json!(cid)));
    for k in ["prompt", "phase", "created_by_user_id"] {
        assert_eq!(c.get(k), None, "{k}");
    }
    assert_eq!(fa.session_ids("team-a"), vec![src.clone(), cid.to_string()]);
    api(&fa, "POST", "/sessions/nope/clone", None).trex(404, 7, "Session with id='nope' not found");
}

#[test]
fn messages_post_and_list() {
    let fa = fake();
    let id = fa.add_session("team-a", json!({"name": "n"}));
    let m = format!("/sessions/{id}/messages");
    assert_eq!(api(&fa, "GET", &m, None).text(), "[]");
    let r = api(&fa, "POST", &m, Some(r#"{"event_type":"user","payload":"hi"}"#));
    assert!(r.text().ends_with("}\n"), "{:?}", r.text());
    let first = r.ok_json(201);
    assert_eq!(
        (&first["session_id"], &first["event_type"], &first["payload"]),
        (&json!(id), &json!("user"), &json!("hi"))
    );
    let second = api(&fa, "POST", &m, Some("{}")).ok_json(201);
    assert_eq!((&second["event_type"], &second["payload"]), (&json!("user"), &json!("")));
    fa.add_message(&id, "assistant", "hello");
    let all = api(&fa, "GET", &m, None);
    let keys = r#"{"id":"#;
    assert!(all.text().starts_with(&format!("[{keys}")), "struct field order: {}", all.text());
    let all = all.ok_json(200);
    let seqs: Vec<u64> = all.as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs.len() == 3, "{seqs:?}");
    let after = api(&fa, "GET", &format!("{m}?after_seq={}", seqs[0]), None).ok_json(200);
    assert_eq!(after.as_array().unwrap().len(), 2);
    assert_eq!(api(&fa, "GET", &format!("{m}?after_seq=x"), None).ok_json(200).as_array().unwrap().len(), 3);
    api(&fa, "POST", &m, Some(r#"{"event_type":"assistant","payload":"x"}"#))
        .text_err(400, "event_type must be \"user\" on this endpoint");
    for bad in ["", "{", "[1]", r#"{"payload":5}"#] {
        api(&fa, "POST", &m, Some(bad)).text_err(400, "invalid JSON body");
    }
    api(&fa, "GET", "/sessions/nope/messages", None).text_err(404, "session not found");
    api(&fa, "POST", "/sessions/nope/messages", Some("{}")).text_err(404, "session not found");
}

// ---------------------------------------------------------------- routing, projects, faults

#[test]
fn unknown_route_is_404_in_its_own_shape_and_wrong_method_is_405() {
    let fa = fake();
    let r = api(&fa, "GET", "/nothing/here", None);
    let want = r#"{"type":"Error","id":"404","href":"/api/ambient/v1/errors/404","code":"ambient-api-server-404","reason":"The requested resource '/api/ambient/v1/nothing/here' doesn't exist"}"#;
    assert_eq!((r.status, r.text().as_str()), (404, want));
    assert_eq!(api(&fa, "GET", "/sessions/x/frobnicate", None).status, 404);
    for (method, path) in [
        ("PUT", "/sessions"),
        ("DELETE", "/sessions"),
        ("POST", "/sessions/x"),
        ("GET", "/sessions/x/start"),
        ("PUT", "/sessions/x/messages"),
        ("DELETE", "/projects"),
    ] {
        let r = api(&fa, method, path, None);
        assert_eq!((r.status, r.body.len()), (405, 0), "{method} {path}");
    }
    // One trailing slash is removed first.
    assert_eq!(api(&fa, "GET", "/sessions/", None).ok_json(200)["kind"], "SessionList");
}

#[test]
fn projects_list_and_get() {
    let fa = fake();
    let l = api(&fa, "GET", "/projects", None).ok_json(200);
    assert_eq!((&l["kind"], &l["total"]), (&json!("ProjectList"), &json!(2)));
    let p = api(&fa, "GET", "/projects/team-b", None).ok_json(200);
    assert_eq!((&p["id"], &p["name"], &p["kind"]), (&json!("team-b"), &json!("team-b"), &json!("Project")));
    api(&fa, "GET", "/projects/x", None).trex(404, 7, "Project with id='x' not found");
}

#[test]
fn faults_come_before_auth_on_any_route_and_requests_are_recorded() {
    let fa = fake();
    let id = fa.add_session("team-a", json!({"name": "n"}));
    fa.push_fault_on(RouteMatch::new("GET", &format!("{V1}/sessions/*")), Fault::Status(503, "{}".into()));
    fa.fault_on(RouteMatch::prefix(&format!("{V1}/projects")), Fault::Status(500, "boom".into()), Times::N(2));
    let r = req(&fa, "GET", &format!("{V1}/sessions/{id}"), &[], None);
    assert_eq!((r.status, r.text().as_str()), (503, "{}"));
    api(&fa, "GET", &format!("/sessions/{id}"), None).ok_json(200);
    assert_eq!(api(&fa, "GET", "/projects", None).status, 500);
    assert_eq!(fa.pending_faults(), 1);
    fa.clear_faults();
    api(&fa, "GET", "/projects", None).ok_json(200);
    let reqs = fa.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!((reqs[1].method.as_str(), reqs[1].header("authorization")), ("GET", Some(AUTH)));
    assert_eq!(reqs[1].path, format!("{V1}/sessions/{id}"));
    fa.clear_requests();
    assert_eq!(fa.request_count(), 0);
}
