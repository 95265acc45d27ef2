//! Client certificates (mutual TLS) and certificate pinning, end to end through the binary,
//! with certificates made at test time: a server that demands a client certificate gets the
//! cluster's `client_cert`; `pinned_spki_sha256` refuses a verified chain that holds none of
//! the pinned keys, before anything is sent, and never replaces the standard checks.

mod common;

use common::tls::{Ca, ServerCert, server_config_asking_client, server_config_requiring_client};
use common::*;
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const HOSTS: &[&str] = &["127.0.0.1", "localhost"];

fn write_mode(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A gateway with [`TOKEN`], project `team-a` and session `s1`, over `config`.
fn gateway(config: std::sync::Arc<rustls::ServerConfig>) -> FakeGateway {
    let gw = FakeGateway::start_tls_config(config);
    gw.accept_token(TOKEN);
    gw.add_project("team-a");
    gw.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    gw
}

fn plain_gateway(cert: &ServerCert) -> FakeGateway {
    gateway(common::tls::server_config(&cert.chain_pem, &cert.key_pem))
}

/// One cluster entry trusting `ca.pem`, with `extra` lines (already indented) added.
fn cluster(name: &str, server: &str, extra: &str) -> String {
    format!(
        "  {name}:\n    server: \"{server}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    \
         ca_cert: ca.pem\n{extra}"
    )
}

fn config(clusters: &[String]) -> String {
    let first = clusters[0].trim_start().split(':').next().unwrap().to_string();
    format!("clusters:\n{}default_cluster: {first}\n", clusters.concat())
}

fn pins(list: &[&str]) -> String {
    let quoted: Vec<String> = list.iter().map(|p| format!("'{p}'")).collect();
    format!("    pinned_spki_sha256: [{}]\n", quoted.join(", "))
}

fn start(env: &TestEnv) -> Server {
    let mut s = env.spawn();
    s.initialize();
    s
}

fn list(s: &mut Server) -> ToolResult {
    s.call_tool("acp_list_sessions", json!({}))
}

fn switch(s: &mut Server, cluster: &str) {
    let r = s.call_tool("acp_switch_cluster", json!({"cluster": cluster}));
    assert!(!r.is_error, "{}", r.text);
}

/// A server CA (trusted as `ca.pem`) and a client CA, with two client identities written beside
/// clusters.yaml: `me.crt`/`me.key`, issued by the client CA, and `other.crt`/`other.key`, not.
fn identities(env: &TestEnv) -> (Ca, Ca) {
    let (server_ca, client_ca) = (Ca::new("Server CA"), Ca::new("Client CA"));
    let dir = env.dir.path();
    write_mode(&dir.join("ca.pem"), &server_ca.pem(), 0o600);
    let me = client_ca.issue_client("mcp-acp");
    write_mode(&dir.join("me.crt"), &me.chain_pem, 0o644);
    write_mode(&dir.join("me.key"), &me.key_pem, 0o600);
    let stranger = Ca::new("Some other CA").issue_client("mcp-acp");
    write_mode(&dir.join("other.crt"), &stranger.chain_pem, 0o644);
    write_mode(&dir.join("other.key"), &stranger.key_pem, 0o600);
    (server_ca, client_ca)
}

#[test]
fn a_server_that_demands_a_client_certificate_gets_client_cert_and_key() {
    let env = TestEnv::new();
    let (server_ca, client_ca) = identities(&env);
    let dir = env.dir.path();
    let cert = server_ca.issue(HOSTS);
    let gw = gateway(server_config_requiring_client(&cert.chain_pem, &cert.key_pem, &client_ca));
    let identity = |c: &str, k: &str| format!("    client_cert: {c}\n    client_key: {k}\n");
    env.write_config(&config(&[
        cluster("mtls", &gw.url(), &identity("me.crt", "me.key")),
        cluster("none", &gw.url(), ""),
        cluster("stranger", &gw.url(), &identity("other.crt", "other.key")),
    ]));
    let mut s = start(&env);

    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Found 1 session(s) in project 'team-a' (cluster 'mtls')"), "{}", r.text);
    assert_eq!(gw.request_count(), 1);

    switch(&mut s, "none");
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains(&format!("TLS connection to {} failed: ", gw.url())), "{}", r.text);
    assert!(
        r.text.contains("the server asks for a client certificate and none is configured")
            && r.text.contains("set `client_cert` and `client_key` for cluster 'none' in clusters.yaml"),
        "{}",
        r.text
    );

    switch(&mut s, "stranger");
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    let named = format!("the server refused the client certificate {}", dir.join("other.crt").display());
    assert!(r.text.contains(&named), "{}", r.text);
    assert_eq!(gw.request_count(), 1, "a request got through without an accepted client certificate");

    // And the right one still works on the same server.
    switch(&mut s, "mtls");
    assert!(!list(&mut s).is_error);
    assert_eq!(gw.request_count(), 2);
    let f = s.close();
    assert!(!f.stderr.contains("PRIVATE KEY"), "key material in the log: {}", f.stderr);
    assert_no_token_leak(&f.stderr);
}

