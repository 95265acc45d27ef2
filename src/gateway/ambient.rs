//! The ambient API server, `/api/ambient/v1` (docs/ambient-api.md §12): paths, bodies,
//! answers, and the project boundary the server itself does not keep.
//!
//! In every shipped kustomize deployment authorization is off (§12.4): any accepted token
//! reaches any project's sessions by id, and an unfiltered list returns every project's. So
//! every list carries the project filter and drops what is not the project's; every by-id
//! operation reads the session first and, when it belongs to another project, reports it as
//! not found there and sends nothing more; a delete reads first (an unknown id answers 204,
//! §12.5); a create checks that the project exists (one for a missing project is stored and
//! never runs, §12.10).

use super::http::{Reply, Transport};
use super::listing::{self, Kept};
use super::v1::{bad_body, call, parse_json};
use super::{
    Answer, ApiError, Backend, Capabilities, IdSyntax, Message, MessageList, NewSession, Op, OpKind, Repo, Request,
    Session, SessionList, SessionPatch, Target, same_session, shown,
};
use super::{ErrorBody, body_text};
use crate::validate::{is_ksuid, quote};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

const ROOT: &str = "/api/ambient/v1";
/// Sessions asked for per page, and pages read at most for one list (newest first).
const PAGE_SIZE: usize = 100;
const MAX_PAGES: usize = 10;

pub static CAPABILITIES: Capabilities = Capabilities {
    api: "ambient",
    noun: "the ambient API server",
    ops: OpKind::ALL,
    list_limit: None,
    session_ids: IdSyntax::Ksuid,
    labels: true,
    creating_is_pending: false,
    create_options: &[
        "initial_prompt",
        "model",
        "repos",
        "display_name",
        "timeout",
        "labels",
        "temperature",
        "workflow",
        "parent",
    ],
    // The pod gets prompt, model, temperature, max tokens, timeout and `repo_url` (§12.10).
    stored_only: &["display_name", "labels", "workflow", "parent"],
    agent_repos: Some(1),
    needs_prompt: false,
    reads_prompt: true,
};

#[derive(Default)]
pub struct Ambient {
    http: Transport,
    /// Projects seen to exist, as `server|project`: checked once per process.
    projects: HashSet<String>,
}

/// A session as §12.6 writes it; only what we show, every string cut as it is read.
#[derive(Deserialize)]
struct WireSession {
    #[serde(deserialize_with = "shown::short")]
    id: String,
    #[serde(default, deserialize_with = "shown::short_opt")]
    project_id: Option<String>,
    #[serde(default, deserialize_with = "shown::short_opt")]
    name: Option<String>,
    #[serde(default, deserialize_with = "shown::short_opt")]
    phase: Option<String>,
    #[serde(default, deserialize_with = "shown::task")]
    prompt: String,
    #[serde(default, deserialize_with = "shown::short_opt")]
    llm_model: Option<String>,
    #[serde(default, deserialize_with = "shown::long_opt")]
    labels: Option<String>,
    #[serde(default, deserialize_with = "shown::long_opt")]
    repos: Option<String>,
    #[serde(default, deserialize_with = "shown::long_opt")]
    repo_url: Option<String>,
    #[serde(default, deserialize_with = "shown::short_opt")]
    parent_session_id: Option<String>,
    #[serde(default)]
    llm_temperature: Option<f64>,
    #[serde(default)]
    llm_max_tokens: Option<i64>,
    #[serde(default)]
    timeout: Option<i64>,
    #[serde(default)]
    sdk_restart_count: Option<i64>,
    #[serde(default, deserialize_with = "shown::short_opt")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "shown::short_opt")]
    start_time: Option<String>,
    #[serde(default, deserialize_with = "shown::short_opt")]
    completion_time: Option<String>,
}

impl From<WireSession> for Session {
    fn from(w: WireSession) -> Session {
        Session {
            id: w.id,
            project: w.project_id,
            display_name: w.name.filter(|n| !n.is_empty()),
            // One vocabulary on both APIs; a session the control plane has not picked up yet
            // has no phase at all.
            status: w.phase.map(|p| p.to_ascii_lowercase()).unwrap_or_else(|| "pending".into()),
            task: w.prompt,
            model: w.llm_model,
            labels: w.labels.as_deref().and_then(labels_of).unwrap_or_default(),
            labels_unreadable: w.labels.as_deref().is_some_and(|text| labels_of(text).is_none()),
            repos: repos_of(w.repos.as_deref(), w.repo_url),
            parent_session_id: w.parent_session_id.filter(|p| !p.is_empty()),
            temperature: w.llm_temperature,
            max_tokens: w.llm_max_tokens,
            timeout: w.timeout,
            restart_count: w.sdk_restart_count,
            created_at: w.created_at,
            started_at: w.start_time,
            completed_at: w.completion_time,
            ..Session::default()
        }
    }
}

