//! Cluster tools: they read the configuration and never call the gateway.

use super::params::Args;
use super::{Context, Output, ToolError};
use crate::validate::quote;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

#[derive(Serialize)]
struct ClusterInfo {
    name: String,
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

pub fn list(ctx: &mut Context, _: &Args) -> Result<Output, ToolError> {
    let config = ctx.config()?.clone();
    let active = ctx.active.clone();
    let clusters: Vec<ClusterInfo> = config
        .clusters
        .iter()
        .map(|c| ClusterInfo {
            name: c.name.clone(),
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
        let _ = writeln!(text, "  Server: {}\n  Default project: {}", c.server, c.default_project);
        if let Some(d) = &c.description {
            let _ = writeln!(text, "  Description: {d}");
        }
    }
    Ok(Output::new(false, text, &Clusters { active, clusters }))
}

#[derive(Serialize)]
struct Identity {
    cluster: String,
    server: String,
    project: String,
    /// "config" or "env"; never the token itself.
    token_source: Option<&'static str>,
}

pub fn whoami(ctx: &mut Context, _: &Args) -> Result<Output, ToolError> {
    let (config, cluster) = ctx.active_cluster()?;
    let token = config.token_for(cluster);
    let me = Identity {
        cluster: cluster.name.clone(),
        server: cluster.server.base(),
        project: cluster.default_project.clone(),
        token_source: token.as_ref().ok().map(|(_, src)| match src {
            crate::config::TokenSource::ConfigFile => "config",
            crate::config::TokenSource::EnvVar => "env",
        }),
    };
    let mut text = format!("Cluster: {}\nServer: {}\nProject: {}\n", me.cluster, me.server, me.project);
    match &token {
        Ok((_, src)) => {
            let _ = writeln!(text, "Token: configured, from {src} (not shown, and not checked with the server)");
        }
        Err(e) => {
            let _ = writeln!(text, "Token: none. {e}");
        }
    }
    Ok(Output::new(token.is_err(), text, &me))
}

#[derive(Serialize)]
struct Switch {
    previous: Option<String>,
    active: String,
}

pub fn switch(ctx: &mut Context, args: &Args) -> Result<Output, ToolError> {
    let name = args.str("cluster").unwrap_or_default().to_string();
    let config = ctx.config()?;
    if config.cluster(&name).is_none() {
        return Err(ToolError::Invalid(format!(
            "cluster {} is not configured. Configured clusters: {}",
            quote(&name),
            config.cluster_names().join(", ")
        )));
    }
    let previous = ctx.active.replace(name.clone());
    let text = format!(
        "Switched from {} to {name}. Later calls use this cluster until the server stops; clusters.yaml is unchanged.",
        previous.as_deref().unwrap_or("no cluster")
    );
    Ok(Output::new(false, text, &Switch { previous, active: name }))
}

// ---- output schemas --------------------------------------------------------------------

pub fn clusters_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "active": {"type": ["string", "null"]},
            "clusters": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "server": {"type": "string"},
                    "default_project": {"type": "string"},
                    "description": {"type": "string"},
                    "active": {"type": "boolean"},
                    "has_token": {"type": "boolean"},
                },
                "required": ["name", "server", "default_project", "active", "has_token"],
            }},
        },
        "required": ["active", "clusters"],
    })
}

pub fn identity_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "server": {"type": "string"},
            "project": {"type": "string"},
            "token_source": {"type": ["string", "null"], "enum": ["config", "env", null],
                             "description": "where the token comes from; the token itself is never shown"},
        },
        "required": ["cluster", "server", "project", "token_source"],
    })
}

pub fn switch_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"previous": {"type": ["string", "null"]}, "active": {"type": "string"}},
        "required": ["previous", "active"],
    })
}
