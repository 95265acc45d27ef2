//! `acp_get_session`: one session by id.

use super::render::{SessionArgs, describe, failed, session_schema};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::Session;
use serde::Serialize;
use serde_json::{Value, json};

pub struct GetSession;

#[derive(Serialize)]
struct Shown {
    cluster: String,
    project: String,
    session: Session,
}

impl Tool for GetSession {
    const NAME: &'static str = "acp_get_session";
    const TITLE: &'static str = "Get session";
    const DESCRIPTION: &'static str = "Check on one session by ID: status, task, model, times, result or error.";
    const EFFECT: Effect = Effect::READ;
    type Args = SessionArgs;

    fn output_schema() -> Value {
        json!({
            "type": "object",
            "properties": {"cluster": {"type": "string"}, "project": {"type": "string"}, "session": session_schema()},
            "required": ["cluster", "project", "session"],
        })
    }

    fn run(ctx: &mut Context, args: SessionArgs) -> Result<Output, ToolError> {
        let id = args.session.as_str();
        ctx.with_api(args.project.as_deref(), |api, t| match api.get(t, id) {
            Ok(session) => {
                let mut text = format!("Session '{}' (project '{}', cluster '{}')\n", session.id, t.project, t.cluster);
                describe(&session, &mut text);
                let shown = Shown { cluster: t.cluster.into(), project: t.project.into(), session };
                Ok(Output::new(false, text, &shown))
            }
            Err(e) => failed(t, id, format!("Failed to get session '{id}'"), e),
        })?
    }
}
