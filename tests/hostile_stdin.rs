//! Hostile bytes on stdin: huge lines, invalid UTF-8, deep nesting, batches, ids of every
//! JSON type, stray responses, bursts, and input that ends mid-line. Whatever arrives, the
//! server answers with JSON-RPC (or stays silent where it must), keeps serving, writes only
//! JSON-RPC to stdout, and exits 0 at end of input.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;
/// The server's input line cap (README, SECURITY.md).
const MAX_LINE: usize = 4 * MIB;

fn started(version: &str) -> (TestEnv, Server) {
    let env = TestEnv::new();
    env.write_default_config();
    let mut s = env.spawn_with(&[("RUST_LOG", "warn")], &[]);
    let r = s.request(
        "initialize",
        json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert_eq!(r["result"]["protocolVersion"], json!(version), "{r}");
    s.notify("notifications/initialized", None);
    (env, s)
}

fn ready() -> (TestEnv, Server) {
    started("2025-06-18")
}

/// Next stdout line, raw; panics after 15 s.
fn next_line(s: &mut Server) -> String {
    s.recv_timeout(Duration::from_secs(15)).unwrap_or_else(|| panic!("no answer within 15 s\n{}", s.stderr()))
}

fn code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap_or_else(|| panic!("not an error response: {v}"))
}

/// A ping with a recognisable id must be the very next answer: whatever was sent before it
/// produced no output of its own, and the server is still serving.
fn assert_next_is_ping(s: &mut Server, id: &str) {
    s.send_line(&format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"ping"}}"#));
    let v = s.recv();
    assert_eq!(v, json!({"jsonrpc": "2.0", "id": id, "result": {}}), "expected only the ping's answer");
}

/// Every stdout line is JSON-RPC 2.0 (an object, or a batch answer whose items all are).
fn assert_only_json_rpc(stdout: &str) {
    for line in stdout.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:.200}"));
        let items = match &v {
            Value::Array(items) => {
                assert!(!items.is_empty(), "an empty array on stdout");
                items.clone()
            }
            other => vec![other.clone()],
        };
        for item in items {
            assert_eq!(item["jsonrpc"], json!("2.0"), "not JSON-RPC 2.0: {line:.200}");
            assert!(item.get("result").is_some() != item.get("error").is_some() || item.get("method").is_some());
        }
    }
}

/// Close stdin and check the ending every test shares: exit 0, only JSON-RPC on stdout.
fn finish(s: Server) -> Finished {
    let f = s.close();
    assert_eq!(f.status.code(), Some(0), "exit status {:?}; stderr: {}", f.status, f.stderr);
    assert_only_json_rpc(&f.stdout);
    f
}

fn send_big(s: &mut Server, bytes: Vec<u8>) {
    let w = s.write_in_background(bytes);
    s.finish_writing(w);
}

