//! The `mcp-acp` binary: arguments, logging, then the stdio loop.

use mcp_acp::config::ApiKind;
use mcp_acp::gateway::ambient::Ambient;
use mcp_acp::gateway::v1::GatewayV1;
use mcp_acp::server::{self, Server};
use mcp_acp::tools::Context;
use mcp_acp::{config, logging, redact};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "\
mcp-acp: an MCP server for the Ambient Code Platform (public-api gateway and ambient API server).

Usage: mcp-acp [--help | --version | --demo]

With no arguments it serves MCP (JSON-RPC 2.0) over stdin/stdout; an MCP client starts it.
--demo serves every tool against a built-in in-memory platform with a few sessions: no
configuration, no network, no token; every result says it is a demo.

Configuration: clusters.yaml from $ACP_CLUSTER_CONFIG, else $MCP_ACP_CONFIG_PATH,
else ~/.config/acp/clusters.yaml. Token: the cluster's `token`, else $ACP_TOKEN.
Audit log: $ACP_AUDIT_LOG, else `audit_log` in clusters.yaml (see the README).
Logs go to stderr; the level comes from RUST_LOG (default: warn).
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve(Context::with_backends(
            config::config_path(),
            vec![
                (ApiKind::PublicApi, Box::new(GatewayV1::default())),
                (ApiKind::Ambient, Box::new(Ambient::default())),
            ],
        )),
        Some("--demo") if args.len() == 1 => serve(mcp_acp::demo::context()),
        Some("--help" | "-h") if args.len() == 1 => print(USAGE),
        Some("--version" | "-V") if args.len() == 1 => print(&format!("mcp-acp {}\n", env!("CARGO_PKG_VERSION"))),
        Some(_) => {
            let shown: Vec<String> = args.iter().map(|a| mcp_acp::validate::quote(a)).collect();
            eprintln!("mcp-acp: unexpected argument(s) {}; try --help", shown.join(" "));
            ExitCode::from(2)
        }
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
