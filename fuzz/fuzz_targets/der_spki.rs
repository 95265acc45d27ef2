//! The DER walk that finds a certificate's SubjectPublicKeyInfo (for pinning) never panics,
//! whatever the bytes, and what it returns is one complete SEQUENCE inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_acp::der::{sequence, spki};

fuzz_target!(|data: &[u8]| {
    let Some(found) = spki(data) else { return };
    let start = found.as_ptr() as usize - data.as_ptr() as usize;
    assert!(start + found.len() <= data.len(), "outside the input");
    assert_eq!(found[0], 0x30, "not a SEQUENCE");
    // Re-wrapping its value gives back the same bytes: the header was minimal DER.
    let header = found.len() - value_len(found);
    assert_eq!(sequence(&found[header..]), found);
});

/// The value length of a well-formed element (the parser already accepted it).
fn value_len(el: &[u8]) -> usize {
    match el[1] {
        n @ 0..=0x7f => n as usize,
        n => el[2..2 + (n & 0x7f) as usize].iter().fold(0, |acc, b| (acc << 8) | *b as usize),
    }
}
