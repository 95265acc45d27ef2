//! Tool parameters: one declaration per parameter gives the JSON Schema a client sees, the
//! validation the server enforces, and the typed field the tool reads ([`tool_args!`]), so
//! the three cannot drift apart.
//!
//! Validation is complete before any request is built, and pure (fuzzable): it sees only
//! the arguments. Every error names the argument and the rule.

use crate::gateway::Repo;
pub use crate::validate::Invalid;
use crate::validate::{self, quote};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub enum Kind {
    /// A project name: DNS-1123 label.
    Name,
    /// A session id of either API: a DNS-1123 label or a KSUID.
    SessionId,
    /// Free text (a prompt): non-blank, no NUL, at most `max` characters.
    Text {
        max: usize,
    },
    /// A short label (display name): no control characters, at most `max` characters.
    Label {
        max: usize,
    },
    /// A model identifier: letters, digits and `._:@/-`.
    Model,
    /// One of these words, any case; read back as written here.
    Enum(&'static [&'static str]),
    /// Distinct words of the list, any case, at least one; read back as written here.
    EnumList(&'static [&'static str]),
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// An age such as `7d`, `24h` or `30m`.
    Age,
    /// Distinct session names, 1..=`max` of them.
    Names {
        max: usize,
    },
    /// Repositories: URL strings or `{url, branch}` objects, at most `max`.
    Repos {
        max: usize,
    },
    /// A cluster name from clusters.yaml (checked against the file by the tool).
    ClusterName,
    /// Labels to set: an object of 1 to [`MAX_LABELS`] keys, keys and values by the label rule.
    Labels,
    /// Label keys: 1 to [`MAX_LABELS`] distinct keys.
    LabelKeys,
    /// A bearer token: checked like one in clusters.yaml, and never echoed.
    Token,
}

pub use crate::validate::MAX_LABELS;

pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub description: &'static str,
}

impl Param {
    /// A parameter whose name [`tool_args!`] fills in from the field it declares.
    pub const fn new(kind: Kind, required: bool, description: &'static str) -> Param {
        Param { name: "", kind, required, description }
    }
}

/// The parameters many tools share. Their names say what they are, and the server's
/// instructions (sent once, at `initialize`) say what holds for all of them: `project` defaults
/// to the active cluster's default project, `dry_run` previews, bulk tools need `confirm`. So
/// they carry no description: one would be repeated in every tool's schema on every turn.
/// Their rules are [`parse`]'s, and every refusal names them.
pub const PROJECT: Param = Param::new(Kind::Name, false, "");
/// A session ID: a DNS-1123 label on the public-api gateway, a KSUID on the ambient API server.
pub const SESSION: Param = Param::new(Kind::SessionId, true, "");
/// Show what would happen (the request, or what would change) without changing anything.
pub const DRY_RUN: Param = Param::new(Kind::Bool, false, "");
/// Must be true for a bulk tool to act, unless `dry_run` (checked before anything is sent).
pub const CONFIRM: Param = Param::new(Kind::Bool, false, "");

pub use crate::gateway::MAX_PROMPT_CHARS;
const MAX_URL_LEN: usize = 2048;

/// Arguments that passed validation. Accessors cannot fail: the rules were checked.
#[derive(Debug, Default)]
pub struct Args(Map<String, Value>);

impl Args {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }
    pub fn flag(&self, name: &str) -> bool {
        self.0.get(name).and_then(Value::as_bool).unwrap_or(false)
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
    pub fn names(&self, name: &str) -> Vec<String> {
        let items = self.0.get(name).and_then(Value::as_array);
        items.into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
    }
    pub fn labels(&self, name: &str) -> BTreeMap<String, String> {
        let items = self.0.get(name).and_then(Value::as_object);
        items.into_iter().flatten().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
    }
    pub fn repos(&self, name: &str) -> Vec<Repo> {
        let items = self.0.get(name).and_then(Value::as_array);
        items.into_iter().flatten().filter_map(repo_of).collect()
    }
}

