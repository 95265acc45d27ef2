//! Pure validators: no I/O, no allocation on the happy path, fuzzable.
//!
//! Every function here answers one question about untrusted text and, when the answer
//! is no, says which rule was broken in words an LLM (or a person) can act on.

use std::fmt;

/// Text that broke a rule. The message names the field (or the setting) and the rule, in
/// words an LLM or a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// Read as the message it carries.
impl std::ops::Deref for Invalid {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Invalid {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<String> for Invalid {
    fn from(message: String) -> Invalid {
        Invalid(message)
    }
}

impl From<&str> for Invalid {
    fn from(message: &str) -> Invalid {
        Invalid(message.to_string())
    }
}

/// The gateway's limit for project names and session IDs (docs/public-api.md §5).
pub const MAX_NAME_LEN: usize = 63;

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, 1–63 bytes: a DNS-1123 label.
///
/// Hand-written so the server needs no regex engine; the fuzz target
/// `dns1123` checks it against the `regex` crate.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            b.len() <= MAX_NAME_LEN && alnum(first) && alnum(last) && b.iter().all(|c| alnum(c) || *c == b'-')
        }
        _ => false,
    }
}

/// A project name as the ambient API server accepts one (`^[a-z][a-z0-9-]*[a-z0-9]$`, 2 to 63
/// characters): a DNS-1123 label that starts with a letter and has at least two characters.
pub fn is_ambient_project(s: &str) -> bool {
    s.len() >= 2 && s.starts_with(|c: char| c.is_ascii_lowercase()) && is_dns1123_label(s)
}

pub const AMBIENT_PROJECT_RULE: &str =
    "2-63 characters, lowercase letters a-z, digits and '-', starting with a letter and ending with a letter or digit";

/// The rule as one sentence, for error messages.
pub const DNS1123_RULE: &str = "must be a DNS-1123 label: 1-63 characters, lowercase letters a-z, digits \
     0-9 and '-', starting and ending with a letter or digit";

/// A KSUID, as the ambient API server writes session ids: 27 base62 characters.
pub fn is_ksuid(s: &str) -> bool {
    s.len() == 27 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A session id of either API: a DNS-1123 label (public-api) or a KSUID (ambient). Which
/// one a cluster takes is its backend's to check ([`crate::gateway::IdSyntax`]).
pub fn is_session_id(s: &str) -> bool {
    is_dns1123_label(s) || is_ksuid(s)
}

/// [`is_session_id`] as a regular expression (with the 63-byte limit beside it). The fuzz target
/// `dns1123` checks that the two agree; the input schemas leave the rule to the server
/// ([`crate::tools::params::schema`]), whose refusal states it.
pub const SESSION_ID_PATTERN: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?|[0-9A-Za-z]{27})$";

/// Check a session id; the error names the field, quotes the value, and gives both rules.
pub fn check_session_id(field: &str, value: &str) -> Result<(), Invalid> {
    match is_session_id(value) {
        true => Ok(()),
        false => Err(Invalid(format!(
            "{field} {} is invalid: {field} {DNS1123_RULE} (public-api), or a KSUID of 27 letters and digits (ambient)",
            quote(value)
        ))),
    }
}

/// Most labels one call may set or remove.
pub const MAX_LABELS: usize = 20;

/// A label key or value: 1–63 characters, letters, digits and `._-`, starting and ending with
/// a letter or digit (the original's rule; no `prefix/` keys, no empty values).
pub fn is_label_part(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_alphanumeric();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            b.len() <= 63 && ok(first) && ok(last) && b.iter().all(|c| ok(c) || b"._-".contains(c))
        }
        _ => false,
    }
}

/// [`is_label_part`] as a regular expression (with the 63-byte limit beside it), checked against it
/// by the fuzz target `dns1123`.
pub const LABEL_PATTERN: &str = "^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$";
const LABEL_RULE: &str = "1-63 letters, digits, '.', '_' or '-', starting and ending with a letter or digit";

