//! Driving an MCP server over its stdin/stdout: newline-delimited JSON-RPC, one request
//! at a time, as a client does.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// How every child is started: same environment, same pipes, stderr to a log file.
#[derive(Clone)]
pub struct Launch {
    pub env: Vec<(String, String)>,
    pub stderr_log: PathBuf,
    /// A command to start servers under (a profiler); empty for none.
    pub wrap: Vec<String>,
}

impl Launch {
    pub fn command(&self, program: &Path) -> io::Result<Command> {
        let mut cmd = match self.wrap.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.env_clear().envs(self.env.iter().map(|(k, v)| (k, v)));
        let log = File::options().create(true).append(true).open(&self.stderr_log)?;
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::from(log));
        Ok(cmd)
    }
}

pub struct Mcp {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// The last answer line, without its newline.
    pub line: Vec<u8>,
    request: Vec<u8>,
    next_id: u64,
    pub skipped_notifications: u64,
}

/// The protocol revision the bench asks for (`--protocol`).
pub static PROTOCOL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn initialize_params() -> String {
    let version = PROTOCOL.get().map(String::as_str).unwrap_or(DEFAULT_PROTOCOL);
    format!(
        r#"{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"mcp-acp-bench","version":"0.1.0"}}}}"#
    )
}

pub const DEFAULT_PROTOCOL: &str = "2025-11-25";

impl Mcp {
    pub fn spawn(launch: &Launch, program: &Path) -> io::Result<Mcp> {
        let mut child = launch.command(program)?.spawn()?;
        let stdin = child.stdin.take();
        let stdout = BufReader::with_capacity(256 * 1024, child.stdout.take().expect("piped"));
        Ok(Mcp {
            child,
            stdin,
            stdout,
            line: Vec::with_capacity(4 << 20),
            request: Vec::new(),
            next_id: 1,
            skipped_notifications: 0,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send one request and wait for its answer, which is left in `self.line`.
    pub fn call(&mut self, method: &str, params: &str) -> io::Result<&[u8]> {
        self.request.clear();
        let id = self.next_id;
        self.next_id += 1;
        write!(self.request, r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params}}}"#)?;
        self.request.push(b'\n');
        let stdin = self.stdin.as_mut().expect("open");
        stdin.write_all(&self.request)?;
        stdin.flush()?;
        // Notifications the server sends before the answer (progress, log messages) are skipped.
        loop {
            self.read_line()?;
            let head = &self.line[..self.line.len().min(160)];
            const NOTIFICATION: &[u8] = br#""method":"notifications/"#;
            if !head.windows(NOTIFICATION.len()).any(|w| w == NOTIFICATION) {
                return Ok(&self.line);
            }
            self.skipped_notifications += 1;
        }
    }

    pub fn notify(&mut self, method: &str) -> io::Result<()> {
        let stdin = self.stdin.as_mut().expect("open");
        writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"{method}"}}"#)?;
        stdin.flush()
    }

    fn read_line(&mut self) -> io::Result<()> {
        self.line.clear();
        let n = self.stdout.read_until(b'\n', &mut self.line)?;
        if n == 0 || self.line.last() != Some(&b'\n') {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed its stdout"));
        }
        self.line.pop();
        Ok(())
    }

    /// `initialize` then `notifications/initialized`, as a client opens a session.
    pub fn handshake(&mut self) -> io::Result<()> {
        self.call("initialize", &initialize_params())?;
        check_ok(&self.line, "initialize")?;
        self.notify("notifications/initialized")
    }

    /// Close stdin (the server's signal to exit) and wait for it.
    pub fn close(mut self) -> io::Result<()> {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(io::Error::other(format!("the server exited with {status}")))
                };
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(io::Error::other("the server did not exit within 10 s of end of input"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The answer is a JSON-RPC result (not an error), else an error naming `what`.
pub fn check_ok(line: &[u8], what: &str) -> io::Result<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| io::Error::other(format!("{what}: answer is not JSON ({e}): {}", preview(line))))?;
    if v.get("result").is_none() {
        return Err(io::Error::other(format!("{what}: not a result: {}", preview(line))));
    }
    Ok(v)
}

pub fn preview(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    if s.chars().count() > 300 { s.chars().take(300).collect::<String>() + "…" } else { s.into_owned() }
}
