//! Differential: the hand-written DNS-1123 label check against the `regex` crate.
//!
//! `validate::is_dns1123_label(s)` must agree with
//! `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` (Rust regex: `$` is end of text, no multi-line)
//! plus 1 <= len <= 63 bytes, for every UTF-8 input. `check_name` must agree too, and its
//! error must never carry a raw control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_acp::validate::{MAX_NAME_LEN, check_name, is_dns1123_label};
use regex::Regex;
use std::sync::OnceLock;

fn reference(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("valid regex"));
    (1..=MAX_NAME_LEN).contains(&s.len()) && re.is_match(s)
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let ours = is_dns1123_label(s);
    assert_eq!(ours, reference(s), "is_dns1123_label disagrees with the regex for {s:?}");
    match check_name("session", s) {
        Ok(()) => assert!(ours, "check_name accepted {s:?}"),
        Err(e) => {
            assert!(!ours, "check_name refused a valid label {s:?}");
            assert!(!e.contains(['\r', '\n', '\0']), "check_name error carries a raw control character: {e:?}");
        }
    }
});
