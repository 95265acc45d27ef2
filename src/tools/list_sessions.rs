//! `acp_list_sessions`: the sessions of a project, filtered, sorted and limited here.

use super::page::{DEFAULT_PAGE, Format, OFFSET, Page, RESPONSE_FORMAT, View, fit, given};
use super::params::{Kind, PROJECT, Param};
use super::render::session_schema;
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{PHASES, Session};
use crate::validate::{parse_age, parse_rfc3339};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt::Write;

crate::tool_args! {
    pub struct ListArgs {
        project: Option<String> = PROJECT,
        status: Option<String> = Param::new(Kind::Enum(PHASES), false, ""),
        older_than: Option<String> = Param::new(Kind::Age, false, "e.g. 7d, 24h"),
        sort_by: Option<String> = Param::new(Kind::Enum(&["created", "stopped", "name"]), false, ""),
        limit: Option<i64> = Param::new(Kind::Int { min: 1, max: 1000 }, false, "per page, default 20"),
        offset: Option<i64> = OFFSET,
        response_format: Option<String> = RESPONSE_FORMAT,
    }
}

pub struct ListSessions;

impl Tool for ListSessions {
    const NAME: &'static str = "acp_list_sessions";
    const TITLE: &'static str = "List sessions";
    const DESCRIPTION: &'static str = "List a project's sessions, newest first, with status and task: to find a \
        session ID or see what runs.";
    const EFFECT: Effect = Effect::READ;
    type Args = ListArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "project": {"type": "string"},
                "sessions": {"type": "array", "items": "$0"},
                "total": {
                    "type": "integer",
                    "description": "sessions that passed the filters, on every page"
                },
                "offset": {"type": "integer"},
                "next": {
                    "type": ["object", "null"],
                    "description": "the arguments of the next page; null on the last"
                },
                "returned_by_gateway": {
                    "type": "integer",
                    "description": "sessions the gateway returned before filtering"
                },
                "may_have_more": {
                    "type": "boolean",
                    "description": "the gateway returned its maximum; older sessions may exist"
                },
                "filters": {"type": "object"}
            },
            "required": [
                "cluster", "project", "sessions", "total", "offset", "next",
                "returned_by_gateway", "may_have_more", "filters"
            ]
        }"#,
            vec![json!(session_schema())],
        )
    }

    fn run(ctx: &mut Context, args: ListArgs) -> Result<Output, ToolError> {
        let now = (ctx.now)();
        let budget = ctx.answer_budget();
        let (found, limit) = ctx.with_api(args.project.as_deref(), |api, t| {
            let limit = api.capabilities().list_limit;
            let list = api.list(t).map_err(|e| {
                ToolError::Api(format!("Failed to list sessions in project '{}'", t.project), e, "", t.api)
            })?;
            let found = Found {
                cluster: t.cluster.to_string(),
                project: t.project.to_string(),
                returned_by_gateway: list.sessions.len(),
                sessions: filter_sessions(list.sessions, &args, now, api.capabilities().creating_is_pending),
                may_have_more: list.maybe_more,
            };
            Ok::<_, ToolError>((found, limit))
        })??;
        let arguments = arguments(&args);
        let filters: Map<String, Value> = arguments
            .iter()
            .filter(|(k, _)| FILTERS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let format = Format::of(args.response_format.as_deref());
        let per_page = args.limit.map_or(DEFAULT_PAGE, |l| l as usize);
        let offset = args.offset.unwrap_or(0) as usize;
        Ok(fit(budget, found.sessions.len(), offset, per_page, |page| {
            let listing = Listing {
                cluster: &found.cluster,
                project: &found.project,
                sessions: found.sessions[page.range()].iter().map(|s| View::of(s, format, now)).collect(),
                total: page.total,
                offset: page.offset,
                next: page.next(&arguments),
                returned_by_gateway: found.returned_by_gateway,
                may_have_more: found.may_have_more,
                filters: filters.clone(),
                arguments: &arguments,
            };
            Output::new(false, listing.text(limit, page), &listing)
        }))
    }
}

/// What the API returned, filtered and sorted: every page is cut from it.
struct Found {
    cluster: String,
    project: String,
    sessions: Vec<Session>,
    returned_by_gateway: usize,
    may_have_more: bool,
}

