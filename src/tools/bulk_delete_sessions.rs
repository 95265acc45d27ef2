//! `acp_bulk_delete_sessions`: up to 3 sessions, with confirm.

use super::delete_session::DELETE;
use super::params::{DRY_RUN, Kind, PROJECT, Param};
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkDeleteArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(
            Kind::Names { max: MAX_BULK },
            true,
            "Session IDs to delete: 1 to 3 distinct DNS-1123 names.",
        ),
        confirm: bool = Param::new(Kind::Bool, false, "Must be true to delete (not needed with dry_run)."),
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkDeleteSessions;

impl Tool for BulkDeleteSessions {
    const NAME: &'static str = "acp_bulk_delete_sessions";
    const TITLE: &'static str = "Delete several sessions";
    const DESCRIPTION: &'static str = "Delete up to 3 sessions in one call. Destructive and irreversible: requires \
        confirm=true, unless dry_run=true, which only looks the sessions up and shows what would be deleted. \
        Names must be distinct. Each session's outcome (deleted, not found, failed) is reported separately; one \
        failure does not stop the others. More than 3 names is refused without sending anything.";
    const EFFECT: Effect = Effect::DESTROY;
    type Args = BulkDeleteArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&DELETE)
    }

    fn run(ctx: &mut Context, args: BulkDeleteArgs) -> Result<Output, ToolError> {
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &DELETE, &())
    }
}
