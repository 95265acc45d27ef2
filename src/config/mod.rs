//! clusters.yaml: where it is, what it may contain, who may write it, and which token to use.
//!
//! The format is the Python original's, so the same file works with both servers.
//! Parsing ([`parse`]) is pure and fuzzable; [`load`] adds the file system. Both report every
//! problem they find as a [`Diagnostic`], not only the first, and log nothing themselves.

mod cluster;
mod diagnostic;
mod guard;
mod identity;
mod token;

/// Also here, where it used to be defined, so callers naming `config::TokenSource` still work.
pub use crate::credentials::TokenSource;
pub use diagnostic::{ClusterName, ConfigError, Diagnostic, Origin, Severity};
pub use guard::{DEFAULT_ANSWER_TOKENS, DEFAULT_MUTATIONS_PER_MINUTE, Guardrails, Oidc, TOOLSETS, TOP_KEYS, TokenFrom};
pub use token::{TokenError, clean_token};

use crate::credentials::{Secret, TlsProfile};
use crate::secure_file::{self, FileError, FileKind, Problem};
use crate::validate::{ServerUrl, quote};
pub use cluster::CLUSTER_KEYS;
use cluster::parse_cluster;
use diagnostic::looks_like_name;
use serde_yaml::Value as Yaml;
use std::fmt;
use std::path::{Path, PathBuf};
use token::register_tokens;

/// Which of the platform's two APIs a cluster's `server` is (docs/public-api.md,
/// docs/ambient-api.md). They hold separate data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKind {
    /// The public-api gateway, `/v1/sessions` (the original's only API).
    #[default]
    PublicApi,
    /// The ambient API server, `/api/ambient/v1`.
    Ambient,
}

impl ApiKind {
    pub const NAMES: &[&str] = &["public-api", "ambient"];

    pub fn name(self) -> &'static str {
        match self {
            ApiKind::PublicApi => "public-api",
            ApiKind::Ambient => "ambient",
        }
    }
}

/// Bounds for `timeout_seconds`.
pub const MAX_TIMEOUT_SECS: u64 = 300;
/// `timeout_seconds` of a cluster that does not set it: every gateway call must finish
/// within this many seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

#[derive(Debug, Clone)]
pub struct Config {
    pub clusters: Vec<Cluster>,
    pub default_cluster: Option<String>,
    /// `$ACP_TOKEN`, the fallback for clusters without a token.
    pub env_token: Option<Secret>,
    /// What the whole process may do.
    pub guard: Guardrails,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub api: ApiKind,
    pub server: ServerUrl,
    pub token: Option<Secret>,
    pub default_project: String,
    pub description: Option<String>,
    /// Overall deadline for each gateway call.
    pub timeout: std::time::Duration,
    /// How the server is verified beyond the public roots: its `ca_cert`, resolved against
    /// the file's directory by [`load`] (as written by [`parse`]).
    pub tls: TlsProfile,
    /// Only tools that change nothing on the platform, on this cluster.
    pub read_only: bool,
    /// The only projects calls may name; `None` is any.
    pub allowed_projects: Option<Vec<String>>,
    pub oidc: Option<Oidc>,
    pub token_from: Option<TokenFrom>,
}

/// Neither the cluster nor the environment has a token. `Display` names both places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoToken {
    pub cluster: String,
}

impl fmt::Display for NoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "No authentication token available for cluster '{}'. Set `token` for it in \
             clusters.yaml or set the ACP_TOKEN environment variable.",
            self.cluster
        )
    }
}

impl std::error::Error for NoToken {}

impl Config {
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    pub fn cluster_names(&self) -> Vec<&str> {
        self.clusters.iter().map(|c| c.name.as_str()).collect()
    }

    /// The token for `cluster`: its own, else `$ACP_TOKEN`.
    pub fn token_for<'a>(&'a self, cluster: &'a Cluster) -> Result<(&'a Secret, TokenSource), NoToken> {
        match (&cluster.token, &self.env_token) {
            (Some(t), _) => Ok((t, TokenSource::ConfigFile)),
            (None, Some(t)) => Ok((t, TokenSource::EnvVar)),
            (None, None) => Err(NoToken { cluster: cluster.name.clone() }),
        }
    }
}

