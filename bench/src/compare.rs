//! Peers compared in one run, interleaved: every server given (the glibc and the static
//! build, and the upstream Python original when it is installed) measured in the same
//! rounds, for every figure, beside the GET + parse floor; ratios of medians.
//!
//! Figures: cold start, `tools/list`, and on both APIs (public-api gateway and ambient API
//! server) list 20, get and create; at scale only the ambient list of 1 000 (ten pages of
//! 100, all the server reads), since the gateway returns at most 20 sessions and the server
//! refuses a page that holds more. The upstream original speaks only the public-api, so at
//! scale it has no peer. Also: the server's CPU per call, the answer's bytes, the
//! model-visible bytes of `tools/list`, and the TCP connections a fresh server opens over
//! many calls (keep-alive reuse).

use super::lists::{Api, Floor, raw_get};
use super::mcp::{Mcp, check_ok, preview};
use super::stats::{Table, fmt_dur, ratio, summarize};
use super::{Env, procfs, scaled, stub};
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub struct Peer {
    pub label: String,
    pub path: PathBuf,
    /// The Python original: public-api gateway only, its own texts.
    pub upstream: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Cold,
    ToolsList,
    List(usize),
    Get,
    Create,
}

struct Figure {
    name: String,
    api: Api,
    kind: Kind,
    /// Rounds (samples of each Rust server).
    rounds: usize,
    /// Samples of the upstream peer, at most (it is slow; spread over the rounds).
    upstream_rounds: usize,
}

/// What one figure gave for one peer.
#[derive(Default, Clone)]
struct Result {
    median: Option<Duration>,
    cpu: Option<Duration>,
    answer: Option<usize>,
}

/// The figure at scale, held to GET + parse.
const AT_SCALE: &str = "ambient: list 1000 (10 pages)";

const GET_PUBLIC: &str = "session-3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";

fn get_ambient_id() -> String {
    stub::ksuid(42)
}

