//! The grants: device authorization (RFC 8628), client credentials, refresh (RFC 6749 §6),
//! authorization code (with [`super::pkce`]). Each answer's tokens become [`Secret`]s at once.

use super::client::{Endpoints, Idp, error_of};
use super::{MAX_LIFETIME_SECS, OidcError, secret};
use crate::credentials::Secret;
use crate::validate::clip;
use serde_json::Value;
use std::time::{Duration, Instant};

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: the default polling interval.
const DEFAULT_INTERVAL: u64 = 5;
/// RFC 8628 §3.5: what `slow_down` adds to the interval.
const SLOW_DOWN_SECS: u64 = 5;
/// Bounds on what a provider may ask of us (a hostile one could ask for a day's wait).
const MAX_INTERVAL: u64 = 60;
const MAX_EXPIRES_IN: u64 = 1800;

/// What a token answer holds.
#[derive(Debug)]
pub struct Tokens {
    pub access: Secret,
    pub refresh: Option<Secret>,
    /// Seconds since the epoch: the JWT's `exp`, else now + `expires_in`.
    pub expires_at: Option<i64>,
}

/// A token endpoint's answer to a grant.
fn tokens(url: &str, status: u16, body: &Value, now: i64) -> Result<Tokens, OidcError> {
    if status != 200 {
        return Err(error_of(url, status, body));
    }
    let access = body.get("access_token").and_then(Value::as_str).unwrap_or_default();
    let access = crate::config::clean_token(access)
        .ok()
        .flatten()
        .ok_or_else(|| OidcError::BadAnswer { url: url.into(), detail: "no usable access_token in it".into() })?;
    let refresh = match body.get("refresh_token").and_then(Value::as_str) {
        Some(r) if !r.is_empty() => Some(secret(r, "refresh_token", url)?),
        _ => None,
    };
    let exp = crate::jwt::claims(access.expose()).and_then(|c| c.exp);
    let expires_at = expiry(exp, body.get("expires_in"), now)
        .map_err(|at| OidcError::BadAnswer { url: url.into(), detail: expired_already(at, now) })?;
    Ok(Tokens { access, refresh, expires_at })
}

/// When a new access token expires, from the provider's word, which is not trusted blindly:
/// the JWT's `exp`, else `expires_in` (a number, or a string of digits as some providers send
/// it). Either is held to at most [`MAX_LIFETIME_SECS`] from now, so that a huge one can
/// neither overflow nor keep a token past a day without renewing it. A missing, zero,
/// negative or unreadable `expires_in` of an opaque token is unknown (`None`): the token is
/// used until the platform refuses it, and then renewed. `Err(exp)`: the JWT has expired
/// already (a wrong clock here or there); using it would mean renewing on every call.
pub(super) fn expiry(exp: Option<i64>, expires_in: Option<&Value>, now: i64) -> Result<Option<i64>, i64> {
    let latest = now.saturating_add(MAX_LIFETIME_SECS);
    if let Some(exp) = exp {
        return if exp <= now { Err(exp) } else { Ok(Some(exp.min(latest))) };
    }
    let secs = match expires_in {
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(v) => v.as_f64(),
        None => None,
    };
    // f64 → i64 saturates; NaN and ≤ 0 are unknown.
    Ok(secs.filter(|s| *s >= 1.0).map(|s| now.saturating_add((s as i64).min(MAX_LIFETIME_SECS))))
}

fn expired_already(at: i64, now: i64) -> String {
    format!(
        "the access token it issued expired already ({} s ago, at {}); check the clocks of this machine and of \
         the identity provider",
        now.saturating_sub(at),
        crate::validate::format_rfc3339(at)
    )
}

fn scope(scopes: &[String]) -> String {
    scopes.join(" ")
}

pub fn refresh(idp: &Idp, ep: &Endpoints, client_id: &str, refresh: &Secret, now: i64) -> Result<Tokens, OidcError> {
    let fields = [("grant_type", "refresh_token"), ("client_id", client_id), ("refresh_token", refresh.expose())];
    let (status, body) = idp.post_form(&ep.token, &fields, None)?;
    tokens(&ep.token, status, &body, now)
}

pub fn client_credentials(
    idp: &Idp,
    ep: &Endpoints,
    client_id: &str,
    client_secret: &Secret,
    scopes: &[String],
    now: i64,
) -> Result<Tokens, OidcError> {
    let scope = scope(scopes);
    let fields = [("grant_type", "client_credentials"), ("scope", scope.as_str())];
    let (status, body) = idp.post_form(&ep.token, &fields, Some((client_id, client_secret)))?;
    tokens(&ep.token, status, &body, now)
}

pub fn authorization_code(
    idp: &Idp,
    ep: &Endpoints,
    client_id: &str,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
    now: i64,
) -> Result<Tokens, OidcError> {
    let fields = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.expose()),
    ];
    let (status, body) = idp.post_form(&ep.token, &fields, None)?;
    tokens(&ep.token, status, &body, now)
}

/// What the user is asked to do (RFC 8628 §3.2).
#[derive(Debug, Clone)]
pub struct DeviceStart {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
}

/// A device login under way: poll it until it ends.
pub struct DeviceLogin {
    pub start: DeviceStart,
    device_code: Secret,
    client_id: String,
    interval: Duration,
    deadline: Instant,
    next_poll: Instant,
}

