//! The `mcp-acp` binary: arguments, logging, then the stdio loop.

use mcp_acp::server::{self, Server};
use mcp_acp::tools::Context;
use mcp_acp::{config, logging, redact};
use std::io::Write;
use std::process::ExitCode;

/// The static build's allocator: musl's own is slower on this server's many short-lived
/// allocations and gives every large buffer back to the kernel at once, to be faulted in
/// afresh on the next call (Cargo.toml, README §Performance).
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

const USAGE: &str = "\
mcp-acp: an MCP server for the Ambient Code Platform (public-api gateway and ambient API server).

Usage: mcp-acp [--read-only] [--demo] | check-config [--online] [--strict] [--json] | --help | --version
       mcp-acp login <cluster> [--browser | --client-credentials] | logout <cluster>

With no arguments it serves MCP (JSON-RPC 2.0) over stdin/stdout; an MCP client starts it.
--demo serves every tool against a built-in in-memory platform with a few sessions: no
configuration, no network, no token; every result says it is a demo.
check-config lists every problem of the configuration (see check-config --help).
--read-only (or ACP_READ_ONLY=1, or read_only: true in clusters.yaml) offers only the tools
that change nothing on the platform.

Configuration: clusters.yaml from $ACP_CLUSTER_CONFIG, else $MCP_ACP_CONFIG_PATH,
else ~/.config/acp/clusters.yaml. Token: the cluster's `token`, else its stored login
(`mcp-acp login <cluster>`, or `token_from: acpctl`), else $ACP_TOKEN.
Audit log: $ACP_AUDIT_LOG, else `audit_log` in clusters.yaml (see the README).
Logs go to stderr; the level comes from RUST_LOG (default: warn).
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--read-only` goes with serving (and the demo), wherever it is written.
    let read_only_flag = args.iter().position(|a| a == "--read-only").map(|i| args.remove(i)).is_some();
    let read_only = match read_only_flag {
        true => Some("--read-only"),
        false => read_only_env(),
    };
    let serving = |mut ctx: Context| {
        if let Some(why) = read_only {
            ctx.set_read_only(why);
        }
        serve(ctx)
    };
    match args.first().map(String::as_str) {
        None => serving(mcp_acp::doctor::server_context(config::config_path())),
        Some("login" | "logout") => {
            init_logging();
            mcp_acp::oidc::cli::run(&args)
        }
        Some("--demo") if args.len() == 1 => serving(mcp_acp::demo::context()),
        Some("check-config") => {
            init_logging();
            mcp_acp::doctor::run(&args[1..])
        }
        Some("--help" | "-h") if args.len() == 1 => print(USAGE),
        Some("--version" | "-V") if args.len() == 1 => print(&format!("mcp-acp {}\n", env!("CARGO_PKG_VERSION"))),
        Some(_) => {
            let shown: Vec<String> = args.iter().map(|a| mcp_acp::validate::quote(a)).collect();
            eprintln!("mcp-acp: unexpected argument(s) {}; try --help", shown.join(" "));
            ExitCode::from(2)
        }
    }
}

/// `ACP_READ_ONLY`: `1`, `true` or `yes` turn read-only mode on; `0`, `false`, `no` or empty
/// leave it off. Anything else turns it on too: a typo must not leave the server writable.
fn read_only_env() -> Option<&'static str> {
    let value = std::env::var("ACP_READ_ONLY").ok()?;
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" => None,
        "1" | "true" | "yes" => Some("ACP_READ_ONLY=1"),
        _ => Some("ACP_READ_ONLY is set to a value other than 0/false/no"),
    }
}

fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn serve(ctx: Context) -> ExitCode {
    // Known before any configuration is read, so it is scrubbed from every line we write.
    if let Ok(token) = std::env::var("ACP_TOKEN") {
        redact::register(token.trim());
    }
    init_logging();
    server::install_panic_hook();
    mcp_acp::audit::survive_file_size_limit();
    let mut server = Server::new(ctx);
    let stdin = match mcp_acp::input::Stdin::open() {
        Ok(stdin) => stdin,
        Err(e) => {
            log::error!("cannot read standard input: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match server::serve(&mut server, stdin, stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("stdio failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// RUST_LOG, else MCP_ACP_LOG_LEVEL, else warn.
fn init_logging() {
    let spec = ["RUST_LOG", "MCP_ACP_LOG_LEVEL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "warn".into());
    logging::init(&spec);
}
