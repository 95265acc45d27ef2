//! `acp_stop_session`: stop one session; and what stopping and restarting one session share.

use super::bulk::{self, Acted, Action, Item};
use super::render::{SessionChangeArgs, failed, require};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{ApiError, OpKind};
use serde_json::Value;

/// Stopping, in the words of results; shared with the bulk tool.
pub const STOP: Action = Action {
    op: OpKind::Stop,
    verb: "stop",
    done: "stopped",
    would: "would_stop",
    act: |api, t, id, ()| api.stop(t, id).map(|s| Acted::status(Some(s.status))),
    preview: None,
    already: &["stopping", "stopped", "failed", "completed"],
    state: "not running",
};

/// What a single stop or restart says when the session is already where it was asked to go.
pub struct Words {
    pub action: &'static Action,
    /// Statuses the server acts from; a dry run warns about any other.
    pub from: &'static [&'static str],
    /// "Running, Creating or Pending", for that warning.
    pub from_text: &'static str,
}

const STOP_WORDS: Words =
    Words { action: &STOP, from: &["running", "creating", "pending"], from_text: "Running, Creating or Pending" };

/// Stop or restart one session, or on a dry run look it up. Nothing is sent where the API
/// cannot do it; a refusal because it is already in that state is an answer, not an error.
pub fn run_one(ctx: &mut Context, args: SessionChangeArgs, w: &Words) -> Result<Output, ToolError> {
    let (id, a) = (args.session.as_str(), w.action);
    ctx.with_api(args.project.as_deref(), |api, t| {
        require(api, t, a.op, &format!("Cannot {} session '{id}'", a.verb))?;
        let item = |outcome, status| Item { session: id.into(), outcome, status, error: None, note: None };
        let place = format!("in project '{}' (cluster '{}')", t.project, t.cluster);
        if args.dry_run {
            return match api.get(t, id) {
                Ok(s) => {
                    let mut text = format!(
                        "DRY RUN - nothing was {}.\n\nWould {} session '{id}' (status: {}) {place}.",
                        a.done, a.verb, s.status
                    );
                    if !w.from.contains(&s.status.as_str()) {
                        text += &format!(
                            " The server will likely refuse: it can {} only {} sessions.",
                            a.verb, w.from_text
                        );
                    }
                    Ok(Output::new(false, text, &item(a.would, Some(s.status))))
                }
                Err(e) => failed(t, id, format!("Could not look up session '{id}' for the dry run"), e),
            };
        }
        match (a.act)(api, t, id, &()).map(|a| a.status) {
            Ok(status) => {
                let now = status.as_deref().map(|s| format!("; status now: {s}")).unwrap_or_default();
                let text = format!("{} session '{id}' {place}{now}.", bulk::capitalized(a.done));
                Ok(Output::new(false, text, &item(a.done, status)))
            }
            // The phase is ours (the backend read it); any other refusal is a failure below.
            Err(ApiError::WrongPhase { phase }) if a.already.contains(&phase) => {
                let text =
                    format!("Session '{id}' is {} ({}); nothing to {}.", a.state, bulk::phase_words(phase), a.verb);
                Ok(Output::new(false, text, &item("skipped", Some(phase.to_string()))))
            }
            Err(ApiError::WrongPhase { phase }) => {
                let text = format!(
                    "Session '{id}' is {}: it can be {} only from {}; nothing was done. Check its phase with \
                     acp_get_session (or wait with acp_wait_session) and try again.",
                    match phase {
                        // Not picked up yet: it will still run, so this is no "nothing to do".
                        "" => "not picked up yet (no phase)".to_string(),
                        p => bulk::capitalized(p),
                    },
                    a.done,
                    w.from_text
                );
                Ok(Output::new(true, text, &item("failed", Some(phase.to_string()).filter(|p| !p.is_empty()))))
            }
            Err(e) => failed(t, id, format!("Failed to {} session '{id}'", a.verb), e),
        }
    })?
}

pub struct StopSession;

impl Tool for StopSession {
    const NAME: &'static str = "acp_stop_session";
    const TITLE: &'static str = "Stop session";
    const DESCRIPTION: &'static str = "Stop a running session; it is kept and can be restarted. Needs api: \
        ambient.";
    const EFFECT: Effect = Effect::CONTROL;
    type Args = SessionChangeArgs;

    fn output_schema() -> Value {
        bulk::item_schema(&STOP)
    }

    fn run(ctx: &mut Context, args: SessionChangeArgs) -> Result<Output, ToolError> {
        run_one(ctx, args, &STOP_WORDS)
    }
}
