//! clusters.yaml: where it is, what it may contain, who may write it, and which token to use.
//!
//! The format is the Python original's, so the same file works with both servers.
//! Parsing ([`parse`]) is pure and fuzzable; [`load`] adds the file system.

use crate::redact::{MIN_SECRET_LEN, Secret};
use crate::secure_file::{self, FileKind};
use crate::validate::{self, ServerUrl, quote};
use serde_yaml::Value as Yaml;
use std::fmt;
use std::path::{Path, PathBuf};

/// Keys a cluster entry may have. Anything else is refused, as the original does.
/// `timeout_seconds` and `ca_cert` are ours; the original's files never contain them.
const CLUSTER_KEYS: &[&str] = &["server", "token", "default_project", "description", "timeout_seconds", "ca_cert"];

/// Bounds for `timeout_seconds`.
pub const MAX_TIMEOUT_SECS: u64 = 300;

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
    pub server: ServerUrl,
    pub token: Option<Secret>,
    pub default_project: String,
    pub description: Option<String>,
    /// Overall deadline for each gateway call.
    pub timeout: std::time::Duration,
    /// A PEM file of extra CA certificates trusted for this cluster only (beside the public roots).
    pub ca_cert: Option<PathBuf>,
}

/// Where the token for a request came from (shown by `acp_whoami`, used in 401 hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    ConfigFile,
    EnvVar,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenSource::ConfigFile => "the cluster's `token` in clusters.yaml",
            TokenSource::EnvVar => "the ACP_TOKEN environment variable",
        })
    }
}

impl Config {
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    pub fn cluster_names(&self) -> Vec<&str> {
        self.clusters.iter().map(|c| c.name.as_str()).collect()
    }

    /// The token for `cluster`: its own, else `$ACP_TOKEN`, else an error naming both.
    pub fn token_for<'a>(&'a self, cluster: &'a Cluster) -> Result<(&'a Secret, TokenSource), String> {
        match (&cluster.token, &self.env_token) {
            (Some(t), _) => Ok((t, TokenSource::ConfigFile)),
            (None, Some(t)) => Ok((t, TokenSource::EnvVar)),
            (None, None) => Err(format!(
                "No authentication token available for cluster '{}'. Set `token` for it in \
                 clusters.yaml or set the ACP_TOKEN environment variable.",
                cluster.name
            )),
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

/// Read, check and parse the file at `path`. Who may write it, and every directory above
/// it, is checked by [`secure_file::read_private`]; warnings (loose permissions) are logged.
pub fn load(path: &Path) -> Result<Config, String> {
    let Some(file) = secure_file::read_private(path, FileKind::Config)? else {
        return Err(format!(
            "Cluster configuration not found: {}\nCreate it with mode 0600 (or point \
             ACP_CLUSTER_CONFIG at one). Minimal example:\n\n{EXAMPLE}",
            path.display()
        ));
    };
    for warning in &file.warnings {
        log::warn!("{warning}");
    }
    let text = file.text;
    let env_token = match std::env::var("ACP_TOKEN") {
        Ok(t) => clean_token(&t).map_err(|e| format!("ACP_TOKEN: {e}"))?,
        Err(_) => None,
    };
    let mut config =
        parse(&text, env_token).map_err(|e| format!("Invalid cluster configuration {}: {e}", path.display()))?;
    for cluster in &mut config.clusters {
        if let Some(ca) = cluster.ca_cert.take() {
            let ca = path.parent().map(|dir| dir.join(&ca)).unwrap_or(ca);
            check_ca_file(&ca).map_err(|e| {
                format!("Invalid cluster configuration {}: cluster '{}': {e}", path.display(), cluster.name)
            })?;
            cluster.ca_cert = Some(ca);
        }
    }
    Ok(config)
}

/// A `ca_cert` must be a file holding at least one PEM certificate, and since it decides
/// whom the token is sent to, no other user may be able to write or replace it.
fn check_ca_file(ca: &Path) -> Result<(), String> {
    let Some(file) = secure_file::read_private(ca, FileKind::CaCert)? else {
        return Err(format!("ca_cert {}: cannot read it (no such file)", ca.display()));
    };
    for warning in &file.warnings {
        log::warn!("{warning}");
    }
    match file.text.contains("-----BEGIN CERTIFICATE-----") {
        true => Ok(()),
        false => Err(format!("ca_cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", ca.display())),
    }
}

/// Parse and validate the text of a clusters.yaml. Pure: no I/O, no environment.
pub fn parse(text: &str, env_token: Option<Secret>) -> Result<Config, String> {
    if text.trim().is_empty() {
        return Err("the file is empty. Minimal example:\n\n".to_string() + EXAMPLE);
    }
    // The parser's message already ends with "at line L column C".
    let doc: Yaml = serde_yaml::from_str(text).map_err(|e| format!("YAML error: {e}"))?;
    let Yaml::Mapping(top) = doc else {
        return Err("the top level must be a mapping with `clusters` and `default_cluster`".into());
    };
    register_tokens(&top);
    let mut clusters = Vec::new();
    match top.get("clusters") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Mapping(entries)) => {
            for (name, entry) in entries {
                let Yaml::String(name) = name else {
                    return Err(format!("cluster names must be strings (found {})", describe(name)));
                };
                clusters
                    .push(parse_cluster(name, entry).map_err(|e| format!("cluster {}: {e}", shown_key(name, '\'')))?);
            }
        }
        Some(other) => {
            return Err(format!("`clusters` must be a mapping of name → settings (found {})", describe(other)));
        }
    }
    let default_cluster = match top.get("default_cluster") {
        None | Some(Yaml::Null) => None,
        Some(Yaml::String(d)) => {
            if !clusters.iter().any(|c| c.name == *d) {
                let names: Vec<String> = clusters.iter().map(|c| shown_key(&c.name, '"')).collect();
                return Err(format!(
                    "default_cluster {} not found in clusters: [{}]",
                    shown_key(d, '\''),
                    names.join(", ")
                ));
            }
            Some(d.clone())
        }
        Some(other) => return Err(format!("default_cluster must be a string (found {})", describe(other))),
    };
    Ok(Config { clusters, default_cluster, env_token })
}

