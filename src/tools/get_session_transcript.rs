//! `acp_get_session_transcript`: a session's messages, oldest first, as data or as a
//! readable conversation.

use super::page::{Page, cut, fit, given, room};
use super::params::{Kind, PROJECT, Param, SESSION};
use super::render::failed;
use super::send_message::needs_ambient;
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{Message, OpKind, Target};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Write;

/// Most messages shown: the newest ones.
pub const MAX_MESSAGES: usize = 200;

crate::tool_args! {
    pub struct TranscriptArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        offset: Option<i64> = Param::new(Kind::Int { min: 0, max: 100_000 }, false, "skip the N newest"),
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
    /// The arguments of the page of older messages.
    next: Option<Map<String, Value>>,
    /// `json` only: the shown messages, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<Message>>,
}

impl Tool for GetSessionTranscript {
    const NAME: &'static str = "acp_get_session_transcript";
    const TITLE: &'static str = "Get session transcript";
    const DESCRIPTION: &'static str = "Read a session's messages, oldest first (newest 200 at most, paged), e.g. \
        the reply to acp_send_message. Does not wait. Needs api: ambient.";
    const EFFECT: Effect = Effect::READ;
    type Args = TranscriptArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "project": {"type": "string"},
                "session": {"type": "string"},
                "format": {"type": "string", "enum": ["json", "markdown"]},
                "total": {"type": "integer", "minimum": 0},
                "omitted": {"type": "integer", "minimum": 0, "description": "older messages left out"},
                "next": {
                    "type": ["object", "null"],
                    "description": "the arguments of the page of older messages"
                },
                "messages": {
                    "type": "array",
                    "description": "format json only: the shown messages, oldest first",
                    "items": {
                        "type": "object",
                        "properties": {
                            "seq": {"type": "integer", "minimum": 0},
                            "event_type": {"type": "string"},
                            "payload": {"type": "string"},
                            "created_at": {"type": "string"}
                        },
                        "required": ["seq", "event_type", "payload"]
                    }
                }
            },
            "required": ["cluster", "project", "session", "format", "total", "omitted", "next"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, args: TranscriptArgs) -> Result<Output, ToolError> {
        let id = args.session.as_str();
        let markdown = args.format.as_deref() == Some("markdown");
        let budget = ctx.answer_budget();
        ctx.with_api(args.project.as_deref(), |api, t| {
            needs_ambient(api, t, OpKind::Messages, "Reading a transcript")?;
            let messages = match api.messages(t, id) {
                Ok(m) => m,
                Err(e) => return failed(t, id, format!("Failed to read the messages of session '{id}'"), e),
            };
            // A payload alone may take a quarter of the answer (it is in the text and the
            // structured content, escaped).
            let cap = (room(budget) / 4).max(500);
            let (returned, messages) = (messages.total, messages.messages);
            let newest_first: Vec<Message> =
                messages.into_iter().rev().map(|m| Message { payload: cut(&m.payload, cap, REST), ..m }).collect();
            let arguments = given([
                ("project", args.project.clone().map(Value::from)),
                ("format", args.format.clone().map(Value::from)),
                ("session", Some(Value::from(id))),
            ]);
            let offset = args.offset.unwrap_or(0) as usize;
            let total = newest_first.len();
            let mut out = fit(budget, total, offset, MAX_MESSAGES, |page| {
                let mut shown: Vec<Message> = newest_first[page.range()].to_vec();
                shown.reverse();
                render(t, id, markdown, shown, page, &arguments)
            });
            if returned > total {
                out.text += &format!(
                    "\nNote: the server returned {returned} messages; only the newest {total} were kept, so the \
                     {} older ones cannot be shown.\n",
                    returned - total
                );
            }
            Ok(out)
        })?
    }
}

/// Where the rest of a payload cut to fit the answer is.
const REST: &str = "raise max_answer_tokens (or ACP_MAX_ANSWER_TOKENS) to see more";

/// The page of messages (`page` counts from the newest), oldest first.
fn render(
    t: &Target,
    id: &str,
    markdown: bool,
    messages: Vec<Message>,
    page: &Page,
    args: &Map<String, Value>,
) -> Output {
    let (total, newer, older) = (page.total, page.offset, page.more());
    let mut out = format!("Transcript of session '{id}' (project '{}', cluster '{}'): ", t.project, t.cluster);
    match (total, newer + older) {
        (0, _) => out.push_str("no messages yet.\n"),
        (_, 0) => {
            let _ = writeln!(out, "{total} message(s), oldest first.");
        }
        _ => {
            let _ = writeln!(
                out,
                "{} of {total} messages, oldest first ({older} older and {newer} newer not shown).",
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
    let next = page.next(args);
    if let Some(next) = &next {
        let _ = writeln!(
            out,
            "\n{older} older message(s): call {} with {}",
            GetSessionTranscript::NAME,
            Value::Object(next.clone())
        );
    }
    let shown = Transcript {
        cluster: t.cluster.into(),
        project: t.project.into(),
        session: id.into(),
        format: if markdown { "markdown" } else { "json" },
        total,
        omitted: older,
        next,
        messages: (!markdown).then_some(messages),
    };
    Output::new(false, out, &shown)
}
