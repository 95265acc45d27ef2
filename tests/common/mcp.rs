//! Drives the real `mcp-acp` binary over stdio pipes, against a [`FakeGateway`].

use super::gateway::FakeGateway;
use serde_json::{Value, json};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A recognisable token used by tests (must never appear in any output).
pub const TOKEN: &str = "tok-SECRET-4f1c9a7e2b";
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// How long `recv`/`close` wait.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The binary under test: `$MCP_ACP_BIN` if set (an absolute path; CI uses it to run the
/// suite against the static musl build), else the one Cargo built for this package.
pub fn bin_path() -> PathBuf {
    match std::env::var_os("MCP_ACP_BIN").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(p.is_absolute(), "MCP_ACP_BIN must be an absolute path, not {}", p.display());
            assert!(p.is_file(), "MCP_ACP_BIN={} is not a file", p.display());
            p
        }
        None => PathBuf::from(env!("CARGO_BIN_EXE_mcp-acp")),
    }
}

/// A `Command` for the binary under test ([`bin_path`]); every test that runs it starts here.
pub fn bin_command() -> Command {
    Command::new(bin_path())
}

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub gateway: FakeGateway,
}

impl TestEnv {
    /// Gateway started, accepting [`TOKEN`], project `team-a` exists; `dir` has mode 0700.
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod 0700");
        let gateway = FakeGateway::start();
        gateway.accept_token(TOKEN);
        gateway.add_project("team-a");
        TestEnv { dir, gateway }
    }

    /// `<dir>/clusters.yaml`
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("clusters.yaml")
    }

    /// Writes the config file with mode 0600 (replacing any previous one).
    pub fn write_config(&self, yaml: &str) {
        let path = self.config_path();
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .expect("open config");
        f.write_all(yaml.as_bytes()).expect("write config");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod 0600");
    }

    /// The default two-cluster config (`dev` → the fake gateway with [`TOKEN`], `prod` unreachable, no token).
    pub fn default_config_yaml(&self) -> String {
        format!(
            "clusters:\n  dev:\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    description: \"Dev cluster\"\n  prod:\n    server: \"https://prod.example.invalid\"\n    default_project: \"prod-proj\"\ndefault_cluster: dev\n",
            self.gateway.url()
        )
    }

    pub fn write_default_config(&self) {
        self.write_config(&self.default_config_yaml());
    }

    /// Spawns with `ACP_CLUSTER_CONFIG=<config_path>` and `RUST_LOG=trace`.
    pub fn spawn(&self) -> Server {
        self.spawn_with(&[], &[])
    }

    /// Environment: only `PATH`, `HOME=<dir>`, `ACP_CLUSTER_CONFIG`, `RUST_LOG=trace`, then
    /// `extra_env` (overriding), then `remove_env` removed.
    pub fn spawn_with(&self, extra_env: &[(&str, &str)], remove_env: &[&str]) -> Server {
        let mut cmd = bin_command();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("ACP_CLUSTER_CONFIG", self.config_path())
            .env("RUST_LOG", "trace")
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        for k in remove_env {
            cmd.env_remove(k);
        }
        Server::start(cmd)
    }
}

/// A running `mcp-acp` child.
pub struct Server {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines_rx: Receiver<String>,
    all_lines: Arc<Mutex<Vec<String>>>,
    stderr_buf: Arc<Mutex<String>>,
    stdout_thread: Option<JoinHandle<()>>,
    stderr_thread: Option<JoinHandle<()>>,
    next_id: i64,
    /// Server-initiated messages (notifications / requests) that `request` skipped over.
    pub notifications: Vec<Value>,
}

/// A write to the server's stdin running in another thread (see [`Server::write_in_background`]).
pub struct BackgroundWriter(JoinHandle<(ChildStdin, std::io::Result<()>)>);

/// What `close` returns.
pub struct Finished {
    pub status: ExitStatus,
    /// Every stdout line, each followed by `\n`.
    pub stdout: String,
    pub stderr: String,
}

/// A `tools/call` result.
#[derive(Debug, Clone)]
pub struct ToolResult {
    pub is_error: bool,
    /// All `text` content items joined by `\n`.
    pub text: String,
    /// The JSON-RPC `result` object.
    pub raw: Value,
}

