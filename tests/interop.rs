//! Interop with the official MCP Python SDK: `tests/interop/sdk_client.py`, run with the Python
//! of the venv that `tests/interop/run.sh` makes (`MCP_ACP_INTEROP_PYTHON`), drives the binary
//! (`MCP_ACP_BIN`, else the one Cargo built) over stdio through the SDK's own stdio client,
//! against the fake gateway started here. The gateway lives as long as this test waits for the
//! script. Ignored in a plain `cargo test`: run `tests/interop/run.sh`.

mod common;

use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The script bounds each of its connections; this bounds the whole run.
const SCRIPT_LIMIT: Duration = Duration::from_secs(300);
const RUNNING: &str = "session-interop-running";
const DONE: &str = "session-interop-done";

fn interop_python() -> PathBuf {
    match std::env::var_os("MCP_ACP_INTEROP_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "MCP_ACP_INTEROP_PYTHON is not set: it names the python of the venv with the pinned MCP SDK; \
             run tests/interop/run.sh, which makes the venv and sets it"
        ),
    }
}

/// Reads a child's pipe to the end in another thread.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[test]
#[ignore = "needs the interop venv: tests/interop/run.sh"]
fn python_sdk_drives_the_binary_against_the_fake_gateway() {
    let python = interop_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sdk_client.py");
    let env = TestEnv::new();
    // Create then read back must find the prompt: the imagined fixed gateway/backend pair.
    env.gateway.set_faithful_backend(true);
    env.gateway.add_session("team-a", RUNNING, "Running", "2026-01-02T00:00:00Z");
    env.gateway.add_session("team-a", DONE, "Completed", "2026-01-01T00:00:00Z");
    env.write_default_config();

    let mut child = Command::new(&python)
        .arg(&script)
        .env("MCP_ACP_BIN", bin_path())
        .env("ACP_CLUSTER_CONFIG", env.config_path())
        .env("MCP_ACP_INTEROP_RUNNING", RUNNING)
        .env("MCP_ACP_INTEROP_DONE", DONE)
        .env("MCP_ACP_INTEROP_TOKEN", TOKEN)
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("ACP_TOKEN")
        .env_remove("MCP_ACP_CONFIG_PATH")
        .current_dir(env.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} {}: {e}", python.display(), script.display()));
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the interop script") {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let report = format!(
        "--- sdk_client.py stdout ---\n{stdout}\n--- sdk_client.py stderr (with the server's log) ---\n{stderr}"
    );
    match status {
        None => panic!("the interop script did not finish within {SCRIPT_LIMIT:?}\n{report}"),
        Some(s) if !s.success() => panic!("the interop script failed ({s})\n{report}"),
        Some(_) => println!("{stdout}"),
    }
    assert_no_token_leak(&format!("{stdout}\n{stderr}"));
    let requests = env.gateway.requests();
    let created = requests.iter().filter(|r| r.method == "POST" && r.path == "/v1/sessions").count();
    let deleted = requests.iter().filter(|r| r.method == "DELETE").count();
    assert_eq!((created, deleted), (1, 1), "one create and one delete reached the gateway\n{report}");
    assert_eq!(env.gateway.session_ids("team-a"), [RUNNING, DONE].map(String::from), "the seeded sessions remain");
}
