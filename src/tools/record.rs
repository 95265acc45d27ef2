//! What a tool call tells the audit log ([`crate::audit`]): which cluster, project and
//! sessions it named, whose token it carried, and how it ended. [`super::call`] calls
//! [`begin`] before the tool runs and [`Pending::finish`] after. A record that could not be
//! written after its call acted is kept ([`Unwritten`]): every later audited call writes it
//! first, and is refused, with nothing sent, while that fails.

use super::{AnyTool, Context, Output, ToolError};
use crate::audit::{self, AuditLog, Outcome, Record};
use crate::gateway::ApiError;
use serde_json::Value;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Arguments that name the sessions a call acts on.
const SESSION_ARGS: &[&str] = &["session", "sessions", "name", "source_session"];
/// Arguments that carry a prompt (create, create from template, send).
const PROMPT_ARGS: &[&str] = &["initial_prompt", "prompt", "message"];
use audit::MAX_SESSIONS;

/// The record of a call that acted, which the log did not take.
pub(super) struct Unwritten {
    record: Record,
    /// Part of it was written: the rest of that line is garbage, so it goes on a new one.
    torn: bool,
}

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
        request_id: ctx.request_id().map(|id| audit::short_id(id, audit::MAX_ID_CHARS)),
        prompt: PROMPT_ARGS
            .iter()
            .find_map(|key| arguments.get(*key)?.as_str())
            .map(|p| audit::cut(&crate::redact::redact(p), audit::MAX_PROMPT_CHARS)),
        cluster,
    };
    match AuditLog::open(&path) {
        Ok(mut log) => match ctx.unwritten.take() {
            None => Ok(Some(Pending { log, record, started })),
            Some(lost) => match log.append(&lost.record, lost.torn) {
                Ok(()) => {
                    log::warn!("audit_record_written_late tool={}", lost.record.tool);
                    Ok(Some(Pending { log, record, started }))
                }
                Err(e) => {
                    let torn = lost.torn || matches!(e, audit::AuditError::Short { .. });
                    ctx.unwritten = Some(Unwritten { record: lost.record, torn });
                    Err(ToolError::Refused(format!(
                        "Refused: the audit log could not be written ({e}), and the record of an earlier change \
                         is still missing from it, so this call was not run and nothing was sent. Fix the log \
                         (free space on its disk, its size limit), then call again: the missing record is \
                         written first."
                    )))
                }
            },
        },
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
            Err(e @ (ToolError::Config(_) | ToolError::Panicked(_))) => {
                (Outcome::Error, first_line(&e.to_string()), None)
            }
        };
        r.status = r.status.or(ctx.take_status());
        // A by-label call names no session: the ones it matched are its targets.
        if r.sessions.is_empty() {
            r.sessions = result.as_ref().ok().map(matched).unwrap_or_default();
        }
        r.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match self.log.append(&self.record, false) {
            Ok(()) => None,
            Err(e) => {
                log::error!("audit_write_failed error={e}");
                let torn = matches!(e, audit::AuditError::Short { .. });
                let what = match (self.record.outcome, self.record.dry_run) {
                    (Outcome::Ok, false) => "this call DID act (what is reported above happened)",
                    _ => "what is reported above is what happened",
                };
                ctx.unwritten = Some(Unwritten { record: self.record, torn });
                Some(format!(
                    "AUDIT RECORD MISSING: {what}, but its audit record could not be written ({e}). Every \
                     further change is refused until the log can be written again; fix it (free space on its \
                     disk, its size limit) and the missing record is written first."
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
