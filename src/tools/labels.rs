//! What the label tools share: the parameters, the report of what a label edit changed (from
//! the labels before and after), matching sessions by labels (here, exactly; never by a server
//! filter, which the public-api gateway ignores), and the edit of one session.

use super::bulk::{Acted, Action};
use super::params::{Kind, Param};
use super::render::{failed, require};
use super::{Context, Output, ToolError};
use crate::gateway::{ApiError, Backend, LabelEdit, OpKind, Session, SessionPatch, Target};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

pub type Labels = BTreeMap<String, String>;

/// The original's parameter, accepted and ignored: sessions are the only resource with labels.
pub const RESOURCE_TYPE: Param = Param::new(Kind::Enum(&["agenticsession"]), false, "");
/// Labels to set: 1 to 20 keys; an existing key gets the new value, other labels are kept.
pub const LABELS_TO_SET: Param = Param::new(Kind::Labels, true, "");
/// Label keys to remove: 1 to 20 distinct keys.
pub const KEYS_TO_REMOVE: Param = Param::new(Kind::LabelKeys, true, "");
/// Labels a session must all have, with exactly these values.
pub const LABELS_TO_MATCH: Param = Param::new(Kind::Labels, true, "");

/// Said with every label change sent, or previewed: the APIs have no per-key update.
pub const WHOLE_MAP: &str = "Note: the whole label map is written back, so a label change that another client \
     makes at the same moment can be lost.";

/// A label whose value changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    pub from: String,
    pub to: String,
}

/// What a label edit changed, or would change, on one session.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct LabelChanges {
    pub added: Labels,
    pub changed: BTreeMap<String, Changed>,
    /// Removed labels, with the value each had.
    pub removed: Labels,
    /// Labels asked for that the session already had with that value.
    pub unchanged: Vec<String>,
    /// Keys asked to be removed that the session did not have.
    pub absent: Vec<String>,
}

impl LabelChanges {
    /// Every difference between `before` and `after`, and which keys of `edit` needed nothing.
    pub fn between(before: &Labels, after: &Labels, edit: &LabelEdit) -> LabelChanges {
        let mut c = LabelChanges::default();
        for (k, v) in after {
            match before.get(k) {
                None => drop(c.added.insert(k.clone(), v.clone())),
                Some(old) if old != v => {
                    drop(c.changed.insert(k.clone(), Changed { from: old.clone(), to: v.clone() }))
                }
                Some(_) => {}
            }
        }
        c.removed =
            before.iter().filter(|(k, _)| !after.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        c.unchanged = edit
            .set
            .iter()
            .filter(|(k, v)| before.get(*k) == Some(v) && after.get(*k) == Some(v))
            .map(|(k, _)| k.clone())
            .collect();
        c.absent = edit.remove.iter().filter(|k| !before.contains_key(*k)).cloned().collect();
        c
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    /// "added team=x; changed env: dev → prod; removed old=y; already set: a; not present: b",
    /// or with `would`, "add team=x; …".
    pub fn summary(&self, would: bool) -> String {
        let pairs = |m: &Labels| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
        let verb = |done: &'static str, will: &'static str| if would { will } else { done };
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            parts.push(format!("{} {}", verb("added", "add"), pairs(&self.added)));
        }
        if !self.changed.is_empty() {
            let each: Vec<String> = self.changed.iter().map(|(k, c)| format!("{k}: {} → {}", c.from, c.to)).collect();
            parts.push(format!("{} {}", verb("changed", "change"), each.join(", ")));
        }
        if !self.removed.is_empty() {
            parts.push(format!("{} {}", verb("removed", "remove"), pairs(&self.removed)));
        }
        if !self.unchanged.is_empty() {
            parts.push(format!("already set: {}", self.unchanged.join(", ")));
        }
        if !self.absent.is_empty() {
            parts.push(format!("not present: {}", self.absent.join(", ")));
        }
        parts.join("; ")
    }
}

/// "remove" for an edit that only removes, else "change": in "nothing to …".
fn nothing_to(edit: &LabelEdit) -> &'static str {
    if edit.set.is_empty() { "remove" } else { "change" }
}

/// A label map as the result shows it: `{"team":"x"}`.
pub fn text_of(labels: &Labels) -> String {
    serde_json::to_string(labels).unwrap_or_default()
}

/// The session has every label of `want`, with exactly that value.
pub fn matches(s: &Session, want: &Labels) -> bool {
    want.iter().all(|(k, v)| s.labels.get(k) == Some(v))
}

/// Sessions of the target project that match, out of how many were searched.
#[derive(Debug)]
pub struct Search {
    pub matched: Vec<Session>,
    pub searched: usize,
    /// Older sessions exist that the list did not return, so were not searched.
    pub maybe_more: bool,
}

