//! The settings that limit what this server may do, and the per-cluster login and TLS
//! settings: each key checked on its own, every problem reported.

use super::cluster::{Reported, string};
use super::describe;
use crate::validate::{self, ServerUrl, quote};
use serde_yaml::Value as Yaml;
use std::path::PathBuf;

/// Top-level keys. The original reads only the first two and ignores the rest; we refuse
/// unknown ones, since a misspelt `read_only` must not quietly leave the server writable.
pub const TOP_KEYS: &[&str] = &[
    "clusters",
    "default_cluster",
    "audit_log",
    "audit_reads",
    "read_only",
    "toolsets",
    "max_mutations_per_minute",
    "max_answer_tokens",
];

/// Groups of tools that `toolsets` selects from.
pub const TOOLSETS: &[&str] = &["sessions", "messages", "labels", "bulk", "projects", "clusters"];

/// Mutating requests allowed per rolling minute when `max_mutations_per_minute` is not set.
pub const DEFAULT_MUTATIONS_PER_MINUTE: u32 = 20;
const MAX_MUTATIONS_PER_MINUTE: u64 = 10_000;
/// Tokens (about 4 bytes each) one tool answer may take when `max_answer_tokens` is not set:
/// under Claude Code's default cap of 25,000 (`MAX_MCP_OUTPUT_TOKENS`), which refuses a
/// larger answer whole.
pub const DEFAULT_ANSWER_TOKENS: u32 = 20_000;
/// The range of `max_answer_tokens`: the top is the 8 MiB cap on any answer line, in tokens.
pub const ANSWER_TOKENS: std::ops::RangeInclusive<u64> = 1_000..=2_000_000;

/// What the whole process may do (top-level keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardrails {
    /// Where to append the audit log (as written; [`super::load`] resolves it).
    pub audit_log: Option<PathBuf>,
    /// Audit reads too, not only changes.
    pub audit_reads: bool,
    /// Only tools that change nothing on the platform.
    pub read_only: bool,
    /// The groups of tools offered; `None` is all of them.
    pub toolsets: Option<Vec<String>>,
    pub max_mutations_per_minute: u32,
    /// The most one tool answer may take, in tokens of about 4 bytes.
    pub max_answer_tokens: u32,
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            audit_log: None,
            audit_reads: false,
            read_only: false,
            toolsets: None,
            max_mutations_per_minute: DEFAULT_MUTATIONS_PER_MINUTE,
            max_answer_tokens: DEFAULT_ANSWER_TOKENS,
        }
    }
}

/// How to log in to a cluster's identity provider (`oidc:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oidc {
    pub issuer: ServerUrl,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// Where else a cluster's token may come from (`token_from:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFrom {
    /// The platform CLI's stored login (`~/.config/ambient/config.json`, or `$AMBIENT_CONFIG`).
    Acpctl,
}

/// Read the top-level guardrail keys of `top`; problems go to `problem`.
pub(super) fn read_guardrails(top: &serde_yaml::Mapping, problem: &mut dyn FnMut(&'static str, String)) -> Guardrails {
    let mut g = Guardrails::default();
    match string(top, "audit_log") {
        Ok(Some("")) => problem("audit_log", "audit_log must be a file path, not empty".into()),
        Ok(path) => g.audit_log = path.map(PathBuf::from),
        Err(found) => problem("audit_log", format!("audit_log must be a file path (found {})", describe(found))),
    }
    g.audit_reads = flag(top, "audit_reads", problem);
    g.read_only = flag(top, "read_only", problem);
    match top.get("toolsets") {
        None | Some(Yaml::Null) => {}
        Some(v) => g.toolsets = words(v, "toolsets", TOOLSETS, problem),
    }
    match top.get("max_mutations_per_minute") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Number(n)) if n.as_u64().is_some_and(|n| (1..=MAX_MUTATIONS_PER_MINUTE).contains(&n)) => {
            g.max_mutations_per_minute = n.as_u64().unwrap_or_default() as u32;
        }
        Some(other) => problem(
            "max_mutations_per_minute",
            format!(
                "max_mutations_per_minute must be a whole number from 1 to {MAX_MUTATIONS_PER_MINUTE} (found {}); \
                 use read_only: true to allow none",
                describe(other)
            ),
        ),
    }
    match top.get("max_answer_tokens") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Number(n)) if n.as_u64().is_some_and(|n| ANSWER_TOKENS.contains(&n)) => {
            g.max_answer_tokens = n.as_u64().unwrap_or_default() as u32;
        }
        Some(other) => problem("max_answer_tokens", answer_tokens_rule(&describe(other))),
    }
    g
}

