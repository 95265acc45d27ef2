//! The audit log end to end: one JSON line per changing call (ok, dry run, refused, failed) on
//! both APIs, with exactly the documented keys; a private file appended across runs; a log
//! that cannot be trusted or written refuses the call before anything is sent; reads only
//! with `audit_reads`; never a token in it.

mod common;

use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const KEYS: [&str; 16] = [
    "time",
    "tool",
    "cluster",
    "api",
    "server",
    "project",
    "sessions",
    "dry_run",
    "confirm",
    "outcome",
    "reason",
    "status",
    "duration_ms",
    "subject",
    "request_id",
    "prompt",
];

/// The records in `path`, each checked for exactly [`KEYS`], in order.
fn records(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    assert_no_token_leak(&text);
    text.lines()
        .map(|line| {
            let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(line)
                .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"))
                .keys()
                .cloned()
                .collect();
            let mut sorted = KEYS.map(String::from).to_vec();
            sorted.sort();
            assert_eq!(keys, sorted, "{line}");
            // In the documented order too (the map above sorts its keys).
            let positions: Vec<usize> = KEYS.iter().map(|k| line.find(&format!("\"{k}\":")).unwrap()).collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
            serde_json::from_str(line).unwrap()
        })
        .collect()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// The gateway env with `extra` appended to the default config.
fn gateway_env(extra: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write_config(&format!("{}{extra}", env.default_config_yaml()));
    for id in ["s1", "s2", "s3"] {
        env.gateway.add_session("team-a", id, "Running", "2026-01-01T00:00:00Z");
    }
    env
}

#[test]
fn gateway_calls_are_recorded_ok_dry_run_refused_and_failed() {
    let env = gateway_env("audit_log: logs/audit.jsonl\n");
    let log = env.dir.path().join("logs/audit.jsonl");
    let mut s = env.spawn();
    s.initialize();
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    assert!(!log.exists(), "a read is not audited, and does not create the log");
    assert!(!s.call_tool("acp_delete_session", json!({"session": "s1"})).is_error);
    assert!(!s.call_tool("acp_delete_session", json!({"session": "s2", "dry_run": true})).is_error);
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["s2", "s3"]}));
    assert!(r.is_error && r.text.contains("requires confirm=true"), "{}", r.text);
    let r = s.call_tool("acp_delete_session", json!({"session": "gone"}));
    assert!(r.is_error, "{}", r.text);
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": ["s2", "s3"], "confirm": true}));
    assert!(!r.is_error, "{}", r.text);
    finish(s);

    assert_eq!((mode(&log), mode(log.parent().unwrap())), (0o600, 0o700));
    let r = records(&log);
    assert_eq!(r.len(), 5, "{r:#?}");
    let host = env.gateway.addr().ip().to_string();
    for rec in &r {
        assert_eq!(
            (&rec["cluster"], &rec["api"], &rec["project"]),
            (&json!("dev"), &json!("public-api"), &json!("team-a"))
        );
        assert_eq!(rec["server"], json!(host));
        assert_eq!(rec["subject"], Value::Null, "an opaque token names no one");
        assert!(rec["request_id"].is_i64() && rec["duration_ms"].is_u64(), "{rec}");
        let time = rec["time"].as_str().unwrap();
        assert!(time.len() == 24 && time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    }
    let brief: Vec<(Value, Value, Value, Value, Value)> = r
        .iter()
        .map(|x| {
            (x["tool"].clone(), x["sessions"].clone(), x["dry_run"].clone(), x["confirm"].clone(), x["outcome"].clone())
        })
        .collect();
    assert_eq!(
        brief,
        [
            (json!("acp_delete_session"), json!(["s1"]), json!(false), json!(false), json!("ok")),
            (json!("acp_delete_session"), json!(["s2"]), json!(true), json!(false), json!("ok")),
            (json!("acp_bulk_delete_sessions"), json!(["s2", "s3"]), json!(false), json!(false), json!("refused")),
            (json!("acp_delete_session"), json!(["gone"]), json!(false), json!(false), json!("error")),
            (json!("acp_bulk_delete_sessions"), json!(["s2", "s3"]), json!(false), json!(true), json!("ok")),
        ]
    );
    assert_eq!((&r[0]["reason"], &r[0]["status"]), (&Value::Null, &Value::Null));
    assert!(r[2]["reason"].as_str().unwrap().contains("requires confirm=true"), "{}", r[2]);
    assert_eq!(r[3]["status"], json!(404), "{}", r[3]);
    assert!(r[3]["reason"].as_str().unwrap().len() <= 400, "{}", r[3]);
    // Ids counted, in order: request ids grow.
    let ids: Vec<i64> = r.iter().map(|x| x["request_id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

/// A JWT (unsigned) with these claims.
fn jwt(claims: Value) -> String {
    let part = |v: &Value| mcp_acp::base64::encode_url(v.to_string().as_bytes());
    format!("{}.{}.c2lnbmF0dXJl", part(&json!({"alg": "RS256"})), part(&claims))
}

#[test]
fn ambient_calls_record_the_subject_the_matched_set_and_a_short_prompt() {
    let env = AmbientEnv::new();
    let token = jwt(json!({"sub": "f3a1-77", "preferred_username": "ada", "exp": 4_000_000_000_i64}));
    env.api.accept_token_as(&token, "ada");
    let log = env.dir.path().join("audit.jsonl");
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    token: \"{token}\"\n    default_project: team-a\n\
         default_cluster: amb\naudit_log: audit.jsonl\n",
        env.api.url()
    ));
    let a = env.api.add_session("team-a", json!({"name": "", "prompt": "w", "labels": "{\"batch\":\"7\"}"}));
    let b = env.api.add_session("team-a", json!({"name": "", "prompt": "w", "labels": "{\"batch\":\"7\"}"}));
    env.api.add_session("team-a", json!({"name": "", "prompt": "w", "labels": "{\"batch\":\"8\"}"}));
    let mut s = env.spawn();
    let r = s.call_tool("acp_bulk_stop_sessions_by_label", json!({"labels": {"batch": "7"}, "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    let long = "p".repeat(500);
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": long}));
    assert!(!r.is_error, "{}", r.text);
    let r = s.call_tool("acp_delete_session", json!({"session": "Not_An_Id"}));
    assert!(r.is_error, "{}", r.text);
    finish(s);
    let r = records(&log);
    assert_eq!(r.len(), 3, "{r:#?}");
    for rec in &r {
        assert_eq!((&rec["api"], &rec["subject"]), (&json!("ambient"), &json!("ada")), "{rec}");
        assert_eq!(rec["server"], json!("127.0.0.1"));
    }
    let mut matched: Vec<String> = serde_json::from_value(r[0]["sessions"].clone()).unwrap();
    matched.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!((matched, &r[0]["dry_run"], &r[0]["outcome"]), (want, &json!(true), &json!("ok")));
    let prompt = r[1]["prompt"].as_str().unwrap();
    assert_eq!((prompt.chars().count(), prompt.ends_with('…')), (200, true));
    assert_eq!((&r[1]["outcome"], &r[1]["prompt"].is_string()), (&json!("ok"), &true));
    assert_eq!((&r[2]["outcome"], &r[2]["prompt"]), (&json!("refused"), &Value::Null));
    let text = std::fs::read_to_string(&log).unwrap();
    for piece in token.as_bytes().chunks(10).filter(|c| c.len() == 10) {
        assert!(!text.contains(std::str::from_utf8(piece).unwrap()), "a piece of the token is in the log");
    }
}

#[test]
fn the_log_is_appended_to_across_runs_and_the_environment_wins() {
    let env = gateway_env("audit_log: from-config.jsonl\n");
    let elsewhere: PathBuf = env.dir.path().join("env/audit.jsonl");
    for (i, run) in ["first", "second"].iter().enumerate() {
        let mut s = env.spawn_with(&[("ACP_AUDIT_LOG", elsewhere.to_str().unwrap())], &[]);
        s.initialize();
        let r = s.call_tool("acp_delete_session", json!({"session": format!("s{}", i + 1)}));
        assert!(!r.is_error, "{run}: {}", r.text);
        finish(s);
        let r = records(&elsewhere);
        assert_eq!(r.len(), i + 1, "{run}: {r:#?}");
        assert_eq!(r[0]["sessions"], json!(["s1"]), "{run}: the first record stays as it was");
    }
    assert!(!env.dir.path().join("from-config.jsonl").exists());
}

#[test]
fn a_log_others_can_write_or_we_cannot_write_refuses_the_call_and_sends_nothing() {
    let env = gateway_env("audit_log: audit.jsonl\n");
    let log = env.dir.path().join("audit.jsonl");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).unwrap();
    let mut s = env.spawn();
    s.initialize();
    env.gateway.clear_requests();
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Refused: this call must be recorded in the audit log"), "{}", r.text);
    assert!(r.text.contains("Refusing to use audit log") && r.text.contains("its mode is 0666"), "{}", r.text);
    assert!(r.text.contains(&format!("chmod 600 {}", log.display())), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0);
    // Reads are not audited, so they still work.
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    finish(s);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "", "nothing written to an untrusted log");

    // A log that cannot be opened at all: its "directory" is a regular file (root can't write there either).
    env.write_config(&format!("{}audit_log: clusters.yaml/audit.jsonl\n", env.default_config_yaml()));
    let mut s = env.spawn();
    s.initialize();
    env.gateway.clear_requests();
    let r = s.call_tool("acp_create_session", json!({"initial_prompt": "x"}));
    assert!(r.is_error && r.text.contains("cannot be written, so nothing was sent"), "{}", r.text);
    assert!(r.text.contains("clusters.yaml/audit.jsonl"), "{}", r.text);
    assert_eq!(env.gateway.request_count(), 0);
    finish(s);

    // A new log in a directory others can write is refused before it is made, not after.
    let open = env.dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    env.write_config(&format!("{}audit_log: open/new/audit.jsonl\n", env.default_config_yaml()));
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_delete_session", json!({"session": "s1", "dry_run": true}));
    assert!(r.is_error && r.text.contains("has mode 0777"), "{}", r.text);
    finish(s);
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0, "nothing made in the unsafe directory");
}

#[test]
fn reads_are_recorded_only_with_audit_reads() {
    let env = gateway_env("audit_log: audit.jsonl\naudit_reads: true\n");
    let log = env.dir.path().join("audit.jsonl");
    let mut s = env.spawn();
    s.initialize();
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error);
    assert!(!s.call_tool("acp_get_session", json!({"session": "s1"})).is_error);
    assert!(!s.call_tool("acp_whoami", json!({})).is_error);
    finish(s);
    let r = records(&log);
    let tools: Vec<&str> = r.iter().map(|x| x["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, ["acp_list_sessions", "acp_get_session", "acp_whoami"]);
    assert_eq!((&r[1]["sessions"], &r[2]["project"]), (&json!(["s1"]), &Value::Null));
    assert!(r.iter().all(|x| x["outcome"] == json!("ok")), "{r:#?}");
}

#[test]
fn every_guardrail_refusal_is_recorded_as_refused_with_its_reason() {
    let env = TestEnv::new();
    let yaml = env.default_config_yaml().replace(
        "    description: \"Dev cluster\"\n",
        "    description: \"Dev cluster\"\n    allowed_projects: [team-a]\n",
    );
    env.write_config(&format!("{yaml}audit_log: audit.jsonl\nmax_mutations_per_minute: 1\n"));
    for id in ["s1", "s2"] {
        env.gateway.add_session("team-a", id, "Running", "2026-01-01T00:00:00Z");
    }
    let log = env.dir.path().join("audit.jsonl");
    let mut s = env.spawn();
    s.initialize();
    let calls = [
        ("acp_delete_session", json!({"session": "s1", "project": "team-b"})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["s1", "s2", "s3", "s4"], "confirm": true})),
        ("acp_delete_session", json!({"session": "s1"})),
        ("acp_delete_session", json!({"session": "s2"})),
    ];
    for (tool, args) in calls {
        s.call_tool(tool, args);
    }
    finish(s);
    let mut s = env.spawn_with(&[("ACP_READ_ONLY", "1")], &[]);
    s.initialize();
    s.call_tool("acp_delete_session", json!({"session": "s2"}));
    finish(s);
    let got: Vec<(String, String)> = records(&log)
        .iter()
        .map(|r| (r["outcome"].as_str().unwrap().to_string(), r["reason"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(got.len(), 5, "{got:?}");
    let expect = [
        ("refused", "is not allowed on cluster 'dev' (allowed_projects: team-a)"),
        ("refused", "more than the limit of 3"),
        ("ok", ""),
        ("refused", "at most 1 changes per minute"),
        ("refused", "read-only"),
    ];
    for ((outcome, reason), (want, why)) in got.iter().zip(expect) {
        assert!(outcome == want && reason.contains(why), "{outcome} {reason:?}: wanted {want} {why:?}");
    }
    assert_eq!(env.gateway.session_ids("team-a"), ["s2"], "only the allowed delete ran");
}

/// Every field is bounded, so a record is at most 8 KiB whatever a call carried: a numeric
/// JSON-RPC id of a million digits (valid JSON, within the 4 MiB line cap), 60 session ids of
/// 200 characters that each take 6 bytes escaped.
#[test]
fn a_record_is_at_most_8_kib_whatever_the_call_carried() {
    let env = gateway_env("audit_log: audit.jsonl\n");
    let log = env.dir.path().join("audit.jsonl");
    let mut s = env.spawn();
    s.initialize();
    let digits = "7".repeat(1_000_000);
    s.send_line(&format!(
        r#"{{"jsonrpc":"2.0","id":{digits},"method":"tools/call","params":{{"name":"acp_delete_session","arguments":{{"session":"s1","dry_run":true}}}}}}"#
    ));
    let answer = s.recv();
    assert_eq!(answer["result"]["isError"], json!(false), "{}", &answer.to_string()[..300]);
    let wide: Vec<String> = (0..60).map(|i| format!("{i}{}", "\u{1}".repeat(199))).collect();
    let r = s.call_tool("acp_bulk_delete_sessions", json!({"sessions": wide, "confirm": true}));
    assert!(r.is_error, "{}", r.text);
    finish(s);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{}", &text[..text.len().min(500)]);
    for line in &lines {
        assert!(line.len() < 8 * 1024, "a record of {} bytes", line.len());
    }
    let r = records(&log);
    let id = r[0]["request_id"].as_str().expect("a long id is kept as a cut string");
    assert!(id.chars().count() == 64 && id.starts_with("7777") && id.ends_with('…'), "{id}");
    assert_eq!((&r[0]["sessions"], &r[0]["dry_run"]), (&json!(["s1"]), &json!(true)));
    let sessions = r[1]["sessions"].as_array().unwrap();
    assert!(!sessions.is_empty() && sessions[0].as_str().unwrap().starts_with('0'), "{}", r[1]);
    assert_eq!(r[1]["outcome"], json!("refused"));
}

/// A record that cannot be written after its call acted (the file system refuses more bytes:
/// here a file size limit, as a full disk would) is said in the result; every later change is
/// refused, with nothing sent, until the log takes that record; reads go on.
#[test]
fn a_record_lost_after_the_call_acted_is_said_and_blocks_changes_until_it_is_written() {
    use std::os::unix::process::CommandExt;
    const LIMIT: u64 = 64 * 1024;
    unsafe extern "C" {
        fn setrlimit(resource: i32, limit: *const [u64; 2]) -> i32;
    }
    let env = gateway_env("audit_log: audit.jsonl\n");
    let log = env.dir.path().join("audit.jsonl");
    // Full up to the limit: opening it works, appending does not.
    let pad = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(1013));
    std::fs::write(
        &log,
        pad.repeat((LIMIT / pad.len() as u64) as usize) + &"\n".repeat((LIMIT % pad.len() as u64) as usize),
    )
    .unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(std::fs::metadata(&log).unwrap().len(), LIMIT);
    let mut cmd = bin_command();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("ACP_CLUSTER_CONFIG", env.config_path())
        .current_dir(env.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // SAFETY: only an async-signal-safe call between fork and exec: RLIMIT_FSIZE (1) at the
    // limit. SIGXFSZ keeps its default (kill): the server itself must ignore it, so that the
    // write past the limit fails with EFBIG and is said.
    unsafe {
        cmd.pre_exec(|| {
            let limit = [LIMIT, LIMIT];
            if setrlimit(1, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut s = Server::start(cmd);
    s.initialize();
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(r.text.contains("AUDIT RECORD MISSING: this call DID act"), "{}", r.text);
    assert!(r.text.contains("Every further change is refused until the log can be written again"), "{}", r.text);
    assert_eq!(env.gateway.session_ids("team-a"), ["s2", "s3"], "the delete happened");
    let sent = env.gateway.request_count();
    for args in [json!({"session": "s2"}), json!({"session": "s2", "dry_run": true})] {
        let r = s.call_tool("acp_delete_session", args);
        assert!(r.is_error, "{}", r.text);
        assert!(r.text.starts_with("Refused: the audit log could not be written"), "{}", r.text);
        assert!(r.text.contains("nothing was sent") && r.text.contains("the missing record is written first"));
    }
    assert_eq!(env.gateway.request_count(), sent, "nothing was sent");
    assert!(!s.call_tool("acp_list_sessions", json!({})).is_error, "reads are not audited and go on");
    // Rotated away (as logrotate would): the new log takes the missing record, then this one.
    std::fs::rename(&log, env.dir.path().join("audit.jsonl.1")).unwrap();
    let r = s.call_tool("acp_delete_session", json!({"session": "s2"}));
    assert!(!r.is_error && !r.text.contains("AUDIT"), "{}", r.text);
    finish(s);
    let r = records(&log);
    let got: Vec<(Value, Value)> = r.iter().map(|x| (x["sessions"].clone(), x["outcome"].clone())).collect();
    assert_eq!(got, [(json!(["s1"]), json!("ok")), (json!(["s2"]), json!("ok"))]);
    assert_eq!(env.gateway.session_ids("team-a"), ["s3"]);
}
