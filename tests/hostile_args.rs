//! Hostile tool arguments, table-driven: every row must be refused with an `isError` result
//! that names the argument (and the rule), and must send nothing to the gateway. All rows run
//! in one server process, which must still be serving at the end.

mod common;

use common::*;
use serde_json::{Value, json};

/// One hostile call.
struct Row {
    tool: &'static str,
    args: Value,
    /// The error text must start with `Invalid argument: <names>`: the argument named first.
    names: String,
    /// A piece of the rule that must also be in the text.
    rule: Option<&'static str>,
}

fn row(tool: &'static str, args: Value, names: &str, rule: Option<&'static str>) -> Row {
    Row { tool, args, names: names.to_string(), rule }
}

/// A JSON number written exactly as given (serde_json keeps the digits: arbitrary_precision).
fn num(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text} is not a JSON number: {e}"))
}

const DNS: Option<&str> = Some("must be a DNS-1123 label: 1-63 characters");
const GET: &str = "acp_get_session";
const LIST: &str = "acp_list_sessions";
const CREATE: &str = "acp_create_session";
const DELETE: &str = "acp_delete_session";
const BULK: &str = "acp_bulk_delete_sessions";
const SWITCH: &str = "acp_switch_cluster";

fn rows() -> Vec<Row> {
    let mb = "a".repeat(1024 * 1024);
    let mut rows = Vec::new();
    // -- session names: every way to not be a DNS-1123 label ------------------------------
    let bad_sessions: &[&str] = &[
        "Session-1",       // uppercase
        "my_session",      // underscore
        "a.b",             // dot
        "-abc",            // leading '-'
        "abc-",            // trailing '-'
        &"a".repeat(64),   // 64 characters
        "",                // empty
        " ",               // whitespace only
        " abc",            // leading blank
        "abc\n",           // trailing newline (Python's `$` would accept it)
        "a\tb",            // tab
        "../x",            // path traversal
        "..",              // parent directory
        "%2e%2e",          // URL-encoded traversal
        "a%2Fb",           // URL-encoded slash
        "a/b",             // extra path segment
        "a?b",             // query injection
        "a#b",             // fragment injection
        "s\u{0435}ssion",  // Cyrillic 'е' look-alike
        "ｓｅｓｓｉｏｎ",  // fullwidth letters
        "ses\u{200b}sion", // zero-width space
        "se\u{301}ssion",  // combining accent
        "abc\0def",        // NUL byte
        "$(id)",           // shell command substitution
        ";rm -rf /",       // shell command separator
        "`id`",            // backticks
        "a|b",             // pipe
        "a\r\nX-Evil: 1",  // header injection
        "a\nX-Evil: 1",    // header injection, bare LF
        "\u{202e}evil",    // right-to-left override
        &mb,               // 1 MiB
    ];
    for s in bad_sessions {
        rows.push(row(GET, json!({"session": s}), "session", DNS));
    }
    rows.push(row(DELETE, json!({"session": "../x", "dry_run": true}), "session", DNS));
    rows.push(row(DELETE, json!({"session": "a b"}), "session", DNS));
    // -- wrong JSON types and missing values ---------------------------------------------
    rows.push(row(GET, json!({"session": 42}), "session must be a string, not a number", None));
    rows.push(row(GET, json!({"session": true}), "session must be a string, not a boolean", None));
    rows.push(row(GET, json!({"session": ["s1"]}), "session must be a string, not an array", None));
    rows.push(row(GET, json!({"session": {"id": "s1"}}), "session must be a string, not an object", None));
    rows.push(row(GET, json!({"session": null}), "session must be a string, not null", None));
    // -- null is never a default: a safety switch left null must not act as "absent" -------
    let null_dry_run = "dry_run must be a boolean (true or false), not null";
    let default_hint = Some("leave dry_run out to use its default");
    rows.push(row(DELETE, json!({"session": "s1", "dry_run": null}), null_dry_run, default_hint));
    rows.push(row(BULK, json!({"sessions": ["s1"], "confirm": true, "dry_run": null}), "dry_run must be", None));
    rows.push(row(BULK, json!({"sessions": ["s1"], "confirm": null}), "confirm must be a boolean", None));
    rows.push(row(CREATE, json!({"initial_prompt": "x", "model": null}), "model must be a string, not null", None));
    rows.push(row(LIST, json!({"limit": null}), "limit must be a whole number, not null", None));
    rows.push(row(GET, json!({"session": "s1", "project": null}), "project must be a string, not null", None));
    let null_branch = json!({"initial_prompt": "x", "repos": [{"url": "https://g/x", "branch": null}]});
    rows.push(row(CREATE, null_branch, "repos[0].branch must be a string, not null", None));
    rows.push(row(GET, json!({}), "session is required", None));
    rows.push(row(GET, json!(["s1"]), "arguments must be a JSON object", None));
    rows.push(row(GET, json!("s1"), "arguments must be a JSON object", None));
    // -- project: same rule, also reaches a header ----------------------------------------
    rows.push(row(GET, json!({"session": "s1", "project": {"name": "team-a"}}), "project must be a string", None));
    rows.push(row(GET, json!({"session": "s1", "project": 7}), "project must be a string", None));
    rows.push(row(GET, json!({"session": "s1", "project": "Team-A"}), "project", DNS));
    rows.push(row(LIST, json!({"project": "team-a\r\nX-Evil: 1"}), "project", DNS));
    rows.push(row(LIST, json!({"project": "../../etc"}), "project", DNS));
    rows.push(row(LIST, json!({"project": " "}), "project", DNS));
    rows.push(row(LIST, json!({"project": &mb}), "project", DNS));
    // -- list: numbers, enums, ages, unknown arguments ------------------------------------
    rows.push(row(LIST, json!({"limit": "5"}), "limit must be a whole number, not a string", None));
    rows.push(row(LIST, json!({"limit": [5]}), "limit must be a whole number, not an array", None));
    rows.push(row(LIST, json!({"limit": -1}), "limit must be a whole number from 1 to 1000", Some("not -1")));
    rows.push(row(LIST, json!({"limit": 0}), "limit must be a whole number from 1 to 1000", None));
    rows.push(row(LIST, json!({"limit": 1001}), "limit must be a whole number from 1 to 1000", None));
    rows.push(row(LIST, json!({"limit": 1.5}), "limit must be a whole number from 1 to 1000", Some("not 1.5")));
    rows.push(row(LIST, json!({"limit": num("5.0")}), "limit must be a whole number from 1 to 1000", None));
    rows.push(row(LIST, json!({"limit": num("1e2")}), "limit must be a whole number from 1 to 1000", None));
    rows.push(row(LIST, json!({"limit": num("9223372036854775808")}), "limit must be a whole number", None));
    rows.push(row(LIST, json!({"limit": num("-9223372036854775809")}), "limit must be a whole number", None));
    rows.push(row(LIST, json!({"limit": num("1e400")}), "limit must be a whole number", None));
    rows.push(row(LIST, json!({"status": "RUNNIN"}), "status", Some("is not one of: pending, creating, running")));
    rows.push(row(LIST, json!({"status": "running' OR 1=1 --"}), "status", Some("is not one of")));
    rows.push(row(LIST, json!({"status": ""}), "status", Some("is not one of")));
    rows.push(row(LIST, json!({"sort_by": "created desc"}), "sort_by", Some("is not one of: created, stopped, name")));
    for age in ["7dxyz", "7", "d", "-1d", "1.5h", "7 d", "1w", "\u{0663}d", "99999999999999999999d", ""] {
        rows.push(row(LIST, json!({"older_than": age}), "older_than", Some("is invalid: use a whole number")));
    }
    rows.push(row(LIST, json!({"older_than": "36501d"}), "older_than", Some("too large: at most 100 years")));
    rows.push(row(LIST, json!({"older_than": 7}), "older_than must be a string", None));
    rows.push(row(LIST, json!({"limt": 5}), "unknown argument \"limt\"", Some("this tool accepts project, status")));
    rows.push(row(LIST, json!({"session": "s1"}), "unknown argument \"session\"", None));
    rows.push(row(LIST, json!({"__proto__": {"admin": true}}), "unknown argument \"__proto__\"", None));
    rows.push(row(LIST, json!({"token": TOKEN}), "unknown argument \"token\"", None));
    rows.push(row(GET, json!({"session": "s1", "x\r\nX-Evil": 1}), "unknown argument \"x\\r\\nX-Evil\"", None));
    // -- create: prompt, model, label, numbers, booleans, repositories --------------------
    let prompt = |extra: Value| {
        let mut a = json!({"initial_prompt": "do it"});
        a.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        a
    };
    rows.push(row(CREATE, json!({"initial_prompt": ""}), "initial_prompt must not be empty", None));
    rows.push(row(CREATE, json!({"initial_prompt": " \n\t "}), "initial_prompt must not be empty", None));
    rows.push(row(CREATE, json!({"initial_prompt": "a\0b"}), "initial_prompt must not contain NUL", None));
    rows.push(row(CREATE, json!({"initial_prompt": "p".repeat(100_001)}), "initial_prompt is too long", None));
    rows.push(row(CREATE, json!({"initial_prompt": 5}), "initial_prompt must be a string", None));
    rows.push(row(CREATE, json!({"dry_run": true}), "initial_prompt is required", None));
    rows.push(row(CREATE, prompt(json!({"model": "claude; rm -rf /"})), "model", Some("is invalid: 1-100 characters")));
    rows.push(row(CREATE, prompt(json!({"model": "$(id)"})), "model", Some("is invalid")));
    rows.push(row(CREATE, prompt(json!({"model": "m\r\nX-Evil: 1"})), "model", Some("is invalid")));
    rows.push(row(CREATE, prompt(json!({"model": "m".repeat(101)})), "model", Some("is invalid")));
    rows.push(row(CREATE, prompt(json!({"display_name": "a\r\nb"})), "display_name", Some("no control characters")));
    rows.push(row(CREATE, prompt(json!({"display_name": "d".repeat(51)})), "display_name", Some("1-50 characters")));
    rows.push(row(CREATE, prompt(json!({"timeout": 59})), "timeout must be a whole number from 60 to 86400", None));
    rows.push(row(CREATE, prompt(json!({"timeout": -60})), "timeout must be a whole number from 60 to 86400", None));
    rows.push(row(CREATE, prompt(json!({"timeout": num("1e309")})), "timeout must be a whole number", None));
    rows.push(row(CREATE, prompt(json!({"timeout": num("18446744073709551616")})), "timeout must be", None));
    rows.push(row(CREATE, prompt(json!({"timeout": 600.5})), "timeout must be a whole number", Some("not 600.5")));
    rows.push(row(CREATE, prompt(json!({"timeout": "600"})), "timeout must be a whole number, not a string", None));
    rows.push(row(CREATE, prompt(json!({"interactive": "yes"})), "interactive must be a boolean", None));
    rows.push(row(CREATE, prompt(json!({"dry_run": "true"})), "dry_run must be a boolean (true or false)", None));
    rows.push(row(CREATE, prompt(json!({"dry_run": 1})), "dry_run must be a boolean", None));
    rows.push(row(CREATE, prompt(json!({"displayName": "x"})), "unknown argument \"displayName\"", None));
    rows.push(row(CREATE, prompt(json!({"repos": "https://github.com/o/r"})), "repos must be an array", None));
    for url in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://example.com/r.git",
        "https://github.com/o/r x",
        "https://github.com/o/r\n",
        "https://",
        "//github.com/o/r",
        "",
    ] {
        rows.push(row(CREATE, prompt(json!({"repos": [url]})), "repos[0]", Some("is not a repository URL")));
    }
    let long_url = format!("https://github.com/{}", "o".repeat(2048));
    rows.push(row(CREATE, prompt(json!({"repos": [long_url]})), "repos[0]", Some("at most 2048 characters")));
    rows.push(row(
        CREATE,
        prompt(json!({"repos": ["https://github.com/o/ok", {"url": "file:///etc/shadow"}]})),
        "repos[1].url",
        Some("is not a repository URL"),
    ));
    for branch in
        ["../x", "-rf", "a b", "main~1", "x@{0}", "a:b", "a\\b", "foo.", "foo/", "/foo", "*", "a?", "b\u{7f}", ""]
    {
        rows.push(row(
            CREATE,
            prompt(json!({"repos": [{"url": "https://github.com/o/r", "branch": branch}]})),
            "repos[0].branch",
            Some("is not a valid git branch name"),
        ));
    }
    rows.push(row(
        CREATE,
        prompt(json!({"repos": [{"url": "https://github.com/o/r", "branch": 1}]})),
        "repos[0].branch must be a string",
        None,
    ));
    rows.push(row(
        CREATE,
        prompt(json!({"repos": [{"url": "https://github.com/o/r", "ref": "main"}]})),
        "repos[0] has unknown key \"ref\"",
        None,
    ));
    rows.push(row(CREATE, prompt(json!({"repos": [{}]})), "repos[0].url is required", None));
    rows.push(row(CREATE, prompt(json!({"repos": [42]})), "repos[0] must be a URL string or an object", None));
    let eleven: Vec<String> = (0..11).map(|i| format!("https://github.com/o/r{i}")).collect();
    rows.push(row(CREATE, prompt(json!({"repos": eleven})), "repos lists 11 repositories, more than 10", None));
    rows.push(row(CREATE, prompt(json!({"dry_run": true, "project": "../x"})), "project", DNS));
    // -- bulk delete: lists, duplicates, confirmation -------------------------------------
    let confirm = |sessions: Value| json!({"sessions": sessions, "confirm": true});
    rows.push(row(BULK, confirm(json!(["a", "b", "c", "d"])), "sessions lists 4 sessions", Some("limit of 3")));
    let thousand: Vec<String> = (0..1000).map(|i| format!("s{i}")).collect();
    rows.push(row(BULK, confirm(json!(thousand)), "sessions lists 1000 sessions", Some("limit of 3")));
    rows.push(row(BULK, confirm(json!(["a", "a"])), "sessions names \"a\" more than once", None));
    rows.push(row(BULK, confirm(json!(["a", "b", "a"])), "sessions names \"a\" more than once", None));
    rows.push(row(BULK, confirm(json!([])), "sessions must list at least one session", None));
    rows.push(row(BULK, confirm(json!("a")), "sessions must be an array of session names", None));
    rows.push(row(BULK, confirm(json!(["ok", "Bad"])), "sessions[1]", DNS));
    rows.push(row(BULK, confirm(json!(["ok", "../x"])), "sessions[1]", DNS));
    rows.push(row(BULK, confirm(json!(["ok", 5])), "sessions[1] must be a string", None));
    rows.push(row(BULK, confirm(json!([null])), "sessions[0] must be a string", None));
    rows.push(row(BULK, json!({"sessions": ["a"], "confirm": "true"}), "confirm must be a boolean", None));
    rows.push(row(BULK, json!({"sessions": ["a"], "confirm": [true]}), "confirm must be a boolean", None));
    rows.push(row(BULK, json!({"sessions": ["a"], "confirm": 1}), "confirm must be a boolean", None));
    rows.push(row(BULK, json!({"sessions": ["a"]}), "confirm", Some("requires confirm=true")));
    rows.push(row(BULK, json!({"sessions": ["a"], "confirm": false}), "confirm", Some("requires confirm=true")));
    rows.push(row(BULK, json!({"confirm": true}), "sessions is required", None));
    // -- switch cluster: nothing to send, but the active cluster must not change ----------
    rows.push(row(SWITCH, json!({"cluster": ""}), "cluster", Some("is not a cluster name")));
    rows.push(row(SWITCH, json!({"cluster": "prod\r\nX-Evil: 1"}), "cluster", Some("no control characters")));
    rows.push(row(SWITCH, json!({"cluster": "c".repeat(254)}), "cluster", Some("1-253 characters")));
    rows.push(row(SWITCH, json!({"cluster": 5}), "cluster must be a string", None));
    rows.push(row(SWITCH, json!({"cluster": ["prod"]}), "cluster must be a string", None));
    rows.push(row(SWITCH, json!({}), "cluster is required", None));
    for name in ["../prod", "PROD", "prod ", "pr\u{043e}d", "prod\u{200b}", "*"] {
        rows.push(row(
            SWITCH,
            json!({"cluster": name}),
            "cluster",
            Some("is not configured. Configured clusters: dev, prod"),
        ));
    }
    rows.push(row(SWITCH, json!({"cluster": "prod", "force": true}), "unknown argument \"force\"", None));
    rows
}

