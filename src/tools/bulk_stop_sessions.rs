//! `acp_bulk_stop_sessions`: up to 3 sessions, with confirm.

use super::params::{DRY_RUN, Kind, PROJECT, Param};
use super::stop_session::STOP;
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkStopArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(
            Kind::Names { max: MAX_BULK },
            true,
            "Session IDs to stop: 1 to 3 distinct IDs.",
        ),
        confirm: bool = Param::new(Kind::Bool, false, "Must be true to stop (not needed with dry_run)."),
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkStopSessions;

impl Tool for BulkStopSessions {
    const NAME: &'static str = "acp_bulk_stop_sessions";
    const TITLE: &'static str = "Stop several sessions";
    const DESCRIPTION: &'static str = "Stop up to 3 sessions in one call; they are kept and can be restarted. \
        Requires confirm=true, unless dry_run=true, which only looks the sessions up. Each session's outcome \
        (stopped, skipped because not running, not found, failed) is reported separately; one failure does not \
        stop the others. Needs a cluster with api: ambient; the public-api gateway cannot stop sessions \
        (nothing is sent).";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkStopArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&STOP)
    }

    fn run(ctx: &mut Context, args: BulkStopArgs) -> Result<Output, ToolError> {
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &STOP, &())
    }
}