/// `labels` is JSON text the server never parses (§12.6); `None` for text that is not a map of
/// strings (or was cut when read), which is shown as no labels and never written back.
fn labels_of(text: &str) -> Option<BTreeMap<String, String>> {
    match text.trim() {
        "" | "null" => Some(BTreeMap::new()),
        text => serde_json::from_str(text).ok(),
    }
}

/// `repos` is JSON text (`[{"url","branch","name"}]` when `/repos` wrote it); where it holds no
/// repository, `repo_url` is the one the pod gets (§12.10).
fn repos_of(text: Option<&str>, repo_url: Option<String>) -> Vec<Repo> {
    let listed: Vec<Repo> = text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    match (listed.is_empty(), repo_url) {
        (true, Some(url)) if !url.is_empty() => vec![Repo { url, branch: None }],
        _ => listed,
    }
}

/// A label map as the JSON text the server stores.
fn labels_text(labels: &BTreeMap<String, String>) -> String {
    serde_json::to_string(labels).unwrap_or_default()
}

fn create_body(t: &Target, new: &NewSession) -> Value {
    // `name` must be present (§12.6); the server does not make it unique.
    let mut body = json!({"name": new.name.clone().unwrap_or_default(), "project_id": t.project, "prompt": new.task});
    if let Some(model) = &new.model {
        body["llm_model"] = json!(model);
    }
    if let Some(timeout) = new.timeout {
        body["timeout"] = json!(timeout);
    }
    if let Some(temperature) = new.temperature {
        body["llm_temperature"] = json!(temperature);
    }
    if let Some(workflow) = &new.workflow {
        body["workflow_id"] = json!(workflow);
    }
    if let Some(parent) = &new.parent {
        body["parent_session_id"] = json!(parent);
    }
    if !new.labels.is_empty() {
        body["labels"] = json!(labels_text(&new.labels));
    }
    if let Some(first) = new.repos.first() {
        // Only `repo_url` reaches the session's pod (§12.10); `repos` is kept on the record.
        body["repo_url"] = json!(first.url);
        body["repos"] = json!(serde_json::to_string(&new.repos).unwrap_or_default());
    }
    body
}

/// A PATCH body: only what changes. `labels` is the whole map after the edit (PATCH replaces
/// the stored text, §12.6), merged into `current`.
fn patch_body(patch: &SessionPatch, current: &BTreeMap<String, String>) -> Value {
    let mut body = json!({});
    if let Some(name) = &patch.name {
        body["name"] = json!(name);
    }
    if let Some(timeout) = patch.timeout {
        body["timeout"] = json!(timeout);
    }
    if !patch.labels.is_empty() {
        body["labels"] = json!(labels_text(&patch.labels.apply(current)));
    }
    body
}

fn list_path(project: &str, page: usize) -> String {
    format!("{ROOT}/sessions?project_id={project}&orderBy=created_at%20desc&size={PAGE_SIZE}&page={page}")
}

impl Ambient {
    fn send(&mut self, t: &Target, method: &'static str, path: &str, body: Option<&Value>) -> Result<Reply, ApiError> {
        let body = body.map(Value::to_string);
        call(&mut self.http, t, method, path, body.as_deref().map(str::as_bytes), error_from)
    }

    /// The session, if it is one of the target project's; anything else is not found there.
    fn read(&mut self, t: &Target, id: &str) -> Result<Session, ApiError> {
        let reply = self.send(t, "GET", &format!("{ROOT}/sessions/{id}"), None)?;
        let session: Session = parse_json::<WireSession>(&reply, "a session")?.into();
        same_session(id, &session)?;
        match session.project.as_deref() == Some(t.project) {
            true => Ok(session),
            false => {
                log::warn!("session {id} belongs to another project than {}; refused", t.project);
                Err(ApiError::Status { status: 404, message: format!("Session with id='{id}' not found") })
            }
        }
    }

