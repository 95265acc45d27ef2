//! `mcp-acp check-config`: everything wrong with a setup, in one report, for the person
//! setting it up. Every problem is listed, not the first; no token is ever printed, nor any
//! piece of one. Exit status: 0 clean, 1 on warnings with `--strict`, 2 on errors.

use crate::audit::AuditLog;
use crate::config::{self, Cluster, Config, Diagnostic, Severity};
use crate::credentials::{Secret, TokenSource};
use crate::deadline::Deadline;
use crate::gateway::http::Transport;
use crate::gateway::{ApiError, Backend, Target};
use crate::jwt;
use crate::tools::{Context, ToolError, check_cluster};
use crate::validate::format_rfc3339;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

pub const USAGE: &str = "Usage: mcp-acp check-config [--online] [--strict] [--json]

Checks clusters.yaml and everything it names, and lists every problem: the file and its
permissions, each cluster's server URL and API kind, where its token comes from (never the
token) and when a JWT expires, CA, client certificate and key files, pins, and the audit log.
--online also reaches each cluster: the gateway's /health, then one authenticated read
(which exercises TLS, pins and the token). --json prints the same report as JSON.
Exit status: 0 clean; 1 with --strict when there are warnings; 2 on errors.
";

/// Seconds before expiry that a token is worth a warning.
const EXPIRY_WARNING_SECS: i64 = 600;

#[derive(Default)]
struct Options {
    online: bool,
    strict: bool,
    json: bool,
}

#[derive(Serialize)]
struct Finding {
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<String>,
    message: String,
}

#[derive(Serialize)]
struct ClusterReport {
    name: String,
    api: &'static str,
    server: String,
    default_project: String,
    default: bool,
    /// Where the token comes from and what it is, never the token.
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    online: Option<String>,
    /// Its token check found no token to use (told already; --online does not tell it again).
    #[serde(skip)]
    no_token: bool,
}

#[derive(Serialize)]
struct Report {
    config: PathBuf,
    errors: usize,
    warnings: usize,
    problems: Vec<Finding>,
    clusters: Vec<ClusterReport>,
}

impl Report {
    fn add(&mut self, severity: Severity, cluster: Option<&str>, message: String) {
        let severity = match severity {
            Severity::Error => {
                self.errors += 1;
                "error"
            }
            Severity::Warning => {
                self.warnings += 1;
                "warning"
            }
        };
        self.problems.push(Finding { severity, cluster: cluster.map(str::to_string), message });
    }

    fn diagnostic(&mut self, d: &Diagnostic) {
        let cluster = d.cluster.as_ref().map(|c| c.to_string().trim_matches('\'').to_string());
        self.add(d.severity, cluster.as_deref(), d.message.clone());
    }
}