/// `$ACP_CLUSTER_CONFIG`, else `$MCP_ACP_CONFIG_PATH`, else `~/.config/acp/clusters.yaml`.
pub fn config_path() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("ACP_CLUSTER_CONFIG")
        .or_else(|| env("MCP_ACP_CONFIG_PATH"))
        .unwrap_or_else(|| env("HOME").unwrap_or_default().join(".config/acp/clusters.yaml"))
}

/// A minimal clusters.yaml, shown whenever the file is missing or unusable.
pub const EXAMPLE: &str = "clusters:
  dev:
    server: https://public-api-ambient.apps.cluster.example.com
    default_project: my-project
    token: <your token>        # or leave this out and set ACP_TOKEN
default_cluster: dev";

/// A configuration fit to use, and what is still worth telling (the caller logs it).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

impl Diagnostic {
    /// Log it at its severity. Defined here so the log target stays `mcp_acp::config`.
    pub fn log(&self) {
        match self.severity {
            Severity::Error => log::error!("{self}"),
            Severity::Warning => log::warn!("{self}"),
        }
    }
}

/// Read, check and parse the file at `path`, with `$ACP_TOKEN` as the fallback token. Who may
/// write it, and every directory above it, is checked by [`secure_file::read_private`], and
/// so is each `ca_cert` it names. Every problem is returned; warnings too, unlogged.
/// `$ACP_AUDIT_LOG` (relative to the working directory), when set and not empty, replaces
/// `audit_log`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let mut loaded = load_with(path, std::env::var("ACP_TOKEN").ok())?;
    if let Some(log) = std::env::var_os(crate::audit::ENV).filter(|v| !v.is_empty()) {
        loaded.config.guard.audit_log = Some(PathBuf::from(log));
    }
    if let Some(tokens) = std::env::var(ANSWER_TOKENS_ENV).ok().filter(|v| !v.trim().is_empty()) {
        loaded.config.guard.max_answer_tokens = answer_tokens_env(&tokens).ok_or_else(|| {
            let message = format!("{ANSWER_TOKENS_ENV}: {}", guard::answer_tokens_rule(&quote(&tokens)));
            let problem = Diagnostic::error(Origin::Environment, None, Some(ANSWER_TOKENS_ENV), message);
            ConfigError { path: Some(path.to_path_buf()), diagnostics: vec![problem] }
        })?;
    }
    Ok(loaded)
}

/// Replaces `max_answer_tokens` when set and not empty.
pub const ANSWER_TOKENS_ENV: &str = "ACP_MAX_ANSWER_TOKENS";

/// `$ACP_MAX_ANSWER_TOKENS`, if it keeps the rule of `max_answer_tokens`.
fn answer_tokens_env(value: &str) -> Option<u32> {
    value.trim().parse::<u64>().ok().filter(|n| guard::ANSWER_TOKENS.contains(n)).map(|n| n as u32)
}

