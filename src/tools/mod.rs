//! The tool table and what every tool shares: the context (configuration, active cluster,
//! API) and the shape of a result.

mod clusters;
pub mod params;
mod sessions;

use crate::config::{self, Cluster, Config};
use crate::gateway::{ApiError, SessionApi, Target};
use params::{Args, Kind, Param};
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

/// Most sessions one bulk call may touch (the original's limit; it stops accidents).
pub const MAX_BULK: usize = 3;

pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub params: &'static [Param],
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    /// Calls the gateway (as opposed to reading local configuration only).
    pub open_world: bool,
    /// JSON Schema of `structuredContent`; the same typed value renders the text.
    pub output_schema: fn() -> Value,
    pub run: fn(&mut Context, &Args) -> Result<Output, ToolError>,
}

const PROJECT: Param = Param {
    name: "project",
    kind: Kind::Name,
    required: false,
    description: "Project (namespace) name, a DNS-1123 label. Defaults to the active cluster's default_project.",
};
const SESSION: Param = Param {
    name: "session",
    kind: Kind::Name,
    required: true,
    description: "Session ID (its name, e.g. session-1a2b…), a DNS-1123 label.",
};
const DRY_RUN: Param = Param {
    name: "dry_run",
    kind: Kind::Bool,
    required: false,
    description: "Show what would happen without changing anything.",
};

/// Every tool, in the order `tools/list` shows them.
pub static TOOLS: &[Tool] = &[
    Tool {
        name: "acp_list_sessions",
        title: "List sessions",
        description: "List the agentic sessions in a project, newest first, with status, creation time and \
            task. Use it to find a session ID or to see what is running. Optional filters: status, older_than \
            (e.g. '7d'), sort_by, limit. Read-only. The gateway returns at most the 20 newest sessions and cannot \
            page; the result says so when older sessions may exist.",
        params: &[
            PROJECT,
            Param {
                name: "status",
                kind: Kind::Enum(sessions::STATUS_FILTERS),
                required: false,
                description: "Only sessions with this status. Gateway statuses: pending, running, completed, failed; \
                    stopping and stopped are passed through from the platform. The original's 'creating' means pending.",
            },
            Param {
                name: "older_than",
                kind: Kind::Age,
                required: false,
                description: "Only sessions created longer ago than this: a number and d, h or m, e.g. '7d', '24h', '30m'.",
            },
            Param {
                name: "sort_by",
                kind: Kind::Enum(&["created", "stopped", "name"]),
                required: false,
                description: "created: newest first (the gateway's own order); stopped: most recently completed \
                    first; name: by ID, A to Z.",
            },
            Param {
                name: "limit",
                kind: Kind::Int { min: 1, max: 1000 },
                required: false,
                description: "Show at most this many sessions.",
            },
        ],
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
        output_schema: sessions::listing_schema,
        run: sessions::list,
    },
    Tool {
        name: "acp_get_session",
        title: "Get session",
        description: "Get one session by its ID: status, task, model, creation and completion times, result \
            or error. Use it to check on a session after creating it. Read-only. A missing session is reported \
            as not found; any other failure (token, network, gateway) is reported as what it was.",
        params: &[PROJECT, SESSION],
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
        output_schema: sessions::shown_schema,
        run: sessions::get,
    },
    Tool {
        name: "acp_create_session",
        title: "Create session",
        description: "Create an agentic session that works on initial_prompt, optionally with a model and \
            repositories ({url, branch} or URL strings). Use dry_run=true first to see the exact request; \
            nothing is sent then. Not idempotent: every call creates a new session, so do not retry blindly. \
            After creating, the session is read back and the result says what the gateway really stored: \
            today's public-api gateway can lose the prompt and the model (the result is then an error that says \
            so), and it has no field for display_name, interactive or timeout (reported as not applied).",
        params: &[
            PROJECT,
            Param {
                name: "initial_prompt",
                kind: Kind::Text { max: params::MAX_PROMPT_CHARS },
                required: true,
                description: "The task for the session (sent as the gateway's `task`).",
            },
            Param {
                name: "display_name",
                kind: Kind::Label { max: 50 },
                required: false,
                description: "Human-readable name. The gateway cannot apply it; the result says so.",
            },
            Param {
                name: "repos",
                kind: Kind::Repos { max: 10 },
                required: false,
                description: "Repositories to work on: URL strings, or objects {url, branch}.",
            },
            Param {
                name: "interactive",
                kind: Kind::Bool,
                required: false,
                description: "Interactive session. The gateway cannot apply it; the result says so.",
            },
            Param {
                name: "model",
                kind: Kind::Model,
                required: false,
                description: "Model to use, e.g. claude-sonnet-4-6. Omit for the platform's default.",
            },
            Param {
                name: "timeout",
                kind: Kind::Int { min: 60, max: 86_400 },
                required: false,
                description: "Timeout in seconds. The gateway cannot apply it; the result says so.",
            },
            DRY_RUN,
        ],
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
        output_schema: sessions::creation_schema,
        run: sessions::create,
    },
    Tool {
        name: "acp_delete_session",
        title: "Delete session",
        description: "Delete one session by its ID. Destructive and irreversible. With dry_run=true the \
            session is looked up and shown, and nothing is deleted. Deleting a session that does not exist \
            reports not found. For up to 3 sessions at once, use acp_bulk_delete_sessions.",
        params: &[PROJECT, SESSION, DRY_RUN],
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: true,
        output_schema: sessions::deletion_schema,
        run: sessions::delete,
    },
    Tool {
        name: "acp_bulk_delete_sessions",
        title: "Delete several sessions",
        description: "Delete up to 3 sessions in one call. Destructive and irreversible: requires \
            confirm=true, unless dry_run=true, which only looks the sessions up and shows what would be \
            deleted. Names must be distinct. Each session's outcome (deleted, not found, failed) is reported \
            separately; one failure does not stop the others. More than 3 names is refused without sending anything.",
        params: &[
            PROJECT,
            Param {
                name: "sessions",
                kind: Kind::Names { max: MAX_BULK },
                required: true,
                description: "Session IDs to delete: 1 to 3 distinct DNS-1123 names.",
            },
            Param {
                name: "confirm",
                kind: Kind::Bool,
                required: false,
                description: "Must be true to delete (not needed with dry_run).",
            },
            DRY_RUN,
        ],
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: true,
        output_schema: sessions::bulk_schema,
        run: sessions::bulk_delete,
    },
    Tool {
        name: "acp_list_clusters",
        title: "List clusters",
        description: "List the clusters configured in clusters.yaml: name, gateway server, default project, \
            description, and which one is active. Reads local configuration only; contacts no server. Use it \
            before acp_switch_cluster.",
        params: &[],
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        output_schema: clusters::clusters_schema,
        run: clusters::list,
    },
    Tool {
        name: "acp_whoami",
        title: "Show current identity",
        description: "Show the active cluster, its gateway server, the default project and where the token \
            comes from (clusters.yaml or ACP_TOKEN), never the token itself. Reads local configuration only; \
            it does not check the token with the server (a list call does).",
        params: &[],
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        output_schema: clusters::identity_schema,
        run: clusters::whoami,
    },
    Tool {
        name: "acp_switch_cluster",
        title: "Switch cluster",
        description: "Make another configured cluster the active one for the rest of this server's life; all \
            later calls go to it. Does not change clusters.yaml. Use acp_list_clusters to see the names.",
        params: &[Param {
            name: "cluster",
            kind: Kind::ClusterName,
            required: true,
            description: "Name of a cluster from acp_list_clusters.",
        }],
        read_only: false,
        destructive: false,
        idempotent: true,
        open_world: false,
        output_schema: clusters::switch_schema,
        run: clusters::switch,
    },
];

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

