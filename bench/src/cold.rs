//! Cold start: spawn → `initialize` answer (and → first list-20 answer), interleaved with
//! /bin/true (spawn → exit) and the floor program (spawn → one line), dynamic and static.

use super::lists::{check_list, list_params};
use super::mcp::{self, Mcp, check_ok};
use super::server::Row;
use super::stats::{Summary, Table, fmt_dur, ratio, summarize};
use super::{Env, scaled};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// The cold-start rows (→ initialize, held to the floor built the same way; → first list 20)
/// and the table of every subject.
pub fn cold_start(server: &Path, is_static: bool, e: &Env) -> io::Result<(Vec<Row>, Table)> {
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
