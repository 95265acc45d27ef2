//! Every way the gateway (or the network in front of it) can misbehave, end to end: the
//! server reports a clear `isError` result, sends what the retry rules allow and no more,
//! and then answers the next call normally. Logs at `trace`; the token never shows.

mod common;

use common::*;
use serde_json::json;
use std::net::TcpListener;
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

fn config(server: &str, timeout_seconds: Option<u32>) -> String {
    let timeout = timeout_seconds.map(|t| format!("    timeout_seconds: {t}\n")).unwrap_or_default();
    format!(
        "clusters:\n  dev:\n    server: \"{server}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n{timeout}default_cluster: dev\n"
    )
}

/// Gateway with one session `s1`; server started (RUST_LOG=trace) and initialized.
fn ready_with(timeout_seconds: Option<u32>) -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_config(&config(&env.gateway.url(), timeout_seconds));
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    (env, s)
}

fn ready() -> (TestEnv, Server) {
    ready_with(None)
}

fn list(s: &mut Server) -> ToolResult {
    s.call_tool("acp_list_sessions", json!({}))
}

/// The call after a fault works as if nothing had happened.
fn next_call_succeeds(env: &TestEnv, s: &mut Server) {
    let before = env.gateway.request_count();
    let ids = env.gateway.session_ids("team-a");
    let r = list(s);
    assert!(!r.is_error, "the call after the fault failed: {}", r.text);
    let found = format!("Found {} session(s) in project 'team-a' (cluster '", ids.len());
    assert!(r.text.starts_with(&found), "{}", r.text);
    assert!(ids.iter().all(|id| r.text.contains(&format!("- {id}\n"))), "{ids:?}: {}", r.text);
    assert_eq!(env.gateway.request_count(), before + 1, "one request for one list");
}

fn methods(env: &TestEnv) -> Vec<String> {
    env.gateway.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
}

// ---------------------------------------------------------------- no answer, slow answer

#[test]
fn a_gateway_that_never_answers_times_out_after_the_clusters_timeout() {
    let (env, mut s) = ready_with(Some(1));
    env.gateway.push_fault(Fault::Hang);
    let started = Instant::now();
    let r = list(&mut s);
    let took = started.elapsed();
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Failed to list sessions in project 'team-a': "), "{}", r.text);
    assert!(r.text.contains("did not answer within 1 s"), "{}", r.text);
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(env.gateway.request_count(), 1, "a timeout is not retried");
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_body_trickling_in_past_the_timeout_is_cut_off() {
    let (env, mut s) = ready_with(Some(1));
    // 36 bytes at 10 bytes/s: a byte every 100 ms, so only an overall deadline stops it.
    let body = r#"{"items":[],"total":0,"pad":"xxxxxx"}"#.to_string();
    env.gateway.push_fault(Fault::Trickle { body, bytes_per_sec: 10 });
    let started = Instant::now();
    let r = list(&mut s);
    let took = started.elapsed();
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("did not answer within 1 s"), "{}", r.text);
    assert!(took < Duration::from_millis(2500), "the 3.6 s body was read to the end: {took:?}");
    assert_eq!(env.gateway.request_count(), 1);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_slow_body_within_the_timeout_is_read() {
    let (env, mut s) = ready_with(Some(2));
    let body = r#"{"items":[],"total":0}"#.to_string(); // 22 bytes at 40/s: about 0.5 s
    env.gateway.push_fault(Fault::Trickle { body, bytes_per_sec: 40 });
    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Found 0 session(s)"), "{}", r.text);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

// ---------------------------------------------------------------- broken answers

#[test]
fn a_connection_reset_is_reported_as_such() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Reset);
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Failed to get session 's1': The request to the gateway failed: "), "{}", r.text);
    assert!(r.text.contains("closed the connection") || r.text.contains("reset"), "{}", r.text);
    assert!(!r.text.contains("not found"), "{}", r.text);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_truncated_body_is_reported_not_parsed() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Truncated);
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("closed the connection before a complete answer"), "{}", r.text);
    assert!(!r.text.contains("session-trunc"), "a partial body was used: {}", r.text);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_200_that_is_not_json_is_reported_with_its_content_type() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::NonJson200);
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(
        r.text.contains("The gateway's answer could not be used: status 200 with a body that is not a session list"),
        "{}",
        r.text
    );
    assert!(r.text.contains("content type \"text/html\""), "{}", r.text);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_200_of_the_wrong_shape_is_reported() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::WrongShape200);
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("not a session list (missing field `items`"), "{}", r.text);
    env.gateway.push_fault(Fault::Status(200, "[1,2]".into()));
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.is_error && r.text.contains("not a session ("), "{}", r.text);
    env.gateway.push_fault(Fault::Status(200, r#"{"id":5}"#.into()));
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.is_error && r.text.contains("invalid type"), "{}", r.text);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_body_beyond_16_mib_is_discarded_and_one_within_is_read() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Huge(16 * MIB + 1));
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("larger than 16 MiB, the most this server reads; it was discarded"), "{}", r.text);
    env.gateway.push_fault(Fault::Huge(16 * MIB));
    let r = list(&mut s);
    assert!(!r.is_error && r.text.starts_with("Found 0 session(s)"), "exactly 16 MiB is allowed: {:.300}", r.text);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

