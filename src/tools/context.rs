//! What tools share across calls: the configuration, the active cluster, the backend, and
//! where progress goes.

use super::guard::{Budget, Budgeted, Offer};
use super::watched::{Renew, Watched};
use super::{AnyTool, ToolError};
use crate::config::{self, ApiKind, Cluster, Config};
use crate::credentials::{Secret, TokenSource};
use crate::deadline::Deadline;
use crate::gateway::{Backend, Target};
use crate::jwt;
use crate::login_source::{DeviceStep, LoginSource};
use crate::validate::quote;
use serde_json::Value;
use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::input::Wake;

/// Waits up to a time for the client to cancel the request with this id.
pub type Waiter = dyn FnMut(std::time::Duration, Option<&Value>) -> Wake;

/// Where progress of the current call goes (the client sent a `progressToken`).
#[derive(Debug, Clone)]
pub struct Progress {
    pub token: Value,
    /// `message` exists in progress notifications from 2025-03-26 on.
    pub with_message: bool,
}

/// What tools share across calls.
pub struct Context {
    pub(super) config_path: PathBuf,
    config: Option<Config>,
    pub(super) active: Option<String>,
    /// The backend of each API kind; one serves every kind in tests and the demo.
    backends: Vec<(Option<ApiKind>, Box<dyn Backend>)>,
    /// Seconds since the epoch; a field so tests can fix the clock.
    pub now: fn() -> i64,
    progress: Option<Progress>,
    /// Sends a notification to the client at once (set by the server loop).
    notifier: Option<Box<dyn FnMut(Value)>>,
    /// Waits while watching the input for a cancellation of `request` (set by the server loop).
    /// In a cell so that a [`Target`] can ask "cancelled?" before each request.
    waiter: RefCell<Option<Box<Waiter>>>,
    /// The id of the request being served.
    request: Option<Value>,
    /// Tokens given to acp_login, by cluster: in memory only, ahead of every other source.
    logins: Vec<(String, Secret)>,
    /// Put in front of every tool result (the demo says it is one).
    pub banner: Option<&'static str>,
    /// Read-only mode from outside the configuration (`--read-only`, `ACP_READ_ONLY`): why.
    read_only: Option<String>,
    /// Changes left this minute; sized from the configuration when it is read.
    budget: Option<Budget>,
    /// Clusters whose token's coming expiry was already told (once per process).
    warned: Vec<String>,
    /// Told at the end of the current call's result (a token about to expire).
    notices: Vec<String>,
    /// The last error status the platform answered (for the audit log; see [`Watched`]).
    last_status: Option<u16>,
    /// Stored logins (`oidc:`, `token_from: acpctl`), and the tokens last had from them.
    login_source: Option<Box<dyn LoginSource>>,
    stored: Vec<(String, Secret, TokenSource)>,
    /// The time limit of the calls being served, when one is set; else each reach of a
    /// cluster gets its `timeout_seconds` afresh.
    deadline: Option<Deadline>,
    /// A tool call is being served: its first reach of a cluster sets the one deadline of it.
    in_call: bool,
    /// The audit record of a call that acted, which the log did not take (see `record`).
    pub(super) unwritten: Option<super::record::Unwritten>,
}

