//! `acp_get_session_metrics`: what a session's record says about its run (both APIs).

use super::render::{SessionArgs, failed};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::validate::parse_rfc3339;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

pub struct GetSessionMetrics;

#[derive(Serialize)]
struct Metrics {
    session: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    /// From start (or creation) to completion, or to now while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<i64>,
    /// What the original promised and no API reports.
    not_reported: [&'static str; 2],
}

impl Tool for GetSessionMetrics {
    const NAME: &'static str = "acp_get_session_metrics";
    const TITLE: &'static str = "Get session metrics";
    const DESCRIPTION: &'static str = "What a session's record says about its run: status, model, created, \
        started and completed times, and the duration. Read-only. Neither API reports token counts or tool \
        calls; the result says so rather than inventing them.";
    const EFFECT: Effect = Effect::READ;
    type Args = SessionArgs;

    fn output_schema() -> Value {
        let text = json!({"type": "string"});
        json!({
            "type": "object",
            "properties": {"session": text, "status": text, "model": text, "created_at": text, "started_at": text,
                           "completed_at": text, "duration_seconds": {"type": "integer"},
                           "not_reported": {"type": "array", "items": text}},
            "required": ["session", "status", "not_reported"],
        })
    }

    fn run(ctx: &mut Context, args: SessionArgs) -> Result<Output, ToolError> {
        let now = (ctx.now)();
        let id = args.session.as_str();
        ctx.with_api(args.project.as_deref(), |api, t| match api.get(t, id) {
            Err(e) => failed(t, id, format!("Failed to get session '{id}'"), e),
            Ok(s) => {
                let time = |v: &Option<String>| v.as_deref().and_then(parse_rfc3339);
                let from = time(&s.started_at).or(time(&s.created_at));
                let to = time(&s.completed_at).or(Some(now));
                let m = Metrics {
                    session: s.id,
                    status: s.status,
                    model: s.model,
                    created_at: s.created_at,
                    started_at: s.started_at,
                    completed_at: s.completed_at,
                    duration_seconds: from.zip(to).map(|(a, b)| b - a).filter(|d| *d >= 0),
                    not_reported: ["tokens", "tool_calls"],
                };
                let mut text =
                    format!("Metrics for session '{}' (project '{}'):\n  Status: {}\n", m.session, t.project, m.status);
                let shown = [
                    ("Model", &m.model),
                    ("Created", &m.created_at),
                    ("Started", &m.started_at),
                    ("Completed", &m.completed_at),
                ];
                for (label, value) in shown {
                    if let Some(v) = value {
                        let _ = writeln!(text, "  {label}: {v}");
                    }
                }
                if let Some(d) = m.duration_seconds {
                    let running = if m.completed_at.is_none() { " (so far)" } else { "" };
                    let _ = writeln!(text, "  Duration: {d} s{running}");
                }
                text.push_str("  Not reported by the API: token counts, tool calls.\n");
                Ok(Output::new(false, text, &m))
            }
        })?
    }
}
