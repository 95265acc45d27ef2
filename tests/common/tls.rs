//! Throwaway certificates made at test time (rcgen), and the rustls server side of
//! [`super::FakeGateway::start_tls`]. Nothing here is ever trusted outside one test.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// A private certificate authority.
pub struct Ca {
    cert: Certificate,
    key: KeyPair,
}

/// A server (or client) certificate (PEM) and its private key (PEM).
pub struct ServerCert {
    /// The leaf certificate, then the issuing CA's (empty for a self-signed one).
    pub chain_pem: String,
    pub key_pem: String,
    /// The leaf's SubjectPublicKeyInfo (DER), from the key itself, not from the certificate.
    pub spki_der: Vec<u8>,
}

impl Ca {
    /// A new CA whose certificate has the common name `name`.
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("self-sign CA");
        Ca { cert, key }
    }

    /// The CA certificate as PEM (what a cluster's `ca_cert` file holds).
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses), issued by this CA.
    pub fn issue(&self, names: &[&str]) -> ServerCert {
        let key = KeyPair::generate().expect("server key");
        let cert = server_params(names).signed_by(&key, &self.cert, &self.key).expect("sign server cert");
        ServerCert {
            chain_pem: format!("{}{}", cert.pem(), self.cert.pem()),
            key_pem: key.serialize_pem(),
            spki_der: key.public_key_der(),
        }
    }
}

impl Ca {
    /// Like [`Ca::issue`], but valid only during 2000 (long expired).
    pub fn issue_expired(&self, names: &[&str]) -> ServerCert {
        let key = KeyPair::generate().expect("server key");
        let mut params = server_params(names);
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2000, 12, 31);
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("sign server cert");
        ServerCert {
            chain_pem: format!("{}{}", cert.pem(), self.cert.pem()),
            key_pem: key.serialize_pem(),
            spki_der: key.public_key_der(),
        }
    }
}

impl Ca {
    /// A client certificate (TLS client authentication) with the common name `name`.
    pub fn issue_client(&self, name: &str) -> ServerCert {
        let key = KeyPair::generate().expect("client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("sign client cert");
        ServerCert { chain_pem: cert.pem(), key_pem: key.serialize_pem(), spki_der: key.public_key_der() }
    }

    /// The pin of this CA's key: base64 of the SHA-256 of its SubjectPublicKeyInfo.
    pub fn pin(&self) -> String {
        pin_of(&self.key.public_key_der())
    }
}

impl ServerCert {
    /// The pin of the leaf's key.
    pub fn pin(&self) -> String {
        pin_of(&self.spki_der)
    }
}

/// base64(SHA-256(spki)), as `openssl ... | openssl dgst -sha256 -binary | base64` prints it.
pub fn pin_of(spki_der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, spki_der);
    mcp_acp::base64::encode(digest.as_ref(), mcp_acp::base64::STANDARD, true)
}

/// A self-signed server certificate for `names`: no CA anyone trusts issued it.
pub fn self_signed(names: &[&str]) -> ServerCert {
    let key = KeyPair::generate().expect("server key");
    let cert = server_params(names).self_signed(&key).expect("self-sign server cert");
    ServerCert { chain_pem: cert.pem(), key_pem: key.serialize_pem(), spki_der: key.public_key_der() }
}

fn server_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).expect("server params");
    params.distinguished_name.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params
}

/// rustls (ring provider) serving `cert_chain_pem` with `key_pem`.
pub fn server_config(cert_chain_pem: &str, key_pem: &str) -> Arc<rustls::ServerConfig> {
    serve(cert_chain_pem, key_pem, None)
}

/// Like [`server_config`], and the client must present a certificate issued by `client_ca`.
pub fn server_config_requiring_client(
    cert_chain_pem: &str,
    key_pem: &str,
    client_ca: &Ca,
) -> Arc<rustls::ServerConfig> {
    serve(cert_chain_pem, key_pem, Some(client_ca))
}

fn serve(cert_chain_pem: &str, key_pem: &str, client_ca: Option<&Ca>) -> Arc<rustls::ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .expect("certificate chain PEM");
    assert!(!chain.is_empty(), "no certificate in the chain PEM");
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("private key PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .expect("TLS versions")
        .with_client_cert_verifier(client_verifier(client_ca, &provider))
        .with_single_cert(chain, key)
        .expect("server certificate and key");
    Arc::new(config)
}

fn client_verifier(
    client_ca: Option<&Ca>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Arc<dyn rustls::server::danger::ClientCertVerifier> {
    let Some(ca) = client_ca else {
        return rustls::server::WebPkiClientVerifier::no_client_auth();
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert.der().clone()).expect("client CA");
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("client verifier")
}

/// A server that speaks only `versions` and asks every client for a certificate issued by
/// `client_ca`: it refuses a client without one, unless `optional` (then it only asks).
pub fn server_config_asking_client(
    cert_chain_pem: &str,
    key_pem: &str,
    client_ca: &Ca,
    versions: &[&'static rustls::SupportedProtocolVersion],
    optional: bool,
) -> Arc<rustls::ServerConfig> {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert_chain_pem.as_bytes()).collect::<Result<_, _>>().expect("chain PEM");
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("private key PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(client_ca.cert.der().clone()).expect("client CA");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let verifier = match optional {
        true => verifier.allow_unauthenticated(),
        false => verifier,
    };
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("TLS versions")
        .with_client_cert_verifier(verifier.build().expect("client verifier"))
        .with_single_cert(chain, key)
        .expect("server certificate and key");
    Arc::new(config)
}
