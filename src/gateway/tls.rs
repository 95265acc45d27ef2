//! TLS for one cluster: the rustls configuration its [`TlsProfile`] asks for (the public
//! roots plus its `ca_cert`, its client certificate, its pins), and the ureq connector that
//! uses it. ureq builds its own rustls configuration, which can take neither a custom
//! verifier nor a client key without panicking on a mismatched one, so we wrap TLS here.

use crate::credentials::TlsProfile;
use crate::secure_file::{self, FileError, FileKind};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientConfig, ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme, StreamOwned};
use std::cell::RefCell;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

/// Why a cluster's TLS could not be set up. `Display` names the file and the fix; never
/// anything read from a key file.
#[derive(Debug)]
pub enum SetupError {
    /// Not readable, or others could have written it (or read it, for a key).
    File(FileError),
    Missing {
        key: &'static str,
        path: PathBuf,
    },
    /// No PEM item of the kind `key` must hold.
    Empty {
        key: &'static str,
        path: PathBuf,
        want: &'static str,
    },
    /// rustls refused the pair (a key that is not the certificate's, an unsupported key type).
    Identity {
        cert: PathBuf,
        key: PathBuf,
        error: rustls::Error,
    },
    Verifier(String),
}

impl SetupError {
    /// A client certificate problem, rather than one with whom we trust.
    pub fn is_client_identity(&self) -> bool {
        match self {
            SetupError::File(e) => matches!(e.kind, FileKind::ClientCert | FileKind::PrivateKey),
            SetupError::Missing { key, .. } | SetupError::Empty { key, .. } => *key != "ca_cert",
            SetupError::Identity { .. } => true,
            SetupError::Verifier(_) => false,
        }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::File(e) => write!(f, "{e}"),
            SetupError::Missing { key, path } => write!(f, "cannot read {key} {} (no such file)", path.display()),
            SetupError::Empty { key, path, want } => write!(f, "{key} {} holds no {want} in PEM", path.display()),
            SetupError::Identity { cert, key, error } => write!(
                f,
                "client_key {} cannot be used with client_cert {} ({error}); check that the key is the \
                 certificate's",
                key.display(),
                cert.display()
            ),
            SetupError::Verifier(e) => write!(f, "no usable trust anchors ({e})"),
        }
    }
}

impl std::error::Error for SetupError {}