/// A value to show the user: printable, not too long.
fn shown(v: &Value, key: &str, url: &str) -> Result<String, OidcError> {
    match v.get(key).and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= 512 && s.chars().all(|c| !c.is_control()) => Ok(s.to_string()),
        _ => Err(OidcError::BadAnswer { url: url.into(), detail: format!("no usable {key} in it") }),
    }
}

impl DeviceLogin {
    /// Ask for a device code and user code.
    pub fn start(idp: &Idp, ep: &Endpoints, client_id: &str, scopes: &[String]) -> Result<DeviceLogin, OidcError> {
        let Some(url) = &ep.device else {
            return Err(OidcError::Setup(
                "the identity provider offers no device authorization endpoint (enable the OAuth 2.0 Device \
                 Authorization Grant for the client, or use --browser or --client-credentials)"
                    .into(),
            ));
        };
        let scope = scope(scopes);
        let (status, body) = idp.post_form(url, &[("client_id", client_id), ("scope", &scope)], None)?;
        if status != 200 {
            return Err(error_of(url, status, &body));
        }
        let device_code =
            secret(body.get("device_code").and_then(Value::as_str).unwrap_or_default(), "device_code", url)?;
        let uri = shown(&body, "verification_uri", url)?;
        let complete = shown(&body, "verification_uri_complete", url).ok();
        let expires_in = body.get("expires_in").and_then(Value::as_u64).unwrap_or(600).clamp(1, MAX_EXPIRES_IN);
        let interval = body.get("interval").and_then(Value::as_u64).unwrap_or(DEFAULT_INTERVAL).clamp(1, MAX_INTERVAL);
        let now = Instant::now();
        Ok(DeviceLogin {
            start: DeviceStart {
                user_code: clip(&shown(&body, "user_code", url)?, 64),
                verification_uri: uri,
                verification_uri_complete: complete,
                expires_in,
            },
            device_code,
            client_id: client_id.to_string(),
            interval: Duration::from_secs(interval),
            deadline: now + Duration::from_secs(expires_in),
            next_poll: now + Duration::from_secs(interval),
        })
    }

    /// How long until the next poll is allowed.
    pub fn wait(&self) -> Duration {
        self.next_poll.saturating_duration_since(Instant::now())
    }

    /// Seconds left before the code expires.
    pub fn left(&self) -> u64 {
        self.deadline.saturating_duration_since(Instant::now()).as_secs()
    }

    /// Poll once if the interval has passed: `Ok(None)` while the user has not finished
    /// (a `slow_down` adds 5 s to the interval for good). Denied and expired are errors
    /// (`code()` says which); so is running past `expires_in`, without asking again.
    pub fn poll(&mut self, idp: &Idp, ep: &Endpoints, now: i64) -> Result<Option<Tokens>, OidcError> {
        if Instant::now() >= self.deadline {
            return Err(OidcError::Oauth {
                status: 400,
                error: "expired_token".into(),
                description: Some(format!("the code was not confirmed within {} s", self.start.expires_in)),
            });
        }
        if Instant::now() < self.next_poll {
            return Ok(None);
        }
        let fields =
            [("grant_type", DEVICE_GRANT), ("device_code", self.device_code.expose()), ("client_id", &self.client_id)];
        let answer = idp.post_form(&ep.token, &fields, None);
        self.next_poll = Instant::now() + self.interval;
        let (status, body) = answer?;
        match tokens(&ep.token, status, &body, now) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.code() == Some("authorization_pending") => Ok(None),
            Err(e) if e.code() == Some("slow_down") => {
                self.interval =
                    (self.interval + Duration::from_secs(SLOW_DOWN_SECS)).min(Duration::from_secs(MAX_INTERVAL));
                self.next_poll = Instant::now() + self.interval;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_lifetime_is_held_to_a_day_and_an_unknown_one_stays_unknown() {
        let now = 1_700_000_000;
        let day = now + MAX_LIFETIME_SECS;
        let e = |exp, v: Value| expiry(exp, Some(&v), now);
        assert_eq!(e(None, json!(300)), Ok(Some(now + 300)));
        assert_eq!(e(None, json!("300")), Ok(Some(now + 300)));
        assert_eq!(e(None, json!(i64::MAX)), Ok(Some(day)));
        assert_eq!(e(None, json!(u64::MAX)), Ok(Some(day)));
        assert_eq!(e(None, json!(1e300)), Ok(Some(day)));
        for unknown in [json!(0), json!(-5), json!(i64::MIN), json!(0.5), json!("soon"), json!(null), json!([1])] {
            assert_eq!(e(None, unknown.clone()), Ok(None), "{unknown}");
        }
        assert_eq!(expiry(None, None, now), Ok(None));
        assert_eq!(expiry(None, None, i64::MAX), Ok(None));
        assert_eq!(expiry(None, Some(&json!(60)), i64::MAX - 1), Ok(Some(i64::MAX)));
        // A JWT's exp wins over expires_in, and is held to the same bounds.
        assert_eq!(e(Some(now + 120), json!(9999)), Ok(Some(now + 120)));
        assert_eq!(e(Some(i64::MAX), json!(60)), Ok(Some(day)));
        assert_eq!(e(Some(now), json!(60)), Err(now));
        assert_eq!(e(Some(i64::MIN), json!(60)), Err(i64::MIN));
        assert!(expired_already(i64::MIN, now).contains("s ago"));
    }
}
