//! What /proc says about a process: memory high-water mark, resident size, CPU time.

use std::time::Duration;

/// USER_HZ: the unit of utime/stime in /proc/<pid>/stat. 100 on every Linux x86_64 kernel ABI.
const CLOCK_TICKS_PER_SEC: u64 = 100;

/// `VmHWM`, `VmRSS` and `Threads` from /proc/<pid>/status, sizes in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub hwm_kib: u64,
    pub rss_kib: u64,
    /// Anonymous (heap, stacks) and file-backed (code, mapped files) parts of VmRSS.
    pub anon_kib: u64,
    pub file_kib: u64,
    pub threads: u64,
}

pub fn memory(pid: u32) -> Memory {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        hwm_kib: field("VmHWM"),
        rss_kib: field("VmRSS"),
        anon_kib: field("RssAnon"),
        file_kib: field("RssFile"),
        threads: field("Threads"),
    }
}

/// CPU time of a process, two ways.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// utime + stime from /proc/<pid>/stat (10 ms resolution).
    pub stat: Duration,
    /// Time on CPU from /proc/<pid>/schedstat (nanoseconds; the main thread, which is the
    /// only one the server has).
    pub sched: Duration,
}

impl Cpu {
    pub fn since(self, before: Cpu) -> Cpu {
        Cpu { stat: self.stat.saturating_sub(before.stat), sched: self.sched.saturating_sub(before.sched) }
    }
}

pub fn cpu(pid: u32) -> Cpu {
    cpu_at(&format!("/proc/{pid}"))
}

/// The calling thread's CPU time (for the client side of the raw-HTTP floor).
pub fn cpu_this_thread() -> Cpu {
    cpu_at("/proc/thread-self")
}

fn cpu_at(dir: &str) -> Cpu {
    let stat = std::fs::read_to_string(format!("{dir}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    // after[0] is field 3 (state); utime is field 14, stime field 15.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    let sched = std::fs::read_to_string(format!("{dir}/schedstat")).unwrap_or_default();
    let ns = sched.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0);
    Cpu { stat: Duration::from_millis(ticks * 1000 / CLOCK_TICKS_PER_SEC), sched: Duration::from_nanos(ns) }
}

/// "model name" from /proc/cpuinfo and the number of CPUs this process may use.
pub fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let logical = info.lines().filter(|l| l.starts_with("processor")).count();
    let usable = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}; {logical} logical CPUs ({usable} usable); Linux {}", kernel.trim())
}

/// Is this ELF file statically linked (no PT_INTERP program header)?
pub fn is_static_elf(path: &std::path::Path) -> Option<bool> {
    let data = std::fs::read(path).ok()?;
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return None; // not a 64-bit little-endian ELF
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    let phoff = u64::from_le_bytes(data[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    const PT_INTERP: u32 = 3;
    let mut has_interp = false;
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if o + 4 > data.len() {
            return None;
        }
        has_interp |= u32_at(o) == PT_INTERP;
    }
    Some(!has_interp)
}
