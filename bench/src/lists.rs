//! The list workloads and what they are held to: which API serves the list and how many
//! sessions it holds, the floor GETs that read the same list with the server's HTTP client
//! (one GET on the public-api gateway; every page the server reads on the ambient API server),
//! and the check of a list answer (a list the server refuses fails the bench).
//!
//! Lists at scale are on the ambient API server, where they are real: it pages of 100 and the
//! server reads at most 10 pages. The public-api gateway returns at most 20 sessions
//! (docs/public-api.md §7), and the server refuses a page that holds more than it asked for.

use super::mcp::{check_ok, preview};
use super::{CLUSTER, Env, MAX_BODY, TOKEN};
use std::io;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Api {
    /// The public-api gateway, `/v1/sessions` (the default clusters.yaml).
    Public,
    /// The ambient API server, `/api/ambient/v1` (`api: ambient`).
    Ambient,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::Public => "public-api",
            Api::Ambient => "ambient",
        }
    }
}

/// A list workload of one server's section.
pub struct Workload {
    pub api: Api,
    pub sessions: usize,
    /// Interleaved floor/server pairs timed at full scale.
    pub pairs: usize,
    /// A small workload: counts for the small-workload RSS target, carries the RSS-growth check,
    /// and is timed beside the GET without the timeout too (where that difference shows).
    pub small: bool,
    /// The target against the raw GET(s), ratio of medians.
    pub raw_target: Option<f64>,
    /// The target against GET + parse, ratio of medians.
    pub parsed_target: Option<f64>,
}

pub const LIST_WORKLOADS: &[Workload] = &[
    Workload { api: Api::Public, sessions: 20, pairs: 3000, small: true, raw_target: Some(1.2), parsed_target: None },
    Workload {
        api: Api::Ambient,
        sessions: 1000,
        pairs: 400,
        small: false,
        raw_target: None,
        parsed_target: Some(1.5),
    },
];

/// Sessions asked for per ambient page, and pages read at most (src/gateway/ambient.rs).
const AMBIENT_PAGE: usize = 100;
const AMBIENT_MAX_PAGES: usize = 10;

impl Workload {
    pub fn project(&self) -> String {
        format!("sessions-{}", self.sessions)
    }

    /// "list 20", "ambient list 1000": the workload's name in the tables.
    pub fn label(&self) -> String {
        match self.api {
            Api::Public => format!("list {}", self.sessions),
            Api::Ambient => format!("ambient list {}", self.sessions),
        }
    }

    /// What the floor reads, for the floor's column: "20", "1000 (10 pages)".
    pub fn floor_label(&self) -> String {
        match pages(self.api, self.sessions) {
            1 => self.sessions.to_string(),
            p => format!("{} ({p} pages)", self.sessions),
        }
    }
}

/// The GETs the server makes for a list of `n` sessions.
pub fn pages(api: Api, n: usize) -> usize {
    match api {
        Api::Public => 1,
        // It stops at a short page or once the pages cover the total.
        Api::Ambient => n.div_ceil(AMBIENT_PAGE).clamp(1, AMBIENT_MAX_PAGES),
    }
}

/// A session as the server reads it from the gateway (src/gateway/v1.rs), for GET + parse.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Session {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    model: Option<String>,
    #[serde(default, rename = "createdAt")]
    created_at: Option<String>,
    #[serde(default, rename = "completedAt")]
    completed_at: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct List {
    items: Vec<Session>,
}

