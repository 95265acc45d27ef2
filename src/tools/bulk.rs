//! The one way to act on several sessions: the confirm rule, the limit, a dry run that looks
//! each target up, one outcome per target (one failure does not stop the others), progress,
//! and one summary. A bulk tool is its arguments plus an [`Action`], and the data its action
//! carries (`()` for delete, stop and restart; the label edit for the label tools).

use super::render::{not_found, require};
use super::{Context, MAX_BULK, Output, ToolError};
use crate::gateway::{ApiError, Backend, OpKind, Session, Target};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

/// What a bulk tool does to each target, and the words for it. `D` is the data every target
/// is acted on with, given to [`run`] once.
pub struct Action<D = ()> {
    /// The operation `act` performs: a backend that does not serve it is refused up front.
    pub op: OpKind,
    /// "delete": in "Would delete 2 of 3 session(s)".
    pub verb: &'static str,
    /// "deleted": the outcome of one target done, and in "nothing was deleted".
    pub done: &'static str,
    /// "would_delete": the outcome of one target in a dry run.
    pub would: &'static str,
    pub act: fn(&mut dyn Backend, &Target, &str, &D) -> Result<Acted, ApiError>,
    /// Phases (ours) in which there is nothing to do: the server's refusal naming one (or no
    /// phase yet) is `skipped`, a refusal naming any other is `failed`.
    pub already: &'static [&'static str],
    /// What such a session is, in "is not running (phase Stopped)".
    pub state: &'static str,
    /// What a dry run says of a target it looked up; `None`: only its status.
    pub preview: Option<fn(&Session, &D) -> Acted>,
}

/// What acting on one session did (or, from a preview, would do).
#[derive(Debug, Default)]
pub struct Acted {
    /// The session's status, where the API reports the session after the action.
    pub status: Option<String>,
    /// What changed, in words ("added team=x").
    pub note: Option<String>,
    /// Nothing needed changing: the outcome is `skipped`, and `note` says why.
    pub unchanged: bool,
}

impl Acted {
    pub fn status(status: Option<String>) -> Acted {
        Acted { status, ..Acted::default() }
    }
}

/// The outcome for one session.
#[derive(Debug, Serialize)]
pub struct Item {
    pub session: String,
    /// `done`, `would`, `skipped` (already in the state asked for), `not_found` or `failed`.
    pub outcome: &'static str,
    /// The session's status: as it is (dry run, skipped) or as the action left it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What changed or would change (label tools), or why nothing needed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Item {
    fn line<D>(&self, action: &Action<D>) -> String {
        let s = &self.session;
        let note = self.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
        match (self.outcome, &self.status, &self.error) {
            (o, Some(st), _) if o == action.would => format!("  - {s}: would be {} (status: {st}){note}", action.done),
            (o, None, _) if o == action.would => format!("  - {s}: would be {}{note}", action.done),
            (o, Some(st), _) if o == action.done => format!("  - {s}: {} (status: {st}){note}", action.done),
            (o, ..) if o == action.done => format!("  - {s}: {}{note}", action.done),
            ("skipped", _, Some(e)) => format!("  - {s}: skipped: {e}"),
            ("skipped", _, None) => format!("  - {s}: skipped{note}"),
            (_, _, Some(e)) => format!("  - {s}: {e}"),
            (o, ..) => format!("  - {s}: {o}"),
        }
    }
}

/// The schema of one [`Item`], for an action's outcome names.
pub fn item_schema<D>(action: &Action<D>) -> Value {
    crate::schema::with(
        r#"{
        "type": "object",
        "properties": {
            "session": {"type": "string"},
            "outcome": {"type": "string", "enum": ["$0", "$1", "skipped", "not_found", "failed"]},
            "status": {"type": "string"},
            "error": {"type": "string"},
            "note": {"type": "string"}
        },
        "required": ["session", "outcome"]
    }"#,
        vec![json!(action.done), json!(action.would)],
    )
}

pub fn report_schema<D>(action: &Action<D>) -> Value {
    crate::schema::with(
        r#"{
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "project": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "results": {"type": "array", "items": "$0"}
        },
        "required": ["cluster", "project", "dry_run", "results"]
    }"#,
        vec![json!(item_schema(action))],
    )
}

#[derive(Serialize)]
pub struct Report {
    pub cluster: String,
    pub project: String,
    pub dry_run: bool,
    pub results: Vec<Item>,
}