#[derive(Serialize)]
struct Listing<'a> {
    cluster: &'a str,
    project: &'a str,
    sessions: Vec<View<'a>>,
    /// Sessions that passed the filters, on every page.
    total: usize,
    offset: usize,
    /// The arguments of the next page.
    next: Option<Map<String, Value>>,
    /// How many the gateway returned before filtering.
    returned_by_gateway: usize,
    /// The gateway returned its maximum; older sessions may exist that it cannot list.
    may_have_more: bool,
    /// The filters given (and the limit).
    filters: Map<String, Value>,
    #[serde(skip)]
    arguments: &'a Map<String, Value>,
}

impl Listing<'_> {
    fn text(&self, page_limit: Option<usize>, page: &Page) -> String {
        let mut out =
            format!("Found {} session(s) in project '{}' (cluster '{}')\n", self.total, self.project, self.cluster);
        if !self.filters.is_empty() {
            let _ = writeln!(out, "Filters applied: {}", Value::Object(self.filters.clone()));
        }
        match (self.may_have_more, page_limit) {
            (false, _) => {}
            (true, Some(limit)) => {
                let _ = writeln!(
                    out,
                    "Note: the gateway returned {limit} sessions, the most it returns; older sessions may \
                     exist that this gateway cannot list."
                );
            }
            (true, None) => {
                let _ = writeln!(
                    out,
                    "Note: only the {} newest sessions were read; older sessions exist.",
                    self.returned_by_gateway
                );
            }
        }
        if !self.sessions.is_empty() {
            out.push_str("\nSessions:\n");
        }
        for view in &self.sessions {
            view.text(&mut out);
        }
        page.close(&mut out, ListSessions::NAME, "sessions", self.arguments);
        out
    }
}

/// The arguments the result echoes as its filters.
const FILTERS: &[&str] = &["status", "older_than", "sort_by", "limit"];

/// The arguments given (but the offset), as the next page repeats them.
fn arguments(args: &ListArgs) -> Map<String, Value> {
    given([
        ("project", args.project.clone().map(Value::from)),
        ("status", args.status.clone().map(Value::from)),
        ("older_than", args.older_than.clone().map(Value::from)),
        ("sort_by", args.sort_by.clone().map(Value::from)),
        ("limit", args.limit.map(Value::from)),
        ("response_format", args.response_format.clone().map(Value::from)),
    ])
}

/// Apply the list filters client-side, in the original's order: status, age, sort, limit.
fn filter_sessions(mut sessions: Vec<Session>, args: &ListArgs, now: i64, creating_is_pending: bool) -> Vec<Session> {
    if let Some(status) = args.status.as_deref() {
        let want = if status == "creating" && creating_is_pending { "pending" } else { status };
        sessions.retain(|s| s.status.eq_ignore_ascii_case(want));
    }
    if let Some(age) = args.older_than.as_deref().and_then(|a| parse_age(a).ok()) {
        let cutoff = now - age as i64;
        sessions.retain(|s| s.created_at.as_deref().and_then(parse_rfc3339).is_some_and(|c| c < cutoff));
    }
    let time = |v: &Option<String>| v.as_deref().and_then(parse_rfc3339);
    match args.sort_by.as_deref() {
        Some("stopped") => sessions.sort_by_key(|s| std::cmp::Reverse(time(&s.completed_at))),
        Some("name") => sessions.sort_by(|a, b| a.id.cmp(&b.id)),
        Some(_) => sessions.sort_by_key(|s| std::cmp::Reverse(time(&s.created_at))),
        None => {}
    }
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::params::{self, ToolArgs};

    fn session(id: &str, status: &str, created: &str, completed: Option<&str>) -> Session {
        Session {
            id: id.into(),
            status: status.into(),
            created_at: Some(created.into()),
            completed_at: completed.map(Into::into),
            ..Session::default()
        }
    }

    fn args(v: Value) -> ListArgs {
        ListArgs::from_args(&params::parse(ListArgs::PARAMS, &v).unwrap())
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
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"status": "stopped"})), NOW, true)), ["a"]);
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"status": "creating"})), NOW, true)), ["c"]);
    }

    #[test]
    fn older_than_keeps_only_older_sessions() {
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"older_than": "3d"})), NOW, true)), ["b", "a"]);
    }

    #[test]
    fn sorting() {
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"sort_by": "created"})), NOW, true)), ["c", "b", "a"]);
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"sort_by": "name"})), NOW, true)), ["a", "b", "c"]);
        assert_eq!(ids(&filter_sessions(sample(), &args(json!({"sort_by": "stopped"})), NOW, true))[0], "a");
    }
}
