//! What a tool call tells the audit log ([`crate::audit`]): which cluster, project and
//! sessions it named, whose token it carried, and how it ended. [`super::call`] calls
//! [`begin`] before the tool runs and [`Pending::finish`] after.

use super::{AnyTool, Context, Output, ToolError};
use crate::audit::{self, AuditLog, Outcome, Record};
use crate::gateway::ApiError;
use serde_json::Value;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Arguments that name the sessions a call acts on.
const SESSION_ARGS: &[&str] = &["session", "sessions", "name", "source_session"];
/// Arguments that carry a prompt (create, create from template, send).
const PROMPT_ARGS: &[&str] = &["initial_prompt", "prompt", "message"];
/// Most session ids a record lists: a bulk call takes 3, but refused arguments may name thousands.
const MAX_SESSIONS: usize = 50;

/// An audited call under way: the log, already open and checked, and the record so far.
pub(super) struct Pending {
    log: AuditLog,
    record: Record,
    started: Instant,
}

/// Before the tool acts: `None` if the call is not audited (no audit log, a read without
/// `audit_reads`, or no configuration, in which case nothing can be sent either); the log
/// opened and checked if it is; `Err` (the call is refused) if the log cannot be used.
pub(super) fn begin(ctx: &mut Context, tool: &dyn AnyTool, arguments: &Value) -> Result<Option<Pending>, ToolError> {
    let started = Instant::now();
    ctx.take_status();
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let Ok(config) = ctx.config() else { return Ok(None) };
    let audited = !tool.effect().read_only() || config.guard.audit_reads;
    let Some(path) = config.guard.audit_log.clone().filter(|_| audited) else { return Ok(None) };
    let text = |key: &str| arguments.get(key).and_then(Value::as_str).map(|s| audit::cut(s, audit::MAX_TEXT_CHARS));
    let cluster = text("cluster").or_else(|| ctx.active.clone());
    let facts = cluster
        .as_deref()
        .and_then(|name| ctx.config().ok()?.cluster(name))
        .map(|c| (c.api.name(), c.server.host.clone(), c.default_project.clone()));
    let takes_project = tool.params().iter().any(|p| p.name == "project");
    let flag = |key: &str| arguments.get(key).and_then(Value::as_bool).unwrap_or(false);
    let record = Record {
        time: audit::timestamp(wall),
        tool: tool.name(),
        api: facts.as_ref().map(|f| f.0),
        server: facts.as_ref().map(|f| f.1.clone()),
        project: text("project").or(facts.map(|f| f.2)).filter(|_| takes_project),
        sessions: sessions_named(arguments),
        dry_run: flag("dry_run"),
        confirm: flag("confirm"),
        outcome: Outcome::Ok,
        reason: None,
        status: None,
        duration_ms: 0,
        subject: None, // known once the call has its token (`finish`)
        request_id: ctx.request_id().map(short_id),
        prompt: PROMPT_ARGS
            .iter()
            .find_map(|key| arguments.get(*key)?.as_str())
            .map(|p| audit::cut(&crate::redact::redact(p), audit::MAX_PROMPT_CHARS)),
        cluster,
    };
    match AuditLog::open(&path) {
        Ok(log) => Ok(Some(Pending { log, record, started })),
        Err(e) => Err(ToolError::Refused(format!(
            "Refused: this call must be recorded in the audit log, which cannot be written, so nothing was \
             sent. {e}. Fix the file or its directory, or turn the audit log off (audit_log in clusters.yaml, \
             or ACP_AUDIT_LOG)."
        ))),
    }
}

impl Pending {
    /// After the tool: the record completed and appended; `status` is the last error status
    /// the platform answered during the call, even one the tool reported as an answer. `Some`: it could not be written,
    /// and the result must say so (the call has already acted).
    pub(super) fn finish(mut self, ctx: &mut Context, result: &Result<Output, ToolError>) -> Option<String> {
        // The subject of the token the call used: one renewed from a stored login is first had
        // during the call.
        self.record.subject = self.record.cluster.as_deref().and_then(|name| ctx.subject(name));
        let r = &mut self.record;
        let first_line = |text: &str| Some(audit::cut(text.trim().lines().next().unwrap_or(""), audit::MAX_TEXT_CHARS));
        (r.outcome, r.reason, r.status) = match result {
            Ok(out) if out.refused => (Outcome::Refused, first_line(&out.text), None),
            Ok(out) if out.is_error => (Outcome::Error, first_line(&out.text), None),
            Ok(_) => (Outcome::Ok, None, None),
            // The budget is a refusal by this server, not an error of the platform.
            Err(
                e @ (ToolError::Invalid(_)
                | ToolError::Refused(_)
                | ToolError::Api(_, ApiError::BudgetSpent { .. }, ..)),
            ) => (Outcome::Refused, first_line(&e.to_string()), None),
            Err(e @ ToolError::Api(_, api, ..)) => (Outcome::Error, first_line(&e.to_string()), api.status()),
            Err(e @ ToolError::Config(_)) => (Outcome::Error, first_line(&e.to_string()), None),
        };
        r.status = r.status.or(ctx.take_status());
        // A by-label call names no session: the ones it matched are its targets.
        if r.sessions.is_empty() {
            r.sessions = result.as_ref().ok().map(matched).unwrap_or_default();
        }
        r.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match self.log.append(&self.record) {
            Ok(()) => None,
            Err(e) => {
                log::error!("audit_write_failed error={e}");
                Some(format!(
                    "Warning: the audit record of this call could not be written ({e}). What is reported above did happen."
                ))
            }
        }
    }
}

/// The session ids the arguments name, as given (cut short: they may not have passed validation).
fn sessions_named(arguments: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for key in SESSION_ARGS {
        match arguments.get(*key) {
            Some(Value::String(id)) => ids.push(id.as_str()),
            Some(Value::Array(items)) => ids.extend(items.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    ids.into_iter().take(MAX_SESSIONS).map(|id| audit::cut(id, audit::MAX_TEXT_CHARS)).collect()
}

/// `matched` of a by-label tool's structured result.
fn matched(out: &Output) -> Vec<String> {
    let Some(raw) = &out.structured else { return vec![] };
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw.get()) else { return vec![] };
    match map.get("matched") {
        Some(Value::Array(ids)) => {
            ids.iter().filter_map(Value::as_str).take(MAX_SESSIONS).map(str::to_string).collect()
        }
        _ => vec![],
    }
}

/// A request id as it came, unless it is a string too long to be worth keeping whole.
fn short_id(id: &Value) -> Value {
    match id {
        Value::String(s) => Value::String(audit::cut(s, audit::MAX_TEXT_CHARS)),
        other => other.clone(),
    }
}
