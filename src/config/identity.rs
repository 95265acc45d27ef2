//! A cluster's client certificate and key (mutual TLS), checked at load: each file read
//! through [`secure_file`] (the key held to clusters.yaml's rules, and never readable by
//! others), the certificate holding a PEM certificate and the key a PEM private key.

use super::Cluster;
use super::diagnostic::{ClusterName, Diagnostic, Origin};
use crate::secure_file::{self, FileError, FileKind, Problem};
use std::path::{Path, PathBuf};

/// Resolve every `client_cert` and `client_key` against `dir` (the configuration's
/// directory), check the files, and keep the resolved paths in the clusters that have them.
pub(super) fn resolve(
    dir: Option<&Path>,
    files: Vec<(String, &'static str, PathBuf)>,
    clusters: &mut [Cluster],
    out: &mut Vec<Diagnostic>,
) {
    for (name, key, written) in files {
        let path = dir.map(|d| d.join(&written)).unwrap_or(written);
        let cluster = ClusterName::of(&name);
        let usable = match key {
            "client_cert" => check(&path, FileKind::ClientCert, key, cluster, out, certificate),
            _ => check(&path, FileKind::PrivateKey, key, cluster, out, private_key),
        };
        let Some(c) = clusters.iter_mut().find(|c| c.name == name).filter(|_| usable) else {
            continue;
        };
        let slot = slot(c, key);
        *slot = Some(path);
    }
}

fn slot<'a>(c: &'a mut Cluster, key: &str) -> &'a mut Option<PathBuf> {
    match key {
        "client_cert" => &mut c.tls.client_cert,
        _ => &mut c.tls.client_key,
    }
}

/// One file: readable under `kind`'s rules and holding what `content` wants. Its problems go
/// to `out`; true if it can be used.
fn check(
    path: &Path,
    kind: FileKind,
    key: &'static str,
    cluster: ClusterName,
    out: &mut Vec<Diagnostic>,
    content: fn(&str) -> Result<(), &'static str>,
) -> bool {
    let problem = |message: String| Diagnostic::error(Origin::Content, Some(cluster.clone()), Some(key), message);
    let file = match secure_file::read_private(path, kind) {
        Ok(Some(file)) => file,
        Ok(None) => {
            let missing = FileError { kind, name: path.display().to_string(), problem: Problem::NotFound };
            out.push(problem(missing.to_string()));
            return false;
        }
        Err(e) => {
            out.push(problem(e.to_string()));
            return false;
        }
    };
    let warning = |w: &secure_file::FileWarning| {
        Diagnostic::warning(Origin::Content, Some(cluster.clone()), Some(key), w.to_string())
    };
    out.extend(file.warnings.iter().map(warning));
    match content(&file.text) {
        Ok(()) => true,
        Err(why) => {
            out.push(problem(format!("{key} {}: {why}", path.display())));
            false
        }
    }
}

/// At least one PEM certificate that decodes.
fn certificate(text: &str) -> Result<(), &'static str> {
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    }
    #[cfg(feature = "http")]
    {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        if !CertificateDer::pem_slice_iter(text.as_bytes()).any(|c| c.is_ok()) {
            return Err("its PEM certificate does not decode (damaged base64?)");
        }
    }
    Ok(())
}

/// An unencrypted PEM private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC). What is wrong is told
/// by the PEM labels only: nothing of the key is ever shown.
fn private_key(text: &str) -> Result<(), &'static str> {
    const LABELS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];
    let has = |label: &str| text.contains(&format!("-----BEGIN {label}-----"));
    if !LABELS.iter().any(|l| has(l)) {
        return Err(match has("ENCRYPTED PRIVATE KEY") {
            true => {
                "the key is encrypted, and this server cannot ask for a passphrase; write an \
                     unencrypted copy with `openssl pkey -in KEY -out KEY.plain` (mode 0600)"
            }
            false => "no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY) in it",
        });
    }
    #[cfg(feature = "http")]
    {
        use rustls::pki_types::{PrivateKeyDer, pem::PemObject};
        if PrivateKeyDer::from_pem_slice(text.as_bytes()).is_err() {
            return Err("its PEM private key does not decode (damaged base64?)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_kinds_are_told_apart_by_their_labels() {
        assert!(private_key("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n").unwrap_err().contains("encrypted"));
        assert!(private_key("-----BEGIN CERTIFICATE-----\n").unwrap_err().contains("no PEM private key"));
        assert!(private_key("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n").is_err());
        assert!(certificate("-----BEGIN PRIVATE KEY-----\n").unwrap_err().contains("no PEM certificate"));
    }
}
