//! Logging: stderr for the operator, `notifications/message` for the MCP client, both redacted.
//!
//! One `log::Log` wraps env_logger and adds two rules of ours:
//! - other crates never log below `debug`: at `trace`, ureq dumps raw request bytes
//!   (the `Authorization` header included, split across lines where redaction cannot see it);
//! - when the client asked for log messages (`logging/setLevel`, or a request's `_meta` in the
//!   stateless revision), our own records at or above that level are queued for it.

use crate::redact;
use log::{Level, LevelFilter, Log, Metadata, Record};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Mutex;

/// RFC 5424 severities, as MCP names them, least severe first.
pub const LEVELS: &[&str] = &["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

struct ClientLog {
    /// Index into [`LEVELS`] of the least severe level the client wants, if any.
    threshold: Option<usize>,
    queue: Vec<Value>,
}

static CLIENT: Mutex<ClientLog> = Mutex::new(ClientLog { threshold: None, queue: Vec::new() });

fn client() -> std::sync::MutexGuard<'static, ClientLog> {
    CLIENT.lock().unwrap_or_else(|e| e.into_inner())
}

struct Logger {
    stderr: env_logger::Logger,
}

fn ours(target: &str) -> bool {
    target.starts_with("mcp_acp")
}

fn severity(level: Level) -> usize {
    match level {
        Level::Error => 4,
        Level::Warn => 3,
        Level::Info => 1,
        Level::Debug | Level::Trace => 0,
    }
}

impl Log for Logger {
    fn enabled(&self, m: &Metadata) -> bool {
        (m.level() <= Level::Debug || ours(m.target())) && (self.stderr.enabled(m) || wanted_by_client(m))
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if self.stderr.enabled(record.metadata()) {
            self.stderr.log(record);
        }
        if wanted_by_client(record.metadata()) {
            let message = redact::redact(&record.args().to_string()).into_owned();
            let level = LEVELS[severity(record.level())];
            client().queue.push(json!({"level": level, "logger": record.target(), "data": message}));
        }
    }

    fn flush(&self) {
        self.stderr.flush();
    }
}

fn wanted_by_client(m: &Metadata) -> bool {
    ours(m.target()) && m.level() != Level::Trace && client().threshold.is_some_and(|t| severity(m.level()) >= t)
}

/// Install the logger: stderr at `spec` (RUST_LOG syntax), every line redacted.
pub fn init(spec: &str) {
    let stderr = env_logger::Builder::new()
        .target(env_logger::Target::Stderr)
        .parse_filters(spec)
        .format(|buf, record| {
            let message = record.args().to_string();
            writeln!(buf, "[mcp-acp {} {}] {}", record.level(), record.target(), redact::redact(&message))
        })
        .build();
    let stderr_max = stderr.filter();
    if log::set_boxed_logger(Box::new(Logger { stderr })).is_ok() {
        STDERR_MAX.store(stderr_max as usize, std::sync::atomic::Ordering::Relaxed);
        update_max_level();
    }
}

static STDERR_MAX: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn update_max_level() {
    let stderr = match STDERR_MAX.load(std::sync::atomic::Ordering::Relaxed) {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    let client = match client().threshold {
        None => LevelFilter::Off,
        Some(0) => LevelFilter::Debug,
        Some(1) => LevelFilter::Info,
        Some(2 | 3) => LevelFilter::Warn,
        Some(_) => LevelFilter::Error,
    };
    log::set_max_level(stderr.max(client));
}

/// A level name that is not one of [`LEVELS`]. `Display` names the valid ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLevel(pub String);

impl std::fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown log level {}: use one of {}", crate::validate::quote(&self.0), LEVELS.join(", "))
    }
}

impl std::error::Error for UnknownLevel {}

/// Set (or with `None`, stop) what the client receives.
pub fn set_client_level(level: Option<&str>) -> Result<(), UnknownLevel> {
    let threshold = match level {
        None => None,
        Some(l) => Some(LEVELS.iter().position(|x| *x == l).ok_or_else(|| UnknownLevel(l.to_string()))?),
    };
    client().threshold = threshold;
    update_max_level();
    Ok(())
}

/// The client's current level, to restore after a request that set its own.
pub fn client_level() -> Option<&'static str> {
    client().threshold.map(|i| LEVELS[i])
}

/// The `notifications/message` params queued since the last call.
pub fn take_client_messages() -> Vec<Value> {
    std::mem::take(&mut client().queue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_levels_are_checked() {
        assert_eq!(
            set_client_level(Some("verbose")).unwrap_err().to_string(),
            "unknown log level \"verbose\": use one of debug, info, notice, warning, error, critical, alert, emergency"
        );
        assert!(set_client_level(Some("notice")).is_ok());
        assert_eq!(client_level(), Some("notice"));
        set_client_level(None).unwrap();
        assert_eq!(client_level(), None);
    }
}
