//! The seam between the tools and an ACP API: neutral domain types, operations as data, and
//! one contract ([`Backend`]) that every API kind implements.
//!
//! Tools never see paths, headers, bodies or status codes. They build an [`Op`], ask the
//! backend to [`Backend::plan`] it (the exact request, for dry runs and audit) or to
//! [`Backend::execute`] it, and read the [`Answer`]. What a backend can do is data
//! ([`Capabilities`]), so tools ask it rather than assume one API. Recording, fault injection
//! and auditing wrap the one `execute`.

#[cfg(feature = "http")]
pub mod ambient;
mod domain;
mod error;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
mod listing;
pub mod memory;
#[cfg(feature = "http")]
pub mod tls;
#[cfg(feature = "http")]
pub mod v1;

pub use domain::{
    LabelEdit, MAX_PROMPT_CHARS, Message, MessageList, NewSession, PHASES, Phase, Repo, Session, SessionList,
    SessionPatch, shown,
};
pub use error::{ApiError, Renewal};
use error::{ErrorBody, body_text};

use crate::credentials::{Secret, TlsProfile, TokenSource};
use crate::deadline::Deadline;
use crate::redact::MASK;
use crate::validate::ServerUrl;
use serde::Serialize;
use serde_json::Value;

/// Where a call goes and with which credentials.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub cluster: &'a str,
    pub server: &'a ServerUrl,
    pub token: &'a Secret,
    pub token_source: TokenSource,
    /// What the model is told it talks to: the backend's [`Capabilities::noun`].
    pub api: &'static str,
    pub project: &'a str,
    /// When the tool call must be over: every request draws on what is left.
    pub deadline: Deadline,
    /// The cluster's TLS settings: an extra CA file, a client certificate, pins.
    pub tls: &'a TlsProfile,
    /// Has the client cancelled the call? Asked before every request; a cancelled call sends
    /// nothing more.
    pub cancelled: &'a dyn Fn() -> bool,
}

/// One thing a tool can ask of the platform. Borrowed, so building one costs nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op<'a> {
    List,
    Get {
        id: &'a str,
    },
    Create {
        new: &'a NewSession,
    },
    Delete {
        id: &'a str,
    },
    /// Change settings: display name, timeout, labels (merged with the session's own).
    Update {
        id: &'a str,
        patch: &'a SessionPatch,
    },
    Stop {
        id: &'a str,
    },
    Start {
        id: &'a str,
    },
    Messages {
        id: &'a str,
    },
    SendMessage {
        id: &'a str,
        text: &'a str,
    },
    ListProjects,
}

/// The kind of an [`Op`], without its data: what [`Capabilities`] lists, what tests count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    List,
    Get,
    Create,
    Delete,
    Update,
    Stop,
    Start,
    Messages,
    SendMessage,
    ListProjects,
}

impl Op<'_> {
    pub fn kind(&self) -> OpKind {
        match self {
            Op::List => OpKind::List,
            Op::Get { .. } => OpKind::Get,
            Op::Create { .. } => OpKind::Create,
            Op::Delete { .. } => OpKind::Delete,
            Op::Update { .. } => OpKind::Update,
            Op::Stop { .. } => OpKind::Stop,
            Op::Start { .. } => OpKind::Start,
            Op::Messages { .. } => OpKind::Messages,
            Op::SendMessage { .. } => OpKind::SendMessage,
            Op::ListProjects => OpKind::ListProjects,
        }
    }

    /// The session it acts on, if any.
    pub fn session(&self) -> Option<&str> {
        match self {
            Op::Get { id } | Op::Delete { id } | Op::Stop { id } | Op::Start { id } | Op::Messages { id } => Some(id),
            Op::SendMessage { id, .. } | Op::Update { id, .. } => Some(id),
            Op::List | Op::Create { .. } | Op::ListProjects => None,
        }
    }
}

impl OpKind {
    /// Every operation, for a backend that serves them all.
    pub const ALL: &[OpKind] = &[
        OpKind::List,
        OpKind::Get,
        OpKind::Create,
        OpKind::Delete,
        OpKind::Update,
        OpKind::Stop,
        OpKind::Start,
        OpKind::Messages,
        OpKind::SendMessage,
        OpKind::ListProjects,
    ];

    /// Does it change anything on the platform?
    pub fn changes(self) -> bool {
        matches!(
            self,
            OpKind::Create | OpKind::Delete | OpKind::Update | OpKind::Stop | OpKind::Start | OpKind::SendMessage
        )
    }

