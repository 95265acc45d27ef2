//! Minimal blocking HTTP/1.1 plumbing for the fake gateway (std, plus rustls for the HTTPS
//! mode): request parsing, response writing, a thread-per-connection keep-alive server over
//! plain TCP or TLS, plus the small encoders/decoders it needs (percent-decoding, base64,
//! Go-style JSON strings, clocks).
//!
//! Nothing in here panics on bad input: parse failures come back as `Err` and the caller
//! closes the connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MAX_LINE: u64 = 64 * 1024;
const MAX_HEADERS: usize = 200;
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// One parsed request as it came off the wire.
pub struct Request {
    pub method: String,
    /// Raw request target, including the query string.
    pub target: String,
    pub version: String,
    /// Header names lower-cased, values trimmed of surrounding blanks (as Go does).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// First value of a header (Go's `Header.Get`); `name` is matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// HTTP/1.1 persists unless `Connection: close`; HTTP/1.0 only with `keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let tokens: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| n == "connection")
            .flat_map(|(_, v)| v.split(',').map(|t| t.trim().to_ascii_lowercase()).collect::<Vec<_>>())
            .collect();
        if self.version == "HTTP/1.0" {
            tokens.iter().any(|t| t == "keep-alive")
        } else {
            !tokens.iter().any(|t| t == "close")
        }
    }
}

/// Reads one line ending in `\n` (at most `MAX_LINE` bytes). `Ok(None)` = clean EOF before any byte.
fn read_line<R: BufRead>(r: &mut R) -> Result<Option<Vec<u8>>, String> {
    let mut buf = Vec::new();
    let n = r.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf).map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err("line too long or truncated".into());
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(buf))
}

/// Reads one request. `Ok(None)`: the peer closed the connection between requests.
/// `Err`: malformed or truncated request (the caller answers 400 where possible and closes).
pub fn read_request<R: BufRead, W: Write>(r: &mut R, w: &mut W) -> Result<Option<Request>, String> {
    // RFC 9112 §2.2: ignore empty lines before the request line.
    let line = loop {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let line = String::from_utf8(line).map_err(|_| "non-UTF-8 request line".to_string())?;
    let mut parts = line.splitn(3, ' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v)) if !m.is_empty() && !t.is_empty() => (m, t, v),
        _ => return Err("malformed request line".into()),
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err("unsupported HTTP version".into());
    }
    let mut headers = Vec::new();
    loop {
        let l = read_line(r)?.ok_or("EOF in headers")?;
        if l.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err("too many headers".into());
        }
        let l = String::from_utf8_lossy(&l).into_owned();
        let (name, value) = l.split_once(':').ok_or("malformed header line")?;
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err("malformed header name".into());
        }
        headers.push((name.to_ascii_lowercase(), value.trim_matches([' ', '\t']).to_string()));
    }
    let mut req =
        Request { method: method.into(), target: target.into(), version: version.into(), headers, body: Vec::new() };
    let chunked = match req.header("transfer-encoding") {
        None => false,
        Some(te) if te.eq_ignore_ascii_case("chunked") => true,
        Some(_) => return Err("unsupported transfer encoding".into()),
    };
    let content_length = match req.header("content-length") {
        Some(v) if !chunked => Some(v.parse::<u64>().map_err(|_| "bad Content-Length")?),
        _ => None,
    };
    let wants_body = chunked || content_length.unwrap_or(0) > 0;
    if wants_body && req.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").and_then(|_| w.flush()).map_err(|e| e.to_string())?;
    }
    if chunked {
        req.body = read_chunked(r)?;
    } else if let Some(n) = content_length {
        if n > MAX_BODY {
            return Err("body too large".into());
        }
        let mut body = Vec::with_capacity(n as usize);
        r.by_ref().take(n).read_to_end(&mut body).map_err(|e| e.to_string())?;
        if body.len() as u64 != n {
            return Err("truncated body".into());
        }
        req.body = body;
    }
    Ok(Some(req))
}

