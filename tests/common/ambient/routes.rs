//! The router and handlers below `/api/ambient/v1` (§12.5, §12.7, §12.9), reached once the
//! token was accepted.

use super::decode::{self, PATCH_FIELDS, Ty};
use super::query::{self, PROJECT_COLUMNS, SESSION_COLUMNS};
use super::{PREFIX, Shared, Trex, json_resp, lock, merge, text_resp, value_resp};
use crate::common::http::{self, Response};
use serde_json::{Map, Value, json};

pub struct Call<'a> {
    pub req: &'a http::Request,
    /// Decoded path, one trailing `/` removed.
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    /// The request's operation id (`X-Operation-ID`, `operation_id` of trex errors).
    pub op: String,
    /// The token's username.
    pub user: String,
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

enum H {
    List,
    Create,
    Get(String),
    Patch(String),
    Delete(String),
    Status(String),
    Start(String),
    Stop(String),
    Clone(String),
    Model(String),
    DisplayName(String),
    MessagesGet(String),
    MessagesPost(String),
    Export(String),
    PodEvents(String),
    Projects,
    Project(String),
    /// A route of the real server this fake does not model.
    Unimplemented,
}

enum Miss {
    NotFound,
    Method,
}

/// gorilla/mux: a known path with another method is 405; `{id}` is one non-empty segment.
fn resolve(m: &str, rest: &str) -> Result<H, Miss> {
    use H::*;
    let segs: Vec<&str> = rest.split('/').collect();
    let one = |want: &str, h: H| if m == want { Ok(h) } else { Err(Miss::Method) };
    match segs.as_slice() {
        ["sessions"] => match m {
            "GET" => Ok(List),
            "POST" => Ok(Create),
            _ => Err(Miss::Method),
        },
        ["sessions", id] if !id.is_empty() => match m {
            "GET" => Ok(Get(id.to_string())),
            "PATCH" => Ok(Patch(id.to_string())),
            "DELETE" => Ok(Delete(id.to_string())),
            _ => Err(Miss::Method),
        },
        ["sessions", id, sub] if !id.is_empty() => {
            let id = id.to_string();
            match *sub {
                "status" => one("PATCH", Status(id)),
                "start" => one("POST", Start(id)),
                "stop" => one("POST", Stop(id)),
                "clone" => one("POST", Clone(id)),
                "model" => one("POST", Model(id)),
                "displayname" => one("PATCH", DisplayName(id)),
                "export" => one("GET", Export(id)),
                "pod-events" => one("GET", PodEvents(id)),
                "messages" => match m {
                    "GET" => Ok(MessagesGet(id)),
                    "POST" => Ok(MessagesPost(id)),
                    _ => Err(Miss::Method),
                },
                "workflow" | "repos" => one("POST", Unimplemented),
                "events" | "workspace" | "files" => Ok(Unimplemented),
                _ => Err(Miss::NotFound),
            }
        }
        ["sessions", id, "agui" | "mcp" | "workspace" | "files" | "git" | "oauth" | "repos" | "workflow", ..]
            if !id.is_empty() =>
        {
            Ok(Unimplemented)
        }
        ["projects"] => match m {
            "GET" => Ok(Projects),
            "POST" => Ok(Unimplemented),
            _ => Err(Miss::Method),
        },
        ["projects", id] if !id.is_empty() => match m {
            "GET" => Ok(Project(id.to_string())),
            "PATCH" | "DELETE" => Ok(Unimplemented),
            _ => Err(Miss::Method),
        },
        ["users", ..] => Ok(Unimplemented),
        _ => Err(Miss::NotFound),
    }
}

/// The §12.8 404 for a path no route matches (its own shape, not a trex body).
fn not_found(path: &str) -> Response {
    let reason = format!("The requested resource '{path}' doesn't exist");
    let body = format!(
        "{{\"type\":\"Error\",\"id\":\"404\",\"href\":\"{PREFIX}/errors/404\",\"code\":\"ambient-api-server-404\",\"reason\":{}}}",
        serde_json::to_string(&reason).unwrap_or_default()
    );
    json_resp(404, &body)
}

