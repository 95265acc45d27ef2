//! What a JWT says about its holder, read without verifying it: the platform verifies tokens;
//! we only show whose a token is and when it expires (the ambient API has no whoami route,
//! docs/ambient-api.md §12.9). Nothing here ever returns or logs the token itself.

use crate::base64;
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
    match serde_json::from_slice(&base64::decode(payload, base64::URL)?).ok()? {
        serde_json::Value::Object(o) => serde_json::from_value(serde_json::Value::Object(o)).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_come_from_the_payload_of_a_jwt_only() {
        let payload = crate::base64::encode_url(
            br#"{"sub":"u-1","preferred_username":"ada","exp":1900000000,"aud":["x"],"iat":1.5e9}"#,
        );
        let c = claims(&format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln")).unwrap();
        assert_eq!((c.who(), c.exp, c.iat), (Some("ada"), Some(1_900_000_000), Some(1_500_000_000)));
        assert_eq!(claims("opaque-token-value"), None);
        assert_eq!(claims("a.b.c.d"), None);
        assert_eq!(claims(&format!("x.{}.y", crate::base64::encode_url(b"[1]"))), None);
    }
}