    fn list(&mut self, t: &Target) -> Result<SessionList, ApiError> {
        let mut kept = Kept::new(Some(t.project));
        let mut total = 0;
        for number in 1..=MAX_PAGES {
            let reply = self.send(t, "GET", &list_path(t.project, number), None)?;
            let (page_total, got) =
                kept.read::<WireSession>(&reply.body, PAGE_SIZE).map_err(|e| bad_body(&reply, "a session list", &e))?;
            let got = got.unwrap_or(0);
            total = page_total.unwrap_or(0);
            // A page that brings nothing new is a server repeating itself: read no further.
            if got < PAGE_SIZE || page_end(number, got) >= total || kept.full || kept.new_on_page == 0 {
                break;
            }
        }
        if kept.others > 0 {
            log::warn!("the list for project {} held {} session(s) of other projects; dropped", t.project, kept.others);
        }
        let maybe_more = kept.full || kept.seen() < total;
        Ok(SessionList { sessions: kept.sessions, maybe_more })
    }

    /// Every project's name (with authorization off, every caller sees every project, §12.9).
    fn projects(&mut self, t: &Target) -> Result<Vec<String>, ApiError> {
        #[derive(Deserialize)]
        struct Project {
            #[serde(default, deserialize_with = "shown::short")]
            name: String,
        }
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            total: usize,
            #[serde(default, deserialize_with = "listing::bounded::<PAGE_SIZE, _, _>")]
            items: Vec<Project>,
        }
        let (mut names, mut seen) = (Vec::new(), HashSet::new());
        for number in 1..=MAX_PAGES {
            let page: Page = parse_json(&self.send(t, "GET", &projects_path(number), None)?, "a project list")?;
            let got = page.items.len();
            let before = names.len();
            // Each name once, however often the pages repeat it.
            names.extend(page.items.into_iter().map(|p| p.name).filter(|n| seen.insert(n.clone())));
            if got < PAGE_SIZE || page_end(number, got) >= page.total || names.len() == before {
                break;
            }
        }
        Ok(names)
    }

    /// Refuse a create for a project the server does not have: it would be stored and never run.
    fn check_project(&mut self, t: &Target) -> Result<(), ApiError> {
        let key = format!("{}|{}", t.server.base(), t.project);
        if self.projects.contains(&key) {
            return Ok(());
        }
        match self.send(t, "GET", &format!("{ROOT}/projects/{}", t.project), None) {
            Ok(_) => {
                self.projects.insert(key);
                Ok(())
            }
            Err(e) if e.is_not_found() => Err(ApiError::NoSuchProject { project: t.project.to_string() }),
            Err(e) => Err(e),
        }
    }
}

fn page_end(page: usize, got: usize) -> usize {
    (page - 1) * PAGE_SIZE + got
}

impl Backend for Ambient {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn plan(&self, t: &Target, op: &Op) -> Option<Request> {
        let (method, path, body) = match op {
            Op::List => ("GET", list_path(t.project, 1), None),
            Op::Get { id } => ("GET", format!("{ROOT}/sessions/{id}"), None),
            Op::Create { new } => ("POST", format!("{ROOT}/sessions"), Some(create_body(t, new))),
            Op::Delete { id } => ("DELETE", format!("{ROOT}/sessions/{id}"), None),
            // The session's own labels are merged in when it is read, at execute time.
            Op::Update { id, patch } => {
                ("PATCH", format!("{ROOT}/sessions/{id}"), Some(patch_body(patch, &BTreeMap::new())))
            }
            Op::Stop { id } => ("POST", format!("{ROOT}/sessions/{id}/stop"), None),
            Op::Start { id } => ("POST", format!("{ROOT}/sessions/{id}/start"), None),
            Op::Messages { id } => ("GET", format!("{ROOT}/sessions/{id}/messages"), None),
            Op::SendMessage { id, text } => {
                ("POST", format!("{ROOT}/sessions/{id}/messages"), Some(json!({"event_type": "user", "payload": text})))
            }
            Op::ListProjects => ("GET", projects_path(1), None),
        };
        Some(Request { method, path, body })
    }

