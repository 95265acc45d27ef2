//! HTTP to the identity provider, under the transport's rules: verified TLS (the public
//! roots), one deadline per call, a capped body, redirects followed only within the origin and
//! never turning a POST into a GET. No bearer token is ever sent here.

use super::OidcError;
use crate::credentials::Secret;
use crate::deadline::Deadline;
use crate::validate::{self, Scheme, ServerUrl};
use serde_json::Value;
use std::time::Duration;
use ureq::tls::{RootCerts, TlsConfig};

/// Largest answer read from the provider: its JSON documents are a few KiB.
pub const MAX_IDP_BODY: u64 = 1024 * 1024;
const MAX_REDIRECTS: usize = 3;

/// The provider's endpoints, from its discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub token: String,
    pub device: Option<String>,
    pub authorization: Option<String>,
}

/// One identity provider (an `oidc.issuer`).
pub struct Idp {
    issuer: ServerUrl,
    agent: ureq::Agent,
    timeout: Duration,
    /// The deadline of the tool call this client works for, if any: no call outlives it.
    deadline: Option<Deadline>,
}

impl Idp {
    pub fn new(issuer: &ServerUrl, timeout: Duration) -> Idp {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("mcp-acp/", env!("CARGO_PKG_VERSION")))
            .input_buffer_size(crate::gateway::http::INPUT_BUFFER)
            .output_buffer_size(crate::gateway::http::OUTPUT_BUFFER)
            .max_response_header_size(crate::gateway::http::MAX_HEAD)
            .tls_config(TlsConfig::builder().root_certs(RootCerts::WebPki).build())
            .timeout_global(Some(timeout))
            .build();
        Idp { issuer: issuer.clone(), agent: config.into(), timeout, deadline: None }
    }

    /// Bound every call from now on by `deadline` too (the tool call's), or by nothing more.
    pub fn set_deadline(&mut self, deadline: Option<Deadline>) {
        self.deadline = deadline;
    }

    pub fn issuer(&self) -> &ServerUrl {
        &self.issuer
    }

    /// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery §4): its
    /// `issuer` must be ours, and every endpoint an absolute URL no weaker than the issuer.
    pub fn discover(&self) -> Result<Endpoints, OidcError> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer.base());
        let (status, doc) = self.call("GET", &url, None, None)?;
        if status == 404 {
            return Err(OidcError::Setup(format!(
                "the identity provider has no discovery document at {url} (HTTP 404): check `oidc.issuer` in \
                 clusters.yaml; it must be the exact issuer URL (for Keycloak, https://<host>/realms/<realm>)"
            )));
        }
        if status != 200 {
            return Err(error_of(&url, status, &doc));
        }
        let bad = |detail: String| OidcError::BadAnswer { url: url.clone(), detail };
        let said = doc.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if said.trim_end_matches('/') != self.issuer.base() {
            return Err(bad(format!(
                "it names the issuer {} instead of {}; set oidc.issuer to the exact issuer URL",
                validate::quote(said),
                self.issuer.base()
            )));
        }
        let endpoint = |key: &str| -> Result<Option<String>, OidcError> {
            match doc.get(key).and_then(Value::as_str) {
                None => Ok(None),
                Some(u) => self.check_endpoint(u).map(Some).map_err(|why| bad(format!("{key}: {why}"))),
            }
        };
        let token = endpoint("token_endpoint")?.ok_or_else(|| bad("it has no token_endpoint".into()))?;
        Ok(Endpoints {
            token,
            device: endpoint("device_authorization_endpoint")?,
            authorization: endpoint("authorization_endpoint")?,
        })
    }

    /// An endpoint from discovery: http(s), and https when the issuer is.
    fn check_endpoint(&self, url: &str) -> Result<String, &'static str> {
        let origin = origin_of(url).ok_or("not an absolute http(s) URL")?;
        if origin.scheme == Scheme::Http && self.issuer.scheme == Scheme::Https {
            return Err("http, while the issuer is https");
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) || url.contains('#') {
            return Err("not a plain URL");
        }
        Ok(url.to_string())
    }

    /// POST a form (`application/x-www-form-urlencoded`); `basic`: client authentication.
    pub fn post_form(
        &self,
        url: &str,
        fields: &[(&str, &str)],
        basic: Option<(&str, &Secret)>,
    ) -> Result<(u16, Value), OidcError> {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect();
        let auth = basic.map(|(id, secret)| {
            let pair = format!("{}:{}", form_encode(id), form_encode(secret.expose()));
            let encoded = crate::base64::encode(pair.as_bytes(), crate::base64::STANDARD, true);
            Secret::new(format!("Basic {encoded}"))
        });
        self.call("POST", url, Some(body.join("&").as_bytes()), auth.as_ref())
    }

    /// One call, following redirects within the origin; the status and the body as JSON
    /// (`Null` when it is not JSON).
    fn call(
        &self,
        method: &'static str,
        url: &str,
        body: Option<&[u8]>,
        auth: Option<&Secret>,
    ) -> Result<(u16, Value), OidcError> {
        let mut url = url.to_string();
        let started = std::time::Instant::now();
        for _ in 0..=MAX_REDIRECTS {
            let unreachable = |detail: String| OidcError::Unreachable { url: url.clone(), detail };
            let mut builder =
                ureq::http::Request::builder().method(method).uri(&url).header("Accept", "application/json");
            if let Some(a) = auth {
                builder = builder.header("Authorization", a.expose());
            }
            let mut left = self.timeout.saturating_sub(started.elapsed());
            if let Some(d) = self.deadline {
                left = left.min(d.left());
            }
            if left.is_zero() {
                return Err(unreachable("the call's time ran out before the identity provider answered".into()));
            }
            let sent = match body {
                Some(b) => builder
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(b)
                    .map_err(|e| unreachable(e.to_string()))
                    .and_then(|r| self.run(r, left).map_err(|e| unreachable(describe(e, left)))),
                None => builder
                    .body(())
                    .map_err(|e| unreachable(e.to_string()))
                    .and_then(|r| self.run(r, left).map_err(|e| unreachable(describe(e, left)))),
            };
            let mut response = sent?;
            let status = response.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
                url = self.next_hop(&url, method, status, location)?;
                continue;
            }
            let bytes = response.body_mut().with_config().limit(MAX_IDP_BODY).read_to_vec().map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    OidcError::BadAnswer { url: url.clone(), detail: format!("it is over {MAX_IDP_BODY} bytes") }
                }
                other => unreachable(describe(other, left)),
            })?;
            return Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)));
        }
        Err(OidcError::BadAnswer { url, detail: format!("more than {MAX_REDIRECTS} redirects") })
    }

    fn run<S: ureq::AsSendBody>(
        &self,
        request: ureq::http::Request<S>,
        left: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let config = self.agent.configure_request(request).timeout_global(Some(left)).build();
        self.agent.run(config)
    }

    /// Where a redirect leads, if it stays on the origin and keeps the method.
    fn next_hop(&self, from: &str, method: &str, status: u16, location: &str) -> Result<String, OidcError> {
        let refuse = |why: &str| OidcError::BadAnswer {
            url: from.to_string(),
            detail: format!("it redirects to {} ({why}); not followed", validate::quote(location)),
        };
        if method != "GET" && (301..=303).contains(&status) {
            return Err(refuse("that would turn the POST into a GET"));
        }
        let here = origin_of(from).ok_or_else(|| refuse("bad URL"))?;
        if location.starts_with('/') && !location.starts_with("//") {
            return Ok(format!("{}{location}", here.origin()));
        }
        match origin_of(location) {
            Some(there) if there.origin() == here.origin() => Ok(location.to_string()),
            _ => Err(refuse("another origin")),
        }
    }
}

