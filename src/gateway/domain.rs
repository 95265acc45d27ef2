//! Sessions as the tools see them, whatever API they came from.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A session. Rendered as the structured content of session tools: field names are part of
/// our output (the original's), not of any API's wire format. Every string was cut when it was
/// read from an answer ([`shown`]).
///
/// Fields an API does not report stay empty and are left out of the output (the public-api
/// gateway has no project, display name, labels or start time on a session).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Session {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// As the API reports it; [`Session::phase`] gives its meaning.
    pub status: String,
    pub task: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repos: Vec<Repo>,
    /// The session this one was cloned from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// How often the agent was restarted in its pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_count: Option<i64>,
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(rename = "startedAt", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(rename = "completedAt", skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The stored labels could not be read whole (not a map of strings, or cut): a label change
    /// must not write a map back over them.
    #[serde(skip)]
    pub labels_unreadable: bool,
    /// The API's own record, for output that shows everything; never shown by default.
    #[serde(skip)]
    pub raw: Option<serde_json::Value>,
}

/// The phases of the one vocabulary both APIs are shown in (lowercase; arguments take any case).
pub const PHASES: &[&str] = &["pending", "creating", "running", "stopping", "stopped", "completed", "failed"];

/// What a session is doing. The public-api gateway reports `pending`, `running`, `completed`
/// and `failed`, and passes other phases through as the platform names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Completed,
    Failed,
    Stopping,
    Stopped,
    Other(String),
}

impl Session {
    pub fn phase(&self) -> Phase {
        match self.status.to_ascii_lowercase().as_str() {
            "pending" | "creating" => Phase::Pending,
            "running" => Phase::Running,
            "completed" => Phase::Completed,
            "failed" => Phase::Failed,
            "stopping" => Phase::Stopping,
            "stopped" => Phase::Stopped,
            _ => Phase::Other(self.status.clone()),
        }
    }
}

/// One message of a session's conversation (the ambient API's `/messages`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub seq: u64,
    /// `user` for what a person (or this server) sent; other kinds come from the agent.
    pub event_type: String,
    pub payload: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// A session's messages as read: the newest ones kept (oldest first), of `total` in the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageList {
    pub messages: Vec<Message>,
    /// How many the server returned; more than `messages.len()` when older ones were not kept.
    pub total: usize,
}

/// What a list call returned, and whether the API may be hiding older sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionList {
    pub sessions: Vec<Session>,
    /// The API returned as many sessions as it ever returns: there may be more that it
    /// cannot list.
    pub maybe_more: bool,
}

/// The longest prompt a session may be created with, in characters.
pub const MAX_PROMPT_CHARS: usize = 100_000;

/// What to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewSession {
    pub task: String,
    pub model: Option<String>,
    pub repos: Vec<Repo>,
    /// A display name, where the API keeps one.
    pub name: Option<String>,
    /// Seconds, where the API takes one.
    pub timeout: Option<i64>,
    /// Labels, where the API keeps them.
    pub labels: BTreeMap<String, String>,
    /// The session this one is a clone of, where the API records it.
    pub parent: Option<String>,
    pub temperature: Option<f64>,
    /// A workflow name (the original's templates), where the API keeps one.
    pub workflow: Option<String>,
}

impl NewSession {
    /// A session with this prompt and nothing else set: the API's defaults apply.
    pub fn with_task(task: impl Into<String>) -> NewSession {
        NewSession {
            task: task.into(),
            model: None,
            repos: vec![],
            name: None,
            timeout: None,
            labels: BTreeMap::new(),
            parent: None,
            temperature: None,
            workflow: None,
        }
    }
}

/// A change to a session's settings: only what is `Some` (or, for labels, non-empty) changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(skip_serializing_if = "LabelEdit::is_empty")]
    pub labels: LabelEdit,
}

impl SessionPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.timeout.is_none() && self.labels.is_empty()
    }
}

/// Labels to set and keys to remove, applied to the labels a session has when it is read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LabelEdit {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl LabelEdit {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// The labels after this edit of `current`.
    pub fn apply(&self, current: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut labels = current.clone();
        labels.retain(|k, _| !self.remove.contains(k));
        labels.extend(self.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        labels
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repo {
    #[serde(deserialize_with = "shown::long")]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "shown::short_opt")]
    pub branch: Option<String>,
}

/// How much of each string from a server is shown (in characters); the rest is cut with a
/// marker that gives the full length. Backends read every string of an answer through these.
/// The body cap (16 MiB) stays the last line of defence.
pub mod shown {
    use super::Deserialize;
    use crate::validate::clip_owned as clip;
    use serde::Deserializer;

    /// A task: as long as the longest prompt we send, so a round trip can be compared.
    pub const TASK: usize = super::MAX_PROMPT_CHARS;
    /// A result or an error of a session.
    pub const LONG: usize = 20_000;
    /// An error text in an API's answer.
    pub const ERROR: usize = 1_000;
    /// Ids, phases, models, times.
    pub const SHORT: usize = 256;

    pub fn short<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        String::deserialize(d).map(|s| clip(s, SHORT))
    }
    pub fn long<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        String::deserialize(d).map(|s| clip(s, LONG))
    }
    pub fn task<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        String::deserialize(d).map(|s| clip(s, TASK))
    }
    pub fn short_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Option::<String>::deserialize(d).map(|s| s.map(|s| clip(s, SHORT)))
    }
    pub fn long_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Option::<String>::deserialize(d).map(|s| s.map(|s| clip(s, LONG)))
    }

    /// A text field of an error answer, cut to [`ERROR`]; any other value (a number, an array
    /// of millions of items) is passed over as it is read, never built.
    pub fn error_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Option<String>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Some(clip(s.to_string(), ERROR)))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Some(clip(s, ERROR)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        d.deserialize_any(Text)
    }
}
