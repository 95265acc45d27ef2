//! `acp_get_session`: one session by id.

use super::page::{self, Format, one_line, room, wire_len};
use super::params::{Kind, PROJECT, Param, SESSION};
use super::render::{describe_with, failed, session_schema};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::gateway::{Session, Target};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

crate::tool_args! {
    pub struct GetArgs {
        project: Option<String> = PROJECT,
        session: String = SESSION,
        response_format: Option<String> = FORMAT,
    }
}

/// One session's answer is small: every field by default, cut only by the answer budget.
/// Concise is for lists, and here on request.
const FORMAT: Param = Param::new(
    Kind::Enum(&["concise", "detailed"]),
    false,
    "detailed (default): every field; concise: id, name, phase, age, one-line task",
);

pub struct GetSession;

#[derive(Serialize)]
struct Shown {
    cluster: String,
    project: String,
    session: View,
}

/// Concise: id, name, phase, age, and the task, result and error on a line each.
#[derive(Serialize)]
#[serde(untagged)]
enum View {
    Concise {
        id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        display_name: Option<String>,
        status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        age: Option<String>,
        task: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    Detailed(Box<Session>),
}

/// Where the rest of a field cut to fit the answer is.
const REST: &str = "raise max_answer_tokens (or ACP_MAX_ANSWER_TOKENS) to see more";

impl Tool for GetSession {
    const NAME: &'static str = "acp_get_session";
    const TITLE: &'static str = "Get session";
    const DESCRIPTION: &'static str =
        "Check on one session by ID: status, task, model, times, labels, result or error.";
    const EFFECT: Effect = Effect::READ;
    type Args = GetArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {"cluster": {"type": "string"}, "project": {"type": "string"}, "session": "$0"},
            "required": ["cluster", "project", "session"]
        }"#,
            vec![json!(session_schema())],
        )
    }

    fn run(ctx: &mut Context, args: GetArgs) -> Result<Output, ToolError> {
        let id = args.session.as_str();
        let (now, budget) = ((ctx.now)(), ctx.answer_budget());
        let format = match args.response_format.as_deref() {
            Some("concise") => Format::Concise,
            _ => Format::Detailed,
        };
        ctx.with_api(args.project.as_deref(), |api, t| match api.get(t, id) {
            Ok(session) => Ok(match format {
                Format::Concise => concise(t, &session, now),
                Format::Detailed => detailed(t, session, budget),
            }),
            Err(e) => failed(t, id, format!("Failed to get session '{id}'"), e),
        })?
    }
}

fn heading(t: &Target, s: &Session) -> String {
    format!("Session '{}' (project '{}', cluster '{}')\n", s.id, t.project, t.cluster)
}

fn concise(t: &Target, s: &Session, now: i64) -> Output {
    let line = |v: &Option<String>| v.as_deref().map(|v| one_line(v, 200));
    let (age, task, result, error) =
        (page::age(s.created_at.as_deref(), now), one_line(&s.task, 200), line(&s.result), line(&s.error));
    let mut text = heading(t, s);
    let rows = [("Name", s.display_name.as_ref()), ("Status", Some(&s.status)), ("Age", age.as_ref())];
    for (label, value) in rows.into_iter().chain([("Result", result.as_ref()), ("Error", error.as_ref())]) {
        if let Some(v) = value {
            let _ = writeln!(text, "  {label}: {v}");
        }
    }
    let _ = writeln!(text, "  Task: {}", if task.is_empty() { "(none recorded)" } else { &task });
    text.push_str("(response_format: detailed, the default, shows every field and the task whole)\n");
    let view = View::Concise {
        id: s.id.clone(),
        display_name: s.display_name.clone(),
        status: s.status.clone(),
        age,
        task,
        result,
        error,
    };
    let shown = Shown { cluster: t.cluster.into(), project: t.project.into(), session: view };
    Output::new(false, text, &shown)
}

/// Every field; the task, result and error cut, longest first, until the answer fits.
fn detailed(t: &Target, session: Session, budget: usize) -> Output {
    let render = |s: &Session, left_out: usize| {
        let mut text = heading(t, s);
        if let Some(name) = &s.display_name {
            let _ = writeln!(text, "  Name: {name}");
        }
        describe_with(s, &mut text, usize::MAX);
        if left_out > 0 {
            let _ = writeln!(text, "  ({left_out} labels or repositories not shown: {REST})");
        }
        let view = View::Detailed(Box::new(s.clone()));
        Output::new(false, text, &Shown { cluster: t.cluster.into(), project: t.project.into(), session: view })
    };
    let mut cap = page::longest_field(&session);
    let mut shown = session.clone();
    let mut out = render(&shown, 0);
    while wire_len(&out) > room(budget) && cap > 200 {
        // Each field appears twice (text and structured content): shrink in proportion, by
        // one character at least, to 200 at least.
        cap = ((cap as u128 * room(budget) as u128 / wire_len(&out) as u128) as usize).clamp(200, cap - 1);
        shown = page::cut_fields(&session, cap, REST);
        out = render(&shown, 0);
    }
    // Then labels and repositories, an eighth of them at a time, last ones first: the status,
    // times and error are what the answer is for.
    let mut left_out = 0;
    while wire_len(&out) > room(budget) && !(shown.labels.is_empty() && shown.repos.is_empty()) {
        for _ in 0..(shown.labels.len() + shown.repos.len()).div_ceil(8) {
            let dropped = shown.repos.pop().is_some() || shown.labels.pop_last().is_some();
            left_out += usize::from(dropped);
        }
        out = render(&shown, left_out);
    }
    out
}
