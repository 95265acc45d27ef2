//! `acp_create_session_from_template`: a session with a template's workflow and temperature
//! (the original's four templates), created and reported like `acp_create_session`.

use super::create_session::{Creation, create, creation_schema, creation_text, not_applied};
use super::params::{DRY_RUN, Kind, MAX_PROMPT_CHARS, PROJECT, Param};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{Capabilities, NewSession, Repo};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

/// Template name, workflow, temperature (the original's table, upstream-tools.md §6).
const TEMPLATES: &[(&str, &str, f64)] = &[
    ("triage", "triage", 0.7),
    ("bugfix", "bugfix", 0.3),
    ("feature", "feature-development", 0.5),
    ("exploration", "codebase-exploration", 0.8),
];

crate::tool_args! {
    pub struct TemplateArgs {
        project: Option<String> = PROJECT,
        template: String = Param::new(Kind::Enum(&["triage", "bugfix", "feature", "exploration"]), true, ""),
        display_name: String = Param::new(Kind::Label { max: 50 }, true, ""),
        prompt: Option<String> = Param::new(Kind::Text { max: MAX_PROMPT_CHARS }, false, ""),
        repos: Vec<Repo> = Param::new(Kind::Repos { max: 10 }, false, ""),
        dry_run: bool = DRY_RUN,
    }
}

pub struct CreateSessionFromTemplate;

#[derive(Serialize)]
struct TemplateCreation {
    #[serde(flatten)]
    creation: Creation,
    template: &'static str,
    workflow: &'static str,
    temperature: f64,
    /// What the API applied that the session's agent gets.
    reaches_agent: Vec<String>,
    /// What the API applied and only stores: the agent does not get it.
    stored_only: Vec<String>,
}

impl Tool for CreateSessionFromTemplate {
    const NAME: &'static str = "acp_create_session_from_template";
    const TITLE: &'static str = "Create session from template";
    const DESCRIPTION: &'static str = "Create a session from a template (a workflow and a temperature). The \
        public-api gateway needs prompt and applies neither.";
    const EFFECT: Effect = Effect::CREATE;
    type Args = TemplateArgs;

    fn output_schema() -> Value {
        creation_schema(
            crate::schema::with(
                r#"{
                "template": {"type": "string"},
                "workflow": {"type": "string"},
                "temperature": {"type": "number"},
                "reaches_agent": {"type": "array", "items": {"type": "string"}},
                "stored_only": {"type": "array", "items": {"type": "string"}}
            }"#,
                vec![],
            ),
            &["template", "workflow", "temperature", "reaches_agent", "stored_only"],
        )
    }

    fn run(ctx: &mut Context, args: TemplateArgs) -> Result<Output, ToolError> {
        let (template, workflow, temperature) = template(&args.template)?;
        let prompt_given = args.prompt.is_some();
        let new = NewSession {
            repos: args.repos,
            name: Some(args.display_name),
            temperature: Some(temperature),
            workflow: Some(workflow.to_string()),
            ..NewSession::with_task(args.prompt.unwrap_or_default())
        };
        let given = [
            ("initial_prompt", prompt_given),
            ("display_name", true),
            ("repos", !new.repos.is_empty()),
            ("temperature", true),
            ("workflow", true),
        ];
        ctx.with_api(args.project.as_deref(), |api, t| {
            let caps = api.capabilities();
            if caps.needs_prompt && !prompt_given {
                return Err(ToolError::invalid(format!(
                    "prompt is required on this cluster: {} creates no session without a task, and a template \
                     gives none",
                    t.api
                )));
            }
            let (reaches_agent, stored_only) = reach(caps, &new, &given);
            let mut c = TemplateCreation {
                creation: Creation::new(t, args.dry_run, not_applied(api, &given)),
                template,
                workflow,
                temperature,
                reaches_agent,
                stored_only,
            };
            if !prompt_given {
                c.creation.warnings.push(
                    "No prompt was given: the session's agent starts without a task (a template sets settings, \
                     not a task). Send one with acp_send_message where the API serves it."
                        .into(),
                );
            }
            create(api, t, &new, &mut c.creation)?;
            Ok(Output::new(c.creation.lost_prompt(), creation_text(&c.creation, &template_text(&c)), &c))
        })?
    }
}

