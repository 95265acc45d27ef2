//! `acp_bulk_restart_sessions_by_label`: the sessions with every given label, at most 3, with confirm.

use super::by_label;
use super::labels::{LABELS_TO_MATCH, Labels};
use super::params::{CONFIRM, DRY_RUN, PROJECT};
use super::restart_session::RESTART;
use super::{Context, Effect, Output, Tool, ToolError};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkRestartByLabelArgs {
        project: Option<String> = PROJECT,
        labels: Labels = LABELS_TO_MATCH,
        confirm: bool = CONFIRM,
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkRestartSessionsByLabel;

impl Tool for BulkRestartSessionsByLabel {
    const NAME: &'static str = "acp_bulk_restart_sessions_by_label";
    const TITLE: &'static str = "Restart sessions by label";
    const DESCRIPTION: &'static str = "Restart the sessions having every given label (exact values) if 3 or fewer \
        match; needs confirm=true and api: ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkRestartByLabelArgs;

    fn output_schema() -> Value {
        by_label::report_schema(&RESTART)
    }

    fn run(ctx: &mut Context, args: BulkRestartByLabelArgs) -> Result<Output, ToolError> {
        by_label::run(ctx, args.project.as_deref(), &args.labels, args.confirm, args.dry_run, &RESTART)
    }
}
