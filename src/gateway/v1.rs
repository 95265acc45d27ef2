//! The public-api gateway's `/v1` API (docs/public-api.md §1–§9): paths, bodies, answers.

use super::http::{Reply, Transport};
use super::{
    Answer, ApiError, Backend, Capabilities, IdSyntax, NewSession, Op, OpKind, Request, Session, SessionList, Target,
    shown,
};
use super::{ErrorBody, body_text};
use crate::validate::{clip, quote};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// `GET /v1/sessions` returns at most this many (the newest) and cannot page (docs/public-api.md §7).
pub const PAGE_LIMIT: usize = 20;
/// Retries of a read after 500/502/503 (the gateway's intermittent 500, docs/public-api.md §8).
const READ_RETRIES: u32 = 2;
const RETRY_BACKOFF: Duration = Duration::from_millis(250);
/// A 429 asking for at most this long is waited out once.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct GatewayV1 {
    http: Transport,
}

/// Send, retrying only what is safe to retry: reads after a transient 5xx, and any request
/// the rate limiter turned away briefly (it refuses before the handler runs). `error_from`
/// reads an error answer the way the API writes them. Shared by every HTTP backend.
pub(super) fn call(
    http: &mut Transport,
    t: &Target,
    method: &'static str,
    path: &str,
    body: Option<&[u8]>,
    error_from: fn(&Target, &'static str, &str, &Reply) -> ApiError,
) -> Result<Reply, ApiError> {
    let mut read_retries = if method == "GET" { READ_RETRIES } else { 0 };
    let mut waited_for_rate_limit = false;
    loop {
        let reply = http.send(t, method, path, body)?;
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        let err = match error_from(t, method, path, &reply) {
            // Not "not found": this may be the answer to our own first attempt.
            ApiError::Status { status: 404, message } if method == "DELETE" && reply.retried_after_stale_connection => {
                ApiError::RetriedDeleteNotFound { message }
            }
            err => err,
        };
        match &err {
            e if e.is_transient() && read_retries > 0 => {
                read_retries -= 1;
                log::warn!("{method} {path}: {e}; retrying");
                pause(t, RETRY_BACKOFF * (READ_RETRIES - read_retries))?;
            }
            ApiError::RateLimited { retry_after: Some(after) } if !waited_for_rate_limit => {
                match parse_go_duration(after).filter(|d| *d <= MAX_RATE_LIMIT_WAIT) {
                    Some(wait) => {
                        waited_for_rate_limit = true;
                        log::warn!("{method} {path}: rate limited; retrying after {wait:?}");
                        pause(t, wait)?;
                    }
                    None => return Err(err),
                }
            }
            _ => return Err(err),
        }
    }
}

/// Wait before a retry, unless the wait would pass the call's deadline: then it is over.
fn pause(t: &Target, wait: Duration) -> Result<(), ApiError> {
    if wait >= t.deadline.left() {
        return Err(ApiError::Timeout { secs: t.deadline.given_secs() });
    }
    std::thread::sleep(wait);
    Ok(())
}

/// What this API serves (docs/public-api.md §1, §6, §7).
pub static CAPABILITIES: Capabilities = Capabilities {
    api: "public-api",
    noun: "the gateway",
    ops: &[OpKind::List, OpKind::Get, OpKind::Create, OpKind::Delete],
    list_limit: Some(PAGE_LIMIT),
    session_ids: IdSyntax::Dns1123,
    labels: false,
    creating_is_pending: true,
    create_options: &["initial_prompt", "model", "repos"],
    stored_only: &[],
    agent_repos: None,
    // `task` is required (§6), and a read never returns it (§7).
    needs_prompt: true,
    reads_prompt: false,
};

/// A session as `/v1` writes it (`SessionResponse`), every string cut as it is read.
#[derive(Deserialize)]
struct WireSession {
    #[serde(deserialize_with = "shown::short")]
    id: String,
    #[serde(default, deserialize_with = "shown::short")]
    status: String,
    #[serde(default, deserialize_with = "shown::task")]
    task: String,
    #[serde(default, deserialize_with = "shown::short_opt")]
    model: Option<String>,
    #[serde(default, rename = "createdAt", deserialize_with = "shown::short_opt")]
    created_at: Option<String>,
    #[serde(default, rename = "completedAt", deserialize_with = "shown::short_opt")]
    completed_at: Option<String>,
    #[serde(default, deserialize_with = "shown::long_opt")]
    result: Option<String>,
    #[serde(default, deserialize_with = "shown::long_opt")]
    error: Option<String>,
}

impl From<WireSession> for Session {
    fn from(w: WireSession) -> Session {
        Session {
            id: w.id,
            status: w.status,
            task: w.task,
            model: w.model,
            created_at: w.created_at,
            completed_at: w.completed_at,
            result: w.result,
            error: w.error,
            ..Session::default()
        }
    }
}

fn create_body(new: &NewSession) -> Value {
    let mut body = json!({ "task": new.task });
    if let Some(model) = &new.model {
        body["model"] = json!(model);
    }
    if !new.repos.is_empty() {
        body["repos"] = json!(new.repos);
    }
    body
}

impl Backend for GatewayV1 {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn plan(&self, _: &Target, op: &Op) -> Option<Request> {
        let (method, path, body) = match op {
            Op::List => ("GET", "/v1/sessions".to_string(), None),
            Op::Get { id } => ("GET", format!("/v1/sessions/{id}"), None),
            Op::Create { new } => ("POST", "/v1/sessions".to_string(), Some(create_body(new))),
            Op::Delete { id } => ("DELETE", format!("/v1/sessions/{id}"), None),
            // No route (docs/public-api.md §1, §11): updates, stop, start, messages and projects
            // exist only on the backend behind the gateway.
            Op::Update { .. }
            | Op::Stop { .. }
            | Op::Start { .. }
            | Op::Messages { .. }
            | Op::SendMessage { .. }
            | Op::ListProjects => return None,
        };
        Some(Request { method, path, body })
    }

    fn execute(&mut self, t: &Target, op: &Op) -> Result<Answer, ApiError> {
        let Some(request) = self.plan(t, op) else {
            return Err(ApiError::NotServed { api: CAPABILITIES.noun, what: op.kind().what() });
        };
        let body = request.body.as_ref().map(Value::to_string);
        let reply =
            call(&mut self.http, t, request.method, &request.path, body.as_deref().map(str::as_bytes), error_from)?;
        match op {
            Op::List => {
                let mut kept = super::listing::Kept::new(None);
                let what = "a session list";
                match kept.read::<WireSession>(&reply.body, PAGE_LIMIT).map_err(|e| bad_body(&reply, what, &e))? {
                    (_, Some(got)) => {
                        Ok(Answer::List(SessionList { maybe_more: got >= PAGE_LIMIT, sessions: kept.sessions }))
                    }
                    (_, None) => {
                        Err(bad_body(&reply, what, &<serde_json::Error as serde::de::Error>::missing_field("items")))
                    }
                }
            }
            Op::Get { id } => {
                let session: Session = parse_json::<WireSession>(&reply, "a session")?.into();
                super::same_session(id, &session)?;
                Ok(Answer::Session(Box::new(session)))
            }
            Op::Create { .. } => created_id(&reply).map(Answer::Created),
            Op::Delete { .. } => Ok(Answer::Deleted),
            _ => Err(ApiError::NotServed { api: CAPABILITIES.noun, what: op.kind().what() }),
        }
    }
}

/// The new session's id from a create answer; it goes into a path next, so it must be a name.
fn created_id(reply: &Reply) -> Result<String, ApiError> {
    #[derive(Deserialize)]
    struct Created {
        id: Option<String>,
    }
    let created: Created = parse_json(reply, "a create confirmation")?;
    match created.id.filter(|id| !id.is_empty()) {
        Some(id) if crate::validate::is_dns1123_label(&id) => Ok(id),
        other => Err(ApiError::BadResponse {
            detail: format!(
                "the gateway answered {} but named {}; a session may have been created. \
                 Check with acp_list_sessions before creating again.",
                reply.status,
                match other {
                    Some(id) => format!("an invalid session id {}", quote(&id)),
                    None => "no session id".to_string(),
                }
            ),
        }),
    }
}

pub(super) fn parse_json<T: for<'de> Deserialize<'de>>(reply: &Reply, what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(&reply.body).map_err(|e| bad_body(reply, what, &e))
}

/// A success answer whose body is not `what`.
pub(super) fn bad_body(reply: &Reply, what: &str, e: &serde_json::Error) -> ApiError {
    ApiError::BadResponse {
        detail: format!(
            "status {} with a body that is not {what} ({}; content type {})",
            reply.status,
            clip(&e.to_string(), shown::ERROR), // serde quotes the offending value
            quote(&reply.content_type)
        ),
    }
}

/// Read an error answer the way the gateway writes them (docs/public-api.md §8, §9).
fn error_from(t: &Target, method: &'static str, path: &str, reply: &Reply) -> ApiError {
    if reply.status == 404 && reply.body.trim_ascii() == b"404 page not found" {
        return ApiError::RouteNotServed { method, path: path.to_string() };
    }
    let body = ErrorBody::of(&reply.body);
    let message = body.error.unwrap_or_else(|| body_text(&reply.body));
    match reply.status {
        401 => ApiError::Unauthorized { message, source: t.token_source, cluster: t.cluster.to_string(), after: None },
        429 => ApiError::RateLimited { retry_after: body.retry_after },
        status => ApiError::Status { status, message },
    }
}

/// Go's `time.Duration` text as the rate limiter writes it: `1s`, `500ms`, `1.5s`.
fn parse_go_duration(s: &str) -> Option<Duration> {
    let (num, unit_secs) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        return None;
    };
    let v: f64 = num.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    Duration::try_from_secs_f64(v * unit_secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Repo;

    #[test]
    fn create_body_is_what_the_gateway_binds() {
        let new = NewSession {
            model: Some("claude-x".into()),
            repos: vec![
                Repo { url: "https://g/r".into(), branch: None },
                Repo { url: "https://g/s".into(), branch: Some("dev".into()) },
            ],
            // Fields this API has no place for are not sent.
            name: Some("n".into()),
            timeout: Some(600),
            temperature: Some(0.3),
            ..NewSession::with_task("do it")
        };
        assert_eq!(
            create_body(&new),
            json!({"task": "do it", "model": "claude-x", "repos": [{"url": "https://g/r"}, {"url": "https://g/s", "branch": "dev"}]})
        );
        let bare = NewSession::with_task("t");
        assert_eq!(create_body(&bare), json!({"task": "t"}));
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("soon"), None);
        assert_eq!(parse_go_duration("-1s"), None);
        // Too long for a Duration: no answer, not a panic.
        assert_eq!(parse_go_duration("1e300s"), None);
    }
}