/// The scheme, host and port of an absolute http(s) URL.
fn origin_of(url: &str) -> Option<ServerUrl> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    validate::parse_server_url(&url[..url.len() - rest.len() + end]).ok()
}

/// An answer that is not what was hoped for: an OAuth error if the body says one.
pub(super) fn error_of(url: &str, status: u16, body: &Value) -> OidcError {
    match body.get("error").and_then(Value::as_str) {
        Some(error) => OidcError::Oauth {
            status,
            error: validate::clip(error, 80),
            description: body.get("error_description").and_then(Value::as_str).map(|d| validate::clip(d, 200)),
        },
        None => OidcError::Status { url: url.to_string(), status },
    }
}

/// A failure named for what it is: no such host, nothing listening, a TLS failure (which),
/// or plain HTTP where TLS was expected.
fn describe(e: ureq::Error, left: Duration) -> String {
    const NO_HOST: &str = "host not found: check the host name in `oidc.issuer` and this host's DNS";
    let tls = |e: &rustls::Error| match e {
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            "it speaks plain HTTP (not TLS) on that port: use http:// in `oidc.issuer`, or the TLS port".to_string()
        }
        other => format!("TLS failure: {}", validate::clip(&other.to_string(), 200)),
    };
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", left.as_secs().max(1)),
        ureq::Error::HostNotFound => NO_HOST.into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Rustls(e) => tls(&e),
        ureq::Error::Io(io) => match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(e) => tls(e),
            None if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused: nothing listens on that port".into()
            }
            // std's words for a failed getaddrinfo.
            None if io.to_string().starts_with("failed to lookup address information") => NO_HOST.into(),
            None => validate::clip(&io.to_string(), 300),
        },
        other => validate::clip(&other.to_string(), 300),
    }
}

/// `application/x-www-form-urlencoded`: everything but the unreserved characters escaped.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_all_but_unreserved() {
        assert_eq!(form_encode("a b+c/d=é~"), "a%20b%2Bc%2Fd%3D%C3%A9~");
    }

    #[test]
    fn redirects_stay_on_the_origin_and_keep_the_method() {
        let idp =
            Idp::new(&validate::parse_server_url("https://sso.example.com/realms/x").unwrap(), Duration::from_secs(1));
        let from = "https://sso.example.com/realms/x/token";
        assert_eq!(idp.next_hop(from, "POST", 307, "/other").unwrap(), "https://sso.example.com:443/other");
        assert!(idp.next_hop(from, "POST", 302, "/other").is_err());
        assert!(idp.next_hop(from, "GET", 302, "https://evil.example.com/x").is_err());
        assert!(idp.next_hop(from, "GET", 302, "http://sso.example.com/x").is_err());
        assert!(idp.next_hop(from, "GET", 302, "//evil.example.com/x").is_err());
        assert_eq!(
            idp.next_hop(from, "GET", 302, "https://sso.example.com:443/y").unwrap(),
            "https://sso.example.com:443/y"
        );
    }

    #[test]
    fn endpoints_may_not_downgrade() {
        let idp = Idp::new(&validate::parse_server_url("https://sso.example.com").unwrap(), Duration::from_secs(1));
        assert!(idp.check_endpoint("http://sso.example.com/token").is_err());
        assert!(idp.check_endpoint("ftp://sso.example.com/token").is_err());
        assert!(idp.check_endpoint("https://other.example.com/token?x=1").is_ok());
    }
}
