//! `acp_bulk_label_resources`: set the same labels on up to 3 sessions, with confirm.

use super::label_resource::LABEL;
use super::labels::{self, LABELS_TO_SET, Labels};
use super::params::{CONFIRM, DRY_RUN, Kind, PROJECT, Param};
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use crate::gateway::LabelEdit;
use serde_json::Value;

crate::tool_args! {
    pub struct BulkLabelArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(Kind::Names { max: MAX_BULK }, true, ""),
        labels: Labels = LABELS_TO_SET,
        confirm: bool = CONFIRM,
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkLabelResources;

impl Tool for BulkLabelResources {
    const NAME: &'static str = "acp_bulk_label_resources";
    const TITLE: &'static str = "Label several sessions";
    const DESCRIPTION: &'static str = "Set the same labels on up to 3 sessions by ID; needs confirm=true and api: \
        ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkLabelArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&LABEL)
    }

    fn run(ctx: &mut Context, args: BulkLabelArgs) -> Result<Output, ToolError> {
        let edit = LabelEdit { set: args.labels, remove: vec![] };
        labels::run_bulk(ctx, args.project.as_deref(), &args.sessions, (args.confirm, args.dry_run), &LABEL, &edit)
    }
}
