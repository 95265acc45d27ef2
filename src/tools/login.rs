//! `acp_login`: check a token with a real authenticated read, and keep it in memory for a
//! cluster only if the server accepted it. The original kept any token without asking.

use super::context::Wake;
use super::params::{Kind, Param};
use super::{Context, Effect, Output, Tool, ToolError};
use crate::config;
use crate::gateway::OpKind;
use crate::jwt;
use crate::login_source::DeviceStep;
use crate::validate::quote;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

crate::tool_args! {
    pub struct LoginArgs {
        cluster: String = Param::new(Kind::ClusterName, true, ""),
        token: Option<String> = Param::new(Kind::Token, false, ""),
    }
}

pub struct Login;

#[derive(Serialize)]
struct LoggedIn {
    cluster: String,
    api: &'static str,
    server: String,
    /// What the check read: "projects" or "sessions of <project>".
    checked_with: String,
    /// The token given was kept for this cluster (in memory).
    kept: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// A device login waiting for the user (clusters with `oidc:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<Device>,
}

#[derive(Serialize)]
struct Device {
    verification_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_uri_complete: Option<String>,
    user_code: String,
    /// Seconds before the code expires.
    expires_in: u64,
}

/// How long one acp_login call waits for the user to confirm a device login (at most: no
/// longer than the call's own deadline).
const DEVICE_WAIT: std::time::Duration = std::time::Duration::from_secs(90);
/// Between two polls of a device login within one call.
const PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

impl Tool for Login {
    const NAME: &'static str = "acp_login";
    const TITLE: &'static str = "Log in to a cluster";
    const DESCRIPTION: &'static str = "Check a cluster's token (given, or current) with a read; keep a given one \
        in memory if accepted. On an oidc: cluster, starts a device login. Never shows the token.";
    /// It reads the platform to check, and changes only this process's state (the token it
    /// keeps), never the platform: read-only, so that read-only mode keeps it.
    const EFFECT: Effect = Effect::READ;
    type Args = LoginArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "api": {"type": "string", "enum": ["public-api", "ambient"]},
                "server": {"type": "string"},
                "checked_with": {"type": "string"},
                "kept": {"type": "boolean"},
                "user": {"type": "string"},
                "expires_at": {"type": "integer"},
                "device": {
                    "type": "object",
                    "description": "a device login waiting for the user",
                    "properties": {
                        "verification_uri": {"type": "string"},
                        "verification_uri_complete": {"type": "string"},
                        "user_code": {"type": "string"},
                        "expires_in": {"type": "integer"}
                    },
                    "required": ["verification_uri", "user_code", "expires_in"]
                }
            },
            "required": ["cluster", "api", "server", "checked_with", "kept"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, args: LoginArgs) -> Result<Output, ToolError> {
        // Checked by the parameter's rule; registered for redaction as it is wrapped.
        let token = match args.token.as_deref().map(config::clean_token) {
            Some(Ok(Some(secret))) => Some(secret),
            Some(_) => return Err(ToolError::invalid("token is not a usable bearer token")),
            None => None,
        };
        let name = args.cluster;
        let config = ctx.config()?;
        let Some(cluster) = config.cluster(&name) else {
            return Err(ToolError::invalid(format!(
                "cluster {} is not configured. Configured clusters: {}",
                quote(&name),
                config.cluster_names().join(", ")
            )));
        };
        let (api, server) = (cluster.api.name(), cluster.server.base());
        if token.is_none() && ctx.wants_device_login(&name) {
            if let Some(waiting) = device_login(ctx, &name, api, &server)? {
                return Ok(waiting);
            }
        }
        let given = token.is_some();
        let claims = token.as_ref().and_then(|t| jwt::claims(t.expose()));
        let previous = token.map(|t| ctx.set_login(&name, Some(t)));
        let hint = if given { " The token was not kept." } else { "" };
        let checked_with = match check_cluster(ctx, &name, hint) {
            Ok(what) => what,
            Err(e) => {
                // A token the server did not accept is not kept; the one before it is back.
                if let Some(previous) = previous {
                    ctx.set_login(&name, previous);
                }
                return Err(e);
            }
        };
        let me = LoggedIn {
            cluster: name,
            api,
            server,
            checked_with,
            kept: given,
            user: claims.as_ref().and_then(|c| c.who()).map(str::to_string),
            expires_at: claims.and_then(|c| c.exp),
            device: None,
        };
        let mut text = format!(
            "Authentication successful\n\nCluster: {} ({})\nServer: {}\nChecked: {}\n",
            me.cluster, me.api, me.server, me.checked_with
        );
        if let Some(user) = &me.user {
            let _ = writeln!(text, "User (from the token): {user}");
        }
        let _ = writeln!(
            text,
            "{}",
            match given {
                true =>
                    "The token is kept in memory for this cluster until the server stops; clusters.yaml is unchanged.",
                false => "The cluster's configured token works.",
            }
        );
        Ok(Output::new(false, text, &me))
    }
}

