//! The seam between the tools and the ACP API.
//!
//! Tools speak [`SessionApi`] in terms of [`Session`], [`NewSession`] and [`ApiError`];
//! only the implementation ([`v1`], over the [`http`] transport) knows paths, headers,
//! bodies and status codes. A second API kind (the ambient API server) is one more
//! implementation of the trait, and the tools do not change.

mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod memory;
#[cfg(feature = "http")]
pub mod v1;

pub use error::ApiError;

use crate::credentials::{Secret, TlsProfile, TokenSource};
use crate::validate::ServerUrl;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a call goes and with which credentials.
pub struct Target<'a> {
    pub cluster: &'a str,
    pub server: &'a ServerUrl,
    pub token: &'a Secret,
    pub token_source: TokenSource,
    pub project: &'a str,
    pub timeout: Duration,
    /// How the server is verified beyond the public roots (an extra CA file).
    pub tls: &'a TlsProfile,
}

/// A session as the API reports it. Every string is cut as it is read ([`shown`]): a server
/// may send megabytes in one field, and all of it would reach the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    #[serde(deserialize_with = "shown::short")]
    pub id: String,
    #[serde(default, deserialize_with = "shown::short")]
    pub status: String,
    #[serde(default, deserialize_with = "shown::task")]
    pub task: String,
    #[serde(default, deserialize_with = "shown::short_opt", skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(
        default,
        rename = "createdAt",
        deserialize_with = "shown::short_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<String>,
    #[serde(
        default,
        rename = "completedAt",
        deserialize_with = "shown::short_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<String>,
    #[serde(default, deserialize_with = "shown::long_opt", skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, deserialize_with = "shown::long_opt", skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How much of each string from a server is shown (in characters); the rest is cut with a
/// marker that gives the full length. The body cap ([`http::MAX_BODY`]) stays the last line.
pub mod shown {
    use crate::validate::clip;
    use serde::{Deserialize, Deserializer};

    /// A task: as long as the longest prompt we send, so a round trip can be compared.
    pub const TASK: usize = crate::tools::params::MAX_PROMPT_CHARS;
    /// A result or an error of a session.
    pub const LONG: usize = 20_000;
    /// An error text in an API's answer.
    pub const ERROR: usize = 1_000;
    /// Ids, phases, models, times.
    pub const SHORT: usize = 256;

    pub fn short<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        String::deserialize(d).map(|s| clip(&s, SHORT))
    }
    pub fn task<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        String::deserialize(d).map(|s| clip(&s, TASK))
    }
    pub fn short_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Option::<String>::deserialize(d).map(|s| s.map(|s| clip(&s, SHORT)))
    }
    pub fn long_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Option::<String>::deserialize(d).map(|s| s.map(|s| clip(&s, LONG)))
    }
}

/// What a list call returned, and whether the API may be hiding older sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionList {
    pub sessions: Vec<Session>,
    /// The API returned as many sessions as it ever returns: there may be more that it
    /// cannot list.
    pub maybe_more: bool,
    /// That maximum, for the message.
    pub page_limit: usize,
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewSession {
    pub task: String,
    pub model: Option<String>,
    pub repos: Vec<Repo>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repo {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// The exact request a mutating call would send, for dry runs. The token is masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestPreview {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

/// Everything the tools can ask of the platform.
pub trait SessionApi {
    fn list(&mut self, t: &Target) -> Result<SessionList, ApiError>;
    fn get(&mut self, t: &Target, id: &str) -> Result<Session, ApiError>;
    /// Create a session and return its id.
    fn create(&mut self, t: &Target, new: &NewSession) -> Result<String, ApiError>;
    fn delete(&mut self, t: &Target, id: &str) -> Result<(), ApiError>;
    /// What [`SessionApi::create`] would send, without sending it.
    fn preview_create(&self, t: &Target, new: &NewSession) -> RequestPreview;
}
