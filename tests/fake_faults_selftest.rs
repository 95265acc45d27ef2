//! Self-tests of the fake gateway's faults: what each fault sends, and faults on any route
//! (exact paths, wildcards, methods, counts, order, unrouted paths), seen by a raw client.

mod common;

use common::gateway::{Fault, RouteMatch, Times};
use common::raw::*;
use serde_json::json;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

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
