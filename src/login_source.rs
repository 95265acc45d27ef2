//! The seam between the tools and stored logins (`oidc:` in clusters.yaml, `token_from:
//! acpctl`): the tools ask for a token through [`LoginSource`] and never see how it is renewed.
//! A trait here, so that builds without the HTTP stack (the fuzz targets) have none.

use crate::config::Cluster;
use crate::credentials::{Secret, TokenSource};
use crate::deadline::Deadline;

/// Where acp_login's device flow stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceStep {
    /// Waiting for the user: where to go, the code to enter, seconds left.
    Waiting { verification_uri: String, complete: Option<String>, user_code: String, left: u64, started: bool },
    /// Logged in and stored.
    Done,
}

/// Why a stored login could not be used, or a login could not go on: what happened and what
/// to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFailed(pub String);

impl std::fmt::Display for LoginFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoginFailed {}

pub trait LoginSource {
    /// The access token from `cluster`'s stored login (with `oidc:`) or acpctl's (with
    /// `token_from: acpctl`), renewed when it expires within a minute. `Ok(None)`: there is no
    /// stored login. `Err`: there is one and it could not be used; the message says what to run.
    /// Renewal draws on `deadline`, the tool call's.
    fn token(
        &mut self,
        cluster: &Cluster,
        now: i64,
        deadline: Deadline,
    ) -> Result<Option<(Secret, TokenSource)>, LoginFailed>;

    /// Drop the access token kept for `cluster` (the platform refused it), so that the next
    /// [`LoginSource::token`] renews it from the stored login.
    fn forget(&mut self, cluster: &str);

    /// Start the device flow for `cluster`, or poll the one under way once, within `deadline`
    /// (the current tool call's: a flow outlives the call that started it, its deadline does not).
    fn device_step(&mut self, cluster: &Cluster, now: i64, deadline: Deadline) -> Result<DeviceStep, LoginFailed>;

    /// A device flow for `cluster` is under way.
    fn pending(&self, cluster: &str) -> bool;
}
