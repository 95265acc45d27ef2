//! An in-memory stand-in for an API: no network, deterministic. Used by unit tests and by
//! the fuzz targets, which drive the whole server without I/O; and [`Recording`], which wraps
//! any backend and keeps a log of the operations it was asked to execute.

use super::{Answer, ApiError, Backend, Capabilities, Message, Op, OpKind, Request, Session, SessionList, Target};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Default)]
pub struct MemoryApi {
    pub sessions: Vec<(String, Session)>,
    /// (session id, message), in the order sent.
    pub messages: Vec<(String, Message)>,
    next_id: u32,
}

/// Serves what the public-api gateway serves, with the same list limit.
static CAPABILITIES: Capabilities = Capabilities {
    api: "memory",
    noun: "the gateway",
    ops: OpKind::ALL,
    list_limit: Some(20),
    session_ids: super::IdSyntax::Dns1123,
    labels: true,
    creating_is_pending: true,
    create_options: &["initial_prompt", "model", "repos"],
    stored_only: &[],
    agent_repos: None,
    needs_prompt: false,
    reads_prompt: true,
};

impl MemoryApi {
    fn position(&self, project: &str, id: &str) -> Result<usize, ApiError> {
        let found = self.sessions.iter().position(|(p, s)| p == project && s.id == id);
        found.ok_or_else(|| ApiError::Status { status: 404, message: "Session not found".into() })
    }
}

impl Backend for MemoryApi {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn plan(&self, _: &Target, op: &Op) -> Option<Request> {
        let (method, path, body) = match op {
            Op::List => ("GET", "/sessions".to_string(), None),
            Op::Get { id } => ("GET", format!("/sessions/{id}"), None),
            Op::Create { new } => ("POST", "/sessions".to_string(), serde_json::to_value(new).ok()),
            Op::Delete { id } => ("DELETE", format!("/sessions/{id}"), None),
            Op::Update { id, patch } => ("PATCH", format!("/sessions/{id}"), serde_json::to_value(patch).ok()),
            Op::Stop { id } => ("POST", format!("/sessions/{id}/stop"), None),
            Op::Start { id } => ("POST", format!("/sessions/{id}/start"), None),
            Op::Messages { id } => ("GET", format!("/sessions/{id}/messages"), None),
            Op::SendMessage { id, text } => (
                "POST",
                format!("/sessions/{id}/messages"),
                Some(serde_json::json!({"event_type": "user", "payload": text})),
            ),
            Op::ListProjects => ("GET", "/projects".to_string(), None),
        };
        Some(Request { method, path, body })
    }

    fn execute(&mut self, t: &Target, op: &Op) -> Result<Answer, ApiError> {
        match op {
            Op::List => {
                let sessions: Vec<Session> =
                    self.sessions.iter().filter(|(p, _)| p == t.project).map(|(_, s)| s.clone()).take(20).collect();
                Ok(Answer::List(SessionList { maybe_more: sessions.len() >= 20, sessions }))
            }
            Op::Get { id } => Ok(Answer::Session(Box::new(self.sessions[self.position(t.project, id)?].1.clone()))),
            Op::Create { new } => {
                self.next_id += 1;
                let id = format!("session-{}", self.next_id);
                let session = Session {
                    id: id.clone(),
                    status: "pending".into(),
                    task: new.task.clone(),
                    model: new.model.clone(),
                    display_name: new.name.clone(),
                    labels: new.labels.clone(),
                    repos: new.repos.clone(),
                    parent_session_id: new.parent.clone(),
                    temperature: new.temperature,
                    timeout: new.timeout,
                    created_at: Some("2026-01-01T00:00:00Z".into()),
                    ..Session::default()
                };
                self.sessions.push((t.project.to_string(), session));
                Ok(Answer::Created(id))
            }
            Op::Delete { id } => {
                let i = self.position(t.project, id)?;
                self.sessions.remove(i);
                Ok(Answer::Deleted)
            }
            Op::Update { id, patch } => {
                let i = self.position(t.project, id)?;
                let before = self.sessions[i].1.clone();
                let session = &mut self.sessions[i].1;
                if let Some(name) = &patch.name {
                    session.display_name = Some(name.clone());
                }
                if let Some(timeout) = patch.timeout {
                    session.timeout = Some(timeout);
                }
                session.labels = patch.labels.apply(&session.labels);
                Ok(Answer::Updated { before: Box::new(before), after: Box::new(session.clone()) })
            }
            Op::Stop { id } => self.move_phase(t, id, &["running", "creating", "pending"], "stopped"),
            Op::Start { id } => self.move_phase(t, id, &["stopped", "failed", "completed", ""], "pending"),
            Op::Messages { id } => {
                self.position(t.project, id)?;
                let of: Vec<Message> = self.messages.iter().filter(|(s, _)| s == id).map(|(_, m)| m.clone()).collect();
                Ok(Answer::Messages(super::MessageList { total: of.len(), messages: of }))
            }
            Op::SendMessage { id, text } => {
                self.position(t.project, id)?;
                let message = Message {
                    seq: self.messages.len() as u64 + 1,
                    event_type: "user".into(),
                    payload: text.to_string(),
                    created_at: Some("2026-01-01T00:00:00Z".into()),
                };
                self.messages.push((id.to_string(), message.clone()));
                Ok(Answer::Sent(message))
            }
            Op::ListProjects => {
                let mut projects: Vec<String> = self.sessions.iter().map(|(p, _)| p.clone()).collect();
                projects.sort();
                projects.dedup();
                Ok(Answer::Projects(projects))
            }
        }
    }
}

impl MemoryApi {
    /// Stop or start, with the ambient API's rule: only from these phases, else 409.
    fn move_phase(&mut self, t: &Target, id: &str, from: &[&str], to: &str) -> Result<Answer, ApiError> {
        let i = self.position(t.project, id)?;
        let session = &mut self.sessions[i].1;
        if !from.contains(&session.status.to_ascii_lowercase().as_str()) {
            let verb = if to == "stopped" { "stop" } else { "start" };
            return Err(ApiError::conflict(&format!("cannot {verb} session in phase \"{}\"", session.status)));
        }
        session.status = to.into();
        Ok(Answer::Session(Box::new(session.clone())))
    }
}

/// One executed operation, as [`Recording`] saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: OpKind,
    pub project: String,
    pub session: Option<String>,
}

pub type CallLog = Rc<RefCell<Vec<Call>>>;

/// Any backend, with a log of what it was asked to execute that stays readable after the
/// context has taken ownership of the backend.
pub struct Recording<B> {
    pub inner: B,
    pub log: CallLog,
}

impl<B: Backend> Recording<B> {
    pub fn new(inner: B) -> (Recording<B>, CallLog) {
        let log = CallLog::default();
        (Recording { inner, log: log.clone() }, log)
    }
}

impl<B: Backend> Backend for Recording<B> {
    fn capabilities(&self) -> &'static Capabilities {
        self.inner.capabilities()
    }
    fn plan(&self, t: &Target, op: &Op) -> Option<Request> {
        self.inner.plan(t, op)
    }
    fn execute(&mut self, t: &Target, op: &Op) -> Result<Answer, ApiError> {
        let session = op.session().map(str::to_string);
        self.log.borrow_mut().push(Call { op: op.kind(), project: t.project.to_string(), session });
        self.inner.execute(t, op)
    }
}