#[test]
fn lines_of_10_and_20_mib_are_refused_without_being_held_and_the_next_line_is_served() {
    let (_env, mut s) = ready();
    let mut garbage = br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":["#.to_vec();
    while garbage.len() < 10 * MIB {
        garbage.extend_from_slice(br#"{"x":[1,2,"]}\u00"],"#);
    }
    garbage.push(b'\n');
    let mut brackets = vec![b'['; 20 * MIB];
    brackets.push(b'\n');
    let valid_but_huge =
        format!(r#"{{"jsonrpc":"2.0","id":7,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(10 * MIB));
    let before = Instant::now();
    for big in [garbage, brackets, format!("{valid_but_huge}\n").into_bytes()] {
        let len = big.len();
        send_big(&mut s, big);
        let v: Value = serde_json::from_str(&next_line(&mut s)).unwrap();
        assert_eq!((code(&v), &v["id"]), (-32600, &Value::Null), "{len} bytes: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("too long") && msg.contains(&MAX_LINE.to_string()), "{msg}");
        assert_next_is_ping(&mut s, &format!("after-{len}"));
    }
    assert!(before.elapsed() < Duration::from_secs(20), "took {:?}", before.elapsed());
    // Skipped lines are discarded as they stream by: the 20 MiB line was never in memory.
    if let Some(peak) = peak_rss(s.pid()) {
        assert!(peak < 20 * MIB, "peak resident memory {} MiB after 40 MiB of overlong lines", peak / MIB);
    }
    finish(s);
}

#[test]
fn a_line_at_the_4_mib_cap_is_served_and_one_byte_more_is_not() {
    let (_env, mut s) = ready();
    let line = |len: usize, id: u32| {
        let head = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping","params":{{"pad":""#);
        let tail = r#""}}"#;
        let mut l = head.clone() + &"x".repeat(len - head.len() - tail.len()) + tail;
        assert_eq!(l.len(), len);
        l.push('\n');
        l.into_bytes()
    };
    send_big(&mut s, line(MAX_LINE, 1));
    assert_eq!(s.recv(), json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
    // \r\n endings: the \r counts towards the cap.
    let mut crlf = line(MAX_LINE - 1, 2);
    crlf.insert(crlf.len() - 1, b'\r');
    send_big(&mut s, crlf);
    assert_eq!(s.recv(), json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
    send_big(&mut s, line(MAX_LINE + 1, 3));
    let v = s.recv();
    assert_eq!((code(&v), &v["id"]), (-32600, &Value::Null), "{v}");
    assert_next_is_ping(&mut s, "after");
    finish(s);
}

#[test]
fn invalid_utf8_and_other_undecodable_lines_are_parse_errors() {
    let (env, mut s) = ready();
    let lines: &[&[u8]] = &[
        b"\xff\xfe\xfd",
        b"\xc3\x28",                                                             // bad continuation byte
        b"\xc0\xaf",                                                             // overlong '/'
        b"\xed\xa0\x80",                                                         // UTF-8 encoded surrogate
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}",    // valid JSON but for one byte
        b"\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}",       // UTF-8 BOM
        b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"x\":\"\\ud800\"}", // lone surrogate escape
        b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"pi\0ng\"}",                 // raw NUL inside a string
        b"\0\0\0\0",
        b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"} trailing",
        b"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}",
        b"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\",}",
        b"{'jsonrpc':'2.0','id':9,'method':'ping'}",
        b"NaN",
        b"{\"jsonrpc\":\"2.0\",\"id\":Infinity,\"method\":\"ping\"}",
    ];
    for line in lines {
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        s.send_raw(&bytes);
        let v = s.recv();
        assert_eq!((code(&v), &v["id"]), (-32700, &Value::Null), "{:?}: {v}", String::from_utf8_lossy(line));
    }
    assert_next_is_ping(&mut s, "after");
    assert_eq!(env.gateway.request_count(), 0);
    finish(s);
}

#[test]
fn deep_nesting_is_a_parse_error_not_a_crash() {
    let (_env, mut s) = ready();
    let arrays = "[".repeat(100_000);
    let objects = r#"{"a":"#.repeat(100_000);
    let closed = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let in_params = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":{closed}}}}}"#);
    for line in [arrays, objects, closed, in_params] {
        s.send_line(&line);
        let v = s.recv();
        assert_eq!((code(&v), &v["id"]), (-32700, &Value::Null), "{:.40}…: {v}", line);
        assert!(v["error"]["message"].as_str().unwrap().contains("recursion limit"), "{v}");
    }
    // Just under serde_json's limit of 128 it parses, and the deep value goes through the
    // argument checks (and the logging of arguments) without harm.
    let deep = format!("{}\"s1\"{}", "[".repeat(120), "]".repeat(120));
    s.send_line(&format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"acp_get_session","arguments":{{"session":{deep}}}}}}}"#
    ));
    let v = s.recv();
    assert_eq!(v["id"], json!(2), "{v}");
    assert_eq!(v["result"]["isError"], json!(true), "{v}");
    let text = v["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("Invalid argument: session must be a string, not an array"), "{text}");
    assert_next_is_ping(&mut s, "after");
    finish(s);
}

const BATCH: &str =
    r#"[{"jsonrpc":"2.0","id":"b1","method":"ping"},{"jsonrpc":"2.0","id":"b2","method":"tools/list"}]"#;

#[test]
fn batches_are_refused_where_the_protocol_has_none() {
    for version in ["2025-06-18", "2025-11-25"] {
        let (_env, mut s) = started(version);
        for batch in [
            BATCH,
            "[]",
            "[1,2]",
            r#"[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        ] {
            s.send_line(batch);
            let v = s.recv();
            assert!(v.is_object(), "{version}: a batch answer to {batch}: {v}");
            assert_eq!((code(&v), &v["id"]), (-32600, &Value::Null), "{version} {batch}: {v}");
        }
        assert_next_is_ping(&mut s, "after");
        finish(s);
    }
}