    fn execute(&mut self, t: &Target, op: &Op) -> Result<Answer, ApiError> {
        match op {
            Op::List => self.list(t).map(Answer::List),
            Op::Get { id } => self.read(t, id).map(|s| Answer::Session(Box::new(s))),
            Op::Create { new } => {
                self.check_project(t)?;
                let body = create_body(t, new);
                let reply = self.send(t, "POST", &format!("{ROOT}/sessions"), Some(&body))?;
                let created: Session = parse_json::<WireSession>(&reply, "a created session")?.into();
                match is_ksuid(&created.id) {
                    true => Ok(Answer::Created(created.id)),
                    false => Err(ApiError::BadResponse {
                        detail: format!(
                            "the server answered {} but named an invalid session id {}; a session may have been \
                             created. Check with acp_list_sessions before creating again.",
                            reply.status,
                            quote(&created.id)
                        ),
                    }),
                }
            }
            Op::Delete { id } => {
                self.read(t, id)?;
                self.send(t, "DELETE", &format!("{ROOT}/sessions/{id}"), None).map(|_| Answer::Deleted)
            }
            Op::Update { id, patch } => {
                let before = self.read(t, id)?;
                if !patch.labels.is_empty() && before.labels_unreadable {
                    return Err(ApiError::UnreadableLabels { id: id.to_string() });
                }
                // A label edit that changes no label is not sent: a PATCH writes the whole map
                // back, and would only risk losing someone else's change.
                if patch.name.is_none()
                    && patch.timeout.is_none()
                    && patch.labels.apply(&before.labels) == before.labels
                {
                    return Ok(Answer::Updated { after: Box::new(before.clone()), before: Box::new(before) });
                }
                let body = patch_body(patch, &before.labels);
                let reply = self.send(t, "PATCH", &format!("{ROOT}/sessions/{id}"), Some(&body))?;
                let after: Session = parse_json::<WireSession>(&reply, "the changed session")?.into();
                Ok(Answer::Updated { before: Box::new(before), after: Box::new(after) })
            }
            // Stop and start read first too: the server would act on any project's session.
            Op::Stop { id } | Op::Start { id } => {
                self.read(t, id)?;
                let verb = if matches!(op, Op::Stop { .. }) { "stop" } else { "start" };
                let reply = self.send(t, "POST", &format!("{ROOT}/sessions/{id}/{verb}"), None)?;
                Ok(Answer::Session(Box::new(parse_json::<WireSession>(&reply, "a session")?.into())))
            }
            Op::Messages { id } => {
                self.read(t, id)?;
                let reply = self.send(t, "GET", &format!("{ROOT}/sessions/{id}/messages"), None)?;
                let what = "a list of messages";
                let (messages, total) =
                    listing::newest_messages::<WireMessage>(&reply.body).map_err(|e| bad_body(&reply, what, &e))?;
                Ok(Answer::Messages(MessageList { messages, total }))
            }
            Op::SendMessage { id, text } => {
                self.read(t, id)?;
                let body = json!({"event_type": "user", "payload": text});
                let reply = self.send(t, "POST", &format!("{ROOT}/sessions/{id}/messages"), Some(&body))?;
                Ok(Answer::Sent(parse_json::<WireMessage>(&reply, "the sent message")?.into()))
            }
            Op::ListProjects => self.projects(t).map(Answer::Projects),
        }
    }
}

/// A message as `/messages` writes it (§12.5).
#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    seq: u64,
    #[serde(default, deserialize_with = "shown::short")]
    event_type: String,
    #[serde(default, deserialize_with = "shown::long_opt")]
    payload: Option<String>,
    #[serde(default, deserialize_with = "shown::short_opt")]
    created_at: Option<String>,
}

impl From<WireMessage> for Message {
    fn from(w: WireMessage) -> Message {
        Message {
            seq: w.seq,
            event_type: w.event_type,
            payload: w.payload.unwrap_or_default(),
            created_at: w.created_at,
        }
    }
}

fn projects_path(page: usize) -> String {
    format!("{ROOT}/projects?orderBy=name%20asc&size={PAGE_SIZE}&page={page}")
}

