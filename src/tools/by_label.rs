//! What the by-label bulk tools share: find the sessions that have every given label (matched
//! here), and hand at most [`MAX_BULK`] of them to [`bulk`]; more is refused, so that a label
//! that matches too much never touches anything.

use super::bulk::{self, Action};
use super::labels::{self, Labels};
use super::render::require;
use super::{Context, MAX_BULK, Output, ToolError};
use serde::Serialize;
use serde_json::{Value, json};

/// The most matched ids a refusal lists.
const MAX_LISTED: usize = 20;

#[derive(Serialize)]
struct Report {
    cluster: String,
    project: String,
    dry_run: bool,
    labels: Labels,
    searched: usize,
    may_have_more: bool,
    match_count: usize,
    /// The matched ids, at most [`MAX_LISTED`].
    matched: Vec<String>,
    results: Vec<bulk::Item>,
}

pub fn report_schema(action: &Action) -> Value {
    crate::schema::with(
        r#"{
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "project": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "searched": {"type": "integer", "description": "sessions searched: as many as the API listed"},
            "may_have_more": {"type": "boolean", "description": "older sessions exist that were not searched"},
            "match_count": {"type": "integer"},
            "matched": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": "$0",
                "description": "IDs of the matching sessions (the first 20)"
            },
            "results": {
                "type": "array",
                "items": "$1",
                "description": "one per session acted on; empty when none or too many matched"
            }
        },
        "required": [
            "cluster", "project", "dry_run", "labels", "searched", "may_have_more",
            "match_count", "matched", "results"
        ]
    }"#,
        vec![json!(MAX_LISTED), json!(bulk::item_schema(action))],
    )
}

/// Confirm first (nothing is sent without it, unless a dry run), then search, then act.
pub fn run(
    ctx: &mut Context,
    project: Option<&str>,
    want: &Labels,
    confirm: bool,
    dry_run: bool,
    action: &Action,
) -> Result<Output, ToolError> {
    if !dry_run && !confirm {
        return Err(ToolError::invalid(format!(
            "confirm: bulk {} by label requires confirm=true. Use dry_run=true to preview first",
            action.verb
        )));
    }
    let (cluster, project, found) = ctx.with_api(project, |api, t| {
        let context = format!("Cannot {} sessions by label", action.verb);
        labels::require_labels(api, t, &context)?;
        require(api, t, action.op, &context)?;
        let found = labels::search(api, t, want)?;
        Ok::<_, ToolError>((t.cluster.to_string(), t.project.to_string(), found))
    })??;
    let ids: Vec<String> = found.matched.iter().map(|s| s.id.clone()).collect();
    let filter = format!("Label filter: {}\n{}\n", labels::text_of(want), found.line());
    let mut report = Report {
        cluster,
        project,
        dry_run,
        labels: want.clone(),
        searched: found.searched,
        may_have_more: found.maybe_more,
        match_count: ids.len(),
        matched: ids.iter().take(MAX_LISTED).cloned().collect(),
        results: vec![],
    };
    let place = format!("in project '{}' (cluster '{}')", report.project, report.cluster);
    if ids.is_empty() {
        let text = format!(
            "No sessions {place} match labels {}; nothing was {}.\n{filter}",
            labels::text_of(want),
            action.done
        );
        return Ok(Output::new(false, text, &report));
    }
    if ids.len() > MAX_BULK {
        let more = ids.len().saturating_sub(MAX_LISTED);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let text = format!(
            "Refused: {} sessions {place} match labels {}, more than the limit of {MAX_BULK} per call; nothing \
             was {}. Narrow the labels (add one only the intended sessions have) so that at most {MAX_BULK} match, \
             or act on them by ID with acp_bulk_{}_sessions.\nMatched: {}{more}\n{filter}",
            ids.len(),
            labels::text_of(want),
            action.done,
            action.verb,
            report.matched.join(", "),
        );
        return Ok(Output::refusal(text, &report));
    }
    let project = report.project.clone();
    let (done, text, failed) = bulk::acted(ctx, Some(&project), &ids, confirm, dry_run, action, &())?;
    report.results = done.results;
    Ok(Output::new(failed, format!("{text}{filter}"), &report))
}