fn read_chunked<R: BufRead>(r: &mut R) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?.ok_or("EOF in chunk size")?;
        let line = String::from_utf8_lossy(&line);
        let size_str = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size_str, 16).map_err(|_| "bad chunk size")?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(r)?.ok_or("EOF in trailers")?.is_empty() {}
            return Ok(body);
        }
        if body.len() as u64 + size > MAX_BODY {
            return Err("body too large".into());
        }
        let before = body.len();
        r.by_ref().take(size).read_to_end(&mut body).map_err(|e| e.to_string())?;
        if (body.len() - before) as u64 != size {
            return Err("truncated chunk".into());
        }
        if !read_line(r)?.ok_or("EOF after chunk")?.is_empty() {
            return Err("missing CRLF after chunk".into());
        }
    }
}

/// A response to be written by [`write_response`].
pub struct Response {
    pub status: u16,
    /// Headers set by the "handler"; `Date`, `Content-Length` and `Connection` are added on write.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Response {
        let headers = content_type.map(|ct| vec![("Content-Type".to_string(), ct.to_string())]).unwrap_or_default();
        Response { status, headers, body: body.into() }
    }
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, Some(JSON_CT), body)
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

pub const JSON_CT: &str = "application/json; charset=utf-8";

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Serialises the head the way Go's net/http does (handler headers sorted, then
/// `Connection`, `Date`, `Content-Length`). `declared_len` overrides Content-Length.
pub fn head_bytes(resp: &Response, close: bool, declared_len: Option<usize>) -> Vec<u8> {
    let reason = reason(resp.status);
    let reason = if reason.is_empty() { format!("status code {}", resp.status) } else { reason.to_string() };
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, reason);
    let mut hs = resp.headers.clone();
    hs.sort_by(|a, b| a.0.cmp(&b.0));
    for (n, v) in &hs {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str(&format!("Date: {}\r\n", http_date_now()));
    let bodyless = resp.status < 200 || resp.status == 204 || resp.status == 304;
    if !bodyless {
        out.push_str(&format!("Content-Length: {}\r\n", declared_len.unwrap_or(resp.body.len())));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Writes a complete response; the body is left out for HEAD and for bodyless statuses.
pub fn write_response<W: Write>(w: &mut W, resp: &Response, head_only: bool, close: bool) -> io::Result<()> {
    let mut bytes = head_bytes(resp, close, None);
    let bodyless = resp.status < 200 || resp.status == 204 || resp.status == 304;
    if !head_only && !bodyless {
        bytes.extend_from_slice(&resp.body);
    }
    w.write_all(&bytes)?;
    w.flush()
}

/// What Go's server writes for a request it cannot parse.
pub fn write_bad_request<W: Write>(w: &mut W, detail: Option<&str>) -> io::Result<()> {
    // Go writes the detail into the status line too: "HTTP/1.1 400 Bad Request: <detail>".
    let public = match detail {
        Some(d) => format!("400 Bad Request: {d}"),
        None => "400 Bad Request".to_string(),
    };
    let s =
        format!("HTTP/1.1 {public}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{public}");
    w.write_all(s.as_bytes())?;
    w.flush()
}

// ---------------------------------------------------------------- server

/// What a handler wants done with the connection after a request.
pub enum Next {
    /// Keep the connection for the next request (unless the client asked to close).
    Continue,
    /// Send FIN and close.
    Close,
    /// Keep the socket open, answer nothing, until the server is dropped.
    Hang,
    /// Close with RST (SO_LINGER 0).
    Reset,
}

/// Per-request context handed to the handler.
pub struct Ctx<'a> {
    pub peer_ip: &'a str,
    /// The client asked to close after this response (or spoke HTTP/1.0 without keep-alive).
    pub close: bool,
    pub stopped: &'a AtomicBool,
}

type Handler = dyn Fn(&Request, &Ctx, &mut Conn) -> Next + Send + Sync;

type TlsStream = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

/// One accepted connection as the handler sees it: plain TCP, or TLS over TCP (HTTPS mode).
/// Reading and writing go through the same connection; the socket itself stays reachable for
/// shutdown and for an abortive close.
pub struct Conn {
    tcp: TcpStream,
    tls: Option<Rc<RefCell<TlsStream>>>,
}

impl Conn {
    fn plain(tcp: TcpStream) -> Conn {
        Conn { tcp, tls: None }
    }

    fn tls(tcp: TcpStream, config: Arc<rustls::ServerConfig>) -> io::Result<Conn> {
        let session = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
        let socket = tcp.try_clone()?;
        Ok(Conn { tcp, tls: Some(Rc::new(RefCell::new(rustls::StreamOwned::new(session, socket)))) })
    }

    /// A second handle on the same connection (the reading side of [`serve_conn`]).
    fn try_clone(&self) -> io::Result<Conn> {
        Ok(Conn { tcp: self.tcp.try_clone()?, tls: self.tls.clone() })
    }

    /// The TCP socket under the connection.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Ends the sending side: TLS close_notify (in HTTPS mode), then a TCP FIN.
    pub fn shutdown_write(&mut self) {
        if let Some(tls) = &self.tls {
            let mut t = tls.borrow_mut();
            t.conn.send_close_notify();
            let _ = t.flush();
        }
        let _ = self.tcp.shutdown(Shutdown::Write);
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.tls {
            Some(tls) => tls.borrow_mut().read(buf),
            None => self.tcp.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.tls {
            Some(tls) => tls.borrow_mut().write(buf),
            None => self.tcp.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &self.tls {
            Some(tls) => tls.borrow_mut().flush(),
            None => self.tcp.flush(),
        }
    }
}

#[derive(Default)]
struct Conns {
    next: u64,
    open: HashMap<u64, TcpStream>,
}

/// A blocking HTTP/1.1 server on 127.0.0.1:0, one thread per connection, keep-alive;
/// HTTPS when started with [`HttpServer::start_tls`].
/// Dropping it stops accepting and shuts every open connection down.
pub struct HttpServer {
    addr: SocketAddr,
    tls: bool,
    stopped: Arc<AtomicBool>,
    conns: Arc<Mutex<Conns>>,
    knobs: Arc<Knobs>,
    acceptor: Option<JoinHandle<()>>,
}

/// Settings changed while the server runs, and counters read by tests.
#[derive(Default)]
struct Knobs {
    /// Milliseconds after which an idle keep-alive connection is dropped; 0 = never.
    idle_close_ms: AtomicU64,
    accepted: AtomicU64,
}

impl HttpServer {
    pub fn start<F>(handler: F) -> HttpServer
    where
        F: Fn(&Request, &Ctx, &mut Conn) -> Next + Send + Sync + 'static,
    {
        HttpServer::start_with(None, handler)
    }

    /// The same server behind TLS: each connection first completes a rustls handshake with
    /// `config`; a client that refuses the certificate never gets as far as a request.
    pub fn start_tls<F>(config: Arc<rustls::ServerConfig>, handler: F) -> HttpServer
    where
        F: Fn(&Request, &Ctx, &mut Conn) -> Next + Send + Sync + 'static,
    {
        HttpServer::start_with(Some(config), handler)
    }

    fn start_with<F>(tls: Option<Arc<rustls::ServerConfig>>, handler: F) -> HttpServer
    where
        F: Fn(&Request, &Ctx, &mut Conn) -> Next + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let stopped = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Conns>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let knobs: Arc<Knobs> = Arc::default();
        let (st, cs, kn) = (stopped.clone(), conns.clone(), knobs.clone());
        let is_tls = tls.is_some();
        let acceptor = thread::Builder::new()
            .name("http-accept".into())
            .spawn(move || accept_loop(listener, tls, st, cs, kn, handler))
            .expect("spawn acceptor");
        HttpServer { addr, tls: is_tls, stopped, conns, knobs, acceptor: Some(acceptor) }
    }

    /// Drops keep-alive connections left idle for `after` the way a router with an idle
    /// timeout does: no `Connection: close`, no FIN; the client's next request on such a
    /// connection is answered with a TCP RST and never reaches the handler.
    pub fn set_idle_close(&self, after: Duration) {
        self.knobs.idle_close_ms.store(after.as_millis().max(1) as u64, Ordering::SeqCst);
    }

    /// TCP connections accepted so far.
    pub fn connection_count(&self) -> u64 {
        self.knobs.accepted.load(Ordering::SeqCst)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every open connection (FIN both ways), as a gateway or a proxy does with idle
    /// keep-alive connections; the server goes on accepting new ones.
    pub fn close_connections(&self) {
        let conns = lock_conns(&self.conns);
        for c in conns.open.values() {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        {
            let conns = lock_conns(&self.conns);
            self.stopped.store(true, Ordering::SeqCst);
            for c in conns.open.values() {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
        // Wake the acceptor.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
    }
}

fn lock_conns(c: &Mutex<Conns>) -> MutexGuard<'_, Conns> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    stopped: Arc<AtomicBool>,
    conns: Arc<Mutex<Conns>>,
    knobs: Arc<Knobs>,
    handler: Arc<Handler>,
) {
    for conn in listener.incoming() {
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        knobs.accepted.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_nodelay(true);
        let id = {
            let mut c = lock_conns(&conns);
            if stopped.load(Ordering::SeqCst) {
                return;
            }
            c.next += 1;
            let id = c.next;
            // Kept so that Drop can shut it down; removed (closed) when the thread ends.
            if let Ok(dup) = stream.try_clone() {
                c.open.insert(id, dup);
            }
            id
        };
        let (st, cs, kn, h, tls) = (stopped.clone(), conns.clone(), knobs.clone(), handler.clone(), tls.clone());
        let _ = thread::Builder::new().name("http-conn".into()).spawn(move || {
            let conn = match tls {
                None => Ok(Conn::plain(stream)),
                Some(config) => Conn::tls(stream, config),
            };
            if let Ok(conn) = conn {
                serve_conn(conn, &st, &kn, &*h);
            }
            lock_conns(&cs).open.remove(&id);
        });
    }
}

fn serve_conn(stream: Conn, stopped: &AtomicBool, knobs: &Knobs, handler: &Handler) {
    let peer = stream.tcp().peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut w = stream;
    let mut first = true;
    while !stopped.load(Ordering::SeqCst) {
        let idle_ms = knobs.idle_close_ms.load(Ordering::SeqCst);
        if !first && idle_ms > 0 && reader.buffer().is_empty() && idle_expired(w.tcp(), idle_ms) {
            set_linger_zero(w.tcp());
            return;
        }
        first = false;
        let req = match read_request(&mut reader, &mut w) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            // In HTTPS mode this is also where a failed handshake ends (the client refused
            // our certificate): no request was read, so the handler never sees it.
            Err(_) => {
                let _ = write_bad_request(&mut w, None);
                w.shutdown_write();
                return;
            }
        };
        let close = !req.keep_alive();
        let ctx = Ctx { peer_ip: &peer, close, stopped };
        match handler(&req, &ctx, &mut w) {
            Next::Continue if !close => continue,
            Next::Hang => {
                while !stopped.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(20));
                }
                return;
            }
            Next::Reset => {
                set_linger_zero(w.tcp());
                return;
            }
            _ => {
                w.shutdown_write();
                return;
            }
        }
    }
}

/// Waits up to `ms` for the client's next bytes. If none came, the connection counts as
/// dropped: wait (without reading) for whatever the client sends next, so that the caller's
/// close answers it with a RST, as a router that forgot the connection does.
fn idle_expired(tcp: &TcpStream, ms: u64) -> bool {
    let mut byte = [0u8; 1];
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(ms)));
    let came = matches!(tcp.peek(&mut byte), Ok(n) if n > 0);
    let _ = tcp.set_read_timeout(None);
    if !came {
        let _ = tcp.peek(&mut byte); // woken by the next request, the client's close or Drop
    }
    !came
}