fn system_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Context {
    /// A context whose clusters are served by `api` whatever their kind (tests, fuzzing, demo).
    pub fn new(config_path: PathBuf, api: Box<dyn Backend>) -> Context {
        Context::build(config_path, vec![(None, api)])
    }

    /// A context with one backend per API kind: clusters are served by the one of their `api`.
    pub fn with_backends(config_path: PathBuf, backends: Vec<(ApiKind, Box<dyn Backend>)>) -> Context {
        Context::build(config_path, backends.into_iter().map(|(kind, b)| (Some(kind), b)).collect())
    }

    fn build(config_path: PathBuf, backends: Vec<(Option<ApiKind>, Box<dyn Backend>)>) -> Context {
        Context {
            config_path,
            config: None,
            active: None,
            backends,
            now: system_now,
            progress: None,
            notifier: None,
            waiter: RefCell::new(None),
            request: None,
            logins: Vec::new(),
            banner: None,
            read_only: None,
            budget: None,
            warned: Vec::new(),
            notices: Vec::new(),
            last_status: None,
            login_source: None,
            stored: Vec::new(),
            deadline: None,
            in_call: false,
            unwritten: None,
        }
    }

    /// A context with configuration already in hand (tests, fuzzing): no file is read.
    pub fn with_config(config: Config, api: Box<dyn Backend>) -> Context {
        let mut ctx = Context::new(PathBuf::from("(in memory)"), api);
        ctx.active = config.default_cluster.clone();
        ctx.config = Some(config);
        ctx
    }

    pub fn set_notifier(&mut self, notifier: Box<dyn FnMut(Value)>) {
        self.notifier = Some(notifier);
    }

    /// Where tokens of clusters with a stored login come from (the binary: OIDC).
    pub fn set_login_source(&mut self, source: Box<dyn LoginSource>) {
        self.login_source = Some(source);
    }

    /// Get (and renew when due) the token of `name`'s stored login, when that is where its
    /// token comes from: no acp_login token, no `token` in clusters.yaml, and `oidc:` or
    /// `token_from:`. A stored login that cannot be renewed is an error that says what to run.
    fn renew(&mut self, name: &str) -> Result<(), ToolError> {
        let now = (self.now)();
        let Some(cluster) = self.config.as_ref().and_then(|c| c.cluster(name)) else { return Ok(()) };
        let from_store = cluster.oidc.is_some() || cluster.token_from.is_some();
        if !from_store || cluster.token.is_some() || self.logins.iter().any(|(n, _)| n == name) {
            return Ok(());
        }
        let timeout = cluster.timeout;
        let deadline = self.deadline_for(timeout);
        let cluster = self.config.as_ref().and_then(|c| c.cluster(name)).expect("found above");
        let Some(source) = self.login_source.as_mut() else { return Ok(()) };
        let got = source.token(cluster, now, deadline);
        self.stored.retain(|(n, _, _)| n != name);
        match got {
            Ok(Some((token, from))) => self.stored.push((name.to_string(), token, from)),
            Ok(None) => {}
            Err(message) => return Err(ToolError::Refused(format!("{message} Nothing was sent."))),
        }
        Ok(())
    }

    /// acp_login without a token on a cluster with `oidc:`: log in by the device flow when a
    /// flow is under way or the cluster has no token that can be used now.
    pub(super) fn wants_device_login(&mut self, name: &str) -> bool {
        let Ok(config) = self.config() else { return false };
        if config.cluster(name).is_none_or(|c| c.oidc.is_none()) {
            return false;
        }
        if self.login_source.as_ref().is_some_and(|s| s.pending(name)) {
            return true;
        }
        if self.renew(name).is_err() {
            return true;
        }
        let config = self.config.as_ref().expect("loaded");
        let cluster = config.cluster(name).expect("checked");
        token_of(&self.logins, &self.stored, config, cluster).is_err()
    }

    /// acp_login without a token: start the device flow of `name`, or poll it once.
    pub(super) fn device_step(&mut self, name: &str) -> Result<DeviceStep, ToolError> {
        let now = (self.now)();
        let config = self.config()?;
        let Some(cluster) = config.cluster(name).cloned() else {
            return Err(ToolError::Config(format!("cluster '{name}' is not configured")));
        };
        // The current call's deadline: a flow started by an earlier call is polled within this one.
        let deadline = self.deadline_for(cluster.timeout);
        match self.login_source.as_mut() {
            Some(source) => source.device_step(&cluster, now, deadline).map_err(|e| ToolError::Refused(e.0)),
            None => Err(ToolError::Config("this build cannot log in to an identity provider".into())),
        }
    }

    /// Bound every request from now on by `deadline` (one tool call, one cluster of
    /// `check-config --online`), or clear the bound.
    pub fn set_deadline(&mut self, deadline: Option<Deadline>) {
        self.deadline = deadline;
    }

    /// What is left of the bound in force, if one is set.
    pub(super) fn time_left(&self) -> Option<Duration> {
        self.deadline.map(|d| d.left())
    }

    /// The bound in force, else `timeout` from now (which, in a tool call, becomes the bound
    /// of the rest of the call).
    fn deadline_for(&mut self, timeout: Duration) -> Deadline {
        let deadline = self.deadline.unwrap_or_else(|| Deadline::after(timeout));
        if self.in_call {
            self.deadline = Some(deadline);
        }
        deadline
    }

    /// A tool call begins: one deadline for all it sends, set when it first reaches a cluster.
    /// Gives the bound to restore at its end.
    pub(super) fn open_call(&mut self) -> Option<Deadline> {
        self.in_call = true;
        self.deadline
    }

    pub(super) fn close_call(&mut self, saved: Option<Deadline>) {
        self.in_call = false;
        self.deadline = saved;
    }

    /// Has the client cancelled the call being served? A look, not a wait.
    pub(super) fn cancelled(&mut self) -> bool {
        self.pause(Duration::ZERO) == Wake::Cancelled
    }

    pub fn set_progress(&mut self, progress: Option<Progress>) {
        self.progress = progress;
    }

    /// Offer only read-only tools, for `why` (`--read-only`, `ACP_READ_ONLY=1`).
    pub fn set_read_only(&mut self, why: &str) {
        self.read_only = Some(why.to_string());
    }

    /// Which tools are offered: read-only mode from outside or from clusters.yaml, and its
    /// toolsets. A configuration that cannot be read yet adds nothing (every call then fails
    /// with its problems anyway).
    pub fn offer(&mut self) -> Offer {
        let config = self.config().ok().map(|c| c.guard.clone());
        let from_file = config.as_ref().filter(|g| g.read_only).map(|_| "read_only: true in clusters.yaml".to_string());
        Offer { read_only: self.read_only.clone().or(from_file), toolsets: config.and_then(|g| g.toolsets) }
    }

    /// Why `tool` may not run now, if it may not: not offered, or a change on a cluster that
    /// clusters.yaml makes read-only.
    pub(super) fn refuses(&mut self, tool: &dyn AnyTool) -> Option<String> {
        if let Some(why) = self.offer().hides(tool) {
            return Some(why);
        }
        if tool.effect().read_only() {
            return None;
        }
        let (_, cluster) = self.active_cluster().ok()?;
        cluster.read_only.then(|| {
            format!(
                "{} changes the platform, and cluster '{}' is read-only (read_only: true in clusters.yaml). \
                 Nothing was sent.",
                tool.name(),
                cluster.name
            )
        })
    }

    pub fn set_waiter(&mut self, waiter: Box<Waiter>) {
        self.waiter = RefCell::new(Some(waiter));
    }

    pub fn set_request(&mut self, id: Option<Value>) {
        self.request = id;
    }

    /// The id of the request being served (for the audit log).
    pub(super) fn request_id(&self) -> Option<&Value> {
        self.request.as_ref()
    }

    /// The last error status the platform answered since the last time this was asked; cleared.
    pub(super) fn take_status(&mut self) -> Option<u16> {
        self.last_status.take()
    }

    /// What the current call has to add to its result; cleared.
    pub(super) fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Whom the token of the configured cluster `name` names (a JWT's username or subject),
    /// for the audit log; never the token. `None` for an opaque token or none at all.
    pub(super) fn subject(&self, name: &str) -> Option<String> {
        let config = self.config.as_ref()?;
        let (token, _) = token_of(&self.logins, &self.stored, config, config.cluster(name)?).ok()?;
        jwt::claims(token.expose())?.who().map(str::to_string)
    }

    /// Wait up to `timeout`, or less if the client cancels this call or goes away.
    pub(super) fn pause(&mut self, timeout: Duration) -> Wake {
        wait_on(&self.waiter, timeout, self.request.as_ref())
    }

    /// Tell the client how far a long call has got, if it asked to know.
    pub(super) fn report_progress(&mut self, done: usize, total: usize, message: String) {
        if let (Some(p), Some(notify)) = (&self.progress, &mut self.notifier) {
            let mut params = serde_json::json!({"progressToken": p.token, "progress": done, "total": total});
            if p.with_message {
                params["message"] = Value::String(message);
            }
            notify(crate::jsonrpc::notification("notifications/progress", params));
        }
    }

    /// The most bytes one tool answer may take: `max_answer_tokens` (default 20,000) × 4.
    pub(super) fn answer_budget(&self) -> usize {
        let tokens = self.config.as_ref().map_or(config::DEFAULT_ANSWER_TOKENS, |c| c.guard.max_answer_tokens);
        tokens as usize * super::page::BYTES_PER_TOKEN
    }

    /// The configuration, read on first use. A failed read is retried on the next call,
    /// so fixing the file does not need a restart; a good one is kept.
    pub(super) fn config(&mut self) -> Result<&Config, ToolError> {
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
    pub(super) fn active_cluster(&mut self) -> Result<(&Config, &Cluster), ToolError> {
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
    pub(super) fn with_api<R>(
        &mut self,
        project: Option<&str>,
        f: impl FnOnce(&mut dyn Backend, &Target) -> R,
    ) -> Result<R, ToolError> {
        self.active_cluster()?;
        let active = self.active.clone().expect("set");
        self.with_cluster(&active, project, f)
    }

    /// The token for the active cluster and where it comes from (for acp_whoami).
    pub(super) fn active_token(&mut self) -> Result<(&Cluster, Result<Token<'_>, ToolError>), ToolError> {
        self.active_cluster()?;
        let renewed = self.renew(&self.active.clone().expect("set"));
        let config = self.config.as_ref().expect("loaded");
        let cluster = config.cluster(self.active.as_deref().expect("set")).expect("configured");
        match renewed {
            Ok(()) => Ok((cluster, token_of(&self.logins, &self.stored, config, cluster))),
            Err(e) => Ok((cluster, Err(e))),
        }
    }

    /// Keep `token` for `cluster` (replacing an earlier one); the one it replaced, if any.
    pub(super) fn set_login(&mut self, cluster: &str, token: Option<Secret>) -> Option<Secret> {
        let old = self.logins.iter().position(|(name, _)| name == cluster).map(|i| self.logins.remove(i).1);
        if let Some(token) = token {
            self.logins.push((cluster.to_string(), token));
        }
        old
    }

    /// Run `f` against the API of the configured cluster `name`.
    pub(super) fn with_cluster<R>(
        &mut self,
        name: &str,
        project: Option<&str>,
        f: impl FnOnce(&mut dyn Backend, &Target) -> R,
    ) -> Result<R, ToolError> {
        self.config()?;
        self.renew(name)?;
        let config = self.config.as_ref().expect("loaded");
        let Some(cluster) = config.cluster(name) else {
            return Err(ToolError::Config(format!("cluster '{name}' is not configured")));
        };
        let project = project.unwrap_or(&cluster.default_project);
        if let Some(allowed) = cluster.allowed_projects.as_ref().filter(|a| !a.iter().any(|p| p == project)) {
            return Err(ToolError::invalid(format!(
                "project '{project}' is not allowed on cluster '{}' (allowed_projects: {})",
                cluster.name,
                allowed.join(", ")
            )));
        }
        let (token, token_source) = token_of(&self.logins, &self.stored, config, cluster)?;
        if cluster.api == ApiKind::Ambient && !crate::validate::is_ambient_project(project) {
            return Err(ToolError::invalid(format!(
                "project {} is invalid on an ambient API server: {}",
                quote(project),
                crate::validate::AMBIENT_PROJECT_RULE
            )));
        }
        // One place before every request: a token the platform would refuse is not sent. A
        // token renewed from a stored login needs no warning: it is renewed before it expires.
        let renewed = matches!(token_source, TokenSource::StoredLogin | TokenSource::Acpctl);
        if let Some(exp) = check_token(token, cluster, project, (self.now)())?.filter(|_| !renewed) {
            if !self.warned.iter().any(|c| c == name) {
                let note = format!(
                    "Note: the token for cluster '{name}' expires at {} (in {} s); run `mcp-acp login {name}` or \
                     replace it soon.",
                    crate::validate::format_rfc3339(exp),
                    exp.saturating_sub((self.now)()).max(0)
                );
                log::warn!("{note}");
                self.warned.push(name.to_string());
                self.notices.push(note);
            }
        }
        let deadline = self.deadline.unwrap_or_else(|| Deadline::after(cluster.timeout));
        if self.in_call {
            self.deadline = Some(deadline);
        }
        let (waiter, request) = (&self.waiter, self.request.as_ref());
        let cancelled = move || wait_on(waiter, Duration::ZERO, request) == Wake::Cancelled;
        let budget = self.budget.get_or_insert_with(|| Budget::new(config.guard.max_mutations_per_minute));
        let backend = match self.backends.iter_mut().find(|(kind, _)| kind.is_none_or(|k| k == cluster.api)) {
            Some((_, backend)) => backend.as_mut(),
            None => return Err(ToolError::Config(format!("no backend for api: {}", cluster.api.name()))),
        };
        let target = Target {
            cluster: &cluster.name,
            api: backend.capabilities().noun,
            server: &cluster.server,
            token,
            token_source,
            project,
            deadline,
            tls: &cluster.tls,
            cancelled: &cancelled,
        };
        let from_store = matches!(token_source, TokenSource::StoredLogin | TokenSource::Acpctl);
        let renew = self.login_source.as_deref_mut().filter(|_| from_store).map(|source| Renew {
            source,
            cluster,
            now: (self.now)(),
            renewed: None,
            tried: false,
        });
        let inner = &mut Budgeted { inner: backend, budget };
        let mut watched = Watched { inner, status: &mut self.last_status, renew };
        let result = f(&mut watched, &target);
        // A token renewed after a 401 is the one the next calls use.
        if let Some((token, from)) = watched.renew.and_then(|r| r.renewed) {
            self.stored.retain(|(n, _, _)| n != name);
            self.stored.push((name.to_string(), token, from));
        }
        Ok(result)
    }
}

/// Wait on `waiter` (or sleep, without one) for up to `timeout`, watching for `request`'s
/// cancellation.
fn wait_on(waiter: &RefCell<Option<Box<Waiter>>>, timeout: Duration, request: Option<&Value>) -> Wake {
    match waiter.try_borrow_mut().as_deref_mut() {
        Ok(Some(wait)) => wait(timeout, request),
        _ => {
            std::thread::sleep(timeout);
            Wake::Elapsed
        }
    }
}

/// Refuse, before anything is sent, a JWT that has expired or is not valid yet, and on the
/// public-api a service-account token for another namespace than `project` (the gateway
/// answers 400, docs/public-api.md §4). `Ok(Some(exp))`: it expires soon. Opaque tokens pass.
fn check_token(token: &Secret, cluster: &Cluster, project: &str, now: i64) -> Result<Option<i64>, ToolError> {
    let Some(claims) = jwt::claims(token.expose()) else { return Ok(None) };
    let name = &cluster.name;
    let soon = claims.usable_at(now).map_err(|e| {
        ToolError::Refused(match e {
            jwt::NotUsable::Expired { at } => format!(
                "token for cluster {name} expired at {}; run `mcp-acp login {name}` or replace it. Nothing was sent.",
                crate::validate::format_rfc3339(at)
            ),
            jwt::NotUsable::NotYetValid { from } => format!(
                "token for cluster {name} is not valid before {} (its nbf; is this machine's clock right?); \
                 nothing was sent.",
                crate::validate::format_rfc3339(from)
            ),
        })
    })?;
    if cluster.api == ApiKind::PublicApi {
        if let Some(ns) = claims.service_account_namespace().filter(|ns| *ns != project) {
            return Err(ToolError::Refused(format!(
                "the token for cluster {name} is a service-account token of namespace {}, but the call is for \
                 project {}: the gateway refuses that (the token's namespace is its project). Use project {}, \
                 or a token for {}. Nothing was sent.",
                quote(ns),
                quote(project),
                quote(ns),
                quote(project)
            )));
        }
    }
    Ok(soon)
}

/// A token and where it comes from.
pub(super) type Token<'a> = (&'a Secret, TokenSource);

/// The token for `cluster` and where it comes from, the one place that decides: the token
/// given to acp_login; else the cluster's `token` in clusters.yaml; else its stored login
/// (`mcp-acp login`, or acpctl's with `token_from: acpctl`); else `$ACP_TOKEN`.
fn token_of<'a>(
    logins: &'a [(String, Secret)],
    stored: &'a [(String, Secret, TokenSource)],
    config: &'a Config,
    cluster: &'a Cluster,
) -> Result<Token<'a>, ToolError> {
    if let Some((_, token)) = logins.iter().find(|(name, _)| *name == cluster.name) {
        return Ok((token, TokenSource::Login));
    }
    if cluster.token.is_none() {
        if let Some((_, token, from)) = stored.iter().find(|(name, _, _)| *name == cluster.name) {
            return Ok((token, *from));
        }
    }
    config.token_for(cluster).map_err(|e| {
        let name = &cluster.name;
        let hint = match (&cluster.oidc, &cluster.token_from) {
            (Some(_), _) => format!(" Or log in with `mcp-acp login {name}` (or acp_login without a token)."),
            (None, Some(_)) => " Or log in with `acpctl login` (token_from: acpctl).".to_string(),
            (None, None) => String::new(),
        };
        ToolError::Config(format!("{e}{hint}"))
    })
}