/// A tool's typed arguments: the parameter table they were declared with, and how to read
/// them out of arguments that passed it. Written by [`tool_args!`], never by hand.
pub trait ToolArgs: Sized {
    const PARAMS: &'static [Param];
    fn from_args(args: &Args) -> Self;
}

/// One typed field read from validated [`Args`]. A missing optional value is `None`, `false`
/// or empty; a required one is always there.
pub trait FromArg: Sized {
    fn from_arg(args: &Args, name: &str) -> Self;
}

impl FromArg for String {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.str(name).unwrap_or_default().to_string()
    }
}
impl FromArg for Option<String> {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.str(name).map(str::to_string)
    }
}
impl FromArg for bool {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.flag(name)
    }
}
impl FromArg for Option<bool> {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.has(name).then(|| args.flag(name))
    }
}
impl FromArg for Option<i64> {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.int(name)
    }
}
impl FromArg for Vec<String> {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.names(name)
    }
}
impl FromArg for BTreeMap<String, String> {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.labels(name)
    }
}
impl FromArg for Vec<Repo> {
    fn from_arg(args: &Args, name: &str) -> Self {
        args.repos(name)
    }
}

/// Declare a tool's arguments once: each field names its type and its [`Param`] (kind,
/// required, description); the macro gives the struct, the parameter table (named after
/// the fields) for the schema and the validation, and the typed read.
///
/// ```ignore
/// tool_args! { pub struct GetArgs { project: Option<String> = PROJECT, session: String = SESSION } }
/// ```
#[macro_export]
macro_rules! tool_args {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($field:ident : $ty:ty = $param:expr),* $(,)? }) => {
        $(#[$meta])*
        $vis struct $name { $(pub $field: $ty),* }
        impl $crate::tools::params::ToolArgs for $name {
            const PARAMS: &'static [$crate::tools::params::Param] =
                &[$($crate::tools::params::Param { name: stringify!($field), ..$param }),*];
            #[allow(unused_variables)]
            fn from_args(args: &$crate::tools::params::Args) -> Self {
                $name { $($field: $crate::tools::params::FromArg::from_arg(args, stringify!($field))),* }
            }
        }
    };
}

fn repo_of(v: &Value) -> Option<Repo> {
    match v {
        Value::String(url) => Some(Repo { url: url.clone(), branch: None }),
        Value::Object(o) => Some(Repo {
            url: o.get("url")?.as_str()?.to_string(),
            branch: o.get("branch").and_then(Value::as_str).map(str::to_string),
        }),
        _ => None,
    }
}

/// Check `args` against `params`. `project: ""` counts as absent (models send it for "the
/// default"); `null` never does: a null where a boolean such as `dry_run` belongs must not
/// quietly become its default, so it is refused like any other wrong type.
pub fn parse(params: &[Param], args: &Value) -> Result<Args, Invalid> {
    let obj = match args {
        Value::Null => return check_required(params, Map::new()),
        Value::Object(o) => o,
        other => return Err(Invalid(format!("arguments must be a JSON object, not {}", type_name(other)))),
    };
    let mut out = Map::new();
    for (key, value) in obj {
        let Some(param) = params.iter().find(|p| p.name == key) else {
            let known: Vec<&str> = params.iter().map(|p| p.name).collect();
            return Err(Invalid(match known.is_empty() {
                true => format!("unknown argument {}: this tool takes no arguments", quote(key)),
                false => format!("unknown argument {}: this tool accepts {}", quote(key), known.join(", ")),
            }));
        };
        if key == "project" && value.as_str() == Some("") {
            continue;
        }
        check(param, value).map_err(|e| match value.is_null() && !param.required {
            true => Invalid(format!("{e}; leave {key} out to use its default")),
            false => e,
        })?;
        out.insert(key.clone(), canonical(&param.kind, value));
    }
    check_required(params, out)
}

