//! `acp_delete_session`: one session, or on a dry run, a look at what would go.

use super::bulk::{self, Acted, Action, Item};
use super::render::{SessionChangeArgs, describe, failed};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::OpKind;
use serde_json::Value;

/// Deleting, in the words of results; shared with the bulk tool.
pub const DELETE: Action = Action {
    op: OpKind::Delete,
    verb: "delete",
    done: "deleted",
    would: "would_delete",
    act: |api, t, id, ()| api.delete(t, id).map(|()| Acted::default()),
    preview: None,
    already: &[],
    state: "",
};

pub struct DeleteSession;

impl Tool for DeleteSession {
    const NAME: &'static str = "acp_delete_session";
    const TITLE: &'static str = "Delete session";
    const DESCRIPTION: &'static str = "Delete one session by ID, irreversibly. For up to 3, use \
        acp_bulk_delete_sessions.";
    const EFFECT: Effect = Effect::DESTROY;
    type Args = SessionChangeArgs;

    fn output_schema() -> Value {
        bulk::item_schema(&DELETE)
    }

    fn run(ctx: &mut Context, args: SessionChangeArgs) -> Result<Output, ToolError> {
        let id = args.session.as_str();
        ctx.with_api(args.project.as_deref(), |api, t| {
            let item = |outcome, status| Item { session: id.into(), outcome, status, error: None, note: None };
            if args.dry_run {
                return match api.get(t, id) {
                    Ok(s) => {
                        let mut text = format!(
                            "DRY RUN - nothing was deleted.\n\nWould delete session '{id}' in project '{}' (cluster '{}'):\n",
                            t.project, t.cluster
                        );
                        describe(&s, &mut text);
                        Ok(Output::new(false, text, &item(DELETE.would, Some(s.status))))
                    }
                    Err(e) => failed(t, id, format!("Could not look up session '{id}' for the dry run"), e),
                };
            }
            match api.delete(t, id) {
                Ok(()) => {
                    let text = format!("Deleted session '{id}' from project '{}' (cluster '{}').", t.project, t.cluster);
                    Ok(Output::new(false, text, &item(DELETE.done, None)))
                }
                Err(e) => failed(t, id, format!("Failed to delete session '{id}'"), e),
            }
        })?
    }
}
