//! TLS end to end: the fake gateway over HTTPS with certificates made at test time. A
//! certificate that does not verify stops the call before anything is sent; a cluster's
//! `ca_cert` trusts a private CA for that cluster only; redirects never downgrade to http;
//! and there is no way to switch verification off.

mod common;

use common::tls::{Ca, ServerCert, self_signed};
use common::*;
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// An HTTPS gateway presenting `cert`, with [`TOKEN`], project `team-a` and session `s1`.
fn https_gateway(cert: &ServerCert) -> FakeGateway {
    let gw = FakeGateway::start_tls(&cert.chain_pem, &cert.key_pem);
    gw.accept_token(TOKEN);
    gw.add_project("team-a");
    gw.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    gw
}

/// Writes `text` to `path` with mode 0600.
fn write_private(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

/// One cluster entry; `ca_cert` as written in the file.
fn cluster(name: &str, server: &str, ca_cert: Option<&str>) -> String {
    let ca = ca_cert.map(|c| format!("    ca_cert: \"{c}\"\n")).unwrap_or_default();
    format!("  {name}:\n    server: \"{server}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n{ca}")
}

fn config(clusters: &[String]) -> String {
    let first = clusters[0].trim_start().split(':').next().unwrap().to_string();
    format!("clusters:\n{}default_cluster: {first}\n", clusters.concat())
}

fn start(env: &TestEnv) -> Server {
    let mut s = env.spawn();
    s.initialize();
    s
}

fn list(s: &mut Server) -> ToolResult {
    s.call_tool("acp_list_sessions", json!({}))
}

fn assert_tls_refused(r: &ToolResult, server: &str, detail: &str) {
    assert!(r.is_error, "{}", r.text);
    assert!(
        r.text
            .starts_with(&format!("Failed to list sessions in project 'team-a': TLS connection to {server} failed: ")),
        "{}",
        r.text
    );
    assert!(r.text.to_lowercase().contains("certificate"), "{}", r.text);
    assert!(r.text.contains(detail), "expected {detail:?} in: {}", r.text);
    assert!(r.text.contains("so nothing was sent."), "{}", r.text);
    assert!(r.text.ends_with("set `ca_cert` for this cluster in clusters.yaml."), "{}", r.text);
}

#[test]
fn a_self_signed_or_unknown_ca_certificate_is_refused_and_nothing_is_sent() {
    let env = TestEnv::new();
    let self_signed_gw = https_gateway(&self_signed(&["127.0.0.1", "localhost"]));
    let unknown_ca = Ca::new("Unknown CA");
    let unknown_gw = https_gateway(&unknown_ca.issue(&["127.0.0.1", "localhost"]));
    // A ca_cert that is some other private CA does not help either.
    let other_ca = Ca::new("Other CA");
    write_private(&env.dir.path().join("other-ca.pem"), &other_ca.pem());
    env.write_config(&config(&[
        cluster("selfsigned", &self_signed_gw.url(), None),
        cluster("unknown", &unknown_gw.url(), None),
        cluster("wrongca", &unknown_gw.url(), Some("other-ca.pem")),
    ]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert_tls_refused(&r, &self_signed_gw.url(), "invalid peer certificate: UnknownIssuer");
    for name in ["unknown", "wrongca"] {
        assert!(!s.call_tool("acp_switch_cluster", json!({"cluster": name})).is_error);
        let r = list(&mut s);
        assert_tls_refused(&r, &unknown_gw.url(), "invalid peer certificate: UnknownIssuer");
    }
    assert_eq!(self_signed_gw.request_count(), 0, "a request went over an unverified connection");
    assert_eq!(unknown_gw.request_count(), 0, "a request went over an unverified connection");
    let f = s.close();
    assert!(f.stderr.contains("TLS connection to"), "TLS failures are logged: {}", f.stderr);
    assert_no_token_leak(&f.stderr);
}

#[test]
fn ca_cert_trusts_a_private_ca_for_its_cluster_only() {
    let env = TestEnv::new();
    let ca = Ca::new("Private CA");
    let gw = https_gateway(&ca.issue(&["127.0.0.1", "localhost"]));
    // The file lives in its own directory, next to its CA file; the server runs elsewhere,
    // so the relative `ca_cert` only works if it is resolved against the file's directory.
    let conf_dir = env.dir.path().join("conf");
    fs::create_dir(&conf_dir).unwrap();
    fs::set_permissions(&conf_dir, fs::Permissions::from_mode(0o700)).unwrap();
    write_private(&conf_dir.join("ca.pem"), &ca.pem());
    let conf = conf_dir.join("clusters.yaml");
    write_private(&conf, &config(&[cluster("private", &gw.url(), Some("ca.pem")), cluster("public", &gw.url(), None)]));
    let mut s = env.spawn_with(&[("ACP_CLUSTER_CONFIG", conf.to_str().unwrap())], &[]);
    s.initialize();

    // Trusted: the whole tool set works over HTTPS.
    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    assert!(r.text.starts_with("Found 1 session(s) in project 'team-a' (cluster 'private')"), "{}", r.text);
    let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(gw.request_count(), 2);
    assert_eq!(gw.requests()[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));

    // Same gateway, no ca_cert: refused, even though the other cluster's connection to the
    // very same address is still open.
    assert!(!s.call_tool("acp_switch_cluster", json!({"cluster": "public"})).is_error);
    let r = list(&mut s);
    assert_tls_refused(&r, &gw.url(), "invalid peer certificate: UnknownIssuer");
    assert_eq!(gw.request_count(), 2, "the public-roots cluster sent a request");

    // And back: the private CA is trusted again.
    assert!(!s.call_tool("acp_switch_cluster", json!({"cluster": "private"})).is_error);
    let r = list(&mut s);
    assert!(!r.is_error && r.text.starts_with("Found 0 session(s)"), "{}", r.text);
    assert_eq!(gw.request_count(), 3);
    finish(s);
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    let env = TestEnv::new();
    let ca = Ca::new("Private CA");
    write_private(&env.dir.path().join("ca.pem"), &ca.pem());
    let other = https_gateway(&ca.issue(&["other.example"]));
    let by_name = https_gateway(&ca.issue(&["localhost"]));
    let by_ip = https_gateway(&ca.issue(&["127.0.0.1"]));
    env.write_config(&config(&[
        cluster("other", &other.url(), Some("ca.pem")),
        cluster("name-cert-ip-url", &by_name.url(), Some("ca.pem")),
        cluster("ip-cert-name-url", &by_ip.url_for_host("localhost"), Some("ca.pem")),
        cluster("name-cert-name-url", &by_name.url_for_host("localhost"), Some("ca.pem")),
    ]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert_tls_refused(&r, &other.url(), "certificate not valid for name \"127.0.0.1\"");
    for (cluster, server, name) in [
        ("name-cert-ip-url", by_name.url(), "127.0.0.1"),
        ("ip-cert-name-url", by_ip.url_for_host("localhost"), "localhost"),
    ] {
        assert!(!s.call_tool("acp_switch_cluster", json!({"cluster": cluster})).is_error);
        let r = list(&mut s);
        assert_tls_refused(&r, &server, &format!("certificate not valid for name \"{name}\""));
    }
    assert_eq!(other.request_count() + by_name.request_count() + by_ip.request_count(), 0);
    // The same CA and the right name: accepted (so the refusals above are about the name).
    assert!(!s.call_tool("acp_switch_cluster", json!({"cluster": "name-cert-name-url"})).is_error);
    let r = list(&mut s);
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(by_name.request_count(), 1);
    finish(s);
}

#[test]
fn an_expired_certificate_is_refused() {
    let env = TestEnv::new();
    let ca = Ca::new("Private CA");
    write_private(&env.dir.path().join("ca.pem"), &ca.pem());
    let gw = https_gateway(&ca.issue_expired(&["127.0.0.1"]));
    env.write_config(&config(&[cluster("dev", &gw.url(), Some("ca.pem"))]));
    let mut s = start(&env);
    let r = list(&mut s);
    assert_tls_refused(&r, &gw.url(), "invalid peer certificate: certificate expired");
    assert_eq!(gw.request_count(), 0);
    finish(s);
}

#[test]
fn an_https_to_http_redirect_is_refused() {
    let env = TestEnv::new();
    let ca = Ca::new("Private CA");
    write_private(&env.dir.path().join("ca.pem"), &ca.pem());
    let gw = https_gateway(&ca.issue(&["127.0.0.1"]));
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    env.write_config(&config(&[cluster("dev", &gw.url(), Some("ca.pem"))]));
    let mut s = start(&env);
    let plain = env.gateway.url(); // a plain-http gateway that would answer
    let same_port = format!("http://{}", gw.addr()); // the same host and port, without TLS
    for location in [format!("{plain}/v1/sessions"), format!("{same_port}/v1/sessions")] {
        gw.push_fault(Fault::Redirect(302, location.clone()));
        let r = list(&mut s);
        assert!(r.is_error, "{}", r.text);
        assert!(r.text.contains(&format!("The gateway redirected to \"{location}\" (https → http)")), "{}", r.text);
        assert!(r.text.contains("the token was not sent there"), "{}", r.text);
    }
    assert_eq!(env.gateway.request_count(), 0, "the plain-http gateway was contacted");
    assert_eq!(gw.request_count(), 2);
    // The next call is served over HTTPS as usual.
    let r = list(&mut s);
    assert!(!r.is_error && r.text.starts_with("Found 1 session(s)"), "{}", r.text);
    finish(s);
}

#[test]
fn there_is_no_setting_that_turns_verification_off() {
    let env = TestEnv::new();
    let gw = https_gateway(&self_signed(&["127.0.0.1"]));
    let mut s = start(&env);
    for key in [
        "insecure_skip_tls_verify: true",
        "verify_ssl: false",
        "insecure: true",
        "tls_verify: false",
        "skip_tls_verify: true",
        "verify: false",
        "tls: {insecure: true}",
    ] {
        let name = key.split(':').next().unwrap();
        env.write_config(&format!(
            "clusters:\n  dev:\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    {key}\ndefault_cluster: dev\n",
            gw.url()
        ));
        let r = list(&mut s);
        assert!(r.is_error, "{key}: {}", r.text);
        assert!(r.text.contains(&format!("cluster 'dev': unknown key \"{name}\"")), "{key}: {}", r.text);
        assert!(r.text.contains("allowed: server, token, default_project, description, api, timeout_seconds, ca_cert"));
    }
    assert_eq!(gw.request_count(), 0);
    finish(s);

    // Nor do the environment variables other TLS stacks read: only ACP_* variables count.
    let ca = Ca::new("Env CA");
    let trusted_by_env = https_gateway(&ca.issue(&["127.0.0.1"]));
    let ca_file = env.dir.path().join("env-ca.pem");
    write_private(&ca_file, &ca.pem());
    env.write_config(&config(&[cluster("dev", &trusted_by_env.url(), None)]));
    let ca_path = ca_file.to_str().unwrap();
    let dir = env.dir.path().to_str().unwrap();
    let mut s = env.spawn_with(
        &[
            ("SSL_CERT_FILE", ca_path),
            ("SSL_CERT_DIR", dir),
            ("REQUESTS_CA_BUNDLE", ca_path),
            ("CURL_CA_BUNDLE", ca_path),
            ("NODE_EXTRA_CA_CERTS", ca_path),
            ("NODE_TLS_REJECT_UNAUTHORIZED", "0"),
            ("PYTHONHTTPSVERIFY", "0"),
            ("ACP_INSECURE", "1"),
        ],
        &[],
    );
    s.initialize();
    let r = list(&mut s);
    assert_tls_refused(&r, &trusted_by_env.url(), "invalid peer certificate: UnknownIssuer");
    assert_eq!(trusted_by_env.request_count(), 0);
    finish(s);
}

#[test]
fn a_ca_cert_that_is_missing_or_holds_no_certificate_is_a_configuration_error() {
    let env = TestEnv::new();
    let ca = Ca::new("Private CA");
    let gw = https_gateway(&ca.issue(&["127.0.0.1"]));
    let key_only = env.dir.path().join("key.pem");
    write_private(&key_only, &ca.issue(&["x.example"]).key_pem);
    let mut s = start(&env);
    let cases: [(&str, PathBuf, &str); 3] = [
        ("missing.pem", env.dir.path().join("missing.pem"), "cannot read it"),
        ("key.pem", key_only.clone(), "no PEM certificate (-----BEGIN CERTIFICATE-----) in it"),
        (".", env.dir.path().join("."), "cannot read it"),
    ];
    for (written, resolved, why) in cases {
        env.write_config(&config(&[cluster("dev", &gw.url(), Some(written))]));
        let r = list(&mut s);
        assert!(r.is_error, "{written}: {}", r.text);
        assert!(r.text.contains("cluster 'dev': ca_cert "), "{written}: {}", r.text);
        assert!(r.text.contains(&resolved.display().to_string()), "{written}: names the resolved path: {}", r.text);
        assert!(r.text.contains(why), "{written}: {}", r.text);
        assert!(!r.text.contains("PRIVATE KEY"), "the file's content is not shown: {}", r.text);
    }
    assert_eq!(gw.request_count(), 0);
    finish(s);
}