fn parse_cluster(name: &str, entry: &Yaml) -> Result<Cluster, String> {
    let Yaml::Mapping(map) = entry else {
        return Err(format!("settings must be a mapping (found {})", describe(entry)));
    };
    for key in map.keys() {
        match key.as_str() {
            Some(k) if CLUSTER_KEYS.contains(&k) => {}
            _ => {
                let shown = key.as_str().map(|k| shown_key(k, '"')).unwrap_or_else(|| describe(key));
                return Err(format!("unknown key {shown} (allowed: {})", CLUSTER_KEYS.join(", ")));
            }
        }
    }
    let text = |key: &str| -> Result<Option<&str>, String> {
        match map.get(key) {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(format!("{key} must be a string (found {})", describe(other))),
        }
    };
    let server_raw = text("server")?.ok_or("server is required")?;
    let server = validate::parse_server_url(server_raw).map_err(|e| format!("server: {e}"))?;
    let default_project = text("default_project")?.ok_or("default_project is required")?;
    validate::check_name("default_project", default_project).map_err(|e| e.0)?;
    let token = match map.get("token") {
        None | Some(Yaml::Null) => None,
        Some(Yaml::String(t)) => clean_token(t)?,
        Some(_) => return Err("token must be a string: put it in quotes (its value is not shown)".into()),
    };
    let timeout = match map.get("timeout_seconds") {
        None | Some(Yaml::Null) => crate::gateway::DEFAULT_TIMEOUT_SECS,
        Some(Yaml::Number(n)) if n.as_u64().is_some_and(|n| (1..=MAX_TIMEOUT_SECS).contains(&n)) => {
            n.as_u64().unwrap_or(0)
        }
        Some(other) => {
            return Err(format!(
                "timeout_seconds must be a whole number from 1 to {MAX_TIMEOUT_SECS} (found {})",
                describe(other)
            ));
        }
    };
    Ok(Cluster {
        name: name.to_string(),
        server,
        token,
        default_project: default_project.to_string(),
        description: text("description")?.map(str::to_string),
        timeout: std::time::Duration::from_secs(timeout),
        ca_cert: text("ca_cert")?.filter(|p| !p.is_empty()).map(PathBuf::from),
    })
}