// ---------------------------------------------------------------- error statuses, retries

const ISE: &str = r#"{"error":"Internal server error"}"#;

#[test]
fn three_500s_on_a_read_are_three_requests_then_an_error() {
    let (env, mut s) = ready();
    for _ in 0..3 {
        env.gateway.push_fault(Fault::Status(500, ISE.into()));
    }
    let started = Instant::now();
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("The gateway failed (500: Internal server error)"), "{}", r.text);
    assert_eq!(methods(&env), ["GET /v1/sessions"; 3], "the first try and two retries");
    assert!(started.elapsed() >= Duration::from_millis(700), "retries back off: {:?}", started.elapsed());
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn one_500_on_a_read_is_retried_and_succeeds() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Status(500, ISE.into()));
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Session 's1' (project 'team-a', cluster 'dev')"), "{}", r.text);
    assert_eq!(methods(&env), ["GET /v1/sessions/s1"; 2]);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_500_on_create_is_not_retried_and_says_a_session_may_exist() {
    let (env, mut s) = ready();
    // The gateway's 500 on create comes after the backend created the session (docs/public-api.md §8).
    env.gateway.push_fault(Fault::Status(500, r#"{"error":"Failed to read response"}"#.into()));
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "do it"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Failed to create session in project 'team-a': "), "{}", r.text);
    assert!(r.text.contains("500: Failed to read response"), "{}", r.text);
    assert_eq!(methods(&env), ["POST /v1/sessions"], "exactly one POST, no retry, no read-back");
    let text = r.text.to_lowercase();
    assert!(
        text.contains("may have been created") || text.contains("may still have taken effect"),
        "a failed create must warn that a session may exist before anyone retries: {}",
        r.text
    );
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_500_on_delete_is_not_retried() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Status(500, r#"{"error":"Failed to delete agentic session"}"#.into()));
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Failed to delete session 's1': The gateway failed (500"), "{}", r.text);
    assert_eq!(methods(&env), ["DELETE /v1/sessions/s1"]);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn bulk_delete_goes_on_after_a_500_without_retrying_it() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s2", "Running", "2026-01-01T00:00:00Z");
    env.gateway.add_session("team-a", "s3", "Running", "2026-01-01T00:00:00Z");
    env.gateway.push_fault(Fault::Status(500, ISE.into())); // the first DELETE, s2's
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["s2", "s1", "s3"], "confirm": true}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("Deleted 2 of 3 session(s)"), "{}", r.text);
    assert!(r.text.contains("  - s2: The gateway failed (500: Internal server error)"), "{}", r.text);
    assert!(r.text.contains("  - s1: deleted") && r.text.contains("  - s3: deleted"), "{}", r.text);
    assert_eq!(methods(&env), ["DELETE /v1/sessions/s2", "DELETE /v1/sessions/s1", "DELETE /v1/sessions/s3"]);
    assert_eq!(env.gateway.session_ids("team-a"), ["s2"]);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn create_succeeds_when_only_the_read_back_fails_and_says_so() {
    let (env, mut s) = ready();
    // The POST is answered as created; its read-back meets three 502s.
    env.gateway.push_fault(Fault::Status(201, r#"{"id":"session-made","message":"Session created"}"#.into()));
    for _ in 0..3 {
        env.gateway.push_fault(Fault::Status(502, r#"{"error":"Backend unavailable"}"#.into()));
    }
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "do it"}));
    assert!(r.text.starts_with("Session created: session-made\n"), "{}", r.text);
    assert!(r.text.contains("reading it back failed") && r.text.contains("502: Backend unavailable"), "{}", r.text);
    assert_eq!(methods(&env)[0], "POST /v1/sessions");
    assert_eq!(methods(&env)[1..], ["GET /v1/sessions/session-made"; 3]);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn three_502s_are_reported_as_a_gateway_failure() {
    let (env, mut s) = ready();
    for _ in 0..3 {
        env.gateway.push_fault(Fault::Status(502, r#"{"error":"Backend unavailable"}"#.into()));
    }
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(
        r.text.contains("The gateway failed (502: Backend unavailable). This is a server-side problem"),
        "{}",
        r.text
    );
    assert_eq!(env.gateway.request_count(), 3);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_503_is_retried_and_a_plain_text_503_is_quoted() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Status(503, r#"{"error":"Service Unavailable"}"#.into()));
    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.gateway.request_count(), 2);
    let raw503 = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\nupstream overloaded";
    for _ in 0..3 {
        env.gateway.push_fault(Fault::Raw(raw503.to_vec()));
    }
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("The gateway failed (503: \"upstream overloaded\")"), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 5);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_429_asking_for_1s_is_waited_out_once() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::RateLimited);
    let started = Instant::now();
    let r = list(&mut s);
    let took = started.elapsed();
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.gateway.request_count(), 2, "one retry");
    assert!(took >= Duration::from_millis(950) && took < Duration::from_secs(4), "took {took:?}");
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn two_429s_in_a_row_are_reported_with_the_wait_asked_for() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::RateLimited);
    env.gateway.push_fault(Fault::RateLimited);
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(
        r.text.contains(
            "The gateway is rate limiting requests (429); it asks to retry after \"1s\". Wait and try again."
        ),
        "{}",
        r.text
    );
    assert_eq!(env.gateway.request_count(), 2);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_429_asking_for_a_long_wait_is_reported_at_once() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Status(429, r#"{"error":"Rate limit exceeded","retry_after":"30s"}"#.into()));
    let started = Instant::now();
    let r = list(&mut s);
    assert!(r.is_error && r.text.contains("retry after \"30s\""), "{}", r.text);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(env.gateway.request_count(), 1);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_403_says_the_token_has_no_right_to_the_project() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Status(403, r#"{"error":"Unauthorized to access project"}"#.into()));
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("The gateway refused access (403: Unauthorized to access project)"), "{}", r.text);
    assert!(!r.text.contains("not found"), "{}", r.text);
    // And the real thing: a project this token may not see.
    let r = s.call_tool("acp_list_sessions", json!({"project": "elsewhere"}));
    assert!(r.is_error && r.text.contains("403: Unauthorized to access project"), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 2, "a 403 is not retried");
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_router_404_is_not_mistaken_for_a_missing_session() {
    let (env, mut s) = ready();
    let raw404 = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nConnection: close\r\n\r\n404 page not found";
    env.gateway.push_fault(Fault::Raw(raw404.to_vec()));
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("This gateway does not serve GET /v1/sessions/s1 (404 page not found)"), "{}", r.text);
    assert!(r.text.contains("This is not a missing session."), "{}", r.text);
    assert!(!r.text.contains("Session 's1' not found"), "{}", r.text);
    env.gateway.push_fault(Fault::Raw(raw404.to_vec()));
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(r.is_error && r.text.contains("does not serve DELETE /v1/sessions/s1"), "{}", r.text);
    assert_eq!(env.gateway.session_ids("team-a"), ["s1"]);
    // A real missing session is still told as one.
    let r = s.call_tool("acp_get_session", json!({"session": "gone"}));
    assert_eq!(r.text, "Session 'gone' not found in project 'team-a' (cluster 'dev').");
    next_call_succeeds(&env, &mut s);
    finish(s);
}

// ---------------------------------------------------------------- redirects

#[test]
fn a_redirect_to_another_origin_is_refused_and_the_other_origin_hears_nothing() {
    let (env, mut s) = ready();
    let other = FakeGateway::start();
    other.accept_token(TOKEN);
    other.add_project("team-a");
    let targets = [
        format!("{}/v1/sessions", other.url()),
        format!("//{}/v1/sessions", other.addr()),
        format!("http://localhost:{}/v1/sessions", other.addr().port()),
        format!("http://localhost:{}/v1/sessions", env.gateway.addr().port()),
    ];
    for (i, location) in targets.iter().enumerate() {
        env.gateway.push_fault(Fault::Redirect(302, location.clone()));
        let r = list(&mut s);
        assert!(r.is_error, "{location}: {}", r.text);
        assert!(r.text.contains(&format!("The gateway redirected to \"{location}\"")), "{}", r.text);
        assert!(r.text.contains("not followed, and the token was not sent there"), "{}", r.text);
        assert_eq!(env.gateway.request_count(), i + 1, "{location}");
    }
    assert!(list(&mut s).text.starts_with("Found 1"));
    assert_eq!(other.request_count(), 0, "the other origin was contacted");
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_same_origin_redirect_is_followed() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Redirect(307, "/v1/sessions".into()));
    let r = list(&mut s);
    assert!(!r.is_error && r.text.starts_with("Found 1 session(s)"), "{}", r.text);
    env.gateway.push_fault(Fault::Redirect(301, format!("{}/v1/sessions/s1", env.gateway.url())));
    let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
    assert!(!r.is_error && r.text.starts_with("Session 's1'"), "{}", r.text);
    assert_eq!(methods(&env), ["GET /v1/sessions", "GET /v1/sessions", "GET /v1/sessions/s1", "GET /v1/sessions/s1"]);
    // Every hop carries the token and project again.
    assert!(env.gateway.requests().iter().all(|r| r.header("x-ambient-project") == Some("team-a")));
    // A 307 keeps the method: a redirected DELETE deletes.
    env.gateway.clear_requests();
    env.gateway.push_fault(Fault::Redirect(307, "/v1/sessions/s1".into()));
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(methods(&env), ["DELETE /v1/sessions/s1"; 2]);
    assert!(env.gateway.session_ids("team-a").is_empty());
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn redirect_loops_and_method_changing_redirects_are_refused() {
    let (env, mut s) = ready();
    for _ in 0..4 {
        env.gateway.push_fault(Fault::Redirect(302, "/v1/sessions".into()));
    }
    let r = list(&mut s);
    assert!(r.is_error && r.text.contains("(more than 3 redirects)"), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 4);
    env.gateway.clear_requests();
    env.gateway.push_fault(Fault::Redirect(301, "/v1/sessions".into()));
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "x"}));
    assert!(r.is_error && r.text.contains("it would turn the request into a GET"), "{}", r.text);
    assert_eq!(methods(&env), ["POST /v1/sessions"]);
    env.gateway.clear_requests();
    env.gateway.push_fault(Fault::Redirect(302, String::new()));
    let r = list(&mut s);
    assert!(r.is_error && r.text.contains("redirect without a Location"), "{}", r.text);
    next_call_succeeds(&env, &mut s);
    finish(s);
}

// ---------------------------------------------------------------- nobody there

/// `dev` points at `server`; `live` at the working gateway (to show the next call works).
fn two_clusters(env: &TestEnv, server: &str) -> String {
    format!(
        "clusters:\n  dev:\n    server: \"{server}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    timeout_seconds: 5\n  live:\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\ndefault_cluster: dev\n",
        env.gateway.url()
    )
}

fn switch_to_live_and_list(env: &TestEnv, s: &mut Server) {
    let r = s.call_tool("acp_switch_cluster", json!({"cluster": "live"}));
    assert!(!r.is_error, "{}", r.text);
    next_call_succeeds(env, s);
}

#[test]
fn a_closed_port_is_connection_refused() {
    let env = TestEnv::new();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = format!("http://127.0.0.1:{port}");
    env.write_config(&two_clusters(&env, &server));
    let mut s = env.spawn();
    s.initialize();
    let started = Instant::now();
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains(&format!("Cannot connect to the gateway at {server} (connection refused)")), "{}", r.text);
    assert!(r.text.contains("Check the cluster's `server` URL"), "{}", r.text);
    assert!(started.elapsed() < Duration::from_secs(3), "a refused connection is not retried slowly");
    switch_to_live_and_list(&env, &mut s);
    finish(s);
}

