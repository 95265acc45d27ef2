//! The public-api gateway's `/v1` API (gateway contract §1–§9): paths, bodies, answers.

use super::http::{Reply, Transport};
use super::{ApiError, NewSession, RequestPreview, Session, SessionApi, SessionList, Target, shown};
use crate::redact::MASK;
use crate::validate::{clip, quote};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// `GET /v1/sessions` returns at most this many (the newest) and cannot page (contract §7).
pub const PAGE_LIMIT: usize = 20;
/// Retries of a read after 500/502/503 (the gateway's intermittent 500, contract §8).
const READ_RETRIES: u32 = 2;
const RETRY_BACKOFF: Duration = Duration::from_millis(250);
/// A 429 asking for at most this long is waited out once.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct GatewayV1 {
    http: Transport,
}

impl GatewayV1 {
    /// Send, retrying only what is safe to retry: reads after a transient 5xx, and any
    /// request the rate limiter turned away briefly (it refuses before the handler runs).
    fn call(&mut self, t: &Target, method: &'static str, path: &str, body: Option<&[u8]>) -> Result<Reply, ApiError> {
        let mut read_retries = if method == "GET" { READ_RETRIES } else { 0 };
        let mut waited_for_rate_limit = false;
        loop {
            let reply = self.http.send(t, method, path, body)?;
            if (200..300).contains(&reply.status) {
                return Ok(reply);
            }
            let err = match error_from(t, method, path, &reply) {
                // Not "not found": this may be the answer to our own first attempt.
                ApiError::Status { status: 404, message }
                    if method == "DELETE" && reply.retried_after_stale_connection =>
                {
                    ApiError::RetriedDeleteNotFound { message }
                }
                err => err,
            };
            match &err {
                e if e.is_transient() && read_retries > 0 => {
                    read_retries -= 1;
                    log::warn!("{method} {path}: {e}; retrying");
                    std::thread::sleep(RETRY_BACKOFF * (READ_RETRIES - read_retries));
                }
                ApiError::RateLimited { retry_after: Some(after) } if !waited_for_rate_limit => {
                    match parse_go_duration(after).filter(|d| *d <= MAX_RATE_LIMIT_WAIT) {
                        Some(wait) => {
                            waited_for_rate_limit = true;
                            log::warn!("{method} {path}: rate limited; retrying after {wait:?}");
                            std::thread::sleep(wait);
                        }
                        None => return Err(err),
                    }
                }
                _ => return Err(err),
            }
        }
    }
}

fn session_path(id: &str) -> String {
    format!("/v1/sessions/{id}")
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

impl SessionApi for GatewayV1 {
    fn list(&mut self, t: &Target) -> Result<SessionList, ApiError> {
        #[derive(Deserialize)]
        struct List {
            items: Vec<Session>,
        }
        let reply = self.call(t, "GET", "/v1/sessions", None)?;
        let list: List = parse_json(&reply, "a session list")?;
        Ok(SessionList { maybe_more: list.items.len() >= PAGE_LIMIT, sessions: list.items, page_limit: PAGE_LIMIT })
    }

    fn get(&mut self, t: &Target, id: &str) -> Result<Session, ApiError> {
        let reply = self.call(t, "GET", &session_path(id), None)?;
        parse_json(&reply, "a session")
    }

    fn create(&mut self, t: &Target, new: &NewSession) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            id: Option<String>,
        }
        let body = create_body(new).to_string();
        let reply = self.call(t, "POST", "/v1/sessions", Some(body.as_bytes()))?;
        let created: Created = parse_json(&reply, "a create confirmation")?;
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

    fn delete(&mut self, t: &Target, id: &str) -> Result<(), ApiError> {
        self.call(t, "DELETE", &session_path(id), None).map(|_| ())
    }

    fn preview_create(&self, t: &Target, new: &NewSession) -> RequestPreview {
        RequestPreview {
            method: "POST",
            url: format!("{}/v1/sessions", t.server.base()),
            headers: vec![
                ("Authorization".into(), format!("Bearer {MASK}")),
                ("X-Ambient-Project".into(), t.project.to_string()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: create_body(new),
        }
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(reply: &Reply, what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(&reply.body).map_err(|e| ApiError::BadResponse {
        detail: format!(
            "status {} with a body that is not {what} ({}; content type {})",
            reply.status,
            clip(&e.to_string(), shown::ERROR), // serde quotes the offending value
            quote(&reply.content_type)
        ),
    })
}

/// Read an error answer the way the gateway writes them (contract §8, §9).
fn error_from(t: &Target, method: &'static str, path: &str, reply: &Reply) -> ApiError {
    let text = String::from_utf8_lossy(&reply.body);
    if reply.status == 404 && text.trim() == "404 page not found" {
        return ApiError::RouteNotServed { method, path: path.to_string() };
    }
    let json: Option<Value> = serde_json::from_slice(&reply.body).ok();
    let field = |k: &str| json.as_ref().and_then(|j| j.get(k)).and_then(Value::as_str).map(|s| clip(s, shown::ERROR));
    let message = field("error").unwrap_or_else(|| match text.trim() {
        "" => "no details given".to_string(),
        other => quote(other),
    });
    match reply.status {
        401 => ApiError::Unauthorized { message, source: t.token_source, cluster: t.cluster.to_string() },
        429 => ApiError::RateLimited { retry_after: field("retry_after") },
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
    Some(Duration::from_secs_f64(v * unit_secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Repo;

    #[test]
    fn create_body_is_what_the_gateway_binds() {
        let new = NewSession {
            task: "do it".into(),
            model: Some("claude-x".into()),
            repos: vec![
                Repo { url: "https://g/r".into(), branch: None },
                Repo { url: "https://g/s".into(), branch: Some("dev".into()) },
            ],
        };
        assert_eq!(
            create_body(&new),
            json!({"task": "do it", "model": "claude-x", "repos": [{"url": "https://g/r"}, {"url": "https://g/s", "branch": "dev"}]})
        );
        let bare = NewSession { task: "t".into(), model: None, repos: vec![] };
        assert_eq!(create_body(&bare), json!({"task": "t"}));
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("soon"), None);
        assert_eq!(parse_go_duration("-1s"), None);
    }
}