/// Writes `resp`; `Continue` unless closing or the write failed.
pub fn send(w: &mut Conn, resp: &Response, head_only: bool, close: bool) -> Next {
    match write_response(w, resp, head_only, close) {
        Ok(()) if !close => Next::Continue,
        _ => Next::Close,
    }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn set_linger_zero(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        onoff: i32,
        linger: i32,
    }
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, val: *const std::ffi::c_void, len: u32) -> i32;
    }
    #[cfg(target_os = "linux")]
    let (sol_socket, so_linger) = (1, 13);
    #[cfg(target_os = "macos")]
    let (sol_socket, so_linger) = (0xffff, 0x80);
    let l = Linger { onoff: 1, linger: 0 };
    // SAFETY: valid fd, pointer to a live struct of the stated size.
    unsafe {
        setsockopt(s.as_raw_fd(), sol_socket, so_linger, &l as *const Linger as *const _, size_of::<Linger>() as u32);
    }
}
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn set_linger_zero(_: &TcpStream) {}

// ---------------------------------------------------------------- encodings

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Go's `url.PathUnescape`-like decoding of a request path (`+` stays `+`); `None` on a bad escape.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex_val(*b.get(i + 1)?)?;
            let lo = hex_val(*b.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Go's `url.URL.EscapedPath` escaping of a decoded path (encodePath mode).
pub fn escape_path(p: &[u8]) -> String {
    let mut out = String::new();
    for &c in p {
        let keep = c.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&c);
        if keep {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Go's `path.Clean`.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut segs: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if segs.last().is_some_and(|s| *s != "..") {
                    segs.pop();
                } else if !rooted {
                    segs.push("..");
                }
            }
            s => segs.push(s),
        }
    }
    let joined = segs.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `html.EscapeString` (as used by `http.Redirect`).
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('\'', "&#39;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;")
}

