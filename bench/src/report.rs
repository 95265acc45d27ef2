//! One server's section printed: the cold-start table, the latency rows against their
//! floors, the resources table, and the targets with their verdicts.

use super::args::GROWTH_FIRST;
use super::server::{Growth, Resources, Row};
use super::stats::{Table, fmt_dur, ratio};

/// "Flat": VmRSS may grow by at most this much between call 100 and call 10 000.
const GROWTH_LIMIT_KIB: u64 = 128;
const RSS_SMALL_LIMIT_KIB: u64 = 5 * 1024;

/// Print the section; false when a target is missed.
pub fn print(cold: &Table, rows: &[Row], res: &[Resources], growth: Option<&Growth>, growth_calls: usize) -> bool {
    println!("\ncold start, spawn → first line (rounds interleaved):");
    print!("{}", cold.render());
    let mut verdicts = Vec::new();
    let mut all_met = latency(rows, &mut verdicts);
    resources(res);
    all_met &= memory_targets(res, growth, growth_calls, &mut verdicts);
    println!("\ntargets:");
    for v in verdicts {
        println!("  {v}");
    }
    all_met
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The latency table; the verdicts of its targets pushed; false when one is missed.
fn latency(rows: &[Row], verdicts: &mut Vec<String>) -> bool {
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
    let mut top = "";
    for r in rows {
        if !r.metric.starts_with(' ') {
            top = &r.metric;
        }
        let mut cells =
            vec![r.metric.clone(), r.s.n.to_string(), fmt_dur(r.s.median), fmt_dur(r.s.min), fmt_dur(r.s.p90)];
        if let Some((name, f)) = &r.floor {
            let (rm, rn) = (ratio(r.s.median, f.median), ratio(r.s.min, f.min));
            cells.extend([name.clone(), fmt_dur(f.median), fmt_dur(f.min), format!("{rm:.2}"), format!("{rn:.2}")]);
            match r.target {
                Some(target) => {
                    let met = rm <= target;
                    all_met &= met;
                    cells.extend([format!("≤{target}×"), verdict(met).into()]);
                    // An indented row ("  the same, against GET + parse") is named by its workload.
                    let metric = match r.metric.starts_with(' ') {
                        true => format!("{top}, against {name}"),
                        false => r.metric.clone(),
                    };
                    verdicts
                        .push(format!("{metric}: {rm:.2}× the floor (median), target ≤ {target}× — {}", verdict(met)));
                }
                None => cells.extend(["—".into(), String::new()]),
            }
        } else {
            cells.extend(["—".into(), String::new(), String::new(), String::new(), String::new()]);
        }
        t.row(cells);
    }
    print!("{}", t.render());
    all_met
}

fn resources(res: &[Resources]) {
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
    for r in res {
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
}

/// Peak RSS on the small workloads, and VmRSS growth over the small list's calls.
fn memory_targets(res: &[Resources], growth: Option<&Growth>, growth_calls: usize, verdicts: &mut Vec<String>) -> bool {
    let small: Vec<&str> = res.iter().filter(|r| r.small).map(|r| r.workload.as_str()).collect();
    let small_hwm = res.iter().filter(|r| r.small).map(|r| r.mem.hwm_kib).max().unwrap_or(0);
    let mut all_met = small_hwm < RSS_SMALL_LIMIT_KIB;
    verdicts.push(format!(
        "peak RSS on small workloads ({}): {small_hwm} KiB, target < {RSS_SMALL_LIMIT_KIB} KiB — {}",
        small.join(", ").replace("idle, after initialize", "idle"),
        verdict(all_met)
    ));
    if let Some(Growth { first, last, trace }) = growth {
        let grew = last.rss_kib.saturating_sub(first.rss_kib);
        let anon_grew = last.anon_kib.saturating_sub(first.anon_kib);
        let met = grew <= GROWTH_LIMIT_KIB;
        all_met &= met;
        verdicts.push(format!(
            "VmRSS after {GROWTH_FIRST} list-20 calls {} KiB, after {growth_calls}: {} KiB (growth {grew} KiB, of \
             which heap (RssAnon) {anon_grew} KiB; VmHWM {} KiB), target growth ≤ {GROWTH_LIMIT_KIB} KiB — {}",
            first.rss_kib,
            last.rss_kib,
            last.hwm_kib,
            verdict(met)
        ));
        let shown: Vec<String> =
            trace.iter().map(|(c, m)| format!("{c}: {} ({}+{})", m.rss_kib, m.anon_kib, m.file_kib)).collect();
        println!("VmRSS (RssAnon+RssFile), KiB, of the list-20 server after N calls: {}", shown.join(", "));
    }
    all_met
}
