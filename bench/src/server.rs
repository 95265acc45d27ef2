//! One server's section: cold start, `ping` and `tools/list` warm, then each list workload
//! interleaved with its floor GETs (raw, and GET + parse), the server's memory and CPU after
//! each, and the RSS-growth check on the small list. [`report`](super::report) prints it.

use super::args::GROWTH_FIRST;
use super::lists::{Api, Floor, LIST_WORKLOADS, Workload, check_list, list_params, raw_get};
use super::mcp::{Mcp, check_ok};
use super::stats::{Summary, summarize};
use super::{Env, cold, procfs, report, scaled};
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A latency row: the server's samples, beside a floor's (named), held to a target or not.
pub struct Row {
    pub metric: String,
    pub s: Summary,
    pub floor: Option<(String, Summary)>,
    pub target: Option<f64>,
}

/// The server's resources after one workload.
pub struct Resources {
    pub workload: String,
    pub calls: usize,
    pub mem: procfs::Memory,
    pub cpu_per_call: Option<procfs::Cpu>,
    pub client_cpu_per_call: Option<Duration>,
    pub new_connections: Option<u64>,
    pub answer_bytes: usize,
    /// Counts for the small-workload RSS target.
    pub small: bool,
}

/// VmRSS after the first [`GROWTH_FIRST`] small-list calls, then at marks up to the last call.
pub struct Growth {
    pub first: procfs::Memory,
    pub last: procfs::Memory,
    pub trace: Vec<(usize, procfs::Memory)>,
}

/// Measure one server and print its section; false when a target is missed.
pub fn bench_server(server: &Path, e: &Env) -> io::Result<bool> {
    let server = std::fs::canonicalize(server)?;
    let size = std::fs::metadata(&server)?.len();
    let is_static = procfs::is_static_elf(&server).unwrap_or(false);
    println!(
        "\n=== server: {} ({} bytes, {:.2} MiB, {})",
        server.display(),
        size,
        size as f64 / 1048576.0,
        if is_static { "statically linked" } else { "dynamically linked" }
    );
    let (mut rows, cold_table) = cold::cold_start(&server, is_static, e)?;
    let mut res = Vec::new();
    warm(&server, e, &mut rows, &mut res)?;
    let mut growth = None;
    for w in LIST_WORKLOADS {
        growth = list_workload(&server, e, w, &mut rows, &mut res)?.or(growth);
    }
    Ok(report::print(&cold_table, &rows, &res, growth.as_ref(), e.growth_calls))
}

/// A warm server: idle after initialize, then `ping` and `tools/list`.
fn warm(server: &Path, e: &Env, rows: &mut Vec<Row>, res: &mut Vec<Resources>) -> io::Result<()> {
    let mut m = Mcp::spawn(&e.launch, server)?;
    m.handshake()?;
    res.push(Resources {
        workload: "idle, after initialize".into(),
        calls: 0,
        mem: procfs::memory(m.pid()),
        cpu_per_call: None,
        client_cpu_per_call: None,
        new_connections: None,
        answer_bytes: m.line.len(),
        small: true,
    });
    for (method, iters) in [("ping", scaled(e, 3000)), ("tools/list", scaled(e, 5000))] {
        for _ in 0..50 {
            check_ok(m.call(method, "{}")?, method)?;
        }
        let mut samples = Vec::with_capacity(iters);
        let cpu0 = procfs::cpu(m.pid());
        for _ in 0..iters {
            let t = Instant::now();
            m.call(method, "{}")?;
            samples.push(t.elapsed());
        }
        let cpu = procfs::cpu(m.pid()).since(cpu0);
        check_ok(&m.line, method)?;
        rows.push(Row { metric: format!("{method} (warm)"), s: summarize(&samples), floor: None, target: None });
        res.push(Resources {
            workload: method.into(),
            calls: iters + 50,
            mem: procfs::memory(m.pid()),
            cpu_per_call: Some(per_call(cpu, iters)),
            client_cpu_per_call: None,
            new_connections: None,
            answer_bytes: m.line.len(),
            small: true,
        });
    }
    m.close()
}

/// The samples of one workload's timed loop.
struct Timings {
    ours: Vec<Duration>,
    /// The raw GET(s), with the timeout, as the server sends them.
    floor: Vec<Duration>,
    /// GET(s) + parse.
    parsed: Vec<Duration>,
    /// The raw GET(s) without the timeout (small workloads only).
    untimed: Vec<Duration>,
    /// This thread's CPU over the raw GETs.
    client_cpu: Duration,
    /// The bodies' bytes of one raw read of the list.
    body_len: usize,
}

