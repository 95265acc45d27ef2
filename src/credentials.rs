//! What a cluster is reached with: its token, where that token came from, and whom to trust.
//!
//! A leaf: the configuration builds these and the transport uses them, so neither has to
//! import the other. Its only import is [`crate::redact`], which every secret registers with.

use crate::redact::{self, MASK};
use std::fmt;
use std::path::PathBuf;

/// A token. Its value is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value and register it for output redaction.
    pub fn new(value: String) -> Secret {
        redact::register(&value);
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

/// Where the token for a request came from (shown by `acp_whoami`, used in 401 hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    ConfigFile,
    EnvVar,
    /// Given to `acp_login` and kept in this process's memory only.
    Login,
    /// Renewed from the login `mcp-acp login` stored (`~/.config/acp/tokens/<cluster>.json`).
    StoredLogin,
    /// Renewed from the platform CLI's login (`token_from: acpctl`).
    Acpctl,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenSource::ConfigFile => "the cluster's `token` in clusters.yaml",
            TokenSource::EnvVar => "the ACP_TOKEN environment variable",
            TokenSource::Login => "the token given to acp_login (kept in memory only)",
            TokenSource::StoredLogin => "the login stored by `mcp-acp login` (renewed with its refresh token)",
            TokenSource::Acpctl => "acpctl's stored login (token_from: acpctl)",
        })
    }
}

/// How a cluster's TLS differs from the default: an extra CA, a client certificate, pins. The
/// transport keys its agents on the whole profile, so a new field cannot be forgotten there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsProfile {
    /// A PEM file of extra CA certificates trusted for this cluster only (beside the public
    /// roots). Once the configuration is loaded: resolved against the configuration's directory
    /// and checked.
    pub ca_cert: Option<PathBuf>,
    /// A client certificate and its key (PEM files) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// SHA-256 digests of public keys (SPKI), one of which the verified chain must hold.
    pub pins: Vec<[u8; 32]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value_and_is_registered() {
        let s = Secret::new("unit-test-secret-1".into());
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "unit-test-secret-1");
        assert_eq!(redact::redact("said unit-test-secret-1"), "said ***");
    }
}