impl Search {
    /// "Searched 5 session(s)." and, if the list did not reach them all, that older ones exist.
    pub fn line(&self) -> String {
        match self.maybe_more {
            false => format!("Searched all {} session(s) of the project.", self.searched),
            true => format!(
                "Searched only the {} newest session(s): older sessions exist that were not searched, and may match.",
                self.searched
            ),
        }
    }
}

/// Refuse, before anything is sent, a search by label on an API whose sessions have no labels.
pub fn require_labels(api: &dyn Backend, t: &Target, context: &str) -> Result<(), ToolError> {
    let caps = api.capabilities();
    match caps.labels {
        true => Ok(()),
        false => Err(ToolError::Api(context.into(), ApiError::NoLabels { api: caps.noun }, "", t.api)),
    }
}

/// List the project's sessions and keep those with every label of `want` (checked here).
pub fn search(api: &mut dyn Backend, t: &Target, want: &Labels) -> Result<Search, ToolError> {
    require_labels(api, t, "Cannot search sessions by label")?;
    let list = api
        .list(t)
        .map_err(|e| ToolError::Api(format!("Failed to list sessions in project '{}'", t.project), e, "", t.api))?;
    let searched = list.sessions.len();
    let matched = list.sessions.into_iter().filter(|s| matches(s, want)).collect();
    Ok(Search { matched, searched, maybe_more: list.maybe_more })
}

/// The edit as a bulk action does it: one update; what changed is the note.
pub fn edit_one(api: &mut dyn Backend, t: &Target, id: &str, edit: &LabelEdit) -> Result<Acted, ApiError> {
    let (before, after) = api.update(t, id, &SessionPatch { labels: edit.clone(), ..SessionPatch::default() })?;
    Ok(Acted { status: Some(after.status.clone()), ..acted(&before.labels, &after.labels, edit, false) })
}

/// What the edit would do to the session as it was read, for a bulk dry run.
pub fn preview(s: &Session, edit: &LabelEdit) -> Acted {
    acted(&s.labels, &edit.apply(&s.labels), edit, true)
}

fn acted(before: &Labels, after: &Labels, edit: &LabelEdit, would: bool) -> Acted {
    let c = LabelChanges::between(before, after, edit);
    match c.is_empty() {
        true => Acted {
            status: None,
            note: Some(format!("nothing to {} ({})", nothing_to(edit), c.summary(false))),
            unchanged: true,
        },
        false => Acted { status: None, note: Some(c.summary(would)), unchanged: false },
    }
}

/// The result of labelling or unlabelling one session.
#[derive(Serialize)]
struct EditReport {
    cluster: String,
    project: String,
    session: String,
    dry_run: bool,
    /// The action's done or would word, or `skipped` when no label needed changing.
    outcome: &'static str,
    #[serde(flatten)]
    changes: LabelChanges,
    /// The session's labels after the edit (on a dry run: as they would be).
    labels: Labels,
}

pub fn edit_schema(action: &Action<LabelEdit>) -> Value {
    crate::schema::with(
        r#"{
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "project": {"type": "string"},
            "session": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "outcome": {
                "type": "string",
                "enum": ["$0", "$1", "skipped"],
                "description": "skipped: no label needed changing, and no change was sent"
            },
            "added": {"type": "object", "additionalProperties": {"type": "string"}},
            "removed": {"type": "object", "additionalProperties": {"type": "string"}},
            "changed": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                    "required": ["from", "to"]
                }
            },
            "unchanged": {"type": "array", "items": {"type": "string"}},
            "absent": {"type": "array", "items": {"type": "string"}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}
        },
        "required": [
            "cluster", "project", "session", "dry_run", "outcome", "added", "changed", "removed",
            "unchanged", "absent", "labels"
        ]
    }"#,
        vec![json!(action.done), json!(action.would)],
    )
}

/// Label or unlabel up to [`MAX_BULK`](super::MAX_BULK) sessions, as [`bulk::run`](super::bulk::run)
/// does, and say that a change sent writes the whole label map.
pub fn run_bulk(
    ctx: &mut Context,
    project: Option<&str>,
    ids: &[String],
    (confirm, dry_run): (bool, bool),
    action: &Action<LabelEdit>,
    edit: &LabelEdit,
) -> Result<Output, ToolError> {
    let (report, mut text, failed) = super::bulk::acted(ctx, project, ids, confirm, dry_run, action, edit)?;
    if report.results.iter().any(|r| r.outcome == action.done || r.outcome == action.would) {
        text.push_str(WHOLE_MAP);
        text.push('\n');
    }
    Ok(Output::new(failed, text, &report))
}

