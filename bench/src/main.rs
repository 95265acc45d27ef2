//! mcp-acp-bench: measures the mcp-acp server against floors measured the same way, in
//! the same run, so the ratios hold on a noisy machine.
//!
//! - cold start: spawn → `initialize` answer, against a trivial program (spawn → one line;
//!   built for the host and statically for musl) and /bin/true (spawn → exit);
//! - `ping` and `tools/list` on a warm server;
//! - `tools/call acp_list_sessions` against a stub gateway in this process, with 20, 1 000
//!   and 10 000 sessions, against a raw keep-alive GET of the same answer with the same
//!   HTTP client (ureq, one reused Agent, the server's own settings);
//! - the server's VmHWM after each workload, VmRSS after 100 and after 10 000 calls, and
//!   its CPU time per call.
//!
//! scripts/bench.sh builds everything and runs this; see [`USAGE`] and bench/README.md.

mod compare;
mod mcp;
mod procfs;
mod stats;
mod stub;

use mcp::{Launch, Mcp, check_ok, preview};
use stats::{Summary, Table, fmt_dur, ratio, summarize};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: mcp-acp-bench --server PATH [--server PATH…] --floor PATH [--floor-static PATH] [options]

  --server PATH         an mcp-acp binary to measure (repeatable: measured one after the other)
  --floor PATH          a program that prints one line and exits (bench/floor), built for the host
  --floor-static PATH   the same built statically (musl): the floor of static servers
  --upstream PATH       the upstream Python original's mcp-acp (0.2.2), a peer in the comparison
  --quick               about 5× fewer iterations (a smoke test; ratios are noisier)
  --protocol REV        the MCP revision asked for in initialize (default 2025-11-25)
  --framing go|length   the stub's framing: like Go's net/http (default) or Content-Length only
  --growth-calls N      list calls for the RSS-growth check (default 10000)
  --profile N:CALLS     only CALLS list calls of N sessions (20, 1000 or 10000), for a profiler
  --wrap \"CMD ARGS\"     start the server under CMD (perf record -g --, valgrind --tool=callgrind)

Exit status: 0 all targets met, 1 a target missed, 2 bad usage, 3 the bench failed.
";

const TOKEN: &str = "bench-token-3f9a2c7e1d5b";
const CLUSTER: &str = "bench";
/// (sessions in the list, interleaved floor/server pairs timed at full scale)
const LIST_WORKLOADS: &[(usize, usize)] = &[(20, 3000), (1000, 400), (10_000, 100)];
/// Total list calls on the 20-session server, for the RSS-growth check (--growth-calls).
const GROWTH_CALLS: usize = 10_000;
const GROWTH_FIRST: usize = 100;
/// "Flat": VmRSS may grow by at most this much between call 100 and call 10 000.
const GROWTH_LIMIT_KIB: u64 = 128;
const RSS_SMALL_LIMIT_KIB: u64 = 5 * 1024;
const MAX_BODY: u64 = 16 * 1024 * 1024; // the server's cap