/// Trim surrounding whitespace (a pasted newline is a common mistake); an empty token is
/// no token. A token must be a bearer token (RFC 6750 `b64token`: letters, digits, `-._~+/`,
/// then optional `=`) of at least [`MIN_SECRET_LEN`] characters: real ones are, and only such
/// a token can be reliably found and removed from everything we print. The message never
/// includes the token.
fn clean_token(raw: &str) -> Result<Option<Secret>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("token contains spaces, control or non-ASCII characters, which an HTTP header \
                    cannot carry; check that it was pasted whole"
            .into());
    }
    let body = t.trim_end_matches('=');
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)) {
        return Err("token is not a bearer token: it may hold only letters, digits and - . _ ~ + / \
                    (then = at the end); check that it was pasted whole, without quotes or a prefix"
            .into());
    }
    if t.len() < MIN_SECRET_LEN {
        return Err(format!(
            "token is only {} characters; real tokens are far longer, and one shorter than \
             {MIN_SECRET_LEN} could not be kept out of what this server prints",
            t.len()
        ));
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
    let name_char = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    let has = |f: fn(&char) -> bool| key.chars().any(|c| f(&c));
    let mixed = has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && has(char::is_ascii_digit);
    match (1..32).contains(&key.len()) && key.chars().all(name_char) && !(mixed && key.len() >= 16) {
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
mod tests {
    use super::*;

    const GOOD: &str = "
clusters:
  dev:
    server: https://gw.example.com/
    token: tok-config-123456
    default_project: team-a
    description: Dev
  prod:
    server: http://127.0.0.1:8081
    default_project: prod
default_cluster: dev
";

    #[test]
    fn parses_the_original_format_in_file_order() {
        let c = parse(GOOD, None).unwrap();
        assert_eq!(c.cluster_names(), ["dev", "prod"]);
        assert_eq!(c.default_cluster.as_deref(), Some("dev"));
        let dev = c.cluster("dev").unwrap();
        assert_eq!(dev.server.base(), "https://gw.example.com");
        assert_eq!(dev.description.as_deref(), Some("Dev"));
    }

    #[test]
    fn token_comes_from_the_cluster_then_the_environment() {
        let env = Some(Secret::new("tok-env-abcdef".into()));
        let c = parse(GOOD, env).unwrap();
        let (t, src) = c.token_for(c.cluster("dev").unwrap()).unwrap();
        assert_eq!((t.expose(), src), ("tok-config-123456", TokenSource::ConfigFile));
        let (t, src) = c.token_for(c.cluster("prod").unwrap()).unwrap();
        assert_eq!((t.expose(), src), ("tok-env-abcdef", TokenSource::EnvVar));
        let c = parse(GOOD, None).unwrap();
        let err = c.token_for(c.cluster("prod").unwrap()).unwrap_err();
        assert!(err.contains("clusters.yaml") && err.contains("ACP_TOKEN"), "{err}");
    }

    fn err_of(yaml: &str) -> String {
        parse(yaml, None).unwrap_err()
    }

    #[test]
    fn rejects_kubernetes_api_urls_naming_the_cluster() {
        let e = err_of("clusters:\n  k8s:\n    server: https://api.x:6443\n    default_project: p\n");
        assert!(e.starts_with("cluster 'k8s': server: Direct Kubernetes API URLs"), "{e}");
        assert!(e.contains("public-api gateway URL"));
    }

    #[test]
    fn rejects_bad_entries_with_the_rule() {
        let e = err_of("clusters:\n  a:\n    server: ftp://x\n    default_project: p\n");
        assert!(e.contains("must start with https:// or http://"), "{e}");
        let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: My_Proj\n");
        assert!(e.contains("cluster 'a': default_project \"My_Proj\" is invalid"), "{e}");
        let e = err_of("clusters:\n  a:\n    server: https://x\n");
        assert!(e.contains("default_project is required"), "{e}");
        let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: p\n    tokn: x\n");
        assert!(e.contains("unknown key \"tokn\""), "{e}");
        let e = err_of("clusters:\n  a:\n    server: 5\n    default_project: p\n");
        assert!(e.contains("server must be a string (found the number 5)"), "{e}");
        let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: \"a b\"\n");
        assert!(e.contains("token contains spaces") && !e.contains("a b"), "{e}");
    }

    #[test]
    fn timeout_and_ca_cert_are_optional_and_checked() {
        let c = parse(GOOD, None).unwrap();
        assert_eq!(c.clusters[0].timeout.as_secs(), 30);
        let base = "clusters:\n  a:\n    server: https://x\n    default_project: p\n";
        let c = parse(&format!("{base}    timeout_seconds: 2\n    ca_cert: ca.pem\n"), None).unwrap();
        assert_eq!((c.clusters[0].timeout.as_secs(), c.clusters[0].ca_cert.as_deref()), (2, Some(Path::new("ca.pem"))));
        for bad in ["0", "301", "-1", "1.5", "'10'"] {
            let e = err_of(&format!("{base}    timeout_seconds: {bad}\n"));
            assert!(e.contains("timeout_seconds must be a whole number from 1 to 300"), "{e}");
        }
    }

    #[test]
    fn tokens_are_bearer_tokens_of_ten_characters_or_more() {
        let base = "clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: ";
        for bad in
            ["'tok\"en-1234567'", "'tok\\en-1234567'", "'tok,en-1234567'", "'=abcdefghijk'", "abc12", "'123456789'"]
        {
            let e = err_of(&format!("{base}{bad}\n"));
            assert!(e.starts_with("cluster 'a': token "), "{bad}: {e}");
            assert!(!e.contains("en-123") && !e.contains("abc12") && !e.contains("12345"), "{bad}: {e}");
        }
        for good in ["sha256~AbC-123_xyz", "eyJhbGciOi.eyJzdWIi.c2ln+/==", "0123456789"] {
            assert!(parse(&format!("{base}'{good}'\n"), None).is_ok(), "{good}");
        }
    }

    #[test]
    fn config_errors_never_show_a_token_wherever_it_was_put() {
        let token = "cfg-Tok3n-zQ8vW2xY7pL4";
        let at = |s: &str| s.replace("TOKEN", token);
        let cases = [
            // A bare YAML number: not a string, so nothing but registration hides it.
            (
                "clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: 918273645546372819\n",
                "918273645546372819",
            ),
            // Pasted as a key, one line off.
            ("clusters:\n  a:\n    server: https://x\n    default_project: p\n    TOKEN: x\n", token),
            ("clusters:\n  TOKEN:\n    server: https://x\n", token),
            ("clusters:\n  a:\n    server: https://x\n    default_project: p\ndefault_cluster: TOKEN\n", token),
            // Fine token, another key wrong: the error must not carry it either.
            ("clusters:\n  a:\n    token: TOKEN\n    server: TOKEN\n    default_project: p\n", token),
            ("clusters:\n  a:\n    token: TOKEN\n    server: https://x\n    default_project: [TOKEN\n", token),
        ];
        for (yaml, secret) in cases {
            let e = err_of(&at(yaml));
            let shown = crate::redact::redact(&e);
            for piece in (0..=secret.len() - 10).map(|i| &secret[i..i + 10]) {
                assert!(!shown.contains(piece), "{yaml}: {shown}");
            }
        }
    }

    #[test]
    fn default_cluster_must_exist() {
        let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: p\ndefault_cluster: b\n");
        assert_eq!(e, "default_cluster 'b' not found in clusters: [\"a\"]");
    }

    #[test]
    fn yaml_errors_carry_line_and_column() {
        let e = err_of("clusters:\n  a: [\n");
        assert!(e.starts_with("YAML error: ") && e.contains(" at line 3 column 1"), "{e}");
    }

    #[test]
    fn empty_file_is_explained_with_an_example() {
        assert!(err_of("  \n").contains("default_cluster: dev"));
    }

    #[test]
    fn missing_clusters_is_an_empty_configuration() {
        let c = parse("default_cluster:\n", None).unwrap();
        assert!(c.clusters.is_empty());
    }

    #[test]
    fn blank_token_counts_as_no_token() {
        let c =
            parse("clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: '  '\n", None).unwrap();
        assert!(c.clusters[0].token.is_none());
    }
}
