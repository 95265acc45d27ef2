//! Every way a call can fail, each with a message an LLM can act on.

use super::shown;
use crate::credentials::TokenSource;
use crate::validate::quote;
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// An error status with the API's own `error` text (or a summary of the body).
    Status {
        status: u16,
        message: String,
    },
    /// 404 with the router's plain `404 page not found`: the route does not exist on this
    /// server, which is not the same as "session not found".
    RouteNotServed {
        method: &'static str,
        path: String,
    },
    /// 404 to a DELETE sent again on a new connection after the first attempt's connection
    /// broke: that attempt may have deleted it, and its answer was lost.
    RetriedDeleteNotFound {
        message: String,
    },
    /// An operation this API has no route for: nothing was sent.
    NotServed {
        api: &'static str,
        what: &'static str,
    },
    /// A search by label on an API whose sessions carry no labels: nothing was sent.
    NoLabels {
        api: &'static str,
    },
    /// A label change to a session whose stored labels are not a map of strings we can read
    /// whole: writing the merged map back would lose them, so nothing was sent.
    UnreadableLabels {
        id: String,
    },
    /// An id of the other API's syntax: nothing was sent.
    NotAnId {
        id: String,
        api: &'static str,
        rule: &'static str,
    },
    /// A create for a project the server does not have: nothing was created.
    NoSuchProject {
        project: String,
    },
    /// 401: the token was refused.
    Unauthorized {
        message: String,
        source: TokenSource,
        cluster: String,
        /// What was done about it (a stored login's token renewed, or not).
        after: Option<Renewal>,
    },
    /// This process's mutation budget is spent (`max_mutations_per_minute`): nothing was sent.
    BudgetSpent {
        limit: u32,
        retry_after_secs: u64,
    },
    /// 429, with the API's `retry_after` when it gave one.
    RateLimited {
        retry_after: Option<String>,
    },
    Timeout {
        secs: u64,
    },
    /// Nothing listens there, or the connection could not be made.
    Connect {
        server: String,
        detail: String,
    },
    Dns {
        server: String,
    },
    Tls {
        server: String,
        detail: String,
    },
    /// The server's certificate verified, but no key in its chain is one the cluster pins.
    Pinned {
        server: String,
        /// Names the cluster, the pins expected and the keys seen.
        detail: String,
    },
    /// Our client certificate could not be used, or the server asked for one or refused it.
    ClientCert {
        server: String,
        detail: String,
    },
    /// A redirect we will not follow (another origin, https → http, too many, a method change).
    Redirect {
        location: String,
        reason: String,
    },
    TooLarge {
        limit: u64,
    },
    /// A read of session `asked` answered with another session: nothing more was sent.
    WrongSession {
        asked: String,
        /// Server text: shown quoted, never as ours.
        answered: String,
    },
    /// 409 naming a phase of our vocabulary ([`super::PHASES`]; empty: not set yet) that the
    /// action cannot start from.
    WrongPhase {
        phase: &'static str,
    },
    /// Any other 409 (an optimistic lock, a constraint): the server's reason, on one line.
    Conflict {
        reason: String,
    },
    /// The client cancelled the call (`notifications/cancelled`): nothing more was sent.
    Cancelled,
    /// A success status whose body is not what the API promises (not JSON, wrong shape, cut off).
    BadResponse {
        detail: String,
    },
    Transport {
        detail: String,
    },
}

impl ApiError {
    /// A 404 from the API itself (the thing asked for does not exist).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
    }

    /// The HTTP status the platform answered with, when this error is one (for the audit log).
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::RouteNotServed { .. }
            | ApiError::RetriedDeleteNotFound { .. }
            | ApiError::NoSuchProject { .. } => Some(404),
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::WrongPhase { .. } | ApiError::Conflict { .. } => Some(409),
            ApiError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Worth retrying a read for: the gateway's intermittent 500 and passing upstream trouble.
    pub fn is_transient(&self) -> bool {
        matches!(self, ApiError::Status { status: 500 | 502 | 503, .. })
    }
}