#[test]
fn a_server_that_asks_for_a_client_certificate_says_so_with_tls_1_2_and_1_3() {
    let env = TestEnv::new();
    let (server_ca, client_ca) = identities(&env);
    let dir = env.dir.path();
    let cert = server_ca.issue(HOSTS);
    let serve = |versions, optional| {
        gateway(server_config_asking_client(&cert.chain_pem, &cert.key_pem, &client_ca, versions, optional))
    };
    let (tls12, tls13) = (&[&rustls::version::TLS12][..], &[&rustls::version::TLS13][..]);
    let identity = |c: &str, k: &str| format!("    client_cert: {c}\n    client_key: {k}\n");
    for (versions, label) in [(tls12, "TLS 1.2"), (tls13, "TLS 1.3")] {
        let (demands, asks) = (serve(versions, false), serve(versions, true));
        let abrupt =
            abrupt_server(server_config_asking_client(&cert.chain_pem, &cert.key_pem, &client_ca, versions, false));
        env.write_config(&config(&[
            cluster("none", &demands.url(), ""),
            cluster("abrupt", &abrupt, ""),
            cluster("abrupt-stranger", &abrupt, &identity("other.crt", "other.key")),
            cluster("stranger", &demands.url(), &identity("other.crt", "other.key")),
            cluster("mtls", &demands.url(), &identity("me.crt", "me.key")),
            cluster("optional", &asks.url(), ""),
        ]));
        let mut s = start(&env);
        // A server that ends the handshake without an alert (with TLS 1.2 this read "Broken pipe").
        switch(&mut s, "abrupt");
        let r = list(&mut s);
        assert!(
            r.is_error
                && r.text.contains("the server asks for a client certificate and none is configured (")
                && r.text.contains("set `client_cert` and `client_key` for cluster 'abrupt'"),
            "{label}: {}",
            r.text
        );
        switch(&mut s, "abrupt-stranger");
        let r = list(&mut s);
        let named = format!("the server refused the client certificate {} (", dir.join("other.crt").display());
        assert!(r.is_error && r.text.contains(&named), "{label}: {}", r.text);
        switch(&mut s, "none");
        for _ in 0..2 {
            let r = list(&mut s);
            assert!(r.is_error, "{label}: {}", r.text);
            assert!(
                r.text.contains("the server asks for a client certificate and none is configured")
                    && r.text.contains("set `client_cert` and `client_key` for cluster 'none' in clusters.yaml"),
                "{label}: {}",
                r.text
            );
            assert!(!r.text.to_lowercase().contains("broken pipe"), "{label}: {}", r.text);
        }
        switch(&mut s, "stranger");
        let r = list(&mut s);
        let named = format!("the server refused the client certificate {}", dir.join("other.crt").display());
        assert!(r.is_error && r.text.contains(&named), "{label}: {}", r.text);
        assert_eq!(demands.request_count(), 0, "{label}: a request got through without an accepted certificate");
        switch(&mut s, "mtls");
        let r = list(&mut s);
        assert!(!r.is_error, "{label}: {}", r.text);
        // A server that only asks takes the connection without one, every time (pooled too).
        switch(&mut s, "optional");
        for _ in 0..2 {
            let r = list(&mut s);
            assert!(!r.is_error, "{label}: {}", r.text);
        }
        assert_eq!((demands.request_count(), asks.request_count()), (1, 2), "{label}");
        finish(s);
    }
}

/// A TLS server that closes the connection, without an alert, when a handshake fails (as
/// some servers do when a client brings no certificate); it never answers a request.
fn abrupt_server(config: std::sync::Arc<rustls::ServerConfig>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut tcp in listener.incoming().flatten() {
            let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
            while conn.is_handshaking() {
                if conn.wants_write() {
                    if conn.write_tls(&mut tcp).is_err() {
                        break;
                    }
                    continue;
                }
                // On an error the alert rustls queued is never written.
                if !matches!(conn.read_tls(&mut tcp), Ok(n) if n > 0) || conn.process_new_packets().is_err() {
                    break;
                }
            }
            // With TLS 1.3 the client's certificate comes after its handshake is over.
            let mut buf = [0u8; 4096];
            while !conn.is_handshaking() && matches!(conn.read_tls(&mut tcp), Ok(n) if n > 0) {
                if conn.process_new_packets().is_err() || std::io::Read::read(&mut conn.reader(), &mut buf).is_ok() {
                    break;
                }
            }
        }
    });
    url
}

