//! `acp_list_projects`: the projects of the active cluster's server.

use super::page::{OFFSET, fit, given};
use super::params::{Kind, Param};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::OpKind;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Write;

crate::tool_args! {
    pub struct ProjectsArgs {
        limit: Option<i64> = Param::new(Kind::Int { min: 1, max: 1000 }, false, "per page, default 100"),
        offset: Option<i64> = OFFSET,
    }
}

/// Projects a page shows when the caller gives no `limit`.
const PAGE: usize = 100;

pub struct ListProjects;

#[derive(Serialize)]
struct Projects<'a> {
    cluster: &'a str,
    projects: &'a [String],
    /// False where the API cannot list projects and only the configured default is known.
    complete: bool,
    total: usize,
    next: Option<Map<String, Value>>,
}

impl Tool for ListProjects {
    const NAME: &'static str = "acp_list_projects";
    const TITLE: &'static str = "List projects";
    const DESCRIPTION: &'static str = "List the active cluster's projects. The public-api gateway cannot: it shows \
        the default project only.";
    const EFFECT: Effect = Effect::READ;
    type Args = ProjectsArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "projects": {"type": "array", "items": {"type": "string"}},
                "complete": {
                    "type": "boolean",
                    "description": "false: only the configured default project is known"
                },
                "total": {"type": "integer"},
                "next": {
                    "type": ["object", "null"],
                    "description": "the arguments of the next page; null on the last"
                }
            },
            "required": ["cluster", "projects", "complete", "total", "next"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, args: ProjectsArgs) -> Result<Output, ToolError> {
        // Projects that allowed_projects leaves out are not shown: they cannot be used here.
        let allowed = ctx.active_cluster()?.1.allowed_projects.clone();
        let budget = ctx.answer_budget();
        ctx.with_api(None, |api, t| {
            let listed = match api.capabilities().serves(OpKind::ListProjects) {
                true => {
                    let mut all =
                        api.projects(t).map_err(|e| ToolError::Api("Failed to list projects".into(), e, "", t.api))?;
                    if let Some(allowed) = &allowed {
                        all.retain(|p| allowed.contains(p));
                    }
                    Some(all)
                }
                false => None,
            };
            let complete = listed.is_some();
            let names = listed.unwrap_or_else(|| vec![t.project.to_string()]);
            let arguments = given([("limit", args.limit.map(Value::from))]);
            let per_page = args.limit.map_or(PAGE, |l| l as usize);
            Ok(fit(budget, names.len(), args.offset.unwrap_or(0) as usize, per_page, |page| {
                let p = Projects {
                    cluster: t.cluster,
                    projects: &names[page.range()],
                    complete,
                    total: page.total,
                    next: page.next(&arguments),
                };
                let mut text = match complete {
                    true => format!("{} project(s) on cluster '{}':\n", p.total, p.cluster),
                    false => format!(
                        "{} cannot list projects; the configured default project of cluster '{}' is:\n",
                        t.api, p.cluster
                    ),
                };
                for name in p.projects {
                    let _ = writeln!(text, "- {name}");
                }
                page.close(&mut text, ListProjects::NAME, "projects", &arguments);
                Output::new(false, text, &p)
            }))
        })?
    }
}