/// Enum words are matched in any case and read back as declared.
fn canonical(kind: &Kind, v: &Value) -> Value {
    let word = |allowed: &[&str], s: &Value| {
        let s = s.as_str().unwrap_or_default();
        json!(allowed.iter().find(|a| a.eq_ignore_ascii_case(s)).copied().unwrap_or(s))
    };
    match (kind, v) {
        (Kind::Enum(allowed), _) => word(allowed, v),
        (Kind::EnumList(allowed), Value::Array(items)) => items.iter().map(|i| word(allowed, i)).collect(),
        _ => v.clone(),
    }
}

fn check_required(params: &[Param], out: Map<String, Value>) -> Result<Args, Invalid> {
    match params.iter().find(|p| p.required && !out.contains_key(p.name)) {
        Some(p) if p.description.is_empty() => Err(Invalid(format!("{} is required", p.name))),
        Some(p) => Err(Invalid(format!("{} is required: {}", p.name, p.description))),
        None => Ok(Args(out)),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn want(name: &str, expected: &str, got: &Value) -> Invalid {
    Invalid(format!("{name} must be {expected}, not {}", type_name(got)))
}

fn string<'a>(name: &str, v: &'a Value) -> Result<&'a str, Invalid> {
    v.as_str().ok_or_else(|| want(name, "a string", v))
}

fn check(p: &Param, v: &Value) -> Result<(), Invalid> {
    let name = p.name;
    match &p.kind {
        Kind::Name => validate::check_name(name, string(name, v)?),
        Kind::SessionId => validate::check_session_id(name, string(name, v)?),
        Kind::Text { max } => check_text(name, string(name, v)?, *max),
        Kind::Label { max } => check_label(name, string(name, v)?, *max),
        Kind::Model => check_model(string(name, v)?),
        Kind::Enum(allowed) => check_word(name, string(name, v)?, allowed),
        Kind::EnumList(allowed) => {
            let items = v.as_array().ok_or_else(|| want(name, "an array of strings", v))?;
            if items.is_empty() {
                return Err(Invalid(format!("{name} must list at least one of: {}", allowed.join(", "))));
            }
            for (i, item) in items.iter().enumerate() {
                let s = string(&format!("{name}[{i}]"), item)?;
                check_word(&format!("{name}[{i}]"), s, allowed)?;
                if items[..i].iter().any(|p| p.as_str().is_some_and(|p| p.eq_ignore_ascii_case(s))) {
                    return Err(Invalid(format!("{name} names {} more than once", quote(s))));
                }
            }
            Ok(())
        }
        Kind::Bool => v.as_bool().map(|_| ()).ok_or_else(|| want(name, "a boolean (true or false)", v)),
        Kind::Int { min, max } => match v.as_i64() {
            Some(n) if (*min..=*max).contains(&n) => Ok(()),
            _ if v.is_number() => Err(Invalid(format!("{name} must be a whole number from {min} to {max}, not {v}"))),
            _ => Err(want(name, "a whole number", v)),
        },
        Kind::Age => validate::parse_age(string(name, v)?).map(|_| ()),
        Kind::Names { max } => check_names(name, v, *max),
        Kind::Repos { max } => check_repos(name, v, *max),
        Kind::Labels => {
            validate::check_labels(name, v.as_object().ok_or_else(|| want(name, "an object of labels", v))?)
        }
        Kind::LabelKeys => {
            let items = v.as_array().ok_or_else(|| want(name, "an array of label keys", v))?;
            let keys = items
                .iter()
                .enumerate()
                .map(|(i, k)| string(&format!("{name}[{i}]"), k))
                .collect::<Result<Vec<&str>, Invalid>>()?;
            validate::check_label_keys(name, &keys)
        }
        Kind::Token => match crate::config::clean_token(string(name, v)?) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Invalid(format!("{name} must not be empty"))),
            Err(e) => Err(Invalid(format!("{name}: {e} (the value is not shown)"))),
        },
        Kind::ClusterName => {
            let s = string(name, v)?;
            match !s.is_empty() && s.len() <= 253 && !s.chars().any(char::is_control) {
                true => Ok(()),
                false => Err(Invalid(format!(
                    "{name} {} is not a cluster name: 1-253 characters, no control characters",
                    quote(s)
                ))),
            }
        }
    }
}