/// Run the check with the arguments after `check-config`.
pub fn run(args: &[String]) -> ExitCode {
    let mut o = Options::default();
    for a in args {
        match a.as_str() {
            "--online" => o.online = true,
            "--strict" => o.strict = true,
            "--json" => o.json = true,
            "--help" | "-h" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("mcp-acp check-config: unknown argument {}\n\n{USAGE}", crate::validate::quote(other));
                return ExitCode::from(2);
            }
        }
    }
    let path = config::config_path();
    let mut report = Report { config: path.clone(), errors: 0, warnings: 0, problems: vec![], clusters: vec![] };
    let config = match config::load(&path) {
        Ok(loaded) => {
            loaded.warnings.iter().for_each(|w| report.diagnostic(w));
            Some(loaded.config)
        }
        Err(e) => {
            e.diagnostics.iter().for_each(|d| report.diagnostic(d));
            // A file refused for who may write it is still read here (never by the server), so
            // that one report lists what else is wrong in it.
            let refused = e.diagnostics.iter().any(|d| d.origin == config::Origin::File && d.is_error());
            if let (true, Some(text)) = (refused, read_anyway(&path)) {
                let more = config::parse(&text, None).err().map(|e| e.diagnostics).unwrap_or_default();
                more.iter().for_each(|d| report.diagnostic(d));
            }
            None
        }
    };
    if let Some(config) = &config {
        check_audit_log(config, &mut report);
        let now = now();
        for cluster in &config.clusters {
            let errors = report.errors;
            let token = token_line(config, cluster, now, &mut report);
            report.clusters.push(ClusterReport {
                no_token: report.errors > errors,
                name: cluster.name.clone(),
                api: cluster.api.name(),
                server: cluster.server.base(),
                default_project: cluster.default_project.clone(),
                default: config.default_cluster.as_deref() == Some(cluster.name.as_str()),
                token,
                online: None,
            });
        }
        if o.online {
            online(config, &path, &mut report);
        }
    }
    // Nothing here holds a token, but an API's error text could echo one: scrub it anyway.
    let out = match o.json {
        true => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        false => text(&report),
    };
    print!("{}", crate::redact::redact(&out));
    match (report.errors, report.warnings) {
        (e, _) if e > 0 => ExitCode::from(2),
        (_, w) if w > 0 && o.strict => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Where the token comes from and what it says of itself; an expired or expiring JWT is a
/// problem. Never the token, nor its length (a length narrows a guess).
fn token_line(config: &Config, cluster: &Cluster, now: i64, report: &mut Report) -> String {
    let name = Some(cluster.name.as_str());
    // An explicit token comes first; then a stored login (oidc:, token_from:); then ACP_TOKEN.
    if cluster.token.is_none() && (cluster.oidc.is_some() || cluster.token_from.is_some()) {
        return stored_login_line(cluster, config.env_token.is_some(), report);
    }
    let (token, source): (&Secret, TokenSource) = match config.token_for(cluster) {
        Ok(found) => found,
        Err(e) => {
            report.add(Severity::Error, name, e.to_string());
            return "none".into();
        }
    };
    let Some(claims) = jwt::claims(token.expose()) else {
        return format!("from {source}; an opaque token (not a JWT: no expiry to check)");
    };
    let who = claims.who().map(|w| format!(" for '{w}'")).unwrap_or_default();
    let issuer = claims.iss.as_deref().map(|i| format!(", issued by {i}")).unwrap_or_default();
    let expiry = match claims.exp {
        None => String::new(),
        Some(exp) if exp <= now => {
            let message =
                format!("the token expired at {}; get a new one (or run `mcp-acp login`)", format_rfc3339(exp));
            report.add(Severity::Error, name, message);
            format!(", expired at {}", format_rfc3339(exp))
        }
        Some(exp) => {
            if exp - now <= EXPIRY_WARNING_SECS {
                let message = format!("the token expires in {} s, at {}", exp - now, format_rfc3339(exp));
                report.add(Severity::Warning, name, message);
            }
            format!(", expires at {}", format_rfc3339(exp))
        }
    };
    format!("from {source}; a JWT{who}{issuer}{expiry}")
}

/// A cluster that logs in (oidc:, or token_from: acpctl): is there a login to use, and is its
/// file sound? Only whether a refresh token is there; the server renews the access token.
fn stored_login_line(cluster: &Cluster, env_fallback: bool, report: &mut Report) -> String {
    let name = Some(cluster.name.as_str());
    let (what, path) = match cluster.token_from {
        Some(config::TokenFrom::Acpctl) => ("acpctl's stored login", crate::oidc::acpctl_path()),
        None => ("a stored OIDC login", crate::oidc::store_path(&cluster.name)),
    };
    let path = match path {
        Ok(p) => p,
        Err(e) => {
            report.add(Severity::Error, name, e.to_string());
            return format!("{what}: unknown location");
        }
    };
    let found = match cluster.token_from {
        Some(_) => crate::oidc::Acpctl::load(&path).map(|a| a.is_some()),
        None => crate::oidc::StoredLogin::load(&path).map(|l| l.is_some_and(|l| l.refresh().is_some())),
    };
    // With no login yet, where `mcp-acp login` would store one must be sound too. A login
    // there is renewed by writing it back: judged by the rules it is written by (the writer's
    // own check: the directory holding it must be ours), not only those it is read by.
    let found = match (found, cluster.token_from) {
        (Ok(false), None) => crate::oidc::check_store_place(&path).map(|()| false),
        (Ok(true), _) => crate::oidc::check_store_place(&path).map(|()| true),
        (found, _) => found,
    };
    match found {
        Ok(true) => format!("from {what} ({})", path.display()),
        Ok(false) => {
            let fix = match cluster.token_from {
                Some(_) => "run `acpctl login`".to_string(),
                None => format!("run `mcp-acp login {}`", cluster.name),
            };
            let fallback = if env_fallback { "; ACP_TOKEN is used until then" } else { "" };
            let severity = if env_fallback { Severity::Warning } else { Severity::Error };
            report.add(severity, name, format!("no login stored at {}: {fix}{fallback}", path.display()));
            format!("{what}: none yet")
        }
        Err(e) => {
            report.add(Severity::Error, name, e.to_string());
            format!("{what}: unusable")
        }
    }
}

/// The text of a regular file of at most 1 MiB, whoever may write it; `None` otherwise.
fn read_anyway(path: &std::path::Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    (meta.is_file() && meta.len() <= 1024 * 1024).then(|| std::fs::read_to_string(path).ok()).flatten()
}

/// The audit log, where one is asked for, must be writable by us and no one else.
fn check_audit_log(config: &Config, report: &mut Report) {
    if let Some(path) = &config.guard.audit_log {
        if let Err(e) = AuditLog::check(path) {
            report.add(Severity::Error, None, format!("audit_log: {e}"));
        }
    }
}

/// The server's context: a backend per API kind and the stored logins it gets tokens from.
/// The server and `check-config --online` both start from this one, so that the check gets
/// its tokens exactly as the server does.
pub fn server_context(config_path: PathBuf) -> Context {
    let mut ctx = Context::with_backends(
        config_path,
        vec![
            (config::ApiKind::PublicApi, Box::new(crate::gateway::v1::GatewayV1::default()) as Box<dyn Backend>),
            (config::ApiKind::Ambient, Box::new(crate::gateway::ambient::Ambient::default())),
        ],
    );
    ctx.set_login_source(Box::new(crate::oidc::Logins::default()));
    ctx
}

/// Reach each cluster: the gateway's /health (the ambient API's health route is not exposed),
/// OIDC discovery, then one authenticated read through the server's own context. One time
/// limit per cluster (`timeout_seconds`) covers all three. A cause is told once: what it
/// makes impossible is said to be skipped, not failed again.
fn online(config: &Config, path: &std::path::Path, report: &mut Report) {
    let mut ctx = server_context(path.to_path_buf());
    let mut transport = Transport::default();
    for (i, cluster) in config.clusters.iter().enumerate() {
        let name = Some(cluster.name.as_str());
        let deadline = Deadline::after(cluster.timeout);
        let out_of_time = || format!("skipped: the cluster's timeout_seconds ({} s) ran out", deadline.given_secs());
        let mut seen = vec![];
        let mut unreachable = false;
        if cluster.api == config::ApiKind::PublicApi {
            match health(&mut transport, cluster, deadline) {
                Ok(()) => seen.push("/health ok".to_string()),
                Err(e) => {
                    report.add(Severity::Error, name, format!("/health: {e}"));
                    seen.push("/health failed".to_string());
                    unreachable = true;
                }
            }
        }
        let mut no_idp = false;
        if let Some(oidc) = &cluster.oidc {
            no_idp = true;
            if deadline.passed() {
                seen.push(format!("OIDC discovery {}", out_of_time()));
            } else {
                let mut idp = crate::oidc::Idp::new(&oidc.issuer, cluster.timeout);
                idp.set_deadline(Some(deadline));
                match idp.discover() {
                    Ok(_) => {
                        seen.push("OIDC discovery ok".to_string());
                        no_idp = false;
                    }
                    Err(e) => {
                        report.add(Severity::Error, name, format!("oidc.issuer: {e}"));
                        seen.push("OIDC discovery failed".to_string());
                    }
                }
            }
        }
        if unreachable {
            seen.push("authenticated read skipped: /health failed".to_string());
        } else if report.clusters[i].no_token {
            seen.push("authenticated read skipped: no token to read with".to_string());
        } else if deadline.passed() {
            seen.push(format!("authenticated read {}", out_of_time()));
        } else {
            ctx.set_deadline(Some(deadline));
            let read = check_cluster(&mut ctx, &cluster.name, "");
            ctx.set_deadline(None);
            match read {
                Ok(what) => seen.push(format!("authenticated read ok: {what}")),
                // The stored login could not be renewed for the reason discovery gave.
                Err(ToolError::Refused(_)) if no_idp => {
                    seen.push("authenticated read skipped: no token without the identity provider".to_string())
                }
                Err(e) => {
                    let why = match e {
                        ToolError::Api(_, e, _, api) => e.describe(api),
                        other => other.to_string(),
                    };
                    report.add(Severity::Error, name, format!("authenticated read: {why}"));
                    seen.push("authenticated read failed".to_string());
                }
            }
        }
        report.clusters[i].online = Some(seen.join("; "));
    }
}

/// Why `/health` did not answer 200, as the report says it.
struct Unhealthy(String);

impl std::fmt::Display for Unhealthy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `/health`, which needs no token: none is sent (nor asked of a stored login).
fn health(transport: &mut Transport, cluster: &Cluster, deadline: Deadline) -> Result<(), Unhealthy> {
    let none = Secret::new(String::new());
    let t = Target {
        cluster: &cluster.name,
        server: &cluster.server,
        token: &none,
        token_source: TokenSource::ConfigFile,
        api: "the gateway",
        project: &cluster.default_project,
        deadline,
        tls: &cluster.tls,
        cancelled: &|| false,
    };
    match transport.probe(&t, "/health") {
        Ok(reply) if reply.status == 200 => Ok(()),
        Ok(reply) if reply.status == 404 => Err(Unhealthy(format!(
            "the server answered 404 for {}/health: it is not the public-api gateway, or `server` lacks the \
             gateway's path prefix",
            cluster.server.base()
        ))),
        Ok(reply) => Err(Unhealthy(format!("the gateway answered {}", reply.status))),
        Err(ApiError::Timeout { secs }) => Err(Unhealthy(format!("the gateway did not answer within {secs} s"))),
        Err(e) => Err(Unhealthy(e.describe(t.api))),
    }
}

fn text(r: &Report) -> String {
    use std::fmt::Write;
    let mut out = format!("mcp-acp check-config: {}\n\n", r.config.display());
    for c in &r.clusters {
        let default = if c.default { " [default]" } else { "" };
        let _ = writeln!(out, "Cluster {} ({}){default}", c.name, c.api);
        let _ = writeln!(out, "  server: {}\n  default project: {}\n  token: {}", c.server, c.default_project, c.token);
        if let Some(online) = &c.online {
            let _ = writeln!(out, "  online: {online}");
        }
        out.push('\n');
    }
    if !r.problems.is_empty() {
        out.push_str("Problems:\n");
        for p in &r.problems {
            let cluster = p.cluster.as_deref().map(|c| format!("cluster '{c}': ")).unwrap_or_default();
            let _ = writeln!(out, "  {}: {cluster}{}", p.severity, p.message);
        }
        out.push('\n');
    }
    let verdict = match (r.errors, r.warnings) {
        (0, 0) => "no problems found".to_string(),
        (e, w) => format!("{e} error(s), {w} warning(s)"),
    };
    let _ = writeln!(out, "Result: {verdict}.");
    out
}
