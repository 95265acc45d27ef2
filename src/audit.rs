//! The audit log: one JSON object per line for every tool call that changes something (and
//! every read too, with `audit_reads: true`), appended to a private file.
//!
//! The file is opened (created 0600, its directory 0700 if we make it) with `O_APPEND` and
//! judged by clusters.yaml's rules ([`secure_file::check_opened`]) *before* the call acts, and
//! the record is written after it, with one `write`. So a log that cannot be written refuses
//! the call before anything is sent (a log that silently stops is worse than none); only a
//! write that fails after the call acted (a full disk) is left, and the result says so. We
//! never truncate or rotate it; it is reopened for each call, so a rotation by logrotate or
//! a SIEM shipper is followed. Nothing here ever sees a token: `subject` is what a JWT names.

use crate::secure_file::{self, FileKind};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The environment variable that names the audit log; it wins over `audit_log` in clusters.yaml.
pub const ENV: &str = "ACP_AUDIT_LOG";
/// Most characters of a prompt a record keeps.
pub const MAX_PROMPT_CHARS: usize = 200;
/// Most characters of a `reason`, and of any string taken from a call's arguments.
pub const MAX_TEXT_CHARS: usize = 200;

/// How a call ended, for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It did what was asked (a dry run included).
    Ok,
    /// It was refused before anything was sent: arguments, confirm, a limit, a guardrail.
    Refused,
    /// It failed: configuration, the platform's answer, or a target of a bulk call.
    Error,
}

/// One line of the log. The keys are always all there (`null` when unknown), in this order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// When the call started: RFC 3339, UTC, milliseconds.
    pub time: String,
    pub tool: &'static str,
    pub cluster: Option<String>,
    /// `public-api` or `ambient`.
    pub api: Option<&'static str>,
    /// The cluster server's host.
    pub server: Option<String>,
    pub project: Option<String>,
    /// The sessions named by the call, or those a by-label call matched.
    pub sessions: Vec<String>,
    pub dry_run: bool,
    pub confirm: bool,
    pub outcome: Outcome,
    /// Why it was refused or failed (the first line of the message, cut short).
    pub reason: Option<String>,
    /// The platform's HTTP status, when an answer carried one.
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// Whom the token names (a JWT's username, else `sub`); `null` for an opaque token.
    pub subject: Option<String>,
    /// The JSON-RPC id of the request.
    pub request_id: Option<Value>,
    /// The prompt or message sent, at most [`MAX_PROMPT_CHARS`] characters; `null` for tools
    /// without one.
    pub prompt: Option<String>,
}

impl Record {
    /// The record as one line: JSON, newline-terminated, with every known secret removed
    /// (nothing should hold one; this makes sure).
    pub fn line(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        let mut line = crate::redact::redact_json(&json).into_owned();
        line.push('\n');
        line
    }
}

/// The audit log could not be opened, trusted or written. `Display` names the file.
#[derive(Debug)]
pub enum AuditError {
    /// Its permissions (or its directory's) let others write it, or it is not a regular file.
    File(secure_file::FileError),
    /// The file system refused.
    Io { path: PathBuf, action: &'static str, error: io::Error },
    /// A write that did not take the whole record.
    Short { path: PathBuf, written: usize, len: usize },
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::File(e) => write!(f, "{e}"),
            AuditError::Io { path, action, error } => {
                write!(f, "audit log {}: cannot {action} ({error})", path.display())
            }
            AuditError::Short { path, written, len } => {
                write!(f, "audit log {}: only {written} of {len} bytes of the record were written", path.display())
            }
        }
    }
}

impl std::error::Error for AuditError {}

/// The audit log, open for appending and checked.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
}

