//! What this process lets a client do, whatever it asks (issue 13 §5): read-only mode and
//! toolsets decide which tools are offered; a project allow-list and a mutation budget bound
//! what the offered ones may touch.

use super::AnyTool;
use crate::gateway::{Answer, ApiError, Backend, Capabilities, Op, Request, Target};
use std::time::{Duration, Instant};

/// Which tools are offered: `tools/list` shows only these, and the others are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// Why only read-only tools are offered (`--read-only`, `ACP_READ_ONLY`, clusters.yaml).
    pub read_only: Option<String>,
    /// The toolsets selected in clusters.yaml; `None` is all.
    pub toolsets: Option<Vec<String>>,
}

impl Offer {
    /// Why `tool` is not offered, if it is not.
    pub fn hides(&self, tool: &dyn AnyTool) -> Option<String> {
        let name = tool.name();
        if let Some(why) = self.read_only.as_deref().filter(|_| !tool.effect().read_only()) {
            return Some(format!(
                "{name} is not offered: this server runs read-only ({why}), so tools that change the platform are \
                 hidden and refused. Nothing was sent."
            ));
        }
        let set = toolset(name);
        match &self.toolsets {
            Some(sets) if !sets.iter().any(|s| s == set) => Some(format!(
                "{name} is not offered: it is in the toolset '{set}', and clusters.yaml selects only [{}]. \
                 Nothing was sent.",
                sets.join(", ")
            )),
            _ => None,
        }
    }

    pub fn offers(&self, tool: &dyn AnyTool) -> bool {
        self.hides(tool).is_none()
    }
}

/// The toolset of a tool, by name (the names `toolsets` in clusters.yaml takes,
/// [`crate::config::TOOLSETS`]).
pub fn toolset(name: &str) -> &'static str {
    match name {
        "acp_get_session_transcript" | "acp_send_message" => "messages",
        "acp_label_resource" | "acp_unlabel_resource" | "acp_list_sessions_by_label" => "labels",
        n if n.starts_with("acp_bulk_") => "bulk",
        "acp_list_projects" => "projects",
        "acp_list_clusters" | "acp_whoami" | "acp_switch_cluster" | "acp_login" => "clusters",
        _ => "sessions",
    }
}

/// At most `limit` changes per rolling minute: a token bucket that refills `limit` tokens a
/// minute, evenly, and holds at most `limit`.
#[derive(Debug)]
pub struct Budget {
    limit: u32,
    tokens: f64,
    at: Instant,
}

impl Budget {
    pub fn new(limit: u32) -> Budget {
        Budget { limit, tokens: f64::from(limit), at: Instant::now() }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Spend one change, or say how long until one is free.
    fn take(&mut self) -> Result<(), ApiError> {
        let per_second = f64::from(self.limit) / 60.0;
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * per_second).min(f64::from(self.limit));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - self.tokens) / per_second);
        Err(ApiError::BudgetSpent { limit: self.limit, retry_after_secs: wait.as_secs() + 1 })
    }
}

/// A backend whose changing operations spend the budget first; reads and dry runs are free.
pub struct Budgeted<'a> {
    pub inner: &'a mut dyn Backend,
    pub budget: &'a mut Budget,
}

impl Backend for Budgeted<'_> {
    fn capabilities(&self) -> &'static Capabilities {
        self.inner.capabilities()
    }

    fn plan(&self, t: &Target, op: &Op) -> Option<Request> {
        self.inner.plan(t, op)
    }

    fn execute(&mut self, t: &Target, op: &Op) -> Result<Answer, ApiError> {
        if op.kind().changes() {
            self.budget.take()?;
        }
        self.inner.execute(t, op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::TOOLS;

    #[test]
    fn every_tool_is_in_a_known_toolset_and_each_set_has_tools() {
        for t in TOOLS {
            assert!(crate::config::TOOLSETS.contains(&toolset(t.name())), "{}", t.name());
        }
        for set in crate::config::TOOLSETS {
            assert!(TOOLS.iter().any(|t| toolset(t.name()) == *set), "{set} is empty");
        }
        let sessions: Vec<&str> = TOOLS.iter().map(|t| t.name()).filter(|n| toolset(n) == "sessions").collect();
        assert_eq!(
            sessions,
            [
                "acp_list_sessions",
                "acp_get_session",
                "acp_get_session_metrics",
                "acp_get_session_logs",
                "acp_wait_session",
                "acp_create_session",
                "acp_create_session_from_template",
                "acp_clone_session",
                "acp_update_session",
                "acp_delete_session",
                "acp_stop_session",
                "acp_restart_session"
            ],
            "a new tool lands in sessions unless toolset() names it"
        );
    }

    #[test]
    fn read_only_hides_every_tool_that_changes_the_platform_and_nothing_else() {
        let offer = Offer { read_only: Some("--read-only".into()), toolsets: None };
        for t in TOOLS {
            assert_eq!(offer.offers(*t), t.effect().read_only(), "{}", t.name());
        }
        let why = offer.hides(crate::tools::find("acp_delete_session").unwrap()).unwrap();
        assert!(why.starts_with("acp_delete_session is not offered: this server runs read-only (--read-only)"));
        let only = Offer { read_only: None, toolsets: Some(vec!["clusters".into()]) };
        let offered: Vec<&str> = TOOLS.iter().filter(|t| only.offers(**t)).map(|t| t.name()).collect();
        assert_eq!(offered, ["acp_list_clusters", "acp_whoami", "acp_switch_cluster", "acp_login"]);
    }

    #[test]
    fn the_budget_allows_its_limit_then_says_when_to_retry() {
        let mut b = Budget::new(2);
        assert!(b.take().is_ok() && b.take().is_ok());
        match b.take() {
            Err(ApiError::BudgetSpent { limit: 2, retry_after_secs }) => assert!((1..=31).contains(&retry_after_secs)),
            other => panic!("{other:?}"),
        }
    }
}