impl ApiError {
    /// A 409 as the backends read it: [`ApiError::WrongPhase`] when `reason` is exactly the
    /// start/stop refusal (`cannot stop session in phase "Stopped"; must be …`, one line, a
    /// phase of ours), else [`ApiError::Conflict`] with its first line.
    pub fn conflict(reason: &str) -> ApiError {
        match refused_phase(reason) {
            Some(phase) => ApiError::WrongPhase { phase },
            None => ApiError::Conflict { reason: reason.trim().lines().next().unwrap_or_default().to_string() },
        }
    }
}

fn refused_phase(reason: &str) -> Option<&'static str> {
    if reason.contains(['\n', '\r']) {
        return None;
    }
    let rest = ["cannot stop session in phase \"", "cannot start session in phase \""]
        .iter()
        .find_map(|prefix| reason.strip_prefix(prefix))?;
    let (phase, after) = rest.split_once('"')?;
    if !(after.is_empty() || after.starts_with(';')) {
        return None;
    }
    match phase {
        "" => Some(""),
        phase => super::PHASES.iter().copied().find(|p| p.eq_ignore_ascii_case(phase)),
    }
}

/// What was done about a 401 to a stored login's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// A change: dropped, never resent; the next call renews it.
    ChangeNotResent,
    /// A read, but the stored login could not give a new token.
    NotRenewed,
    /// A read, renewed and sent once more, and refused again.
    RefusedRenewed,
}

impl Renewal {
    fn words(self) -> &'static str {
        match self {
            Renewal::ChangeNotResent => {
                "Nothing more was sent: a change is never sent twice. The token was dropped, so the next call \
                 renews it from the stored login; check whether the change was made before trying again."
            }
            Renewal::NotRenewed => {
                "It could not be renewed from the stored login: run `mcp-acp login` for this cluster."
            }
            Renewal::RefusedRenewed => {
                "It was renewed from the stored login and the read sent once more, and was refused again: run \
                 `mcp-acp login` for this cluster, or check its rights."
            }
        }
    }
}

/// How [`ApiError`]'s `Display` names the API: the public-api gateway's word.
const GATEWAY: &str = "the gateway";

impl ApiError {
    /// The message, naming the API the call went to (a backend's [`super::Capabilities::noun`]).
    pub fn describe(&self, api: &str) -> String {
        Named { error: self, api }.to_string()
    }
}

/// An error with the name of the API it came from, for its message.
struct Named<'a> {
    error: &'a ApiError,
    api: &'a str,
}

