//! `acp_bulk_restart_sessions_by_label`: the sessions with every given label, at most 3, with confirm.

use super::by_label;
use super::labels::{LABELS_TO_MATCH, Labels};
use super::params::{DRY_RUN, Kind, PROJECT, Param};
use super::restart_session::RESTART;
use super::{Context, Effect, Output, Tool, ToolError};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkRestartByLabelArgs {
        project: Option<String> = PROJECT,
        labels: Labels = LABELS_TO_MATCH,
        confirm: bool = Param::new(Kind::Bool, false, "Must be true to restart (not needed with dry_run)."),
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkRestartSessionsByLabel;

impl Tool for BulkRestartSessionsByLabel {
    const NAME: &'static str = "acp_bulk_restart_sessions_by_label";
    const TITLE: &'static str = "Restart sessions by label";
    const DESCRIPTION: &'static str = "Restart the stopped, failed or completed sessions of a project that have every given label with \
        exactly that value (matched here, not by a server filter). Requires confirm=true, unless dry_run=true, \
        which lists exactly the sessions that would be restarted. If more than 3 match, nothing is restarted \
        and the matches are listed. The 1,000 newest sessions are searched. Needs api: ambient; the public-api \
        gateway is refused (nothing is sent).";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkRestartByLabelArgs;

    fn output_schema() -> Value {
        by_label::report_schema(&RESTART)
    }

    fn run(ctx: &mut Context, args: BulkRestartByLabelArgs) -> Result<Output, ToolError> {
        by_label::run(ctx, args.project.as_deref(), &args.labels, args.confirm, args.dry_run, &RESTART)
    }
}