/// The rule `max_answer_tokens` (and `$ACP_MAX_ANSWER_TOKENS`) breaks, with what was found.
pub fn answer_tokens_rule(found: &str) -> String {
    format!(
        "max_answer_tokens must be a whole number from {} to {} (found {found}): the most one tool answer \
         may take, in tokens of about 4 bytes",
        ANSWER_TOKENS.start(),
        ANSWER_TOKENS.end()
    )
}

/// A boolean key: absent is false.
pub(super) fn flag(
    map: &serde_yaml::Mapping,
    key: &'static str,
    problem: &mut dyn FnMut(&'static str, String),
) -> bool {
    match map.get(key) {
        None | Some(Yaml::Null) => false,
        Some(Yaml::Bool(b)) => *b,
        Some(other) => {
            problem(key, format!("{key} must be true or false (found {})", describe(other)));
            false
        }
    }
}

/// A non-empty list of distinct words from `allowed`.
fn words(
    v: &Yaml,
    key: &'static str,
    allowed: &[&str],
    problem: &mut dyn FnMut(&'static str, String),
) -> Option<Vec<String>> {
    let list = strings(v, key, problem)?;
    for (i, w) in list.iter().enumerate() {
        if !allowed.contains(&w.as_str()) {
            problem(key, format!("{key}: {} is not one of: {}", quote(w), allowed.join(", ")));
            return None;
        }
        if list[..i].contains(w) {
            problem(key, format!("{key} names {} more than once", quote(w)));
            return None;
        }
    }
    Some(list)
}

/// A non-empty list of strings.
fn strings(v: &Yaml, key: &'static str, problem: &mut dyn FnMut(&'static str, String)) -> Option<Vec<String>> {
    let Yaml::Sequence(items) = v else {
        problem(key, format!("{key} must be a list (found {})", describe(v)));
        return None;
    };
    if items.is_empty() {
        problem(key, format!("{key} must not be an empty list; leave it out instead"));
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Yaml::String(s) => out.push(s.clone()),
            other => {
                problem(key, format!("{key}[{i}] must be a string (found {})", describe(other)));
                return None;
            }
        }
    }
    Some(out)
}