#[test]
fn hostile_arguments_are_refused_by_name_and_nothing_is_sent() {
    let env = TestEnv::new();
    env.write_default_config();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let mut s = env.spawn();
    s.initialize();
    let rows = rows();
    assert!(rows.len() >= 30);
    for (i, r) in rows.iter().enumerate() {
        let shown = {
            let a = r.args.to_string();
            if a.len() > 200 { format!("{}… ({} bytes)", &a[..200], a.len()) } else { a }
        };
        let res = s.call_tool(r.tool, r.args.clone());
        let text = &res.text;
        assert!(res.is_error, "row {i}: {} {shown} was accepted: {text}", r.tool);
        let expected = format!("Invalid argument: {}", r.names);
        assert!(text.starts_with(&expected), "row {i}: {} {shown}: expected {expected:?} first in: {text}", r.tool);
        if let Some(rule) = r.rule {
            assert!(text.contains(rule), "row {i}: {} {shown}: expected the rule {rule:?} in: {text}", r.tool);
        }
        assert!(text.ends_with("Nothing was sent."), "row {i}: {} {shown}: {text}", r.tool);
        // The value is quoted escaped and shortened: no raw control characters, no 1 MiB echo.
        assert!(!text.chars().any(char::is_control), "row {i}: raw control character in: {text:?}");
        assert!(text.len() < 1024, "row {i}: {} bytes of error text", text.len());
        assert_no_token_leak(text);
        assert_eq!(env.gateway.request_count(), 0, "row {i}: {} {shown} reached the gateway", r.tool);
    }

    // Still serving, still on the same cluster, and a valid call does reach the gateway
    // (so the zero counts above could have failed).
    assert_eq!(s.request("ping", json!({}))["result"], json!({}));
    let who = s.call_tool("acp_whoami", json!({}));
    assert!(who.text.starts_with("Cluster: dev\n"), "a refused switch changed the cluster: {}", who.text);
    let ok = s.call_tool(GET, json!({"session": "s1"}));
    assert!(!ok.is_error, "{}", ok.text);
    assert_eq!(env.gateway.request_count(), 1);

    let f = s.close();
    assert_eq!(f.status.code(), Some(0), "{}", f.stderr);
    // Hostile values reach the log only escaped: no injected line, no raw NUL.
    for line in f.stderr.lines() {
        assert!(!line.starts_with("X-Evil"), "a value injected a log line: {line:?}");
    }
    assert!(!f.stderr.contains('\0') && !f.stderr.contains('\r'), "raw control characters in the log");
    assert!(f.stderr.contains("tool_validation_error"), "refusals are logged");
    assert_no_token_leak(&f.stdout);
    assert_no_token_leak(&f.stderr);
}

