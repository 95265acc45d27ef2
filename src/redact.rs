//! Keeping secrets out of everything we print.
//!
//! Two layers, because one mistake should not be enough to leak a token:
//! 1. tokens live in [`Secret`], whose `Debug`/`Display` never show the value, and
//!    tool arguments named like secrets are masked before they are logged;
//! 2. every known secret value is registered here, and every line written to stdout
//!    and every log line passes through [`redact`] on its way out.

use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

pub const MASK: &str = "***";

/// Secrets shorter than this are not searched for: replacing every "a" in the output
/// would corrupt it and hide nothing. Real gateway tokens are far longer.
const MIN_SECRET_LEN: usize = 6;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// A token. Its value is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value and register it for output redaction.
    pub fn new(value: String) -> Secret {
        register(&value);
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Remember a secret value so that [`redact`] removes it from output.
pub fn register(value: &str) {
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
    }
}

/// Replace every registered secret in `text` by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), MASK));
        }
    }
    out
}

fn contains_secret(text: &str) -> bool {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    secrets.iter().any(|s| text.contains(s.as_str()))
}

/// [`redact`] for one line of JSON. Secrets are removed from the *decoded* strings, so a
/// replacement never cuts an escape sequence in two and the line stays valid JSON: the text
/// `"\tok-…"` is a tab followed by "ok-…", yet reads as a token starting with `t`. A string
/// whose written form shows a secret only through such an escape is replaced whole.
pub fn redact_json(line: &str) -> Cow<'_, str> {
    if !contains_secret(line) {
        return Cow::Borrowed(line);
    }
    let Ok(mut value) = serde_json::from_str::<Value>(line) else {
        return redact(line);
    };
    scrub(&mut value);
    let text = value.to_string();
    match contains_secret(&text) {
        true => Cow::Owned(redact(&text).into_owned()), // not in a string (a number?): never leak
        false => Cow::Owned(text),
    }
}

fn scrub(value: &mut Value) {
    match value {
        Value::String(s) => scrub_str(s),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (mut key, mut v) in entries {
                scrub_str(&mut key);
                scrub(&mut v);
                map.insert(key, v);
            }
        }
        _ => {}
    }
}

fn scrub_str(s: &mut String) {
    let written = |s: &str| Value::String(s.to_string()).to_string();
    if !contains_secret(&written(s)) {
        return;
    }
    let cleaned = redact(s).into_owned();
    *s = if contains_secret(&written(&cleaned)) { MASK.to_string() } else { cleaned };
}

/// Is this argument name one whose value must never be logged?
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["token", "password", "secret"].iter().any(|w| k.contains(w))
}

/// A copy of tool arguments fit for a log line: values under secret-looking keys,
/// at any depth, replaced by [`MASK`].
pub fn mask_arguments(args: &Value) -> Value {
    match args {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) { Value::String(MASK.into()) } else { mask_arguments(v) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask_arguments).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("unit-test-secret-1".into());
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "unit-test-secret-1");
    }

    #[test]
    fn redact_removes_registered_values_everywhere() {
        register("unit-test-secret-2");
        assert_eq!(redact("a unit-test-secret-2 b unit-test-secret-2"), "a *** b ***");
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn redact_json_keeps_the_line_valid_json() {
        register("fuzz-secret-abcdef");
        // `\f` is an escape (form feed): the text shows the secret, the value does not.
        let line = r#"{"id":"\fuzz-secret-abcdef","x":"a fuzz-secret-abcdef b"}"#;
        let out = redact_json(line);
        let v: Value = serde_json::from_str(&out).expect("still JSON (found by fuzz jsonrpc_line)");
        assert_eq!(v, json!({"id": "***", "x": "a *** b"}));
        assert!(matches!(redact_json(r#"{"clean":1}"#), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_not_registered() {
        register("abc");
        assert_eq!(redact("abc"), "abc");
    }

    #[test]
    fn mask_arguments_hides_secret_keys_at_any_depth_and_case() {
        let masked = mask_arguments(&json!({
            "session": "s1",
            "Token": "t",
            "nested": [{"api_PASSWORD": "p", "ok": 1}, {"clientSecret": {"x": 1}}]
        }));
        assert_eq!(
            masked,
            json!({"session": "s1", "Token": "***", "nested": [{"api_PASSWORD": "***", "ok": 1}, {"clientSecret": "***"}]})
        );
    }
}