fn check_word(name: &str, s: &str, allowed: &[&str]) -> Result<(), Invalid> {
    match allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
        true => Ok(()),
        false => Err(Invalid(format!("{name} {} is not one of: {}", quote(s), allowed.join(", ")))),
    }
}

fn check_text(name: &str, s: &str, max: usize) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        return Err(Invalid(format!("{name} must not be empty")));
    }
    if s.contains('\0') {
        return Err(Invalid(format!("{name} must not contain NUL characters")));
    }
    match s.chars().count() > max {
        true => Err(Invalid(format!("{name} is too long: at most {max} characters"))),
        false => Ok(()),
    }
}

fn check_label(name: &str, s: &str, max: usize) -> Result<(), Invalid> {
    if s.trim().is_empty() || s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(Invalid(format!("{name} {} is invalid: 1-{max} characters, no control characters", quote(s))));
    }
    Ok(())
}

fn check_model(s: &str) -> Result<(), Invalid> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "._:@/-".contains(c);
    match !s.is_empty() && s.len() <= 100 && s.chars().all(ok_char) {
        true => Ok(()),
        false => Err(Invalid(format!(
            "model {} is invalid: 1-100 characters from letters, digits and . _ : @ / -",
            quote(s)
        ))),
    }
}

fn check_names(name: &str, v: &Value, max: usize) -> Result<(), Invalid> {
    let items = v.as_array().ok_or_else(|| want(name, "an array of session names", v))?;
    if items.is_empty() {
        return Err(Invalid(format!("{name} must list at least one session")));
    }
    if items.len() > max {
        return Err(Invalid(format!(
            "{name} lists {} sessions, more than the limit of {max} per call. Split into several calls.",
            items.len()
        )));
    }
    for (i, item) in items.iter().enumerate() {
        let s = string(&format!("{name}[{i}]"), item)?;
        validate::check_session_id(&format!("{name}[{i}]"), s)?;
        if items[..i].iter().any(|prev| prev.as_str() == Some(s)) {
            return Err(Invalid(format!("{name} names {} more than once; list each session once", quote(s))));
        }
    }
    Ok(())
}

fn check_repos(name: &str, v: &Value, max: usize) -> Result<(), Invalid> {
    let items = v.as_array().ok_or_else(|| want(name, "an array of repositories", v))?;
    if items.len() > max {
        return Err(Invalid(format!("{name} lists {} repositories, more than {max}", items.len())));
    }
    for (i, item) in items.iter().enumerate() {
        let field = format!("{name}[{i}]");
        match item {
            Value::String(url) => check_repo_url(&field, url)?,
            Value::Object(o) => {
                if let Some(k) = o.keys().find(|k| *k != "url" && *k != "branch") {
                    return Err(Invalid(format!(
                        "{field} has unknown key {}: a repository has url and branch",
                        quote(k)
                    )));
                }
                let url = o.get("url").ok_or_else(|| format!("{field}.url is required"))?;
                check_repo_url(&format!("{field}.url"), string(&format!("{field}.url"), url)?)?;
                if let Some(b) = o.get("branch") {
                    check_branch(&format!("{field}.branch"), string(&format!("{field}.branch"), b)?)?;
                }
            }
            other => return Err(want(&field, "a URL string or an object {url, branch}", other)),
        }
    }
    Ok(())
}

