//! The audit log: one JSON object per line for every tool call that changes something (and
//! every read too, with `audit_reads: true`), appended to a private file.
//!
//! The file is opened (created 0600, its directory 0700 if we make it) with `O_APPEND` and
//! judged by the rules of files we write ([`secure_file::open_append`]) *before* the call
//! acts, and the record is written after it, with one `write`. So a log that cannot be written
//! refuses the call before anything is sent (a log that silently stops is worse than none); a
//! write that fails after the call acted (a full disk) is said in the result, and every later
//! audited call is refused until that record can be written ([`crate::tools`]'s record). We
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
/// Most characters of a `reason`, and of any other string in a record.
pub const MAX_TEXT_CHARS: usize = 200;
/// Most session ids a record lists: a bulk call takes 3, but refused arguments may name thousands.
pub const MAX_SESSIONS: usize = 50;
/// Most characters of a request id (a number counted by its digits).
pub const MAX_ID_CHARS: usize = 64;
/// Most bytes of one record, newline included, whatever went into it.
pub const MAX_RECORD_BYTES: usize = 8 * 1024;

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
    /// (nothing should hold one; this makes sure), and at most [`MAX_RECORD_BYTES`]: every
    /// field is cut to its bound, and if escapes still make it too long, cut shorter.
    pub fn line(&self) -> String {
        let mut r = self.clone();
        let mut max = MAX_TEXT_CHARS;
        r.bound(max, MAX_PROMPT_CHARS, MAX_SESSIONS);
        loop {
            let json = serde_json::to_string(&r).unwrap_or_else(|_| "{}".into());
            let mut line = crate::redact::redact_json(&json).into_owned();
            line.push('\n');
            if line.len() <= MAX_RECORD_BYTES || max == 0 {
                return line;
            }
            max /= 4;
            r.bound(max, max, max);
        }
    }

    /// Every string at most `text` characters (the prompt `prompt`), at most `sessions` ids.
    fn bound(&mut self, text: usize, prompt: usize, sessions: usize) {
        let strings = [&mut self.cluster, &mut self.server, &mut self.project, &mut self.reason, &mut self.subject];
        for s in strings.into_iter().flatten() {
            *s = cut(s, text);
        }
        if let Some(p) = &mut self.prompt {
            *p = cut(p, prompt);
        }
        self.sessions.truncate(sessions);
        self.sessions.iter_mut().for_each(|s| *s = cut(s, text));
        self.request_id = self.request_id.as_ref().map(|id| short_id(id, text.min(MAX_ID_CHARS)));
    }
}

/// A request id as it came if it has at most `max` characters; else its text cut, as a string
/// (a number of a million digits is a valid id).
pub fn short_id(id: &Value, max: usize) -> Value {
    let text = match id {
        Value::String(s) => s.clone(),
        Value::Null => return Value::Null,
        other => other.to_string(),
    };
    match text.chars().nth(max) {
        None => id.clone(),
        Some(_) => Value::String(cut(&text, max)),
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
    /// Open `path` for appending: created 0600 if missing (its directories 0700 if missing
    /// too), refused if it or a directory on its way can be written by another user, if a
    /// symbolic link on its way is another user's, or if it is not a regular file of ours.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        match secure_file::open_append(path, FileKind::AuditLog, true) {
            Ok(Some((file, path))) => Ok(AuditLog { path, file }),
            Ok(None) => Err(AuditError::Io {
                path: path.to_path_buf(),
                action: "open it",
                error: io::ErrorKind::NotFound.into(),
            }),
            Err(e) => Err(AuditError::File(e)),
        }
    }

    /// What [`AuditLog::open`] would say of `path`, creating nothing (for `check-config`): an
    /// existing log is opened for appending, as the server will, without writing to it.
    pub fn check(path: &Path) -> Result<(), AuditError> {
        secure_file::open_append(path, FileKind::AuditLog, false).map(|_| ()).map_err(AuditError::File)
    }

    /// Where the log really is (symlinks resolved).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `record` with one `write`: with `O_APPEND` a record is never interleaved with
    /// another writer's, and a short write is reported rather than completed by a second one.
    /// `after_torn`: an earlier write of it was short, so it starts on a line of its own.
    pub fn append(&mut self, record: &Record, after_torn: bool) -> Result<(), AuditError> {
        let line = match after_torn {
            true => format!("\n{}", record.line()),
            false => record.line(),
        };
        let path = || self.path.clone();
        match self.file.write(line.as_bytes()) {
            Ok(n) if n == line.len() => Ok(()),
            Ok(n) => Err(AuditError::Short { path: path(), written: n, len: line.len() }),
            Err(error) => Err(AuditError::Io { path: path(), action: "write the record", error }),
        }
    }
}

/// Let a write past the file-size limit (`ulimit -f`) fail with EFBIG rather than kill the
/// process with SIGXFSZ: a record that cannot be written is then said in the result and
/// blocks further changes, instead of the server dying in the middle of a call that acted.
pub fn survive_file_size_limit() {
    // SIGXFSZ is 25 on every Linux architecture but MIPS (31), and SIG_IGN is 1.
    #[cfg(all(target_os = "linux", not(any(target_arch = "mips", target_arch = "mips64"))))]
    {
        unsafe extern "C" {
            fn signal(signum: i32, handler: usize) -> usize;
        }
        // SAFETY: installs no handler (SIG_IGN), before any other thread exists.
        unsafe {
            signal(25, 1);
        }
    }
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
    fn every_field_is_bounded_and_a_record_is_at_most_8_kib() {
        let huge = "\u{1}".repeat(1_000_000);
        let r = Record {
            cluster: Some(huge.clone()),
            server: Some(huge.clone()),
            project: Some(huge.clone()),
            sessions: vec!["\u{1}".repeat(1000); 1000],
            reason: Some(huge.clone()),
            subject: Some(huge.clone()),
            prompt: Some(huge.clone()),
            request_id: Some(Value::String(huge)),
            ..record()
        };
        let line = r.line();
        assert!(line.len() <= MAX_RECORD_BYTES && line.ends_with("}\n"), "{} bytes", line.len());
        let back: Value = serde_json::from_str(&line).unwrap();
        assert!(back["cluster"].as_str().unwrap().ends_with('…'), "{back}");
        let digits: Value = serde_json::from_str(&"9".repeat(100)).unwrap();
        assert_eq!(short_id(&digits, MAX_ID_CHARS), Value::String(format!("{}…", "9".repeat(63))));
        assert_eq!(short_id(&Value::from(7), MAX_ID_CHARS), Value::from(7));
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
            log.append(&record(), false).unwrap();
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
