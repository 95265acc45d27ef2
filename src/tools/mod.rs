//! The tools: one small type per tool, in one list ([`TOOLS`]), and what they share.
//!
//! A tool is a unit struct implementing [`Tool`]: its name, texts, [`Effect`], typed
//! arguments (declared once with [`tool_args!`](crate::tool_args), from which the input
//! schema and the validation both come), output schema and `run`. Adding a tool is one file
//! plus one line in [`TOOLS`] (and its `mod` line beside it).

pub mod bulk;
mod context;
pub mod guard;
pub mod params;
mod record;
mod render;

mod bulk_delete_sessions;
mod bulk_delete_sessions_by_label;
mod bulk_label_resources;
mod bulk_restart_sessions;
mod bulk_restart_sessions_by_label;
mod bulk_stop_sessions;
mod bulk_stop_sessions_by_label;
mod bulk_unlabel_resources;
mod by_label;
mod clone_session;
mod create_session;
mod create_session_from_template;
mod delete_session;
mod get_session;
mod get_session_logs;
mod get_session_metrics;
mod get_session_transcript;
mod label_resource;
mod labels;
mod list_clusters;
mod list_projects;
mod list_sessions;
mod list_sessions_by_label;
mod login;
pub mod page;
mod restart_session;
mod send_message;
mod stop_session;
mod switch_cluster;
mod unlabel_resource;
mod update_session;
mod wait_session;
mod watched;
mod whoami;

pub use context::{Context, Progress};
pub use login::check_cluster;

use crate::gateway::ApiError;
use params::{Invalid, Param, ToolArgs};
use serde::Serialize;
use serde_json::Value;

/// Most sessions one bulk call may touch (the original's limit; it stops accidents).
pub const MAX_BULK: usize = 3;

/// Every tool, in the order `tools/list` shows them.
pub static TOOLS: &[&dyn AnyTool] = &[
    &list_sessions::ListSessions,
    &get_session::GetSession,
    &get_session_metrics::GetSessionMetrics,
    &get_session_logs::GetSessionLogs,
    &get_session_transcript::GetSessionTranscript,
    &send_message::SendMessage,
    &wait_session::WaitSession,
    &create_session::CreateSession,
    &create_session_from_template::CreateSessionFromTemplate,
    &clone_session::CloneSession,
    &update_session::UpdateSession,
    &delete_session::DeleteSession,
    &bulk_delete_sessions::BulkDeleteSessions,
    &stop_session::StopSession,
    &restart_session::RestartSession,
    &bulk_stop_sessions::BulkStopSessions,
    &bulk_restart_sessions::BulkRestartSessions,
    &label_resource::LabelResource,
    &unlabel_resource::UnlabelResource,
    &list_sessions_by_label::ListSessionsByLabel,
    &bulk_label_resources::BulkLabelResources,
    &bulk_unlabel_resources::BulkUnlabelResources,
    &bulk_delete_sessions_by_label::BulkDeleteSessionsByLabel,
    &bulk_stop_sessions_by_label::BulkStopSessionsByLabel,
    &bulk_restart_sessions_by_label::BulkRestartSessionsByLabel,
    &list_projects::ListProjects,
    &list_clusters::ListClusters,
    &whoami::Whoami,
    &switch_cluster::SwitchCluster,
    &login::Login,
];

/// What a tool does to the world. Drives the annotations clients see, the confirm rule of
/// bulk tools, and (later) audit and read-only mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    pub change: Change,
    /// Calling it twice has the effect of calling it once.
    pub idempotent: bool,
    /// It talks to the platform (as opposed to reading or changing local state only).
    pub remote: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    None,
    Write,
    Destroy,
}

