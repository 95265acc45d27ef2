//! `acp_send_message`: a user message to a session, or on a dry run, the exact request.

use super::params::{DRY_RUN, Kind, MAX_PROMPT_CHARS, PROJECT, Param, SESSION};
use super::render::{failed, request_schema, require};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{ApiError, Backend, Op, OpKind, RequestPreview, Target};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

crate::tool_args! {
    pub struct SendArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        message: String = Param::new(Kind::Text { max: MAX_PROMPT_CHARS }, true, ""),
        dry_run: bool = DRY_RUN,
    }
}

pub struct SendMessage;

#[derive(Serialize)]
struct Sent {
    cluster: String,
    project: String,
    session: String,
    dry_run: bool,
    /// Dry run only: what would be sent, token masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<RequestPreview>,
    /// The stored message's sequence number in the session's conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
}

impl Tool for SendMessage {
    const NAME: &'static str = "acp_send_message";
    const TITLE: &'static str = "Send message to session";
    const DESCRIPTION: &'static str = "Send a user message to a session; does not wait for the reply (read it with \
        acp_get_session_transcript). Needs api: ambient.";
    const EFFECT: Effect = Effect::CREATE;
    type Args = SendArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "project": {"type": "string"},
                "session": {"type": "string"},
                "dry_run": {"type": "boolean"},
                "request": "$0",
                "seq": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "the stored message's sequence number"
                },
                "created_at": {"type": "string"}
            },
            "required": ["cluster", "project", "session", "dry_run"]
        }"#,
            vec![json!(request_schema())],
        )
    }

    fn run(ctx: &mut Context, args: SendArgs) -> Result<Output, ToolError> {
        let id = args.session.as_str();
        let text = args.message.as_str();
        ctx.with_api(args.project.as_deref(), |api, t| {
            needs_ambient(api, t, OpKind::SendMessage, "Sending a message")?;
            let mut sent = Sent {
                cluster: t.cluster.into(),
                project: t.project.into(),
                session: id.into(),
                dry_run: args.dry_run,
                request: None,
                seq: None,
                created_at: None,
            };
            if args.dry_run {
                let session = match api.get(t, id) {
                    Ok(s) => s,
                    Err(e) => return failed(t, id, format!("Could not look up session '{id}' for the dry run"), e),
                };
                let preview = api.preview(t, &Op::SendMessage { id, text });
                let preview = preview.map_err(|e| ToolError::Api("Cannot preview the message".into(), e, "", t.api))?;
                let mut out = format!(
                    "DRY RUN - nothing was sent.\n\nSession '{id}' (project '{}', cluster '{}', status {}) would \
                     receive this request:\n",
                    t.project, t.cluster, session.status
                );
                let _ = writeln!(out, "{} {}", preview.method, preview.url);
                for (k, v) in &preview.headers {
                    let _ = writeln!(out, "{k}: {v}");
                }
                let _ = writeln!(out, "\n{}", serde_json::to_string_pretty(&preview.body).unwrap_or_default());
                sent.request = Some(preview);
                return Ok(Output::new(false, out, &sent));
            }
            match api.send_message(t, id, text) {
                Ok(m) => {
                    let out = format!(
                        "Message sent to session '{id}' (project '{}', cluster '{}'): seq {}.\nThe agent's reply \
                         is not awaited; read it with acp_get_session_transcript(session=\"{id}\").",
                        t.project, t.cluster, m.seq
                    );
                    sent.seq = Some(m.seq);
                    sent.created_at = m.created_at;
                    Ok(Output::new(false, out, &sent))
                }
                Err(e) if maybe_delivered(&e) => Err(ToolError::Api(
                    format!("Failed to send a message to session '{id}'"),
                    e,
                    " The message may have been stored anyway: check with acp_get_session_transcript before \
                     sending it again.",
                    t.api,
                )),
                Err(e) => failed(t, id, format!("Failed to send a message to session '{id}'"), e),
            }
        })?
    }
}

/// An answer lost after the request may have gone out.
fn maybe_delivered(e: &ApiError) -> bool {
    matches!(e, ApiError::Timeout { .. } | ApiError::Transport { .. } | ApiError::Status { status: 500.., .. })
}

/// Refuse, before anything is sent, where the cluster's API has no message routes; the message
/// names the API this needs and the one the cluster has.
pub(super) fn needs_ambient(api: &dyn Backend, t: &Target, op: OpKind, doing: &str) -> Result<(), ToolError> {
    let context = format!(
        "{doing} needs a cluster with `api: ambient`; cluster '{}' has `api: {}`",
        t.cluster,
        api.capabilities().api
    );
    require(api, t, op, &context)
}