fn check_repo_url(field: &str, url: &str) -> Result<(), Invalid> {
    // The host must start with a letter or digit: `ssh://-oProxyCommand=…` is an option, not a host.
    let scheme_ok = ["https://", "http://", "ssh://", "git@"]
        .iter()
        .any(|p| url.strip_prefix(p).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphanumeric())));
    let chars_ok = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    match scheme_ok && chars_ok && url.len() > 8 && url.len() <= MAX_URL_LEN {
        true => Ok(()),
        false => Err(Invalid(format!(
            "{field} {} is not a repository URL: https://, http://, ssh:// or git@, no spaces, at most {MAX_URL_LEN} characters",
            quote(url)
        ))),
    }
}

/// Git's ref-name rules, the parts that matter for safety and typos.
fn check_branch(field: &str, b: &str) -> Result<(), Invalid> {
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c);
    let ok = !b.is_empty()
        && b.len() <= 255
        && !b.starts_with(['-', '/'])
        && !b.ends_with(['/', '.'])
        && !b.contains("..")
        && !b.contains("@{")
        && !b.chars().any(bad_char);
    match ok {
        true => Ok(()),
        false => Err(Invalid(format!("{field} {} is not a valid git branch name", quote(b)))),
    }
}

/// The JSON Schema for `params`, from the same declarations that drive [`parse`].
///
/// Every byte of it is read by the model on every turn, so it says only what a model needs to
/// build a call: the types, the words an enum takes, integer ranges, the bulk limit, display
/// name lengths, and that no other argument exists. The finer rules (DNS-1123 names, session
/// ids, label syntax, non-empty and distinct items, URL schemes) are checked by [`parse`], whose
/// every error names the argument and the rule; a schema keyword would repeat them at every
/// turn for the rare call that breaks them. An empty description is left out.
pub fn schema(params: &[Param]) -> Value {
    let mut props = Map::new();
    for p in params {
        let mut s = match &p.kind {
            Kind::Name
            | Kind::SessionId
            | Kind::Text { .. }
            | Kind::Model
            | Kind::Age
            | Kind::Token
            | Kind::ClusterName => crate::schema::with(r#"{"type": "string"}"#, vec![]),
            Kind::Label { max } => crate::schema::with(r#"{"type": "string", "maxLength": "$0"}"#, vec![json!(max)]),
            Kind::Enum(values) => crate::schema::with(r#"{"type": "string", "enum": "$0"}"#, vec![json!(values)]),
            Kind::EnumList(values) => crate::schema::with(
                r#"{"type": "array", "items": {"type": "string", "enum": "$0"}}"#,
                vec![json!(values)],
            ),
            Kind::Labels => crate::schema::with(r#"{"type": "object"}"#, vec![]),
            Kind::LabelKeys => crate::schema::with(r#"{"type": "array", "items": {"type": "string"}}"#, vec![]),
            Kind::Bool => crate::schema::with(r#"{"type": "boolean"}"#, vec![]),
            Kind::Int { min, max } => crate::schema::with(
                r#"{"type": "integer", "minimum": "$0", "maximum": "$1"}"#,
                vec![json!(min), json!(max)],
            ),
            Kind::Names { max } => crate::schema::with(
                r#"{"type": "array", "maxItems": "$0", "items": {"type": "string"}}"#,
                vec![json!(max)],
            ),
            Kind::Repos { max } => crate::schema::with(
                r#"{
                "type": "array",
                "maxItems": "$0",
                "items": {
                    "anyOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "properties": {"url": {"type": "string"}, "branch": {"type": "string"}}
                        }
                    ]
                }
            }"#,
                vec![json!(max)],
            ),
        };
        if !p.description.is_empty() {
            s["description"] = json!(p.description);
        }
        props.insert(p.name.to_string(), s);
    }
    let required: Vec<&str> = params.iter().filter(|p| p.required).map(|p| p.name).collect();
    let mut schema = crate::schema::with(r#"{"type": "object", "additionalProperties": false}"#, vec![]);
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema["properties"] = Value::Object(props); // moved in, not copied
    schema
}

#[cfg(test)]
mod tests;
