//! `acp_bulk_delete_sessions`: up to 3 sessions, with confirm.

use super::delete_session::DELETE;
use super::params::{CONFIRM, DRY_RUN, Kind, PROJECT, Param};
use super::{Context, Effect, MAX_BULK, Output, Tool, ToolError, bulk};
use serde_json::Value;

crate::tool_args! {
    pub struct BulkDeleteArgs {
        project: Option<String> = PROJECT,
        sessions: Vec<String> = Param::new(Kind::Names { max: MAX_BULK }, true, ""),
        confirm: bool = CONFIRM,
        dry_run: bool = DRY_RUN,
    }
}

pub struct BulkDeleteSessions;

impl Tool for BulkDeleteSessions {
    const NAME: &'static str = "acp_bulk_delete_sessions";
    const TITLE: &'static str = "Delete several sessions";
    const DESCRIPTION: &'static str = "Delete up to 3 sessions by ID, irreversibly; needs confirm=true.";
    const EFFECT: Effect = Effect::DESTROY;
    type Args = BulkDeleteArgs;

    fn output_schema() -> Value {
        bulk::report_schema(&DELETE)
    }

    fn run(ctx: &mut Context, args: BulkDeleteArgs) -> Result<Output, ToolError> {
        bulk::run(ctx, args.project.as_deref(), &args.sessions, args.confirm, args.dry_run, &DELETE, &())
    }
}