#[test]
fn an_unresolvable_host_is_a_dns_error() {
    let env = TestEnv::new();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    env.write_config(&two_clusters(&env, "http://nonexistent.invalid"));
    let mut s = env.spawn();
    s.initialize();
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("Cannot resolve the gateway's host name in http://nonexistent.invalid"), "{}", r.text);
    switch_to_live_and_list(&env, &mut s);
    finish(s);
}

// ---------------------------------------------------------------- hostile answers

#[test]
fn malformed_http_answers_are_reported_and_bodies_are_capped_however_they_are_framed() {
    let (env, mut s) = ready();
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    let big_pad = "x".repeat(16 * MIB + 10);
    let close_delimited = format!("{head}Connection: close\r\n\r\n{{\"items\":[],\"pad\":\"{big_pad}\"}}");
    let chunked = {
        let body = format!("{{\"items\":[],\"pad\":\"{big_pad}\"}}");
        let mut out = format!("{head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        for piece in body.as_bytes().chunks(1 << 20) {
            out.push_str(&format!("{:x}\r\n{}\r\n", piece.len(), String::from_utf8_lossy(piece)));
        }
        out + "0\r\n\r\n"
    };
    let cases: Vec<(Vec<u8>, &[&str])> = vec![
        (b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(), &["could not be used: malformed HTTP answer"]),
        (b"HTTP/1.1 ok\r\n\r\n".to_vec(), &["could not be used: malformed HTTP answer"]),
        (
            format!("{head}X-Big: {}\r\nContent-Length: 2\r\n\r\n{{}}", "h".repeat(MIB)).into_bytes(),
            &["header is too big"],
        ),
        (close_delimited.into_bytes(), &["larger than 16 MiB"]),
        (chunked.into_bytes(), &["larger than 16 MiB"]),
        (
            format!("{head}Content-Length: 107374182400\r\nConnection: close\r\n\r\n{{}}").into_bytes(),
            &["larger than 16 MiB", "closed the connection"],
        ),
    ];
    for (i, (raw, any_of)) in cases.into_iter().enumerate() {
        env.gateway.push_fault(Fault::Raw(raw));
        let started = Instant::now();
        let r = list(&mut s);
        assert!(r.is_error, "case {i}: {}", r.text);
        assert!(r.text.starts_with("Failed to list sessions in project 'team-a': "), "case {i}: {}", r.text);
        assert!(any_of.iter().any(|m| r.text.contains(m)), "case {i}: expected one of {any_of:?} in: {}", r.text);
        assert!(r.text.len() < 2000, "case {i}: the answer is not echoed whole ({} bytes)", r.text.len());
        assert!(started.elapsed() < Duration::from_secs(10), "case {i}: {:?}", started.elapsed());
    }
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_gateway_answer_that_echoes_the_token_is_redacted() {
    let (env, mut s) = ready();
    env.gateway.push_fault(Fault::Status(400, format!(r#"{{"error":"Invalid token {TOKEN} for project"}}"#)));
    let r = list(&mut s);
    assert!(r.is_error && r.text.contains("The gateway answered 400: Invalid token"), "{}", r.text);
    assert_no_token_leak(&r.text);
    assert_no_token_leak(&r.raw.to_string());
    env.gateway.add_session_full(
        "team-a",
        json!({"metadata": {"name": "s2", "creationTimestamp": "2026-01-01T00:00:00Z"},
               "spec": {"prompt": format!("use {TOKEN} please")}, "status": {"phase": "Failed", "error": TOKEN}}),
    );
    let r = s.call_tool("acp_get_session", json!({"session": "s2"}));
    assert!(!r.is_error && r.text.contains("Task: use *"), "{}", r.text);
    assert_no_token_leak(&r.text);
    assert_no_token_leak(&r.raw.to_string());
    next_call_succeeds(&env, &mut s);
    finish(s);
}

/// The id in a create answer comes from the network; like every other value that reaches a
/// path, it must be a valid name before the read-back puts it into a URL.
#[test]
fn a_create_answer_naming_an_invalid_id_is_not_put_into_a_path() {
    let (env, mut s) = ready();
    for id in ["../../health", "x?admin=1", "s1/../../../metrics", "A_B"] {
        env.gateway.clear_requests();
        let body = format!(r#"{{"id":{},"message":"Session created"}}"#, serde_json::to_string(id).unwrap());
        env.gateway.push_fault(Fault::Status(201, body));
        let r = s.call_tool("acp_create_session", json!({"initial_prompt": "do it"}));
        assert!(r.is_error, "{id}: {}", r.text);
        assert_eq!(methods(&env), ["POST /v1/sessions"], "{id}: the unvalidated id was used in a request");
        let text = r.text.to_lowercase();
        assert!(text.contains("session id") && text.contains("may have been created"), "{id}: {}", r.text);
    }
    next_call_succeeds(&env, &mut s);
    finish(s);
}

#[test]
fn a_308_on_create_is_followed_with_the_same_body_and_creates_once() {
    let (env, mut s) = ready();
    env.gateway.set_faithful_backend(true);
    env.gateway.push_fault(Fault::Redirect(308, "/v1/sessions".into()));
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "do it", "model": "m-1"}));
    assert!(!r.is_error, "{}", r.text);
    let reqs = env.gateway.requests();
    assert_eq!((reqs[0].method.as_str(), reqs[1].method.as_str()), ("POST", "POST"));
    assert_eq!(reqs[0].body_json(), json!({"task": "do it", "model": "m-1"}));
    assert_eq!(reqs[1].body_json(), reqs[0].body_json(), "the body is sent again to the new location");
    assert_eq!(env.gateway.session_ids("team-a").len(), 2, "s1 and exactly one new session");
    next_call_succeeds(&env, &mut s);
    finish(s);
}

// ---------------------------------------------------------------- idle connections

/// A long-lived MCP server makes calls minutes apart; in between, the gateway (or the router
/// in front of it) closes the idle keep-alive connection. The next call must not fail for it.
#[test]
fn a_keep_alive_connection_closed_while_idle_does_not_fail_the_next_call() {
    let (env, mut s) = ready();
    let calls = [
        ("acp_list_sessions", json!({})),
        ("acp_get_session", json!({"session": "s1"})),
        ("acp_create_session", json!({"initial_prompt": "p"})),
        ("acp_delete_session", json!({"session": "s1"})),
    ];
    env.gateway.set_faithful_backend(true);
    for (tool, args) in calls {
        let warm = list(&mut s);
        assert!(!warm.is_error, "{}", warm.text);
        env.gateway.close_connections();
        std::thread::sleep(Duration::from_millis(50));
        let r = s.call_tool(tool, args);
        assert!(!r.is_error, "{tool} after the gateway closed an idle connection: {}", r.text);
    }
    let posts = env.gateway.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "exactly one create");
    finish(s);
}
