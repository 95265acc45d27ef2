//! `acp_bulk_restart_sessions`: up to 3 sessions, with confirm.

use super::params::{DRY_RUN, Kind, PROJECT, Param};
use super::restart_session::RESTART;
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkRestartArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(
            Kind::Names { max: MAX_BULK },
            true,
            "Session IDs to restart: 1 to 3 distinct IDs.",
        ),
        confirm: bool = Param::new(Kind::Bool, false, "Must be true to restart (not needed with dry_run)."),
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkRestartSessions;

impl Tool for BulkRestartSessions {
    const NAME: &'static str = "acp_bulk_restart_sessions";
    const TITLE: &'static str = "Restart several sessions";
    const DESCRIPTION: &'static str = "Start up to 3 stopped, failed or completed sessions again in one call. \
        Requires confirm=true, unless dry_run=true, which only looks the sessions up. Each session's outcome \
        (restarted, skipped because already running, not found, failed) is reported separately; one failure \
        does not stop the others. Needs a cluster with api: ambient; the public-api gateway cannot restart \
        sessions (nothing is sent).";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = BulkRestartArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&RESTART)
    }

    fn run(ctx: &mut Context, args: BulkRestartArgs) -> Result<Output, ToolError> {
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &RESTART, &())
    }
}
