//! `acp_create_session`: a new session, read back to say what the API really stored.

use super::params::{DRY_RUN, Kind, MAX_PROMPT_CHARS, PROJECT, Param};
use super::render::{request_schema, session_schema};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{ApiError, Backend, NewSession, Op, Repo, RequestPreview, Session, Target};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

crate::tool_args! {
    pub struct CreateArgs {
        project: Option<String> = PROJECT,
        initial_prompt: String = Param::new(Kind::Text { max: MAX_PROMPT_CHARS }, true, ""),
        display_name: Option<String> = Param::new(Kind::Label { max: 50 }, false, ""),
        repos: Vec<Repo> = Param::new(Kind::Repos { max: 10 }, false, ""),
        interactive: Option<bool> = Param::new(Kind::Bool, false, ""),
        model: Option<String> = Param::new(Kind::Model, false, ""),
        timeout: Option<i64> = Param::new(Kind::Int { min: 60, max: 86_400 }, false, ""),
        dry_run: bool = DRY_RUN,
    }
}

pub struct CreateSession;

impl Tool for CreateSession {
    const NAME: &'static str = "acp_create_session";
    const TITLE: &'static str = "Create session";
    const DESCRIPTION: &'static str = "Create a session working on initial_prompt. The result says what the API \
        stored and what it could not apply.";
    const EFFECT: Effect = Effect::CREATE;
    type Args = CreateArgs;

