//! `acp_switch_cluster`: another configured cluster becomes the active one.

use super::params::{Kind, Param};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::validate::quote;
use serde::Serialize;
use serde_json::Value;

crate::tool_args! {
    pub struct SwitchArgs {
        cluster: String = Param::new(Kind::ClusterName, true, ""),
    }
}

pub struct SwitchCluster;

#[derive(Serialize)]
struct Switch {
    previous: Option<String>,
    active: String,
}

impl Tool for SwitchCluster {
    const NAME: &'static str = "acp_switch_cluster";
    const TITLE: &'static str = "Switch cluster";
    const DESCRIPTION: &'static str = "Make another cluster from acp_list_clusters the active one for later calls. \
        clusters.yaml is unchanged.";
    /// It changes only which cluster this process talks to, never the platform: read-only, so
    /// that read-only mode keeps it.
    const EFFECT: Effect = Effect::LOCAL_READ;
    type Args = SwitchArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {"previous": {"type": ["string", "null"]}, "active": {"type": "string"}},
            "required": ["previous", "active"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, args: SwitchArgs) -> Result<Output, ToolError> {
        let name = args.cluster;
        let config = ctx.config()?;
        if config.cluster(&name).is_none() {
            return Err(ToolError::invalid(format!(
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
}
