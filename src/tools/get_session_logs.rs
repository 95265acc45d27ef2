//! `acp_get_session_logs`: neither ACP API serves container logs; this says so, sends
//! nothing, and points to what exists.

use super::params::{Kind, PROJECT, Param, SESSION};
use super::{Context, Effect, Output, Tool, ToolError};
use serde_json::Value;

crate::tool_args! {
    /// Validated like everywhere (a bad id is still an error), though nothing is fetched.
    #[allow(dead_code)]
    pub struct LogsArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        container: Option<String> = Param::new(Kind::Label { max: 63 }, false, ""),
        tail_lines: Option<i64> = Param::new(Kind::Int { min: 1, max: 10_000 }, false, ""),
    }
}

pub struct GetSessionLogs;

impl Tool for GetSessionLogs {
    const NAME: &'static str = "acp_get_session_logs";
    const TITLE: &'static str = "Get session logs (not available)";
    const DESCRIPTION: &'static str = "Unavailable: no ACP API serves container logs. Sends nothing; see \
        acp_get_session or acp_get_session_transcript.";
    const EFFECT: Effect = Effect::LOCAL_READ;
    type Args = LogsArgs;

    fn output_schema() -> Value {
        crate::schema::with(r#"{"type": "object", "properties": {}}"#, vec![])
    }

    fn run(_: &mut Context, args: LogsArgs) -> Result<Output, ToolError> {
        Ok(Output::failure(format!(
            "Logs of session '{}' are not available: neither the public-api gateway nor the ambient API server \
             serves container logs, so nothing was sent. Use acp_get_session(session=\"{0}\") for its status and \
             error, acp_get_session_transcript(session=\"{0}\") for what it said (clusters with api: ambient), \
             or acp_wait_session(session=\"{0}\") to wait until it finishes.",
            args.session
        )))
    }
}