/// Base64 decoding as Go's `RawURLEncoding` (`url_raw = true`: `-_`, no padding allowed) or
/// `StdEncoding` (`+/`, padding required). `\r` and `\n` are skipped, as Go does.
pub fn base64_decode(s: &str, url_raw: bool) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'-' if url_raw => 62,
            b'_' if url_raw => 63,
            b'+' if !url_raw => 62,
            b'/' if !url_raw => 63,
            _ => return None,
        })
    };
    let mut data: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    if !url_raw {
        if data.len() % 4 != 0 {
            return None;
        }
        let pad = data.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        data.truncate(data.len() - pad);
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::new();
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

/// A JSON string literal as Go's encoding/json writes it (HTML-safe escaping).
pub fn go_json_str(s: &str) -> String {
    go_html_escape(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()))
}

/// Applies Go's HTML-safe escaping to serialized JSON text. Safe on whole documents because
/// these characters can only occur inside string literals.
pub fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `{"error":"<msg>"}` as gin writes it.
pub fn error_body(msg: &str) -> String {
    format!("{{\"error\":{}}}", go_json_str(msg))
}

// ---------------------------------------------------------------- clocks

/// (year, month, day, hour, minute, second, weekday 0 = Sunday) for a Unix time.
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32, usize) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let wd = (days + 4).rem_euclid(7) as usize;
    (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32, wd)
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// RFC 3339, UTC, second precision, `Z` (the form of Kubernetes `creationTimestamp`).
pub fn rfc3339(secs: i64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

pub fn rfc3339_now() -> String {
    rfc3339(unix_now())
}

/// RFC 3339 for `offset_secs` from now (negative = in the past); handy for fixtures.
pub fn rfc3339_from_now(offset_secs: i64) -> String {
    rfc3339(unix_now() + offset_secs)
}

pub fn http_date_now() -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, mo, d, h, mi, s, wd) = civil(unix_now());
    format!("{}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} GMT", DAYS[wd], MONTHS[(mo - 1) as usize])
}
