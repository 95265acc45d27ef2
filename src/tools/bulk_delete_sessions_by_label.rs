//! `acp_bulk_delete_sessions_by_label`: the sessions with every given label, at most 3, with confirm.

use super::by_label;
use super::delete_session::DELETE;
use super::labels::{LABELS_TO_MATCH, Labels};
use super::params::{CONFIRM, DRY_RUN, PROJECT};
use super::{Context, Effect, Output, Tool, ToolError};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkDeleteByLabelArgs {
        project: Option<String> = PROJECT,
        labels: Labels = LABELS_TO_MATCH,
        confirm: bool = CONFIRM,
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkDeleteSessionsByLabel;

impl Tool for BulkDeleteSessionsByLabel {
    const NAME: &'static str = "acp_bulk_delete_sessions_by_label";
    const TITLE: &'static str = "Delete sessions by label";
    const DESCRIPTION: &'static str = "Delete, irreversibly, the sessions having every given label (exact values) \
        if 3 or fewer match; needs confirm=true and api: ambient.";
    const EFFECT: Effect = Effect::DESTROY;
    type Args = BulkDeleteByLabelArgs;

    fn output_schema() -> Value {
        by_label::report_schema(&DELETE)
    }

    fn run(ctx: &mut Context, args: BulkDeleteByLabelArgs) -> Result<Output, ToolError> {
        by_label::run(ctx, args.project.as_deref(), &args.labels, args.confirm, args.dry_run, &DELETE)
    }
}