    /// What it does, for "<the API> cannot <…>".
    pub fn what(self) -> &'static str {
        match self {
            OpKind::List => "list sessions",
            OpKind::Get => "read a session",
            OpKind::Create => "create sessions",
            OpKind::Delete => "delete sessions",
            OpKind::Update => "change a session's settings or labels",
            OpKind::Stop => "stop sessions",
            OpKind::Start => "start (restart) sessions",
            OpKind::Messages => "read a session's messages",
            OpKind::SendMessage => "send messages to a session",
            OpKind::ListProjects => "list projects",
        }
    }
}

/// What an executed [`Op`] gave back; the variant follows the op.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    List(SessionList),
    /// The session, as it is after the op (get, stop, start).
    Session(Box<Session>),
    /// The new session's id.
    Created(String),
    Deleted,
    /// The session before and after a change.
    Updated {
        before: Box<Session>,
        after: Box<Session>,
    },
    Messages(MessageList),
    Sent(Message),
    Projects(Vec<String>),
}

/// The syntax of a backend's session ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSyntax {
    /// A DNS-1123 label (the public-api gateway: Kubernetes object names).
    Dns1123,
    /// A KSUID: 27 base62 characters (the ambient API server).
    Ksuid,
}

impl IdSyntax {
    pub fn accepts(self, id: &str) -> bool {
        match self {
            IdSyntax::Dns1123 => crate::validate::is_dns1123_label(id),
            IdSyntax::Ksuid => crate::validate::is_ksuid(id),
        }
    }

    pub fn rule(self) -> &'static str {
        match self {
            IdSyntax::Dns1123 => "a DNS-1123 label, e.g. session-1a2b3c",
            IdSyntax::Ksuid => "a KSUID, 27 letters and digits",
        }
    }
}

/// What a backend serves, so that tools ask instead of assuming one API.
#[derive(Debug)]
pub struct Capabilities {
    /// The `api:` name of this kind in clusters.yaml.
    pub api: &'static str,
    /// What the model is told it talks to ("the gateway").
    pub noun: &'static str,
    pub ops: &'static [OpKind],
    /// A list returns at most this many sessions and cannot page further.
    pub list_limit: Option<usize>,
    pub session_ids: IdSyntax,
    /// Sessions carry labels (so they can be found by them).
    pub labels: bool,
    /// The API reports the Creating phase as `pending` (the public-api gateway does).
    pub creating_is_pending: bool,
    /// Create options (as the original's tool names them) that this API can apply.
    pub create_options: &'static [&'static str],
    /// Of `create_options`, those the API stores but does not pass to the session's agent.
    pub stored_only: &'static [&'static str],
    /// How many of the repositories given at create reach the agent; `None`: all of them.
    pub agent_repos: Option<usize>,
    /// Create refuses a session without a prompt.
    pub needs_prompt: bool,
    /// A read returns the prompt a session was created with (a faithful clone needs it).
    pub reads_prompt: bool,
}

/// A request as it would go on the wire (path relative to the server's base URL).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub body: Option<Value>,
}

/// The exact request a mutating call would send, for dry runs. The token is masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestPreview {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Capabilities {
    pub fn serves(&self, op: OpKind) -> bool {
        self.ops.contains(&op)
    }
}

/// One API kind.
pub trait Backend {
    fn capabilities(&self) -> &'static Capabilities;
    /// The request that [`Backend::execute`] would send for `op` (the one that acts, where it
    /// reads first); `None` for an op it does not serve. Pure.
    fn plan(&self, t: &Target, op: &Op) -> Option<Request>;
    fn execute(&mut self, t: &Target, op: &Op) -> Result<Answer, ApiError>;
}