/// One list workload on a fresh server: rows, resources, and on a small one the RSS growth.
fn list_workload(
    server: &Path,
    e: &Env,
    w: &Workload,
    rows: &mut Vec<Row>,
    res: &mut Vec<Resources>,
) -> io::Result<Option<Growth>> {
    let (n, project) = (w.sessions, w.project());
    let params = list_params(&project);
    let mut m = Mcp::spawn(e.launch_for(w.api), server)?;
    m.handshake()?;
    for _ in 0..5 {
        m.call("tools/call", &params)?;
        check_list(&m.line, n, &project)?;
        raw_get(e, w.api, &project, n, Floor::GetParse)?;
        raw_get(e, w.api, &project, n, Floor::GetNoTimeout)?;
    }
    let mut calls = 5;
    let mut first = None;
    if w.small {
        calls = repeat(&mut m, &params, calls, GROWTH_FIRST)?;
        check_list(&m.line, n, &project)?;
        first = Some(procfs::memory(m.pid()));
    }
    let pairs = scaled(e, w.pairs);
    let conns0 = e.stub.connections.load(Ordering::Relaxed);
    let cpu0 = procfs::cpu(m.pid());
    let t = timed(e, w, &mut m, &params, pairs)?;
    let cpu = procfs::cpu(m.pid()).since(cpu0);
    let new_connections = e.stub.connections.load(Ordering::Relaxed) - conns0;
    check_list(&m.line, n, &project)?;
    calls += pairs;
    let answer_bytes = m.line.len();
    rows.extend(latency_rows(w, &t));
    let growth = match first {
        Some(first) => Some(growth(e, w, &mut m, &params, &mut calls, first)?),
        None => None,
    };
    res.push(Resources {
        workload: w.label(),
        calls,
        mem: procfs::memory(m.pid()),
        cpu_per_call: Some(per_call(cpu, pairs)),
        client_cpu_per_call: Some(t.client_cpu / pairs as u32),
        new_connections: Some(new_connections),
        answer_bytes,
        small: w.small,
    });
    m.close()?;
    Ok(growth)
}

/// `pairs` rounds of the server's call and the floor GETs, the order rotated each round so
/// none always runs right after another warmed the caches.
fn timed(e: &Env, w: &Workload, m: &mut Mcp, params: &str, pairs: usize) -> io::Result<Timings> {
    let (n, project) = (w.sessions, w.project());
    let mut t = Timings {
        ours: Vec::with_capacity(pairs),
        floor: Vec::with_capacity(pairs),
        parsed: Vec::with_capacity(pairs),
        untimed: Vec::new(),
        client_cpu: Duration::ZERO,
        body_len: 0,
    };
    // The untimed GET only beside the small list, where its difference shows.
    let subjects = if w.small { 4 } else { 3 };
    for i in 0..pairs {
        for turn in (0..subjects).map(|k| (k + i) % subjects) {
            let c0 = (turn == 0).then(procfs::cpu_this_thread);
            let start = Instant::now();
            match turn {
                0 => {
                    t.body_len = raw_get(e, w.api, &project, n, Floor::Get)?;
                    t.floor.push(start.elapsed());
                    t.client_cpu += c0.map(|c0| procfs::cpu_this_thread().since(c0).sched).unwrap_or_default();
                }
                1 => {
                    raw_get(e, w.api, &project, n, Floor::GetParse)?;
                    t.parsed.push(start.elapsed());
                }
                2 => {
                    m.call("tools/call", params)?;
                    t.ours.push(start.elapsed());
                }
                _ => {
                    raw_get(e, w.api, &project, n, Floor::GetNoTimeout)?;
                    t.untimed.push(start.elapsed());
                }
            }
        }
    }
    Ok(t)
}

fn latency_rows(w: &Workload, t: &Timings) -> Vec<Row> {
    let what = w.floor_label();
    let body = match w.api {
        Api::Public => format!("{} KiB body", (t.body_len + 512) / 1024),
        Api::Ambient => format!("{} KiB of pages", (t.body_len + 512) / 1024),
    };
    let mut rows = vec![
        Row {
            metric: format!("{} sessions ({body})", w.label()),
            s: summarize(&t.ours),
            floor: Some((format!("raw GET {what}"), summarize(&t.floor))),
            target: w.raw_target,
        },
        Row {
            metric: "  the same, against GET + parse".into(),
            s: summarize(&t.ours),
            floor: Some((format!("GET+parse {what}"), summarize(&t.parsed))),
            target: w.parsed_target,
        },
    ];
    if !t.untimed.is_empty() {
        rows.push(Row {
            metric: "  raw GET with timeout, against without".into(),
            s: summarize(&t.floor),
            floor: Some((format!("GET {what}, no timeout"), summarize(&t.untimed))),
            target: None,
        });
    }
    rows
}

/// Calls until `calls` reaches `until`; the calls made so far.
fn repeat(m: &mut Mcp, params: &str, mut calls: usize, until: usize) -> io::Result<usize> {
    while calls < until {
        m.call("tools/call", params)?;
        calls += 1;
    }
    Ok(calls)
}

/// VmRSS at 1 000, 2 000, 5 000, 10 000, … calls up to --growth-calls: a leak climbs,
/// warm-up levels off.
fn growth(
    e: &Env,
    w: &Workload,
    m: &mut Mcp,
    params: &str,
    calls: &mut usize,
    first: procfs::Memory,
) -> io::Result<Growth> {
    let mut trace = vec![(GROWTH_FIRST, first)];
    let marks: Vec<usize> = (3..9)
        .flat_map(|p| [1, 2, 5].map(|f| f * 10usize.pow(p)))
        .filter(|mark| *mark > *calls && *mark < e.growth_calls)
        .chain([e.growth_calls])
        .collect();
    for mark in marks {
        *calls = repeat(m, params, *calls, mark)?;
        trace.push((*calls, procfs::memory(m.pid())));
    }
    check_list(&m.line, w.sessions, &w.project())?;
    Ok(Growth { first, last: procfs::memory(m.pid()), trace })
}

pub fn per_call(cpu: procfs::Cpu, calls: usize) -> procfs::Cpu {
    procfs::Cpu { stat: cpu.stat / calls as u32, sched: cpu.sched / calls as u32 }
}
