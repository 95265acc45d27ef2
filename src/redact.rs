//! Keeping secrets out of everything we print.
//!
//! Two layers, because one mistake should not be enough to leak a token:
//! 1. tokens live in `credentials::Secret`, whose `Debug`/`Display` never show the value, and
//!    tool arguments named like secrets are masked before they are logged;
//! 2. every known secret value is registered here, and every line written to stdout, every
//!    log line, and every text quoted or cut from what a server sent passes through
//!    [`redact`], which removes the whole secret and any [`PIECE`]-long piece of it.
//!
//! Tokens are restricted to the bearer-token alphabet (RFC 6750: letters, digits, `-._~+/`,
//! trailing `=`), which neither JSON nor Rust's `{:?}` escape: a secret shows in an escaped
//! text exactly as it is, so matching the text finds it.

use serde_json::Value;
use std::borrow::Cow;
use std::sync::RwLock;

pub const MASK: &str = "***";

/// Any piece of a secret this long is removed, wherever it starts: a token cut by a quote,
/// or shown from its 40th character on, still leaks. Shorter pieces are not searched for:
/// they occur in ordinary text and give little away.
pub const PIECE: usize = 10;
/// Secrets must be at least this long (config refuses shorter tokens): a shorter one could
/// not be told apart from ordinary text, so it could not be removed from it.
pub const MIN_SECRET_LEN: usize = PIECE;

/// Bytes of a secret looked up per probe, and the stride of probes over a text. A common run
/// of `PIECE` bytes always holds one whole probe window: `PROBE + STRIDE - 1 == PIECE`.
const PROBE: usize = 6;
const STRIDE: usize = PIECE - PROBE + 1;
const FILTER_WORDS: usize = 1024; // 65,536 bits

/// Every registered secret, with an index of its `PROBE`-byte windows.
struct Registry {
    secrets: Vec<Vec<u8>>,
    /// (window as an integer, secret, offset), sorted: looked up only after the filter says yes.
    windows: Vec<(u64, u32, u32)>,
    /// One bit per window hash: nearly every probe of ordinary text stops here.
    filter: Vec<u64>,
}

static REGISTRY: RwLock<Registry> =
    RwLock::new(Registry { secrets: Vec::new(), windows: Vec::new(), filter: Vec::new() });

fn registry() -> std::sync::RwLockReadGuard<'static, Registry> {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner())
}

fn window(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..PROBE].copy_from_slice(&bytes[..PROBE]);
    u64::from_le_bytes(w)
}