/// [`load`] with the value of `$ACP_TOKEN` given, so tests need not set the environment.
fn load_with(path: &Path, acp_token: Option<String>) -> Result<Loaded, ConfigError> {
    let mut diagnostics = Vec::new();
    let file = match secure_file::read_private(path, FileKind::Config) {
        Ok(Some(file)) => Some(file),
        Ok(None) => {
            let message = format!(
                "Cluster configuration not found: {}\nCreate it with mode 0600 (or point \
                 ACP_CLUSTER_CONFIG at one). Minimal example:\n\n{EXAMPLE}",
                path.display()
            );
            diagnostics.push(Diagnostic::error(Origin::File, None, None, message));
            None
        }
        Err(e) => {
            diagnostics.push(Diagnostic::error(Origin::File, None, None, e.to_string()));
            None
        }
    };
    // A problem of its own, so told even when the file cannot be read.
    let env_token = acp_token.and_then(|t| {
        clean_token(&t).unwrap_or_else(|e| {
            let message = format!("ACP_TOKEN: {e}");
            diagnostics.push(Diagnostic::error(Origin::Environment, None, Some("ACP_TOKEN"), message));
            None
        })
    });
    let Some(file) = file else {
        return Err(ConfigError { path: Some(path.to_path_buf()), diagnostics });
    };
    let warnings = file.warnings.iter().map(|w| Diagnostic::warning(Origin::File, None, None, w.to_string()));
    diagnostics.extend(warnings);
    let mut reading = read(&file.text);
    diagnostics.append(&mut reading.problems);
    for (name, ca) in reading.ca_certs {
        let ca = path.parent().map(|dir| dir.join(&ca)).unwrap_or(ca);
        let usable = check_ca_file(&ca, ClusterName::of(&name), &mut diagnostics);
        if let Some(cluster) = reading.clusters.iter_mut().find(|c| c.name == name).filter(|_| usable) {
            cluster.tls.ca_cert = Some(ca);
        }
    }
    identity::resolve(path.parent(), reading.client_files, &mut reading.clusters, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(ConfigError { path: Some(path.to_path_buf()), diagnostics });
    }
    // Relative to the file's directory, like `ca_cert`.
    if let (Some(log), Some(dir)) = (&mut reading.guard.audit_log, path.parent()) {
        *log = dir.join(&*log);
    }
    let config = Config {
        clusters: reading.clusters,
        default_cluster: reading.default_cluster,
        env_token,
        guard: reading.guard,
    };
    Ok(Loaded { config, warnings: diagnostics })
}

/// A `ca_cert` must be a file holding at least one PEM certificate, and since it decides
/// whom the token is sent to, no other user may be able to write or replace it. Its problems
/// go to `out`; true if it can be used.
fn check_ca_file(ca: &Path, cluster: ClusterName, out: &mut Vec<Diagnostic>) -> bool {
    let problem = |message: String| Diagnostic::error(Origin::Content, Some(cluster.clone()), Some("ca_cert"), message);
    let file = match secure_file::read_private(ca, FileKind::CaCert) {
        Ok(Some(file)) => file,
        Ok(None) => {
            let missing =
                FileError { kind: FileKind::CaCert, name: ca.display().to_string(), problem: Problem::NotFound };
            out.push(problem(missing.to_string()));
            return false;
        }
        Err(e) => {
            out.push(problem(e.to_string()));
            return false;
        }
    };
    let warning = |w: &secure_file::FileWarning| {
        Diagnostic::warning(Origin::Content, Some(cluster.clone()), Some("ca_cert"), w.to_string())
    };
    out.extend(file.warnings.iter().map(warning));
    if !file.text.contains("-----BEGIN CERTIFICATE-----") {
        out.push(problem(format!("ca_cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", ca.display())));
        return false;
    }
    true
}

/// Parse and validate the text of a clusters.yaml. Pure: no I/O, no environment. `ca_cert`
/// paths are kept as written; only [`load`] resolves and reads them.
pub fn parse(text: &str, env_token: Option<Secret>) -> Result<Config, ConfigError> {
    let reading = read(text);
    if !reading.problems.is_empty() {
        return Err(ConfigError { path: None, diagnostics: reading.problems });
    }
    Ok(Config { clusters: reading.clusters, default_cluster: reading.default_cluster, env_token, guard: reading.guard })
}

