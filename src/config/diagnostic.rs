//! What is wrong with a configuration, every problem at once, each where it is.
//!
//! Messages never carry a token: values under `token` are registered for redaction before
//! anything is checked, and a cluster name that looks like a pasted token is shown only by
//! its length ([`ClusterName`]).

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The configuration cannot be used.
    Error,
    /// Used, but worth fixing (a file others can read).
    Warning,
}

/// What a problem is about; decides how a message about it is introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The file itself: missing, unreadable, or open to other users.
    File,
    /// What the file says, or a file it names (a `ca_cert`).
    Content,
    /// The `ACP_TOKEN` environment variable.
    Environment,
}

/// A cluster's name as messages may show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterName {
    Name(String),
    /// A name nobody would type, most likely a token pasted one line off: only its length.
    Hidden {
        chars: usize,
    },
}

impl ClusterName {
    pub fn of(name: &str) -> ClusterName {
        match looks_like_name(name) {
            true => ClusterName::Name(name.to_string()),
            false => ClusterName::Hidden { chars: name.chars().count() },
        }
    }
}

/// `'dev'`, or a description of the hidden name's length.
impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterName::Name(name) => write!(f, "'{name}'"),
            ClusterName::Hidden { chars } => {
                write!(f, "of {chars} characters (not shown: it does not look like a name; is it a token?)")
            }
        }
    }
}

/// Short, of name characters only, and not a mix of cases and digits as long as a token.
pub(super) fn looks_like_name(key: &str) -> bool {
    let name_char = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    let has = |f: fn(&char) -> bool| key.chars().any(|c| f(&c));
    let mixed = has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && has(char::is_ascii_digit);
    (1..32).contains(&key.len()) && key.chars().all(name_char) && !(mixed && key.len() >= 16)
}

/// One problem. `Display`: `cluster 'dev': ` when it is in a cluster entry, then the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub origin: Origin,
    /// The cluster entry it is in.
    pub cluster: Option<ClusterName>,
    /// The setting it is about: a key of a cluster entry, `clusters` or `default_cluster` at the
    /// top, `ACP_TOKEN`. None for the file as a whole, and for a key that is not allowed (the
    /// message names it, as far as it may be shown).
    pub key: Option<&'static str>,
    /// What is wrong and how to fix it, without the cluster.
    pub message: String,
}

impl Diagnostic {
    pub fn error(origin: Origin, cluster: Option<ClusterName>, key: Option<&'static str>, message: String) -> Self {
        Diagnostic { severity: Severity::Error, origin, cluster, key, message }
    }

    pub fn warning(origin: Origin, cluster: Option<ClusterName>, key: Option<&'static str>, message: String) -> Self {
        Diagnostic { severity: Severity::Warning, origin, cluster, key, message }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cluster {
            Some(cluster) => write!(f, "cluster {cluster}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A configuration that cannot be used: every problem found, errors and warnings alike
/// (at least one error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, when it was read from one ([`super::load`]); none for [`super::parse`].
    pub path: Option<PathBuf>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// What the caller should still tell (log), though the configuration is not used.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// One error: the message it has always been. Several: a count, then one per line.
/// Warnings are left to the caller, which logs them.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors: Vec<&Diagnostic> = self.errors().collect();
        match (errors.as_slice(), &self.path) {
            ([one], Some(path)) if one.origin == Origin::Content => {
                write!(f, "Invalid cluster configuration {}: {one}", path.display())
            }
            ([one], _) => write!(f, "{one}"),
            (many, path) => {
                match path {
                    Some(path) => {
                        write!(f, "Invalid cluster configuration {}: {} problems:", path.display(), many.len())?
                    }
                    None => write!(f, "{} problems:", many.len())?,
                }
                many.iter().try_for_each(|d| write!(f, "\n- {d}"))
            }
        }
    }
}

impl std::error::Error for ConfigError {}