/// The typed face of [`Backend::execute`], one method per op.
impl dyn Backend + '_ {
    pub fn list(&mut self, t: &Target) -> Result<SessionList, ApiError> {
        match self.execute(t, &Op::List)? {
            Answer::List(list) => Ok(list),
            _ => Err(mismatch()),
        }
    }

    pub fn get(&mut self, t: &Target, id: &str) -> Result<Session, ApiError> {
        self.check_id(id)?;
        match self.execute(t, &Op::Get { id })? {
            Answer::Session(s) => Ok(*s),
            _ => Err(mismatch()),
        }
    }

    /// Create a session and return its id.
    pub fn create(&mut self, t: &Target, new: &NewSession) -> Result<String, ApiError> {
        match self.execute(t, &Op::Create { new })? {
            Answer::Created(id) => Ok(id),
            _ => Err(mismatch()),
        }
    }

    pub fn delete(&mut self, t: &Target, id: &str) -> Result<(), ApiError> {
        self.check_id(id)?;
        match self.execute(t, &Op::Delete { id })? {
            Answer::Deleted => Ok(()),
            _ => Err(mismatch()),
        }
    }

    /// Change a session's settings; it is returned as it was before and as it is after.
    pub fn update(&mut self, t: &Target, id: &str, patch: &SessionPatch) -> Result<(Session, Session), ApiError> {
        let op = Op::Update { id, patch };
        self.check(&op)?;
        match self.execute(t, &op)? {
            Answer::Updated { before, after } => Ok((*before, *after)),
            _ => Err(mismatch()),
        }
    }

    /// Stop a session; it is returned as it is after the request.
    pub fn stop(&mut self, t: &Target, id: &str) -> Result<Session, ApiError> {
        self.session_op(t, &Op::Stop { id })
    }

    /// Start a stopped (or finished) session again.
    pub fn start(&mut self, t: &Target, id: &str) -> Result<Session, ApiError> {
        self.session_op(t, &Op::Start { id })
    }

    fn session_op(&mut self, t: &Target, op: &Op) -> Result<Session, ApiError> {
        self.check(op)?;
        match self.execute(t, op)? {
            Answer::Session(s) => Ok(*s),
            _ => Err(mismatch()),
        }
    }

    /// A session's messages, oldest first (the newest of them, when there are very many).
    pub fn messages(&mut self, t: &Target, id: &str) -> Result<MessageList, ApiError> {
        let op = Op::Messages { id };
        self.check(&op)?;
        match self.execute(t, &op)? {
            Answer::Messages(m) => Ok(m),
            _ => Err(mismatch()),
        }
    }

    /// Send a user message to a session; the stored message comes back.
    pub fn send_message(&mut self, t: &Target, id: &str, text: &str) -> Result<Message, ApiError> {
        let op = Op::SendMessage { id, text };
        self.check(&op)?;
        match self.execute(t, &op)? {
            Answer::Sent(m) => Ok(m),
            _ => Err(mismatch()),
        }
    }

    /// The names of the projects the server has.
    pub fn projects(&mut self, t: &Target) -> Result<Vec<String>, ApiError> {
        self.check(&Op::ListProjects)?;
        match self.execute(t, &Op::ListProjects)? {
            Answer::Projects(p) => Ok(p),
            _ => Err(mismatch()),
        }
    }

    /// An op this backend does not serve, or an id of the other API's syntax: nothing is sent.
    fn check(&self, op: &Op) -> Result<(), ApiError> {
        let caps = self.capabilities();
        if !caps.serves(op.kind()) {
            return Err(ApiError::NotServed { api: caps.noun, what: op.kind().what() });
        }
        op.session().map_or(Ok(()), |id| self.check_id(id))
    }

    /// An id of the other API's syntax is refused before anything is sent.
    fn check_id(&self, id: &str) -> Result<(), ApiError> {
        let caps = self.capabilities();
        match caps.session_ids.accepts(id) {
            true => Ok(()),
            false => Err(ApiError::NotAnId { id: id.to_string(), api: caps.noun, rule: caps.session_ids.rule() }),
        }
    }

    /// What `op` would send, as shown to the model: full URL, headers, token masked.
    pub fn preview(&self, t: &Target, op: &Op) -> Result<RequestPreview, ApiError> {
        let caps = self.capabilities();
        let Some(request) = self.plan(t, op) else {
            return Err(ApiError::NotServed { api: caps.noun, what: op.kind().what() });
        };
        let mut headers = vec![
            ("Authorization".to_string(), format!("Bearer {MASK}")),
            ("X-Ambient-Project".to_string(), t.project.to_string()),
        ];
        if request.body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        Ok(RequestPreview {
            method: request.method,
            url: format!("{}{}", t.server.base(), request.path),
            headers,
            body: request.body.unwrap_or(Value::Null),
        })
    }
}

/// A read of `asked` must answer that session: another one is the API's error, and whatever the
/// read was to decide (a delete, a stop) is not sent.
fn same_session(asked: &str, got: &Session) -> Result<(), ApiError> {
    match got.id == asked {
        true => Ok(()),
        false => Err(ApiError::WrongSession { asked: asked.to_string(), answered: got.id.clone() }),
    }
}

/// A backend answered an op with another op's kind of answer: a bug in that backend.
fn mismatch() -> ApiError {
    ApiError::BadResponse { detail: "internal error: the backend gave an answer of the wrong kind".into() }
}
