//! Tokens as clusters.yaml and the environment give them: what makes one usable, and
//! registering every one for redaction before anything else is read.

use crate::credentials::Secret;
use crate::redact::MIN_SECRET_LEN;
use serde_yaml::Value as Yaml;
use std::fmt;

/// Why a token was refused. `Display` never includes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Spaces, control or non-ASCII characters.
    NotPrintable,
    /// Printable, but outside the bearer-token alphabet.
    NotBearer,
    /// Shorter than [`MIN_SECRET_LEN`]: its length.
    TooShort(usize),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::NotPrintable => f.write_str(
                "token contains spaces, control or non-ASCII characters, which an HTTP header \
                 cannot carry; check that it was pasted whole",
            ),
            TokenError::NotBearer => f.write_str(
                "token is not a bearer token: it may hold only letters, digits and - . _ ~ + / \
                 (then = at the end); check that it was pasted whole, without quotes or a prefix",
            ),
            TokenError::TooShort(len) => write!(
                f,
                "token is only {len} characters; real tokens are far longer, and one shorter than \
                 {MIN_SECRET_LEN} could not be kept out of what this server prints"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// Trim surrounding whitespace (a pasted newline is a common mistake); an empty token is
/// no token. A token must be a bearer token (RFC 6750 `b64token`: letters, digits, `-._~+/`,
/// then optional `=`) of at least [`MIN_SECRET_LEN`] characters: real ones are, and only such
/// a token can be reliably found and removed from everything we print.
pub fn clean_token(raw: &str) -> Result<Option<Secret>, TokenError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::NotPrintable);
    }
    let body = t.trim_end_matches('=');
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)) {
        return Err(TokenError::NotBearer);
    }
    if t.len() < MIN_SECRET_LEN {
        return Err(TokenError::TooShort(t.len()));
    }
    Ok(Some(Secret::new(t.to_string())))
}

/// Register every value written under a `token` key, as written, before anything is checked:
/// then no error about another key can show it, nor can one about the token itself (a token
/// typed as a bare number is no string that `clean_token` would see).
pub(super) fn register_tokens(top: &serde_yaml::Mapping) {
    let Some(Yaml::Mapping(clusters)) = top.get("clusters") else { return };
    for entry in clusters.values() {
        match entry.get("token") {
            Some(Yaml::String(t)) => crate::redact::register(t.trim()),
            Some(Yaml::Number(n)) => crate::redact::register(&n.to_string()),
            _ => {}
        }
    }
}