/// Labels to set: 1 to [`MAX_LABELS`] keys, every key and value by [`is_label_part`].
pub fn check_labels(field: &str, labels: &serde_json::Map<String, serde_json::Value>) -> Result<(), Invalid> {
    if labels.is_empty() || labels.len() > MAX_LABELS {
        return Err(Invalid(format!("{field} must hold 1 to {MAX_LABELS} labels, not {}", labels.len())));
    }
    for (key, value) in labels {
        if !is_label_part(key) {
            return Err(Invalid(format!("{field} key {} is invalid: {LABEL_RULE}", quote(key))));
        }
        match value.as_str() {
            Some(v) if is_label_part(v) => {}
            Some(v) => {
                return Err(Invalid(format!("{field}.{key} value {} is invalid: {LABEL_RULE}", quote(v))));
            }
            None => return Err(Invalid(format!("{field}.{key} must be a string"))),
        }
    }
    Ok(())
}

/// Label keys to remove: 1 to [`MAX_LABELS`] distinct keys by [`is_label_part`].
pub fn check_label_keys(field: &str, keys: &[&str]) -> Result<(), Invalid> {
    if keys.is_empty() || keys.len() > MAX_LABELS {
        return Err(Invalid(format!("{field} must list 1 to {MAX_LABELS} label keys, not {}", keys.len())));
    }
    for (i, key) in keys.iter().enumerate() {
        if !is_label_part(key) {
            return Err(Invalid(format!("{field}[{i}] {} is invalid: {LABEL_RULE}", quote(key))));
        }
        if keys[..i].contains(key) {
            return Err(Invalid(format!("{field} names {} more than once", quote(key))));
        }
    }
    Ok(())
}

/// Check a project or session name; the error names the field and quotes the value.
pub fn check_name(field: &str, value: &str) -> Result<(), Invalid> {
    if is_dns1123_label(value) {
        Ok(())
    } else {
        Err(Invalid(format!("{field} {} is invalid: {field} {DNS1123_RULE}", quote(value))))
    }
}

/// Quote untrusted text for an error message: secrets removed first (a cut must never leave
/// a token's first characters behind), then escaped (no raw control characters such as `\r\n`
/// reach a log or a result) and cut to a readable length.
pub fn quote(value: &str) -> String {
    const MAX: usize = 80;
    let value = crate::redact::redact(value);
    let mut cut: String = value.chars().take(MAX).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Untrusted text to show at length (a session's task or result, an API's error text): secrets
/// removed first, then cut to `max` characters with a marker that says how long it was.
pub fn clip(text: &str, max: usize) -> String {
    clip_owned(text.to_string(), max)
}

/// [`clip`] for a string we own: one that needs no cut is returned as it is, not copied.
pub fn clip_owned(text: String, max: usize) -> String {
    // Uncut text needs no redaction here: whole pieces of a secret are found on the way out.
    if text.len() <= max {
        return text;
    }
    let text = crate::redact::redact(&text);
    match text.char_indices().nth(max) {
        None => text.into_owned(),
        Some((cut, _)) => format!("{}… [cut: {} characters in all]", &text[..cut], text.chars().count()),
    }
}

/// A server URL split into the parts that decide where a request (and its token) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub scheme: Scheme,
    /// Host as written (IPv6 keeps its brackets), lower-cased.
    pub host: String,
    pub port: u16,
    /// Path prefix without trailing `/` (usually empty).
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

impl ServerUrl {
    /// `scheme://host:port`, the origin a redirect must stay on.
    pub fn origin(&self) -> String {
        format!("{}://{}:{}", self.scheme.as_str(), self.host, self.port)
    }

    /// The base every API path is appended to.
    pub fn base(&self) -> String {
        if self.port == self.scheme.default_port() {
            format!("{}://{}{}", self.scheme.as_str(), self.host, self.path)
        } else {
            format!("{}://{}:{}{}", self.scheme.as_str(), self.host, self.port, self.path)
        }
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base())
    }
}

