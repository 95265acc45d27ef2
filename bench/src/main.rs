//! mcp-acp-bench: measures the mcp-acp server against floors measured the same way, in
//! the same run, so the ratios hold on a noisy machine.
//!
//! - cold start: spawn → `initialize` answer, against a trivial program (spawn → one line;
//!   built for the host and statically for musl) and /bin/true (spawn → exit);
//! - `ping` and `tools/list` on a warm server;
//! - `tools/call acp_list_sessions` against a stub in this process: 20 sessions on the
//!   public-api gateway (the most it returns), 1 000 on the ambient API server (10 pages of
//!   100), each against raw keep-alive GETs of the same pages with the same HTTP client
//!   (ureq, one reused Agent, the server's own settings), and those GETs + parse;
//! - the server's VmHWM after each workload, VmRSS after 100 and after 10 000 calls, and
//!   its CPU time per call;
//! - every server given (and the upstream Python original) compared, interleaved ([`compare`]).
//!
//! scripts/bench.sh builds everything and runs this; see [`args::USAGE`] and bench/README.md.

mod args;
mod cold;
mod compare;
mod lists;
mod mcp;
mod procfs;
mod profile;
mod report;
mod server;
mod stats;
mod stub;

use lists::{Api, LIST_WORKLOADS};
use mcp::Launch;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

const TOKEN: &str = "bench-token-3f9a2c7e1d5b";
const CLUSTER: &str = "bench";
const MAX_BODY: u64 = 16 * 1024 * 1024; // the server's cap

fn main() {
    let opts = match args::parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    match run(&opts) {
        Ok(all_met) => std::process::exit(if all_met { 0 } else { 1 }),
        Err(e) => {
            eprintln!("mcp-acp-bench: {e}");
            std::process::exit(3);
        }
    }
}

/// Everything a server's measurement shares.
pub struct Env {
    launch: Launch,
    /// The same with a clusters.yaml whose default cluster is an ambient API server (the stub).
    launch_ambient: Launch,
    stub: stub::Stub,
    agent: ureq::Agent,
    /// `http://127.0.0.1:PORT`: the stub, for both APIs.
    base: String,
    floor: PathBuf,
    floor_static: Option<PathBuf>,
    scale: f64,
    dir: PathBuf,
    growth_calls: usize,
}

impl Env {
    fn launch_for(&self, api: Api) -> &Launch {
        match api {
            Api::Public => &self.launch,
            Api::Ambient => &self.launch_ambient,
        }
    }
}

