//! `acp_bulk_label_resources`: set the same labels on up to 3 sessions, with confirm.

use super::label_resource::LABEL;
use super::labels::{LABELS_TO_SET, Labels};
use super::params::{DRY_RUN, Kind, PROJECT, Param};
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use crate::gateway::LabelEdit;
use serde_json::Value;

crate::tool_args! {
    pub struct BulkLabelArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(
            Kind::Names { max: MAX_BULK },
            true,
            "Session IDs to label: 1 to 3 distinct IDs.",
        ),
        labels: Labels = LABELS_TO_SET,
        confirm: bool = Param::new(Kind::Bool, false, "Must be true to label (not needed with dry_run)."),
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkLabelResources;

impl Tool for BulkLabelResources {
    const NAME: &'static str = "acp_bulk_label_resources";
    const TITLE: &'static str = "Label several sessions";
    const DESCRIPTION: &'static str = "Set the same labels on up to 3 sessions in one call. Requires confirm=true, \
        unless dry_run=true, which only reads the sessions and shows what would change. Each session's outcome \
        (labeled with what changed, skipped if already set, not found, failed) is reported separately. Each \
        session's whole label map is written back, so a concurrent label change can be lost. Needs api: ambient; \
        the public-api gateway cannot (nothing is sent).";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkLabelArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&LABEL)
    }

    fn run(ctx: &mut Context, args: BulkLabelArgs) -> Result<Output, ToolError> {
        let edit = LabelEdit { set: args.labels, remove: vec![] };
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &LABEL, &edit)
    }
}
