//! Differential: the hand-written DNS-1123 label check against the `regex` crate.
//!
//! `validate::is_dns1123_label(s)` must agree with
//! `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` (Rust regex: `$` is end of text, no multi-line)
//! plus 1 <= len <= 63 bytes, for every UTF-8 input. `check_name` must agree too, and its
//! error must never carry a raw control character. `is_session_id` (either API's session id)
//! must agree with that pattern or `^[0-9A-Za-z]{27}$` (a KSUID), and the documented pattern
//! `SESSION_ID_PATTERN` (with the 63-byte limit) with both. `is_label_part` (label keys and
//! values) must agree with `LABEL_PATTERN` and 1 <= len <= 63.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_acp::validate::{
    LABEL_PATTERN, MAX_NAME_LEN, SESSION_ID_PATTERN, check_name, is_dns1123_label, is_label_part, is_session_id,
};
use regex::Regex;
use std::sync::OnceLock;

fn reference(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("valid regex"));
    (1..=MAX_NAME_LEN).contains(&s.len()) && re.is_match(s)
}

fn ksuid(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[0-9A-Za-z]{27}$").expect("valid regex")).is_match(s)
}

fn schema_pattern(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(SESSION_ID_PATTERN).expect("valid regex"));
    (1..=MAX_NAME_LEN).contains(&s.len()) && re.is_match(s)
}

fn label_part(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(LABEL_PATTERN).expect("valid regex"));
    (1..=63).contains(&s.len()) && re.is_match(s)
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    assert_eq!(is_label_part(s), label_part(s), "is_label_part disagrees with LABEL_PATTERN for {s:?}");
    let ours = is_dns1123_label(s);
    assert_eq!(ours, reference(s), "is_dns1123_label disagrees with the regex for {s:?}");
    let id = is_session_id(s);
    assert_eq!(id, ours || ksuid(s), "is_session_id disagrees with the regexes for {s:?}");
    assert_eq!(id, schema_pattern(s), "SESSION_ID_PATTERN disagrees with is_session_id for {s:?}");
    match check_name("session", s) {
        Ok(()) => assert!(ours, "check_name accepted {s:?}"),
        Err(e) => {
            assert!(!ours, "check_name refused a valid label {s:?}");
            assert!(!e.contains(['\r', '\n', '\0']), "check_name error carries a raw control character: {e:?}");
        }
    }
});
