//! `acp_unlabel_resource`: remove labels from one session, by key.

use super::bulk::Action;
use super::labels::{self, KEYS_TO_REMOVE, RESOURCE_TYPE};
use super::params::{DRY_RUN, PROJECT, SESSION};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{LabelEdit, OpKind};
use serde_json::Value;

/// Unlabelling, in the words of results; shared with the bulk tool.
pub const UNLABEL: Action<LabelEdit> = Action {
    op: OpKind::Update,
    verb: "unlabel",
    done: "unlabeled",
    would: "would_unlabel",
    act: labels::edit_one,
    preview: Some(labels::preview),
    already: &[],
    state: "",
};

crate::tool_args! {
    // `resource_type` is accepted (the original's parameter) and never read.
    #[allow(dead_code)]
    pub struct UnlabelArgs {
        project: Option<String> = PROJECT,
        name: String = SESSION,
        resource_type: Option<String> = RESOURCE_TYPE,
        label_keys: Vec<String> = KEYS_TO_REMOVE,
        dry_run: bool = DRY_RUN,
    }
}

pub struct UnlabelResource;

impl Tool for UnlabelResource {
    const NAME: &'static str = "acp_unlabel_resource";
    const TITLE: &'static str = "Unlabel session";
    const DESCRIPTION: &'static str = "Remove labels by key from one session (ID in name). Needs api: ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = UnlabelArgs;

    fn output_schema() -> Value {
        labels::edit_schema(&UNLABEL)
    }

    fn run(ctx: &mut Context, args: UnlabelArgs) -> Result<Output, ToolError> {
        let edit = LabelEdit { set: Default::default(), remove: args.label_keys };
        labels::run_one(ctx, args.project.as_deref(), &args.name, &edit, args.dry_run, &UNLABEL)
    }
}