struct Options {
    servers: Vec<PathBuf>,
    floor: PathBuf,
    floor_static: Option<PathBuf>,
    upstream: Option<PathBuf>,
    quick: bool,
    framing: stub::Framing,
    growth_calls: usize,
    /// `--profile N:CALLS`: only run CALLS list calls of N sessions (for a profiler).
    profile: Option<(usize, usize)>,
    /// `--wrap "CMD ARGS"`: start the server under this command (perf record, valgrind).
    wrap: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        servers: vec![],
        floor: PathBuf::new(),
        floor_static: None,
        upstream: None,
        quick: false,
        framing: stub::Framing::Go,
        growth_calls: GROWTH_CALLS,
        profile: None,
        wrap: vec![],
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().map(PathBuf::from).ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--server" => o.servers.push(value()?),
            "--floor" => o.floor = value()?,
            "--floor-static" => o.floor_static = Some(value()?),
            "--upstream" => o.upstream = Some(value()?),
            "--quick" => o.quick = true,
            "--profile" => {
                let v = value()?.to_string_lossy().into_owned();
                let parsed = v.split_once(':').and_then(|(n, c)| Some((n.parse().ok()?, c.parse().ok()?)));
                o.profile = Some(parsed.filter(|(n, _)| LIST_WORKLOADS.iter().any(|w| w.0 == *n)).ok_or(format!(
                    "--profile is N:CALLS with N one of {:?}",
                    LIST_WORKLOADS.iter().map(|w| w.0).collect::<Vec<_>>()
                ))?);
            }
            "--protocol" => {
                let _ = mcp::PROTOCOL.set(value()?.to_string_lossy().into_owned());
            }
            "--wrap" => o.wrap = value()?.to_string_lossy().split_whitespace().map(String::from).collect(),
            "--growth-calls" => {
                o.growth_calls = value()?
                    .to_str()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > GROWTH_FIRST)
                    .ok_or(format!("--growth-calls needs a number above {GROWTH_FIRST}"))?
            }
            "--framing" => {
                o.framing = match value()?.to_str() {
                    Some("go") => stub::Framing::Go,
                    Some("length") => stub::Framing::Length,
                    _ => return Err("--framing is go or length".into()),
                }
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.profile.is_some() && o.floor.as_os_str().is_empty() {
        o.floor = PathBuf::from("/bin/true"); // not used
    }
    if o.servers.is_empty() || o.floor.as_os_str().is_empty() {
        return Err("--server and --floor are required".into());
    }
    for p in o.servers.iter().chain([&o.floor]).chain(o.floor_static.iter()).chain(o.upstream.iter()) {
        if !p.is_file() {
            return Err(format!("{} does not exist", p.display()));
        }
    }
    Ok(o)
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
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
struct Env {
    launch: Launch,
    /// The same with a clusters.yaml whose default cluster is an ambient API server (the stub).
    launch_ambient: Launch,
    stub: stub::Stub,
    agent: ureq::Agent,
    url: String,
    floor: PathBuf,
    floor_static: Option<PathBuf>,
    scale: f64,
    dir: PathBuf,
    growth_calls: usize,
}

fn run(opts: &Options) -> io::Result<bool> {
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("mcp-acp-bench-{}", std::process::id()));
    let result = (|| {
        let lists: Vec<(String, usize)> = LIST_WORKLOADS.iter().map(|(n, _)| (format!("sessions-{n}"), *n)).collect();
        let list_refs: Vec<(&str, usize)> = lists.iter().map(|(p, n)| (p.as_str(), *n)).collect();
        let stub = stub::start(TOKEN, &list_refs, opts.framing)?;
        let port = stub.addr.port();
        let config = write_config(
            &dir.join("acp"),
            &format!(
                "clusters:\n  {CLUSTER}:\n    server: http://127.0.0.1:{port}\n    token: {TOKEN}\n    \
                 default_project: sessions-20\n    description: stub gateway of mcp-acp-bench\ndefault_cluster: {CLUSTER}\n\
                 max_mutations_per_minute: 10000\n"
            ),
        )?;
        let config_ambient = write_config(
            &dir.join("acp-ambient"),
            &format!(
                "clusters:\n  {CLUSTER}:\n    api: ambient\n    server: http://127.0.0.1:{port}\n    token: {TOKEN}\n    \
                 default_project: sessions-20\n    description: stub ambient API server of mcp-acp-bench\ndefault_cluster: {CLUSTER}\n\
                 max_mutations_per_minute: 10000\n"
            ),
        )?;
        let mut env = vec![
            ("ACP_CLUSTER_CONFIG".to_string(), config.display().to_string()),
            ("HOME".to_string(), dir.display().to_string()),
            ("LANG".to_string(), "C".to_string()),
        ];
        if let Ok(path) = std::env::var("PATH") {
            env.push(("PATH".into(), path));
        }
        let mut env_ambient = env.clone();
        env_ambient[0].1 = config_ambient.display().to_string();
        let e = Env {
            launch: Launch { env, stderr_log: dir.join("stderr.log"), wrap: opts.wrap.clone() },
            launch_ambient: Launch { env: env_ambient, stderr_log: dir.join("stderr.log"), wrap: opts.wrap.clone() },
            url: format!("http://{}/v1/sessions", stub.addr),
            stub,
            agent: floor_agent(),
            floor: opts.floor.clone(),
            floor_static: opts.floor_static.clone(),
            scale: if opts.quick { 0.2 } else { 1.0 },
            dir: dir.clone(),
            growth_calls: opts.growth_calls,
        };
        println!("mcp-acp benchmark{}", if opts.quick { " (--quick: fewer iterations)" } else { "" });
        println!("machine: {}", procfs::machine());
        let framing = match opts.framing {
            stub::Framing::Go => "Go-style framing: Content-Length up to 2 KiB, chunked above",
            stub::Framing::Length => "Content-Length framing",
        };
        println!("stub gateway: {} (HTTP/1.1 keep-alive; {framing})", e.url);
        println!(
            "MCP protocol revision asked for: {}",
            mcp::PROTOCOL.get().map(String::as_str).unwrap_or(mcp::DEFAULT_PROTOCOL)
        );
        if let Some((n, calls)) = opts.profile {
            return profile(&opts.servers[0], &e, n, calls).map(|_| true);
        }
        let mut all_met = true;
        for server in &opts.servers {
            all_met &= bench_server(server, &e).map_err(|err| {
                let log = std::fs::read_to_string(e.dir.join("stderr.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                io::Error::other(format!(
                    "{}: {err}\nlast server stderr lines:\n{}",
                    server.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ))
            })?;
        }
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
        all_met &= compare::run(&e, &peers).map_err(|err| {
            let log = std::fs::read_to_string(e.dir.join("stderr.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            io::Error::other(format!(
                "comparison: {err}\nlast server stderr lines:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ))
        })?;
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

/// A session as the server reads it (src/gateway/mod.rs), for the GET + parse floor.
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

/// How a floor GET is made.
#[derive(Clone, Copy, PartialEq)]
enum Floor {
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

/// One raw GET of the list; the body's length.
fn raw_get(e: &Env, project: &str, floor: Floor) -> io::Result<usize> {
    let request = ureq::http::Request::builder()
        .method("GET")
        .uri(&e.url)
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
    let body = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(io::Error::other)?;
    if matches!(floor, Floor::GetParse | Floor::GetParseNoTimeout) {
        let list: List = serde_json::from_slice(&body).map_err(io::Error::other)?;
        std::hint::black_box(&list.items);
    }
    Ok(body.len())
}

fn list_params(project: &str) -> String {
    format!(r#"{{"name":"acp_list_sessions","arguments":{{"project":"{project}"}}}}"#)
}

/// Check a list answer: a successful tool result that found `n` sessions.
fn check_list(line: &[u8], n: usize, project: &str) -> io::Result<()> {
    let v = check_ok(line, "acp_list_sessions")?;
    let text = v["result"]["content"][0]["text"].as_str().unwrap_or_default();
    let want = format!("Found {n} session(s) in project '{project}' (cluster '{CLUSTER}')");
    if v["result"]["isError"] != serde_json::json!(false) || !text.starts_with(&want) {
        return Err(io::Error::other(format!("unexpected list answer: {}", preview(line))));
    }
    Ok(())
}

fn scaled(e: &Env, n: usize) -> usize {
    ((n as f64 * e.scale).round() as usize).max(20)
}

// ---- one server -------------------------------------------------------------------------

struct Row {
    metric: String,
    s: Summary,
    floor: Option<(String, Summary)>,
    target: Option<f64>,
}

struct Resources {
    workload: String,
    calls: usize,
    mem: procfs::Memory,
    cpu_per_call: Option<procfs::Cpu>,
    client_cpu_per_call: Option<Duration>,
    new_connections: Option<u64>,
    answer_bytes: usize,
}

fn bench_server(server: &Path, e: &Env) -> io::Result<bool> {
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
    let mut rows = Vec::new();
    let mut res = Vec::new();

    // Cold start.
    let (cold_rows, cold_table) = cold_start(&server, is_static, e)?;
    rows.extend(cold_rows);

    // Warm: ping and tools/list.
    {
        let mut m = Mcp::spawn(&e.launch, &server)?;
        m.handshake()?;
        res.push(Resources {
            workload: "idle, after initialize".into(),
            calls: 0,
            mem: procfs::memory(m.pid()),
            cpu_per_call: None,
            client_cpu_per_call: None,
            new_connections: None,
            answer_bytes: m.line.len(),
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
            });
        }
        m.close()?;
    }

    // acp_list_sessions against the stub, interleaved with the raw GET.
    let mut growth = None;
    let mut trace: Vec<(usize, procfs::Memory)> = Vec::new();
    for &(n, pairs) in LIST_WORKLOADS {
        let pairs = scaled(e, pairs);
        let project = format!("sessions-{n}");
        let params = list_params(&project);
        let mut m = Mcp::spawn(&e.launch, &server)?;
        m.handshake()?;
        for _ in 0..5 {
            m.call("tools/call", &params)?;
            check_list(&m.line, n, &project)?;
            raw_get(e, &project, Floor::GetParse)?;
            raw_get(e, &project, Floor::GetNoTimeout)?;
        }
        let mut calls = 5;
        let mut rss_first = None;
        if n == LIST_WORKLOADS[0].0 {
            while calls < GROWTH_FIRST {
                m.call("tools/call", &params)?;
                calls += 1;
            }
            check_list(&m.line, n, &project)?;
            rss_first = Some(procfs::memory(m.pid()));
            trace.push((calls, rss_first.unwrap()));
        }
        let conns0 = e.stub.connections.load(Ordering::Relaxed);
        let cpu0 = procfs::cpu(m.pid());
        let (mut ours, mut floor, mut parsed, mut untimed) =
            (Vec::with_capacity(pairs), Vec::with_capacity(pairs), Vec::with_capacity(pairs), Vec::new());
        let mut client_cpu = Duration::ZERO;
        let mut body_len = 0;
        // The untimed GET only beside the smallest list, where its difference shows.
        let subjects = if n == LIST_WORKLOADS[0].0 { 4 } else { 3 };
        for i in 0..pairs {
            // Rotate which goes first, so none always runs right after another warmed the caches.
            for turn in (0..subjects).map(|k| (k + i) % subjects) {
                match turn {
                    0 => {
                        let c0 = procfs::cpu_this_thread();
                        let t = Instant::now();
                        body_len = raw_get(e, &project, Floor::Get)?;
                        floor.push(t.elapsed());
                        client_cpu += procfs::cpu_this_thread().since(c0).sched;
                    }
                    1 => {
                        let t = Instant::now();
                        raw_get(e, &project, Floor::GetParse)?;
                        parsed.push(t.elapsed());
                    }
                    2 => {
                        let t = Instant::now();
                        m.call("tools/call", &params)?;
                        ours.push(t.elapsed());
                    }
                    _ => {
                        let t = Instant::now();
                        raw_get(e, &project, Floor::GetNoTimeout)?;
                        untimed.push(t.elapsed());
                    }
                }
            }
        }
        let cpu = procfs::cpu(m.pid()).since(cpu0);
        let new_connections = e.stub.connections.load(Ordering::Relaxed) - conns0;
        check_list(&m.line, n, &project)?;
        calls += pairs;
        let answer_bytes = m.line.len();
        let target = match n {
            20 => Some(1.2),
            10_000 => Some(1.5),
            _ => None,
        };
        rows.push(Row {
            metric: format!("list {n} sessions ({} KiB body)", (body_len + 512) / 1024),
            s: summarize(&ours),
            floor: Some((format!("raw GET {n}"), summarize(&floor))),
            target,
        });
        rows.push(Row {
            metric: "  the same, against GET + parse".into(),
            s: summarize(&ours),
            floor: Some((format!("GET+parse {n}"), summarize(&parsed))),
            target: None,
        });
        if !untimed.is_empty() {
            rows.push(Row {
                metric: "  raw GET with timeout, against without".into(),
                s: summarize(&floor),
                floor: Some((format!("GET {n}, no timeout"), summarize(&untimed))),
                target: None,
            });
        }
        if let Some(first) = rss_first {
            // VmRSS at 1 000, 2 000, 5 000, 10 000, … calls: a leak climbs, warm-up levels off.
            let marks: Vec<usize> = (3..9)
                .flat_map(|p| [1, 2, 5].map(|f| f * 10usize.pow(p)))
                .filter(|m| *m > calls && *m < e.growth_calls)
                .chain([e.growth_calls])
                .collect();
            for mark in marks {
                while calls < mark {
                    m.call("tools/call", &params)?;
                    calls += 1;
                }
                trace.push((calls, procfs::memory(m.pid())));
            }
            check_list(&m.line, n, &project)?;
            growth = Some((first, procfs::memory(m.pid())));
        }
        res.push(Resources {
            workload: format!("list {n}"),
            calls,
            mem: procfs::memory(m.pid()),
            cpu_per_call: Some(per_call(cpu, pairs)),
            client_cpu_per_call: Some(client_cpu / pairs as u32),
            new_connections: Some(new_connections),
            answer_bytes,
        });
        m.close()?;
    }

    // Report.
    println!("\ncold start, spawn → first line (rounds interleaved):");
    print!("{}", cold_table.render());
    println!("\nlatency (medians, min, p90; ratio = server / floor measured in the same run):");
    let mut t = Table::new(&[
        "metric",
        "n",
        "median",
        "min",
        "p90",
        "floor",
        "floor med",
        "floor min",
        "×med",
        "×min",
        "target",
        "",
    ]);
    let mut all_met = true;
    let mut verdicts = Vec::new();
    for r in &rows {
        let mut cells =
            vec![r.metric.clone(), r.s.n.to_string(), fmt_dur(r.s.median), fmt_dur(r.s.min), fmt_dur(r.s.p90)];
        if let Some((name, f)) = &r.floor {
            let (rm, rn) = (ratio(r.s.median, f.median), ratio(r.s.min, f.min));
            cells.extend([name.clone(), fmt_dur(f.median), fmt_dur(f.min), format!("{rm:.2}"), format!("{rn:.2}")]);
            match r.target {
                Some(target) => {
                    let met = rm <= target;
                    all_met &= met;
                    cells.extend([format!("≤{target}×"), if met { "met" } else { "MISSED" }.into()]);
                    verdicts.push(format!(
                        "{}: {rm:.2}× the floor (median), target ≤ {target}× — {}",
                        r.metric,
                        if met { "met" } else { "MISSED" }
                    ));
                }
                None => cells.extend(["—".into(), String::new()]),
            }
        } else {
            cells.extend(["—".into(), String::new(), String::new(), String::new(), String::new()]);
        }
        t.row(cells);
    }
    print!("{}", t.render());

    println!("\nserver resources (VmHWM = peak RSS of that server process; CPU = server utime+stime / calls):");
    let mut t = Table::new(&[
        "workload",
        "calls",
        "VmHWM",
        "VmRSS",
        "thr",
        "CPU/call stat",
        "CPU/call sched",
        "floor client CPU/call",
        "new TCP conns",
        "answer",
    ]);
    for r in &res {
        let kib = |k: u64| format!("{k} KiB");
        t.row(vec![
            r.workload.clone(),
            r.calls.to_string(),
            kib(r.mem.hwm_kib),
            kib(r.mem.rss_kib),
            r.mem.threads.to_string(),
            r.cpu_per_call.map(|c| fmt_dur(c.stat)).unwrap_or("—".into()),
            r.cpu_per_call.map(|c| fmt_dur(c.sched)).unwrap_or("—".into()),
            r.client_cpu_per_call.map(fmt_dur).unwrap_or("—".into()),
            r.new_connections.map(|c| c.to_string()).unwrap_or("—".into()),
            format!("{} B", r.answer_bytes),
        ]);
    }
    print!("{}", t.render());
    println!("(new TCP conns: connections the stub accepted during the timed loop; 0 = keep-alive reused)");

    let small = res.iter().filter(|r| r.workload != "list 1000" && r.workload != "list 10000");
    let small_hwm = small.map(|r| r.mem.hwm_kib).max().unwrap_or(0);
    let small_met = small_hwm < RSS_SMALL_LIMIT_KIB;
    all_met &= small_met;
    verdicts.push(format!(
        "peak RSS on small workloads (idle, ping, tools/list, list 20): {small_hwm} KiB, target < {RSS_SMALL_LIMIT_KIB} KiB — {}",
        if small_met { "met" } else { "MISSED" }
    ));
    if let Some((first, last)) = growth {
        let grew = last.rss_kib.saturating_sub(first.rss_kib);
        let anon_grew = last.anon_kib.saturating_sub(first.anon_kib);
        let met = grew <= GROWTH_LIMIT_KIB;
        all_met &= met;
        verdicts.push(format!(
            "VmRSS after {GROWTH_FIRST} list-20 calls {} KiB, after {}: {} KiB (growth {grew} KiB, of which heap \
             (RssAnon) {anon_grew} KiB; VmHWM {} KiB), target growth ≤ {GROWTH_LIMIT_KIB} KiB — {}",
            first.rss_kib,
            e.growth_calls,
            last.rss_kib,
            last.hwm_kib,
            if met { "met" } else { "MISSED" }
        ));
    }
    if !trace.is_empty() {
        let shown: Vec<String> =
            trace.iter().map(|(c, m)| format!("{c}: {} ({}+{})", m.rss_kib, m.anon_kib, m.file_kib)).collect();
        println!("VmRSS (RssAnon+RssFile), KiB, of the list-20 server after N calls: {}", shown.join(", "));
    }
    println!("\ntargets:");
    for v in verdicts {
        println!("  {v}");
    }
    Ok(all_met)
}

fn per_call(cpu: procfs::Cpu, calls: usize) -> procfs::Cpu {
    procfs::Cpu { stat: cpu.stat / calls as u32, sched: cpu.sched / calls as u32 }
}

/// Only list calls, for a profiler wrapped around the server with --wrap.
fn profile(server: &Path, e: &Env, n: usize, calls: usize) -> io::Result<()> {
    let project = format!("sessions-{n}");
    let params = list_params(&project);
    let mut m = Mcp::spawn(&e.launch, server)?;
    m.handshake()?;
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        m.call("tools/call", &params)?;
        samples.push(t.elapsed());
    }
    check_list(&m.line, n, &project)?;
    m.close()?;
    let s = summarize(&samples);
    println!("profile: {calls} × list {n}: median {}, min {}", fmt_dur(s.median), fmt_dur(s.min));
    Ok(())
}

// ---- cold start -------------------------------------------------------------------------

enum Subject {
    /// spawn → exit observed
    Exit(PathBuf),
    /// spawn → one line read from stdout
    Line(PathBuf),
    /// spawn → `initialize` written → its answer read
    Initialize(PathBuf),
    /// spawn → initialize → initialized → first acp_list_sessions (20) answered
    FirstList(PathBuf),
}

fn measure(e: &Env, s: &Subject) -> io::Result<Duration> {
    match s {
        Subject::Exit(p) => {
            let t = Instant::now();
            let status = e.launch.command(p)?.spawn()?.wait()?;
            let d = t.elapsed();
            if !status.success() {
                return Err(io::Error::other(format!("{} failed: {status}", p.display())));
            }
            Ok(d)
        }
        Subject::Line(p) => {
            let t = Instant::now();
            let mut child = e.launch.command(p)?.spawn()?;
            let mut out = io::BufReader::new(child.stdout.take().expect("piped"));
            let mut line = String::new();
            io::BufRead::read_line(&mut out, &mut line)?;
            let d = t.elapsed();
            child.wait()?;
            if !line.ends_with('\n') {
                return Err(io::Error::other(format!("{} printed no line", p.display())));
            }
            Ok(d)
        }
        Subject::Initialize(p) => {
            let t = Instant::now();
            let mut m = Mcp::spawn(&e.launch, p)?;
            m.call("initialize", &mcp::initialize_params())?;
            let d = t.elapsed();
            check_ok(&m.line, "initialize")?;
            m.close()?;
            Ok(d)
        }
        Subject::FirstList(p) => {
            let t = Instant::now();
            let mut m = Mcp::spawn(&e.launch, p)?;
            m.handshake()?;
            m.call("tools/call", &list_params("sessions-20"))?;
            let d = t.elapsed();
            check_list(&m.line, 20, "sessions-20")?;
            m.close()?;
            Ok(d)
        }
    }
}

fn cold_start(server: &Path, is_static: bool, e: &Env) -> io::Result<(Vec<Row>, Table)> {
    let true_bin = ["/bin/true", "/usr/bin/true"].iter().map(PathBuf::from).find(|p| p.exists());
    let mut subjects: Vec<(String, Subject)> = Vec::new();
    if let Some(t) = true_bin {
        subjects.push((format!("{} (spawn → exit)", t.display()), Subject::Exit(t)));
    }
    subjects.push(("floor: hello, dynamic (→ line)".into(), Subject::Line(e.floor.clone())));
    if let Some(s) = &e.floor_static {
        subjects.push(("floor: hello, static (→ line)".into(), Subject::Line(s.clone())));
    }
    let server_idx = subjects.len();
    subjects.push(("mcp-acp → initialize answer".into(), Subject::Initialize(server.to_path_buf())));
    let first_idx = subjects.len();
    subjects.push(("mcp-acp → first list-20 answer".into(), Subject::FirstList(server.to_path_buf())));

    let rounds = scaled(e, 200);
    let mut samples: Vec<Vec<Duration>> = subjects.iter().map(|_| Vec::with_capacity(rounds)).collect();
    for (_, s) in &subjects {
        measure(e, s)?; // warm the page cache
    }
    for round in 0..rounds {
        for k in 0..subjects.len() {
            let i = (k + round) % subjects.len(); // rotate the order each round
            samples[i].push(measure(e, &subjects[i].1)?);
        }
    }
    let sums: Vec<Summary> = samples.iter().map(|s| summarize(s)).collect();
    // The floor the server is held to: the hello built the same way (static or dynamic).
    let floor_idx = if is_static && e.floor_static.is_some() {
        server_idx - 1
    } else {
        subjects.iter().position(|(n, _)| n.contains("dynamic")).unwrap()
    };
    let floor = sums[floor_idx];
    let mut t = Table::new(&["subject", "n", "median", "min", "p90", "×floor med", "×floor min"]);
    for (i, (name, _)) in subjects.iter().enumerate() {
        let s = sums[i];
        let mark = if i == floor_idx { " (floor)" } else { "" };
        t.row(vec![
            format!("{name}{mark}"),
            s.n.to_string(),
            fmt_dur(s.median),
            fmt_dur(s.min),
            fmt_dur(s.p90),
            format!("{:.2}", ratio(s.median, floor.median)),
            format!("{:.2}", ratio(s.min, floor.min)),
        ]);
    }
    let floor_name = subjects[floor_idx].0.clone();
    let rows = vec![
        Row {
            metric: "cold start → initialize".into(),
            s: sums[server_idx],
            floor: Some((floor_name.replace(" (→ line)", ""), floor)),
            target: Some(2.0),
        },
        Row { metric: "cold start → first list 20".into(), s: sums[first_idx], floor: None, target: None },
    ];
    Ok((rows, t))
}