fn params(kind: Kind, api: Api) -> String {
    let project = stub::BY_ID_PROJECT;
    match kind {
        Kind::List(n) => format!(r#"{{"name":"acp_list_sessions","arguments":{{"project":"sessions-{n}"}}}}"#),
        Kind::Get => {
            let id = if api == Api::Public { GET_PUBLIC.to_string() } else { get_ambient_id() };
            format!(r#"{{"name":"acp_get_session","arguments":{{"project":"{project}","session":"{id}"}}}}"#)
        }
        Kind::Create => format!(
            r#"{{"name":"acp_create_session","arguments":{{"project":"{project}","initial_prompt":"{}"}}}}"#,
            stub::PROMPT
        ),
        Kind::Cold | Kind::ToolsList => "{}".into(),
    }
}

/// A tools/call answer that is a success; for a list, one that found `n` sessions.
fn check_call(line: &[u8], kind: Kind) -> io::Result<()> {
    let v = check_ok(line, "tools/call")?;
    let bad = |why: &str| io::Error::other(format!("{why}: {}", preview(line)));
    if v["result"]["isError"] == serde_json::json!(true) {
        return Err(bad("a tool error"));
    }
    let text = v["result"]["content"][0]["text"].as_str().unwrap_or_default();
    if let Kind::List(n) = kind {
        // Both ours and the original's begin so.
        if !text.starts_with(&format!("Found {n} session(s)")) {
            return Err(bad(&format!("not a list of {n}")));
        }
    }
    Ok(())
}

fn figures(e: &Env) -> Vec<Figure> {
    let f = |name: &str, api, kind, rounds: usize, up: usize| Figure {
        name: name.into(),
        api,
        kind,
        rounds: scaled(e, rounds),
        upstream_rounds: scaled(e, up).min(scaled(e, rounds)),
    };
    vec![
        f("cold start → initialize", Api::Public, Kind::Cold, 60, 10),
        f("tools/list (warm)", Api::Public, Kind::ToolsList, 1000, 100),
        f("list 20", Api::Public, Kind::List(20), 1000, 100),
        f("get", Api::Public, Kind::Get, 600, 100),
        f("create", Api::Public, Kind::Create, 300, 60),
        f("list 20", Api::Ambient, Kind::List(20), 600, 0),
        f("list 1000 (10 pages)", Api::Ambient, Kind::List(1000), 100, 0),
        f("get", Api::Ambient, Kind::Get, 600, 0),
        f("create", Api::Ambient, Kind::Create, 300, 0),
    ]
}

fn serves(peer: &Peer, api: Api) -> bool {
    !peer.upstream || api == Api::Public
}

/// One figure, every peer interleaved with the floor.
fn measure(e: &Env, peers: &[Peer], fig: &Figure) -> io::Result<(Vec<Result>, Option<Duration>)> {
    let launch = e.launch_for(fig.api);
    let active: Vec<usize> = (0..peers.len()).filter(|&i| serves(&peers[i], fig.api)).collect();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); peers.len()];
    let mut floor_samples = Vec::new();
    let floor_list = match fig.kind {
        Kind::List(n) => Some((format!("sessions-{n}"), n)),
        _ => None,
    };
    let mut results = vec![Result::default(); peers.len()];
    let up_every = |p: &Peer| if p.upstream { fig.rounds.div_ceil(fig.upstream_rounds.max(1)) } else { 1 };
    if let Kind::Cold = fig.kind {
        for round in 0..fig.rounds {
            for k in 0..active.len() {
                let i = active[(k + round) % active.len()];
                if round % up_every(&peers[i]) != 0 {
                    continue;
                }
                let t = Instant::now();
                let mut m = Mcp::spawn(launch, &peers[i].path)?;
                m.call("initialize", &super::mcp::initialize_params())?;
                samples[i].push(t.elapsed());
                check_ok(&m.line, "initialize")?;
                results[i].answer = Some(m.line.len());
                m.close()?;
            }
        }
    } else {
        let (method, p) = match fig.kind {
            Kind::ToolsList => ("tools/list", "{}".to_string()),
            kind => ("tools/call", params(kind, fig.api)),
        };
        let mut servers: Vec<(usize, Mcp)> = Vec::new();
        for &i in &active {
            let mut m = Mcp::spawn(launch, &peers[i].path)?;
            m.handshake()?;
            for _ in 0..3 {
                m.call(method, &p)?;
                match fig.kind {
                    Kind::ToolsList => drop(check_ok(&m.line, "tools/list")?),
                    kind => check_call(&m.line, kind)
                        .map_err(|err| io::Error::other(format!("{}: {err}", peers[i].label)))?,
                }
            }
            servers.push((i, m));
        }
        let cpu0: Vec<procfs::Cpu> = servers.iter().map(|(_, m)| procfs::cpu(m.pid())).collect();
        let subjects = servers.len() + usize::from(floor_list.is_some());
        for round in 0..fig.rounds {
            for k in 0..subjects {
                let s = (k + round) % subjects;
                if let (true, Some((project, n))) = (s == servers.len(), &floor_list) {
                    let t = Instant::now();
                    raw_get(e, fig.api, project, *n, Floor::GetParseNoTimeout)?;
                    floor_samples.push(t.elapsed());
                    continue;
                }
                let (i, m) = &mut servers[s];
                if round % up_every(&peers[*i]) != 0 {
                    continue;
                }
                let t = Instant::now();
                m.call(method, &p)?;
                samples[*i].push(t.elapsed());
            }
        }
        for (s, (i, m)) in servers.into_iter().enumerate() {
            let cpu = procfs::cpu(m.pid()).since(cpu0[s]);
            match fig.kind {
                Kind::ToolsList => drop(check_ok(&m.line, "tools/list")?),
                kind => check_call(&m.line, kind)?,
            }
            results[i].cpu = Some(cpu.sched / samples[i].len().max(1) as u32);
            results[i].answer = Some(m.line.len());
            m.close()?;
        }
    }
    for (i, s) in samples.iter().enumerate() {
        if !s.is_empty() {
            results[i].median = Some(summarize(s).median);
        }
    }
    let floor = (!floor_samples.is_empty()).then(|| summarize(&floor_samples).median);
    Ok((results, floor))
}

