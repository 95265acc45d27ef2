//! An in-memory stand-in for the gateway: no network, deterministic. Used by unit tests
//! and by the fuzz targets, which drive the whole server without I/O.

use super::{ApiError, NewSession, RequestPreview, Session, SessionApi, SessionList, Target};
use crate::redact::MASK;

#[derive(Default)]
pub struct MemoryApi {
    pub sessions: Vec<(String, Session)>,
    /// Every call, as `METHOD project id`, to check that nothing was sent.
    pub calls: Vec<String>,
    next_id: u32,
}

impl MemoryApi {
    fn not_found() -> ApiError {
        ApiError::Status { status: 404, message: "Session not found".into() }
    }
    fn position(&self, project: &str, id: &str) -> Option<usize> {
        self.sessions.iter().position(|(p, s)| p == project && s.id == id)
    }
}

impl SessionApi for MemoryApi {
    fn list(&mut self, t: &Target) -> Result<SessionList, ApiError> {
        self.calls.push(format!("GET {}", t.project));
        let sessions: Vec<Session> =
            self.sessions.iter().filter(|(p, _)| p == t.project).map(|(_, s)| s.clone()).take(20).collect();
        Ok(SessionList { maybe_more: sessions.len() >= 20, sessions, page_limit: 20 })
    }

    fn get(&mut self, t: &Target, id: &str) -> Result<Session, ApiError> {
        self.calls.push(format!("GET {} {id}", t.project));
        let i = self.position(t.project, id).ok_or_else(Self::not_found)?;
        Ok(self.sessions[i].1.clone())
    }

    fn create(&mut self, t: &Target, new: &NewSession) -> Result<String, ApiError> {
        self.calls.push(format!("POST {}", t.project));
        self.next_id += 1;
        let id = format!("session-{}", self.next_id);
        let session = Session {
            id: id.clone(),
            status: "pending".into(),
            task: new.task.clone(),
            model: new.model.clone(),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            completed_at: None,
            result: None,
            error: None,
        };
        self.sessions.push((t.project.to_string(), session));
        Ok(id)
    }

    fn delete(&mut self, t: &Target, id: &str) -> Result<(), ApiError> {
        self.calls.push(format!("DELETE {} {id}", t.project));
        let i = self.position(t.project, id).ok_or_else(Self::not_found)?;
        self.sessions.remove(i);
        Ok(())
    }

    fn preview_create(&self, t: &Target, new: &NewSession) -> RequestPreview {
        RequestPreview {
            method: "POST",
            url: format!("{}/v1/sessions", t.server.base()),
            headers: vec![("Authorization".into(), format!("Bearer {MASK}"))],
            body: serde_json::to_value(new).unwrap_or_default(),
        }
    }
}
