//! Renewing one stored login from two processes at once: the renewal holds a lock beside the
//! login, so the second process waits, reads the rotated token and spends nothing, instead of
//! spending the old refresh token a second time (which the provider answers `invalid_grant`,
//! logging one of them out). acpctl's file is renewed the same way, read again under the lock
//! so that a change acpctl made meanwhile is kept, its mode kept, and a link of ours to it
//! written through rather than replaced.

mod common;

use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

const SEED: &str = "seed-refresh-Lk27Vq9x";

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Start acp_list_sessions on each server without waiting, then collect every answer.
fn list_at_once(servers: &mut [&mut Server]) -> Vec<Value> {
    for s in servers.iter_mut() {
        let call = json!({"jsonrpc": "2.0", "id": 900, "method": "tools/call",
                          "params": {"name": "acp_list_sessions", "arguments": {}}});
        s.send_json(&call);
    }
    servers.iter_mut().map(|s| s.recv()).collect()
}

/// The refresh tokens the provider was sent, in order.
fn spent(idp: &FakeIdp) -> Vec<String> {
    idp.grants("refresh_token").iter().map(|r| r.form["refresh_token"].clone()).collect()
}

#[test]
fn two_processes_renewing_one_login_spend_its_refresh_token_once_and_both_work() {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    idp.on_issue(env.api.token_acceptor());
    idp.add_refresh_token(SEED, "ada");
    // Slow enough that both processes ask before either has its answer, without the lock.
    idp.slow_tokens(Duration::from_millis(800));
    env.write_oidc(&idp.issuer());
    let tokens = env.dir.path().join(".config/acp/tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    for d in [env.dir.path().join(".config"), env.dir.path().join(".config/acp"), tokens.clone()] {
        chmod(&d, 0o700);
    }
    let login = json!({"issuer": idp.issuer(), "client_id": "ocm-cli", "grant": "interactive",
                       "refresh_token": SEED, "expires_at": 1});
    std::fs::write(tokens.join("amb.json"), login.to_string()).unwrap();
    chmod(&tokens.join("amb.json"), 0o600);
    let (mut a, mut b) = (env.spawn_with(&[]), env.spawn_with(&[]));
    let answers = list_at_once(&mut [&mut a, &mut b]);
    for answer in &answers {
        assert_eq!(answer["result"]["isError"], json!(false), "{answer}");
    }
    assert_eq!(spent(&idp), [SEED], "one renewal, with the stored refresh token");
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(tokens.join("amb.json")).unwrap()).unwrap();
    assert_eq!(stored["refresh_token"].as_str(), idp.issued_refresh().first().map(String::as_str));
    assert!(idp.refresh_valid(stored["refresh_token"].as_str().unwrap()), "the stored token is still good");
    // Both keep working on the one renewed token; the second said where it got it.
    let answers = list_at_once(&mut [&mut a, &mut b]);
    assert!(answers.iter().all(|x| x["result"]["isError"] == json!(false)), "{answers:?}");
    assert_eq!(idp.issued_access().len(), 1);
    let (fa, fb) = (a.close(), b.close());
    let logs = format!("{}{}", fa.stderr, fb.stderr);
    assert!(logs.contains("was renewed by another process"), "{logs}");
    assert!(!logs.contains(SEED) && !logs.contains(&idp.issued_refresh()[0]), "a refresh token was logged");
}

#[test]
fn acpctl_renewal_writes_through_our_link_keeps_its_mode_and_a_change_made_meanwhile() {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    idp.on_issue(env.api.token_acceptor());
    idp.add_refresh_token(SEED, "ada");
    idp.slow_tokens(Duration::from_millis(800));
    let (links, real) = (env.dir.path().join("ambient"), env.dir.path().join("dotfiles"));
    for d in [&links, &real] {
        std::fs::create_dir(d).unwrap();
        chmod(d, 0o700);
    }
    let (link, target) = (links.join("config.json"), real.join("ambient.json"));
    let expired = common::idp::jwt(&json!({"sub": "ada", "exp": 1_600_000_000}));
    let config = json!({"api_url": env.api.url(), "access_token": expired, "refresh_token": SEED,
                        "issuer_url": idp.issuer(), "client_id": "ocm-cli", "project": "team-a"});
    std::fs::write(&target, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    chmod(&target, 0o640);
    std::os::unix::fs::symlink(&target, &link).unwrap();
    env.write(&format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    default_project: team-a\n    \
         token_from: acpctl\ndefault_cluster: amb\n",
        env.api.url()
    ));
    let mut s = env.spawn_with(&[("AMBIENT_CONFIG", link.to_str().unwrap())]);
    s.send_json(&json!({"jsonrpc": "2.0", "id": 900, "method": "tools/call",
                        "params": {"name": "acp_list_sessions", "arguments": {}}}));
    // While the provider answers, acpctl changes its file (as `acpctl config set` would).
    std::thread::sleep(Duration::from_millis(300));
    let mut changed = config.clone();
    changed["project"] = json!("team-b");
    std::fs::write(&target, serde_json::to_string_pretty(&changed).unwrap()).unwrap();
    let answer = s.recv();
    assert_eq!(answer["result"]["isError"], json!(false), "{answer}");
    let f = s.close();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is kept");
    assert_eq!(std::fs::read_link(&link).unwrap(), target);
    let after: Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(after["project"], json!("team-b"), "acpctl's change is kept");
    assert_eq!(after["refresh_token"].as_str(), idp.issued_refresh().first().map(String::as_str));
    assert_eq!(after["access_token"].as_str(), idp.issued_access().first().map(String::as_str));
    for key in ["api_url", "issuer_url", "client_id"] {
        assert_eq!(after[key], config[key], "{key} kept");
    }
    assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o640, "its mode is kept");
    let names = |d: &Path| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>();
    assert_eq!(names(&links), ["config.json"], "nothing written beside the link");
    assert_eq!(names(&real).len(), 2, "the file and its lock, no temporary file: {:?}", names(&real));
    assert_eq!(spent(&idp), [SEED]);
    assert!(!f.stderr.contains(SEED), "the refresh token was logged");
}