/// The bytes of `tools/list` a model reads: per tool, the compact JSON of {name, description,
/// inputSchema}, summed; and the number of tools.
fn model_visible(e: &Env, peer: &Peer) -> io::Result<(usize, usize)> {
    let mut m = Mcp::spawn(&e.launch, &peer.path)?;
    m.handshake()?;
    m.call("tools/list", "{}")?;
    let v = check_ok(&m.line, "tools/list")?;
    m.close()?;
    let tools = v["result"]["tools"].as_array().cloned().unwrap_or_default();
    let bytes = tools
        .iter()
        .map(|t| {
            let mut shown = serde_json::Map::new();
            for key in ["name", "description", "inputSchema"] {
                if let Some(x) = t.get(key) {
                    shown.insert(key.into(), x.clone());
                }
            }
            serde_json::Value::Object(shown).to_string().len()
        })
        .sum();
    Ok((tools.len(), bytes))
}

/// TCP connections the stub accepted while a fresh server made `calls` calls.
fn connections(e: &Env, peer: &Peer, api: Api, kind: Kind, calls: usize) -> io::Result<u64> {
    let before = e.stub.connections.load(Ordering::Relaxed);
    let mut m = Mcp::spawn(e.launch_for(api), &peer.path)?;
    m.handshake()?;
    let p = params(kind, api);
    for _ in 0..calls {
        m.call("tools/call", &p)?;
    }
    check_call(&m.line, kind)?;
    m.close()?;
    Ok(e.stub.connections.load(Ordering::Relaxed) - before)
}

