//! OpenID Connect login: discovery, the device authorization grant (RFC 8628), client
//! credentials, authorization code + PKCE with a loopback redirect (RFC 8252), refresh with
//! rotation, and the stored logins the server renews its access tokens from.
//!
//! The ambient API accepts only the identity provider's short-lived JWTs, so a token pasted
//! into clusters.yaml stops working within the hour; a stored refresh token does not.
//! Every token and client secret is a [`Secret`] (registered for redaction) from the moment
//! it is read off the wire or a file. Calls to the identity provider follow the transport's
//! rules: verified TLS, a deadline, a capped body, redirects only within the origin.

pub mod cli;
mod client;
mod flows;
mod pkce;
mod provider;
mod store;

pub use client::{Endpoints, Idp};
pub use flows::{DeviceLogin, DeviceStart, Tokens};
pub use provider::Logins;
pub use store::{Acpctl, Grant, StoredLogin, acpctl_path, check_place as check_store_place, store_path};

use crate::credentials::Secret;
use crate::validate::clip;
use std::fmt;

/// Renew an access token this many seconds before its `exp`.
pub const RENEW_EARLY_SECS: i64 = 60;
/// The longest an access token is used before it is renewed, whatever the provider says:
/// providers issue them for minutes to hours; a day bounds a hostile or broken answer.
pub const MAX_LIFETIME_SECS: i64 = 24 * 3600;

/// What went wrong talking to the identity provider or with a stored login. `Display` says
/// what happened; callers add which cluster and what to run.
#[derive(Debug)]
pub enum OidcError {
    /// No answer: DNS, connection, TLS, timeout.
    Unreachable { url: String, detail: String },
    /// An OAuth error answer (RFC 6749 §5.2): its `error` code and description.
    Oauth { status: u16, error: String, description: Option<String> },
    /// An HTTP status without an OAuth error in the body.
    Status { url: String, status: u16 },
    /// An answer we cannot use.
    BadAnswer { url: String, detail: String },
    /// A file could not be read or written.
    File(String),
    /// The provider or the configuration lacks something the flow needs.
    Setup(String),
}

impl OidcError {
    /// The OAuth error code, if the provider answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            OidcError::Oauth { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for OidcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OidcError::Unreachable { url, detail } => {
                write!(f, "the identity provider at {url} could not be reached ({detail})")
            }
            OidcError::Oauth { status, error, description } => {
                write!(f, "the identity provider refused ({status} {error}")?;
                if let Some(d) = description {
                    write!(f, ": {}", clip(d, 200))?;
                }
                f.write_str(")")
            }
            OidcError::Status { url, status } => {
                write!(f, "the identity provider answered HTTP {status} for {url}; is it up, and is the issuer right?")
            }
            OidcError::BadAnswer { url, detail } => {
                write!(f, "the identity provider's answer from {url} is unusable: {detail}")
            }
            OidcError::File(m) | OidcError::Setup(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for OidcError {}

/// A value off the wire as a secret: printable ASCII, long enough to be found and masked.
fn secret(value: &str, what: &str, url: &str) -> Result<Secret, OidcError> {
    let v = value.trim();
    if v.len() < crate::redact::MIN_SECRET_LEN || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(OidcError::BadAnswer { url: url.into(), detail: format!("its {what} is not a usable token") });
    }
    Ok(Secret::new(v.to_string()))
}
