//! Self-tests of the test harness: the fake gateway, driven by a raw std HTTP client.
//! Expected values come from docs/public-api.md (the API facts, in this repository).

mod common;

use common::gateway::{FakeGateway, Fault, RouteMatch, Times};
use common::gobind::bind_create;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const TOK: &str = "tok-selftest";
const JSON_CT: &str = "application/json; charset=utf-8";

// ---------------------------------------------------------------- raw client

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// Asserts status, JSON content type and exact body text.
    fn expect(&self, status: u16, body: &str) {
        assert_eq!((self.status, self.text().as_str()), (status, body));
        assert_eq!(self.header("content-type"), Some(JSON_CT));
    }
}

fn connect(gw: &FakeGateway) -> TcpStream {
    let s = TcpStream::connect(gw.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads one response; the body by Content-Length, else to EOF (none for 204/HEAD).
fn read_resp<R: BufRead>(r: &mut R, head_only: bool) -> Resp {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status: u16 =
        line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header line");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').expect("header colon");
        headers.push((n.to_string(), v.trim().to_string()));
    }
    let mut resp = Resp { status, headers, body: Vec::new() };
    if head_only || status == 204 || status == 304 {
        return resp;
    }
    match resp.header("content-length").map(|v| v.parse::<usize>().unwrap()) {
        Some(n) => {
            resp.body = vec![0; n];
            r.read_exact(&mut resp.body).expect("body");
        }
        None => {
            r.read_to_end(&mut resp.body).expect("body to EOF");
        }
    }
    resp
}

fn raw(gw: &FakeGateway, request: &[u8]) -> Resp {
    let mut s = connect(gw);
    s.write_all(request).unwrap();
    read_resp(&mut BufReader::new(s), request.starts_with(b"HEAD "))
}

fn build(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(b) = body {
        out.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    out.push_str("\r\n");
    out.push_str(body.unwrap_or(""));
    out.into_bytes()
}

fn req(gw: &FakeGateway, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    raw(gw, &build(method, path, headers, body))
}

const AUTH: &str = "Bearer tok-selftest";

/// Authenticated request for project `team-a`.
fn api(gw: &FakeGateway, method: &str, path: &str, body: Option<&str>) -> Resp {
    req(gw, method, path, &[("Authorization", AUTH), ("X-Ambient-Project", "team-a")], body)
}

fn gateway() -> FakeGateway {
    let gw = FakeGateway::start();
    gw.accept_token(TOK);
    gw.add_project("team-a");
    gw
}

fn ts(minute: u32) -> String {
    format!("2026-01-01T10:{minute:02}:00Z")
}

/// An unsigned JWT whose payload is `payload` (unpadded base64url).
fn jwt(payload: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in payload.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    format!("eyJhbGciOiJSUzI1NiJ9.{out}.c2ln")
}

// ---------------------------------------------------------------- list / get / delete

#[test]
fn list_is_newest_first_capped_at_20_and_total_counts_items() {
    let gw = gateway();
    for i in 0..25 {
        gw.add_session("team-a", &format!("s-{i:02}"), "Running", &ts(i));
    }
    let r = api(&gw, "GET", "/v1/sessions?limit=100&offset=20", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(JSON_CT));
    let v = r.json();
    let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    let want: Vec<String> = (5..25).rev().map(|i| format!("s-{i:02}")).collect();
    assert_eq!(ids, want);
    assert_eq!(v["total"], 20);
}

#[test]
fn list_of_project_without_sessions_is_empty_items() {
    let gw = gateway();
    api(&gw, "GET", "/v1/sessions", None).expect(200, r#"{"items":[],"total":0}"#);
}

#[test]
fn list_maps_phases_and_passes_unknown_phases_through() {
    let gw = gateway();
    let phases = [
        ("Pending", "pending"),
        ("Creating", "pending"),
        ("Initializing", "pending"),
        ("Running", "running"),
        ("Active", "running"),
        ("Completed", "completed"),
        ("Succeeded", "completed"),
        ("Failed", "failed"),
        ("Error", "failed"),
        ("Stopping", "Stopping"),
        ("Stopped", "Stopped"),
        ("", "pending"),
    ];
    for (i, (phase, _)) in phases.iter().enumerate() {
        gw.add_session("team-a", &format!("p-{i:02}"), phase, &ts(59 - i as u32));
    }
    let v = api(&gw, "GET", "/v1/sessions", None).json();
    let got: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    let want: Vec<&str> = phases.iter().map(|p| p.1).collect();
    assert_eq!(got, want);
}

#[test]
fn get_returns_dto_with_fields_in_contract_order() {
    let gw = gateway();
    gw.add_session_full(
        "team-a",
        json!({
            "metadata": {"name": "s-1", "creationTimestamp": "2026-01-01T10:00:00Z"},
            "spec": {"prompt": "fix <b> & co", "model": "m-1", "initialPrompt": "ignored"},
            "status": {"phase": "Completed", "completionTime": "2026-01-01T11:00:00Z"}
        }),
    );
    api(&gw, "GET", "/v1/sessions/s-1", None).expect(
        200,
        r#"{"id":"s-1","status":"completed","task":"fix \u003cb\u003e \u0026 co","model":"m-1","createdAt":"2026-01-01T10:00:00Z","completedAt":"2026-01-01T11:00:00Z"}"#,
    );
}

#[test]
fn get_of_todays_backend_session_has_empty_task_and_no_model() {
    let gw = gateway();
    gw.add_session("team-a", "s-1", "Running", "2026-01-01T10:00:00Z");
    api(&gw, "GET", "/v1/sessions/s-1", None)
        .expect(200, r#"{"id":"s-1","status":"running","task":"","createdAt":"2026-01-01T10:00:00Z"}"#);
}

#[test]
fn get_unknown_session_is_404_session_not_found() {
    let gw = gateway();
    api(&gw, "GET", "/v1/sessions/nope", None).expect(404, r#"{"error":"Session not found"}"#);
}

#[test]
fn delete_is_204_then_404() {
    let gw = gateway();
    gw.add_session("team-a", "s-1", "Running", &ts(1));
    let r = api(&gw, "DELETE", "/v1/sessions/s-1", None);
    assert_eq!((r.status, r.body.len()), (204, 0));
    assert!(gw.session_ids("team-a").is_empty());
    api(&gw, "DELETE", "/v1/sessions/s-1", None).expect(404, r#"{"error":"Session not found"}"#);
}

// ---------------------------------------------------------------- create

#[test]
fn create_returns_201_with_uuid_id_and_loses_task_and_model() {
    let gw = gateway();
    let r = api(&gw, "POST", "/v1/sessions", Some(r#"{"task":"do it","model":"m-9","repos":[{"url":"u"}]}"#));
    assert_eq!(r.status, 201);
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(r.text(), format!(r#"{{"id":"{id}","message":"Session created"}}"#));
    assert_eq!(id.len(), 44);
    assert!(id.starts_with("session-") && id.as_bytes()[22] == b'4', "{id}");
    assert_eq!(gw.session_ids("team-a"), vec![id.clone()]);
    let got = api(&gw, "GET", &format!("/v1/sessions/{id}"), None).json();
    assert_eq!(got["task"], "");
    assert_eq!(got["status"], "pending");
    assert!(got.get("model").is_none());
    let created = got["createdAt"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 20, "{created}");
}

#[test]
fn create_with_faithful_backend_keeps_task_and_model() {
    let gw = gateway();
    gw.set_faithful_backend(true);
    let id = api(&gw, "POST", "/v1/sessions", Some(r#"{"task":"do it","model":"m-9"}"#)).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let got = api(&gw, "GET", &format!("/v1/sessions/{id}"), None).json();
    assert_eq!((got["task"].as_str(), got["model"].as_str()), (Some("do it"), Some("m-9")));
}

#[test]
fn create_newest_session_lists_first() {
    let gw = gateway();
    gw.add_session("team-a", "old", "Running", "2020-01-01T00:00:00Z");
    let id = api(&gw, "POST", "/v1/sessions", Some(r#"{"task":"t"}"#)).json()["id"].as_str().unwrap().to_string();
    let v = api(&gw, "GET", "/v1/sessions", None).json();
    assert_eq!(v["items"][0]["id"], id.as_str());
    assert_eq!(v["items"][1]["id"], "old");
}

#[test]
fn create_body_errors_use_go_texts() {
    let gw = gateway();
    let cases: &[(&str, &str)] = &[
        ("", "EOF"),
        ("  \n", "EOF"),
        (r#"{"task":"x""#, "unexpected EOF"),
        ("{}", "Key: 'CreateSessionRequest.Task' Error:Field validation for 'Task' failed on the 'required' tag"),
        (
            r#"{"task":""}"#,
            "Key: 'CreateSessionRequest.Task' Error:Field validation for 'Task' failed on the 'required' tag",
        ),
        ("null", "Key: 'CreateSessionRequest.Task' Error:Field validation for 'Task' failed on the 'required' tag"),
        (
            r#"{"task":5}"#,
            "json: cannot unmarshal number into Go struct field CreateSessionRequest.task of type string",
        ),
        (
            r#"{"task":"x","repos":["a"]}"#,
            "json: cannot unmarshal string into Go struct field CreateSessionRequest.repos of type types.Repo",
        ),
    ];
    for (body, want) in cases {
        let r = api(&gw, "POST", "/v1/sessions", Some(body));
        r.expect(400, &format!(r#"{{"error":{}}}"#, serde_json::to_string(want).unwrap()));
    }
    assert!(gw.session_ids("team-a").is_empty());
}

#[test]
fn create_accepts_repos_without_url_unknown_fields_and_trailing_data() {
    let gw = gateway();
    for body in [r#"{"task":"x","repos":[{}]}"#, r#"{"TASK":"x","displayName":5}"#, r#"{"task":"x"} trailing"#] {
        assert_eq!(api(&gw, "POST", "/v1/sessions", Some(body)).status, 201, "{body}");
    }
}

#[test]
fn go_binding_error_texts_for_other_shapes() {
    let e = |b: &str| bind_create(b.as_bytes()).unwrap_err();
    assert_eq!(e("not json"), "invalid character 'o' in literal null (expecting 'u')");
    assert_eq!(e("{task:1}"), "invalid character 't' looking for beginning of object key string");
    assert_eq!(e(r#"{"task" 1}"#), "invalid character '1' after object key");
    assert_eq!(e(r#"{"task":"x",}"#), "invalid character '}' looking for beginning of object key string");
    assert_eq!(e(r#"{"task":"x" "#), "unexpected EOF");
    assert_eq!(e(r#"{"task":[1,]}"#), "invalid character ']' looking for beginning of value");
    assert_eq!(e("[1]"), "json: cannot unmarshal array into Go value of type types.CreateSessionRequest");
    assert_eq!(e(r#""x""#), "json: cannot unmarshal string into Go value of type types.CreateSessionRequest");
    assert_eq!(e("5 x"), "json: cannot unmarshal number into Go value of type types.CreateSessionRequest");
    assert_eq!(e("5x"), "json: cannot unmarshal number into Go value of type types.CreateSessionRequest");
    assert_eq!(
        e(r#"{"task":true}"#),
        "json: cannot unmarshal bool into Go struct field CreateSessionRequest.task of type string"
    );
    assert_eq!(
        e(r#"{"task":{}}"#),
        "json: cannot unmarshal object into Go struct field CreateSessionRequest.task of type string"
    );
    assert_eq!(
        e(r#"{"task":"x","model":[]}"#),
        "json: cannot unmarshal array into Go struct field CreateSessionRequest.model of type string"
    );
    assert_eq!(
        e(r#"{"task":"x","repos":{}}"#),
        "json: cannot unmarshal object into Go struct field CreateSessionRequest.repos of type []types.Repo"
    );
    assert_eq!(
        e(r#"{"task":"x","repos":[{"url":1}]}"#),
        "json: cannot unmarshal number into Go struct field Repo.repos.url of type string"
    );
    // Type errors beat `required`; the first one wins.
    assert_eq!(
        e(r#"{"model":1,"task":2}"#),
        "json: cannot unmarshal number into Go struct field CreateSessionRequest.model of type string"
    );
    assert_eq!(e("{\"task\":\"a\nb\"}"), "invalid character '\\n' in string literal");
    assert_eq!(e(r#"{"task":1.}"#), "invalid character '}' after decimal point in numeric literal");
    assert_eq!(e(&"[".repeat(10_001)), "invalid character '[' exceeded max depth");
    assert_eq!(e(&format!("{}1", "[".repeat(10_000))), "unexpected EOF");
    let ok = bind_create(br#"{"task":"\u00e9\ud83d\ude00","repos":[{"url":"u","branch":"b"},null]}"#).unwrap();
    assert_eq!(ok.task, "é😀");
    assert_eq!(ok.repos.unwrap().len(), 2);
}

// ---------------------------------------------------------------- auth and project

#[test]
fn auth_missing_or_unusable_is_401_missing_or_invalid() {
    let gw = gateway();
    let missing = r#"{"error":"Missing or invalid authorization"}"#;
    let p = ("X-Ambient-Project", "team-a");
    req(&gw, "GET", "/v1/sessions", &[p], None).expect(401, missing);
    req(&gw, "GET", "/v1/sessions", &[p, ("Authorization", "bearer tok-selftest")], None).expect(401, missing);
    req(&gw, "GET", "/v1/sessions", &[p, ("Authorization", "tok-selftest")], None).expect(401, missing);
    req(&gw, "GET", "/v1/sessions", &[p, ("Authorization", "Bearer ")], None).expect(401, missing);
    // Go trims header values, so "Bearer " arrives as "Bearer" and the fallback applies.
    let r =
        req(&gw, "GET", "/v1/sessions", &[p, ("Authorization", "Bearer \t"), ("X-Forwarded-Access-Token", TOK)], None);
    assert_eq!(r.status, 200);
}

#[test]
fn auth_falls_back_to_x_forwarded_access_token() {
    let gw = gateway();
    let p = ("X-Ambient-Project", "team-a");
    let r =
        req(&gw, "GET", "/v1/sessions", &[p, ("Authorization", "Basic Zm9v"), ("x-forwarded-access-token", TOK)], None);
    assert_eq!(r.status, 200);
}

#[test]
fn auth_unknown_token_is_401_token_expired() {
    let gw = gateway();
    let r =
        req(&gw, "GET", "/v1/sessions", &[("Authorization", "Bearer other"), ("X-Ambient-Project", "team-a")], None);
    r.expect(401, r#"{"error":"Token expired or invalid"}"#);
    let r = req(
        &gw,
        "GET",
        "/v1/sessions",
        &[("Authorization", "Bearer  tok-selftest"), ("X-Ambient-Project", "team-a")],
        None,
    );
    r.expect(401, r#"{"error":"Token expired or invalid"}"#);
}

#[test]
fn unknown_project_is_403() {
    let gw = gateway();
    let r = req(&gw, "GET", "/v1/sessions", &[("Authorization", AUTH), ("X-Ambient-Project", "team-b")], None);
    r.expect(403, r#"{"error":"Unauthorized to access project"}"#);
}

const PROJECT_REQUIRED: &str =
    r#"{"error":"Project required. Set X-Ambient-Project header or use a project-scoped access key."}"#;

#[test]
fn missing_project_with_opaque_token_is_400_project_required() {
    let gw = gateway();
    req(&gw, "GET", "/v1/sessions", &[("Authorization", AUTH)], None).expect(400, PROJECT_REQUIRED);
}

#[test]
fn jwt_service_account_namespace_selects_project_and_mismatch_is_400() {
    let gw = gateway();
    let t = jwt(r#"{"sub":"system:serviceaccount:team-a:bot","iss":"x"}"#);
    gw.accept_token(&t);
    let bearer = format!("Bearer {t}");
    assert_eq!(req(&gw, "GET", "/v1/sessions", &[("Authorization", &bearer)], None).status, 200);
    let same = [("Authorization", bearer.as_str()), ("X-Ambient-Project", "team-a")];
    assert_eq!(req(&gw, "GET", "/v1/sessions", &same, None).status, 200);
    let other = [("Authorization", bearer.as_str()), ("X-Ambient-Project", "team-b")];
    req(&gw, "GET", "/v1/sessions", &other, None).expect(400, PROJECT_REQUIRED);
}

#[test]
fn name_validation_checks_project_then_id() {
    let gw = gateway();
    let bad_project = [("Authorization", AUTH), ("X-Ambient-Project", "Team-A")];
    req(&gw, "GET", "/v1/sessions/Bad_ID", &bad_project, None).expect(400, r#"{"error":"Invalid project name"}"#);
    req(&gw, "POST", "/v1/sessions", &bad_project, Some("")).expect(400, r#"{"error":"Invalid project name"}"#);
    let long = "a".repeat(64);
    req(&gw, "GET", "/v1/sessions", &[("Authorization", AUTH), ("X-Ambient-Project", &long)], None)
        .expect(400, r#"{"error":"Invalid project name"}"#);
    for id in ["Bad_ID", "-a", "a-", "%2e%2e", "a%20b"] {
        api(&gw, "DELETE", &format!("/v1/sessions/{id}"), None).expect(400, r#"{"error":"Invalid session ID"}"#);
    }
    let r = api(&gw, "GET", "/v1/sessions/a%2Fb", None);
    assert_eq!((r.status, r.text().as_str()), (404, "404 page not found"));
}

// ---------------------------------------------------------------- routing

#[test]
fn unknown_routes_and_methods_are_plain_404_without_auth() {
    let gw = gateway();
    for (m, p) in [
        ("GET", "/nope"),
        ("PATCH", "/v1/sessions/x"),
        ("PUT", "/v1/sessions/x"),
        ("DELETE", "/v1/sessions"),
        ("GET", "/v1/sessions/x/logs"),
        ("GET", "/V1/sessions"),
        ("GET", "//v1/sessions"),
        ("GET", "/v1"),
        ("OPTIONS", "/v1/sessions"),
    ] {
        let r = req(&gw, m, p, &[], None);
        assert_eq!((r.status, r.text().as_str()), (404, "404 page not found"), "{m} {p}");
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("content-length"), Some("18"));
    }
    let r = req(&gw, "HEAD", "/v1/sessions", &[("Authorization", AUTH)], None);
    assert_eq!((r.status, r.header("content-type")), (404, Some("text/plain")));
}

#[test]
fn health_ready_metrics_need_no_auth() {
    let gw = gateway();
    req(&gw, "GET", "/health", &[], None).expect(200, r#"{"status":"ok"}"#);
    req(&gw, "GET", "/ready", &[], None).expect(200, r#"{"status":"ready"}"#);
    let m = req(&gw, "GET", "/metrics", &[], None);
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
}

#[test]
fn trailing_slash_redirects_301_for_get_and_307_otherwise() {
    let gw = gateway();
    let r = req(&gw, "GET", "/v1/sessions/?a=1", &[], None);
    assert_eq!((r.status, r.header("location")), (301, Some("/v1/sessions?a=1")));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.text().trim_end(), r#"<a href="/v1/sessions?a=1">Moved Permanently</a>."#);
    let r = req(&gw, "POST", "/v1/sessions/", &[], Some(r#"{"task":"x"}"#));
    assert_eq!((r.status, r.header("location"), r.body.len()), (307, Some("/v1/sessions"), 0));
    let r = req(&gw, "DELETE", "/v1/sessions/abc/", &[], None);
    assert_eq!((r.status, r.header("location")), (307, Some("/v1/sessions/abc")));
    let r = req(&gw, "GET", "/health/", &[], None);
    assert_eq!((r.status, r.header("location")), (301, Some("/health")));
    assert_eq!(gw.request_count(), 4);
}

#[test]
fn disallowed_origin_is_403_and_allowed_preflight_is_204() {
    let gw = gateway();
    let r = req(&gw, "GET", "/v1/sessions", &[("Origin", "https://evil.example")], None);
    assert_eq!((r.status, r.body.len()), (403, 0));
    let r = req(&gw, "OPTIONS", "/v1/sessions", &[("Origin", "http://localhost:3000")], None);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://localhost:3000"));
    let r = req(&gw, "GET", "/v1/sessions", &[("Origin", "http://127.0.0.1"), ("Authorization", AUTH)], None);
    assert_eq!(r.status, 400, "same-origin requests skip CORS");
}

#[test]
fn rate_limit_answers_429_after_burst_but_not_for_health() {
    let gw = gateway();
    gw.set_rate_limit(0.001, 2.0);
    assert_eq!(req(&gw, "GET", "/nope", &[], None).status, 404);
    assert_eq!(api(&gw, "GET", "/v1/sessions", None).status, 200);
    let r = api(&gw, "GET", "/v1/sessions", None);
    r.expect(429, r#"{"error":"Rate limit exceeded","retry_after":"1s"}"#);
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(req(&gw, "GET", "/health", &[], None).status, 200);
}

// ---------------------------------------------------------------- recording and connections

#[test]
fn requests_are_recorded_with_lowercased_header_names() {
    let gw = gateway();
    api(&gw, "POST", "/v1/sessions?x=1", Some(r#"{"task":"t"}"#));
    req(&gw, "GET", "/health", &[("X-Custom-Thing", "V")], None);
    let reqs = gw.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("POST", "/v1/sessions?x=1"));
    assert_eq!(reqs[0].header("AUTHORIZATION"), Some(AUTH));
    assert!(reqs[0].headers.iter().any(|(n, _)| n == "x-ambient-project"));
    assert_eq!(reqs[0].body_json(), json!({"task": "t"}));
    assert!(reqs[1].headers.contains(&("x-custom-thing".to_string(), "V".to_string())));
    gw.clear_requests();
    assert_eq!(gw.request_count(), 0);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let gw = gateway();
    let s = connect(&gw);
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let get = "GET /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-selftest\r\nX-Ambient-Project: team-a\r\n\r\n";
    let post = "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-selftest\r\nX-Ambient-Project: team-a\r\nContent-Length: 12\r\n\r\n{\"task\":\"t\"}";
    // Pipelined: both written before reading.
    w.write_all(format!("{get}{post}").as_bytes()).unwrap();
    assert_eq!(read_resp(&mut r, false).status, 200);
    assert_eq!(read_resp(&mut r, false).status, 201);
    w.write_all(get.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let last = read_resp(&mut r, false);
    assert_eq!((last.status, last.json()["total"].as_u64()), (200, Some(1)));
    assert_eq!(last.header("connection"), Some("close"));
    let mut rest = Vec::new();
    assert_eq!(r.read_to_end(&mut rest).unwrap(), 0, "closed after Connection: close");
}

#[test]
fn chunked_request_bodies_are_decoded() {
    let gw = gateway();
    let r = raw(
        &gw,
        b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer tok-selftest\r\nX-Ambient-Project: team-a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"tas\r\n7\r\nk\":\"t\"}\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 201);
}

#[test]
fn garbage_request_gets_400_and_server_keeps_serving() {
    let gw = gateway();
    let r = raw(&gw, b"THIS IS NOT HTTP\r\n\r\n");
    assert_eq!(r.status, 400);
    let r = raw(&gw, b"GET /health HTTP/1.1\r\n\r\n");
    assert_eq!((r.status, r.text().as_str()), (400, "400 Bad Request: missing required Host header"));
    let r = raw(&gw, b"GET /v1/sessions/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 400);
    let mut s = connect(&gw);
    s.write_all(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{").unwrap();
    drop(s);
    assert_eq!(req(&gw, "GET", "/health", &[], None).status, 200);
}

// ---------------------------------------------------------------- faults

#[test]
fn faults_apply_only_to_v1_requests_in_queue_order() {
    let gw = gateway();
    gw.push_fault(Fault::Status(500, r#"{"error":"one"}"#.into()));
    gw.push_fault(Fault::Status(502, r#"{"error":"two"}"#.into()));
    req(&gw, "GET", "/health", &[], None).expect(200, r#"{"status":"ok"}"#);
    // Faults come before auth and routing.
    req(&gw, "GET", "/v1/whatever", &[], None).expect(500, r#"{"error":"one"}"#);
    api(&gw, "GET", "/v1/sessions", None).expect(502, r#"{"error":"two"}"#);
    api(&gw, "GET", "/v1/sessions", None).expect(200, r#"{"items":[],"total":0}"#);
    assert_eq!(gw.request_count(), 4);
    assert_eq!(gw.pending_faults(), 0);
}

#[test]
fn fault_raw_writes_bytes_then_closes() {
    let gw = gateway();
    gw.push_fault(Fault::Raw(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nnot-a-length-delimited-body".to_vec()));
    let mut s = connect(&gw);
    s.write_all(&build("GET", "/v1/sessions", &[], None).replace_conn_keepalive()).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nnot-a-length-delimited-body");
}

trait KeepAlive {
    fn replace_conn_keepalive(self) -> Vec<u8>;
}
impl KeepAlive for Vec<u8> {
    /// Turns `Connection: close` into keep-alive so closing is the fault's doing.
    fn replace_conn_keepalive(self) -> Vec<u8> {
        String::from_utf8(self).unwrap().replace("Connection: close\r\n", "").into_bytes()
    }
}

#[test]
fn fault_hang_never_answers_until_gateway_dropped() {
    let gw = gateway();
    gw.push_fault(Fault::Hang);
    let mut s = connect(&gw);
    s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    s.write_all(&build("GET", "/v1/sessions", &[], None)).unwrap();
    let mut buf = [0u8; 64];
    let e = s.read(&mut buf).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{e:?}");
    assert_eq!(gw.request_count(), 1);
    drop(gw);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)), "socket released on drop");
}

#[test]
fn fault_trickle_sends_whole_body_slowly() {
    let gw = gateway();
    let body = r#"{"items":[],"total":0}"#.repeat(2); // 44 bytes, 100 B/s → ≥ 0.4 s
    gw.push_fault(Fault::Trickle { body: body.clone(), bytes_per_sec: 100 });
    let t = Instant::now();
    let r = api(&gw, "GET", "/v1/sessions", None);
    assert!(t.elapsed() >= Duration::from_millis(350), "{:?}", t.elapsed());
    assert_eq!((r.status, r.text()), (200, body));
    assert_eq!(r.header("content-type"), Some(JSON_CT));
}

#[test]
fn fault_reset_closes_with_rst_and_no_response() {
    let gw = gateway();
    gw.push_fault(Fault::Reset);
    let mut s = connect(&gw);
    s.write_all(&build("GET", "/v1/sessions", &[], None).replace_conn_keepalive()).unwrap();
    let mut buf = Vec::new();
    match s.read_to_end(&mut buf) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
        Ok(n) => assert_eq!(n, 0, "no response bytes"),
    }
    assert!(buf.is_empty());
}

#[test]
fn fault_truncated_declares_more_than_it_sends() {
    let gw = gateway();
    gw.push_fault(Fault::Truncated);
    let mut s = connect(&gw);
    s.write_all(&build("GET", "/v1/sessions", &[], None).replace_conn_keepalive()).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8(all).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"));
    let declared: usize = head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).unwrap().parse().unwrap();
    assert!(declared > body.len() && !body.is_empty(), "{declared} vs {}", body.len());
}

#[test]
fn fault_non_json_wrong_shape_huge_rate_limited_redirect() {
    let gw = gateway();
    gw.push_fault(Fault::NonJson200);
    let r = api(&gw, "GET", "/v1/sessions", None);
    assert_eq!((r.status, r.header("content-type"), r.text().as_str()), (200, Some("text/html"), "<html>oops</html>"));

    gw.push_fault(Fault::WrongShape200);
    api(&gw, "GET", "/v1/sessions", None).expect(200, r#"{"unexpected":true}"#);

    gw.push_fault(Fault::Huge(100_000));
    let r = api(&gw, "GET", "/v1/sessions", None);
    assert_eq!((r.status, r.body.len(), r.header("content-length")), (200, 100_000, Some("100000")));
    assert!(r.json().is_object());

    gw.push_fault(Fault::RateLimited);
    let r = api(&gw, "GET", "/v1/sessions", None);
    r.expect(429, r#"{"error":"Rate limit exceeded","retry_after":"1s"}"#);
    assert_eq!(r.header("retry-after"), None);

    gw.push_fault(Fault::Redirect(302, "http://elsewhere.invalid/v1/sessions".into()));
    let r = api(&gw, "GET", "/v1/sessions", None);
    assert_eq!((r.status, r.header("location"), r.body.len()), (302, Some("http://elsewhere.invalid/v1/sessions"), 0));
}

// ---------------------------------------------------------------- fault rules (route × times)

/// `Fault::Status(code, {"error":"<tag>"})`, and the body it answers with.
fn tagged(code: u16, tag: &str) -> Fault {
    Fault::Status(code, tagged_body(tag))
}
fn tagged_body(tag: &str) -> String {
    format!(r#"{{"error":"{tag}"}}"#)
}
fn expect_404_page(r: &Resp, what: &str) {
    assert_eq!((r.status, r.text().as_str()), (404, "404 page not found"), "{what}");
}

#[test]
fn fault_on_exact_path_ignores_query_and_spares_other_paths() {
    let gw = gateway();
    gw.add_session("team-a", "s-1", "Running", &ts(1));
    gw.fault_on(RouteMatch::path("/v1/sessions"), tagged(500, "exact"), Times::Always);
    api(&gw, "GET", "/v1/sessions?limit=1", None).expect(500, &tagged_body("exact"));
    api(&gw, "POST", "/v1/sessions", Some(r#"{"task":"t"}"#)).expect(500, &tagged_body("exact"));
    req(&gw, "GET", "http://elsewhere/v1/sessions", &[], None).expect(500, &tagged_body("exact"));
    assert_eq!(api(&gw, "GET", "/v1/sessions/s-1", None).status, 200);
    let r = req(&gw, "GET", "/v1/sessions/", &[], None);
    assert_eq!((r.status, r.header("location")), (301, Some("/v1/sessions")));
    expect_404_page(&req(&gw, "GET", "/v1", &[], None), "/v1");
    expect_404_page(&req(&gw, "GET", "/v1/sessionsx", &[], None), "/v1/sessionsx");
    assert_eq!(gw.session_ids("team-a"), ["s-1"], "the faulted POST created nothing");
    assert_eq!(gw.pending_faults(), 1);
}

#[test]
fn fault_on_wildcard_segment_matches_exactly_one_nonempty_segment() {
    let gw = gateway();
    gw.add_session("team-a", "s-1", "Running", &ts(1));
    gw.fault_on(RouteMatch::path("/v1/sessions/*"), tagged(503, "star"), Times::Always);
    api(&gw, "GET", "/v1/sessions/s-1", None).expect(503, &tagged_body("star"));
    api(&gw, "DELETE", "/v1/sessions/s-1", None).expect(503, &tagged_body("star"));
    // Before name validation too.
    api(&gw, "GET", "/v1/sessions/Bad_ID", None).expect(503, &tagged_body("star"));
    let list = api(&gw, "GET", "/v1/sessions", None);
    assert_eq!((list.status, list.json()["total"].as_u64()), (200, Some(1)), "{}", list.text());
    assert_eq!(req(&gw, "GET", "/v1/sessions/", &[], None).status, 301);
    expect_404_page(&api(&gw, "GET", "/v1/sessions/a/b", None), "two segments");
    expect_404_page(&api(&gw, "GET", "/v1/sessions/a%2Fb", None), "two segments once decoded");
    assert_eq!(gw.session_ids("team-a"), ["s-1"], "the faulted DELETE deleted nothing");

    // `*` in the middle of a pattern; a `*` inside a segment is literal.
    gw.clear_faults();
    gw.fault_on(RouteMatch::path("/v1/*/logs"), tagged(500, "mid"), Times::Always);
    gw.fault_on(RouteMatch::path("/v1/sess*"), tagged(500, "literal"), Times::Always);
    req(&gw, "GET", "/v1/sessions/logs", &[], None).expect(500, &tagged_body("mid"));
    expect_404_page(&req(&gw, "GET", "/v1/sessions/x/logs", &[], None), "three segments for one *");
    expect_404_page(&req(&gw, "GET", "/v1//logs", &[], None), "empty segment");
    assert_eq!(api(&gw, "GET", "/v1/sessions", None).status, 200);
    req(&gw, "GET", "/v1/sess*", &[], None).expect(500, &tagged_body("literal"));
}

#[test]
fn fault_on_method_filter_spares_other_methods() {
    let gw = gateway();
    gw.add_session("team-a", "s-1", "Running", &ts(1));
    gw.push_fault_on(RouteMatch::new("DELETE", "/v1/sessions/*"), tagged(500, "delete"));
    assert_eq!(api(&gw, "GET", "/v1/sessions/s-1", None).status, 200);
    // Methods are case-sensitive: `delete` is another (unrouted) method.
    expect_404_page(&api(&gw, "delete", "/v1/sessions/s-1", None), "lower-case method");
    assert_eq!(gw.pending_faults(), 1);
    api(&gw, "DELETE", "/v1/sessions/s-1", None).expect(500, &tagged_body("delete"));
    assert_eq!(gw.session_ids("team-a"), ["s-1"]);
    assert_eq!(api(&gw, "DELETE", "/v1/sessions/s-1", None).status, 204);
    assert_eq!(gw.pending_faults(), 0);

    gw.push_fault_on(RouteMatch::prefix("/v1/").method("POST"), tagged(500, "post"));
    assert_eq!(api(&gw, "GET", "/v1/sessions", None).status, 200);
    api(&gw, "POST", "/v1/anything", Some("{}")).expect(500, &tagged_body("post"));
}

#[test]
fn fault_counts_once_n_and_always_until_cleared() {
    let gw = gateway();
    let list = RouteMatch::new("GET", "/v1/sessions");
    let empty = r#"{"items":[],"total":0}"#;
    gw.fault_on(list.clone(), tagged(500, "twice"), Times::N(2));
    assert_eq!(gw.pending_faults(), 1);
    api(&gw, "GET", "/v1/sessions", None).expect(500, &tagged_body("twice"));
    api(&gw, "GET", "/v1/sessions", None).expect(500, &tagged_body("twice"));
    api(&gw, "GET", "/v1/sessions", None).expect(200, empty);
    assert_eq!(gw.pending_faults(), 0);

    gw.fault_on(list.clone(), tagged(503, "always"), Times::Always);
    for _ in 0..5 {
        api(&gw, "GET", "/v1/sessions", None).expect(503, &tagged_body("always"));
    }
    assert_eq!(gw.pending_faults(), 1);
    gw.push_fault_on(list.clone(), tagged(500, "once"));
    gw.push_fault(tagged(500, "queued"));
    assert_eq!(gw.pending_faults(), 3);
    gw.clear_faults();
    assert_eq!(gw.pending_faults(), 0);
    api(&gw, "GET", "/v1/sessions", None).expect(200, empty);
    assert_eq!(gw.request_count(), 9, "faulted requests are recorded");
}

#[test]
#[should_panic(expected = "would never fire")]
fn fault_times_zero_is_refused() {
    gateway().fault_on(RouteMatch::path("/v1/sessions"), Fault::Hang, Times::N(0));
}

#[test]
fn route_faults_and_push_fault_queue_fire_in_the_order_added() {
    let gw = gateway();
    let delete = RouteMatch::new("DELETE", "/v1/sessions/*");
    let not_found = r#"{"error":"Session not found"}"#;
    // The queued fault was added first and matches the DELETE too, so it answers first.
    gw.push_fault(tagged(500, "queued"));
    gw.push_fault_on(delete.clone(), tagged(502, "route"));
    req(&gw, "GET", "/health", &[], None).expect(200, r#"{"status":"ok"}"#);
    api(&gw, "DELETE", "/v1/sessions/x", None).expect(500, &tagged_body("queued"));
    api(&gw, "DELETE", "/v1/sessions/x", None).expect(502, &tagged_body("route"));
    api(&gw, "DELETE", "/v1/sessions/x", None).expect(404, not_found);

    // The route fault first: a request it does not match skips it and takes the queue's head.
    gw.push_fault_on(delete, tagged(502, "route"));
    gw.push_fault(tagged(500, "queued-1"));
    gw.push_fault(tagged(500, "queued-2"));
    api(&gw, "GET", "/v1/sessions", None).expect(500, &tagged_body("queued-1"));
    api(&gw, "DELETE", "/v1/sessions/x", None).expect(502, &tagged_body("route"));
    api(&gw, "DELETE", "/v1/sessions/x", None).expect(500, &tagged_body("queued-2"));
    assert_eq!(gw.pending_faults(), 0);

    // An Always rule shadows later rules for what it matches: `/v1/` does not match `/v1`,
    // push_fault's `/v1` prefix does.
    gw.fault_on(RouteMatch::prefix("/v1/"), tagged(503, "always"), Times::Always);
    gw.push_fault(tagged(500, "queued"));
    api(&gw, "GET", "/v1/sessions", None).expect(503, &tagged_body("always"));
    req(&gw, "GET", "/v1", &[], None).expect(500, &tagged_body("queued"));
    expect_404_page(&req(&gw, "GET", "/v1", &[], None), "queue used up");
}

#[test]
fn fault_on_unrouted_path_answers_before_routing_and_is_recorded() {
    let gw = gateway();
    let messages = RouteMatch::new("POST", "/api/ambient/v1/sessions/*/messages");
    gw.push_fault_on(messages, tagged(503, "not yet"));
    let r = req(&gw, "POST", "/api/ambient/v1/sessions/s-1/messages?wait=1", &[], Some(r#"{"content":"hi"}"#));
    r.expect(503, &tagged_body("not yet"));
    let again = req(&gw, "POST", "/api/ambient/v1/sessions/s-1/messages", &[], Some(r#"{"content":"hi"}"#));
    expect_404_page(&again, "not routed by the fake");

    // Any fault, on paths push_fault never reached; before redirects and CORS as well.
    gw.push_fault_on(RouteMatch::path("/health"), Fault::NonJson200);
    let r = req(&gw, "GET", "/health", &[], None);
    assert_eq!((r.status, r.header("content-type"), r.text().as_str()), (200, Some("text/html"), "<html>oops</html>"));
    req(&gw, "GET", "/health", &[], None).expect(200, r#"{"status":"ok"}"#);
    gw.push_fault_on(RouteMatch::prefix("/api/ambient/"), Fault::WrongShape200);
    req(&gw, "GET", "/api/ambient/v1/", &[("Origin", "https://evil.example")], None)
        .expect(200, r#"{"unexpected":true}"#);

    let reqs = gw.requests();
    let seen: Vec<(&str, &str)> = reqs.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("POST", "/api/ambient/v1/sessions/s-1/messages?wait=1"),
            ("POST", "/api/ambient/v1/sessions/s-1/messages"),
            ("GET", "/health"),
            ("GET", "/health"),
            ("GET", "/api/ambient/v1/"),
        ]
    );
    assert_eq!(reqs[0].body_json(), json!({"content": "hi"}));
    assert_eq!(gw.pending_faults(), 0);
}

// ---------------------------------------------------------------- mcp helpers that need no binary

#[test]
fn token_leak_detects_whole_token_pieces_and_hex_dumps() {
    use common::mcp::{TOKEN, token_leak};
    assert!(token_leak(&format!("a {TOKEN} b")).is_some());
    assert!(token_leak("…ok-SECRET-4…").is_some());
    let hexdump =
        "util] 6572 2074 6f6b 2d53 4543 5245 542d 3466  er.tok-SECRE\nutil] 3163 3961 3765 3262 0d0a  1c9a7e2b..";
    assert!(token_leak(hexdump).is_some());
    assert!(token_leak("6f6b 2d53 4543 5245 542d 3466 3163").unwrap().starts_with("hex"));
    assert!(token_leak("token tok-SE…2b, session-4f1c9a7e-1234").is_none());
}

#[test]
fn test_env_writes_private_default_config_pointing_at_gateway() {
    use std::os::unix::fs::PermissionsExt;
    let env = common::mcp::TestEnv::new();
    env.write_default_config();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(env.dir.path()), mode(&env.config_path())), (0o700, 0o600));
    let yaml = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(yaml.contains(&env.gateway.url()) && yaml.contains("default_cluster: dev"), "{yaml}");
    let r = req(&env.gateway, "GET", "/v1/sessions", &[("Authorization", &format!("Bearer {}", common::TOKEN))], None);
    assert_eq!(r.status, 400, "no project header and an opaque token");
}
