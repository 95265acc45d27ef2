//! Base64 decoding (RFC 4648), standard and URL alphabets, padding optional: JWT payloads are
//! base64url, certificate pins standard base64. Small enough not to be a dependency.

/// The standard alphabet's two last characters.
pub const STANDARD: [u8; 2] = *b"+/";
/// The URL-safe alphabet's two last characters (JWTs).
pub const URL: [u8; 2] = *b"-_";

/// Decode `text` in the alphabet ending in `last`; `None` on any other character, on a lone
/// trailing character, or on padding that is not at the end.
pub fn decode(text: &str, last: [u8; 2]) -> Option<Vec<u8>> {
    let text = text.strip_suffix("==").or_else(|| text.strip_suffix('=')).unwrap_or(text);
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            c if c == last[0] => 62,
            c if c == last[1] => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    Some(out)
}

/// Unpadded base64url (tests, and what a test IdP issues).
pub fn encode_url(bytes: &[u8]) -> String {
    encode(bytes, URL, false)
}

/// Encode in the alphabet ending in `last`, padded or not.
pub fn encode(bytes: &[u8], last: [u8; 2], pad: bool) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let char_of = |v: u32| match v {
        0..=25 => (b'A' + v as u8) as char,
        26..=51 => (b'a' + (v - 26) as u8) as char,
        52..=61 => (b'0' + (v - 52) as u8) as char,
        62 => last[0] as char,
        _ => last[1] as char,
    };
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | ((*b as u32) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            s.push(char_of((n >> (18 - 6 * i)) & 63));
        }
        if pad {
            s.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_alphabets_round_trip_every_length_padded_or_not() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            for (alphabet, pad) in [(URL, false), (STANDARD, true), (STANDARD, false)] {
                assert_eq!(decode(&encode(&bytes, alphabet, pad), alphabet), Some(bytes.clone()));
            }
        }
        // RFC 4648 §10 test vectors.
        assert_eq!(encode(b"foobar", STANDARD, true), "Zm9vYmFy");
        assert_eq!(encode(b"fo", STANDARD, true), "Zm8=");
        assert_eq!(decode("Zm9vYg==", STANDARD), Some(b"foob".to_vec()));
    }

    #[test]
    fn foreign_characters_and_misplaced_padding_are_refused() {
        assert_eq!(decode("a+b/", URL), None);
        assert_eq!(decode("a-b_", STANDARD), None);
        assert_eq!(decode("abcde", URL), None, "a lone trailing character is no byte");
        assert_eq!(decode("Zm=9", STANDARD), None);
        assert_eq!(decode("Zm9v\n", STANDARD), None);
    }
}
