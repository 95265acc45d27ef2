//! `acp_wait_session`: block until a session reaches a phase, the time is up, or the client
//! cancels; poll with backoff and report progress meanwhile.

use super::context::Wake;
use super::params::{Kind, PROJECT, Param, SESSION};
use super::render::not_found;
use super::{Context, Effect, Output, Tool, ToolError};
use crate::deadline::Deadline;
use crate::gateway::{ApiError, PHASES};
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

const DEFAULT_TIMEOUT: i64 = 120;
const MAX_TIMEOUT: i64 = 600;
/// Polls start this far apart and back off to at most [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(10);
/// Phases a session does not leave by itself.
const FINAL: &[&str] = &["stopped", "completed", "failed"];

crate::tool_args! {
    pub struct WaitArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        phases: Vec<String> = Param::new(Kind::EnumList(PHASES), false, ""),
        timeout_seconds: Option<i64> = Param::new(Kind::Int { min: 1, max: MAX_TIMEOUT }, false, ""),
    }
}

pub struct WaitSession;

#[derive(Serialize)]
struct Waited {
    session: String,
    project: String,
    /// `reached`, `timed_out`, `cancelled` (by the client) or `client_gone`.
    outcome: &'static str,
    /// The phase at the last look.
    phase: String,
    /// Each phase seen, in order, without repeats.
    phases_seen: Vec<String>,
    waited_seconds: u64,
    polls: u32,
}

impl Tool for WaitSession {
    const NAME: &'static str = "acp_wait_session";
    const TITLE: &'static str = "Wait for a session";
    const DESCRIPTION: &'static str = "Wait, instead of polling, until a session reaches one of phases (default: \
        stopped, completed or failed, or leaving running) or timeout_seconds (120) pass. Blocks other calls.";
    const EFFECT: Effect = Effect::READ;
    type Args = WaitArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "session": {"type": "string"},
                "project": {"type": "string"},
                "outcome": {"type": "string", "enum": ["reached", "timed_out", "cancelled", "client_gone"]},
                "phase": {"type": "string"},
                "phases_seen": {"type": "array", "items": {"type": "string"}},
                "waited_seconds": {"type": "integer"},
                "polls": {"type": "integer"}
            },
            "required": ["session", "project", "outcome", "phase", "phases_seen", "waited_seconds", "polls"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, args: WaitArgs) -> Result<Output, ToolError> {
        let timeout = Duration::from_secs(args.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT) as u64);
        let id = args.session.as_str();
        let started = Instant::now();
        // The wait's own timeout bounds the call: each poll gets what is left of it.
        ctx.set_deadline(Some(Deadline::after(timeout)));
        let mut delay = FIRST_DELAY;
        let mut w = Waited {
            session: id.to_string(),
            project: String::new(),
            outcome: "timed_out",
            phase: String::new(),
            phases_seen: vec![],
            waited_seconds: 0,
            polls: 0,
        };
        loop {
            let look = ctx.with_api(args.project.as_deref(), |api, t| {
                let folds = api.capabilities().creating_is_pending;
                match api.get(t, id) {
                    Ok(s) => Ok(Some((t.project.to_string(), s.status.to_ascii_lowercase(), folds))),
                    Err(e) if e.is_not_found() => Err(Ok(Output::failure(not_found(t, id)))),
                    // The wait's time ran out during a poll: the wait timed out, it did not fail.
                    Err(ApiError::Timeout { .. }) if w.polls > 0 => Ok(None),
                    Err(e) => {
                        Err(Err(ToolError::Api(format!("Failed to read session '{id}' while waiting"), e, "", t.api)))
                    }
                }
            })?;
            let (project, phase, folds) = match look {
                Ok(Some(found)) => found,
                Ok(None) => break,
                Err(answer) => return answer,
            };
            w.project = project;
            w.polls += 1;
            if w.phases_seen.last() != Some(&phase) {
                w.phases_seen.push(phase.clone());
            }
            w.phase = phase;
            if reached(&w.phase, &args.phases, &w.phases_seen, folds) {
                w.outcome = "reached";
                break;
            }
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            let message = format!("session {id} is {} after {} s", w.phase, started.elapsed().as_secs());
            ctx.report_progress(started.elapsed().as_secs() as usize, timeout.as_secs() as usize, message);
            match ctx.pause(delay.min(left)) {
                // A poll at the very end would have no time left to be answered.
                Wake::Elapsed if started.elapsed() >= timeout => break,
                Wake::Elapsed => delay = (delay * 2).min(MAX_DELAY),
                Wake::Cancelled => {
                    w.outcome = "cancelled";
                    break;
                }
                Wake::Closed => {
                    w.outcome = "client_gone";
                    break;
                }
            }
        }
        w.waited_seconds = started.elapsed().as_secs();
        Ok(Output::new(false, text(&w, &args.phases), &w))
    }
}

/// Is `phase` one the caller waits for? With no `wanted`, a final phase or leaving running.
/// An API that reports Creating as pending reaches `creating` when it says pending.
fn reached(phase: &str, wanted: &[String], seen: &[String], creating_is_pending: bool) -> bool {
    match wanted.is_empty() {
        true => FINAL.contains(&phase) || (seen.iter().any(|p| p == "running") && phase != "running"),
        false => wanted.iter().any(|w| w == phase || (creating_is_pending && w == "creating" && phase == "pending")),
    }
}

fn text(w: &Waited, wanted: &[String]) -> String {
    let (id, secs) = (&w.session, w.waited_seconds);
    let seen = w.phases_seen.join(" → ");
    match w.outcome {
        "reached" => format!("Session '{id}' is {} (after {secs} s; phases seen: {seen}).", w.phase),
        "cancelled" => format!("Cancelled by the client after {secs} s; session '{id}' was {}.", w.phase),
        "client_gone" => format!("The client went away after {secs} s; session '{id}' was {}.", w.phase),
        _ => {
            let goal = match wanted.is_empty() {
                true => "a final phase (stopped, completed, failed) or a change from running".to_string(),
                false => wanted.join(", "),
            };
            format!(
                "Timed out after {secs} s: session '{id}' is still {} (waiting for {goal}; phases seen: {seen}). \
                 Call acp_wait_session again to keep waiting.",
                w.phase
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn by_default_a_final_phase_or_leaving_running_ends_the_wait() {
        assert!(reached("completed", &[], &s(&["pending", "completed"]), false));
        assert!(!reached("running", &[], &s(&["pending", "running"]), false));
        assert!(reached("stopping", &[], &s(&["running", "stopping"]), false));
        assert!(!reached("creating", &[], &s(&["pending", "creating"]), false));
        // Running reached after waiting: leaving it ends the wait too (the bug was: only when seen first).
        assert!(reached("stopping", &[], &s(&["pending", "running", "stopping"]), false));
    }

    #[test]
    fn asked_phases_end_it_and_the_gateway_says_pending_for_creating() {
        assert!(reached("running", &s(&["running"]), &s(&["running"]), false));
        assert!(!reached("pending", &s(&["creating"]), &s(&["pending"]), false));
        assert!(reached("pending", &s(&["creating"]), &s(&["pending"]), true));
    }
}
