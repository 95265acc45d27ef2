//! Authorization code + PKCE S256 (RFC 7636) with a loopback redirect (RFC 8252 §7.3): the
//! user opens the URL we print; the provider sends the browser back to
//! `http://127.0.0.1:<port>/callback`, where we wait for exactly that request. Randomness and
//! SHA-256 come from rustls' ring provider, which the TLS stack already carries.

use super::OidcError;
use super::client::form_encode;
use crate::base64::encode_url;
use crate::credentials::Secret;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long we wait for the browser to come back.
pub const BROWSER_WAIT: Duration = Duration::from_secs(300);
/// The longest one connection to the callback may take to send its request.
const REQUEST_TIME: Duration = Duration::from_secs(5);

pub fn random(n: usize) -> Result<Vec<u8>, OidcError> {
    let mut buf = vec![0u8; n];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut buf)
        .map_err(|_| OidcError::Setup("the system's random number generator failed".into()))?;
    Ok(buf)
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    match rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256 {
        rustls::SupportedCipherSuite::Tls13(s) => s.common.hash_provider.hash(data).as_ref().to_vec(),
        #[allow(unreachable_patterns)]
        _ => Vec::new(),
    }
}

/// A browser login under way: the URL to open, and the loopback listener it returns to.
pub struct BrowserLogin {
    pub url: String,
    pub redirect_uri: String,
    pub verifier: Secret,
    state: String,
    listener: TcpListener,
}

impl BrowserLogin {
    pub fn start(authorization_endpoint: &str, client_id: &str, scopes: &[String]) -> Result<BrowserLogin, OidcError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| OidcError::Setup(format!("cannot listen on 127.0.0.1 for the browser's return ({e})")))?;
        let port = listener.local_addr().map_err(|e| OidcError::Setup(e.to_string()))?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}/callback");
        let verifier = Secret::new(encode_url(&random(32)?));
        let challenge = encode_url(&sha256(verifier.expose().as_bytes()));
        let state = encode_url(&random(16)?);
        let fields = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", &scopes.join(" ")),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", &state),
        ];
        let query: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect();
        let sep = if authorization_endpoint.contains('?') { '&' } else { '?' };
        let url = format!("{authorization_endpoint}{sep}{}", query.join("&"));
        Ok(BrowserLogin { url, redirect_uri, verifier, state, listener })
    }

    /// Wait for the browser's return to the callback; the authorization code.
    pub fn wait(&self, within: Duration) -> Result<Secret, OidcError> {
        let deadline = Instant::now() + within;
        self.listener.set_nonblocking(true).map_err(|e| OidcError::Setup(e.to_string()))?;
        loop {
            if Instant::now() >= deadline {
                return Err(OidcError::Setup(format!("the browser did not come back within {} s", within.as_secs())));
            }
            let stream = match self.listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                Err(e) => return Err(OidcError::Setup(format!("the loopback listener failed ({e})"))),
            };
            // Each connection has until a fixed time, never past the wait's: one that trickles
            // its request is dropped then, and the wait goes on.
            let until = deadline.min(Instant::now() + REQUEST_TIME);
            if let Some(result) = self.answer(stream, until) {
                return result;
            }
        }
    }

    /// One request to the listener: `None` if it is not the answer to this login (a favicon, a
    /// probe, or a callback without our `state`: another local user's code must not log us in
    /// as them), and the wait goes on. With our `state`, the provider's answer ends the login.
    /// The request must be in by `until`: past it, the connection is answered 408 and dropped.
    fn answer(&self, mut stream: TcpStream, until: Instant) -> Option<Result<Secret, OidcError>> {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
        let head = {
            let mut reader = BufReader::new(Until { stream: &stream, until }.take(16 * 1024));
            read_head(&mut reader)
        };
        let line = match head {
            Ok(line) => line,
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                log::warn!("dropped a connection to the login's callback that did not send its request in time");
                reply(&mut stream, "408 Request Timeout", "The request took too long.");
                return None;
            }
            Err(_) => return None,
        };
        let target = line.split(' ').nth(1).unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != "/callback" {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return None;
        }
        let field = |k: &str| {
            query.split('&').find_map(|p| p.strip_prefix(k).and_then(|v| v.strip_prefix('='))).map(percent_decode)
        };
        if !field("state").is_some_and(|s| same(s.as_bytes(), self.state.as_bytes())) {
            log::warn!("refused a request to the login's callback without this login's state (not from our browser)");
            reply(&mut stream, "400 Bad Request", "This is not the answer to the login under way (wrong or no state).");
            return None;
        }
        let result = match (field("code"), field("error")) {
            (_, Some(e)) => {
                Err(OidcError::Oauth { status: 400, error: crate::validate::clip(&e, 80), description: None })
            }
            (Some(code), None) if !code.is_empty() => Ok(Secret::new(code)),
            _ => Err(OidcError::Setup("the browser came back without a code".into())),
        };
        let body = match &result {
            Ok(_) => "Logged in to mcp-acp. You can close this tab.",
            Err(_) => "The login failed; see the terminal.",
        };
        reply(&mut stream, "200 OK", body);
        Some(result)
    }
}

/// A connection read only until `until`: each read waits at most what is left of it, and none
/// starts once it is gone (a peer sending a byte now and then does not keep it open).
struct Until<'a> {
    stream: &'a TcpStream,
    until: Instant,
}

impl Read for Until<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut stream = self.stream;
        stream.read(buf)
    }
}

/// The request line, its headers read past (to the blank line, or the end of what may be read).
fn read_head(reader: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    Ok(line)
}

fn reply(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Equal, in a time that does not depend on where they differ (the state is what a guess
/// would be measured against).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_and_the_s256_challenge_are_right() {
        let hex: String = sha256(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let verifier = "dBjftJeZ4CVP-mJ92K2wNuKeU3Ck_yg2J8kQJeF9WkM";
        assert_eq!(encode_url(&sha256(verifier.as_bytes())), "z4QOvw56Bv140Sj9bdBVvE9kOkowMjitZQy0lD5Y0lY");
        assert_eq!(random(32).unwrap().len(), 32);
        assert_ne!(random(16).unwrap(), random(16).unwrap());
        assert_eq!(percent_decode("a%2Fb+c%zz"), "a/b c%zz");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab") && !same(b"", b"a"));
    }
}
