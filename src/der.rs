//! The one thing certificate pinning needs from a certificate: its SubjectPublicKeyInfo.
//!
//! A minimal DER walk (X.509, RFC 5280 §4.1): Certificate → tbsCertificate → the seventh
//! field. Every length is checked against what is left, only the definite, minimal length
//! forms DER allows are read, and anything else is `None`. Pure and fuzzed (fuzz/der_spki).

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
/// `[0] EXPLICIT Version`, present on every v2/v3 certificate.
const VERSION: u8 = 0xa0;

/// One element: its tag, the whole element (header and value), its value, and what follows.
struct Tlv<'a> {
    tag: u8,
    whole: &'a [u8],
    value: &'a [u8],
    rest: &'a [u8],
}

/// The first element of `input`, if it is well-formed DER.
fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    // High tag numbers (0x1f) never occur where we look.
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, after_len) = after_tag.split_first()?;
    let (len, after_len) = match first {
        0..=0x7f => (first as usize, after_len),
        // 0x80 is the indefinite form (BER only); over four bytes is more than we can hold.
        0x81..=0x84 => {
            let n = (first & 0x7f) as usize;
            let bytes = after_len.get(..n)?;
            // Minimal encoding only: no leading zero, and the long form only from 128 up.
            if bytes[0] == 0 {
                return None;
            }
            let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            if len < 0x80 {
                return None;
            }
            (len, &after_len[n..])
        }
        _ => return None,
    };
    let header = input.len() - after_len.len();
    let end = header.checked_add(len)?;
    Some(Tlv { tag, whole: input.get(..end)?, value: after_len.get(..len)?, rest: input.get(end..)? })
}

/// The next element of `input`, which must have tag `tag`.
fn expect(input: &[u8], tag: u8) -> Option<Tlv<'_>> {
    tlv(input).filter(|t| t.tag == tag)
}

/// The SubjectPublicKeyInfo of a DER certificate, as the complete DER element (what a pin is
/// the SHA-256 of). `None` if `cert` is not one certificate in DER.
pub fn spki(cert: &[u8]) -> Option<&[u8]> {
    let certificate = expect(cert, SEQUENCE).filter(|c| c.rest.is_empty())?;
    let tbs = expect(certificate.value, SEQUENCE)?;
    let mut fields = tbs.value;
    if let Some(version) = expect(fields, VERSION) {
        fields = version.rest;
    }
    let serial = expect(fields, INTEGER)?;
    fields = serial.rest;
    // signature, issuer, validity, subject: all SEQUENCEs.
    for _ in 0..4 {
        fields = expect(fields, SEQUENCE)?.rest;
    }
    Some(expect(fields, SEQUENCE)?.whole)
}

/// `contents` as the value of a SEQUENCE: a trust anchor keeps its SubjectPublicKeyInfo
/// without the outer header, and the pin is over the whole element.
pub fn sequence(contents: &[u8]) -> Vec<u8> {
    let len = contents.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(SEQUENCE);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element with tag `tag` around `value`.
    fn el(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = sequence(value);
        out[0] = tag;
        out
    }

    /// A certificate shaped enough for the walk: version, serial, four SEQUENCEs, the SPKI,
    /// then the outer signature algorithm and value.
    fn cert(spki_value: &[u8], with_version: bool) -> Vec<u8> {
        let mut tbs = Vec::new();
        if with_version {
            tbs.extend(el(VERSION, &el(INTEGER, &[2])));
        }
        tbs.extend(el(INTEGER, &[1, 2, 3]));
        for filler in [&b"alg"[..], b"issuer", b"validity", b"subject"] {
            tbs.extend(el(SEQUENCE, filler));
        }
        tbs.extend(el(SEQUENCE, spki_value));
        tbs.extend(el(0xa3, b"extensions"));
        let mut body = el(SEQUENCE, &tbs);
        body.extend(el(SEQUENCE, b"sigalg"));
        body.extend(el(0x03, b"\0sig"));
        el(SEQUENCE, &body)
    }

    #[test]
    fn the_spki_is_found_with_or_without_a_version_and_at_any_length() {
        for len in [0, 5, 127, 128, 255, 256, 70_000] {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for with_version in [true, false] {
                let c = cert(&key, with_version);
                assert_eq!(spki(&c), Some(&sequence(&key)[..]), "len {len}, version {with_version}");
            }
        }
    }

    #[test]
    fn sequence_headers_are_minimal() {
        assert_eq!(sequence(&[]), [0x30, 0]);
        assert_eq!(&sequence(&[0; 127])[..2], [0x30, 0x7f]);
        assert_eq!(&sequence(&[0; 128])[..3], [0x30, 0x81, 0x80]);
        assert_eq!(&sequence(&[0; 256])[..4], [0x30, 0x82, 0x01, 0x00]);
    }

    #[test]
    fn malformed_input_is_none_never_a_panic() {
        let good = cert(b"key", true);
        assert!(spki(&good).is_some());
        // Every truncation, and trailing bytes.
        for end in 0..good.len() {
            assert_eq!(spki(&good[..end]), None, "truncated to {end}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(spki(&trailing), None);
        // Lengths DER does not allow: indefinite, non-minimal, too long, past the end.
        for bad in [
            &[0x30, 0x80, 0, 0][..],
            &[0x30, 0x81, 0x05, 1, 2, 3, 4, 5],
            &[0x30, 0x82, 0x00, 0x80],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x3f, 0x00],
            &[],
        ] {
            assert_eq!(spki(bad), None, "{bad:02x?}");
        }
        // A field of the wrong kind where the SPKI should be.
        let mut tbs = el(INTEGER, &[1]);
        for _ in 0..4 {
            tbs.extend(el(SEQUENCE, b""));
        }
        tbs.extend(el(0x04, b"not a sequence"));
        assert_eq!(spki(&el(SEQUENCE, &el(SEQUENCE, &tbs))), None);
    }
}
