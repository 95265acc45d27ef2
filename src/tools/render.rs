//! What the session tools share: how a session reads as text, its schema, and how a failed
//! call on one session is reported.

use super::params::{DRY_RUN, PROJECT, SESSION};
use super::{Output, ToolError};
use crate::gateway::{ApiError, Backend, OpKind, Session, Target};
use serde_json::Value;
use std::fmt::Write;

crate::tool_args! {
    /// The arguments of a tool that reads one session.
    pub struct SessionArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
    }
}

crate::tool_args! {
    /// The arguments of a tool that changes one session (delete, stop, restart).
    pub struct SessionChangeArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        dry_run: bool = DRY_RUN,
    }
}

/// One session as indented lines, for every tool that shows sessions (the task cut at 200
/// characters).
pub fn describe(s: &Session, out: &mut String) {
    describe_with(s, out, 200)
}

/// [`describe`] with the task cut at `task_chars` characters.
pub fn describe_with(s: &Session, out: &mut String, task_chars: usize) {
    let _ = writeln!(out, "  Status: {}", s.status);
    let optional =
        [("Model", &s.model), ("Created", &s.created_at), ("Started", &s.started_at), ("Completed", &s.completed_at)];
    for (label, value) in optional {
        if let Some(v) = value {
            let _ = writeln!(out, "  {label}: {v}");
        }
    }
    if !s.labels.is_empty() {
        let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "  Labels: {}", labels.join(", "));
    }
    match s.task.as_str() {
        "" => out.push_str("  Task: (none recorded)\n"),
        t => {
            let cut = t.char_indices().nth(task_chars).map_or(t.len(), |(i, _)| i);
            let more = if cut < t.len() { "…" } else { "" };
            let _ = writeln!(out, "  Task: {}{more}", &t[..cut]);
        }
    }
    for (label, value) in [("Result", &s.result), ("Error", &s.error)] {
        if let Some(v) = value {
            let _ = writeln!(out, "  {label}: {v}");
        }
    }
}

pub fn not_found(t: &Target, id: &str) -> String {
    format!("Session '{id}' not found in project '{}' (cluster '{}').", t.project, t.cluster)
}

/// How a session call's failure is reported: "not found" is an answer, anything else an error
/// with `context`.
pub fn failed(t: &Target, id: &str, context: String, e: ApiError) -> Result<Output, ToolError> {
    match e.is_not_found() {
        true => Ok(Output::failure(not_found(t, id))),
        false => Err(ToolError::Api(context, e, "", t.api)),
    }
}

/// Refuse, before anything is sent, an operation the cluster's API does not serve; the
/// message says which API can.
pub fn require(api: &dyn Backend, t: &Target, op: OpKind, context: &str) -> Result<(), ToolError> {
    let caps = api.capabilities();
    match caps.serves(op) {
        true => Ok(()),
        false => {
            Err(ToolError::Api(context.into(), ApiError::NotServed { api: caps.noun, what: op.what() }, "", t.api))
        }
    }
}

/// The structured form of [`Session`]: fields an API does not report are left out.
pub fn session_schema() -> Value {
    crate::schema::with(
        r#"{
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "project": {"type": "string"},
            "display_name": {"type": "string"},
            "status": {"type": "string"},
            "task": {"type": "string"},
            "model": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "repos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"url": {"type": "string"}, "branch": {"type": "string"}}
                }
            },
            "parent_session_id": {"type": "string"},
            "temperature": {"type": "number"},
            "max_tokens": {"type": "integer"},
            "timeout": {"type": "integer"},
            "restart_count": {"type": "integer"},
            "age": {"type": "string"},
            "createdAt": {"type": "string"},
            "startedAt": {"type": "string"},
            "completedAt": {"type": "string"},
            "result": {"type": "string"},
            "error": {"type": "string"}
        },
        "required": ["id", "status", "task"]
    }"#,
        vec![],
    )
}

/// The schema of a dry run's [`RequestPreview`](crate::gateway::RequestPreview).
pub fn request_schema() -> Value {
    crate::schema::with(
        r#"{
        "type": "object",
        "description": "dry run only: the exact request that would be sent (token masked)",
        "properties": {
            "method": {"type": "string"},
            "url": {"type": "string"},
            "headers": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}
            },
            "body": {"type": "object"}
        },
        "required": ["method", "url", "headers", "body"]
    }"#,
        vec![],
    )
}
