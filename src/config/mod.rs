//! clusters.yaml: where it is, what it may contain, who may write it, and which token to use.
//!
//! The format is the Python original's, so the same file works with both servers.
//! Parsing ([`parse`]) is pure and fuzzable; [`load`] adds the file system. Both report every
//! problem they find as a [`Diagnostic`], not only the first, and log nothing themselves.

mod diagnostic;

/// Also here, where it used to be defined, so callers naming `config::TokenSource` still work.
pub use crate::credentials::TokenSource;
pub use diagnostic::{ClusterName, ConfigError, Diagnostic, Origin, Severity};

use crate::credentials::{Secret, TlsProfile};
use crate::redact::MIN_SECRET_LEN;
use crate::secure_file::{self, FileError, FileKind, Problem};
use crate::validate::{self, ServerUrl, quote};
use diagnostic::looks_like_name;
use serde_yaml::Value as Yaml;
use std::fmt;
use std::path::{Path, PathBuf};

/// Keys a cluster entry may have. Anything else is refused, as the original does.
/// `api`, `timeout_seconds` and `ca_cert` are ours; the original's files never contain them.
const CLUSTER_KEYS: &[&str] =
    &["server", "token", "default_project", "description", "api", "timeout_seconds", "ca_cert"];

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
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    load_with(path, std::env::var("ACP_TOKEN").ok())
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
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(ConfigError { path: Some(path.to_path_buf()), diagnostics });
    }
    let config = Config { clusters: reading.clusters, default_cluster: reading.default_cluster, env_token };
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
    Ok(Config { clusters: reading.clusters, default_cluster: reading.default_cluster, env_token })
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

/// One cluster entry, every key checked on its own so that one mistake does not hide the
/// next; None if any is wrong (the problems are in `r`).
fn parse_cluster(name: &str, entry: &Yaml, r: &mut Reading) -> Option<Cluster> {
    let cluster = ClusterName::of(name);
    let before = r.problems.len();
    let mut problem = |key: Option<&'static str>, message: String| {
        r.problems.push(Diagnostic::error(Origin::Content, Some(cluster.clone()), key, message));
        Reported
    };
    let Yaml::Mapping(map) = entry else {
        problem(None, format!("settings must be a mapping (found {})", describe(entry)));
        return None;
    };
    for key in map.keys() {
        match key.as_str() {
            Some(k) if CLUSTER_KEYS.contains(&k) => {}
            _ => {
                let shown = key.as_str().map(|k| shown_key(k, '"')).unwrap_or_else(|| describe(key));
                problem(None, format!("unknown key {shown} (allowed: {})", CLUSTER_KEYS.join(", ")));
            }
        }
    }
    let api = match string(map, "api") {
        Ok(None | Some("public-api")) => Ok(ApiKind::PublicApi),
        Ok(Some("ambient")) => Ok(ApiKind::Ambient),
        Ok(Some(other)) => {
            Err(problem(Some("api"), format!("api {} is not one of: {}", quote(other), ApiKind::NAMES.join(", "))))
        }
        Err(found) => Err(problem(Some("api"), not_a_string("api", found))),
    };
    let server = match string(map, "server") {
        // The Kubernetes API's port is refused on both kinds; the advice names the right one.
        Ok(Some(raw)) if raw.contains(":6443") && matches!(api, Ok(ApiKind::Ambient)) => Err(problem(
            Some("server"),
            "server: Direct Kubernetes API URLs (port 6443) are not supported. Use the ambient API \
             server's URL instead (e.g., https://ambient-api-server-<namespace>.apps.cluster.example.com)."
                .into(),
        )),
        Ok(Some(raw)) => validate::parse_server_url(raw).map_err(|e| problem(Some("server"), format!("server: {e}"))),
        Ok(None) => Err(problem(Some("server"), "server is required".into())),
        Err(found) => Err(problem(Some("server"), not_a_string("server", found))),
    };
    let default_project = match string(map, "default_project") {
        Ok(Some(p)) => validate::check_name("default_project", p)
            .map(|()| p.to_string())
            .map_err(|e| problem(Some("default_project"), e.to_string())),
        Ok(None) => Err(problem(Some("default_project"), "default_project is required".into())),
        Err(found) => Err(problem(Some("default_project"), not_a_string("default_project", found))),
    };
    let token = match map.get("token") {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(t)) => clean_token(t).map_err(|e| problem(Some("token"), e.to_string())),
        Some(_) => {
            Err(problem(Some("token"), "token must be a string: put it in quotes (its value is not shown)".into()))
        }
    };
    let timeout = match map.get("timeout_seconds") {
        None | Some(Yaml::Null) => Ok(DEFAULT_TIMEOUT_SECS),
        Some(Yaml::Number(n)) if n.as_u64().is_some_and(|n| (1..=MAX_TIMEOUT_SECS).contains(&n)) => {
            Ok(n.as_u64().unwrap_or(DEFAULT_TIMEOUT_SECS))
        }
        Some(other) => Err(problem(
            Some("timeout_seconds"),
            format!("timeout_seconds must be a whole number from 1 to {MAX_TIMEOUT_SECS} (found {})", describe(other)),
        )),
    };
    let description = string(map, "description")
        .map(|d| d.map(str::to_string))
        .map_err(|found| problem(Some("description"), not_a_string("description", found)));
    let ca_cert = match string(map, "ca_cert") {
        Ok(path) => Ok(path.filter(|p| !p.is_empty()).map(PathBuf::from)),
        Err(found) => Err(problem(Some("ca_cert"), not_a_string("ca_cert", found))),
    };
    if let Ok(Some(ca)) = &ca_cert {
        r.ca_certs.push((name.to_string(), ca.clone()));
    }
    if r.problems.len() > before {
        return None;
    }
    Some(Cluster {
        name: name.to_string(),
        api: api.ok()?,
        server: server.ok()?,
        token: token.ok()?,
        default_project: default_project.ok()?,
        description: description.ok()?,
        timeout: std::time::Duration::from_secs(timeout.ok()?),
        tls: TlsProfile { ca_cert: ca_cert.ok()? },
    })
}

