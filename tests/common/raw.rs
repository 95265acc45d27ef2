//! A raw std HTTP client for the harness self-tests: exact statuses, headers and bodies,
//! with nothing of the server under test in between.

use super::gateway::FakeGateway;
use serde_json::Value;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub const TOK: &str = "tok-selftest";
pub const JSON_CT: &str = "application/json; charset=utf-8";

// ---------------------------------------------------------------- raw client

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// Asserts status, JSON content type and exact body text.
    pub fn expect(&self, status: u16, body: &str) {
        assert_eq!((self.status, self.text().as_str()), (status, body));
        assert_eq!(self.header("content-type"), Some(JSON_CT));
    }
}

pub fn connect(gw: &FakeGateway) -> TcpStream {
    let s = TcpStream::connect(gw.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads one response; the body by Content-Length, else to EOF (none for 204/HEAD).
pub fn read_resp<R: BufRead>(r: &mut R, head_only: bool) -> Resp {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status: u16 =
        line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header line");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').expect("header colon");
        headers.push((n.to_string(), v.trim().to_string()));
    }
    let mut resp = Resp { status, headers, body: Vec::new() };
    if head_only || status == 204 || status == 304 {
        return resp;
    }
    match resp.header("content-length").map(|v| v.parse::<usize>().unwrap()) {
        Some(n) => {
            resp.body = vec![0; n];
            r.read_exact(&mut resp.body).expect("body");
        }
        None => {
            r.read_to_end(&mut resp.body).expect("body to EOF");
        }
    }
    resp
}

pub fn raw(gw: &FakeGateway, request: &[u8]) -> Resp {
    send_to(gw.addr(), request)
}

/// One request on a new connection to `addr`, and its response.
pub fn send_to(addr: SocketAddr, request: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    read_resp(&mut BufReader::new(s), request.starts_with(b"HEAD "))
}

pub fn build(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(b) = body {
        out.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    out.push_str("\r\n");
    out.push_str(body.unwrap_or(""));
    out.into_bytes()
}

pub fn req(gw: &FakeGateway, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    raw(gw, &build(method, path, headers, body))
}

pub const AUTH: &str = "Bearer tok-selftest";

/// Authenticated request for project `team-a`.
pub fn api(gw: &FakeGateway, method: &str, path: &str, body: Option<&str>) -> Resp {
    req(gw, method, path, &[("Authorization", AUTH), ("X-Ambient-Project", "team-a")], body)
}

pub fn gateway() -> FakeGateway {
    let gw = FakeGateway::start();
    gw.accept_token(TOK);
    gw.add_project("team-a");
    gw
}

pub fn ts(minute: u32) -> String {
    format!("2026-01-01T10:{minute:02}:00Z")
}

/// An unsigned JWT whose payload is `payload` (unpadded base64url).
pub fn jwt(payload: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in payload.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    format!("eyJhbGciOiJSUzI1NiJ9.{out}.c2ln")
}

// ---------------------------------------------------------------- list / get / delete

/// GET `url` (`http://host:port/path`) on a new connection: the status, the Location, the body.
pub fn get_url(url: &str) -> (u16, Option<String>, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut tcp = TcpStream::connect(host).unwrap();
    write!(tcp, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let location = text.lines().find_map(|l| l.strip_prefix("Location: ").map(str::to_string));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, location, body)
}
