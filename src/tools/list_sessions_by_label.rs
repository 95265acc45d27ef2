//! `acp_list_sessions_by_label`: the sessions of a project that have every given label.

use super::labels::{self, LABELS_TO_MATCH, Labels};
use super::params::PROJECT;
use super::render::{describe, session_schema};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::Session;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

crate::tool_args! {
    pub struct ListByLabelArgs {
        project: Option<String> = PROJECT,
        labels: Labels = LABELS_TO_MATCH,
    }
}

pub struct ListSessionsByLabel;

impl Tool for ListSessionsByLabel {
    const NAME: &'static str = "acp_list_sessions_by_label";
    const TITLE: &'static str = "List sessions by label";
    const DESCRIPTION: &'static str = "List a project's sessions having every given label (exact values). Needs \
        api: ambient.";
    const EFFECT: Effect = Effect::READ;
    type Args = ListByLabelArgs;

    fn output_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "project": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "sessions": {"type": "array", "items": session_schema()},
                "searched": {"type": "integer", "description": "sessions searched: as many as the API listed"},
                "may_have_more": {"type": "boolean", "description": "older sessions exist that were not searched"},
            },
            "required": ["cluster", "project", "labels", "sessions", "searched", "may_have_more"],
        })
    }

    fn run(ctx: &mut Context, args: ListByLabelArgs) -> Result<Output, ToolError> {
        let listing = ctx.with_api(args.project.as_deref(), |api, t| {
            let found = labels::search(api, t, &args.labels)?;
            Ok::<_, ToolError>(Listing {
                cluster: t.cluster.to_string(),
                project: t.project.to_string(),
                searched: found.searched,
                may_have_more: found.maybe_more,
                note: found.line(),
                sessions: found.matched,
                labels: args.labels,
            })
        })??;
        Ok(Output::new(false, listing.text(), &listing))
    }
}

#[derive(Serialize)]
struct Listing {
    cluster: String,
    project: String,
    labels: Labels,
    sessions: Vec<Session>,
    searched: usize,
    may_have_more: bool,
    #[serde(skip)]
    note: String,
}

impl Listing {
    fn text(&self) -> String {
        let mut out = format!(
            "Found {} session(s) in project '{}' (cluster '{}')\nLabel filter: {}\n{}\n",
            self.sessions.len(),
            self.project,
            self.cluster,
            labels::text_of(&self.labels),
            self.note
        );
        if !self.sessions.is_empty() {
            out.push_str("\nSessions:\n");
        }
        for s in &self.sessions {
            let _ = writeln!(out, "- {}", s.id);
            describe(s, &mut out);
            let _ = writeln!(out, "  Labels: {}", labels::text_of(&s.labels));
        }
        out
    }
}
