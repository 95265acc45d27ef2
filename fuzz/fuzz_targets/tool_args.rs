//! Tool arguments: the first byte picks a tool (its distance from `'0'`, modulo `TOOLS.len()`:
//! `'0'` is `TOOLS[0]`, `'6'` is `TOOLS[6]`, `'@'` is `TOOLS[16]`; each seed's first byte names
//! its tool so), the rest is the JSON `arguments` (inputs that are not JSON are skipped).
//!
//! 1. `params::parse` never panics; when it accepts, every declared rule holds for what
//!    it accepted (re-checked here independently), and the JSON Schema that `tools/list`
//!    shows accepts the same arguments (after dropping `project: ""`, which the server
//!    deliberately treats as absent; a `null` is refused, never taken as a default).
//! 2. The full `tools::call` runs against an in-memory gateway: it never panics, refused
//!    arguments send nothing, read-only / local / dry-run calls never create or delete,
//!    a bulk tool without confirm sends nothing, a success carries structured content
//!    that conforms to the tool's output schema, and no configured token leaks.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mcp_acp::tools::params::{self, Args, Kind, MAX_LABELS};
use mcp_acp::tools::{self, AnyTool, MAX_BULK, TOOLS};
use mcp_acp::validate::{is_dns1123_label, is_ksuid, parse_age};
use serde_json::{Map, Value};

/// The value the server treats as given for `name`: `project: ""` is absent.
fn given<'a>(args: &'a Value, name: &str) -> Option<&'a Value> {
    args.get(name).filter(|v| !(name == "project" && v.as_str() == Some("")))
}

fn is_branch_ok(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 255
        && !b.starts_with(['-', '/'])
        && !b.ends_with(['/', '.'])
        && !b.contains("..")
        && !b.contains("@{")
        && !b.chars().any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
}

