//! `acp_get_session_metrics`: what a session's record says about its run (both APIs), and
//! how many messages it has where the API serves them.

use super::render::{SessionArgs, failed};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{OpKind, Session};
use crate::validate::parse_rfc3339;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

pub struct GetSessionMetrics;

#[derive(Serialize)]
struct Metrics {
    session: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    /// From start (or creation) to completion, or to now while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restart_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_count: Option<usize>,
    /// Why the message count is missing although the API serves messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    messages_error: Option<String>,
    /// What the original promised, or this API has, and this call could not report.
    not_reported: Vec<&'static str>,
}

impl Tool for GetSessionMetrics {
    const NAME: &'static str = "acp_get_session_metrics";
    const TITLE: &'static str = "Get session metrics";
    const DESCRIPTION: &'static str = "A session's status, model, times and duration (on ambient also temperature, \
        restarts, message count). No token counts.";
    const EFFECT: Effect = Effect::READ;
    type Args = SessionArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "session": {"type": "string"},
                "status": {"type": "string"},
                "model": {"type": "string"},
                "temperature": {"type": "number"},
                "max_tokens": {"type": "integer"},
                "created_at": {"type": "string"},
                "started_at": {"type": "string"},
                "completed_at": {"type": "string"},
                "duration_seconds": {"type": "integer"},
                "restart_count": {"type": "integer"},
                "message_count": {"type": "integer"},
                "messages_error": {"type": "string"},
                "not_reported": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["session", "status", "not_reported"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, args: SessionArgs) -> Result<Output, ToolError> {
        let now = (ctx.now)();
        let id = args.session.as_str();
        ctx.with_api(args.project.as_deref(), |api, t| {
            let s = match api.get(t, id) {
                Ok(s) => s,
                Err(e) => return failed(t, id, format!("Failed to get session '{id}'"), e),
            };
            // Only where the API serves messages: elsewhere the count is simply not reported.
            let messages = api.capabilities().serves(OpKind::Messages).then(|| api.messages(t, id));
            let mut m = metrics(s, now);
            match messages {
                Some(Ok(list)) => m.message_count = Some(list.total),
                Some(Err(e)) => m.messages_error = Some(e.describe(t.api)),
                None => {}
            }
            if m.message_count.is_none() {
                m.not_reported.push("message_count");
            }
            Ok(Output::new(false, metrics_text(&m, t.project), &m))
        })?
    }
}

fn metrics(s: Session, now: i64) -> Metrics {
    let time = |v: &Option<String>| v.as_deref().and_then(parse_rfc3339);
    let from = time(&s.started_at).or(time(&s.created_at));
    let to = time(&s.completed_at).or(Some(now));
    let mut not_reported = vec!["tokens", "tool_calls"];
    if s.restart_count.is_none() {
        not_reported.push("restart_count");
    }
    Metrics {
        session: s.id,
        status: s.status,
        model: s.model,
        temperature: s.temperature,
        max_tokens: s.max_tokens,
        created_at: s.created_at,
        started_at: s.started_at,
        completed_at: s.completed_at,
        duration_seconds: from.zip(to).map(|(a, b)| b - a).filter(|d| *d >= 0),
        restart_count: s.restart_count,
        message_count: None,
        messages_error: None,
        not_reported,
    }
}

fn metrics_text(m: &Metrics, project: &str) -> String {
    let mut text = format!("Metrics for session '{}' (project '{project}'):\n  Status: {}\n", m.session, m.status);
    let shown =
        [("Model", &m.model), ("Created", &m.created_at), ("Started", &m.started_at), ("Completed", &m.completed_at)];
    for (label, value) in shown {
        if let Some(v) = value {
            let _ = writeln!(text, "  {label}: {v}");
        }
    }
    if let Some(d) = m.duration_seconds {
        let running = if m.completed_at.is_none() { " (so far)" } else { "" };
        let _ = writeln!(text, "  Duration: {d} s{running}");
    }
    if let Some(v) = m.temperature {
        let _ = writeln!(text, "  Temperature: {v}");
    }
    let counts =
        [("Max tokens", m.max_tokens), ("Restarts", m.restart_count), ("Messages", m.message_count.map(|n| n as i64))];
    for (label, value) in counts {
        if let Some(v) = value {
            let _ = writeln!(text, "  {label}: {v}");
        }
    }
    if let Some(e) = &m.messages_error {
        let _ = writeln!(text, "  Messages: could not be read ({e})");
    }
    let words: Vec<&str> = m
        .not_reported
        .iter()
        .map(|n| match *n {
            "tokens" => "token counts",
            "tool_calls" => "tool calls",
            "restart_count" => "restart count",
            _ => "message count",
        })
        .collect();
    let _ = writeln!(text, "  Not reported by the API: {}.", words.join(", "));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_record_lacks_is_named_not_invented() {
        let s = Session {
            id: "s".into(),
            status: "completed".into(),
            started_at: Some("2026-11-01T10:00:00Z".into()),
            completed_at: Some("2026-11-01T10:30:00Z".into()),
            ..Session::default()
        };
        let mut m = metrics(s, 0);
        assert_eq!(
            (m.duration_seconds, &m.not_reported[..]),
            (Some(1800), &["tokens", "tool_calls", "restart_count"][..])
        );
        m.messages_error = Some("boom".into());
        m.not_reported.push("message_count");
        let text = metrics_text(&m, "p");
        assert!(text.contains("Messages: could not be read (boom)"), "{text}");
        assert!(
            text.ends_with("Not reported by the API: token counts, tool calls, restart count, message count.\n"),
            "{text}"
        );
    }
}
