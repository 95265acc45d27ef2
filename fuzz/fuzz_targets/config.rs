//! `config::parse` on arbitrary text: never panics, an accepted configuration keeps the
//! promises the tools rely on, and a refused one says why, each problem where it is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_acp::config::{self, Origin, Severity};
use mcp_acp::credentials::Secret;
use mcp_acp::validate::is_dns1123_label;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let c = match config::parse(text, None) {
        Ok(c) => c,
        Err(e) => {
            // Text alone has only errors (warnings are about files), each about the content.
            assert!(e.path.is_none() && !e.diagnostics.is_empty(), "{e:?}");
            for d in &e.diagnostics {
                assert!(d.severity == Severity::Error && d.origin == Origin::Content, "{d:?}");
                assert!(!d.message.is_empty(), "{d:?}");
            }
            // One line per problem when there are several (a YAML error or an empty file is alone).
            let shown = e.to_string();
            if e.diagnostics.len() > 1 {
                assert_eq!(shown.matches("\n- ").count(), e.diagnostics.len(), "{shown}");
            }
            return;
        }
    };

    assert!(c.env_token.is_none(), "env_token appeared from nowhere");
    let names = c.cluster_names();
    for (i, cl) in c.clusters.iter().enumerate() {
        assert!(
            is_dns1123_label(&cl.default_project),
            "cluster {:?}: default_project {:?} is not a DNS-1123 label",
            cl.name,
            cl.default_project
        );
        assert!(!names[..i].contains(&cl.name.as_str()), "cluster {:?} appears twice", cl.name);
        // (The server URL's own invariants are the `server_url` target's job.)
        assert!(!cl.server.host.is_empty() && cl.server.port != 0, "cluster {:?}: server {:?}", cl.name, cl.server);
        let secs = cl.timeout.as_secs();
        assert!(
            (1..=config::MAX_TIMEOUT_SECS).contains(&secs) && cl.timeout.subsec_nanos() == 0,
            "cluster {:?}: timeout {:?}",
            cl.name,
            cl.timeout
        );
        if let Some(ca) = &cl.tls.ca_cert {
            assert!(!ca.as_os_str().is_empty(), "cluster {:?}: empty ca_cert path", cl.name);
        }
        if let Some(t) = &cl.token {
            let t = t.expose();
            // RFC 6750 b64token, at least 10 characters: what redaction can find in any output.
            let body = t.trim_end_matches('=');
            let b64 = !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
            assert!(t.len() >= 10 && b64, "cluster {:?}: token is not a bearer token of 10+ characters", cl.name);
        }
    }
    // Debug output does not depend on the token values: tokens are never shown.
    let mut masked = c.clone();
    for cl in &mut masked.clusters {
        if cl.token.is_some() {
            cl.token = Some(Secret::new("fuzz-placeholder-token".into()));
        }
    }
    assert_eq!(format!("{c:?}"), format!("{masked:?}"), "Debug of the configuration shows a token");
    if let Some(d) = &c.default_cluster {
        assert!(c.cluster(d).is_some(), "default_cluster {d:?} names no cluster (clusters: {names:?})");
    }
});
