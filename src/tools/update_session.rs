//! `acp_update_session`: change a session's display name or timeout, and say what each was and is.

use super::params::{DRY_RUN, Kind, PROJECT, Param, SESSION};
use super::render::{failed, request_schema, require};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{Op, OpKind, Phase, RequestPreview, Session, SessionPatch};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

crate::tool_args! {
    pub struct UpdateArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        display_name: Option<String> = Param::new(Kind::Label { max: 50 }, false, ""),
        timeout: Option<i64> = Param::new(Kind::Int { min: 60, max: 86_400 }, false, ""),
        dry_run: bool = DRY_RUN,
    }
}

pub struct UpdateSession;

/// One field: what it was, and what it is (or, on a dry run, would be).
#[derive(Serialize)]
struct Change {
    field: &'static str,
    before: Value,
    after: Value,
}

#[derive(Serialize)]
struct Update {
    cluster: String,
    project: String,
    session: String,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<RequestPreview>,
    changes: Vec<Change>,
    warnings: Vec<String>,
}

impl Tool for UpdateSession {
    const NAME: &'static str = "acp_update_session";
    const TITLE: &'static str = "Update session";
    const DESCRIPTION: &'static str = "Change a session's display_name and/or timeout; shows old and new values. \
        Needs api: ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = UpdateArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "project": {"type": "string"},
                "session": {"type": "string"},
                "dry_run": {"type": "boolean"},
                "request": "$0",
                "changes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "before": {"type": ["string", "integer", "null"]},
                            "after": {"type": ["string", "integer", "null"]}
                        },
                        "required": ["field", "before", "after"]
                    }
                },
                "warnings": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["cluster", "project", "session", "dry_run", "changes", "warnings"]
        }"#,
            vec![json!(request_schema())],
        )
    }

    fn run(ctx: &mut Context, args: UpdateArgs) -> Result<Output, ToolError> {
        let patch = SessionPatch { name: args.display_name, timeout: args.timeout, ..SessionPatch::default() };
        if patch.is_empty() {
            return Err(ToolError::invalid("No fields to update. Provide display_name or timeout."));
        }
        let id = args.session.as_str();
        ctx.with_api(args.project.as_deref(), |api, t| {
            require(api, t, OpKind::Update, &format!("Cannot update session '{id}'"))?;
            let mut u = Update {
                cluster: t.cluster.into(),
                project: t.project.into(),
                session: id.into(),
                dry_run: args.dry_run,
                request: None,
                changes: Vec::new(),
                warnings: Vec::new(),
            };
            if args.dry_run {
                let current = match api.get(t, id) {
                    Ok(s) => s,
                    Err(e) => return failed(t, id, format!("Could not look up session '{id}' for the dry run"), e),
                };
                u.changes = changes(&patch, &current, None);
                u.warnings.extend(keeps_timeout(&patch, &current));
                u.request = api.preview(t, &Op::Update { id, patch: &patch }).ok();
                return Ok(Output::new(false, update_text(&u), &u));
            }
            let (before, after) = match api.update(t, id, &patch) {
                Ok(pair) => pair,
                Err(e) => return failed(t, id, format!("Failed to update session '{id}'"), e),
            };
            u.changes = changes(&patch, &before, Some(&after));
            u.warnings.extend(keeps_timeout(&patch, &before));
            for c in u.changes.iter().filter(|c| asked(&patch, c.field) != c.after) {
                u.warnings.push(format!(
                    "The API reports {} = {} after the update, not the {} asked for.",
                    c.field,
                    shown(&c.after),
                    shown(&asked(&patch, c.field))
                ));
            }
            Ok(Output::new(false, update_text(&u), &u))
        })?
    }
}

/// A running session keeps the timeout it started with: a new one is stored, not applied to it.
fn keeps_timeout(patch: &SessionPatch, s: &Session) -> Option<String> {
    (patch.timeout.is_some() && s.phase() == Phase::Running).then(|| {
        format!(
            "Session '{}' is running, and a running session keeps the timeout it started with: the new timeout \
             is stored, not applied to this run.",
            s.id
        )
    })
}

fn asked(patch: &SessionPatch, field: &str) -> Value {
    match field {
        "display_name" => json!(patch.name),
        _ => json!(patch.timeout),
    }
}

/// The fields the patch sets: before, and after (as the API reports it, or as asked).
fn changes(patch: &SessionPatch, before: &Session, after: Option<&Session>) -> Vec<Change> {
    let mut out = Vec::new();
    if patch.name.is_some() {
        let after = after.map_or(asked(patch, "display_name"), |s| json!(s.display_name));
        out.push(Change { field: "display_name", before: json!(before.display_name), after });
    }
    if patch.timeout.is_some() {
        let after = after.map_or(asked(patch, "timeout"), |s| json!(s.timeout));
        out.push(Change { field: "timeout", before: json!(before.timeout), after });
    }
    out
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn update_text(u: &Update) -> String {
    let place = format!("in project '{}' (cluster '{}')", u.project, u.cluster);
    let mut out = match u.dry_run {
        true => format!("DRY RUN - nothing was changed.\n\nWould update session '{}' {place}:\n", u.session),
        false => format!("Updated session '{}' {place}:\n", u.session),
    };
    for c in &u.changes {
        let same = if c.before == c.after { " (unchanged)" } else { "" };
        let _ = writeln!(out, "  {}: {} → {}{same}", c.field, shown(&c.before), shown(&c.after));
    }
    if let Some(req) = &u.request {
        let _ = writeln!(out, "\nWould send:\n{} {}\n{}", req.method, req.url, req.body);
    }
    for w in &u.warnings {
        let _ = writeln!(out, "\nWARNING: {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_only_the_fields_asked_for() {
        let patch = SessionPatch { timeout: Some(900), ..SessionPatch::default() };
        let before = Session { timeout: Some(300), display_name: Some("a".into()), ..Session::default() };
        let c = changes(&patch, &before, None);
        assert_eq!((c.len(), c[0].field, &c[0].before, &c[0].after), (1, "timeout", &json!(300), &json!(900)));
        let after = Session { timeout: Some(300), ..before.clone() };
        assert_eq!(changes(&patch, &before, Some(&after))[0].after, json!(300), "as the API reports it");
        let running = Session { id: "s".into(), status: "Running".into(), ..before.clone() };
        assert!(keeps_timeout(&patch, &running).is_some_and(|w| w.contains("keeps the timeout it started with")));
        assert_eq!(keeps_timeout(&patch, &before), None, "not running");
        assert_eq!(keeps_timeout(&SessionPatch { name: Some("n".into()), ..SessionPatch::default() }, &running), None);
        assert_eq!(
            (shown(&json!(null)), shown(&json!("x")), shown(&json!(5))),
            ("(none)".into(), "'x'".into(), "5".into())
        );
    }
}