/// Without a name, the public-api gateway's words (the one API that has no other name).
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Named { error: self, api: GATEWAY }.fmt(f)
    }
}

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api = self.api;
        let mut chars = api.chars();
        let cap: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        match self.error {
            ApiError::Status { status: 403, message } => write!(
                f,
                "{cap} refused access (403: {message}). The token is valid but has no \
                 right to this project; check the project name or ask for access."
            ),
            ApiError::Status { status: 400, message } if message.starts_with("Project required") => write!(
                f,
                "{cap} answered 400: {message} This happens when a project-scoped token \
                 belongs to a different project than the one requested."
            ),
            ApiError::Status { status, message } if *status >= 500 => {
                write!(f, "{cap} failed ({status}: {message}). This is a server-side problem.")
            }
            ApiError::Status { status, message } => write!(f, "{cap} answered {status}: {message}"),
            ApiError::RouteNotServed { method, path } if api == GATEWAY => write!(
                f,
                "This gateway does not serve {method} {path} (404 page not found): the operation \
                 is not available through the public-api gateway. This is not a missing session."
            ),
            ApiError::RouteNotServed { method, path } => {
                write!(f, "{cap} does not serve {method} {path} (it has no such route). This is not a missing session.")
            }
            ApiError::RetriedDeleteNotFound { message } => write!(
                f,
                "The connection to {api} broke before it answered the delete, so the delete was \
                 sent again, and {api} then found nothing to delete (404: {message}). The first \
                 attempt most likely deleted it and its answer was lost; either way it no longer exists."
            ),
            ApiError::NotServed { api, what } => write!(
                f,
                "{api} cannot {what} (it has no route for it), so nothing was sent. A cluster with \
                 `api: ambient` in clusters.yaml can; acp_list_clusters shows each cluster's API."
            ),
            ApiError::UnreadableLabels { id } => write!(
                f,
                "The labels stored on session '{id}' are not a JSON map of strings that can be read whole \
                 (another client wrote them, or they are longer than 20,000 characters). A label change writes \
                 the whole map back and would lose them, so nothing was sent; acp_get_session shows the session."
            ),
            ApiError::NoLabels { api } => write!(
                f,
                "{api} returns no labels with sessions and ignores a label selector, so no session can be \
                 matched by label there and nothing was sent. A cluster with `api: ambient` in clusters.yaml \
                 can; acp_list_clusters shows each cluster's API."
            ),
            ApiError::NotAnId { id, api, rule } => write!(
                f,
                "{} is not a session ID of {api} (IDs there are {rule}), so nothing was sent. Check the ID \
                 with acp_list_sessions, or the cluster with acp_whoami.",
                quote(id)
            ),
            ApiError::NoSuchProject { project } => write!(
                f,
                "project '{project}' does not exist on this server, so nothing was created: a session there \
                 would be stored and never run. Check the project name."
            ),
            ApiError::Unauthorized { message, source, cluster, after: Some(after) } => write!(
                f,
                "{cap} rejected the token (401: {message}). The token was taken from {source} for cluster \
                 '{cluster}'. {}",
                after.words()
            ),
            ApiError::Unauthorized { message, source, cluster, after: None } => write!(
                f,
                "{cap} rejected the token (401: {message}). The token was taken from \
                 {source} for cluster '{cluster}'; it may be expired or wrong. Replace it and try again."
            ),
            ApiError::RateLimited { retry_after } => write!(
                f,
                "{cap} is rate limiting requests (429){}. Wait and try again.",
                retry_after.as_deref().map(|r| format!("; it asks to retry after {}", quote(r))).unwrap_or_default()
            ),
            ApiError::Timeout { secs } => write!(
                f,
                "{cap} did not answer within {secs} s. It may be overloaded or unreachable; \
                 try again later. A create or delete may still have taken effect: check before repeating it."
            ),
            ApiError::Connect { server, detail } => write!(
                f,
                "Cannot connect to {api} at {server} ({detail}). Check the cluster's `server` \
                 URL and that {api} is running and reachable from this host."
            ),
            ApiError::Dns { server } => write!(
                f,
                "Cannot resolve {api}'s host name in {server}. Check the cluster's `server` URL \
                 and this host's DNS."
            ),
            ApiError::Tls { server, detail } => write!(
                f,
                "TLS connection to {server} failed: {detail}. {cap}'s certificate was not \
                 accepted (untrusted issuer, wrong host name or expired), so nothing was sent. For a \
                 private CA, set `ca_cert` for this cluster in clusters.yaml."
            ),
            ApiError::Pinned { server, detail } => write!(
                f,
                "TLS connection to {server} refused: {detail}. The certificate is valid, but no key in its chain is pinned, so nothing was \
                 sent. If the server's keys changed on purpose, update `pinned_spki_sha256` in \
                 clusters.yaml."
            ),
            ApiError::ClientCert { server, detail } => {
                write!(f, "TLS connection to {server} failed: {detail}. Nothing was sent.")
            }
            ApiError::Redirect { location, reason } => write!(
                f,
                "{cap} redirected to {} ({reason}); not followed, and the token was not sent there.",
                quote(location)
            ),
            ApiError::BudgetSpent { limit, retry_after_secs } => write!(
                f,
                "This server allows at most {limit} changes per minute (max_mutations_per_minute in \
                 clusters.yaml), and they are spent, so nothing was sent. Retry in {retry_after_secs} s."
            ),
            ApiError::TooLarge { limit } => write!(
                f,
                "{cap}'s answer is larger than {} MiB, the most this server reads; it was discarded.",
                limit / (1024 * 1024)
            ),
            ApiError::WrongSession { asked, answered } => write!(
                f,
                "{cap} was asked for session '{asked}' and answered with another session, {}; nothing more was \
                 sent. Check the ID with acp_list_sessions.",
                quote(answered)
            ),
            ApiError::WrongPhase { phase: "" } => write!(f, "{cap} refused (409): the session has no phase yet."),
            ApiError::WrongPhase { phase } => write!(f, "{cap} refused (409): the session is in phase {phase}."),
            ApiError::Conflict { reason } => write!(f, "{cap} refused with a conflict (409: {}).", quote(reason)),
            ApiError::Cancelled => write!(f, "The client cancelled this call, so nothing more was sent."),
            ApiError::BadResponse { detail } => write!(f, "{cap}'s answer could not be used: {detail}"),
            ApiError::Transport { detail } => write!(f, "The request to {api} failed: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_refusal_naming_a_phase_of_ours_is_a_wrong_phase() {
        let phase = |r: &str| match ApiError::conflict(r) {
            ApiError::WrongPhase { phase } => Ok(phase),
            ApiError::Conflict { reason } => Err(reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(phase(r#"cannot stop session in phase "Stopped"; must be Running"#), Ok("stopped"));
        assert_eq!(phase(r#"cannot start session in phase "Running""#), Ok("running"));
        assert_eq!(phase(r#"cannot stop session in phase ""; must be Running"#), Ok(""));
        assert_eq!(
            phase(r#"cannot stop session in phase "Weird"; x"#),
            Err(r#"cannot stop session in phase "Weird"; x"#.into())
        );
        assert_eq!(
            phase("cannot stop session in phase \"Weird\nignore\"; x"),
            Err("cannot stop session in phase \"Weird".into())
        );
        assert!(phase(r#"cannot stop session in phase "Stopped" really"#).is_err());
        assert_eq!(phase("optimistic lock failed\nmore"), Err("optimistic lock failed".into()));
    }

    #[test]
    fn the_api_is_named_in_our_words_and_never_in_the_servers() {
        let e = ApiError::Status { status: 400, message: "the gateway said no".into() };
        assert_eq!(e.to_string(), "The gateway answered 400: the gateway said no");
        assert_eq!(e.describe("the ambient API server"), "The ambient API server answered 400: the gateway said no");
        let route = ApiError::RouteNotServed { method: "GET", path: "/x".into() };
        assert!(route.to_string().starts_with("This gateway does not serve GET /x (404 page not found)"));
        assert_eq!(
            route.describe("the ambient API server"),
            "The ambient API server does not serve GET /x (it has no such route). This is not a missing session."
        );
        let none = ApiError::NoLabels { api: "the gateway" };
        assert!(
            none.to_string().starts_with("the gateway returns no labels with sessions and ignores a label selector")
        );
        assert!(!none.is_not_found());
    }
}

/// What an error answer of either API may say, and nothing more: its text fields, each cut as
/// it is read. A body of another shape (up to 16 MiB of it) is never held as a tree.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default, deserialize_with = "shown::error_text")]
    pub error: Option<String>,
    #[serde(default, deserialize_with = "shown::error_text")]
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "shown::error_text")]
    pub code: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "shown::error_text")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "shown::error_text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "shown::error_text")]
    pub retry_after: Option<String>,
}

impl ErrorBody {
    /// The fields of `body`, none when it is not a JSON object.
    pub fn of(body: &[u8]) -> ErrorBody {
        serde_json::from_slice(body).unwrap_or_default()
    }
}

/// The start of a body that is not JSON, quoted: at most 4 KiB of it is looked at.
pub(super) fn body_text(body: &[u8]) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    match head.trim() {
        "" => "no details given".to_string(),
        other => quote(other),
    }
}
