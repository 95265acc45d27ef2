//! `acp_clone_session`: a new session with another's prompt and settings. Made with a
//! plain create, not the ambient API's `/clone`, which drops the prompt (docs/ambient-api.md
//! §12.5).

use super::create_session::{Creation, create, creation_schema, creation_text, not_applied};
use super::params::{DRY_RUN, Kind, MAX_PROMPT_CHARS, PROJECT, Param};
use super::render::{failed, require};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{Capabilities, NewSession, OpKind, Session};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

crate::tool_args! {
    pub struct CloneArgs {
        project: Option<String> = PROJECT,
        source_session: String = Param::new(Kind::SessionId, true, ""),
        new_display_name: String = Param::new(Kind::Label { max: 50 }, true, ""),
        dry_run: bool = DRY_RUN,
    }
}

pub struct CloneSession;

#[derive(Serialize)]
struct Cloning {
    #[serde(flatten)]
    creation: Creation,
    source_session: String,
    copied: Vec<&'static str>,
    not_copied: Vec<String>,
}

impl Tool for CloneSession {
    const NAME: &'static str = "acp_clone_session";
    const TITLE: &'static str = "Clone session";
    const DESCRIPTION: &'static str = "Create a session with source_session's prompt, model, repos, labels and \
        settings, in its project. Needs api: ambient.";
    const EFFECT: Effect = Effect::CREATE;
    type Args = CloneArgs;

    fn output_schema() -> Value {
        creation_schema(
            crate::schema::with(
                r#"{
                "source_session": {"type": "string"},
                "copied": {"type": "array", "items": {"type": "string"}},
                "not_copied": {"type": "array", "items": {"type": "string"}}
            }"#,
                vec![],
            ),
            &["source_session", "copied", "not_copied"],
        )
    }

    fn run(ctx: &mut Context, args: CloneArgs) -> Result<Output, ToolError> {
        let src = args.source_session.as_str();
        ctx.with_api(args.project.as_deref(), |api, t| {
            require(api, t, OpKind::Create, &format!("Cannot clone session '{src}'"))?;
            let caps = api.capabilities();
            if !caps.reads_prompt {
                return Ok(Output::failure(format!(
                    "Cannot clone session '{src}': {} does not return a session's prompt, so a clone would be a \
                     different session without the source's task. Nothing was sent. Use acp_create_session with \
                     the prompt instead.",
                    t.api
                )));
            }
            let source = match api.get(t, src) {
                Ok(s) => s,
                Err(e) => return failed(t, src, format!("Failed to read session '{src}' to clone it"), e),
            };
            if source.task.chars().count() > MAX_PROMPT_CHARS {
                return Ok(Output::failure(format!(
                    "Cannot clone session '{src}': its prompt is longer than the {MAX_PROMPT_CHARS} characters \
                     this server reads whole, so the clone would get a cut prompt. Nothing was created."
                )));
            }
            let (new, copied, not_copied) = copy(caps, &source, &args.new_display_name);
            let mut c = Cloning {
                creation: Creation::new(t, args.dry_run, not_applied(api, &[("display_name", true)])),
                source_session: source.id.clone(),
                copied,
                not_copied,
            };
            if source.task.is_empty() {
                c.creation.warnings.push(format!("Session '{src}' has no prompt, so neither has its clone."));
            }
            create(api, t, &new, &mut c.creation)?;
            let extra = clone_text(&c, &new);
            Ok(Output::new(c.creation.lost_prompt(), creation_text(&c.creation, &extra), &c))
        })?
    }
}