/// The rustls configuration for `profile`: verified against the public roots and its
/// `ca_cert`, presenting its client certificate, and holding the server to its pins. Every
/// file is read here again, with the checks made at load time: this read decides.
pub fn client_config(profile: &TlsProfile) -> Result<Arc<ClientConfig>, SetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = &profile.ca_cert {
        let certs = certificates(path, "ca_cert", FileKind::CaCert)?;
        roots.add_parsable_certificates(certs);
    }
    let roots = Arc::new(roots);
    let webpki = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .map_err(|e| SetupError::Verifier(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match profile.pins.is_empty() {
        true => webpki,
        false => Arc::new(Pinning {
            webpki,
            roots,
            algorithms: provider.signature_verification_algorithms,
            pins: profile.pins.clone(),
        }),
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| SetupError::Verifier(e.to_string()))?
        .dangerous() // only to add checks: `Pinning` runs the standard verifier first
        .with_custom_certificate_verifier(verifier);
    let config = match (&profile.client_cert, &profile.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "client_cert", FileKind::ClientCert)?;
            let private = private_key(key)?;
            builder.with_client_auth_cert(chain, private).map_err(|error| SetupError::Identity {
                cert: cert.clone(),
                key: key.clone(),
                error,
            })?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The text of a file that passed `secure_file`'s checks for `kind`.
fn read(path: &Path, key: &'static str, kind: FileKind) -> Result<String, SetupError> {
    match secure_file::read_private(path, kind) {
        Ok(Some(file)) => Ok(file.text),
        Ok(None) => Err(SetupError::Missing { key, path: path.to_path_buf() }),
        Err(e) => Err(SetupError::File(e)),
    }
}

/// Every certificate in the PEM file at `path`; at least one.
fn certificates(path: &Path, key: &'static str, kind: FileKind) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    let text = read(path, key, kind)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(text.as_bytes()).filter_map(Result::ok).collect();
    match certs.is_empty() {
        true => Err(SetupError::Empty { key, path: path.to_path_buf(), want: "certificate" }),
        false => Ok(certs),
    }
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in the PEM file at `path`.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, SetupError> {
    let text = read(path, "client_key", FileKind::PrivateKey)?;
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|_| SetupError::Empty {
        key: "client_key",
        path: path.to_path_buf(),
        want: "unencrypted private key (PKCS#8, RSA or EC)",
    })
}

/// The SHA-256 of a SubjectPublicKeyInfo: what `pinned_spki_sha256` holds.
pub fn spki_sha256(spki: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, spki);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// The standard verifier, then the pins: the connection is refused unless some certificate
/// of a chain that verifies (leaf, intermediate or trust anchor) has a pinned key.
#[derive(Debug)]
struct Pinning {
    webpki: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
    pins: Vec<[u8; 32]>,
}

/// A verified chain without a pinned key. Travels inside a rustls error, out of the
/// handshake, to [`super::http`], which names the cluster.
#[derive(Debug)]
pub struct PinMismatch {
    pub expected: Vec<[u8; 32]>,
    /// Every key of every chain that verified, leaf first.
    pub seen: Vec<[u8; 32]>,
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |pins: &[[u8; 32]]| -> String {
            let shown: Vec<String> =
                pins.iter().map(|p| crate::base64::encode(p, crate::base64::STANDARD, true)).collect();
            shown.join(", ")
        };
        write!(f, "expected one of [{}]; the server's chain has [{}]", list(&self.expected), list(&self.seen))
    }
}

impl std::error::Error for PinMismatch {}

impl Pinning {
    /// The pin check over the chains webpki can build; `Err` holds every key seen.
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), PinMismatch> {
        let seen = RefCell::new(Vec::new());
        let pinned = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let mut keys: Vec<[u8; 32]> = Vec::new();
            let certs = std::iter::once(&**path.end_entity()).chain(path.intermediate_certificates());
            keys.extend(certs.filter_map(|c| crate::der::spki(c.der().as_ref()).map(spki_sha256)));
            keys.push(spki_sha256(&crate::der::sequence(path.anchor().subject_public_key_info.as_ref())));
            let hit = keys.iter().any(|k| self.pins.contains(k));
            let mut seen = seen.borrow_mut();
            for k in keys {
                if !seen.contains(&k) {
                    seen.push(k);
                }
            }
            // Any error makes webpki try the next path.
            if hit { Ok(()) } else { Err(webpki::Error::UnknownIssuer) }
        };
        let found = webpki::EndEntityCert::try_from(end_entity).and_then(|cert| {
            cert.verify_for_usage(
                self.algorithms.all,
                &self.roots.roots,
                intermediates,
                now,
                webpki::KeyUsage::server_auth(),
                None,
                Some(&pinned),
            )
            .map(|_| ())
        });
        found.map_err(|_| PinMismatch { expected: self.pins.clone(), seen: seen.into_inner() })
    }
}

impl ServerCertVerifier for Pinning {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Never instead of the standard checks: an expired or misnamed certificate stays
        // refused for what it is, whatever its key.
        let verified = self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        self.check(end_entity, intermediates, now).map_err(|mismatch| {
            rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(mismatch))))
        })?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The pin mismatch inside a handshake error, if that is what it is.
pub fn pin_mismatch(e: &rustls::Error) -> Option<&PinMismatch> {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => other.0.downcast_ref(),
        _ => None,
    }
}