#[test]
fn batches_under_2025_03_26_are_answered_and_the_server_survives() {
    let (_env, mut s) = started("2025-03-26");
    let fifty = format!("[{}]", vec![r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#; 50].join(","));
    for batch in [BATCH, "[]", "[1,2]", fifty.as_str()] {
        s.send_line(batch);
        let answer = s.recv();
        match &answer {
            Value::Array(items) => {
                assert!(!items.is_empty(), "{batch}: an empty batch answer");
                assert!(items.iter().all(|i| i["jsonrpc"] == json!("2.0")), "{answer}");
            }
            Value::Object(_) => assert_eq!(answer["jsonrpc"], json!("2.0"), "{answer}"),
            other => panic!("{batch}: answered {other}"),
        }
        if batch == BATCH && answer.is_array() {
            let ids: Vec<&Value> = answer.as_array().unwrap().iter().map(|i| &i["id"]).collect();
            assert_eq!(ids, [&json!("b1"), &json!("b2")], "{answer}");
        }
    }
    assert_next_is_ping(&mut s, "after");
    finish(s);
}

/// Ids are echoed exactly, digit for digit; ids of the wrong type get -32600 with id null.
#[test]
fn ids_of_every_json_type() {
    let (_env, mut s) = ready();
    let long = format!("\"{}\"", "i".repeat(100_000));
    let echoed = [
        "0",
        "-7",
        "9007199254740993",               // beyond f64's exact integers
        "123456789012345678901234567890", // beyond u64
        "-123456789012345678901234567890",
        "1.5",
        "1e400", // beyond f64
        r#""""#,
        r#""abc""#,
        r#""a\"b\\c\n\u0000""#,
        r#""ünï😀""#,
        long.as_str(),
    ];
    for id in echoed {
        s.send_line(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#));
        let line = next_line(&mut s);
        let v: Value = serde_json::from_str(&line).unwrap();
        let sent: Value = serde_json::from_str(id).unwrap();
        assert_eq!(v["result"], json!({}), "{line:.200}");
        assert_eq!(v["id"], sent, "id {id:.40} not echoed: {line:.200}");
        // Integers and plain decimals come back digit for digit (serde_json normalises an
        // exponent to `e+`, the same number).
        if !id.starts_with('"') && !id.contains('e') {
            assert!(line.contains(&format!("\"id\":{id}")), "id {id} not echoed digit for digit: {line}");
        }
    }
    for id in ["null", "true", "false", "{}", r#"{"a":1}"#, "[]", "[1]"] {
        s.send_line(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#));
        let v = s.recv();
        assert_eq!((code(&v), &v["id"]), (-32600, &Value::Null), "id {id}: {v}");
    }
    // Other envelope mistakes keep the id when it is usable.
    for (line, want) in [
        (r#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#, (-32600, json!(5))),
        (r#"{"id":6,"method":"ping"}"#, (-32600, json!(6))),
        (r#"{"jsonrpc":"2.0","id":7}"#, (-32600, json!(7))),
        (r#"{"jsonrpc":"2.0","id":8,"method":["ping"]}"#, (-32600, json!(8))),
        (r#"{"jsonrpc":"2.0","id":9,"method":"ping","params":[1]}"#, (-32602, json!(9))),
        (r#"{"jsonrpc":"2.0","id":10,"method":"ping","params":"x"}"#, (-32602, json!(10))),
        ("42", (-32600, Value::Null)),
        (r#""ping""#, (-32600, Value::Null)),
        ("null", (-32600, Value::Null)),
        ("true", (-32600, Value::Null)),
    ] {
        s.send_line(line);
        let v = s.recv();
        assert_eq!((code(&v), v["id"].clone()), want, "{line}: {v}");
    }
    assert_next_is_ping(&mut s, "after");
    finish(s);
}

#[test]
fn responses_from_the_client_are_ignored() {
    let (_env, mut s) = ready();
    for line in [
        r#"{"jsonrpc":"2.0","id":"x","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":5,"result":null}"#,
        r#"{"jsonrpc":"2.0","id":6,"error":{"code":-32601,"message":"Method not found"}}"#,
        r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"result":{"roots":[]}}"#,
    ] {
        s.send_line(line);
    }
    assert_next_is_ping(&mut s, "after-responses");
    finish(s);
}

/// JSON-RPC 2.0 §5: a client that could not read one of our messages answers with an error
/// whose id is null. Answering that with another error invites an endless error ping-pong.
#[test]
fn an_error_response_with_a_null_id_is_ignored() {
    let (_env, mut s) = ready();
    s.send_line(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#);
    assert_next_is_ping(&mut s, "after-null-id-error");
    finish(s);
}

#[test]
fn notifications_get_no_answer_whatever_the_method() {
    let (_env, mut s) = ready();
    for line in [
        r#"{"jsonrpc":"2.0","method":"notifications/unknown"}"#,
        r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"acp_delete_session","arguments":{"session":"s1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"ping"}"#,
        r#"{"jsonrpc":"2.0","method":"initialize","params":{"protocolVersion":"2025-03-26"}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope","reason":"x"}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#,
        r#"{"jsonrpc":"2.0","method":"$/weird\u0000name"}"#,
        "",
        "   \t ",
        "\r",
    ] {
        s.send_line(line);
    }
    assert_next_is_ping(&mut s, "after-notifications");
    finish(s);
}

#[test]
fn a_tool_call_sent_as_a_notification_does_nothing() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    s.send_line(
        r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"acp_delete_session","arguments":{"session":"s1"}}}"#,
    );
    assert_next_is_ping(&mut s, "after");
    assert_eq!(env.gateway.session_ids("team-a"), ["s1"]);
    assert_eq!(env.gateway.request_count(), 0);
    finish(s);
}

#[test]
fn ten_thousand_requests_in_one_burst_are_all_answered_in_order() {
    let (_env, mut s) = ready();
    const N: usize = 10_000;
    let mut burst = Vec::with_capacity(N * 60);
    for id in 1..=N {
        let method = if id % 2500 == 0 { "tools/list" } else { "ping" };
        burst.extend_from_slice(format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}"}}"#).as_bytes());
        burst.push(b'\n');
    }
    let started = Instant::now();
    let writer = s.write_in_background(burst);
    for id in 1..=N {
        let v = s.recv();
        assert_eq!(v["id"], json!(id), "answers out of order");
        assert!(v.get("result").is_some(), "{v}");
    }
    s.finish_writing(writer);
    assert!(started.elapsed() < Duration::from_secs(20), "10 000 pings took {:?}", started.elapsed());
    assert_next_is_ping(&mut s, "after-burst");
    finish(s);
}

#[test]
fn end_of_input_mid_line_answers_what_it_can_and_exits_0() {
    // A cut-off message is a parse error, then a clean exit.
    let (_env, mut s) = ready();
    s.send_raw(br#"{"jsonrpc":"2.0","id":1,"method":"pi"#);
    let f = finish(s);
    let last: Value = serde_json::from_str(f.stdout.lines().last().unwrap()).unwrap();
    assert_eq!((code(&last), &last["id"]), (-32700, &Value::Null), "{}", f.stdout);

    // A complete message without its newline is still a message.
    let (_env, mut s) = ready();
    s.send_raw(br#"{"jsonrpc":"2.0","id":"last","method":"ping"}"#);
    let f = finish(s);
    let last: Value = serde_json::from_str(f.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last, json!({"jsonrpc": "2.0", "id": "last", "result": {}}));

    // End of input inside an overlong line.
    let (_env, mut s) = ready();
    send_big(&mut s, vec![b'x'; 6 * MIB]);
    let f = finish(s);
    let last: Value = serde_json::from_str(f.stdout.lines().last().unwrap()).unwrap();
    assert_eq!((code(&last), &last["id"]), (-32600, &Value::Null), "{}", f.stdout);

    // End of input before anything at all.
    let env = TestEnv::new();
    let s = env.spawn();
    let f = finish(s);
    assert!(f.stdout.is_empty(), "{}", f.stdout);
}

#[test]
fn end_of_input_during_a_tool_call_lets_it_finish_first() {
    let (env, mut s) = ready();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    s.send_line(r#"{"jsonrpc":"2.0","id":"del","method":"tools/call","params":{"name":"acp_delete_session","arguments":{"session":"s1"}}}"#);
    let f = finish(s);
    let last: Value = serde_json::from_str(f.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["id"], json!("del"), "{}", f.stdout);
    assert_eq!(last["result"]["isError"], json!(false), "{last}");
    assert!(env.gateway.session_ids("team-a").is_empty());
}

#[test]
fn a_mixed_barrage_leaves_stdout_pure_json_rpc() {
    let (_env, mut s) = ready();
    let mut barrage: Vec<u8> = Vec::new();
    let pieces: &[&[u8]] = &[
        b"\xff\n",
        b"[[[[[[[[[[[[[[[[[[[[\n",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n",
        b"\n\n\n",
        b"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}\n",
        b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}\n",
        b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"acp_get_session\",\"arguments\":{\"session\":\"A\\r\\nB\"}}}\n",
        b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"no/such\"}\n",
        b"\x1b[31mred\x1b[0m\n",
    ];
    for _ in 0..50 {
        for p in pieces {
            barrage.extend_from_slice(p);
        }
    }
    let w = s.write_in_background(barrage);
    // Per round: \xff, [[[, ping, id null, tools/call, no/such, escape codes = 7 answers.
    for _ in 0..50 * 7 {
        s.recv();
    }
    s.finish_writing(w);
    assert_next_is_ping(&mut s, "after-barrage");
    let f = finish(s);
    assert_eq!(f.stdout.lines().count(), 2 + 50 * 7, "initialize, 350 answers, the last ping");
}
