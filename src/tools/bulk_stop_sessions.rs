//! `acp_bulk_stop_sessions`: up to 3 sessions, with confirm.

use super::params::{CONFIRM, DRY_RUN, Kind, PROJECT, Param};
use super::stop_session::STOP;
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkStopArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(Kind::Names { max: MAX_BULK }, true, ""),
        confirm: bool = CONFIRM,
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkStopSessions;

impl Tool for BulkStopSessions {
    const NAME: &'static str = "acp_bulk_stop_sessions";
    const TITLE: &'static str = "Stop several sessions";
    const DESCRIPTION: &'static str = "Stop up to 3 sessions by ID; needs confirm=true and api: ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkStopArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&STOP)
    }

    fn run(ctx: &mut Context, args: BulkStopArgs) -> Result<Output, ToolError> {
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &STOP, &())
    }
}
