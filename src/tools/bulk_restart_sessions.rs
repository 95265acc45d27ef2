//! `acp_bulk_restart_sessions`: up to 3 sessions, with confirm.

use super::params::{CONFIRM, DRY_RUN, Kind, PROJECT, Param};
use super::restart_session::RESTART;
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkRestartArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(Kind::Names { max: MAX_BULK }, true, ""),
        confirm: bool = CONFIRM,
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkRestartSessions;

impl Tool for BulkRestartSessions {
    const NAME: &'static str = "acp_bulk_restart_sessions";
    const TITLE: &'static str = "Restart several sessions";
    const DESCRIPTION: &'static str = "Restart up to 3 stopped, failed or completed sessions by ID; needs \
        confirm=true and api: ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkRestartArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&RESTART)
    }

    fn run(ctx: &mut Context, args: BulkRestartArgs) -> Result<Output, ToolError> {
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &RESTART, &())
    }
}