fn not_a_string(key: &str, found: &Yaml) -> String {
    format!("{key} must be a string (found {})", describe(found))
}

/// A problem was found in a setting and is in the diagnostics.
struct Reported;

/// The string under `key`: `Ok(None)` if absent or null, `Err` with what is there instead.
fn string<'a>(map: &'a serde_yaml::Mapping, key: &str) -> Result<Option<&'a str>, &'a Yaml> {
    match map.get(key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(other),
    }
}

/// Why a token was refused. `Display` never includes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Spaces, control or non-ASCII characters.
    NotPrintable,
    /// Printable, but outside the bearer-token alphabet.
    NotBearer,
    /// Shorter than [`MIN_SECRET_LEN`]: its length.
    TooShort(usize),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::NotPrintable => f.write_str(
                "token contains spaces, control or non-ASCII characters, which an HTTP header \
                 cannot carry; check that it was pasted whole",
            ),
            TokenError::NotBearer => f.write_str(
                "token is not a bearer token: it may hold only letters, digits and - . _ ~ + / \
                 (then = at the end); check that it was pasted whole, without quotes or a prefix",
            ),
            TokenError::TooShort(len) => write!(
                f,
                "token is only {len} characters; real tokens are far longer, and one shorter than \
                 {MIN_SECRET_LEN} could not be kept out of what this server prints"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// Trim surrounding whitespace (a pasted newline is a common mistake); an empty token is
/// no token. A token must be a bearer token (RFC 6750 `b64token`: letters, digits, `-._~+/`,
/// then optional `=`) of at least [`MIN_SECRET_LEN`] characters: real ones are, and only such
/// a token can be reliably found and removed from everything we print.
pub fn clean_token(raw: &str) -> Result<Option<Secret>, TokenError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::NotPrintable);
    }
    let body = t.trim_end_matches('=');
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)) {
        return Err(TokenError::NotBearer);
    }
    if t.len() < MIN_SECRET_LEN {
        return Err(TokenError::TooShort(t.len()));
    }
    Ok(Some(Secret::new(t.to_string())))
}

/// Register every value written under a `token` key, as written, before anything is checked:
/// then no error about another key can show it, nor can one about the token itself (a token
/// typed as a bare number is no string that `clean_token` would see).
fn register_tokens(top: &serde_yaml::Mapping) {
    let Some(Yaml::Mapping(clusters)) = top.get("clusters") else { return };
    for entry in clusters.values() {
        match entry.get("token") {
            Some(Yaml::String(t)) => crate::redact::register(t.trim()),
            Some(Yaml::Number(n)) => crate::redact::register(&n.to_string()),
            _ => {}
        }
    }
}

/// A key from the file, fit for an error message: shown if it looks like a name; otherwise
/// only its length, since a key nobody would type is most likely a token pasted one line off.
fn shown_key(key: &str, mark: char) -> String {
    match looks_like_name(key) {
        true => format!("{mark}{key}{mark}"),
        false => {
            format!("of {} characters (not shown: it does not look like a name; is it a token?)", key.chars().count())
        }
    }
}

fn describe(v: &Yaml) -> String {
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
