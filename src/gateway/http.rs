//! The one place that sends HTTP: one reused agent, verified TLS, a timeout on every call,
//! a cap on every body, and redirects followed only within the gateway's own origin.

use super::tls;
use super::{ApiError, Target};
use crate::credentials::TlsProfile;
use crate::validate::{self, ServerUrl, quote};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ureq::http::{self, Request, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{ConnectProxyConnector, ConnectionDetails, Connector, NextTimeout, TcpConnector};

/// Largest response body we read.
pub const MAX_BODY: u64 = 16 * 1024 * 1024;
/// Most redirects followed for one call.
pub const MAX_REDIRECTS: usize = 3;
/// ureq's buffers per connection, filled with zeros when first used (so every byte is
/// resident): 128 KiB each by default, a third of the static binary's heap after one list.
/// The input buffer holds the answer's head, which may take up to [`MAX_HEAD`] (a head must
/// fit with room to spare, or ureq reports a peer that stopped instead of a head too large);
/// the output buffer holds the request's head, a bearer token included.
pub const INPUT_BUFFER: usize = 48 * 1024;
pub const MAX_HEAD: usize = 32 * 1024;
pub const OUTPUT_BUFFER: usize = 32 * 1024;

/// An answer with its body read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The request was sent a second time, on a new connection, because a reused one broke
    /// before any answer: the first attempt may have reached the gateway.
    pub retried_after_stale_connection: bool,
}

/// HTTP agents, built on first use (so start-up costs nothing) and then reused, which keeps
/// connections alive: one with the public roots, and one per private CA file in use.
#[derive(Default)]
pub struct Transport {
    agents: Vec<Agent>,
}

/// An agent (its pool, resolver cache and TLS roots), keyed by the TLS profile it was built for.
struct Agent {
    tls: TlsProfile,
    agent: ureq::Agent,
    /// How often the agent asked for a new connection instead of reusing a pooled one.
    connects: Arc<AtomicU64>,
}

/// First in the connector chain, so it counts every time ureq's pool asks for a new
/// connection (ureq calls the connector only then), even one that then fails. A request
/// during which this count did not move went out on a pooled connection.
#[derive(Debug)]
struct CountConnects(Arc<AtomicU64>);

impl Connector<()> for CountConnects {
    type Out = ();

    fn connect(&self, _: &ConnectionDetails, chained: Option<()>) -> Result<Option<()>, ureq::Error> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(chained)
    }
}

/// Methods that may be sent again when their first attempt's fate is unknown.
fn repeatable(method: &str) -> bool {
    matches!(method, "GET" | "DELETE")
}