/// A tool's answer: text for the model, and (for a typed result) the same data as JSON.
#[derive(Debug)]
pub struct Output {
    pub is_error: bool,
    pub text: String,
    /// Conforms to the tool's output schema; `None` for plain failures.
    pub structured: Option<Box<serde_json::value::RawValue>>,
}

impl Output {
    /// A typed result: `data` becomes the structured content, `text` renders it.
    fn new(is_error: bool, text: String, data: &impl Serialize) -> Output {
        Output { is_error, text, structured: serde_json::value::to_raw_value(data).ok() }
    }

    /// A failure with nothing but a message.
    pub fn failure(text: String) -> Output {
        Output { is_error: true, text, structured: None }
    }
}

/// Where progress of the current call goes (the client sent a `progressToken`).
#[derive(Debug, Clone)]
pub struct Progress {
    pub token: Value,
    /// `message` exists in progress notifications from 2025-03-26 on.
    pub with_message: bool,
}

/// Why a tool could not do its work at all.
#[derive(Debug)]
pub enum ToolError {
    /// Bad arguments: nothing was sent.
    Invalid(String),
    /// clusters.yaml missing, unreadable or wrong, or no token.
    Config(String),
    /// The gateway call failed: context ("Failed to delete session 'x'"), the error, and advice
    /// to append (empty when there is none).
    Api(String, ApiError, &'static str),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::Invalid(m) => write!(f, "Invalid argument: {}. Nothing was sent.", m.trim_end_matches('.')),
            ToolError::Config(m) => f.write_str(m),
            ToolError::Api(context, e, hint) => write!(f, "{context}: {e}{hint}"),
        }
    }
}

/// What tools share across calls.
pub struct Context {
    config_path: PathBuf,
    config: Option<Config>,
    active: Option<String>,
    api: Box<dyn SessionApi>,
    /// Seconds since the epoch; a field so tests can fix the clock.
    pub now: fn() -> i64,
    progress: Option<Progress>,
    /// Sends a notification to the client at once (set by the server loop).
    notifier: Option<Box<dyn FnMut(Value)>>,
}