impl Effect {
    /// Reads the platform.
    pub const READ: Effect = Effect { change: Change::None, idempotent: true, remote: true };
    /// Reads local configuration only.
    pub const LOCAL_READ: Effect = Effect { change: Change::None, idempotent: true, remote: false };
    /// Makes something new on the platform each time.
    pub const CREATE: Effect = Effect { change: Change::Write, idempotent: false, remote: true };
    /// Removes something from the platform.
    pub const DESTROY: Effect = Effect { change: Change::Destroy, idempotent: true, remote: true };
    /// Changes the state of something on the platform (stop, restart), not its existence.
    pub const CONTROL: Effect = Effect { change: Change::Write, idempotent: true, remote: true };

    pub fn read_only(self) -> bool {
        self.change == Change::None
    }
    pub fn destructive(self) -> bool {
        self.change == Change::Destroy
    }
}

/// One tool.
pub trait Tool: Sync {
    const NAME: &'static str;
    const TITLE: &'static str;
    /// For the model: when to use it, what it will not do, its limits.
    const DESCRIPTION: &'static str;
    const EFFECT: Effect;
    type Args: ToolArgs;
    /// JSON Schema of the structured content; the same typed value renders the text.
    fn output_schema() -> Value;
    fn run(ctx: &mut Context, args: Self::Args) -> Result<Output, ToolError>;
}

/// A [`Tool`] as the list holds it (the trait with constants cannot be a trait object).
pub trait AnyTool: Sync {
    fn name(&self) -> &'static str;
    fn title(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn effect(&self) -> Effect;
    fn params(&self) -> &'static [Param];
    fn output_schema(&self) -> Value;
    fn run(&self, ctx: &mut Context, args: &params::Args) -> Result<Output, ToolError>;
}

impl<T: Tool> AnyTool for T {
    fn name(&self) -> &'static str {
        T::NAME
    }
    fn title(&self) -> &'static str {
        T::TITLE
    }
    fn description(&self) -> &'static str {
        T::DESCRIPTION
    }
    fn effect(&self) -> Effect {
        T::EFFECT
    }
    fn params(&self) -> &'static [Param] {
        T::Args::PARAMS
    }
    fn output_schema(&self) -> Value {
        T::output_schema()
    }
    fn run(&self, ctx: &mut Context, args: &params::Args) -> Result<Output, ToolError> {
        T::run(ctx, T::Args::from_args(args))
    }
}

pub fn find(name: &str) -> Option<&'static dyn AnyTool> {
    TOOLS.iter().copied().find(|t| t.name() == name)
}

/// A tool's answer: text for the model, and (for a typed result) the same data as JSON.
#[derive(Debug)]
pub struct Output {
    pub is_error: bool,
    pub text: String,
    /// Conforms to the tool's output schema; `None` for plain failures.
    pub structured: Option<Box<serde_json::value::RawValue>>,
    /// A refusal with a report (nothing was done): the audit log says `refused`, not `error`.
    pub refused: bool,
}

impl Output {
    /// A typed result: `data` becomes the structured content, `text` renders it.
    fn new(is_error: bool, text: String, data: &impl Serialize) -> Output {
        Output { is_error, text, structured: serde_json::value::to_raw_value(data).ok(), refused: false }
    }

    /// A refusal with a report: nothing was done.
    fn refusal(text: String, data: &impl Serialize) -> Output {
        Output { refused: true, ..Output::new(true, text, data) }
    }

    /// A failure with nothing but a message.
    pub fn failure(text: String) -> Output {
        Output { is_error: true, text, structured: None, refused: false }
    }
}

