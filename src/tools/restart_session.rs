//! `acp_restart_session`: start a stopped or finished session again.

use super::bulk::{self, Acted, Action};
use super::render::SessionChangeArgs;
use super::stop_session::{Words, run_one};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::OpKind;
use serde_json::Value;

/// Restarting, in the words of results; shared with the bulk tool.
pub const RESTART: Action = Action {
    op: OpKind::Start,
    verb: "restart",
    done: "restarted",
    would: "would_restart",
    act: |api, t, id, ()| api.start(t, id).map(|s| Acted::status(Some(s.status))),
    preview: None,
    already: &["running", "creating", "pending"],
    state: "already running",
};

const RESTART_WORDS: Words = Words {
    action: &RESTART,
    from: &["stopped", "failed", "completed", "pending"],
    from_text: "Stopped, Failed or Completed",
};

pub struct RestartSession;

impl Tool for RestartSession {
    const NAME: &'static str = "acp_restart_session";
    const TITLE: &'static str = "Restart session";
    const DESCRIPTION: &'static str = "Start a stopped, failed or completed session again (same ID). Needs api: \
        ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = SessionChangeArgs;

    fn output_schema() -> Value {
        bulk::item_schema(&RESTART)
    }

    fn run(ctx: &mut Context, args: SessionChangeArgs) -> Result<Output, ToolError> {
        run_one(ctx, args, &RESTART_WORDS)
    }
}