/// A session as the server reads it from the ambient API server (src/gateway/ambient.rs).
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct AmbientSession {
    id: String,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    prompt: String,
    #[serde(default)]
    llm_model: Option<String>,
    #[serde(default)]
    labels: Option<String>,
    #[serde(default)]
    repos: Option<String>,
    #[serde(default)]
    repo_url: Option<String>,
    #[serde(default)]
    parent_session_id: Option<String>,
    #[serde(default)]
    llm_temperature: Option<f64>,
    #[serde(default)]
    llm_max_tokens: Option<i64>,
    #[serde(default)]
    timeout: Option<i64>,
    #[serde(default)]
    sdk_restart_count: Option<i64>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    completion_time: Option<String>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct AmbientPage {
    #[serde(default)]
    total: usize,
    items: Vec<AmbientSession>,
}

/// How a floor GET is made.
#[derive(Clone, Copy, PartialEq)]
pub enum Floor {
    /// As the server sends it: same agent settings, a 30 s global timeout on the request.
    Get,
    /// The same, then the body parsed into sessions as the server parses it: the least any
    /// server that reads the list must do.
    GetParse,
    /// Without the timeout. ureq resolves the host on every request, and with a timeout it
    /// does so in a new thread; this shows what that thread costs.
    GetNoTimeout,
    /// GET + parse without the timeout's resolver thread, which the server does not pay
    /// either (it keeps the last DNS answer): the floor of the peer comparison.
    GetParseNoTimeout,
}

/// The raw GET(s) of a list of `n` sessions of `project` on `api`, one per page the server
/// reads; the bodies' length.
pub fn raw_get(e: &Env, api: Api, project: &str, n: usize, floor: Floor) -> io::Result<usize> {
    let mut bytes = 0;
    for page in 1..=pages(api, n) {
        let url = match api {
            Api::Public => format!("{}/v1/sessions", e.base),
            Api::Ambient => format!(
                "{}/api/ambient/v1/sessions?project_id={project}&orderBy=created_at%20desc&size={AMBIENT_PAGE}&page={page}",
                e.base
            ),
        };
        let body = get(e, &url, project, floor)?;
        if matches!(floor, Floor::GetParse | Floor::GetParseNoTimeout) {
            match api {
                Api::Public => drop(std::hint::black_box(parse::<List>(&body)?.items)),
                Api::Ambient => drop(std::hint::black_box(parse::<AmbientPage>(&body)?.items)),
            }
        }
        bytes += body.len();
    }
    Ok(bytes)
}

fn parse<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> io::Result<T> {
    serde_json::from_slice(body).map_err(io::Error::other)
}

/// One GET with the server's headers; the body.
fn get(e: &Env, url: &str, project: &str, floor: Floor) -> io::Result<Vec<u8>> {
    let request = ureq::http::Request::builder()
        .method("GET")
        .uri(url)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("X-Ambient-Project", project)
        .header("Accept", "application/json")
        .body(())
        .map_err(io::Error::other)?;
    let timeout = matches!(floor, Floor::Get | Floor::GetParse).then_some(Duration::from_secs(30));
    let request = e.agent.configure_request(request).timeout_global(timeout).build();
    let mut response = e.agent.run(request).map_err(io::Error::other)?;
    if response.status() != 200 {
        return Err(io::Error::other(format!("stub answered {}", response.status())));
    }
    response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(io::Error::other)
}

pub fn list_params(project: &str) -> String {
    format!(r#"{{"name":"acp_list_sessions","arguments":{{"project":"{project}"}}}}"#)
}

/// Check a list answer: a successful tool result that found `n` sessions. A list the server
/// refused (a tool error) is an error, which fails the bench.
pub fn check_list(line: &[u8], n: usize, project: &str) -> io::Result<()> {
    let v = check_ok(line, "acp_list_sessions")?;
    let text = v["result"]["content"][0]["text"].as_str().unwrap_or_default();
    let want = format!("Found {n} session(s) in project '{project}' (cluster '{CLUSTER}')");
    if v["result"]["isError"] != serde_json::json!(false) || !text.starts_with(&want) {
        return Err(io::Error::other(format!("unexpected list answer: {}", preview(line))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_as_the_server_reads_them() {
        assert_eq!(pages(Api::Public, 20), 1);
        assert_eq!(pages(Api::Ambient, 20), 1);
        assert_eq!(pages(Api::Ambient, 100), 1);
        assert_eq!(pages(Api::Ambient, 1000), 10);
        assert_eq!(pages(Api::Ambient, 5000), 10);
    }

    #[test]
    fn a_refused_list_fails_the_check() {
        let refused = br#"{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"Failed to list sessions in project 'sessions-1000': a page held more than the 20 sessions asked for"}],"isError":true}}"#;
        let err = check_list(refused, 1000, "sessions-1000").unwrap_err();
        assert!(err.to_string().starts_with("unexpected list answer: "), "{err}");
        let found = format!(
            r#"{{"jsonrpc":"2.0","id":2,"result":{{"content":[{{"type":"text","text":"Found 20 session(s) in project 'sessions-20' (cluster '{CLUSTER}')\n"}}],"isError":false}}}}"#
        );
        check_list(found.as_bytes(), 20, "sessions-20").unwrap();
        assert!(check_list(found.as_bytes(), 1000, "sessions-20").is_err());
    }

    #[test]
    fn workloads_are_real_pages() {
        // The gateway answers at most 20; the ambient list at most 10 pages of 100.
        for w in LIST_WORKLOADS {
            match w.api {
                Api::Public => assert!(w.sessions <= 20),
                Api::Ambient => assert!(w.sessions <= AMBIENT_PAGE * AMBIENT_MAX_PAGES),
            }
        }
    }
}