/// The create for a copy of `s` named `name`: only what this API can set; what it cannot, and
/// what this server does not read, is named in the third list.
fn copy(caps: &Capabilities, s: &Session, name: &str) -> (NewSession, Vec<&'static str>, Vec<String>) {
    let applies = |o: &str| caps.create_options.contains(&o);
    let mut new = NewSession::with_task(s.task.clone());
    new.name = Some(name.to_string());
    let mut copied = Vec::new();
    let mut not_copied = Vec::new();
    if !s.task.is_empty() {
        copied.push("prompt");
    }
    let mut take = |option: &str, field: &'static str, present: bool| {
        match (present, applies(option)) {
            (false, _) => return false,
            (true, true) => copied.push(field),
            (true, false) => not_copied.push(format!("{field} (this API cannot set it at create)")),
        }
        applies(option)
    };
    if take("model", "model", s.model.is_some()) {
        new.model = s.model.clone();
    }
    if take("repos", "repos", !s.repos.is_empty()) {
        new.repos = s.repos.clone();
    }
    if take("labels", "labels", !s.labels.is_empty()) {
        new.labels = s.labels.clone();
    }
    if take("temperature", "temperature", s.temperature.is_some()) {
        new.temperature = s.temperature;
    }
    if take("timeout", "timeout", s.timeout.is_some()) {
        new.timeout = s.timeout;
    }
    if take("parent", "parent_session_id", true) {
        new.parent = Some(s.id.clone());
    }
    if let Some(max) = s.max_tokens {
        not_copied.push(format!("max_tokens ({max}; this server cannot set it, so the API's default applies)"));
    }
    if applies("workflow") {
        not_copied.push("workflow (this server does not read it)".into());
    }
    (new, copied, not_copied)
}

fn clone_text(c: &Cloning, new: &NewSession) -> String {
    let verb = if c.creation.dry_run { "Would clone" } else { "Cloned from" };
    let mut out = format!("{verb}: {}\n", c.source_session);
    let detail = |field: &str| match field {
        "prompt" => format!("prompt ({} characters)", new.task.chars().count()),
        "model" => format!("model {}", new.model.as_deref().unwrap_or_default()),
        "repos" => format!("repos ({})", new.repos.len()),
        "labels" => {
            format!("labels ({})", new.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
        }
        "temperature" => format!("temperature {}", new.temperature.unwrap_or_default()),
        "timeout" => format!("timeout {} s", new.timeout.unwrap_or_default()),
        other => other.to_string(),
    };
    let copied: Vec<String> = c.copied.iter().map(|f| detail(f)).collect();
    let _ = writeln!(out, "Copied: {}", if copied.is_empty() { "nothing".into() } else { copied.join(", ") });
    if !c.not_copied.is_empty() {
        let _ = writeln!(out, "Not copied: {}", c.not_copied.join("; "));
    }
    out
}

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;
    use crate::gateway::Repo;
    use std::collections::BTreeMap;

    fn source() -> Session {
        Session {
            id: "2abcDEF0123456789ghijklmnoP".into(),
            task: "Fix the bug".into(),
            model: Some("m-1".into()),
            repos: vec![Repo { url: "https://g/a".into(), branch: Some("dev".into()) }],
            labels: BTreeMap::from([("team".to_string(), "x".to_string())]),
            temperature: Some(0.3),
            timeout: Some(900),
            max_tokens: Some(4000),
            display_name: Some("Old".into()),
            ..Session::default()
        }
    }

    #[test]
    fn on_ambient_everything_it_sets_is_copied_and_the_parent_recorded() {
        let (new, copied, not_copied) = copy(&crate::gateway::ambient::CAPABILITIES, &source(), "New");
        assert_eq!(copied, ["prompt", "model", "repos", "labels", "temperature", "timeout", "parent_session_id"]);
        assert_eq!((new.task.as_str(), new.name.as_deref()), ("Fix the bug", Some("New")));
        assert_eq!(
            (new.parent.as_deref(), new.timeout, new.workflow),
            (Some("2abcDEF0123456789ghijklmnoP"), Some(900), None)
        );
        assert_eq!(new.repos, source().repos);
        assert!(
            not_copied[0].starts_with("max_tokens (4000;") && not_copied[1].starts_with("workflow"),
            "{not_copied:?}"
        );
    }

    #[test]
    fn what_an_api_cannot_set_is_not_sent_and_is_named() {
        let (new, copied, not_copied) = copy(&crate::gateway::v1::CAPABILITIES, &source(), "New");
        assert_eq!(copied, ["prompt", "model", "repos"]);
        assert!(new.labels.is_empty() && new.temperature.is_none() && new.parent.is_none());
        assert_eq!(not_copied.len(), 5, "{not_copied:?}");
        assert!(not_copied[0].starts_with("labels (this API cannot set it"), "{not_copied:?}");
    }
}
