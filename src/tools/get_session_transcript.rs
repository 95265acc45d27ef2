//! `acp_get_session_transcript`: a session's messages, oldest first, as data or as a
//! readable conversation.

use super::params::{Kind, PROJECT, Param, SESSION};
use super::render::failed;
use super::send_message::needs_ambient;
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{Message, OpKind};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

/// Most messages shown: the newest ones.
pub const MAX_MESSAGES: usize = 200;
/// Most payload shown in one answer, in bytes as JSON writes it: the answer (text and
/// structured content) stays well under the 8 MiB line cap.
pub const MAX_PAYLOAD_BYTES: usize = 3 * 1024 * 1024;

crate::tool_args! {
    pub struct TranscriptArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        format: Option<String> = Param::new(Kind::Enum(&["json", "markdown"]), false, ""),
    }
}

pub struct GetSessionTranscript;

#[derive(Serialize)]
struct Transcript {
    cluster: String,
    project: String,
    session: String,
    format: &'static str,
    /// Messages the server returned.
    total: usize,
    /// Older messages left out.
    omitted: usize,
    /// `json` only: the shown messages, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<Message>>,
}

impl Tool for GetSessionTranscript {
    const NAME: &'static str = "acp_get_session_transcript";
    const TITLE: &'static str = "Get session transcript";
    const DESCRIPTION: &'static str = "Read a session's messages, oldest first (newest 200 at most), e.g. the \
        reply to acp_send_message. Does not wait. Needs api: ambient.";
    const EFFECT: Effect = Effect::READ;
    type Args = TranscriptArgs;

    fn output_schema() -> Value {
        let text = json!({"type": "string"});
        let count = json!({"type": "integer", "minimum": 0});
        json!({
            "type": "object",
            "properties": {
                "cluster": text,
                "project": text,
                "session": text,
                "format": {"type": "string", "enum": ["json", "markdown"]},
                "total": count,
                "omitted": {"type": "integer", "minimum": 0, "description": "older messages left out"},
                "messages": {
                    "type": "array",
                    "description": "format json only: the shown messages, oldest first",
                    "items": {
                        "type": "object",
                        "properties": {"seq": count, "event_type": text, "payload": text, "created_at": text},
                        "required": ["seq", "event_type", "payload"],
                    },
                },
            },
            "required": ["cluster", "project", "session", "format", "total", "omitted"],
        })
    }

    fn run(ctx: &mut Context, args: TranscriptArgs) -> Result<Output, ToolError> {
        let id = args.session.as_str();
        let markdown = args.format.as_deref() == Some("markdown");
        ctx.with_api(args.project.as_deref(), |api, t| {
            needs_ambient(api, t, OpKind::Messages, "Reading a transcript")?;
            let mut messages = match api.messages(t, id) {
                Ok(m) => m,
                Err(e) => return failed(t, id, format!("Failed to read the messages of session '{id}'"), e),
            };
            let total = messages.len();
            let omitted = total - newest_that_fit(&messages);
            messages.drain(..omitted);
            let mut out = format!("Transcript of session '{id}' (project '{}', cluster '{}'): ", t.project, t.cluster);
            match (total, omitted) {
                (0, _) => out.push_str("no messages yet.\n"),
                (_, 0) => {
                    let _ = writeln!(out, "{total} message(s), oldest first.");
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "the newest {} of {total} messages, oldest first; {omitted} older message(s) left out \
                         (at most {MAX_MESSAGES} messages and about 3 MiB are shown).",
                        messages.len()
                    );
                }
            }
            for m in &messages {
                let time = m.created_at.as_deref().map(|c| format!(", {c}")).unwrap_or_default();
                match markdown {
                    true => {
                        let _ = write!(out, "\n### {} (#{}{time})\n\n{}\n", m.event_type, m.seq, m.payload);
                    }
                    false => {
                        let _ = writeln!(out, "[#{}{time}] {}: {}", m.seq, m.event_type, m.payload);
                    }
                }
            }
            let shown = Transcript {
                cluster: t.cluster.into(),
                project: t.project.into(),
                session: id.into(),
                format: if markdown { "markdown" } else { "json" },
                total,
                omitted,
                messages: (!markdown).then_some(messages),
            };
            Ok(Output::new(false, out, &shown))
        })?
    }
}

/// How many of the newest messages are shown: at most [`MAX_MESSAGES`], and no more than
/// [`MAX_PAYLOAD_BYTES`] of payload (always at least the newest one).
fn newest_that_fit(messages: &[Message]) -> usize {
    let mut bytes = 0;
    let mut n = 0;
    for m in messages.iter().rev().take(MAX_MESSAGES) {
        bytes += serde_json::to_string(&m.payload).map_or(m.payload.len(), |s| s.len());
        if n > 0 && bytes > MAX_PAYLOAD_BYTES {
            break;
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u64, payload: &str) -> Message {
        Message { seq, event_type: "user".into(), payload: payload.into(), created_at: None }
    }

    #[test]
    fn the_newest_messages_that_fit_are_shown() {
        let few: Vec<Message> = (1..=3).map(|i| message(i, "x")).collect();
        assert_eq!(newest_that_fit(&few), 3);
        let many: Vec<Message> = (1..=250).map(|i| message(i, "x")).collect();
        assert_eq!(newest_that_fit(&many), MAX_MESSAGES);
        let big = "\u{1}".repeat(20_000); // 6 bytes each as JSON: 120,000 bytes a message
        let large: Vec<Message> = (1..=100).map(|i| message(i, &big)).collect();
        assert_eq!(newest_that_fit(&large), MAX_PAYLOAD_BYTES / 120_002);
        assert_eq!(newest_that_fit(&[message(1, &"y".repeat(MAX_PAYLOAD_BYTES * 2))]), 1, "the newest always");
        assert_eq!(newest_that_fit(&[]), 0);
    }
}
