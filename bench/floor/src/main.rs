//! The cold-start floor: what any Rust program costs to start, print one line and exit.
//! The bench measures it exactly as it measures the server: spawn → line received.
use std::io::Write;

fn main() {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n");
    let _ = out.flush();
}
