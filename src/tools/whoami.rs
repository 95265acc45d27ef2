//! `acp_whoami`: the active cluster and where its token comes from, never the token.

use super::list_clusters::NoArgs;
use super::{Context, Effect, Output, Tool, ToolError};
use crate::config::TokenSource;
use crate::jwt;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

pub struct Whoami;

#[derive(Serialize)]
struct Identity {
    cluster: String,
    /// `public-api` or `ambient`.
    api: &'static str,
    server: String,
    project: String,
    /// "config", "env", "login", "oidc" (a stored login) or "acpctl"; never the token itself.
    token_source: Option<&'static str>,
    /// What the token says about its holder, when it is a JWT (read, not verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    /// The token's `sub` claim (for a service account, `system:serviceaccount:<ns>:<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    /// Seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired: Option<bool>,
}

impl Tool for Whoami {
    const NAME: &'static str = "acp_whoami";
    const TITLE: &'static str = "Show current identity";
    const DESCRIPTION: &'static str = "Show the active cluster, its API and server, the default project, the \
        token's source and, for a JWT, user and expiry. Never the token.";
    const EFFECT: Effect = Effect::LOCAL_READ;
    type Args = NoArgs;

    fn output_schema() -> Value {
        crate::schema::with(
            r#"{
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "api": {"type": "string", "enum": ["public-api", "ambient"]},
                "server": {"type": "string"},
                "project": {"type": "string"},
                "token_source": {
                    "type": ["string", "null"],
                    "enum": ["config", "env", "login", "oidc", "acpctl", null],
                    "description": "where the token comes from; the token itself is never shown"
                },
                "user": {"type": "string"},
                "subject": {"type": "string"},
                "issuer": {"type": "string"},
                "expires_at": {"type": "integer", "description": "the JWT's exp, seconds since the epoch"},
                "expired": {"type": "boolean"}
            },
            "required": ["cluster", "api", "server", "project", "token_source"]
        }"#,
            vec![],
        )
    }

    fn run(ctx: &mut Context, _: NoArgs) -> Result<Output, ToolError> {
        let now = (ctx.now)();
        let (cluster, token) = ctx.active_token()?;
        let claims = token.as_ref().ok().and_then(|(t, _)| jwt::claims(t.expose())).unwrap_or_default();
        let me = Identity {
            cluster: cluster.name.clone(),
            api: cluster.api.name(),
            server: cluster.server.base(),
            project: cluster.default_project.clone(),
            token_source: token.as_ref().ok().map(|(_, src)| match src {
                TokenSource::ConfigFile => "config",
                TokenSource::EnvVar => "env",
                TokenSource::Login => "login",
                TokenSource::StoredLogin => "oidc",
                TokenSource::Acpctl => "acpctl",
            }),
            user: claims.who().map(str::to_string),
            subject: claims.sub.clone(),
            issuer: claims.iss.clone(),
            expires_at: claims.exp,
            expired: claims.exp.map(|exp| exp <= now),
        };
        let mut text =
            format!("Cluster: {}\nServer: {} ({})\nProject: {}\n", me.cluster, me.server, me.api, me.project);
        match &token {
            Ok((_, src)) => {
                let _ = writeln!(text, "Token: configured, from {src} (not shown, and not checked with the server)");
            }
            Err(e) => {
                let _ = writeln!(text, "Token: none. {e}");
            }
        }
        if let Some(user) = &me.user {
            let _ = writeln!(text, "User (from the token): {user}");
        }
        if let Some(subject) = me.subject.as_ref().filter(|s| me.user.as_ref() != Some(*s)) {
            let _ = writeln!(text, "Subject: {subject}");
        }
        if let Some(issuer) = &me.issuer {
            let _ = writeln!(text, "Issuer: {issuer}");
        }
        if let Some(exp) = me.expires_at {
            let when = crate::validate::format_rfc3339(exp);
            match exp <= now {
                true => {
                    let _ = writeln!(text, "Expired: {when}; get a new token and give it to acp_login.");
                }
                false => {
                    let _ = writeln!(text, "Expires: {when} (in {} min)", (exp - now) / 60);
                }
            }
        }
        let failed = token.is_err();
        Ok(Output::new(failed, text, &me))
    }
}
