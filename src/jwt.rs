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

/// A token expiring within this many seconds is worth a warning.
pub const EXPIRY_WARNING_SECS: i64 = 600;
/// Clock skew allowed on `nbf`: a token issued a moment ago by an IdP whose clock runs a little
/// ahead of ours is fine. None on `exp`: the platform would refuse it anyway.
pub const NBF_LEEWAY_SECS: i64 = 60;

/// Why a token is not usable now (times in seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotUsable {
    Expired { at: i64 },
    NotYetValid { from: i64 },
}

impl Claims {
    /// Whom the token names: the username the platform uses (§12.3), else the subject.
    pub fn who(&self) -> Option<&str> {
        self.username.as_deref().or(self.preferred_username.as_deref()).or(self.sub.as_deref())
    }

    /// The namespace of a Kubernetes service-account token: `sub` is
    /// `system:serviceaccount:<ns>:<name>`, which is what the gateway reads (docs/public-api.md §4).
    pub fn service_account_namespace(&self) -> Option<&str> {
        let rest = self.sub.as_deref()?.strip_prefix("system:serviceaccount:")?;
        let (ns, name) = rest.split_once(':')?;
        (!ns.is_empty() && !name.is_empty()).then_some(ns)
    }

    /// `Err` if the token has expired or is not valid yet at `now`; `Ok(Some(exp))` if it
    /// expires within [`EXPIRY_WARNING_SECS`]; `Ok(None)` otherwise (and without `exp`).
    pub fn usable_at(&self, now: i64) -> Result<Option<i64>, NotUsable> {
        if let Some(at) = self.exp.filter(|&exp| exp <= now) {
            return Err(NotUsable::Expired { at });
        }
        if let Some(from) = self.nbf.filter(|&nbf| nbf > now.saturating_add(NBF_LEEWAY_SECS)) {
            return Err(NotUsable::NotYetValid { from });
        }
        Ok(self.exp.filter(|&exp| exp.saturating_sub(now) <= EXPIRY_WARNING_SECS))
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
    // base64url, else standard base64, as the gateway reads it (docs/public-api.md §4).
    let bytes = base64::decode(payload, base64::URL).or_else(|| base64::decode(payload, base64::STANDARD))?;
    // A struct would also read from an array; claims are an object.
    match serde_json::from_slice(&bytes).ok()? {
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

    fn with(json: &str) -> Claims {
        claims(&format!("h.{}.s", crate::base64::encode_url(json.as_bytes()))).unwrap()
    }

    #[test]
    fn expiry_and_not_before_are_judged_at_a_given_time() {
        let c = with(r#"{"exp":1000,"nbf":500}"#);
        assert_eq!(c.usable_at(1000), Err(NotUsable::Expired { at: 1000 }));
        assert_eq!(c.usable_at(399), Err(NotUsable::NotYetValid { from: 500 }));
        assert_eq!(c.usable_at(440), Ok(Some(1000)), "within the nbf leeway, and expiring soon");
        assert_eq!(with(r#"{"exp":1000}"#).usable_at(1000 - EXPIRY_WARNING_SECS - 1), Ok(None));
        assert_eq!(with(r#"{"sub":"x"}"#).usable_at(i64::MAX), Ok(None));
    }

    #[test]
    fn a_service_account_namespace_comes_from_sub_only() {
        let ns = |json: &str| with(json).service_account_namespace().map(str::to_string);
        assert_eq!(ns(r#"{"sub":"system:serviceaccount:team-a:bot"}"#).as_deref(), Some("team-a"));
        assert_eq!(ns(r#"{"sub":"system:serviceaccount:team-a"}"#), None);
        assert_eq!(ns(r#"{"sub":"ada","kubernetes.io":{"namespace":"team-a"}}"#), None);
        // Standard base64 (with + and /) is read too, as the gateway does.
        let payload = crate::base64::encode(
            br#"{"sub":"system:serviceaccount:b:c","x":">>>???"}"#,
            crate::base64::STANDARD,
            false,
        );
        assert!(payload.contains(['+', '/']), "{payload}");
        assert_eq!(claims(&format!("h.{payload}.s")).unwrap().service_account_namespace(), Some("b"));
    }
}