/// What a reused keep-alive connection that the gateway or a router dropped while idle
/// looks like: reset or closed before the answer's head came (`run` returns only once it
/// has; a failure while reading the body comes later and is never retried). Timeouts are
/// not among these (the gateway may be working on the request), nor TLS errors.
fn is_stale_connection(e: &ureq::Error) -> bool {
    let ureq::Error::Io(io) = e else {
        return false;
    };
    let tls = io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>());
    !tls && matches!(
        io.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

impl Transport {
    fn agent(&mut self, t: &Target) -> Result<&Agent, ApiError> {
        if let Some(i) = self.agents.iter().position(|a| a.tls == *t.tls) {
            return Ok(&self.agents[i]);
        }
        let tls = tls::client_config(t.tls).map_err(|e| match e.is_client_identity() {
            true => ApiError::ClientCert { server: t.server.base(), detail: e.to_string() },
            false => ApiError::Tls { server: t.server.base(), detail: e.to_string() },
        })?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // We follow redirects ourselves, to check where they go before the token does.
            .max_redirects(0)
            .user_agent(concat!("mcp-acp/", env!("CARGO_PKG_VERSION")))
            .input_buffer_size(INPUT_BUFFER)
            .output_buffer_size(OUTPUT_BUFFER)
            .max_response_header_size(MAX_HEAD)
            .build();
        let connects = Arc::new(AtomicU64::new(0));
        // ureq's default chain (a CONNECT proxy if configured, TCP, TLS) with our TLS.
        let connector = CountConnects(connects.clone())
            .chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(tls::TlsConnector(tls));
        let agent = ureq::Agent::with_parts(config, connector, CachingResolver::default());
        self.agents.push(Agent { tls: t.tls.clone(), agent, connects });
        Ok(&self.agents[self.agents.len() - 1])
    }

    /// Send one request to `path` on the target's server and read the answer.
    pub fn send(
        &mut self,
        t: &Target,
        method: &'static str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Reply, ApiError> {
        let mut url = format!("{}{path}", t.server.base());
        let mut retried = false;
        for _ in 0..=MAX_REDIRECTS {
            // Every hop draws on the one deadline of the call, and stops at its cancellation.
            if (t.cancelled)() {
                return Err(ApiError::Cancelled);
            }
            if t.deadline.passed() {
                return Err(ApiError::Timeout { secs: t.deadline.given_secs() });
            }
            let mut reply = self.send_once(t, method, &url, body, true)?;
            retried |= reply.retried_after_stale_connection;
            reply.retried_after_stale_connection = retried;
            if !matches!(reply.status, 301 | 302 | 303 | 307 | 308) {
                return Ok(reply);
            }
            url = next_hop(t.server, method, &reply)?;
            log::info!("following redirect to {url}");
        }
        Err(ApiError::Redirect { location: url, reason: format!("more than {MAX_REDIRECTS} redirects") })
    }

    fn send_once(
        &mut self,
        t: &Target,
        method: &'static str,
        url: &str,
        body: Option<&[u8]>,
        bearer: bool,
    ) -> Result<Reply, ApiError> {
        log::debug!("{method} {url} (project {})", t.project);
        let agent = self.agent(t)?;
        // A create never goes out on a pooled connection: one the gateway dropped while idle
        // would fail it after it may have been received, and it must not be sent twice.
        let fresh = !repeatable(method);
        let mut retried = false;
        let mut response = loop {
            let connects = agent.connects.load(Ordering::Relaxed);
            let left = t.deadline.left();
            if left.is_zero() {
                return Err(ApiError::Timeout { secs: t.deadline.given_secs() });
            }
            let e = match attempt(agent, t, (method, url, bearer), body, left, fresh || retried) {
                Ok(response) => break response,
                Err(e) => e,
            };
            let reused = agent.connects.load(Ordering::Relaxed) == connects;
            // Once only, never after a create, and within the call's timeout.
            let time_left = !t.deadline.passed();
            if retried || fresh || !reused || !is_stale_connection(&e) || !time_left {
                return Err(map_error(e, t));
            }
            log::warn!("{method} {url}: the reused connection broke before an answer ({e}); {STALE_RETRY}");
            retried = true;
        };
        let status = response.status().as_u16();
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let content_type = header("content-type");
        let location = header("location");
        let mut body = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(|e| map_error(e, t))?;
        if (300..400).contains(&status) {
            body = location.into_bytes(); // a redirect's body is of no use; its Location is
        }
        log::debug!("{method} {url} → {status}, {} bytes", body.len());
        Ok(Reply { status, content_type, body, retried_after_stale_connection: retried })
    }
}

/// The end of the log line for a stale-connection retry (tests look for it).
const STALE_RETRY: &str = "retrying once on a new connection";

/// One attempt; `fresh` keeps it off pooled connections.
fn attempt(
    agent: &Agent,
    t: &Target,
    (method, url, bearer): (&'static str, &str, bool),
    body: Option<&[u8]>,
    timeout: Duration,
    fresh: bool,
) -> Result<http::Response<ureq::Body>, ureq::Error> {
    let mut builder = Request::builder().method(method).uri(url);
    if bearer {
        builder = builder.header("Authorization", format!("Bearer {}", t.token.expose()));
    }
    let builder = builder.header("X-Ambient-Project", t.project).header("Accept", "application/json");
    match body {
        Some(b) => builder
            .header("Content-Type", "application/json")
            .body(b)
            .map_err(request_error)
            .and_then(|r| run(&agent.agent, r, timeout, fresh)),
        None => builder.body(()).map_err(request_error).and_then(|r| run(&agent.agent, r, timeout, fresh)),
    }
}

/// How long a resolved address is reused.
const DNS_TTL: Duration = Duration::from_secs(60);

/// ureq resolves the host before every request, even one that reuses a pooled connection,
/// and since every request has a timeout it resolves in a new thread (~35 µs, and a DNS
/// query per call where nothing caches). Keep the last answer for [`DNS_TTL`].
#[derive(Debug, Default)]
struct CachingResolver {
    inner: DefaultResolver,
    last: Mutex<Option<(String, Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().map_or("", |a| a.as_str()));
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, at, addrs)) = &*last {
            if *k == key && at.elapsed() < DNS_TTL {
                return Ok(addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *last = Some((key, Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

fn run<S: ureq::AsSendBody>(
    agent: &ureq::Agent,
    request: Request<S>,
    timeout: Duration,
    fresh: bool,
) -> Result<http::Response<ureq::Body>, ureq::Error> {
    let mut config = agent.configure_request(request).timeout_global(Some(timeout));
    if fresh {
        // The pool skips (and keeps) connections idle for at least this long: all of them.
        // The new connection still goes back to the pool afterwards.
        config = config.max_idle_age(Duration::ZERO);
    }
    agent.run(config.build())
}

fn request_error(e: http::Error) -> ureq::Error {
    ureq::Error::Http(e)
}

/// Where a redirect leads, if we may follow it: same scheme, host and port only, and no
/// method change (a POST turned into a GET would silently do something else).
fn next_hop(server: &ServerUrl, method: &str, reply: &Reply) -> Result<String, ApiError> {
    let location = String::from_utf8_lossy(&reply.body).into_owned();
    let refuse = |reason: &str| ApiError::Redirect { location: location.clone(), reason: reason.into() };
    if location.is_empty() {
        return Err(ApiError::BadResponse { detail: format!("a {} redirect without a Location", reply.status) });
    }
    if method != "GET" && (301..=303).contains(&reply.status) {
        return Err(refuse("it would turn the request into a GET"));
    }
    if location.starts_with('/') && !location.starts_with("//") {
        return Ok(format!("{}://{}{}", server.scheme.as_str(), host_port(server), location));
    }
    let target = validate::parse_server_url(&location).map_err(|_| refuse("not an absolute http(s) URL"))?;
    if target.scheme != server.scheme {
        return Err(refuse(&format!("{} → {}", server.scheme.as_str(), target.scheme.as_str())));
    }
    if target.origin() != server.origin() {
        return Err(refuse(&format!("another origin than {}", server.origin())));
    }
    Ok(location)
}

fn host_port(server: &ServerUrl) -> String {
    format!("{}:{}", server.host, server.port)
}

/// Turn a transport failure into what it means for the user.
fn map_error(e: ureq::Error, t: &Target) -> ApiError {
    let server = t.server.base();
    match e {
        ureq::Error::Timeout(_) => ApiError::Timeout { secs: t.deadline.given_secs() },
        ureq::Error::HostNotFound => ApiError::Dns { server },
        ureq::Error::ConnectionFailed => ApiError::Connect { server, detail: "connection failed".into() },
        ureq::Error::BodyExceedsLimit(limit) => ApiError::TooLarge { limit },
        ureq::Error::Rustls(e) => map_tls(&e, t),
        ureq::Error::Tls(msg) => ApiError::Tls { server, detail: msg.to_string() },
        ureq::Error::Io(io) => map_io(io, t),
        ureq::Error::Protocol(p) => ApiError::BadResponse { detail: format!("malformed HTTP answer ({p})") },
        ureq::Error::Http(h) => ApiError::Transport { detail: format!("the request could not be built ({h})") },
        other => ApiError::Transport { detail: quote(&other.to_string()) },
    }
}

/// A handshake failure: a pin mismatch, the server's word on our client certificate, or
/// a certificate of the server's we did not accept.
fn map_tls(e: &rustls::Error, t: &Target) -> ApiError {
    use rustls::AlertDescription as Alert;
    let server = t.server.base();
    if let Some(mismatch) = tls::pin_mismatch(e) {
        let detail = format!("certificate pin mismatch for cluster '{}': {mismatch}", t.cluster);
        return ApiError::Pinned { server, detail };
    }
    if let rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) = e {
        return ApiError::Connect { server, detail: NOT_TLS.into() };
    }
    let rustls::Error::AlertReceived(alert) = e else {
        return ApiError::Tls { server, detail: e.to_string() };
    };
    let about_ours = matches!(
        (alert, &t.tls.client_cert),
        (Alert::CertificateRequired, _)
            | (
                Alert::BadCertificate
                    | Alert::UnsupportedCertificate
                    | Alert::CertificateRevoked
                    | Alert::CertificateExpired
                    | Alert::CertificateUnknown
                    | Alert::UnknownCA
                    | Alert::AccessDenied,
                Some(_),
            )
    );
    match about_ours {
        true => ApiError::ClientCert { server, detail: cert_refused(&format!("TLS alert {alert:?}"), t) },
        false => ApiError::Tls { server, detail: e.to_string() },
    }
}

/// What a plain-HTTP answer to our TLS hello looks like to rustls.
const NOT_TLS: &str = "the server speaks plain HTTP (not TLS) on that port: use http:// in `server`, or the TLS port";

/// The server asked for a client certificate, then refused the connection (`how`): it wants
/// one and the cluster configures none, or it does not take the one configured.
fn cert_refused(how: &str, t: &Target) -> String {
    match &t.tls.client_cert {
        None => format!(
            "the server asks for a client certificate and none is configured ({how}); set `client_cert` and \
             `client_key` for cluster '{}' in clusters.yaml",
            t.cluster
        ),
        Some(cert) => format!(
            "the server refused the client certificate {} ({how}); check that a CA it trusts issued it and \
             that it has not expired",
            cert.display()
        ),
    }
}

fn map_io(io: io::Error, t: &Target) -> ApiError {
    let (server, timeout_secs) = (t.server.base(), t.deadline.given_secs());
    if let Some(e) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return map_tls(e, t);
    }
    if let Some(asked) = io.get_ref().and_then(|inner| inner.downcast_ref::<tls::CertificateAsked>()) {
        return ApiError::ClientCert { server, detail: cert_refused(&asked.how, t) };
    }
    // std reports a failed getaddrinfo as an uncategorised io::Error with this text.
    if io.to_string().starts_with("failed to lookup address information") {
        return ApiError::Dns { server };
    }
    match io.kind() {
        io::ErrorKind::ConnectionRefused => ApiError::Connect { server, detail: "connection refused".into() },
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ApiError::Timeout { secs: timeout_secs },
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::UnexpectedEof => {
            ApiError::Transport { detail: format!("the gateway closed the connection before a complete answer ({io})") }
        }
        _ => ApiError::Transport { detail: io.to_string() },
    }
}

impl Transport {
    /// GET `path` on the target's server without its token (`t.token` is not sent), nor
    /// following a redirect: a probe such as `/health` needs none, and asks for none.
    pub fn probe(&mut self, t: &Target, path: &str) -> Result<Reply, ApiError> {
        self.send_once(t, "GET", &format!("{}{path}", t.server.base()), None, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect(status: u16, location: &str) -> Reply {
        Reply {
            status,
            content_type: String::new(),
            body: location.as_bytes().to_vec(),
            retried_after_stale_connection: false,
        }
    }

    fn server(url: &str) -> ServerUrl {
        validate::parse_server_url(url).unwrap()
    }

    #[test]
    fn same_origin_redirects_are_followed() {
        let s = server("https://gw.example.com/api");
        assert_eq!(
            next_hop(&s, "GET", &redirect(301, "/v1/sessions")).unwrap(),
            "https://gw.example.com:443/v1/sessions"
        );
        let abs = "https://gw.example.com:443/v1/x";
        assert_eq!(next_hop(&s, "DELETE", &redirect(307, abs)).unwrap(), abs);
    }

    #[test]
    fn cross_origin_and_downgrade_redirects_are_refused() {
        let s = server("https://gw.example.com");
        let err = next_hop(&s, "GET", &redirect(302, "https://evil.example.com/v1")).unwrap_err();
        assert!(err.to_string().contains("another origin"), "{err}");
        let err = next_hop(&s, "GET", &redirect(302, "http://gw.example.com/v1")).unwrap_err();
        assert!(err.to_string().contains("https → http"), "{err}");
        let err = next_hop(&s, "GET", &redirect(302, "https://gw.example.com:8443/v1")).unwrap_err();
        assert!(err.to_string().contains("another origin"), "{err}");
        let err = next_hop(&s, "GET", &redirect(302, "//evil.example.com/v1")).unwrap_err();
        assert!(matches!(err, ApiError::Redirect { .. }), "{err}");
    }

    #[test]
    fn only_a_connection_broken_before_an_answer_counts_as_stale() {
        use io::ErrorKind::*;
        let io_err = |k: io::ErrorKind| ureq::Error::Io(io::Error::from(k));
        for k in [ConnectionReset, ConnectionAborted, BrokenPipe, UnexpectedEof] {
            assert!(is_stale_connection(&io_err(k)), "{k:?}");
        }
        for k in [TimedOut, WouldBlock, ConnectionRefused, InvalidData] {
            assert!(!is_stale_connection(&io_err(k)), "{k:?}");
        }
        assert!(!is_stale_connection(&ureq::Error::Timeout(ureq::Timeout::Global)));
        let tls = io::Error::new(UnexpectedEof, rustls::Error::DecryptError);
        assert!(!is_stale_connection(&ureq::Error::Io(tls)));
        assert!(repeatable("GET") && repeatable("DELETE") && !repeatable("POST"));
    }

    #[test]
    fn method_changing_redirects_are_refused() {
        let s = server("https://gw.example.com");
        let err = next_hop(&s, "POST", &redirect(301, "/v1/sessions")).unwrap_err();
        assert!(err.to_string().contains("into a GET"), "{err}");
    }
}