fn system_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Context {
    pub fn new(config_path: PathBuf, api: Box<dyn SessionApi>) -> Context {
        Context { config_path, config: None, active: None, api, now: system_now, progress: None, notifier: None }
    }

    /// A context with configuration already in hand (tests, fuzzing): no file is read.
    pub fn with_config(config: Config, api: Box<dyn SessionApi>) -> Context {
        let mut ctx = Context::new(PathBuf::from("(in memory)"), api);
        ctx.active = config.default_cluster.clone();
        ctx.config = Some(config);
        ctx
    }

    pub fn set_notifier(&mut self, notifier: Box<dyn FnMut(Value)>) {
        self.notifier = Some(notifier);
    }

    pub fn set_progress(&mut self, progress: Option<Progress>) {
        self.progress = progress;
    }

    /// Tell the client how far a long call has got, if it asked to know.
    fn report_progress(&mut self, done: usize, total: usize, message: String) {
        if let (Some(p), Some(notify)) = (&self.progress, &mut self.notifier) {
            let mut params = serde_json::json!({"progressToken": p.token, "progress": done, "total": total});
            if p.with_message {
                params["message"] = Value::String(message);
            }
            notify(crate::jsonrpc::notification("notifications/progress", params));
        }
    }

    /// The configuration, read on first use. A failed read is retried on the next call,
    /// so fixing the file does not need a restart; a good one is kept.
    fn config(&mut self) -> Result<&Config, ToolError> {
        if self.config.is_none() {
            let loaded = config::load(&self.config_path).map_err(|e| {
                e.warnings().for_each(config::Diagnostic::log);
                ToolError::Config(e.to_string())
            })?;
            loaded.warnings.iter().for_each(config::Diagnostic::log);
            let loaded = loaded.config;
            self.active = loaded.default_cluster.clone();
            self.config = Some(loaded);
        }
        Ok(self.config.as_ref().expect("loaded above"))
    }

    /// The active cluster, or an error saying how to choose one.
    fn active_cluster(&mut self) -> Result<(&Config, &Cluster), ToolError> {
        self.config()?;
        let config = self.config.as_ref().expect("loaded above");
        if config.clusters.is_empty() {
            let path = self.config_path.display();
            return Err(ToolError::Config(format!(
                "No clusters configured in {path}. Minimal example:\n\n{}",
                config::EXAMPLE
            )));
        }
        let Some(name) = self.active.as_deref() else {
            return Err(ToolError::Config(format!(
                "No active cluster: clusters.yaml sets no default_cluster. Choose one with \
                 acp_switch_cluster (configured: {}).",
                config.cluster_names().join(", ")
            )));
        };
        let cluster = config.cluster(name).expect("active is always a configured cluster");
        Ok((config, cluster))
    }

    /// Run `f` against the API for `project` (or the cluster's default project).
    fn with_api<R>(
        &mut self,
        project: Option<&str>,
        f: impl FnOnce(&mut dyn SessionApi, &Target) -> R,
    ) -> Result<R, ToolError> {
        self.active_cluster()?;
        let config = self.config.as_ref().expect("loaded");
        let cluster = config.cluster(self.active.as_deref().expect("set")).expect("configured");
        let (token, token_source) = config.token_for(cluster).map_err(|e| ToolError::Config(e.to_string()))?;
        let target = Target {
            cluster: &cluster.name,
            server: &cluster.server,
            token,
            token_source,
            project: project.unwrap_or(&cluster.default_project),
            timeout: cluster.timeout,
            tls: &cluster.tls,
        };
        Ok(f(self.api.as_mut(), &target))
    }
}

/// Validate and run one tool. Never panics on input; failures become `is_error` outputs.
pub fn call(ctx: &mut Context, tool: &Tool, arguments: &Value) -> Output {
    let started = std::time::Instant::now();
    log::info!("tool_call_started tool={} arguments={}", tool.name, crate::redact::mask_arguments(arguments));
    let result =
        params::parse(tool.params, arguments).map_err(ToolError::Invalid).and_then(|args| (tool.run)(ctx, &args));
    let elapsed = started.elapsed().as_secs_f64();
    match result {
        Ok(out) => {
            log::info!("tool_call_completed tool={} is_error={} elapsed_seconds={elapsed:.3}", tool.name, out.is_error);
            out
        }
        Err(e) => {
            match &e {
                ToolError::Invalid(_) => log::warn!("tool_validation_error tool={} error={e}", tool.name),
                ToolError::Api(_, ApiError::Timeout { .. }, _) => {
                    log::error!("tool_timeout tool={} error={e}", tool.name)
                }
                ToolError::Api(..) => log::warn!("api_request_failed tool={} error={e}", tool.name),
                ToolError::Config(_) => log::error!("config_error tool={} error={e}", tool.name),
            }
            Output::failure(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests;