/// Read an error answer the way this server writes them (§12.8): a trex body (`reason`,
/// `code`), the router's own 404 shape, RBAC bodies (`reason` only), or text.
fn error_from(t: &Target, method: &'static str, path: &str, reply: &Reply) -> ApiError {
    let body = ErrorBody::of(&reply.body);
    // An unknown route answers 404 with `"type":"Error"` and `"id":"404"`: not a missing session.
    if reply.status == 404 && body.kind.as_deref() == Some("Error") && body.id.as_deref() == Some("404") {
        return ApiError::RouteNotServed { method, path: path.to_string() };
    }
    let message = match (&body.reason, &body.code) {
        (Some(reason), Some(code)) => format!("{reason} ({code})"),
        (Some(reason), None) => reason.clone(),
        _ => body_text(&reply.body),
    };
    match reply.status {
        401 => ApiError::Unauthorized { message, source: t.token_source, cluster: t.cluster.to_string(), after: None },
        // The phase is read from the reason alone, never from the code appended to it.
        409 => ApiError::conflict(&body.reason.unwrap_or(message)),
        status => ApiError::Status { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Repo;

    #[test]
    fn wire_sessions_read_into_the_neutral_vocabulary() {
        let wire: WireSession = serde_json::from_value(json!({
            "id": "2abcDEF0123456789ghijklmnoP", "project_id": "team-a", "name": "", "phase": "Running",
            "prompt": "do it", "llm_model": "m", "labels": "{\"team\":\"x\"}", "kind": "Session"
        }))
        .unwrap();
        let s: Session = wire.into();
        assert_eq!((s.status.as_str(), s.project.as_deref(), s.display_name), ("running", Some("team-a"), None));
        assert_eq!(s.labels.get("team").map(String::as_str), Some("x"));
        let bare: Session = serde_json::from_value::<WireSession>(json!({"id": "x", "labels": "[1]"})).unwrap().into();
        assert_eq!((bare.status.as_str(), bare.labels.len()), ("pending", 0));
    }

    #[test]
    fn create_bodies_carry_the_project_and_only_what_was_given() {
        let server = crate::validate::parse_server_url("https://a.example.com").unwrap();
        let token = crate::credentials::Secret::new("unit-ambient-token-1".into());
        let tls = crate::credentials::TlsProfile::default();
        let t = Target {
            cluster: "c",
            api: CAPABILITIES.noun,
            server: &server,
            token: &token,
            token_source: crate::credentials::TokenSource::ConfigFile,
            project: "team-a",
            deadline: crate::deadline::Deadline::after(std::time::Duration::from_secs(1)),
            tls: &tls,
            cancelled: &|| false,
        };
        let bare = NewSession::with_task("t");
        assert_eq!(create_body(&t, &bare), json!({"name": "", "project_id": "team-a", "prompt": "t"}));
        let full = NewSession {
            model: Some("m".into()),
            repos: vec![Repo { url: "https://g/r".into(), branch: Some("dev".into()) }],
            name: Some("My run".into()),
            timeout: Some(900),
            labels: BTreeMap::from([("team".to_string(), "x".to_string())]),
            parent: Some("2abcDEF0123456789ghijklmnoP".into()),
            temperature: Some(0.3),
            workflow: Some("bugfix".into()),
            ..NewSession::with_task("t")
        };
        let body = create_body(&t, &full);
        assert_eq!(body["repo_url"], json!("https://g/r"));
        assert_eq!(body["repos"], json!("[{\"url\":\"https://g/r\",\"branch\":\"dev\"}]"));
        assert_eq!((&body["name"], &body["llm_model"], &body["timeout"]), (&json!("My run"), &json!("m"), &json!(900)));
        assert_eq!((&body["labels"], &body["llm_temperature"]), (&json!("{\"team\":\"x\"}"), &json!(0.3)));
        assert_eq!(
            (&body["workflow_id"], &body["parent_session_id"]),
            (&json!("bugfix"), &json!("2abcDEF0123456789ghijklmnoP"))
        );
    }

    #[test]
    fn patches_send_only_what_changes_and_merge_labels() {
        let current = BTreeMap::from([("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]);
        let name = SessionPatch { name: Some("n".into()), ..SessionPatch::default() };
        assert_eq!(patch_body(&name, &current), json!({"name": "n"}));
        let mut labels = SessionPatch::default();
        labels.labels.set.insert("c".into(), "3".into());
        labels.labels.remove.push("a".into());
        assert_eq!(patch_body(&labels, &current), json!({"labels": "{\"b\":\"2\",\"c\":\"3\"}"}));
    }

    #[test]
    fn repos_come_from_the_list_or_else_repo_url() {
        let listed = repos_of(Some(r#"[{"url":"https://g/a","branch":"dev","name":"a"}]"#), Some("https://g/b".into()));
        assert_eq!(listed, vec![Repo { url: "https://g/a".into(), branch: Some("dev".into()) }]);
        assert_eq!(repos_of(Some("not json"), Some("https://g/b".into()))[0].url, "https://g/b");
        assert!(repos_of(None, Some(String::new())).is_empty());
    }
}