/// Act on one session (or, on a dry run, look it up); every outcome is a value.
pub fn one<D>(api: &mut dyn Backend, t: &Target, id: &str, dry_run: bool, action: &Action<D>, data: &D) -> Item {
    let result = match dry_run {
        true => api.get(t, id).map(|s| match action.preview {
            Some(preview) => Acted { status: Some(s.status.clone()), ..preview(&s, data) },
            None => Acted::status(Some(s.status)),
        }),
        false => (action.act)(api, t, id, data),
    };
    let item = |outcome, status, error, note| Item { session: id.to_string(), outcome, status, error, note };
    match result {
        Ok(a) if a.unchanged => item("skipped", a.status, None, a.note),
        Ok(a) if dry_run => item(action.would, a.status, None, a.note),
        Ok(a) => item(action.done, a.status, None, a.note),
        Err(e) if e.is_not_found() => item("not_found", None, Some(not_found(t, id)), None),
        // Already where it was asked to go: an answer. Any other refusal is a failure.
        Err(ApiError::WrongPhase { phase }) if action.already.contains(&phase) => {
            let why = format!("{} ({})", action.state, phase_words(phase));
            item("skipped", Some(phase.to_string()), Some(why), None)
        }
        Err(e) => item("failed", None, Some(e.describe(t.api)), None),
    }
}

/// "phase Stopped": our words for a phase of ours (one an action has nothing to do in; an
/// unset phase never is).
pub fn phase_words(phase: &str) -> String {
    format!("phase {}", capitalized(phase))
}

/// Run `action` with `data` on each of `ids` (already checked: 1 to [`MAX_BULK`] distinct
/// names).
pub fn run<D>(
    ctx: &mut Context,
    project: Option<&str>,
    ids: &[String],
    confirm: bool,
    dry_run: bool,
    action: &Action<D>,
    data: &D,
) -> Result<Output, ToolError> {
    let (report, text, failed) = acted(ctx, project, ids, confirm, dry_run, action, data)?;
    Ok(Output::new(failed, text, &report))
}

/// What [`run`] answers, before it becomes an [`Output`]: the report, its text, and whether
/// any target failed (not on a dry run).
pub fn acted<D>(
    ctx: &mut Context,
    project: Option<&str>,
    ids: &[String],
    confirm: bool,
    dry_run: bool,
    action: &Action<D>,
    data: &D,
) -> Result<(Report, String, bool), ToolError> {
    if !dry_run && !confirm {
        return Err(ToolError::invalid(format!(
            "confirm: bulk {} requires confirm=true. Use dry_run=true to preview first",
            action.verb
        )));
    }
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ToolError::invalid(format!("sessions: 1 to {MAX_BULK} per call, not {}", ids.len())));
    }
    let (cluster, project) = ctx.with_api(project, |api, t| {
        require(api, t, action.op, &format!("Cannot {} sessions", action.verb))?;
        Ok::<_, ToolError>((t.cluster.to_string(), t.project.to_string()))
    })??;
    let mut results = Vec::with_capacity(ids.len());
    let mut cancelled = false;
    for (i, id) in ids.iter().enumerate() {
        // Between two sessions: a call the client cancelled touches no more of them.
        if ctx.cancelled() {
            cancelled = true;
            break;
        }
        let item = ctx.with_api(Some(&project), |api, t| one(api, t, id, dry_run, action, data))?;
        ctx.report_progress(i + 1, ids.len(), format!("{id}: {}", item.outcome));
        results.push(item);
    }
    let expected = if dry_run { action.would } else { action.done };
    let done = results.iter().filter(|r| r.outcome == expected).count();
    // Skipped (already in that state) is an answer, not a failure.
    let failed = results.iter().filter(|r| r.outcome != expected && r.outcome != "skipped").count();
    let mut text = String::new();
    if dry_run {
        let _ = write!(text, "DRY RUN - nothing was {}.\n\n", action.done);
    }
    let verb = if dry_run { format!("Would {}", action.verb) } else { capitalized(action.done) };
    let _ =
        writeln!(text, "{verb} {done} of {} session(s) in project '{project}' (cluster '{cluster}'):", results.len());
    for r in &results {
        let _ = writeln!(text, "{}", r.line(action));
    }
    if cancelled {
        let left: Vec<&str> = ids[results.len()..].iter().map(String::as_str).collect();
        let _ = writeln!(text, "Cancelled by the client: nothing was sent for {}.", left.join(", "));
    }
    let report = Report { cluster, project, dry_run, results };
    Ok((report, text, (failed > 0 || cancelled) && !dry_run))
}

/// "deleted" → "Deleted".
pub(super) fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
