//! `acp_list_projects`: the projects of the active cluster's server.

use super::list_clusters::NoArgs;
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::OpKind;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

pub struct ListProjects;

#[derive(Serialize)]
struct Projects {
    cluster: String,
    projects: Vec<String>,
    /// False where the API cannot list projects and only the configured default is known.
    complete: bool,
}

impl Tool for ListProjects {
    const NAME: &'static str = "acp_list_projects";
    const TITLE: &'static str = "List projects";
    const DESCRIPTION: &'static str = "List the active cluster's projects. The public-api gateway cannot: it shows \
        the default project only.";
    const EFFECT: Effect = Effect::READ;
    type Args = NoArgs;

    fn output_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "projects": {"type": "array", "items": {"type": "string"}},
                "complete": {"type": "boolean", "description": "false: only the configured default project is known"},
            },
            "required": ["cluster", "projects", "complete"],
        })
    }

    fn run(ctx: &mut Context, _: NoArgs) -> Result<Output, ToolError> {
        // Projects that allowed_projects leaves out are not shown: they cannot be used here.
        let allowed = ctx.active_cluster()?.1.allowed_projects.clone();
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
            let p = Projects {
                cluster: t.cluster.into(),
                projects: listed.unwrap_or_else(|| vec![t.project.to_string()]),
                complete,
            };
            let mut text = match complete {
                true => format!("{} project(s) on cluster '{}':\n", p.projects.len(), p.cluster),
                false => format!(
                    "{} cannot list projects; the configured default project of cluster '{}' is:\n",
                    t.api, p.cluster
                ),
            };
            for name in &p.projects {
                let _ = writeln!(text, "- {name}");
            }
            Ok(Output::new(false, text, &p))
        })?
    }
}