fn run(opts: &args::Options) -> io::Result<bool> {
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("mcp-acp-bench-{}", std::process::id()));
    let result = (|| {
        let e = env(opts, &dir)?;
        header(opts, &e);
        if let Some((w, calls)) = opts.profile {
            return profile::profile(&opts.servers[0], &e, w, calls).map(|_| true);
        }
        let mut all_met = true;
        for server in &opts.servers {
            all_met &= server::bench_server(server, &e).map_err(|err| failed(&e, &server.display(), err))?;
        }
        all_met &= compare::run(&e, &peers(opts)?).map_err(|err| failed(&e, &"comparison", err))?;
        println!(
            "\nbench time: {:.1} s; the stub answered {} requests on {} connections",
            started.elapsed().as_secs_f64(),
            e.stub.requests.load(Ordering::Relaxed),
            e.stub.connections.load(Ordering::Relaxed)
        );
        Ok(all_met)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The stub (every list workload's project on both APIs) and the two clusters.yaml pointing at it.
fn env(opts: &args::Options, dir: &Path) -> io::Result<Env> {
    let lists: Vec<(String, usize)> = LIST_WORKLOADS.iter().map(|w| (w.project(), w.sessions)).collect();
    let list_refs: Vec<(&str, usize)> = lists.iter().map(|(p, n)| (p.as_str(), *n)).collect();
    let stub = stub::start(TOKEN, &list_refs, opts.framing)?;
    let port = stub.addr.port();
    let config = |name: &str, api: &str, what: &str| {
        write_config(
            &dir.join(name),
            &format!(
                "clusters:\n  {CLUSTER}:\n{api}    server: http://127.0.0.1:{port}\n    token: {TOKEN}\n    \
                 default_project: sessions-20\n    description: {what} of mcp-acp-bench\ndefault_cluster: {CLUSTER}\n\
                 max_mutations_per_minute: 10000\n"
            ),
        )
    };
    let public = config("acp", "", "stub gateway")?;
    let ambient = config("acp-ambient", "    api: ambient\n", "stub ambient API server")?;
    let launch = |config: &Path| {
        let mut env = vec![
            ("ACP_CLUSTER_CONFIG".to_string(), config.display().to_string()),
            ("HOME".to_string(), dir.display().to_string()),
            ("LANG".to_string(), "C".to_string()),
        ];
        if let Ok(path) = std::env::var("PATH") {
            env.push(("PATH".into(), path));
        }
        Launch { env, stderr_log: dir.join("stderr.log"), wrap: opts.wrap.clone() }
    };
    Ok(Env {
        launch: launch(&public),
        launch_ambient: launch(&ambient),
        base: format!("http://{}", stub.addr),
        stub,
        agent: floor_agent(),
        floor: opts.floor.clone(),
        floor_static: opts.floor_static.clone(),
        scale: if opts.quick { 0.2 } else { 1.0 },
        dir: dir.to_path_buf(),
        growth_calls: opts.growth_calls,
    })
}

fn header(opts: &args::Options, e: &Env) {
    println!("mcp-acp benchmark{}", if opts.quick { " (--quick: fewer iterations)" } else { "" });
    println!("machine: {}", procfs::machine());
    let framing = match opts.framing {
        stub::Framing::Go => "Go-style framing: Content-Length up to 2 KiB, chunked above",
        stub::Framing::Length => "Content-Length framing",
    };
    println!("stub gateway: {}/v1/sessions (HTTP/1.1 keep-alive; {framing})", e.base);
    println!(
        "MCP protocol revision asked for: {}",
        mcp::PROTOCOL.get().map(String::as_str).unwrap_or(mcp::DEFAULT_PROTOCOL)
    );
}

/// The peers of the comparison: the servers labelled by how they are linked, then upstream.
fn peers(opts: &args::Options) -> io::Result<Vec<compare::Peer>> {
    let mut peers = Vec::new();
    for server in &opts.servers {
        let path = std::fs::canonicalize(server)?;
        let kind = if procfs::is_static_elf(&path).unwrap_or(false) { "static" } else { "glibc" };
        let label = match peers.iter().filter(|p: &&compare::Peer| p.label.starts_with(kind)).count() {
            0 => kind.to_string(),
            n => format!("{kind}#{}", n + 1),
        };
        peers.push(compare::Peer { label, path, upstream: false });
    }
    if let Some(up) = &opts.upstream {
        peers.push(compare::Peer { label: "upstream".into(), path: up.clone(), upstream: true });
    }
    Ok(peers)
}

/// A failed part of the run, with the last lines the servers wrote to stderr.
fn failed(e: &Env, what: &dyn std::fmt::Display, err: io::Error) -> io::Error {
    let log = std::fs::read_to_string(e.dir.join("stderr.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(10).collect();
    io::Error::other(format!(
        "{what}: {err}\nlast server stderr lines:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

/// clusters.yaml in `dir` (made 0700, its parent too), mode 0600, as the server wants it.
fn write_config(dir: &Path, text: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    if let Some(parent) = dir.parent() {
        std::fs::set_permissions(parent, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    }
    let path = dir.join("clusters.yaml");
    let mut f = std::fs::File::options().create_new(true).write(true).mode(0o600).open(&path)?;
    f.write_all(text.as_bytes())?;
    Ok(path)
}

/// The server's own agent settings (src/gateway/http.rs), so the floor is the same client.
fn floor_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("mcp-acp-bench/0.1.0")
        .build()
        .new_agent()
}

fn scaled(e: &Env, n: usize) -> usize {
    ((n as f64 * e.scale).round() as usize).max(20)
}