    fn output_schema() -> Value {
        creation_schema(crate::schema::with(r#"{}"#, vec![]), &[])
    }

    fn run(ctx: &mut Context, args: CreateArgs) -> Result<Output, ToolError> {
        let new = NewSession {
            model: args.model,
            repos: args.repos,
            name: args.display_name.clone(),
            timeout: args.timeout,
            ..NewSession::with_task(args.initial_prompt)
        };
        let given = [
            ("display_name", args.display_name.is_some()),
            ("interactive", args.interactive.is_some()),
            ("timeout", args.timeout.is_some()),
        ];
        let dry_run = args.dry_run;
        ctx.with_api(args.project.as_deref(), |api, t| {
            let mut c = Creation::new(t, dry_run, not_applied(api, &given));
            create(api, t, &new, &mut c)?;
            Ok(Output::new(c.lost_prompt(), creation_text(&c, ""), &c))
        })?
    }
}

/// The options given (`(name, given)`) that this cluster's API cannot apply.
pub fn not_applied(api: &dyn Backend, given: &[(&'static str, bool)]) -> Vec<&'static str> {
    let applies = api.capabilities().create_options;
    given.iter().filter(|(k, given)| *given && !applies.contains(k)).map(|(k, _)| *k).collect()
}

/// Preview the create (dry run), or create and read the session back to see what was stored.
/// Shared by every tool that creates a session.
pub fn create(api: &mut dyn Backend, t: &Target, new: &NewSession, c: &mut Creation) -> Result<(), ToolError> {
    if c.dry_run {
        let preview = api.preview(t, &Op::Create { new });
        c.request = Some(preview.map_err(|e| ToolError::Api("Cannot preview the create".into(), e, "", t.api))?);
        return Ok(());
    }
    let id = api.create(t, new).map_err(|e| {
        let maybe_created = matches!(e, ApiError::Status { status: 500.., .. } | ApiError::Transport { .. });
        let hint = if maybe_created {
            " A session may have been created anyway (the API can fail after it stored the session): \
             check with acp_list_sessions before creating again."
        } else {
            ""
        };
        ToolError::Api(format!("Failed to create session in project '{}'", t.project), e, hint, t.api)
    })?;
    c.session = Some(id.clone());
    check_what_was_stored(api, t, new, &id, c);
    Ok(())
}

/// The properties of [`Creation`], for the schemas of tools that add their own.
pub fn creation_schema(extra: Value, extra_required: &[&str]) -> Value {
    let mut schema = crate::schema::with(
        r#"{
        "type": "object",
        "properties": {
            "cluster": {"type": "string"},
            "project": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "request": "$0",
            "session": {"type": "string", "description": "the created session's ID"},
            "stored": "$1",
            "prompt_stored": {
                "type": "boolean",
                "description": "the API kept the prompt (false: the session has no task)"
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
            "not_applied": {
                "type": "array",
                "items": {"type": "string"},
                "description": "options this API cannot apply (not sent)"
            }
        },
        "required": ["cluster", "project", "dry_run", "prompt_stored", "warnings", "not_applied"]
    }"#,
        vec![json!(request_schema()), json!(session_schema())],
    );
    if let (Some(props), Value::Object(extra)) = (schema["properties"].as_object_mut(), extra) {
        props.extend(extra);
    }
    if let Some(required) = schema["required"].as_array_mut() {
        required.extend(extra_required.iter().map(|r| json!(r)));
    }
    schema
}

/// What a create did; tools that create in their own way add fields beside it (flattened).
#[derive(Serialize)]
pub struct Creation {
    pub cluster: String,
    pub project: String,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestPreview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// What the API reports after the create (read back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<Session>,
    pub prompt_stored: bool,
    pub warnings: Vec<String>,
    pub not_applied: Vec<&'static str>,
}

impl Creation {
    pub fn new(t: &Target, dry_run: bool, not_applied: Vec<&'static str>) -> Creation {
        Creation {
            cluster: t.cluster.into(),
            project: t.project.into(),
            dry_run,
            request: None,
            session: None,
            stored: None,
            prompt_stored: false,
            warnings: Vec::new(),
            not_applied,
        }
    }

    /// A session was created without the prompt it was asked for: the call failed its purpose.
    pub fn lost_prompt(&self) -> bool {
        !self.dry_run && !self.prompt_stored
    }
}

/// Read the new session back and say plainly what the API did not keep.
fn check_what_was_stored(api: &mut dyn Backend, t: &Target, new: &NewSession, id: &str, c: &mut Creation) {
    let stored = match api.get(t, id) {
        Ok(s) => s,
        Err(e) => {
            c.warnings.push(format!(
                "The session was created, but reading it back failed, so it is unknown whether the \
                 prompt was stored: {}",
                e.describe(t.api)
            ));
            c.prompt_stored = true; // unknown is not a known failure; the warning says it
            return;
        }
    };
    c.prompt_stored = stored.task == new.task;
    let api_name = super::bulk::capitalized(t.api);
    if stored.task.is_empty() && !new.task.is_empty() {
        let why = match api.capabilities().api {
            "public-api" => " (this gateway forwards `task` under a name its backend ignores)",
            _ => "",
        };
        c.warnings.push(format!(
            "{api_name} did NOT store the prompt: session '{id}' exists but has no task, so it will not \
             do what was asked{why}. Do not \
             retry: every retry creates another session without a prompt. Delete it with \
             acp_delete_session(session=\"{id}\") if it is not wanted."
        ));
    } else if !c.prompt_stored {
        c.warnings.push(format!("{api_name} stored a different prompt than the one sent."));
    }
    if let Some(model) = &new.model {
        if stored.model.as_deref() != Some(model.as_str()) {
            let got = stored.model.as_deref().map(|m| format!("'{m}'")).unwrap_or_else(|| "no model".into());
            c.warnings.push(format!(
                "The model '{model}' was not stored: {} reports {got}, so the platform's default model is used.",
                t.api
            ));
        }
    }
    c.stored = Some(stored);
}

/// The result as text; `extra` (lines of the calling tool) goes after what was created.
pub fn creation_text(c: &Creation, extra: &str) -> String {
    let mut out = String::new();
    if let Some(req) = &c.request {
        out.push_str("DRY RUN - nothing was sent.\n\nWould send:\n");
        let _ = writeln!(out, "{} {}", req.method, req.url);
        for (k, v) in &req.headers {
            let _ = writeln!(out, "{k}: {v}");
        }
        let _ = writeln!(out, "\n{}", serde_json::to_string_pretty(&req.body).unwrap_or_default());
    }
    if let Some(id) = &c.session {
        let _ = writeln!(out, "Session created: {id}\nProject: {} (cluster '{}')", c.project, c.cluster);
    }
    out.push_str(extra);
    for w in &c.warnings {
        let _ = writeln!(out, "\nWARNING: {w}");
    }
    if !c.not_applied.is_empty() {
        let _ = writeln!(
            out,
            "\nNot applied: {} (this cluster's API has no field for them, so they were not sent).",
            c.not_applied.join(", ")
        );
    }
    if let Some(id) = &c.session {
        let _ = writeln!(out, "\nCheck status:\n  acp_get_session(project=\"{}\", session=\"{id}\")", c.project);
    }
    out
}
