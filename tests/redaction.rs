//! The token never leaves the process, whole or in pieces, whatever a server echoes back and
//! wherever in the echo it starts: every text quoted or cut from an answer is redacted before
//! it is cut, and any 10-character piece of the token counts. Logs are at `trace`; stdout and
//! stderr are searched for the token, its 10-character pieces and their hex.

mod common;

use common::*;
use serde_json::json;

/// Where the token starts in the echoed text: at the front, mid-way, and on both sides of
/// every cut we make (quotes at 80 characters, API error texts at 1,000, tasks at 100,000).
const OFFSETS: &[usize] = &[0, 1, 40, 70, 75, 79, 80, 990, 995, 999, 1000];

fn ready() -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    (env, s)
}

fn echo(offset: usize) -> String {
    format!("{}{TOKEN} and after", "a".repeat(offset))
}

fn raw(status: &str, headers: &str, body: &str) -> Fault {
    let head = format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    Fault::Raw(format!("{head}{body}").into_bytes())
}

fn check(r: &ToolResult, what: &str, offset: usize) {
    assert!(r.is_error, "{what} at {offset}: {}", r.text);
    if let Some(leak) = token_leak(&r.raw.to_string()) {
        panic!("{what}, token at offset {offset}: {leak}");
    }
}

#[test]
fn an_error_text_echoing_the_token_never_shows_a_piece_of_it() {
    let (env, mut s) = ready();
    for &offset in OFFSETS {
        env.gateway.push_fault(Fault::Status(400, json!({"error": echo(offset)}).to_string()));
        let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
        check(&r, "JSON error text", offset);
        assert!(r.text.contains("The gateway answered 400: "), "{}", r.text);

        env.gateway.push_fault(raw("400 Bad Request", "Content-Type: text/plain\r\n", &echo(offset)));
        check(&s.call_tool("acp_get_session", json!({"session": "s1"})), "plain-text error body", offset);
    }
    finish(s);
}

#[test]
fn a_content_type_or_a_redirect_echoing_the_token_never_shows_a_piece_of_it() {
    let (env, mut s) = ready();
    for &offset in OFFSETS.iter().filter(|o| **o <= 200) {
        let header = format!("Content-Type: text/{}\r\n", echo(offset).replace(' ', "-"));
        env.gateway.push_fault(raw("200 OK", &header, "<html>not json</html>"));
        check(&s.call_tool("acp_list_sessions", json!({})), "Content-Type", offset);

        let location = format!("https://elsewhere.example/{}", echo(offset).replace(' ', "/"));
        env.gateway.push_fault(Fault::Redirect(302, location));
        check(&s.call_tool("acp_list_sessions", json!({})), "redirect Location", offset);
    }
    finish(s);
}

#[test]
fn an_invalid_session_id_in_a_create_answer_never_shows_a_piece_of_the_token() {
    let (env, mut s) = ready();
    for &offset in OFFSETS {
        env.gateway.push_fault(Fault::Status(201, json!({"id": echo(offset)}).to_string()));
        let r = s.call_tool("acp_create_session", json!({"initial_prompt": "hello"}));
        check(&r, "created id", offset);
        assert!(r.text.contains("an invalid session id"), "{}", r.text);
    }
    finish(s);
}

#[test]
fn a_session_field_echoing_the_token_across_its_cut_shows_no_piece() {
    let (env, mut s) = ready();
    for offset in [0, 100, 99_990, 99_995, 99_999] {
        let body = json!({"id": "s1", "status": "running", "task": echo(offset), "result": echo(offset.min(19_995))});
        env.gateway.push_fault(Fault::Status(200, body.to_string()));
        let r = s.call_tool("acp_get_session", json!({"session": "s1"}));
        assert!(!r.is_error, "{}", r.text);
        if let Some(leak) = token_leak(&r.raw.to_string()) {
            panic!("task, token at offset {offset}: {leak}");
        }
    }
    finish(s);
}

/// Config: the token is refused (never sent, never shown) unless it is a bearer token of at
/// least 10 characters, and no config error shows it, however it was written.
#[test]
fn config_errors_never_show_the_token_and_odd_tokens_are_refused() {
    let env = TestEnv::new();
    let server = env.gateway.url();
    let entry = |token_line: &str| {
        format!(
            "clusters:\n  dev:\n    server: \"{server}\"\n    default_project: team-a\n{token_line}default_cluster: dev\n"
        )
    };
    let cases = [
        (entry(&format!("    token: '{}\"x'\n", TOKEN)), "not a bearer token"),
        (entry(&format!("    token: '{}\\x'\n", TOKEN)), "not a bearer token"),
        (entry("    token: abc12\n"), "only 5 characters"),
        (entry("    token: 918273645546372819\n"), "token must be a string: put it in quotes"),
        (entry(&format!("    {TOKEN}: x\n")), "unknown key of 21 characters (not shown"),
        (entry(&format!("    token:\n    {TOKEN}\n")), "YAML error"),
    ];
    for (yaml, expected) in cases {
        env.write_config(&yaml);
        let mut s = env.spawn();
        s.initialize();
        let r = s.call_tool("acp_list_sessions", json!({}));
        assert!(r.is_error && r.text.contains(expected), "{yaml}: {}", r.text);
        let f = s.close();
        for out in [&f.stdout, &f.stderr] {
            assert_no_token_leak(out);
            assert!(!out.contains("9182736455") && !out.contains("abc12"), "{yaml}: {out}");
        }
    }
    assert_eq!(env.gateway.request_count(), 0, "a refused token is never sent");
}