impl Server {
    pub fn start(mut cmd: Command) -> Server {
        let mut child = cmd.spawn().expect("spawn mcp-acp");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut stderr = child.stderr.take().expect("stderr");
        let (tx, lines_rx) = mpsc::channel();
        let all_lines = Arc::new(Mutex::new(Vec::new()));
        let stderr_buf = Arc::new(Mutex::new(String::new()));
        let all2 = all_lines.clone();
        let stdout_thread = thread::spawn(move || {
            loop {
                let mut buf = Vec::new();
                match stdout.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if buf.last() == Some(&b'\n') {
                            buf.pop();
                        }
                        let line = String::from_utf8_lossy(&buf).into_owned();
                        all2.lock().unwrap_or_else(|e| e.into_inner()).push(line.clone());
                        let _ = tx.send(line);
                    }
                }
            }
        });
        let err2 = stderr_buf.clone();
        let stderr_thread = thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match stderr.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        err2.lock().unwrap_or_else(|e| e.into_inner()).push_str(&String::from_utf8_lossy(&chunk[..n]))
                    }
                }
            }
        });
        Server {
            child: Some(child),
            stdin,
            lines_rx,
            all_lines,
            stderr_buf,
            stdout_thread: Some(stdout_thread),
            stderr_thread: Some(stderr_thread),
            next_id: 0,
            notifications: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Writes `line` + `\n` and flushes.
    pub fn send_line(&mut self, line: &str) {
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        self.send_raw(&bytes);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        if let Err(e) = stdin.write_all(bytes).and_then(|_| stdin.flush()) {
            panic!("writing to mcp-acp stdin failed: {e}\n--- stderr ---\n{}", self.stderr());
        }
    }

    /// Sends a JSON value as one line.
    pub fn send_json(&mut self, v: &Value) {
        self.send_line(&v.to_string());
    }

    /// Writes `bytes` to stdin from another thread, so that a large write and the reading of
    /// the answers can overlap. Until [`Server::finish_writing`], `send_*` cannot be used.
    pub fn write_in_background(&mut self, bytes: Vec<u8>) -> BackgroundWriter {
        let mut stdin = self.stdin.take().expect("stdin already closed or lent out");
        let handle = thread::spawn(move || {
            let result = stdin.write_all(&bytes).and_then(|_| stdin.flush());
            (stdin, result)
        });
        BackgroundWriter(handle)
    }

    /// Waits for a [`Server::write_in_background`] and takes stdin back; panics if the write failed.
    pub fn finish_writing(&mut self, w: BackgroundWriter) {
        let (stdin, result) = w.0.join().expect("writer thread panicked");
        if let Err(e) = result {
            panic!("writing to mcp-acp stdin failed: {e}\n--- stderr ---\n{}", self.stderr());
        }
        self.stdin = Some(stdin);
    }

    /// Closes stdin (EOF for the server) without waiting.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Next raw stdout line, or `None` after `d`.
    pub fn recv_timeout(&mut self, d: Duration) -> Option<String> {
        self.lines_rx.recv_timeout(d).ok()
    }

    /// Next stdout line parsed as JSON; panics (with stderr) on timeout or non-JSON.
    pub fn recv(&mut self) -> Value {
        let line = match self.lines_rx.recv_timeout(TIMEOUT) {
            Ok(l) => l,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no stdout line from mcp-acp within {TIMEOUT:?}\n--- stderr ---\n{}", self.stderr())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("mcp-acp closed stdout (exited?)\n--- stderr ---\n{}", self.stderr())
            }
        };
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}\n--- stderr ---\n{}", self.stderr()))
    }

    /// Sends a request with the next integer id and returns the whole response. Server-initiated
    /// messages (anything with a `method`) arriving first are kept in `notifications`.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send_json(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let msg = self.recv();
            if msg.get("method").is_some() {
                self.notifications.push(msg);
                continue;
            }
            assert_eq!(msg.get("id"), Some(&json!(id)), "response id mismatch for {method}: {msg}");
            return msg;
        }
    }

    /// Sends a notification (no id).
    pub fn notify(&mut self, method: &str, params: Option<Value>) {
        let mut msg = json!({ "jsonrpc": "2.0", "method": method });
        if let Some(p) = params {
            msg["params"] = p;
        }
        self.send_json(&msg);
    }

    /// `initialize` (protocol 2025-06-18) + `notifications/initialized`; returns the result.
    pub fn initialize(&mut self) -> Value {
        let resp = self.request(
            "initialize",
            json!({
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": { "name": "mcp-acp-tests", "version": "0.0.0" }
            }),
        );
        let result = resp.get("result").cloned().unwrap_or_else(|| panic!("initialize failed: {resp}"));
        self.notify("notifications/initialized", None);
        result
    }

    /// `tools/call`; panics if the answer is a JSON-RPC error.
    pub fn call_tool(&mut self, name: &str, args: Value) -> ToolResult {
        let resp = self.request("tools/call", json!({ "name": name, "arguments": args }));
        if resp.get("error").is_some() {
            panic!("tools/call {name} returned a JSON-RPC error: {resp}\n--- stderr ---\n{}", self.stderr());
        }
        let raw = resp.get("result").cloned().unwrap_or_else(|| panic!("tools/call {name}: no result: {resp}"));
        let text = raw
            .get("content")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter(|i| i.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|i| i.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        let is_error = raw.get("isError").and_then(Value::as_bool).unwrap_or(false);
        ToolResult { is_error, text, raw }
    }

    /// Every stdout line received so far (read by the background thread), each + `\n`.
    pub fn all_stdout(&self) -> String {
        self.all_lines.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|l| format!("{l}\n")).collect()
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.all_lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// stderr collected so far.
    pub fn stderr(&self) -> String {
        self.stderr_buf.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Exit status if the child has already exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Closes stdin, waits up to 15 s (then kills), drains stdout/stderr.
    pub fn close(mut self) -> Finished {
        self.stdin.take();
        let status = self.wait_or_kill(TIMEOUT);
        self.finish(status)
    }

    /// Kills the child at once (no stdin EOF) and drains its output.
    pub fn kill(mut self) -> Finished {
        let status = self.wait_or_kill(Duration::ZERO);
        self.finish(status)
    }

    fn wait_or_kill(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("child already reaped");
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                return child.wait().expect("wait after kill");
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn finish(&mut self, status: ExitStatus) -> Finished {
        self.child = None;
        // The pipes close when the child exits (unless it left grandchildren holding them).
        for h in [self.stdout_thread.take(), self.stderr_thread.take()].into_iter().flatten() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !h.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
        Finished { status, stdout: self.all_stdout(), stderr: self.stderr() }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Shortest piece of [`TOKEN`] that counts as a leak. A log line that hex-dumps bytes in
/// 16-byte rows (as ureq's trace logging does) always shows at least 11 consecutive bytes of
/// the 21-byte token in one row, both in its hex and in its ASCII column.
pub const LEAK_WINDOW: usize = 10;

/// Where and how [`TOKEN`] shows in `haystack`: whole, as any [`LEAK_WINDOW`]-long piece, or
/// as the hex of such a piece (case and whitespace ignored, as in a hex dump).
pub fn token_leak(haystack: &str) -> Option<String> {
    let context = |pos: usize, len: usize| {
        let start = (0..=pos.saturating_sub(60)).rev().find(|&i| haystack.is_char_boundary(i)).unwrap_or(0);
        let end = ((pos + len + 60).min(haystack.len())..=haystack.len())
            .find(|&i| haystack.is_char_boundary(i))
            .unwrap_or(haystack.len());
        haystack[start..end].to_string()
    };
    if let Some(pos) = haystack.find(TOKEN) {
        return Some(format!("token at byte {pos}: …{}…", context(pos, TOKEN.len())));
    }
    let windows = || (0..=TOKEN.len() - LEAK_WINDOW).map(|i| &TOKEN[i..i + LEAK_WINDOW]);
    for w in windows() {
        if let Some(pos) = haystack.find(w) {
            return Some(format!("token piece {w:?} at byte {pos}: …{}…", context(pos, w.len())));
        }
    }
    let squeezed: String = haystack.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    for w in windows() {
        let hex: String = w.bytes().map(|b| format!("{b:02x}")).collect();
        if squeezed.contains(&hex) {
            return Some(format!("hex of token piece {w:?} ({hex})"));
        }
    }
    None
}

/// Close stdin and check the ending most tests share: exit 0, and no trace of [`TOKEN`] on
/// stdout or stderr.
pub fn finish(s: Server) {
    let f = s.close();
    assert_eq!(f.status.code(), Some(0), "{}", f.stderr);
    assert_no_token_leak(&f.stdout);
    assert_no_token_leak(&f.stderr);
}

/// Peak resident memory of a process, in bytes (Linux).
pub fn peak_rss(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: usize = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Panics if [`TOKEN`], a piece of it, or the hex of a piece occurs in `haystack` (see [`token_leak`]).
pub fn assert_no_token_leak(haystack: &str) {
    if let Some(found) = token_leak(haystack) {
        panic!("token leaked: {found}");
    }
}