/// The same names are refused whatever tool carries them, including in the header-bound
/// `project` of a dry run that would otherwise send nothing anyway.
#[test]
fn every_session_tool_refuses_a_header_injection_in_project() {
    let env = TestEnv::new();
    env.write_default_config();
    let mut s = env.spawn();
    s.initialize();
    let evil = "team-a\r\nX-Evil: 1";
    let calls = [
        (LIST, json!({"project": evil})),
        (GET, json!({"project": evil, "session": "s1"})),
        (CREATE, json!({"project": evil, "initial_prompt": "p", "dry_run": true})),
        (DELETE, json!({"project": evil, "session": "s1", "dry_run": true})),
        (BULK, json!({"project": evil, "sessions": ["s1"], "confirm": true})),
    ];
    for (tool, args) in calls {
        let r = s.call_tool(tool, args);
        assert!(r.is_error, "{tool}: {}", r.text);
        assert!(
            r.text.starts_with("Invalid argument: project \"team-a\\r\\nX-Evil: 1\" is invalid"),
            "{tool}: {}",
            r.text
        );
    }
    assert_eq!(env.gateway.request_count(), 0);
}

/// A refusal is read by a model: one clean sentence per part, not "label.. Nothing was sent."
#[test]
fn refusals_end_in_a_single_full_stop() {
    let env = TestEnv::new();
    env.write_default_config();
    let mut s = env.spawn();
    s.initialize();
    let calls = [
        (GET, json!({})),
        (CREATE, json!({"dry_run": true})),
        (BULK, json!({"sessions": ["a", "b", "c", "d"], "confirm": true})),
        (GET, json!({"session": "Bad"})),
    ];
    for (tool, args) in calls {
        let r = s.call_tool(tool, args);
        assert!(r.is_error && r.text.ends_with(" Nothing was sent."), "{tool}: {}", r.text);
        assert!(!r.text.contains(".. Nothing was sent."), "{tool}: doubled full stop in: {}", r.text);
    }
    assert_eq!(env.gateway.request_count(), 0);
}