/// What a text says, as far as it could be read.
#[derive(Default)]
struct Reading {
    /// The entries without problems.
    clusters: Vec<Cluster>,
    default_cluster: Option<String>,
    problems: Vec<Diagnostic>,
    /// Every `ca_cert` written, by entry name, even in entries with other problems: [`load`]
    /// checks each file, so that its problems are told at the same time.
    ca_certs: Vec<(String, PathBuf)>,
    /// Every `client_cert` and `client_key` written, by entry name and key, likewise.
    client_files: Vec<(String, &'static str, PathBuf)>,
    guard: Guardrails,
}

impl Reading {
    fn problem(&mut self, key: Option<&'static str>, message: String) {
        self.problems.push(Diagnostic::error(Origin::Content, None, key, message));
    }
}

/// Every problem in `text`. The file as a whole (empty, not YAML, not a mapping) is one
/// problem; past that each cluster entry is checked completely, then `default_cluster`.
fn read(text: &str) -> Reading {
    let mut r = Reading::default();
    if text.trim().is_empty() {
        r.problem(None, "the file is empty. Minimal example:\n\n".to_string() + EXAMPLE);
        return r;
    }
    // The parser's message already ends with "at line L column C".
    let doc: Yaml = match serde_yaml::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            r.problem(None, format!("YAML error: {e}"));
            return r;
        }
    };
    let Yaml::Mapping(top) = doc else {
        r.problem(None, "the top level must be a mapping with `clusters` and `default_cluster`".into());
        return r;
    };
    register_tokens(&top);
    for key in top.keys() {
        if !key.as_str().is_some_and(|k| TOP_KEYS.contains(&k)) {
            let shown = key.as_str().map(|k| shown_key(k, '"')).unwrap_or_else(|| describe(key));
            r.problem(None, format!("unknown top-level key {shown} (allowed: {})", TOP_KEYS.join(", ")));
        }
    }
    let mut problems = Vec::new();
    r.guard = guard::read_guardrails(&top, &mut |key, message| problems.push((key, message)));
    for (key, message) in problems {
        r.problem(Some(key), message);
    }
    // Every entry's name, for `default_cluster`; None if the entries could not all be named,
    // and then `default_cluster` is not looked up (it might name the entry that could not).
    let mut names: Option<Vec<&str>> = Some(Vec::new());
    match top.get("clusters") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Mapping(entries)) => {
            for (name, entry) in entries {
                let Yaml::String(name) = name else {
                    r.problem(Some("clusters"), format!("cluster names must be strings (found {})", describe(name)));
                    names = None;
                    continue;
                };
                if let Some(names) = &mut names {
                    names.push(name);
                }
                if let Some(cluster) = parse_cluster(name, entry, &mut r) {
                    r.clusters.push(cluster);
                }
            }
        }
        Some(other) => {
            let message = format!("`clusters` must be a mapping of name → settings (found {})", describe(other));
            r.problem(Some("clusters"), message);
            names = None;
        }
    }
    match top.get("default_cluster") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::String(d)) => match names {
            Some(names) if !names.contains(&d.as_str()) => {
                let shown: Vec<String> = names.iter().map(|n| shown_key(n, '"')).collect();
                let message =
                    format!("default_cluster {} not found in clusters: [{}]", shown_key(d, '\''), shown.join(", "));
                r.problem(Some("default_cluster"), message);
            }
            _ => r.default_cluster = Some(d.clone()),
        },
        Some(other) => {
            let message = format!("default_cluster must be a string (found {})", describe(other));
            r.problem(Some("default_cluster"), message);
        }
    }
    r
}

/// A key from the file, fit for an error message: shown if it looks like a name; otherwise
/// only its length, since a key nobody would type is most likely a token pasted one line off.
pub(super) fn shown_key(key: &str, mark: char) -> String {
    match looks_like_name(key) {
        true => format!("{mark}{key}{mark}"),
        false => {
            format!("of {} characters (not shown: it does not look like a name; is it a token?)", key.chars().count())
        }
    }
}

pub(super) fn describe(v: &Yaml) -> String {
    match v {
        Yaml::Null => "nothing".into(),
        Yaml::Bool(b) => format!("the boolean {b}"),
        Yaml::Number(n) => format!("the number {n}"),
        Yaml::String(s) => format!("the string {}", quote(s)),
        Yaml::Sequence(_) => "a list".into(),
        Yaml::Mapping(_) => "a mapping".into(),
        Yaml::Tagged(_) => "a tagged value".into(),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_support {
    /// Every problem `parse` finds in `yaml`, as text.
    pub fn problems_of(yaml: &str) -> Vec<String> {
        match super::parse(yaml, None) {
            Ok(_) => vec![],
            Err(e) => e.diagnostics.iter().map(ToString::to_string).collect(),
        }
    }
}