/// Validate and split a clusters.yaml `server` value.
///
/// The first two rules are the original's (same wording); the rest close holes it left:
/// a URL with credentials, a query or fragment, or control characters is refused rather
/// than passed on to the HTTP client.
pub fn parse_server_url(raw: &str) -> Result<ServerUrl, Invalid> {
    let (scheme, rest) = if let Some(rest) = raw.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = raw.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err("Server URL must start with https:// or http://".into());
    };
    const KUBE_API: &str = "Direct Kubernetes API URLs (port 6443) are not supported. Use the public-api \
                            gateway URL instead (e.g., https://public-api-ambient.apps.cluster.example.com).";
    if raw.contains(":6443") {
        return Err(KUBE_API.into());
    }
    if let Some(c) = raw.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid(format!("Server URL must not contain whitespace or control characters (found {c:?})")));
    }
    if raw.contains(['?', '#']) {
        return Err("Server URL must not contain a query (?) or fragment (#)".into());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err("Server URL must not contain credentials (user@host); put the token in `token` \
                    or ACP_TOKEN"
            .into());
    }
    let (host, port) = split_host_port(authority, scheme)?;
    Ok(ServerUrl { scheme, host: host.to_ascii_lowercase(), port, path: path.to_string() })
}

fn split_host_port(authority: &str, scheme: Scheme) -> Result<(&str, u16), Invalid> {
    // IPv6 literal: [::1] or [::1]:8080
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or("Server URL has an unclosed IPv6 bracket")?;
        let after = &authority[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("Server URL has text after the IPv6 address".into()),
        };
        (&authority[..=end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("Server URL has no host name".into());
    }
    if !host.starts_with('[') && !host.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err("Server URL host may contain only letters, digits, '-' and '.'".into());
    }
    let port = match port {
        None => scheme.default_port(),
        // Canonical digits only: a leading zero would let ":06443" past the ":6443" rule.
        Some(p) if p.len() > 1 && p.starts_with('0') => {
            return Err(Invalid(format!("Server URL port {} must be written without leading zeros", quote(p))));
        }
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|c| c.is_ascii_digit()) => n,
            _ => return Err(Invalid(format!("Server URL port {} is not a number from 1 to 65535", quote(p)))),
        },
    };
    Ok((host, port))
}

/// Parse `older_than` (`7d`, `24h`, `30m`) into seconds. Stricter than the original,
/// which matched a prefix (`7dxyz` passed): the whole value must be digits + one unit.
pub fn parse_age(value: &str) -> Result<u64, Invalid> {
    let bad = || {
        format!(
            "older_than {} is invalid: use a whole number followed by d, h or m, e.g. '7d', '24h' or '30m'",
            quote(value)
        )
    };
    let unit = value.chars().last().ok_or_else(bad)?;
    let digits = &value[..value.len() - unit.len_utf8()];
    let per_unit: u64 = match unit {
        'd' | 'D' => 86_400,
        'h' | 'H' => 3_600,
        'm' | 'M' => 60,
        _ => return Err(bad().into()),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad().into());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(per_unit)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .ok_or_else(|| Invalid(format!("older_than {} is too large: at most 100 years", quote(value))))
}

/// Seconds since the Unix epoch for an RFC 3339 timestamp as Kubernetes writes it
/// (`2026-01-02T03:04:05Z`, optional fraction, `Z` or `±hh:mm`). `None` if it is not one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(rest.as_bytes()[0], b'+' | b'-') && rest.as_bytes()[3] == b':' => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (num_at(rest, 1..3)? * 3600 + num_at(rest, 4..6)? * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

