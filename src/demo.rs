//! `mcp-acp --demo`: every tool against a built-in, in-memory platform seeded with a few
//! sessions. No configuration, no network, no token: for trying the server in an MCP client
//! before pointing it at a real cluster. It runs only when asked for, and every tool result
//! says that it is a demo.

use crate::config::{self, Config};
use crate::gateway::Session;
use crate::gateway::memory::MemoryApi;
use crate::tools::Context;

/// Put in front of every tool result.
pub const BANNER: &str = "[DEMO: an in-memory platform built into mcp-acp; nothing real was read or changed]\n";

const CONFIG: &str = "clusters:
  demo:
    server: https://demo.invalid
    token: demo-token-not-a-real-secret
    default_project: demo-project
    description: Built-in demo platform (mcp-acp --demo)
default_cluster: demo
";

fn session(id: &str, status: &str, created: &str, task: &str) -> (String, Session) {
    let session = Session {
        id: id.into(),
        status: status.into(),
        task: task.into(),
        model: Some("claude-sonnet-4-6".into()),
        created_at: Some(created.into()),
        completed_at: (status == "completed" || status == "failed").then(|| created.replace("T09", "T11")),
        result: (status == "completed").then(|| "Done: the change is on a branch, with tests.".into()),
        error: (status == "failed").then(|| "The repository could not be cloned.".into()),
        ..Session::default()
    };
    ("demo-project".into(), session)
}

fn config() -> Config {
    // The text above is valid; should it ever not be, the demo has no clusters and says so.
    config::parse(CONFIG, None).unwrap_or(Config {
        clusters: Vec::new(),
        default_cluster: None,
        env_token: None,
        guard: Default::default(),
    })
}

/// The tool context of a demo: its configuration and its platform.
pub fn context() -> Context {
    let mut api = MemoryApi::default();
    api.sessions = vec![
        session("fix-flaky-login-test", "running", "2026-11-30T09:12:00Z", "Fix the flaky login test in CI"),
        session("upgrade-go-deps", "completed", "2026-11-28T09:40:00Z", "Upgrade the Go dependencies"),
        session("triage-issue-42", "failed", "2026-11-20T09:05:00Z", "Triage issue 42 and propose a fix"),
        session("write-release-notes", "pending", "2026-12-01T09:30:00Z", "Draft the release notes for 2.1"),
    ];
    let mut ctx = Context::with_config(config(), Box::new(api));
    ctx.banner = Some(BANNER);
    ctx
}