/// Re-check, independently of `params`, what an accepted argument set promises.
fn check_accepted(tool: &dyn AnyTool, input: &Value, args: &Args) {
    let name = tool.name();
    if let Some(obj) = input.as_object() {
        assert!(obj.values().all(|v| !v.is_null()), "{name}: accepted a null argument (never a default): {input}");
        for (key, _) in obj.iter().filter(|(k, _)| given(input, k).is_some()) {
            assert!(tool.params().iter().any(|p| p.name == key), "{name}: accepted unknown argument {key:?}");
        }
    } else {
        assert!(input.is_null(), "{name}: accepted non-object arguments {input}");
    }
    for p in tool.params() {
        let v = given(input, p.name);
        assert_eq!(args.has(p.name), v.is_some(), "{name}.{}: has() disagrees with the input", p.name);
        let Some(v) = v else {
            assert!(!p.required, "{name}: accepted without required {}", p.name);
            continue;
        };
        let field = format!("{name}.{}", p.name);
        let s = args.str(p.name);
        match &p.kind {
            Kind::Name => assert!(s.is_some_and(is_dns1123_label), "{field}: accepted name {v}"),
            // Either API's syntax, re-checked by hand: a DNS-1123 label, or 27 letters and digits.
            Kind::SessionId => {
                let ksuid = |s: &str| s.len() == 27 && s.bytes().all(|b| b.is_ascii_alphanumeric());
                assert!(s.is_some_and(|s| is_dns1123_label(s) || ksuid(s)), "{field}: accepted id {v}");
            }
            Kind::Text { max } => {
                let s = s.unwrap_or_else(|| panic!("{field}: accepted non-string {v}"));
                assert!(!s.trim().is_empty() && !s.contains('\0') && s.chars().count() <= *max, "{field}: {v}");
            }
            Kind::Label { max } => {
                let s = s.unwrap_or_else(|| panic!("{field}: accepted non-string {v}"));
                let ok = !s.trim().is_empty() && s.chars().count() <= *max && !s.chars().any(char::is_control);
                assert!(ok, "{field}: accepted label {v}");
            }
            Kind::Model => {
                let s = s.unwrap_or_else(|| panic!("{field}: accepted non-string {v}"));
                let ok_char = |c: char| c.is_ascii_alphanumeric() || "._:@/-".contains(c);
                assert!((1..=100).contains(&s.len()) && s.chars().all(ok_char), "{field}: accepted model {v}");
            }
            // Any case in, the declared word out.
            Kind::Enum(allowed) => assert!(s.is_some_and(|s| allowed.contains(&s)), "{field}: accepted {v}"),
            Kind::EnumList(allowed) => {
                let words = args.names(p.name);
                assert!(!words.is_empty() && words.iter().all(|w| allowed.contains(&w.as_str())), "{field}: {v}");
                assert!(words.iter().enumerate().all(|(i, w)| !words[..i].contains(w)), "{field}: repeats in {v}");
            }
            Kind::Labels => {
                let labels = args.labels(p.name);
                let part = |s: &str| {
                    let b = s.as_bytes();
                    (1..=63).contains(&b.len())
                        && b[0].is_ascii_alphanumeric()
                        && b[b.len() - 1].is_ascii_alphanumeric()
                        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
                };
                assert!((1..=MAX_LABELS).contains(&labels.len()), "{field}: accepted {} labels", labels.len());
                assert!(labels.iter().all(|(k, v)| part(k) && part(v)), "{field}: accepted labels {v}");
            }
            Kind::LabelKeys => {
                let keys = args.names(p.name);
                assert!((1..=MAX_LABELS).contains(&keys.len()), "{field}: accepted {} keys", keys.len());
            }
            Kind::Token => {
                let s = s.unwrap_or_else(|| panic!("{field}: accepted non-string token"));
                assert!(s.trim().len() >= 10 && s.trim().bytes().all(|b| b.is_ascii_graphic()), "{field}: bad token");
            }
            Kind::Bool => {
                let b = v.as_bool().unwrap_or_else(|| panic!("{field}: accepted non-boolean {v}"));
                assert_eq!(args.flag(p.name), b, "{field}");
            }
            Kind::Int { min, max } => {
                assert!(args.int(p.name).is_some_and(|n| (*min..=*max).contains(&n)), "{field}: accepted {v}")
            }
            Kind::Age => {
                let secs = s.map(parse_age).unwrap_or_else(|| panic!("{field}: accepted non-string {v}"));
                assert!(secs.is_ok_and(|n| n <= 100 * 365 * 86_400), "{field}: accepted age {v}");
            }
            Kind::Names { max } => {
                let names = args.names(p.name);
                assert_eq!(Some(names.len()), v.as_array().map(Vec::len), "{field}: non-string items in {v}");
                assert!((1..=*max).contains(&names.len()), "{field}: accepted {} names", names.len());
                for (i, n) in names.iter().enumerate() {
                    assert!(is_dns1123_label(n) || is_ksuid(n), "{field}: accepted id {n:?}");
                    assert!(!names[..i].contains(n), "{field}: accepted {n:?} twice");
                }
                if tool.name() == "acp_bulk_delete_sessions" {
                    assert!(names.len() <= MAX_BULK && (1..=3).contains(&names.len()));
                }
            }
            Kind::Repos { max } => {
                let repos = args.repos(p.name);
                assert_eq!(Some(repos.len()), v.as_array().map(Vec::len), "{field}: lost items of {v}");
                assert!(repos.len() <= *max, "{field}: accepted {} repos", repos.len());
                for r in &repos {
                    let u = &r.url;
                    // After the scheme comes a host, never an option (`ssh://-oProxyCommand=…`).
                    let scheme = ["https://", "http://", "ssh://", "git@"].iter().any(|p| {
                        u.strip_prefix(p).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
                    });
                    let clean = !u.chars().any(|c| c.is_whitespace() || c.is_control());
                    assert!(scheme && clean && u.len() > 8 && u.len() <= 2048, "{field}: accepted url {u:?}");
                    if let Some(b) = &r.branch {
                        assert!(is_branch_ok(b), "{field}: accepted branch {b:?}");
                    }
                }
            }
            Kind::ClusterName => {
                let s = s.unwrap_or_else(|| panic!("{field}: accepted non-string {v}"));
                assert!((1..=253).contains(&s.len()) && !s.chars().any(char::is_control), "{field}: {v}");
            }
        }
    }
}

