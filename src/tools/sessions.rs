//! Session tools: list, get, create, delete, bulk delete.

use super::params::Args;
use super::{Context, Output, ToolError};
use crate::gateway::{ApiError, NewSession, Session, SessionApi, Target};
use crate::validate::{parse_age, parse_rfc3339};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

/// Status filter values: the gateway's own, the phases it passes through, and the
/// original's `creating` (the gateway reports Creating as `pending`).
pub const STATUS_FILTERS: &[&str] = &["pending", "running", "completed", "failed", "stopping", "stopped", "creating"];

/// Options of the original's create that the gateway has no field for (contract §6).
const NOT_APPLIED_BY_GATEWAY: &[&str] = &["display_name", "interactive", "timeout"];

fn api_error(context: String) -> impl FnOnce(ApiError) -> ToolError {
    move |e| ToolError::Api(context, e, "")
}

/// One session as indented lines, for every tool that shows sessions.
fn describe(s: &Session, out: &mut String) {
    let _ = writeln!(out, "  Status: {}", s.status);
    let optional = [("Created", &s.created_at), ("Completed", &s.completed_at), ("Model", &s.model)];
    for (label, value) in optional {
        if let Some(v) = value {
            let _ = writeln!(out, "  {label}: {v}");
        }
    }
    match s.task.as_str() {
        "" => out.push_str("  Task: (none recorded by the gateway)\n"),
        t => {
            let cut = t.char_indices().nth(200).map_or(t.len(), |(i, _)| i);
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

fn not_found(t: &Target, id: &str) -> String {
    format!("Session '{id}' not found in project '{}' (cluster '{}').", t.project, t.cluster)
}

/// How a session call's failure is reported: "not found" is an answer, anything else an error
/// with `context`.
fn failed(t: &Target, id: &str, context: String, e: ApiError) -> Result<Output, ToolError> {
    match e.is_not_found() {
        true => Ok(Output::failure(not_found(t, id))),
        false => Err(ToolError::Api(context, e, "")),
    }
}

// ---- list ----------------------------------------------------------------------------

#[derive(Serialize)]
struct Listing {
    cluster: String,
    project: String,
    sessions: Vec<Session>,
    /// How many the gateway returned before filtering.
    returned_by_gateway: usize,
    /// The gateway returned its maximum; older sessions may exist that it cannot list.
    may_have_more: bool,
    filters: serde_json::Map<String, serde_json::Value>,
}

impl Listing {
    fn text(&self, page_limit: usize) -> String {
        let mut out = format!(
            "Found {} session(s) in project '{}' (cluster '{}')\n",
            self.sessions.len(),
            self.project,
            self.cluster
        );
        if !self.filters.is_empty() {
            let _ = writeln!(out, "Filters applied: {}", serde_json::Value::Object(self.filters.clone()));
        }
        if self.may_have_more {
            let _ = writeln!(
                out,
                "Note: the gateway returned {page_limit} sessions, the most it returns; older sessions may \
                 exist that this gateway cannot list."
            );
        }
        if !self.sessions.is_empty() {
            out.push_str("\nSessions:\n");
        }
        for s in &self.sessions {
            let _ = writeln!(out, "- {}", s.id);
            describe(s, &mut out);
        }
        out
    }
}

pub fn list(ctx: &mut Context, args: &Args) -> Result<Output, ToolError> {
    let now = (ctx.now)();
    let (listing, page_limit) = ctx.with_api(args.str("project"), |api, t| {
        let list = api.list(t).map_err(api_error(format!("Failed to list sessions in project '{}'", t.project)))?;
        let mut filters = serde_json::Map::new();
        for key in ["status", "older_than", "sort_by", "limit"] {
            if let Some(v) = args.str(key).map(Into::into).or_else(|| args.int(key).map(Into::into)) {
                filters.insert(key.into(), v);
            }
        }
        let listing = Listing {
            cluster: t.cluster.to_string(),
            project: t.project.to_string(),
            returned_by_gateway: list.sessions.len(),
            sessions: filter_sessions(list.sessions, args, now),
            may_have_more: list.maybe_more,
            filters,
        };
        Ok::<_, ToolError>((listing, list.page_limit))
    })??;
    Ok(Output::new(false, listing.text(page_limit), &listing))
}

/// Apply the list filters client-side, in the original's order: status, age, sort, limit.
fn filter_sessions(mut sessions: Vec<Session>, args: &Args, now: i64) -> Vec<Session> {
    if let Some(status) = args.str("status") {
        let want = if status == "creating" { "pending" } else { status };
        sessions.retain(|s| s.status.eq_ignore_ascii_case(want));
    }
    if let Some(age) = args.str("older_than").and_then(|a| parse_age(a).ok()) {
        let cutoff = now - age as i64;
        sessions.retain(|s| s.created_at.as_deref().and_then(parse_rfc3339).is_some_and(|c| c < cutoff));
    }
    let time = |v: &Option<String>| v.as_deref().and_then(parse_rfc3339);
    match args.str("sort_by") {
        Some("stopped") => sessions.sort_by_key(|s| std::cmp::Reverse(time(&s.completed_at))),
        Some("name") => sessions.sort_by(|a, b| a.id.cmp(&b.id)),
        Some(_) => sessions.sort_by_key(|s| std::cmp::Reverse(time(&s.created_at))),
        None => {}
    }
    if let Some(limit) = args.int("limit") {
        sessions.truncate(limit as usize);
    }
    sessions
}

// ---- get -----------------------------------------------------------------------------

#[derive(Serialize)]
struct Shown {
    cluster: String,
    project: String,
    session: Session,
}

pub fn get(ctx: &mut Context, args: &Args) -> Result<Output, ToolError> {
    let id = args.str("session").unwrap_or_default();
    ctx.with_api(args.str("project"), |api, t| match api.get(t, id) {
        Ok(session) => {
            let mut text = format!("Session '{}' (project '{}', cluster '{}')\n", session.id, t.project, t.cluster);
            describe(&session, &mut text);
            let shown = Shown { cluster: t.cluster.into(), project: t.project.into(), session };
            Ok(Output::new(false, text, &shown))
        }
        Err(e) => failed(t, id, format!("Failed to get session '{id}'"), e),
    })?
}

// ---- create --------------------------------------------------------------------------

#[derive(Serialize)]
struct Creation {
    cluster: String,
    project: String,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<crate::gateway::RequestPreview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
    /// What the gateway reports after the create (read back).
    #[serde(skip_serializing_if = "Option::is_none")]
    stored: Option<Session>,
    prompt_stored: bool,
    warnings: Vec<String>,
    not_applied: Vec<&'static str>,
}

pub fn create(ctx: &mut Context, args: &Args) -> Result<Output, ToolError> {
    let new = NewSession {
        task: args.str("initial_prompt").unwrap_or_default().to_string(),
        model: args.str("model").map(str::to_string),
        repos: args.repos("repos"),
    };
    let not_applied: Vec<&str> = NOT_APPLIED_BY_GATEWAY.iter().copied().filter(|k| args.has(k)).collect();
    let dry_run = args.flag("dry_run");
    ctx.with_api(args.str("project"), |api, t| {
        let mut c = Creation {
            cluster: t.cluster.into(),
            project: t.project.into(),
            dry_run,
            request: None,
            session: None,
            stored: None,
            prompt_stored: false,
            warnings: Vec::new(),
            not_applied,
        };
        if dry_run {
            c.request = Some(api.preview_create(t, &new));
            return Ok(Output::new(false, creation_text(&c), &c));
        }
        let id = api.create(t, &new).map_err(|e| {
            let maybe_created = matches!(e, ApiError::Status { status: 500.., .. } | ApiError::Transport { .. });
            let hint = if maybe_created {
                " A session may have been created anyway (the gateway can fail after the backend created it): \
                 check with acp_list_sessions before creating again."
            } else {
                ""
            };
            ToolError::Api(format!("Failed to create session in project '{}'", t.project), e, hint)
        })?;
        c.session = Some(id.clone());
        check_what_was_stored(api, t, &new, &id, &mut c);
        Ok(Output::new(!c.prompt_stored, creation_text(&c), &c))
    })?
}

/// Read the new session back and say plainly what the gateway did not keep.
fn check_what_was_stored(api: &mut dyn SessionApi, t: &Target, new: &NewSession, id: &str, c: &mut Creation) {
    let stored = match api.get(t, id) {
        Ok(s) => s,
        Err(e) => {
            c.warnings.push(format!(
                "The session was created, but reading it back failed, so it is unknown whether the \
                 prompt was stored: {e}"
            ));
            c.prompt_stored = true; // unknown is not a known failure; the warning says it
            return;
        }
    };
    c.prompt_stored = stored.task == new.task;
    if stored.task.is_empty() {
        c.warnings.push(format!(
            "The gateway did NOT store the prompt: session '{id}' exists but has no task, so it will not \
             do what was asked (this gateway forwards `task` under a name its backend ignores). Do not \
             retry: every retry creates another session without a prompt. Delete it with \
             acp_delete_session(session=\"{id}\") if it is not wanted."
        ));
    } else if !c.prompt_stored {
        c.warnings.push("The gateway stored a different prompt than the one sent.".into());
    }
    if let Some(model) = &new.model {
        if stored.model.as_deref() != Some(model.as_str()) {
            let got = stored.model.as_deref().map(|m| format!("'{m}'")).unwrap_or_else(|| "no model".into());
            c.warnings.push(format!(
                "The model '{model}' was not stored: the gateway reports {got}, so the platform's default model is used."
            ));
        }
    }
    c.stored = Some(stored);
}

fn creation_text(c: &Creation) -> String {
    let mut out = String::new();
    if let Some(req) = &c.request {
        out.push_str("DRY RUN - nothing was sent.\n\nWould send:\n");
        let _ = writeln!(out, "{} {}", req.method, req.url);
        for (k, v) in &req.headers {
            let _ = writeln!(out, "{k}: {v}");
        }
        let _ = writeln!(out, "\n{}", serde_json::to_string_pretty(&req.body).unwrap_or_default());
    }
    if let Some(id) = &c.session {
        let _ = writeln!(out, "Session created: {id}\nProject: {} (cluster '{}')", c.project, c.cluster);
    }
    for w in &c.warnings {
        let _ = writeln!(out, "\nWARNING: {w}");
    }
    if !c.not_applied.is_empty() {
        let _ = writeln!(
            out,
            "\nNot applied: {} (the public-api gateway has no field for them, so they were not sent).",
            c.not_applied.join(", ")
        );
    }
    if let Some(id) = &c.session {
        let _ = writeln!(out, "\nCheck status:\n  acp_get_session(project=\"{}\", session=\"{id}\")", c.project);
    }
    out
}

// ---- delete --------------------------------------------------------------------------

#[derive(Serialize)]
struct Deletion {
    session: String,
    /// deleted, would_delete, not_found or failed
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Deletion {
    fn line(&self) -> String {
        match (self.outcome, &self.status, &self.error) {
            ("deleted", ..) => format!("  - {}: deleted", self.session),
            ("would_delete", Some(st), _) => format!("  - {}: would be deleted (status: {st})", self.session),
            (_, _, Some(e)) => format!("  - {}: {e}", self.session),
            (o, ..) => format!("  - {}: {o}", self.session),
        }
    }
}

/// Delete (or, on a dry run, look up) one session; every outcome is a value, not an early return.
fn delete_one(api: &mut dyn SessionApi, t: &Target, id: &str, dry_run: bool) -> Deletion {
    let result = if dry_run { api.get(t, id).map(|s| Some(s.status)) } else { api.delete(t, id).map(|_| None) };
    let (outcome, status, error) = match result {
        Ok(status) if dry_run => ("would_delete", status, None),
        Ok(_) => ("deleted", None, None),
        Err(e) if e.is_not_found() => ("not_found", None, Some(not_found(t, id))),
        Err(e) => ("failed", None, Some(e.to_string())),
    };
    Deletion { session: id.to_string(), outcome, status, error }
}

pub fn delete(ctx: &mut Context, args: &Args) -> Result<Output, ToolError> {
    let id = args.str("session").unwrap_or_default();
    let dry_run = args.flag("dry_run");
    ctx.with_api(args.str("project"), |api, t| {
        if dry_run {
            return match api.get(t, id) {
                Ok(s) => {
                    let mut text = format!(
                        "DRY RUN - nothing was deleted.\n\nWould delete session '{id}' in project '{}' (cluster '{}'):\n",
                        t.project, t.cluster
                    );
                    describe(&s, &mut text);
                    let d = Deletion { session: id.into(), outcome: "would_delete", status: Some(s.status), error: None };
                    Ok(Output::new(false, text, &d))
                }
                Err(e) => failed(t, id, format!("Could not look up session '{id}' for the dry run"), e),
            };
        }
        match api.delete(t, id) {
            Ok(()) => {
                let text = format!("Deleted session '{id}' from project '{}' (cluster '{}').", t.project, t.cluster);
                Ok(Output::new(false, text, &Deletion { session: id.into(), outcome: "deleted", status: None, error: None }))
            }
            Err(e) => failed(t, id, format!("Failed to delete session '{id}'"), e),
        }
    })?
}

// ---- bulk delete ---------------------------------------------------------------------

#[derive(Serialize)]
struct BulkDeletion {
    cluster: String,
    project: String,
    dry_run: bool,
    results: Vec<Deletion>,
}

pub fn bulk_delete(ctx: &mut Context, args: &Args) -> Result<Output, ToolError> {
    let dry_run = args.flag("dry_run");
    if !dry_run && !args.flag("confirm") {
        return Err(ToolError::Invalid(
            "confirm: bulk delete requires confirm=true. Use dry_run=true to preview first".into(),
        ));
    }
    let ids = args.names("sessions");
    let project = args.str("project");
    let (cluster, project) = ctx.with_api(project, |_, t| (t.cluster.to_string(), t.project.to_string()))?;
    let mut results = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let d = ctx.with_api(Some(&project), |api, t| delete_one(api, t, id, dry_run))?;
        ctx.report_progress(i + 1, ids.len(), format!("{id}: {}", d.outcome));
        results.push(d);
    }
    let expected = if dry_run { "would_delete" } else { "deleted" };
    let failed = results.iter().filter(|r| r.outcome != expected).count();
    let mut text = String::new();
    if dry_run {
        text.push_str("DRY RUN - nothing was deleted.\n\n");
    }
    let verb = if dry_run { "Would delete" } else { "Deleted" };
    let done = results.len() - failed;
    let _ =
        writeln!(text, "{verb} {done} of {} session(s) in project '{project}' (cluster '{cluster}'):", results.len());
    for r in &results {
        let _ = writeln!(text, "{}", r.line());
    }
    let report = BulkDeletion { cluster, project, dry_run, results };
    Ok(Output::new(failed > 0 && !dry_run, text, &report))
}

// ---- output schemas (the structured content of each tool) -----------------------------

fn session_schema() -> Value {
    let text = json!({"type": "string"});
    json!({
        "type": "object",
        "properties": {"id": text, "status": text, "task": text, "model": text, "createdAt": text,
                       "completedAt": text, "result": text, "error": text},
        "required": ["id", "status", "task"],
    })
}

pub fn listing_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "project": {"type": "string"},
            "sessions": {"type": "array", "items": session_schema()},
            "returned_by_gateway": {"type": "integer", "description": "sessions the gateway returned before filtering"},
            "may_have_more": {"type": "boolean", "description": "the gateway returned its maximum; older sessions may exist"},
            "filters": {"type": "object"},
        },
        "required": ["cluster", "project", "sessions", "returned_by_gateway", "may_have_more", "filters"],
    })
}

