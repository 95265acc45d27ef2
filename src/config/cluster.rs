//! One cluster entry of clusters.yaml: every key checked on its own.

use super::diagnostic::{ClusterName, Diagnostic, Origin};
use super::guard;
use super::token::clean_token;
use super::{ApiKind, Cluster, DEFAULT_TIMEOUT_SECS, MAX_TIMEOUT_SECS, Reading, describe, shown_key};
use crate::credentials::TlsProfile;
use crate::validate::{self, quote};
use serde_yaml::Value as Yaml;
use std::path::PathBuf;

/// Keys a cluster entry may have. Anything else is refused, as the original does. All but the
/// first four are ours; the original's files never contain them.
pub const CLUSTER_KEYS: &[&str] = &[
    "server",
    "token",
    "default_project",
    "description",
    "api",
    "timeout_seconds",
    "ca_cert",
    "read_only",
    "allowed_projects",
    "oidc",
    "token_from",
    "client_cert",
    "client_key",
    "pinned_spki_sha256",
];

/// One cluster entry, every key checked on its own so that one mistake does not hide the
/// next; None if any is wrong (the problems are in `r`).
pub(super) fn parse_cluster(name: &str, entry: &Yaml, r: &mut Reading) -> Option<Cluster> {
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
    let mut report = |key: &'static str, message: String| {
        problem(Some(key), message);
    };
    let read_only = guard::flag(map, "read_only", &mut report);
    let allowed_projects = match map.get("allowed_projects") {
        None | Some(Yaml::Null) => Ok(None),
        Some(v) => guard::allowed_projects(v, default_project.as_deref().ok(), &mut report).map(Some),
    };
    let oidc = map.get("oidc").filter(|v| !v.is_null()).map(|v| guard::oidc(v, &mut report)).transpose();
    let token_from =
        map.get("token_from").filter(|v| !v.is_null()).map(|v| guard::token_from(v, &mut report)).transpose();
    let pins = match map.get("pinned_spki_sha256") {
        None | Some(Yaml::Null) => Ok(vec![]),
        Some(v) => guard::pins(v, &mut report),
    };
    let path = |key: &'static str, report: &mut dyn FnMut(&'static str, String)| match string(map, key) {
        Ok(p) => Ok(p.filter(|p| !p.is_empty()).map(PathBuf::from)),
        Err(found) => {
            report(key, not_a_string(key, found));
            Err(Reported)
        }
    };
    let (client_cert, client_key) = (path("client_cert", &mut report), path("client_key", &mut report));
    for (key, file) in [("client_cert", &client_cert), ("client_key", &client_key)] {
        if let Ok(Some(p)) = file {
            r.client_files.push((name.to_string(), key, p.clone()));
        }
    }
    if let (Ok(cert), Ok(key)) = (&client_cert, &client_key) {
        if cert.is_some() != key.is_some() {
            report(
                if cert.is_some() { "client_key" } else { "client_cert" },
                "client_cert and client_key go together: set both (PEM files) or neither".into(),
            );
        }
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
        tls: TlsProfile {
            ca_cert: ca_cert.ok()?,
            client_cert: client_cert.ok()?,
            client_key: client_key.ok()?,
            pins: pins.ok()?,
        },
        read_only,
        allowed_projects: allowed_projects.ok()?,
        oidc: oidc.ok()?,
        token_from: token_from.ok()?,
    })
}

pub(super) fn not_a_string(key: &str, found: &Yaml) -> String {
    format!("{key} must be a string (found {})", describe(found))
}

/// A problem was found in a setting and is in the diagnostics.
pub(super) struct Reported;

/// The string under `key`: `Ok(None)` if absent or null, `Err` with what is there instead.
pub(super) fn string<'a>(map: &'a serde_yaml::Mapping, key: &str) -> Result<Option<&'a str>, &'a Yaml> {
    match map.get(key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(other),
    }
}
