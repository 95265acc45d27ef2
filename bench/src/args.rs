//! The command line: [`USAGE`] and [`parse_args`].

use super::lists::{LIST_WORKLOADS, Workload};
use super::{mcp, stub};
use std::path::PathBuf;

pub const USAGE: &str = "\
usage: mcp-acp-bench --server PATH [--server PATH…] --floor PATH [--floor-static PATH] [options]

  --server PATH         an mcp-acp binary to measure (repeatable: measured one after the other)
  --floor PATH          a program that prints one line and exits (bench/floor), built for the host
  --floor-static PATH   the same built statically (musl): the floor of static servers
  --upstream PATH       the upstream Python original's mcp-acp (0.2.2), a peer in the comparison
  --quick               about 5× fewer iterations (a smoke test; ratios are noisier)
  --protocol REV        the MCP revision asked for in initialize (default 2025-11-25)
  --framing go|length   the stub's framing: like Go's net/http (default) or Content-Length only
  --growth-calls N      list calls for the RSS-growth check (default 10000)
  --profile N:CALLS     only CALLS list calls of N sessions (20: public-api gateway; 1000: ambient
                        API server, 10 pages), for a profiler
  --wrap \"CMD ARGS\"     start the server under CMD (perf record -g --, valgrind --tool=callgrind)

Exit status: 0 all targets met, 1 a target missed, 2 bad usage, 3 the bench failed.
";

/// Total list calls on the 20-session server, for the RSS-growth check (--growth-calls).
pub const GROWTH_CALLS: usize = 10_000;
/// The call after which the RSS-growth check takes its first VmRSS.
pub const GROWTH_FIRST: usize = 100;

pub struct Options {
    pub servers: Vec<PathBuf>,
    pub floor: PathBuf,
    pub floor_static: Option<PathBuf>,
    pub upstream: Option<PathBuf>,
    pub quick: bool,
    pub framing: stub::Framing,
    pub growth_calls: usize,
    /// `--profile N:CALLS`: only run CALLS list calls of the workload of N sessions (for a profiler).
    pub profile: Option<(&'static Workload, usize)>,
    /// `--wrap "CMD ARGS"`: start the server under this command (perf record, valgrind).
    pub wrap: Vec<String>,
}

pub fn parse_args() -> Result<Options, String> {
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
            "--profile" => o.profile = Some(profile(&value()?.to_string_lossy())?),
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

/// `N:CALLS`, N the session count of one of the [`LIST_WORKLOADS`].
fn profile(v: &str) -> Result<(&'static Workload, usize), String> {
    let parsed = v.split_once(':').and_then(|(n, c)| Some((n.parse::<usize>().ok()?, c.parse().ok()?)));
    parsed.and_then(|(n, calls)| Some((LIST_WORKLOADS.iter().find(|w| w.sessions == n)?, calls))).ok_or(format!(
        "--profile is N:CALLS with N one of {:?}",
        LIST_WORKLOADS.iter().map(|w| w.sessions).collect::<Vec<_>>()
    ))
}