/// Why a tool could not do its work at all. Rendered to the model in one place, `Display`.
#[derive(Debug)]
pub enum ToolError {
    /// Bad arguments: nothing was sent.
    Invalid(Invalid),
    /// clusters.yaml missing, unreadable or wrong, or no token.
    Config(String),
    /// Refused before anything was sent, by a check that is not about the arguments (a token
    /// that has expired, the audit log, a guardrail). The message says why and what to do.
    Refused(String),
    /// The API call failed: context ("Failed to delete session 'x'"), the error, advice to
    /// append (empty when there is none), and what the API is called ([`Target::api`]).
    Api(String, ApiError, &'static str, &'static str),
    /// The tool panicked (a bug of ours, logged): the name of the tool.
    Panicked(&'static str),
}

impl ToolError {
    fn invalid(message: impl Into<String>) -> ToolError {
        ToolError::Invalid(Invalid(message.into()))
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::Invalid(m) => write!(f, "Invalid argument: {}. Nothing was sent.", m.0.trim_end_matches('.')),
            ToolError::Config(m) | ToolError::Refused(m) => f.write_str(m),
            ToolError::Api(context, e, hint, api) => write!(f, "{context}: {}{hint}", e.describe(api)),
            ToolError::Panicked(tool) => write!(
                f,
                "Internal error in {tool}; it has been logged. Other calls are not affected. Whether it changed \
                 anything before it failed is not known: read before repeating it."
            ),
        }
    }
}

/// Validate and run one tool. Never panics on input; failures become `is_error` outputs.
pub fn call(ctx: &mut Context, tool: &dyn AnyTool, arguments: &Value) -> Output {
    let started = std::time::Instant::now();
    let name = tool.name();
    log::info!("tool_call_started tool={name} arguments={}", crate::redact::mask_arguments(arguments));
    // The audit log is opened before the tool acts: if it cannot be, the call is refused. A
    // tool this process does not offer, or a change on a read-only cluster, is refused (and
    // recorded as such) before its arguments are even read.
    let saved = ctx.open_call();
    let (audit, result) = match record::begin(ctx, tool, arguments) {
        Ok(audit) => (
            audit,
            // Caught here too, not only by the server, so that the call's state is restored
            // and its audit record written whatever happens inside it.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match ctx.refuses(tool) {
                Some(why) => Err(ToolError::Refused(why)),
                None => params::parse(tool.params(), arguments)
                    .map_err(ToolError::Invalid)
                    .and_then(|args| tool.run(ctx, &args)),
            }))
            .unwrap_or(Err(ToolError::Panicked(name))),
        ),
        Err(refused) => (None, Err(refused)),
    };
    ctx.close_call(saved);
    let mut notes = ctx.take_notices();
    notes.extend(audit.and_then(|a| a.finish(ctx, &result)));
    let elapsed = started.elapsed().as_secs_f64();
    let output = match result {
        Ok(out) => {
            log::info!("tool_call_completed tool={name} is_error={} elapsed_seconds={elapsed:.3}", out.is_error);
            out
        }
        Err(e) => {
            match &e {
                ToolError::Invalid(_) => log::warn!("tool_validation_error tool={name} error={e}"),
                ToolError::Api(_, ApiError::Timeout { .. }, ..) => log::error!("tool_timeout tool={name} error={e}"),
                ToolError::Api(..) => log::warn!("api_request_failed tool={name} error={e}"),
                ToolError::Config(_) => log::error!("config_error tool={name} error={e}"),
                ToolError::Refused(_) => log::warn!("tool_refused tool={name} error={e}"),
                ToolError::Panicked(_) => log::error!("tool_unexpected_error tool={name}: the tool panicked"),
            }
            Output::failure(e.to_string())
        }
    };
    // Every answer fits the budget (tools that list or show long text fit themselves first).
    // Checked after the audit record, which tells what the call did, not how long its report was.
    let (size, budget) = (page::wire_len(&output), ctx.answer_budget());
    let output = match size > budget {
        true => {
            log::warn!("tool_answer_over_budget tool={name} bytes={size} budget={budget}");
            page::over_budget(size, budget, !tool.effect().read_only())
        }
        false => output,
    };
    let output = match notes.is_empty() {
        true => output,
        false => Output { text: format!("{}\n\n{}", output.text.trim_end(), notes.join("\n")), ..output },
    };
    match ctx.banner {
        Some(banner) => Output { text: format!("{banner}{}", output.text), ..output },
        None => output,
    }
}

#[cfg(test)]
mod tests;