impl AuditLog {
    /// Open `path` for appending: created 0600 if missing (its directory 0700 if that is
    /// missing too), refused if it or a directory above it can be written by another user,
    /// or if it is not a regular file. A symlink is judged by where it leads.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let canon = Self::place(path, true)?;
        let io_err = |action, error| AuditError::Io { path: path.to_path_buf(), action, error };
        let file = open_append(&canon).map_err(|e| io_err("open it for appending", e))?;
        secure_file::check_opened(&file, &canon, FileKind::AuditLog).map_err(AuditError::File)?;
        Ok(AuditLog { path: canon, file })
    }

    /// What [`AuditLog::open`] would say of `path`, creating nothing (for `check-config`): an
    /// existing log is opened for appending, as the server will, without writing to it.
    pub fn check(path: &Path) -> Result<(), AuditError> {
        match Self::place(path, false)? {
            canon if canon.exists() => Self::open(&canon).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Where the log is (resolved), once its directories are judged safe; a missing directory
    /// is made (0700) when `create`, and otherwise the nearest one that exists is judged.
    fn place(path: &Path, create: bool) -> Result<PathBuf, AuditError> {
        let io_err = |action, error| AuditError::Io { path: path.to_path_buf(), action, error };
        let Some(file_name) = path.file_name() else {
            let error = io::Error::new(io::ErrorKind::InvalidInput, "the path names no file");
            return Err(io_err("open it", error));
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.exists() {
            // Judged before anything is made: the first directory that exists must be safe.
            let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(Path::new("."));
            let existing = std::fs::canonicalize(existing).map_err(|e| io_err("resolve its directory", e))?;
            secure_file::check_place(&existing.join(file_name), FileKind::AuditLog).map_err(AuditError::File)?;
            if !create {
                return Ok(dir.join(file_name));
            }
            make_private_dir(dir).map_err(|e| io_err("create its directory", e))?;
        }
        let canon = match std::fs::canonicalize(path) {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::canonicalize(dir).map_err(|e| io_err("resolve its directory", e))?.join(file_name)
            }
            Err(e) => return Err(io_err("resolve it", e)),
        };
        // Not even opened unless regular (or missing): opening a device can have side effects.
        if let Ok(meta) = std::fs::metadata(&canon) {
            if !meta.is_file() {
                let error = io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file");
                return Err(io_err("use it", error));
            }
        }
        if !canon.exists() {
            secure_file::check_place(&canon, FileKind::AuditLog).map_err(AuditError::File)?;
        }
        Ok(canon)
    }

    /// Where the log really is (symlinks resolved).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `record` with one `write`: with `O_APPEND` a record is never interleaved with
    /// another writer's, and a short write is reported rather than completed by a second one.
    pub fn append(&mut self, record: &Record) -> Result<(), AuditError> {
        let line = record.line();
        let path = || self.path.clone();
        match self.file.write(line.as_bytes()) {
            Ok(n) if n == line.len() => Ok(()),
            Ok(n) => Err(AuditError::Short { path: path(), written: n, len: line.len() }),
            Err(error) => Err(AuditError::Io { path: path(), action: "write the record", error }),
        }
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOFOLLOW: a symlink put in place after we resolved the path is not followed.
        options.mode(0o600).custom_flags(secure_file::OPEN_FLAGS);
    }
    options.open(path)
}

fn make_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// `2026-01-02T03:04:05.678Z` for a time since the epoch.
pub fn timestamp(since_epoch: std::time::Duration) -> String {
    let secs = crate::validate::format_rfc3339(since_epoch.as_secs() as i64);
    let base = secs.strip_suffix('Z').unwrap_or(&secs);
    format!("{base}.{:03}Z", since_epoch.subsec_millis())
}

/// At most `max` characters of `text`, the last one `…` when it was cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let keep = text.char_indices().nth(max.saturating_sub(1)).map_or(0, |(at, _)| at);
            format!("{}…", &text[..keep])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            time: timestamp(std::time::Duration::from_millis(1_767_225_600_042)),
            tool: "acp_delete_session",
            cluster: Some("dev".into()),
            api: Some("public-api"),
            server: Some("gw.example.com".into()),
            project: Some("team-a".into()),
            sessions: vec!["s1".into()],
            dry_run: false,
            confirm: false,
            outcome: Outcome::Ok,
            reason: None,
            status: None,
            duration_ms: 12,
            subject: Some("ada".into()),
            request_id: Some(Value::from(7)),
            prompt: None,
        }
    }

    #[test]
    fn a_record_is_one_line_with_every_key_in_order() {
        let line = record().line();
        assert_eq!(
            line,
            "{\"time\":\"2026-01-01T00:00:00.042Z\",\"tool\":\"acp_delete_session\",\"cluster\":\"dev\",\
             \"api\":\"public-api\",\"server\":\"gw.example.com\",\"project\":\"team-a\",\"sessions\":[\"s1\"],\
             \"dry_run\":false,\"confirm\":false,\"outcome\":\"ok\",\"reason\":null,\"status\":null,\
             \"duration_ms\":12,\"subject\":\"ada\",\"request_id\":7,\"prompt\":null}\n"
        );
    }

    #[test]
    fn a_known_secret_never_reaches_the_file() {
        crate::redact::register("audit-unit-secret-93jd7");
        let r = Record { reason: Some("server said audit-unit-secret-93jd7\n".into()), ..record() };
        let line = r.line();
        assert!(!line.contains("audit-unit-secret") && line.ends_with("}\n") && line.matches('\n').count() == 1);
        serde_json::from_str::<Value>(&line).unwrap();
    }

    #[test]
    fn cut_counts_characters() {
        assert_eq!(cut("ééé", 2), "é…");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[cfg(unix)]
    #[test]
    fn created_private_appended_and_never_truncated() {
        use std::os::unix::fs::PermissionsExt;
        let top = tempfile::tempdir().unwrap();
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = top.path().join("logs/audit.jsonl");
        for _ in 0..2 {
            let mut log = AuditLog::open(&path).unwrap();
            log.append(&record()).unwrap();
        }
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&path), mode(path.parent().unwrap())), (0o600, 0o700));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = AuditLog::open(&path).unwrap_err().to_string();
        assert!(e.starts_with("Refusing to use audit log") && e.contains("mode is 0666"), "{e}");
        let e = AuditLog::open(top.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
