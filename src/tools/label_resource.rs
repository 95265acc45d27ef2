//! `acp_label_resource`: set labels on one session.

use super::bulk::Action;
use super::labels::{self, LABELS_TO_SET, Labels, RESOURCE_TYPE};
use super::params::{DRY_RUN, PROJECT, SESSION};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{LabelEdit, OpKind};
use serde_json::Value;

/// Labelling, in the words of results; shared with the bulk tool.
pub const LABEL: Action<LabelEdit> = Action {
    op: OpKind::Update,
    verb: "label",
    done: "labeled",
    would: "would_label",
    act: labels::edit_one,
    preview: Some(labels::preview),
    already: &[],
    state: "",
};

crate::tool_args! {
    // `resource_type` is accepted (the original's parameter) and never read.
    #[allow(dead_code)]
    pub struct LabelArgs {
        project: Option<String> = PROJECT,
        name: String = SESSION,
        resource_type: Option<String> = RESOURCE_TYPE,
        labels: Labels = LABELS_TO_SET,
        dry_run: bool = DRY_RUN,
    }
}

pub struct LabelResource;

impl Tool for LabelResource {
    const NAME: &'static str = "acp_label_resource";
    const TITLE: &'static str = "Label session";
    const DESCRIPTION: &'static str = "Set labels on one session (ID in name), to find it with \
        acp_list_sessions_by_label. Needs api: ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = LabelArgs;

    fn output_schema() -> Value {
        labels::edit_schema(&LABEL)
    }

    fn run(ctx: &mut Context, args: LabelArgs) -> Result<Output, ToolError> {
        let edit = LabelEdit { set: args.labels, remove: vec![] };
        labels::run_one(ctx, args.project.as_deref(), &args.name, &edit, args.dry_run, &LABEL)
    }
}
