//! `acp_bulk_unlabel_resources`: remove the same label keys from up to 3 sessions, with confirm.

use super::labels::KEYS_TO_REMOVE;
use super::params::{DRY_RUN, Kind, PROJECT, Param};
use super::unlabel_resource::UNLABEL;
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use crate::gateway::LabelEdit;
use serde_json::Value;

crate::tool_args! {
    pub struct BulkUnlabelArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(
            Kind::Names { max: MAX_BULK },
            true,
            "Session IDs to unlabel: 1 to 3 distinct IDs.",
        ),
        label_keys: Vec<String> = KEYS_TO_REMOVE,
        confirm: bool = Param::new(Kind::Bool, false, "Must be true to unlabel (not needed with dry_run)."),
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkUnlabelResources;

impl Tool for BulkUnlabelResources {
    const NAME: &'static str = "acp_bulk_unlabel_resources";
    const TITLE: &'static str = "Unlabel several sessions";
    const DESCRIPTION: &'static str = "Remove the same label keys from up to 3 sessions in one call. Requires \
        confirm=true, unless dry_run=true, which only reads the sessions and shows what would change. Each \
        session's outcome (unlabeled with what was removed, skipped if it has none of the keys, not found, \
        failed) is reported separately. Each session's whole label map is written back, so a concurrent label \
        change can be lost. Needs api: ambient; the public-api gateway cannot (nothing is sent).";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkUnlabelArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&UNLABEL)
    }

    fn run(ctx: &mut Context, args: BulkUnlabelArgs) -> Result<Output, ToolError> {
        let edit = LabelEdit { set: Default::default(), remove: args.label_keys };
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &UNLABEL, &edit)
    }
}