/// Wraps the connection in TLS with a cluster's own configuration: what ureq's rustls
/// connector does, with our [`ClientConfig`] instead of one built from ureq's settings.
#[derive(Debug)]
pub struct TlsConnector(pub Arc<ClientConfig>);

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::Tls("no connection to wrap in TLS"));
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.authority().map(|a| a.host()).unwrap_or_default();
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let name = ServerName::try_from(host).map_err(|_| ureq::Error::Tls("invalid server name for TLS"))?.to_owned();
        // The cluster's resolver (its client certificate, or none), noting whether the server
        // asks for one: a failure that follows is then named for what it is (with TLS 1.2 a
        // server may just drop the handshake, which otherwise reads as "broken pipe").
        let asked = Arc::new(Asked { flag: AtomicBool::new(false), inner: self.0.client_auth_cert_resolver.clone() });
        let mut config = (*self.0).clone();
        config.client_auth_cert_resolver = asked.clone();
        let config = Arc::new(config);
        let mut conn = ClientConnection::new(config, name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        // The handshake gets what is left of the call's deadline (counted from here).
        sock.set_timeout(details.timeout);
        let was_asked = || asked.flag.load(Ordering::Relaxed);
        conn.complete_io(&mut sock).map_err(|e| refused_unless_certified(e, was_asked()))?;
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport { buffers, stream: StreamOwned { conn, sock }, asked: was_asked() })))
    }
}

/// A cluster's client-certificate resolver that notes whether the server asked.
#[derive(Debug)]
struct Asked {
    flag: AtomicBool,
    inner: Arc<dyn ResolvesClientCert>,
}

impl ResolvesClientCert for Asked {
    fn resolve(&self, hints: &[&[u8]], schemes: &[SignatureScheme]) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.flag.store(true, Ordering::Relaxed);
        self.inner.resolve(hints, schemes)
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// The server asked for a client certificate, and then ended the connection before it
/// answered: it wants one we do not have, or refuses ours. Travels inside an `io::Error` to
/// [`super::http`], which says which.
#[derive(Debug)]
pub struct CertificateAsked {
    /// How the server ended it (an alert, a close).
    pub how: String,
}

impl fmt::Display for CertificateAsked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server asked for a client certificate, then ended the connection ({})", self.how)
    }
}

impl std::error::Error for CertificateAsked {}

/// `e`, or, if the server asked for a client certificate and then sent an alert or dropped
/// the connection before answering, [`CertificateAsked`]. Our own refusals (the server's certificate, a pin)
/// and timeouts stay what they are.
fn refused_unless_certified(e: io::Error, asked: bool) -> ureq::Error {
    let theirs = match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(alert)) => Some(format!("TLS alert {alert:?}")),
        Some(_) => None,
        None => matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::UnexpectedEof
        )
        .then(|| e.to_string()),
    };
    match theirs.filter(|_| asked) {
        Some(how) => ureq::Error::Io(io::Error::other(CertificateAsked { how })),
        None => e.into(),
    }
}

/// A TLS connection, as ureq reads and writes it.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
    /// The server asked for a client certificate and has not answered yet (with TLS 1.3 it
    /// refuses one after the handshake; a server that only asks answers).
    asked: bool,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output).map_err(|e| refused_unless_certified(e, self.asked))?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input).map_err(|e| refused_unless_certified(e, self.asked))?;
        self.buffers.input_appended(amount);
        self.asked &= amount == 0;
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_spki_walk_agrees_with_webpki_and_with_the_key() {
        for alg in [&rcgen::PKCS_ECDSA_P256_SHA256, &rcgen::PKCS_ED25519, &rcgen::PKCS_ECDSA_P384_SHA384] {
            let key = rcgen::KeyPair::generate_for(alg).unwrap();
            let cert = rcgen::CertificateParams::new(vec!["a.example".into()]).unwrap().self_signed(&key).unwrap();
            let der = cert.der();
            let ours = crate::der::spki(der).expect("an rcgen certificate parses");
            assert_eq!(ours, key.public_key_der());
            let parsed = webpki::EndEntityCert::try_from(der).unwrap();
            assert_eq!(ours, parsed.subject_public_key_info().as_ref());
        }
    }

    #[test]
    fn a_mismatch_names_both_lists_in_base64() {
        let m = PinMismatch { expected: vec![[0; 32]], seen: vec![[0xff; 32], [1; 32]] };
        assert_eq!(
            m.to_string(),
            "expected one of [AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=]; the server's chain has \
             [//////////////////////////////////////////8=, AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=]"
        );
    }
}