/// One authenticated read on cluster `name` (its projects, or on an API without a project
/// list, its default project's sessions): what it saw, or why it failed, with `hint` appended.
pub fn check_cluster(ctx: &mut Context, name: &str, hint: &'static str) -> Result<String, ToolError> {
    ctx.with_cluster(name, None, |api, t| {
        let read = match api.capabilities().serves(OpKind::ListProjects) {
            true => api.projects(t).map(|p| format!("{} project(s) visible", p.len())),
            false => api.list(t).map(|l| format!("{} session(s) in project '{}'", l.sessions.len(), t.project)),
        };
        read.map_err(|e| ToolError::Api(format!("Authentication failed for cluster '{name}'"), e, hint, t.api))
    })?
}

/// The device flow of `name`: `Some` while the user has yet to confirm (the URL and code to
/// show them), `None` once the login is stored (the caller then checks it like any token).
/// A call after the first waits up to [`DEVICE_WAIT`] (within the call's deadline), telling
/// progress, before it answers.
fn device_login(ctx: &mut Context, name: &str, api: &'static str, server: &str) -> Result<Option<Output>, ToolError> {
    let started = std::time::Instant::now();
    loop {
        let DeviceStep::Waiting { verification_uri, complete, user_code, left, started: first } =
            ctx.device_step(name)?
        else {
            return Ok(None);
        };
        let waited = started.elapsed();
        // The wait ends before the call's deadline does: a poll past it would fail, and the
        // flow under way with it.
        let out_of_time = ctx.time_left().is_some_and(|left| left <= PAUSE);
        if first || waited >= DEVICE_WAIT || out_of_time {
            let open =
                complete.as_deref().map(|c| format!(" (or {c}, which has the code filled in)")).unwrap_or_default();
            let text = format!(
                "Login needed for cluster {name}. Ask the user to open {verification_uri}{open} and enter the code \
                 {user_code} (it expires in {left} s); then call acp_login with cluster {} again to finish.\n",
                quote(name)
            );
            let device = Device { verification_uri, verification_uri_complete: complete, user_code, expires_in: left };
            let me = LoggedIn {
                cluster: name.to_string(),
                api,
                server: server.to_string(),
                checked_with: "nothing yet: the device login waits for the user".into(),
                kept: false,
                user: None,
                expires_at: None,
                device: Some(device),
            };
            return Ok(Some(Output::new(false, text, &me)));
        }
        let message = format!("waiting for the user to enter {user_code} at {verification_uri}");
        ctx.report_progress(waited.as_secs() as usize, DEVICE_WAIT.as_secs() as usize, message);
        match ctx.pause(PAUSE) {
            Wake::Elapsed => {}
            Wake::Cancelled | Wake::Closed => {
                return Err(ToolError::Refused(format!(
                    "Stopped waiting for the login of cluster {name}; call acp_login again to go on waiting."
                )));
            }
        }
    }
}
