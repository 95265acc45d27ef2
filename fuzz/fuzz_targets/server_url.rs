//! `validate::parse_server_url` on arbitrary text: never panics, and what it accepts is a
//! URL the rest of the server can trust (right scheme, a host, a real port, no 6443, no
//! junk) and that survives a round trip through `base()`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_acp::validate::parse_server_url;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let Ok(url) = parse_server_url(raw) else { return };
    assert_ne!(url.port, 6443, "the Kubernetes API port, written another way: {raw:?}");

    let origin = url.origin();
    let base = url.base();
    assert!(origin.starts_with("http://") || origin.starts_with("https://"), "origin {origin:?} from {raw:?}");
    assert!(
        raw.starts_with(&format!("{}://", url.scheme.as_str())),
        "scheme {:?} not the input's: {raw:?}",
        url.scheme
    );
    assert!(!raw.contains(":6443"), "accepted a :6443 URL: {raw:?}");
    assert!(!url.host.is_empty(), "empty host from {raw:?}");
    assert_ne!(url.port, 0, "port 0 from {raw:?}");
    assert!(!url.path.ends_with('/'), "path {:?} keeps a trailing '/' (from {raw:?})", url.path);
    assert!(
        !base.chars().any(|c| c.is_whitespace() || c.is_control()),
        "base {base:?} has whitespace or control characters (from {raw:?})"
    );
    assert!(!url.host.contains(['@', '/', '?', '#']), "host {:?} from {raw:?}", url.host);

    // Round trip: base() must parse again, to the same origin and the same URL.
    let again =
        parse_server_url(&base).unwrap_or_else(|e| panic!("base {base:?} (from {raw:?}) does not parse again: {e}"));
    assert_eq!(again.origin(), origin, "origin changed on the round trip of {raw:?} via {base:?}");
    assert_eq!(again, url, "URL changed on the round trip of {raw:?} via {base:?}");
    assert_eq!(again.base(), base);
});