#[test]
fn a_pin_of_the_leaf_or_of_the_ca_lets_the_call_through() {
    let env = TestEnv::new();
    let ca = Ca::new("Pinned CA");
    write_mode(&env.dir.path().join("ca.pem"), &ca.pem(), 0o600);
    let cert = ca.issue(HOSTS);
    let gw = plain_gateway(&cert);
    let other = Ca::new("Unrelated").pin();
    env.write_config(&config(&[
        cluster("leaf", &gw.url(), &pins(&[&cert.pin()])),
        cluster("ca", &gw.url(), &pins(&[&other, &ca.pin()])),
    ]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    switch(&mut s, "ca");
    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(gw.request_count(), 2);
    finish(s);
}

#[test]
fn a_wrong_pin_refuses_the_connection_naming_both_sides_and_nothing_is_sent() {
    let env = TestEnv::new();
    let ca = Ca::new("Real CA");
    write_mode(&env.dir.path().join("ca.pem"), &ca.pem(), 0o600);
    let cert = ca.issue(HOSTS);
    let gw = plain_gateway(&cert);
    let wrong = Ca::new("Expected CA").pin();
    env.write_config(&config(&[cluster("dev", &gw.url(), &pins(&[&wrong]))]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    let expected = format!(
        "TLS connection to {} refused: certificate pin mismatch for cluster 'dev': expected one of [{wrong}]; \
         the server's chain has [{}, {}]",
        gw.url(),
        cert.pin(),
        ca.pin()
    );
    assert!(r.text.contains(&expected), "expected {expected:?} in: {}", r.text);
    assert!(r.text.contains("so nothing was sent") && r.text.contains("pinned_spki_sha256"), "{}", r.text);
    assert_eq!(gw.request_count(), 0, "a request went over a connection whose pin did not match");
    assert!(gw.requests().is_empty());
    finish(s);
}

#[test]
fn a_pinned_certificate_presented_beside_the_chain_is_not_in_the_verified_chain() {
    // The server sends the pinned CA's certificate along, but its leaf was issued by another
    // CA we also trust: the chain that verifies holds no pinned key, so it is refused.
    let env = TestEnv::new();
    let (issuer, pinned) = (Ca::new("Issuing CA"), Ca::new("Pinned CA"));
    write_mode(&env.dir.path().join("ca.pem"), &format!("{}{}", issuer.pem(), pinned.pem()), 0o600);
    let cert = issuer.issue(HOSTS);
    let padded = ServerCert {
        chain_pem: format!("{}{}", cert.chain_pem, pinned.pem()),
        key_pem: cert.key_pem.clone(),
        spki_der: cert.spki_der.clone(),
    };
    let gw = plain_gateway(&padded);
    env.write_config(&config(&[cluster("dev", &gw.url(), &pins(&[&pinned.pin()]))]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert!(r.text.contains("certificate pin mismatch for cluster 'dev'"), "{}", r.text);
    assert!(!r.text.contains(&format!("has [{}, {}, {}", cert.pin(), issuer.pin(), pinned.pin())), "{}", r.text);
    assert_eq!(gw.request_count(), 0);
    finish(s);
}

#[test]
fn an_expired_certificate_is_refused_even_with_a_matching_pin() {
    let env = TestEnv::new();
    let ca = Ca::new("Private CA");
    write_mode(&env.dir.path().join("ca.pem"), &ca.pem(), 0o600);
    let cert = ca.issue_expired(HOSTS);
    let gw = plain_gateway(&cert);
    env.write_config(&config(&[cluster("dev", &gw.url(), &pins(&[&cert.pin(), &ca.pin()]))]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    assert!(r.text.contains("invalid peer certificate: certificate expired"), "{}", r.text);
    assert!(!r.text.contains("pin"), "{}", r.text);
    assert_eq!(gw.request_count(), 0);
    finish(s);
}

#[test]
fn client_key_and_cert_files_are_checked_when_the_configuration_is_loaded() {
    let env = TestEnv::new();
    let dir = env.dir.path();
    let ca = Ca::new("Private CA");
    write_mode(&dir.join("ca.pem"), &ca.pem(), 0o600);
    let me = ca.issue_client("me");
    write_mode(&dir.join("me.crt"), &me.chain_pem, 0o644);
    write_mode(&dir.join("me.key"), &me.key_pem, 0o640);
    write_mode(&dir.join("cert-only.key"), &me.chain_pem, 0o600);
    let gw = plain_gateway(&ca.issue(HOSTS));
    let identity = |c: &str, k: &str| format!("    client_cert: {c}\n    client_key: {k}\n");
    env.write_config(&config(&[cluster("dev", &gw.url(), &identity("me.crt", "me.key"))]));
    let mut s = start(&env);
    // A failed load is retried on every call (a good one is kept): the wrong kind of file in
    // each place, and a missing one, then the key others can read, then all fixed.
    for (cert, key, why) in [
        ("me.key", "me.key", "client_cert "),
        ("me.crt", "cert-only.key", "no PEM private key"),
        ("me.crt", "missing.key", "no such file"),
    ] {
        env.write_config(&config(&[cluster("dev", &gw.url(), &identity(cert, key))]));
        let r = list(&mut s);
        assert!(r.is_error && r.text.contains(why), "{cert}/{key}: {}", r.text);
        assert!(!r.text.contains("-----END") && !r.text.contains("MII"), "no file content shown: {}", r.text);
    }
    env.write_config(&config(&[cluster("dev", &gw.url(), &identity("me.crt", "me.key"))]));
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    let key = dir.join("me.key");
    assert!(r.text.contains("cluster 'dev': "), "{}", r.text);
    assert!(r.text.contains(&format!("Refusing to use client_key {}", key.display())), "{}", r.text);
    assert!(r.text.contains("mode is 0640") && r.text.contains(&format!("chmod 600 {}", key.display())), "{}", r.text);
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(!list(&mut s).is_error);
    assert_eq!(gw.request_count(), 1);
    finish(s);
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_before_anything_is_sent() {
    let env = TestEnv::new();
    let dir = env.dir.path();
    let ca = Ca::new("Private CA");
    write_mode(&dir.join("ca.pem"), &ca.pem(), 0o600);
    let (a, b) = (ca.issue_client("a"), ca.issue_client("b"));
    write_mode(&dir.join("a.crt"), &a.chain_pem, 0o644);
    write_mode(&dir.join("b.key"), &b.key_pem, 0o600);
    let gw = plain_gateway(&ca.issue(HOSTS));
    env.write_config(&config(&[cluster("dev", &gw.url(), "    client_cert: a.crt\n    client_key: b.key\n")]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert!(r.is_error, "{}", r.text);
    let want = format!(
        "client_key {} cannot be used with client_cert {}",
        dir.join("b.key").display(),
        dir.join("a.crt").display()
    );
    assert!(r.text.contains(&want), "{}", r.text);
    assert_eq!(gw.request_count(), 0);
    finish(s);
}

#[test]
fn the_ambient_api_gets_the_same_client_certificate_and_pins() {
    let env = TestEnv::new();
    let dir = env.dir.path();
    let (server_ca, client_ca) = (Ca::new("Server CA"), Ca::new("Client CA"));
    write_mode(&dir.join("ca.pem"), &server_ca.pem(), 0o600);
    let me = client_ca.issue_client("mcp-acp");
    write_mode(&dir.join("me.crt"), &me.chain_pem, 0o644);
    write_mode(&dir.join("me.key"), &me.key_pem, 0o600);
    let cert = server_ca.issue(HOSTS);
    let amb = FakeAmbient::start_tls_config(server_config_requiring_client(&cert.chain_pem, &cert.key_pem, &client_ca));
    amb.accept_token(TOKEN);
    amb.add_project("team-a");
    let extra =
        format!("    api: ambient\n    client_cert: me.crt\n    client_key: me.key\n{}", pins(&[&server_ca.pin()]));
    let wrong = format!("    api: ambient\n    client_cert: me.crt\n    client_key: me.key\n{}", pins(&[&me.pin()]));
    env.write_config(&config(&[cluster("amb", &amb.url(), &extra), cluster("wrong", &amb.url(), &wrong)]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    let seen = amb.request_count();
    assert!(seen >= 1);
    switch(&mut s, "wrong");
    let r = list(&mut s);
    assert!(r.text.contains("certificate pin mismatch for cluster 'wrong'"), "{}", r.text);
    assert_eq!(amb.request_count(), seen);
    finish(s);
}

#[test]
fn the_readme_openssl_pipeline_computes_the_same_pin() {
    let Ok(_) = std::process::Command::new("openssl").arg("version").output() else {
        println!("no openssl: the README's pipeline is not checked");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Pinned CA");
    let leaf = ca.issue(HOSTS);
    for (pem, pin) in [(ca.pem(), ca.pin()), (leaf.chain_pem.clone(), leaf.pin())] {
        let file = dir.path().join("cert.pem");
        fs::write(&file, pem).unwrap();
        let pipeline = format!(
            "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
            file.display()
        );
        let out = std::process::Command::new("sh").arg("-c").arg(&pipeline).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pin);
    }
}
