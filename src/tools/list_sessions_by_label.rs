//! `acp_list_sessions_by_label`: the sessions of a project that have every given label.

use super::labels::{self, LABELS_TO_MATCH, Labels};
use super::page::{DEFAULT_PAGE, Format, OFFSET, Page, RESPONSE_FORMAT, View, fit, given};
use super::params::{Kind, PROJECT, Param};
use super::render::session_schema;
use super::{Context, Effect, Output, Tool, ToolError};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt::Write;

crate::tool_args! {
    pub struct ListByLabelArgs {
        project: Option<String> = PROJECT,
        labels: Labels = LABELS_TO_MATCH,
        limit: Option<i64> = Param::new(Kind::Int { min: 1, max: 1000 }, false, "per page, default 20"),
        offset: Option<i64> = OFFSET,
        response_format: Option<String> = RESPONSE_FORMAT,
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
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "project": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "sessions": {"type": "array", "items": "$0"},
                "total": {"type": "integer", "description": "sessions that matched, on every page"},
                "offset": {"type": "integer"},
                "next": {
                    "type": ["object", "null"],
                    "description": "the arguments of the next page; null on the last"
                },
                "searched": {
                    "type": "integer",
                    "description": "sessions searched: as many as the API listed"
                },
                "may_have_more": {
                    "type": "boolean",
                    "description": "older sessions exist that were not searched"
                }
            },
            "required": [
                "cluster", "project", "labels", "sessions", "total", "offset", "next",
                "searched", "may_have_more"
            ]
        }"#,
            vec![json!(session_schema())],
        )
    }

    fn run(ctx: &mut Context, args: ListByLabelArgs) -> Result<Output, ToolError> {
        let (now, budget) = ((ctx.now)(), ctx.answer_budget());
        let (found, cluster, project) = ctx.with_api(args.project.as_deref(), |api, t| {
            Ok::<_, ToolError>((labels::search(api, t, &args.labels)?, t.cluster.to_string(), t.project.to_string()))
        })??;
        let format = Format::of(args.response_format.as_deref());
        let arguments = given([
            ("labels", Some(json!(args.labels))),
            ("project", args.project.clone().map(Value::from)),
            ("limit", args.limit.map(Value::from)),
            ("response_format", args.response_format.clone().map(Value::from)),
        ]);
        let per_page = args.limit.map_or(DEFAULT_PAGE, |l| l as usize);
        let note = found.line();
        Ok(fit(budget, found.matched.len(), args.offset.unwrap_or(0) as usize, per_page, |page| {
            let listing = Listing {
                cluster: &cluster,
                project: &project,
                labels: &args.labels,
                sessions: found.matched[page.range()].iter().map(|s| View::labelled(s, format, now)).collect(),
                total: page.total,
                offset: page.offset,
                next: page.next(&arguments),
                searched: found.searched,
                may_have_more: found.maybe_more,
            };
            Output::new(false, listing.text(&note, page, &arguments), &listing)
        }))
    }
}

#[derive(Serialize)]
struct Listing<'a> {
    cluster: &'a str,
    project: &'a str,
    labels: &'a Labels,
    sessions: Vec<View<'a>>,
    total: usize,
    offset: usize,
    next: Option<Map<String, Value>>,
    searched: usize,
    may_have_more: bool,
}

impl Listing<'_> {
    fn text(&self, note: &str, page: &Page, arguments: &Map<String, Value>) -> String {
        let mut out = format!(
            "Found {} session(s) in project '{}' (cluster '{}')\nLabel filter: {}\n{note}\n",
            self.total,
            self.project,
            self.cluster,
            labels::text_of(self.labels),
        );
        if !self.sessions.is_empty() {
            out.push_str("\nSessions:\n");
        }
        for view in &self.sessions {
            view.text(&mut out);
            let _ = writeln!(out, "  Labels: {}", labels::text_of(view.labels().unwrap_or(&Labels::new())));
        }
        page.close(&mut out, ListSessionsByLabel::NAME, "sessions", arguments);
        out
    }
}