/// Run the comparison and print it; false when a goal is missed.
pub fn run(e: &Env, peers: &[Peer]) -> io::Result<bool> {
    println!("\n=== peers, interleaved in one run:");
    for p in peers {
        let size = std::fs::metadata(&p.path).map(|m| m.len()).unwrap_or(0);
        println!("  {:<9} {} ({} bytes)", p.label, p.path.display(), size);
    }
    let figs = figures(e);
    let mut rows: Vec<(String, Vec<Result>, Option<Duration>)> = Vec::new();
    for fig in &figs {
        let (results, floor) = measure(e, peers, fig)
            .map_err(|err| io::Error::other(format!("{} {}: {err}", fig.api.name(), fig.name)))?;
        let name = match fig.kind {
            Kind::Cold | Kind::ToolsList => fig.name.clone(),
            _ => format!("{}: {}", fig.api.name(), fig.name),
        };
        rows.push((name, results, floor));
    }
    let label = |l: &str| peers.iter().position(|p| p.label == l);
    let (glibc, stat, up) = (label("glibc"), label("static"), label("upstream"));
    let mut ratios: Vec<(String, usize, usize)> = Vec::new();
    if let (Some(s), Some(g)) = (stat, glibc) {
        ratios.push(("static/glibc".into(), s, g));
    }
    if let Some(u) = up {
        for (i, p) in peers.iter().enumerate().filter(|(_, p)| !p.upstream) {
            ratios.push((format!("{}/upstream", p.label), i, u));
        }
    }
    let rust: Vec<usize> = (0..peers.len()).filter(|&i| !peers[i].upstream).collect();

    let mut header: Vec<String> = vec!["figure (median)".into(), "GET+parse".into()];
    header.extend(peers.iter().map(|p| p.label.clone()));
    header.extend(ratios.iter().map(|r| r.0.clone()));
    header.extend(rust.iter().map(|&i| format!("{}/floor", peers[i].label)));
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Table::new(&header_refs);
    let mut cpu = Table::new(&header_refs);
    let mut bytes = Table::new(
        &["figure: answer bytes"].into_iter().chain(peers.iter().map(|p| p.label.as_str())).collect::<Vec<_>>(),
    );
    let fmt = |d: Option<Duration>| d.map(fmt_dur).unwrap_or("—".into());
    let rat = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", ratio(a, b)),
        _ => "—".into(),
    };
    let mut goals: Vec<(String, bool)> = Vec::new();
    for (name, res, floor) in &rows {
        let mut cells = vec![name.clone(), fmt(*floor)];
        cells.extend(res.iter().map(|r| fmt(r.median)));
        cells.extend(ratios.iter().map(|(_, a, b)| rat(res[*a].median, res[*b].median)));
        cells.extend(rust.iter().map(|&i| rat(res[i].median, *floor)));
        t.row(cells);
        if res.iter().any(|r| r.cpu.is_some()) {
            let mut cells = vec![format!("{name}: CPU/call"), "—".into()];
            cells.extend(res.iter().map(|r| fmt(r.cpu)));
            cells.extend(ratios.iter().map(|(_, a, b)| rat(res[*a].cpu, res[*b].cpu)));
            cells.extend(rust.iter().map(|_| "—".to_string()));
            cpu.row(cells);
        }
        let mut cells = vec![name.clone()];
        cells.extend(res.iter().map(|r| r.answer.map(|b| format!("{b} B")).unwrap_or("—".into())));
        bytes.row(cells);
        // Goal 1: static within 1.25× of glibc, time and CPU.
        if let (Some(s), Some(g)) = (stat, glibc) {
            for (what, a, b) in [("", res[s].median, res[g].median), (" CPU/call", res[s].cpu, res[g].cpu)] {
                if let (Some(a), Some(b)) = (a, b) {
                    let r = ratio(a, b);
                    goals.push((format!("static/glibc {name}{what}: {r:.2}× (≤ 1.25×)"), r <= 1.25));
                }
            }
        }
        if name == AT_SCALE {
            for &i in &rust {
                if let (Some(a), Some(f)) = (res[i].median, *floor) {
                    let r = ratio(a, f);
                    goals.push((format!("{} {name} against GET + parse: {r:.2}× (≤ 1.5×)", peers[i].label), r <= 1.5));
                }
            }
        }
    }
    println!(
        "\nlatency, request → answer (medians; floor = raw keep-alive GETs of the same list, every page the server \
         reads, parsed into sessions with serde_json, no resolver thread):"
    );
    print!("{}", t.render());
    println!(
        "(at scale only {AT_SCALE}: the public-api gateway returns at most 20 sessions, and the upstream original \
         speaks only the public-api, so at scale it has no peer)"
    );
    println!("\nserver CPU per call (schedstat of the server's main thread over the timed calls):");
    print!("{}", cpu.render());
    println!("\nanswer bytes (the JSON-RPC line of the last call):");
    print!("{}", bytes.render());

    println!("\ntools/list, model-visible (per tool the compact JSON of {{name, description, inputSchema}}, summed):");
    let mut t = Table::new(&["peer", "tools", "bytes"]);
    for p in peers {
        let (n, b) = model_visible(e, p)?;
        t.row(vec![p.label.clone(), n.to_string(), format!("{b} B")]);
    }
    print!("{}", t.render());

    let calls = scaled(e, 1000);
    println!("\nkeep-alive reuse: TCP connections a fresh server opened (stub's count):");
    let mut t = Table::new(&["peer", "API", "list 20", "get", "create"]);
    let creates = scaled(e, 20).min(calls);
    for p in peers {
        for api in [Api::Public, Api::Ambient].into_iter().filter(|a| serves(p, *a)) {
            let n = |c: u64, calls: usize| format!("{c} for {calls} calls");
            let list = connections(e, p, api, Kind::List(20), calls)?;
            let get = connections(e, p, api, Kind::Get, calls)?;
            let create = connections(e, p, api, Kind::Create, creates)?;
            if !p.upstream {
                goals.push((
                    format!("{} {}: {list} connection(s) for {calls} list calls (1)", p.label, api.name()),
                    list <= 1,
                ));
            }
            t.row(vec![p.label.clone(), api.name().into(), n(list, calls), n(get, calls), n(create, creates)]);
        }
    }
    print!("{}", t.render());
    println!(
        "(a create goes out on a new connection by design: one the server dropped while idle could fail it after it arrived, and it must not be sent twice)"
    );

    let mut by_verdict: BTreeMap<bool, usize> = BTreeMap::new();
    println!("\ngoals (issue 14):");
    for (g, met) in &goals {
        *by_verdict.entry(*met).or_default() += 1;
        println!("  {g} — {}", if *met { "met" } else { "MISSED" });
    }
    Ok(by_verdict.get(&false).copied().unwrap_or(0) == 0)
}