/// `allowed_projects`: distinct DNS-1123 names, the default project among them.
pub(super) fn allowed_projects(
    v: &Yaml,
    default_project: Option<&str>,
    problem: &mut dyn FnMut(&'static str, String),
) -> Result<Vec<String>, Reported> {
    const KEY: &str = "allowed_projects";
    let list = strings(v, KEY, problem).ok_or(Reported)?;
    for (i, p) in list.iter().enumerate() {
        if let Err(e) = validate::check_name(&format!("{KEY}[{i}]"), p) {
            problem(KEY, e.to_string());
            return Err(Reported);
        }
        if list[..i].contains(p) {
            problem(KEY, format!("{KEY} names {} more than once", quote(p)));
            return Err(Reported);
        }
    }
    match default_project {
        Some(d) if !list.iter().any(|p| p == d) => {
            problem(KEY, format!("default_project {} is not in allowed_projects [{}]", quote(d), list.join(", ")));
            Err(Reported)
        }
        _ => Ok(list),
    }
}

/// `oidc: {issuer, client_id, scopes?}`.
pub(super) fn oidc(v: &Yaml, problem: &mut dyn FnMut(&'static str, String)) -> Result<Oidc, Reported> {
    const KEYS: &[&str] = &["issuer", "client_id", "scopes"];
    let Yaml::Mapping(map) = v else {
        problem("oidc", format!("oidc must be a mapping with issuer and client_id (found {})", describe(v)));
        return Err(Reported);
    };
    let mut bad = false;
    let mut report = |message: String| {
        problem("oidc", message);
        bad = true;
    };
    for key in map.keys() {
        if !key.as_str().is_some_and(|k| KEYS.contains(&k)) {
            let shown = key.as_str().map(quote).unwrap_or_else(|| describe(key));
            report(format!("oidc: unknown key {shown} (allowed: {})", KEYS.join(", ")));
        }
    }
    let issuer = match string(map, "issuer") {
        Ok(Some(raw)) => validate::parse_server_url(raw).map_err(|e| report(format!("oidc.issuer: {e}"))).ok(),
        Ok(None) => {
            report(
                "oidc.issuer is required: the identity provider's URL, e.g. https://sso.example.com/realms/acp".into(),
            );
            None
        }
        Err(found) => {
            report(format!("oidc.issuer must be a string (found {})", describe(found)));
            None
        }
    };
    let printable = |s: &str| !s.is_empty() && s.len() <= 256 && s.bytes().all(|b| b.is_ascii_graphic());
    let client_id = match string(map, "client_id") {
        Ok(Some(id)) if printable(id) => Some(id.to_string()),
        Ok(Some(id)) => {
            report(format!("oidc.client_id {} must be 1-256 printable characters without spaces", quote(id)));
            None
        }
        Ok(None) => {
            report("oidc.client_id is required (the platform CLI uses ocm-cli)".into());
            None
        }
        Err(found) => {
            report(format!("oidc.client_id must be a string (found {})", describe(found)));
            None
        }
    };
    let scope_ok = |s: &str| printable(s) && !s.contains(['"', '\\']);
    let scopes = match map.get("scopes") {
        None | Some(Yaml::Null) => vec!["openid".to_string()],
        Some(v) => match strings(v, "oidc", &mut |_, m| report(m.replacen("oidc", "oidc.scopes", 1))) {
            Some(list) if list.iter().all(|s| scope_ok(s)) => list,
            Some(list) => {
                let bad: Vec<String> = list.iter().filter(|s| !scope_ok(s)).map(|s| quote(s)).collect();
                report(format!("oidc.scopes: {} is not a scope (printable, no spaces or quotes)", bad.join(", ")));
                vec![]
            }
            None => vec![],
        },
    };
    match (issuer, client_id, bad) {
        (Some(issuer), Some(client_id), false) => Ok(Oidc { issuer, client_id, scopes }),
        _ => Err(Reported),
    }
}

/// `token_from: acpctl`.
pub(super) fn token_from(v: &Yaml, problem: &mut dyn FnMut(&'static str, String)) -> Result<TokenFrom, Reported> {
    match v {
        Yaml::String(s) if s == "acpctl" => Ok(TokenFrom::Acpctl),
        other => {
            problem("token_from", format!("token_from must be acpctl (found {})", describe(other)));
            Err(Reported)
        }
    }
}

/// `pinned_spki_sha256`: base64 SHA-256 digests of a certificate's public key.
pub(super) fn pins(v: &Yaml, problem: &mut dyn FnMut(&'static str, String)) -> Result<Vec<[u8; 32]>, Reported> {
    const KEY: &str = "pinned_spki_sha256";
    let list = strings(v, KEY, problem).ok_or(Reported)?;
    let mut pins = Vec::with_capacity(list.len());
    for (i, text) in list.iter().enumerate() {
        match crate::base64::decode(text.trim(), crate::base64::STANDARD).map(<[u8; 32]>::try_from) {
            Some(Ok(pin)) => pins.push(pin),
            _ => {
                problem(
                    KEY,
                    format!(
                        "{KEY}[{i}] {} is not a base64 SHA-256 digest (44 characters ending in '='), as \
                         `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64` prints",
                        quote(text)
                    ),
                );
                return Err(Reported);
            }
        }
    }
    Ok(pins)
}

#[cfg(test)]
mod tests {
    use super::super::{parse, tests_support::problems_of};
    use super::*;

    const BASE: &str = "clusters:\n  dev:\n    server: https://gw.example.com\n    default_project: team-a\n";

    #[test]
    fn guardrails_default_to_off_and_read_back() {
        let c = parse(BASE, None).unwrap();
        assert_eq!(c.guard, Guardrails::default());
        assert_eq!(c.guard.max_mutations_per_minute, 20);
        let yaml = format!(
            "{BASE}    read_only: true\n    allowed_projects: [team-a, team-b]\n    token_from: acpctl\n    \
             oidc: {{issuer: 'https://sso.example.com/realms/acp', client_id: ocm-cli}}\n    \
             pinned_spki_sha256: ['{}']\naudit_log: /var/log/acp.jsonl\naudit_reads: true\nread_only: false\n\
             toolsets: [sessions, clusters]\nmax_mutations_per_minute: 5\n",
            crate::base64::encode(&[7; 32], crate::base64::STANDARD, true)
        );
        let c = parse(&yaml, None).unwrap();
        let g = &c.guard;
        assert_eq!(
            (g.audit_log.as_deref(), g.audit_reads, g.max_mutations_per_minute),
            (Some("/var/log/acp.jsonl".as_ref()), true, 5)
        );
        assert_eq!(g.toolsets.as_deref(), Some(&["sessions".to_string(), "clusters".to_string()][..]));
        let dev = c.cluster("dev").unwrap();
        assert!(dev.read_only);
        assert_eq!(dev.allowed_projects.as_deref(), Some(&["team-a".to_string(), "team-b".to_string()][..]));
        assert_eq!(dev.token_from, Some(TokenFrom::Acpctl));
        let oidc = dev.oidc.as_ref().unwrap();
        assert_eq!(
            (oidc.issuer.base(), oidc.client_id.as_str(), &oidc.scopes[..]),
            ("https://sso.example.com/realms/acp".to_string(), "ocm-cli", &["openid".to_string()][..])
        );
        assert_eq!(dev.tls.pins, vec![[7u8; 32]]);
    }

    #[test]
    fn every_guardrail_mistake_is_named_with_its_rule() {
        let cases = [
            ("read_onyl: true\n", "unknown top-level key \"read_onyl\" (allowed: clusters, default_cluster, audit_log"),
            ("read_only: 'yes'\n", "read_only must be true or false (found the string \"yes\")"),
            ("toolsets: [sessions, repos]\n", "toolsets: \"repos\" is not one of: sessions, messages"),
            ("toolsets: []\n", "toolsets must not be an empty list"),
            ("max_mutations_per_minute: 0\n", "max_mutations_per_minute must be a whole number from 1 to 10000"),
            ("audit_log: ''\n", "audit_log must be a file path, not empty"),
            ("    allowed_projects: [team-b]\n", "default_project \"team-a\" is not in allowed_projects [team-b]"),
            ("    allowed_projects: [Team-B]\n", "allowed_projects[0] \"Team-B\" is invalid"),
            ("    token_from: gh\n", "token_from must be acpctl (found the string \"gh\")"),
            ("    oidc: {issuer: 'ftp://x', client_id: a}\n", "oidc.issuer: "),
            ("    oidc: {issuer: 'https://x'}\n", "oidc.client_id is required"),
            ("    oidc: {issuer: 'https://x', client_id: a, scope: [x]}\n", "oidc: unknown key \"scope\""),
            ("    client_cert: c.pem\n", "client_cert and client_key go together"),
            ("    pinned_spki_sha256: ['abc']\n", "pinned_spki_sha256[0] \"abc\" is not a base64 SHA-256 digest"),
        ];
        for (extra, expected) in cases {
            // Top-level keys go after the cluster; indented ones into it.
            let yaml = format!("{BASE}{extra}");
            let problems = problems_of(&yaml);
            assert!(problems.iter().any(|p| p.contains(expected)), "{extra:?}: expected {expected:?} in {problems:?}");
        }
    }
}