fn template(name: &str) -> Result<(&'static str, &'static str, f64), ToolError> {
    let found = TEMPLATES.iter().find(|(n, ..)| n.eq_ignore_ascii_case(name)).copied();
    found.ok_or_else(|| {
        let names: Vec<&str> = TEMPLATES.iter().map(|(n, ..)| *n).collect();
        ToolError::invalid(format!("template '{name}' is not one of: {}", names.join(", ")))
    })
}

/// Of the template's parts the API applies, which reach the session's agent and which the API
/// only stores (docs/ambient-api.md §12.10).
fn reach(caps: &Capabilities, new: &NewSession, given: &[(&'static str, bool)]) -> (Vec<String>, Vec<String>) {
    let (mut agent, mut stored) = (Vec::new(), Vec::new());
    for (option, _) in given.iter().filter(|(o, g)| *g && caps.create_options.contains(o) && *o != "display_name") {
        let part = match *option {
            "initial_prompt" => "prompt".to_string(),
            "temperature" => format!("temperature {}", new.temperature.unwrap_or_default()),
            "workflow" => format!("workflow '{}'", new.workflow.as_deref().unwrap_or_default()),
            "repos" => match caps.agent_repos {
                Some(n) if new.repos.len() > n => {
                    let first = if n == 1 { String::new() } else { format!(" {n}") };
                    agent.push(format!("the first{first} of {} repositories", new.repos.len()));
                    stored.push(format!("the {} after it", repositories(new.repos.len() - n)));
                    continue;
                }
                _ => repositories(new.repos.len()),
            },
            other => other.to_string(),
        };
        match caps.stored_only.contains(option) {
            true => stored.push(part),
            false => agent.push(part),
        }
    }
    (agent, stored)
}

fn repositories(n: usize) -> String {
    match n {
        1 => "1 repository".into(),
        n => format!("{n} repositories"),
    }
}

fn template_text(c: &TemplateCreation) -> String {
    let mut out = format!("Template: {} (workflow '{}', temperature {})\n", c.template, c.workflow, c.temperature);
    if !c.reaches_agent.is_empty() {
        let _ = writeln!(out, "Reaches the agent: {}", c.reaches_agent.join(", "));
    }
    if !c.stored_only.is_empty() {
        let _ = writeln!(
            out,
            "Stored only, not passed to the agent by today's control plane: {}",
            c.stored_only.join(", ")
        );
    }
    out
}

// The backends whose facts these check need the HTTP feature.
#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;

    fn new(repos: usize) -> NewSession {
        let repo = |i| Repo { url: format!("https://g/r{i}"), branch: None };
        NewSession {
            repos: (0..repos).map(repo).collect(),
            temperature: Some(0.3),
            workflow: Some("bugfix".into()),
            ..NewSession::with_task("t")
        }
    }

    const GIVEN: &[(&str, bool)] =
        &[("initial_prompt", true), ("display_name", true), ("repos", true), ("temperature", true), ("workflow", true)];

    #[test]
    fn templates_are_the_originals() {
        assert_eq!(template("bugfix").unwrap(), ("bugfix", "bugfix", 0.3));
        assert_eq!(template("Feature").unwrap(), ("feature", "feature-development", 0.5));
        assert_eq!(template("exploration").unwrap().1, "codebase-exploration");
        assert!(template("nope").unwrap_err().to_string().contains("is not one of: triage, bugfix"));
    }

    #[test]
    fn on_ambient_workflow_and_later_repos_are_stored_only() {
        let (agent, stored) = reach(&crate::gateway::ambient::CAPABILITIES, &new(3), GIVEN);
        assert_eq!(agent, ["prompt", "the first of 3 repositories", "temperature 0.3"]);
        assert_eq!(stored, ["the 2 repositories after it", "workflow 'bugfix'"]);
        let (agent, _) = reach(&crate::gateway::ambient::CAPABILITIES, &new(1), GIVEN);
        assert_eq!(agent[1], "1 repository");
    }

    #[test]
    fn on_the_gateway_what_it_cannot_apply_is_in_neither_list() {
        let (agent, stored) = reach(&crate::gateway::v1::CAPABILITIES, &new(2), GIVEN);
        assert_eq!((agent, stored), (vec!["prompt".to_string(), "2 repositories".to_string()], vec![]));
    }
}
