//! `acp_whoami`: the active cluster and where its token comes from, never the token.

use super::list_clusters::NoArgs;
use super::{Context, Effect, Output, Tool, ToolError};
use crate::config::TokenSource;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

pub struct Whoami;

#[derive(Serialize)]
struct Identity {
    cluster: String,
    /// `public-api` or `ambient`.
    api: &'static str,
    server: String,
    project: String,
    /// "config" or "env"; never the token itself.
    token_source: Option<&'static str>,
}

impl Tool for Whoami {
    const NAME: &'static str = "acp_whoami";
    const TITLE: &'static str = "Show current identity";
    const DESCRIPTION: &'static str = "Show the active cluster, its gateway server, the default project and where \
        the token comes from (clusters.yaml or ACP_TOKEN), never the token itself. Reads local configuration \
        only; it does not check the token with the server (a list call does).";
    const EFFECT: Effect = Effect::LOCAL_READ;
    type Args = NoArgs;

    fn output_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "api": {"type": "string", "enum": ["public-api", "ambient"]},
                "server": {"type": "string"},
                "project": {"type": "string"},
                "token_source": {"type": ["string", "null"], "enum": ["config", "env", null],
                                 "description": "where the token comes from; the token itself is never shown"},
            },
            "required": ["cluster", "api", "server", "project", "token_source"],
        })
    }

    fn run(ctx: &mut Context, _: NoArgs) -> Result<Output, ToolError> {
        let (config, cluster) = ctx.active_cluster()?;
        let token = config.token_for(cluster);
        let me = Identity {
            cluster: cluster.name.clone(),
            api: cluster.api.name(),
            server: cluster.server.base(),
            project: cluster.default_project.clone(),
            token_source: token.as_ref().ok().map(|(_, src)| match src {
                TokenSource::ConfigFile => "config",
                TokenSource::EnvVar => "env",
            }),
        };
        let mut text =
            format!("Cluster: {}\nServer: {} ({})\nProject: {}\n", me.cluster, me.server, me.api, me.project);
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
}