fn filter_bit(window: u64) -> usize {
    (window.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

impl Registry {
    fn add(&mut self, secret: &[u8]) {
        if self.filter.is_empty() {
            self.filter = vec![0; FILTER_WORDS];
        }
        let index = self.secrets.len() as u32;
        for offset in 0..=secret.len() - PROBE {
            let w = window(&secret[offset..]);
            self.windows.push((w, index, offset as u32));
            let bit = filter_bit(w);
            self.filter[bit / 64] |= 1 << (bit % 64);
        }
        self.windows.sort_unstable();
        self.secrets.push(secret.to_vec());
    }

    /// Byte ranges of `text` that are a secret or a piece of one, sorted and merged.
    fn find(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        if self.secrets.is_empty() || text.len() < PIECE {
            return found;
        }
        let mut p = 0;
        while p + PROBE <= text.len() {
            let w = window(&text[p..]);
            let bit = filter_bit(w);
            if self.filter[bit / 64] & (1 << (bit % 64)) != 0 {
                let first = self.windows.partition_point(|e| e.0 < w);
                for &(_, k, o) in self.windows[first..].iter().take_while(|e| e.0 == w) {
                    let secret = &self.secrets[k as usize];
                    let o = o as usize;
                    // Grow the match both ways as far as text and secret agree.
                    let back = (1..=p.min(o)).take_while(|&i| text[p - i] == secret[o - i]).count();
                    let ahead = (PROBE..(text.len() - p).min(secret.len() - o))
                        .take_while(|&i| text[p + i] == secret[o + i])
                        .count();
                    let (start, end) = (p - back, p + PROBE + ahead);
                    if end - start >= PIECE.min(secret.len()) {
                        found.push((start, end));
                    }
                }
            }
            p += STRIDE;
        }
        found.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (start, end) in found {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// Remember a secret value so that [`redact`] removes it (and its pieces) from output. Values
/// too short or outside printable ASCII are ignored: config refuses such tokens, so they are
/// never sent anywhere to be echoed back.
pub fn register(value: &str) {
    if value.len() < MIN_SECRET_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return;
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if !registry.secrets.iter().any(|s| s == value.as_bytes()) {
        registry.add(value.as_bytes());
    }
}

/// Replace every registered secret, and every [`PIECE`]-long piece of one, by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let found = registry().find(text.as_bytes());
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    // Secrets are ASCII, so every range starts and ends on a character boundary.
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in found {
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

fn contains_secret(text: &str) -> bool {
    !registry().find(text.as_bytes()).is_empty()
}

/// [`redact`] for one line of JSON. Secrets are removed from the *decoded* strings (and
/// numbers), so a replacement never cuts an escape sequence in two and the line stays valid
/// JSON: the text `"\tok-…"` is a tab followed by "ok-…", yet reads as a token starting with
/// `t`. A string whose written form shows a secret only through such an escape is replaced whole.
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
        true => Cow::Owned(redact(&text).into_owned()), // not in a string or number: never leak
        false => Cow::Owned(text),
    }
}

fn scrub(value: &mut Value) {
    match value {
        Value::String(s) => scrub_str(s),
        // An all-digit token echoed as a number: a string in its place keeps the line JSON.
        Value::Number(n) if contains_secret(&n.to_string()) => *value = Value::String(MASK.into()),
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
        // The form feed stays; "uzz-secret-abcdef" is a piece of the secret and goes.
        assert_eq!(v, json!({"id": "\u{c}***", "x": "a *** b"}));
        assert!(matches!(redact_json(r#"{"clean":1}"#), Cow::Borrowed(_)));
    }

    #[test]
    fn every_piece_of_ten_or_more_is_removed_wherever_it_starts() {
        let secret = "unit-Piece-0123456789abcdefXYZ";
        register(secret);
        for start in 0..=secret.len() - PIECE {
            for end in start + PIECE..=secret.len() {
                let piece = &secret[start..end];
                for (before, after) in [("", ""), ("x", "y"), ("a fairly long prefix: ", " and more")] {
                    let text = format!("{before}{piece}{after}");
                    assert_eq!(redact(&text), format!("{before}***{after}"), "piece {start}..{end}");
                }
            }
        }
        // Nine characters are not a piece; two pieces side by side become one mask.
        assert_eq!(redact("unit-Piec"), "unit-Piec");
        assert_eq!(redact(&format!("{secret}{secret} {}", &secret[3..17])), "*** ***");
    }

    /// The indexed search against the obvious one, on texts made of pieces of secrets and
    /// their neighbours in the alphabet: same ranges, for every text.
    #[test]
    fn the_index_finds_what_a_naive_search_finds() {
        let secrets: [&[u8]; 3] = [b"naive-AbCdEfGh-0123", b"zzQQ-9876543210-xyzW", b"abcabcabcabcabc"];
        let mut registry = Registry { secrets: Vec::new(), windows: Vec::new(), filter: Vec::new() };
        secrets.iter().for_each(|s| registry.add(s));
        let naive = |text: &[u8]| {
            let mut covered = vec![false; text.len()];
            for s in secrets {
                for start in 0..text.len() {
                    for o in 0..s.len() {
                        let n = (0..(text.len() - start).min(s.len() - o))
                            .take_while(|&i| text[start + i] == s[o + i])
                            .count();
                        if n >= PIECE.min(s.len()) {
                            covered[start..start + n].iter_mut().for_each(|c| *c = true);
                        }
                    }
                }
            }
            let mut ranges: Vec<(usize, usize)> = Vec::new();
            for (i, c) in covered.iter().enumerate() {
                match (c, ranges.last_mut()) {
                    (true, Some(last)) if last.1 == i => last.1 = i + 1,
                    (true, _) => ranges.push((i, i + 1)),
                    _ => {}
                }
            }
            ranges
        };
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..3000 {
            let mut text = Vec::new();
            while text.len() < 60 {
                let s = secrets[next(3)];
                let (a, b) = (next(s.len()), next(s.len()));
                let (a, b) = (a.min(b), a.max(b) + 1);
                match next(3) {
                    0 => text.extend_from_slice(&s[a..b]),
                    1 => text.push(b"-a0Zz9 "[next(7)]),
                    _ => text.extend_from_slice(&s[a..b.min(a + 3)]),
                }
            }
            assert_eq!(registry.find(&text), naive(&text), "{:?}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn a_number_made_of_a_secret_keeps_the_line_json() {
        register("98765432109876");
        let out = redact_json(r#"{"id":1298765432109876000,"n":5}"#);
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!({"id": "***", "n": 5}));
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
