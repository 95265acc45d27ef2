//! `acp_list_clusters`: the configured clusters; local configuration only.

use super::{Context, Effect, Output, Tool, ToolError};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

crate::tool_args! { pub struct NoArgs {} }

pub struct ListClusters;

#[derive(Serialize)]
struct ClusterInfo {
    name: String,
    /// `public-api` or `ambient`.
    api: &'static str,
    server: String,
    default_project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    active: bool,
    has_token: bool,
}

#[derive(Serialize)]
struct Clusters {
    active: Option<String>,
    clusters: Vec<ClusterInfo>,
}

impl Tool for ListClusters {
    const NAME: &'static str = "acp_list_clusters";
    const TITLE: &'static str = "List clusters";
    const DESCRIPTION: &'static str = "List the configured clusters (name, API, server, default project) and the \
        active one, e.g. for acp_switch_cluster.";
    const EFFECT: Effect = Effect::LOCAL_READ;
    type Args = NoArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "active": {"type": ["string", "null"]},
                "clusters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "api": {"type": "string", "enum": ["public-api", "ambient"]},
                            "server": {"type": "string"},
                            "default_project": {"type": "string"},
                            "description": {"type": "string"},
                            "active": {"type": "boolean"},
                            "has_token": {"type": "boolean"}
                        },
                        "required": ["name", "api", "server", "default_project", "active", "has_token"]
                    }
                }
            },
            "required": ["active", "clusters"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, _: NoArgs) -> Result<Output, ToolError> {
        let config = ctx.config()?.clone();
        let active = ctx.active.clone();
        let clusters: Vec<ClusterInfo> = config
            .clusters
            .iter()
            .map(|c| ClusterInfo {
                name: c.name.clone(),
                api: c.api.name(),
                server: c.server.base(),
                default_project: c.default_project.clone(),
                description: c.description.clone(),
                active: active.as_deref() == Some(c.name.as_str()),
                has_token: c.token.is_some() || config.env_token.is_some(),
            })
            .collect();
        let mut text = match clusters.is_empty() {
            true => format!("No clusters configured in {}.", ctx.config_path.display()),
            false => format!("Configured clusters (active: {}):\n", active.as_deref().unwrap_or("none")),
        };
        for c in &clusters {
            let _ = writeln!(text, "\n- {}{}", c.name, if c.active { " [ACTIVE]" } else { "" });
            let _ =
                writeln!(text, "  Server: {}\n  Default project: {}\n  API: {}", c.server, c.default_project, c.api);
            if let Some(d) = &c.description {
                let _ = writeln!(text, "  Description: {d}");
            }
        }
        Ok(Output::new(false, text, &Clusters { active, clusters }))
    }
}