fn check_schema_agrees(tool: &dyn AnyTool, input: &Value, parsed: &Args) {
    let mut args = match input {
        Value::Null => Value::Object(Map::new()),
        other => other.clone(),
    };
    if args.get("project").and_then(Value::as_str) == Some("") {
        args.as_object_mut().expect("accepted arguments are an object").remove("project");
    }
    // Words (phases, enums) are accepted in any case, as documented, and read back as the
    // schema lists them: the schema must accept what was read back, which is the same word.
    for p in tool.params() {
        let Some(given) = args.get(p.name).cloned() else { continue };
        let read = match p.kind {
            Kind::Enum(_) => Value::from(parsed.str(p.name).unwrap_or_default()),
            Kind::EnumList(_) => Value::from(parsed.names(p.name)),
            _ => continue,
        };
        assert_eq!(given.to_string().to_ascii_lowercase(), read.to_string().to_ascii_lowercase(), "{}", p.name);
        args[p.name] = read;
    }
    let schema = params::schema(tool.params());
    if let Err(e) = common::schema_check(&schema, &args, "arguments") {
        panic!("{}: the server accepted arguments its own schema refuses: {e}\nschema: {schema}", tool.name());
    }
}

// ---- the target ------------------------------------------------------------------------

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let tool = TOOLS[selector.wrapping_sub(b'0') as usize % TOOLS.len()];
    let Ok(input) = serde_json::from_slice::<Value>(rest) else { return };

    let parsed = params::parse(tool.params(), &input);
    if let Ok(args) = &parsed {
        check_accepted(tool, &input, args);
        check_schema_agrees(tool, &input, args);
    }

    let (mut ctx, log) = common::recording_context();
    let out = tools::call(&mut ctx, tool, &input);
    let calls = log.borrow();
    let changes = calls.iter().filter(|c| c.op.changes()).count();
    match &parsed {
        Err(e) => {
            assert!(out.is_error, "{}: refused arguments but the call succeeded", tool.name());
            assert_eq!(out.text, format!("Invalid argument: {}. Nothing was sent.", e.trim_end_matches('.')));
            assert!(calls.is_empty(), "{}: refused arguments but sent {calls:?}", tool.name());
        }
        Ok(args) => {
            if !tool.effect().remote {
                assert!(calls.is_empty(), "{} reads local configuration only, but sent {calls:?}", tool.name());
            }
            if tool.effect().read_only() || args.flag("dry_run") {
                assert_eq!(changes, 0, "{} (read-only or dry run) sent {calls:?}", tool.name());
            }
            // Every bulk tool (by ID or by label): confirm before anything is sent, at most 3 changes.
            if tool.name().starts_with("acp_bulk_") {
                if !args.flag("confirm") && !args.flag("dry_run") {
                    assert!(calls.is_empty(), "{} without confirm sent {calls:?}", tool.name());
                }
                assert!(changes <= MAX_BULK, "{} sent {calls:?}", tool.name());
            }
            if tool.name() == "acp_delete_session" {
                assert!(changes <= 1, "delete sent {calls:?}");
            }
        }
    }
    // MCP: a tool with an outputSchema gives structured content that conforms to it.
    match &out.structured {
        Some(raw) => {
            let structured: Value = serde_json::from_str(raw.get())
                .unwrap_or_else(|e| panic!("{}: structured content is not JSON ({e}): {}", tool.name(), raw.get()));
            if let Err(e) = common::schema_check(&tool.output_schema(), &structured, "structuredContent") {
                panic!("{}: structured content breaks the output schema: {e}\ndata: {structured}", tool.name());
            }
            common::assert_no_token_leak(raw.get(), data, Some(&input), "tool output data");
        }
        None => assert!(out.is_error, "{}: a successful result without structured content", tool.name()),
    }
    common::assert_no_token_leak(&out.text, data, Some(&input), "tool output text");
});
