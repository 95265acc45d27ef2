//! `acp_bulk_unlabel_resources`: remove the same label keys from up to 3 sessions, with confirm.

use super::labels::{self, KEYS_TO_REMOVE};
use super::params::{CONFIRM, DRY_RUN, Kind, PROJECT, Param};
use super::unlabel_resource::UNLABEL;
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use crate::gateway::LabelEdit;
use serde_json::Value;

crate::tool_args! {
    pub struct BulkUnlabelArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(Kind::Names { max: MAX_BULK }, true, ""),
        label_keys: Vec<String> = KEYS_TO_REMOVE,
        confirm: bool = CONFIRM,
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkUnlabelResources;

impl Tool for BulkUnlabelResources {
    const NAME: &'static str = "acp_bulk_unlabel_resources";
    const TITLE: &'static str = "Unlabel several sessions";
    const DESCRIPTION: &'static str = "Remove the same label keys from up to 3 sessions by ID; needs confirm=true \
        and api: ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkUnlabelArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&UNLABEL)
    }

    fn run(ctx: &mut Context, args: BulkUnlabelArgs) -> Result<Output, ToolError> {
        let edit = LabelEdit { set: Default::default(), remove: args.label_keys };
        labels::run_bulk(ctx, args.project.as_deref(), &args.sessions, (args.confirm, args.dry_run), &UNLABEL, &edit)
    }
}