pub fn route(sh: &Shared, c: &Call) -> Response {
    let Some(rest) = c.path.strip_prefix(PREFIX).and_then(|r| r.strip_prefix('/')) else {
        return not_found(c.path);
    };
    let h = match resolve(&c.req.method, rest) {
        Ok(h) => h,
        Err(Miss::NotFound) => return not_found(c.path),
        Err(Miss::Method) => return Response::new(405, None, Vec::new()),
    };
    match dispatch(sh, c, h) {
        Ok(r) => r,
        Err(e) => e.resp(&c.op),
    }
}

fn not_found_session(id: &str) -> Trex {
    Trex(404, 7, format!("Session with id='{id}' not found"))
}

fn session_resp(status: u16, s: &Map<String, Value>) -> Response {
    value_resp(status, &Value::Object(s.clone()))
}

fn bad_format(e: String) -> Trex {
    Trex(400, 17, format!("Invalid request format: {e}"))
}

/// `^[a-zA-Z0-9_.@:\-]+$`
fn valid_project_id(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.@:-".contains(&b))
}

/// Fields the strict create decodes but drops.
const CREATE_IGNORED: &[&str] = &[
    "id",
    "kind",
    "href",
    "created_by_user_id",
    "phase",
    "start_time",
    "completion_time",
    "sdk_session_id",
    "sdk_restart_count",
    "conditions",
    "reconciled_repos",
    "reconciled_workflow",
    "kube_cr_name",
    "kube_cr_uid",
    "kube_namespace",
];

const CLONED: &[&str] = &[
    "repo_url",
    "assigned_user_id",
    "workflow_id",
    "repos",
    "timeout",
    "llm_model",
    "llm_temperature",
    "llm_max_tokens",
    "bot_account_name",
    "resource_overrides",
    "environment_variables",
    "labels",
    "annotations",
    "project_id",
    "agent_id",
];

const PHASES: &[&str] = &["Pending", "Creating", "Running", "Stopping", "Stopped", "Completed", "Failed"];

const STATUS_FIELDS: &[(&str, Ty)] = &[
    ("phase", Ty::Str),
    ("start_time", Ty::Time),
    ("completion_time", Ty::Time),
    ("sdk_session_id", Ty::Str),
    ("sdk_restart_count", Ty::I32),
    ("conditions", Ty::Str),
    ("reconciled_repos", Ty::Str),
    ("reconciled_workflow", Ty::Str),
    ("kube_cr_uid", Ty::Str),
    ("kube_namespace", Ty::Str),
];

