//! `acp_bulk_stop_sessions_by_label`: the sessions with every given label, at most 3, with confirm.

use super::by_label;
use super::labels::{LABELS_TO_MATCH, Labels};
use super::params::{DRY_RUN, Kind, PROJECT, Param};
use super::stop_session::STOP;
use super::{Context, Effect, Output, Tool, ToolError};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkStopByLabelArgs {
        project: Option<String> = PROJECT,
        labels: Labels = LABELS_TO_MATCH,
        confirm: bool = Param::new(Kind::Bool, false, "Must be true to stop (not needed with dry_run)."),
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkStopSessionsByLabel;

impl Tool for BulkStopSessionsByLabel {
    const NAME: &'static str = "acp_bulk_stop_sessions_by_label";
    const TITLE: &'static str = "Stop sessions by label";
    const DESCRIPTION: &'static str = "Stop the sessions of a project that have every given label with exactly that value (matched here, not \
        by a server filter); they are kept and can be restarted. Requires confirm=true, unless dry_run=true, \
        which lists exactly the sessions that would be stopped. If more than 3 match, nothing is stopped and the \
        matches are listed. The 1,000 newest sessions are searched. Needs api: ambient; the public-api gateway \
        is refused (nothing is sent).";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkStopByLabelArgs;

    fn output_schema() -> Value {
        by_label::report_schema(&STOP)
    }

    fn run(ctx: &mut Context, args: BulkStopByLabelArgs) -> Result<Output, ToolError> {
        by_label::run(ctx, args.project.as_deref(), &args.labels, args.confirm, args.dry_run, &STOP)
    }
}
