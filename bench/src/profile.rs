//! `--profile N:CALLS`: only list calls, for a profiler wrapped around the server with --wrap.

use super::Env;
use super::lists::{Workload, check_list, list_params};
use super::mcp::Mcp;
use super::stats::{fmt_dur, summarize};
use std::io;
use std::path::Path;
use std::time::Instant;

pub fn profile(server: &Path, e: &Env, w: &Workload, calls: usize) -> io::Result<()> {
    let project = w.project();
    let params = list_params(&project);
    let mut m = Mcp::spawn(e.launch_for(w.api), server)?;
    m.handshake()?;
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        m.call("tools/call", &params)?;
        samples.push(t.elapsed());
    }
    check_list(&m.line, w.sessions, &project)?;
    m.close()?;
    let s = summarize(&samples);
    println!("profile: {calls} × {}: median {}, min {}", w.label(), fmt_dur(s.median), fmt_dur(s.min));
    Ok(())
}