pub fn shown_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"cluster": {"type": "string"}, "project": {"type": "string"}, "session": session_schema()},
        "required": ["cluster", "project", "session"],
    })
}

pub fn creation_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "project": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "request": {
                "type": "object",
                "description": "dry run only: the exact request that would be sent (token masked)",
                "properties": {
                    "method": {"type": "string"},
                    "url": {"type": "string"},
                    "headers": {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
                    "body": {"type": "object"},
                },
                "required": ["method", "url", "headers", "body"],
            },
            "session": {"type": "string", "description": "the created session's ID"},
            "stored": session_schema(),
            "prompt_stored": {"type": "boolean", "description": "the gateway kept the prompt (false: the session has no task)"},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "not_applied": {"type": "array", "items": {"type": "string"}, "description": "options the gateway cannot apply"},
        },
        "required": ["cluster", "project", "dry_run", "prompt_stored", "warnings", "not_applied"],
    })
}

pub fn deletion_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "session": {"type": "string"},
            "outcome": {"type": "string", "enum": ["deleted", "would_delete", "not_found", "failed"]},
            "status": {"type": "string"},
            "error": {"type": "string"},
        },
        "required": ["session", "outcome"],
    })
}

pub fn bulk_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "project": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "results": {"type": "array", "items": deletion_schema()},
        },
        "required": ["cluster", "project", "dry_run", "results"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::params::{self, Kind, Param};
    use serde_json::json;

    fn session(id: &str, status: &str, created: &str, completed: Option<&str>) -> Session {
        Session {
            id: id.into(),
            status: status.into(),
            task: String::new(),
            model: None,
            created_at: Some(created.into()),
            completed_at: completed.map(Into::into),
            result: None,
            error: None,
        }
    }

    fn args(v: serde_json::Value) -> Args {
        const P: &[Param] = &[
            Param { name: "status", kind: Kind::Enum(STATUS_FILTERS), required: false, description: "" },
            Param { name: "older_than", kind: Kind::Age, required: false, description: "" },
            Param {
                name: "sort_by",
                kind: Kind::Enum(&["created", "stopped", "name"]),
                required: false,
                description: "",
            },
            Param { name: "limit", kind: Kind::Int { min: 1, max: 1000 }, required: false, description: "" },
        ];
        params::parse(P, &v).unwrap()
    }

    fn ids(v: &[Session]) -> Vec<&str> {
        v.iter().map(|s| s.id.as_str()).collect()
    }

    fn sample() -> Vec<Session> {
        vec![
            session("b", "running", "2026-11-20T00:00:00Z", None),
            session("a", "Stopped", "2026-11-10T00:00:00Z", Some("2026-11-24T00:00:00Z")),
            session("c", "pending", "2026-11-24T00:00:00Z", None),
        ]
    }

    const NOW: i64 = 1_795_564_800; // 2026-11-25T00:00:00Z

    #[test]
    fn status_filter_matches_passed_through_phases_and_maps_creating() {
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"status": "stopped"})), NOW)), ["a"]);
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"status": "creating"})), NOW)), ["c"]);
    }

    #[test]
    fn older_than_keeps_only_older_sessions() {
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"older_than": "3d"})), NOW)), ["b", "a"]);
    }

    #[test]
    fn sorting_and_limit() {
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"sort_by": "created"})), NOW)), ["c", "b", "a"]);
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"sort_by": "name", "limit": 2})), NOW)), ["a", "b"]);
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"sort_by": "stopped"})), NOW))[0], "a");
    }
}
