//! What a JWT says about its holder, read without verifying it: the platform verifies tokens;
//! we only show whose a token is and when it expires (the ambient API has no whoami route,
//! docs/ambient-api.md §12.9). Nothing here ever returns or logs the token itself.

use serde::Deserialize;

/// The claims we show. Strings are cut to a readable length when read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Claims {
    #[serde(default, deserialize_with = "short")]
    pub sub: Option<String>,
    #[serde(default, deserialize_with = "short")]
    pub iss: Option<String>,
    #[serde(default, deserialize_with = "short")]
    pub preferred_username: Option<String>,
    #[serde(default, deserialize_with = "short")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "short")]
    pub azp: Option<String>,
    #[serde(default, deserialize_with = "seconds")]
    pub exp: Option<i64>,
    #[serde(default, deserialize_with = "seconds")]
    pub nbf: Option<i64>,
    #[serde(default, deserialize_with = "seconds")]
    pub iat: Option<i64>,
}

impl Claims {
    /// Whom the token names: the username the platform uses (§12.3), else the subject.
    pub fn who(&self) -> Option<&str> {
        self.username.as_deref().or(self.preferred_username.as_deref()).or(self.sub.as_deref())
    }
}

fn short<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    // Claims of other types (an array `aud`, a number) are not ours to show.
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_str().map(|s| crate::validate::clip(s, 200))))
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_i64().or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))))
}

/// The claims of `token` if it is a JWT (three base64url parts, a JSON object in the middle);
/// `None` for an opaque token.
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 64 * 1024 {
        return None;
    }
    // A struct would also read from an array; claims are an object.
    match serde_json::from_slice(&base64url(payload)?).ok()? {
        serde_json::Value::Object(o) => serde_json::from_value(serde_json::Value::Object(o)).ok(),
        _ => None,
    }
}

/// Decode unpadded (or padded) base64url; `None` on any other character.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(bytes: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut s = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | ((*b as u32) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        s
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64url(&encode(&bytes)), Some(bytes));
        }
        assert_eq!(base64url("a+b/"), None);
        assert_eq!(base64url("abcde"), None, "a lone trailing character is no byte");
    }

    #[test]
    fn claims_come_from_the_payload_of_a_jwt_only() {
        let payload = encode(br#"{"sub":"u-1","preferred_username":"ada","exp":1900000000,"aud":["x"],"iat":1.5e9}"#);
        let c = claims(&format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln")).unwrap();
        assert_eq!((c.who(), c.exp, c.iat), (Some("ada"), Some(1_900_000_000), Some(1_500_000_000)));
        assert_eq!(claims("opaque-token-value"), None);
        assert_eq!(claims("a.b.c.d"), None);
        assert_eq!(claims(&format!("x.{}.y", encode(b"[1]"))), None);
    }
}