/// `2026-01-02T03:04:05Z` for seconds since the Unix epoch (the inverse of [`parse_rfc3339`]).
pub fn format_rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn num_at(s: &str, r: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(r)?;
    if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_what_it_parses() {
        for t in ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-12-02T18:18:34Z", "2100-03-01T00:00:00Z"] {
            assert_eq!(format_rfc3339(parse_rfc3339(t).unwrap()), t);
        }
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn ambient_projects_start_with_a_letter_and_have_two_characters() {
        for ok in ["ab", "a1", "team-a", "x-0", &"a".repeat(63)] {
            assert!(is_ambient_project(ok), "{ok}");
        }
        for bad in ["", "a", "1abc", "-ab", "ab-", "Ab", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_ambient_project(bad), "{bad}");
        }
    }

    #[test]
    fn dns1123_accepts_valid_labels() {
        for ok in ["a", "0", "a-b", "abc123", "session-0f8e", &"a".repeat(63)] {
            assert!(is_dns1123_label(ok), "{ok}");
        }
    }

    #[test]
    fn dns1123_rejects_everything_else() {
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", "a/b", "../x", "a\n", " a", "é", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad:?}");
        }
    }

    #[test]
    fn check_name_names_the_field_and_escapes_the_value() {
        let err = check_name("session", "a\r\nX-Evil: 1").unwrap_err();
        assert!(err.starts_with("session \"a\\r\\nX-Evil: 1\" is invalid"), "{err}");
        assert!(!err.contains('\r'));
    }

    #[test]
    fn quote_cuts_long_values() {
        let q = quote(&"x".repeat(1000));
        assert!(q.len() < 100 && q.contains('…'));
    }

    #[test]
    fn server_url_keeps_the_original_rules() {
        assert_eq!(parse_server_url("ftp://x").unwrap_err(), "Server URL must start with https:// or http://");
        assert!(parse_server_url("https://api.c.example.com:6443").unwrap_err().contains("port 6443"));
        assert!(parse_server_url("https://a:64430").unwrap_err().contains("port 6443"));
        let e = parse_server_url("http://l:06443").unwrap_err(); // found by fuzz server_url
        assert!(e.contains("without leading zeros"), "{e}");
    }

    #[test]
    fn server_url_splits_origin_and_strips_trailing_slashes() {
        let u = parse_server_url("https://Gw.Example.com/prefix//").unwrap();
        assert_eq!(u.origin(), "https://gw.example.com:443");
        assert_eq!(u.base(), "https://gw.example.com/prefix");
        let u = parse_server_url("http://127.0.0.1:8081").unwrap();
        assert_eq!(u.base(), "http://127.0.0.1:8081");
        let u = parse_server_url("http://[::1]:9/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 9));
    }

    #[test]
    fn server_url_refuses_credentials_queries_and_junk() {
        for bad in [
            "https://user:pw@host",
            "https://host/?a=1",
            "https://host#x",
            "https://ho st",
            "https://host\n",
            "https://",
            "https://host:0",
            "https://host:99999",
            "https://host:+1",
            "https://host:0443",
            "https://[::1]:0064432",
            "https://ho_st",
            "https://[::1",
        ] {
            assert!(parse_server_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn age_parses_units_and_rejects_prefix_matches() {
        assert_eq!(parse_age("7d"), Ok(7 * 86_400));
        assert_eq!(parse_age("24h"), Ok(86_400));
        assert_eq!(parse_age("30m"), Ok(1_800));
        assert_eq!(parse_age("2H"), Ok(7_200));
        for bad in ["", "d", "7", "7dxyz", "-1d", "1.5h", "7 d", "99999999999999999999d", "1w", "٣d"] {
            assert!(parse_age(bad).is_err(), "{bad:?}");
        }
        assert!(parse_age("36501d").unwrap_err().contains("too large"));
    }

    #[test]
    fn rfc3339_parses_kubernetes_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-25T01:00:00Z"), Some(1_795_568_400));
        assert_eq!(parse_rfc3339("2026-11-25T02:00:00.123+01:00"), Some(1_795_568_400));
        for bad in ["", "2026-11-25", "2026-13-01T00:00:00Z", "2026-11-25T00:00:00", "2026-11-25T00:00:00Zjunk"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }
}
