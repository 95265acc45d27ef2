//! JWT claims are read from any token without panicking, whatever its bytes: three parts or
//! not, base64url or not, JSON of any shape or size in the middle. What comes back is only
//! ever read from the payload: a token without a JSON object there has no claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_acp::jwt::claims;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let found = claims(s);
    if found.is_some() {
        assert_eq!(s.split('.').count(), 3, "claims from a token that is not three parts: {s:?}");
    }
    // Any text as the payload of a well-formed token, too.
    let _ = claims(&format!("eyJhbGciOiJub25lIn0.{s}.sig"));
    if let Some(c) = found {
        for v in [&c.sub, &c.iss, &c.preferred_username, &c.username, &c.azp].into_iter().flatten() {
            // 200 characters, then at most the cut marker.
            assert!(v.chars().count() <= 260, "a claim longer than its cut: {} chars", v.chars().count());
        }
    }
});
