//! Self-tests of the test harness: the fake gateway, driven by a raw std HTTP client.
//! Expected values come from docs/public-api.md (the API facts, in this repository).

mod common;

use common::gobind::bind_create;
use common::raw::*;
use serde_json::json;
use std::io::{BufReader, Read, Write};

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