/// Label or unlabel one session with one update (the API reads it first, to keep the project
/// boundary and to merge); a dry run reads it and applies the edit here.
pub fn run_one(
    ctx: &mut Context,
    project: Option<&str>,
    id: &str,
    edit: &LabelEdit,
    dry_run: bool,
    action: &Action<LabelEdit>,
) -> Result<Output, ToolError> {
    ctx.with_api(project, |api, t| {
        require(api, t, OpKind::Update, &format!("Cannot {} session '{id}'", action.verb))?;
        let (before, after) = match dry_run {
            true => match api.get(t, id) {
                Ok(s) => {
                    let after = edit.apply(&s.labels);
                    (s.labels, after)
                }
                Err(e) => return failed(t, id, format!("Could not look up session '{id}' for the dry run"), e),
            },
            false => match api.update(t, id, &SessionPatch { labels: edit.clone(), ..SessionPatch::default() }) {
                Ok((before, after)) => (before.labels, after.labels),
                Err(e) => return failed(t, id, format!("Failed to {} session '{id}'", action.verb), e),
            },
        };
        let changes = LabelChanges::between(&before, &after, edit);
        let place = format!("in project '{}' (cluster '{}')", t.project, t.cluster);
        let mut text = match dry_run {
            true => format!("DRY RUN - nothing was {}.\n\n", action.done),
            false => String::new(),
        };
        let outcome = match (changes.is_empty(), dry_run) {
            (true, _) => {
                let _ = write!(
                    text,
                    "Session '{id}' {place}: nothing to {} ({}).",
                    nothing_to(edit),
                    changes.summary(false)
                );
                "skipped"
            }
            (false, true) => {
                let _ = write!(text, "Would {} session '{id}' {place}: {}.", action.verb, changes.summary(true));
                action.would
            }
            (false, false) => {
                let _ = write!(
                    text,
                    "{} session '{id}' {place}: {}.",
                    super::bulk::capitalized(action.done),
                    changes.summary(false)
                );
                action.done
            }
        };
        let now = if dry_run && !changes.is_empty() { "would be" } else { "now" };
        let _ = write!(text, "\nLabels {now}: {}", text_of(&after));
        if !changes.is_empty() {
            let _ = write!(text, "\n{WHOLE_MAP}");
        }
        let report = EditReport {
            cluster: t.cluster.to_string(),
            project: t.project.to_string(),
            session: id.to_string(),
            dry_run,
            outcome,
            changes,
            labels: after,
        };
        Ok(Output::new(false, text, &report))
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn changes_say_what_was_added_changed_removed_and_left() {
        let before = labels(&[("env", "dev"), ("team", "x"), ("old", "y")]);
        let edit = LabelEdit {
            set: labels(&[("env", "prod"), ("team", "x"), ("new", "1")]),
            remove: vec!["old".into(), "gone".into()],
        };
        let after = edit.apply(&before);
        let c = LabelChanges::between(&before, &after, &edit);
        assert_eq!(c.added, labels(&[("new", "1")]));
        assert_eq!(c.changed["env"], Changed { from: "dev".into(), to: "prod".into() });
        assert_eq!(c.removed, labels(&[("old", "y")]));
        assert_eq!((c.unchanged, c.absent), (vec!["team".to_string()], vec!["gone".to_string()]));
        let c = LabelChanges::between(&before, &after, &edit);
        assert_eq!(
            c.summary(false),
            "added new=1; changed env: dev → prod; removed old=y; already set: team; not present: gone"
        );
        assert!(c.summary(true).starts_with("add new=1; change env: dev → prod; remove old=y"));
    }

    #[test]
    fn an_edit_that_changes_nothing_is_empty_and_says_why() {
        let before = labels(&[("team", "x")]);
        let unlabel = LabelEdit { set: Labels::new(), remove: vec!["a".into(), "b".into()] };
        let a = preview(&Session { labels: before.clone(), ..Session::default() }, &unlabel);
        assert!(a.unchanged);
        assert_eq!(a.note.as_deref(), Some("nothing to remove (not present: a, b)"));
        let same = LabelEdit { set: before.clone(), remove: vec![] };
        assert_eq!(
            preview(&Session { labels: before, ..Session::default() }, &same).note.as_deref(),
            Some("nothing to change (already set: team)")
        );
    }

    #[test]
    fn matching_needs_every_label_with_exactly_its_value() {
        let s = Session { labels: labels(&[("team", "x"), ("env", "prod")]), ..Session::default() };
        assert!(matches(&s, &labels(&[("team", "x")])));
        assert!(matches(&s, &labels(&[("team", "x"), ("env", "prod")])));
        assert!(!matches(&s, &labels(&[("team", "x2")])));
        assert!(!matches(&s, &labels(&[("team", "X")])));
        assert!(!matches(&s, &labels(&[("team", "x"), ("owner", "me")])));
        assert!(!matches(&Session::default(), &labels(&[("team", "x")])));
    }
}