fn dispatch(sh: &Shared, c: &Call, h: H) -> Result<Response, Trex> {
    let body = &c.req.body;
    match h {
        H::Unimplemented => Ok(text_resp(501, "not implemented by FakeAmbient")),
        H::List => {
            let header = c.req.header("x-ambient-project").filter(|p| !p.is_empty());
            let project = c.param("project_id").filter(|p| !p.is_empty()).or(header);
            if project.is_some_and(|p| !valid_project_id(p)) {
                return Err(Trex(400, 8, "invalid project_id format".into()));
            }
            let st = lock(sh);
            let rows = st
                .sessions
                .iter()
                .filter(|s| project.is_none_or(|p| s.get("project_id").and_then(Value::as_str) == Some(p)))
                .collect();
            Ok(json_resp(200, &query::list("SessionList", rows, &c.query, SESSION_COLUMNS)?))
        }
        H::Create => {
            let fields = decode::session_create(body).map_err(bad_format)?;
            if fields.get("id").and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
                return Err(Trex(400, 8, "id must be empty".into()));
            }
            let mut keep: Map<String, Value> =
                fields.into_iter().filter(|(k, v)| !v.is_null() && !CREATE_IGNORED.contains(&k.as_str())).collect();
            if keep.get("project_id").and_then(Value::as_str).is_none_or(str::is_empty) {
                match c.req.header("x-ambient-project").filter(|p| !p.is_empty()) {
                    Some(p) => keep.insert("project_id".into(), json!(p)),
                    None => keep.remove("project_id"),
                };
            }
            keep.insert("created_by_user_id".into(), json!(c.user));
            let mut st = lock(sh);
            if let Some(parent) = keep.get("parent_session_id").and_then(Value::as_str).filter(|p| !p.is_empty()) {
                if st.session(parent).is_none() {
                    return Err(Trex(
                        500,
                        9,
                        "Unable to create Session: ERROR: insert or update on table \"sessions\" violates foreign key constraint \"fk_sessions_parent_session\" (SQLSTATE 23503)".into(),
                    ));
                }
            }
            let s = st.new_session(keep);
            let id = s.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(prompt) = s.get("prompt").and_then(Value::as_str).filter(|p| !p.is_empty()) {
                let prompt = prompt.to_string();
                st.push_message(&id, "user", &prompt);
            }
            st.sessions.push(s.clone());
            Ok(session_resp(201, &s))
        }
        H::Get(id) => lock(sh).session(&id).map(|s| session_resp(200, s)).ok_or_else(|| not_found_session(&id)),
        H::Patch(id) => {
            let fields = decode::loose(body, PATCH_FIELDS, "openapi.SessionPatchRequest").map_err(bad_format)?;
            update(sh, &id, |s| {
                merge(s, fields);
                Ok(())
            })
            .map(|s| session_resp(200, &s))
        }
        H::Delete(id) => {
            let mut st = lock(sh);
            st.sessions.retain(|s| s.get("id").and_then(Value::as_str) != Some(&id));
            st.messages.retain(|m| m.session_id != id);
            Ok(Response::new(204, None, Vec::new()))
        }
        H::Status(id) => {
            let fields = decode::loose(body, STATUS_FIELDS, "openapi.SessionStatusPatchRequest").map_err(bad_format)?;
            if fields.is_empty() {
                let names: Vec<&str> = STATUS_FIELDS.iter().map(|(n, _)| *n).collect();
                return Err(Trex(
                    400,
                    8,
                    format!("status patch body must set at least one field: {}", names.join(", ")),
                ));
            }
            if let Some(p) = fields.get("phase").and_then(Value::as_str).filter(|p| !PHASES.contains(p)) {
                return Err(Trex(400, 8, format!("invalid phase {p:?}; must be one of: {}", PHASES.join(", "))));
            }
            update(sh, &id, |s| {
                merge(s, fields);
                Ok(())
            })
            .map(|s| session_resp(200, &s))
        }
        H::Start(id) => update(sh, &id, |s| {
            let p = s.get("phase").and_then(Value::as_str).unwrap_or("");
            if !["", "Stopped", "Failed", "Completed"].contains(&p) {
                let msg = format!("cannot start session in phase {p:?}; must be empty, Stopped, Failed, or Completed");
                return Err(Trex(409, 6, msg));
            }
            s.insert("phase".into(), json!("Pending"));
            Ok(())
        })
        .map(|s| session_resp(200, &s)),
        H::Stop(id) => update(sh, &id, |s| {
            let p = s.get("phase").and_then(Value::as_str).unwrap_or("");
            if !["Running", "Creating", "Pending"].contains(&p) {
                let msg = format!("cannot stop session in phase {p:?}; must be Running, Creating, or Pending");
                return Err(Trex(409, 6, msg));
            }
            s.insert("phase".into(), json!("Stopping"));
            Ok(())
        })
        .map(|s| session_resp(200, &s)),
        H::Clone(id) => {
            let mut st = lock(sh);
            let src = st.session(&id).cloned().ok_or_else(|| not_found_session(&id))?;
            let mut f: Map<String, Value> =
                src.iter().filter(|(k, _)| CLONED.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
            let name = src.get("name").and_then(Value::as_str).unwrap_or("");
            f.insert("name".into(), json!(format!("{name}-clone")));
            f.insert("parent_session_id".into(), json!(id));
            let mut s = st.new_session(Map::new());
            for k in CLONED {
                s.remove(*k); // what the source lacks stays absent (defaults were applied to it)
            }
            merge(&mut s, f);
            st.sessions.push(s.clone());
            Ok(session_resp(201, &s))
        }
        H::Model(id) => {
            let f = decode::loose(body, &[("model", Ty::Str)], "handlers.modelRequest").map_err(bad_format)?;
            let model = f.get("model").and_then(Value::as_str).unwrap_or("").to_string();
            if model.is_empty() {
                return Err(Trex(400, 8, "model is required".into()));
            }
            update(sh, &id, |s| {
                s.insert("llm_model".into(), json!(model));
                Ok(())
            })
            .map(|s| session_resp(200, &s))
        }
        H::DisplayName(id) => {
            let f = decode::loose(body, &[("name", Ty::Str)], "handlers.displayNameRequest").map_err(bad_format)?;
            let name = f.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            if name.is_empty() {
                return Err(Trex(400, 8, "name is required".into()));
            }
            update(sh, &id, |s| {
                s.insert("name".into(), json!(name));
                Ok(())
            })?;
            Ok(value_resp(200, &json!({"href": format!("{PREFIX}/sessions/{id}"), "id": id, "kind": "Session"})))
        }
        H::Export(id) => {
            let mut st = lock(sh);
            if st.session(&id).is_none() {
                return Err(not_found_session(&id));
            }
            let now = st.now();
            let s = json!({"href": format!("{PREFIX}/sessions/{id}"), "id": id, "kind": "Session"});
            Ok(value_resp(200, &json!({"export_at": now, "session": s, "version": "1"})))
        }
        H::PodEvents(id) => match lock(sh).session(&id) {
            Some(_) => Ok(json_resp(200, "[]")),
            None => Ok(text_resp(404, "session not found")),
        },
        H::MessagesGet(id) => {
            let st = lock(sh);
            if st.session(&id).is_none() {
                return Ok(text_resp(404, "session not found"));
            }
            let after = c.param("after_seq").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            let items: Vec<String> = st
                .messages
                .iter()
                .filter(|m| m.session_id == id && (m.seq as i64) > after)
                .map(|m| m.to_json())
                .collect();
            Ok(json_resp(200, &format!("[{}]", items.join(","))))
        }
        H::MessagesPost(id) => {
            let mut st = lock(sh);
            if st.session(&id).is_none() {
                return Ok(text_resp(404, "session not found"));
            }
            let body = &body[..body.len().min(1 << 20)];
            let fields = [("event_type", Ty::Str), ("payload", Ty::Str)];
            let Ok(f) = decode::loose(body, &fields, "handlers.pushMessageRequest") else {
                return Ok(text_resp(400, "invalid JSON body"));
            };
            let event_type = f.get("event_type").and_then(Value::as_str).filter(|e| !e.is_empty()).unwrap_or("user");
            if event_type != "user" {
                return Ok(text_resp(400, "event_type must be \"user\" on this endpoint"));
            }
            let payload = f.get("payload").and_then(Value::as_str).unwrap_or("");
            let m = st.push_message(&id, "user", payload);
            Ok(json_resp(201, &format!("{}\n", m.to_json())))
        }
        H::Projects => {
            let st = lock(sh);
            Ok(json_resp(200, &query::list("ProjectList", st.projects.iter().collect(), &c.query, PROJECT_COLUMNS)?))
        }
        H::Project(id) => {
            let st = lock(sh);
            match st.projects.iter().find(|p| p.get("id").and_then(Value::as_str) == Some(&id)) {
                Some(p) => Ok(value_resp(200, &Value::Object(p.clone()))),
                None => Err(Trex(404, 7, format!("Project with id='{id}' not found"))),
            }
        }
    }
}

/// Applies `f` to a stored session (404 `…-7` if unknown), bumps `updated_at` on success and
/// returns the updated copy.
fn update<F>(sh: &Shared, id: &str, f: F) -> Result<Map<String, Value>, Trex>
where
    F: FnOnce(&mut Map<String, Value>) -> Result<(), Trex>,
{
    let mut st = lock(sh);
    let now = st.now();
    let s = st.session_mut(id).ok_or_else(|| not_found_session(id))?;
    f(s)?;
    s.insert("updated_at".into(), json!(now));
    Ok(s.clone())
}
