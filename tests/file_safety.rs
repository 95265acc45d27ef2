//! Files this server writes, against another local user: a symbolic link or a file they
//! planted on the way to the audit log or a stored login (in a sticky, world-writable
//! directory such as /tmp) is refused, naming it and its owner, by the server, by
//! `check-config` and by `mcp-acp login`; nothing is written through it. Our own links are
//! followed. `mcp-acp login` refuses a tokens directory the server would not read, and a
//! client-credentials login without a secret, before asking the identity provider anything.
//! The cases with a second user need root (to give a link to uid 65534); they say so when
//! skipped.

mod common;

use common::*;
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The other user.
const NOBODY: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Whether we are root (who alone can give a file to another user); says so when not.
fn as_root(what: &str) -> bool {
    // The owner of a file just made is who we are.
    let f = tempfile::NamedTempFile::new().unwrap();
    let root = std::fs::metadata(f.path()).unwrap().uid() == 0;
    if !root {
        println!("skipped: not root, so no file can be given to another user ({what})");
    }
    root
}

/// A sticky, world-writable directory (as /tmp is) inside `top`.
fn sticky(top: &Path) -> PathBuf {
    let dir = top.join("sticky");
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o1777);
    dir
}

/// A symbolic link at `link` to `target`, owned by the other user.
fn plant_link(target: &Path, link: &Path) {
    symlink(target, link).unwrap();
    lchown(link, Some(NOBODY), Some(NOBODY)).unwrap();
}

/// `mcp-acp <args>` with the test's environment (HOME = `home`), to completion.
fn run(dir: &Path, home: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin_path());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("ACP_CLUSTER_CONFIG", dir.join("clusters.yaml"))
        .current_dir(dir)
        .stdin(Stdio::null());
    cmd.envs(extra.iter().copied());
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn an_audit_log_through_another_users_link_is_refused_and_nothing_is_written_through_it() {
    if !as_root("planted audit log links") {
        return;
    }
    let env = TestEnv::new();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let top = env.dir.path();
    let (shared, bashrc) = (sticky(top), top.join("bashrc"));
    std::fs::write(&bashrc, "echo hello\n").unwrap();
    chmod(&bashrc, 0o644);
    let private = top.join("private");
    std::fs::create_dir(&private).unwrap();
    chmod(&private, 0o700);
    let (file_link, dir_link, planted) =
        (shared.join("acp-audit.jsonl"), shared.join("logs"), shared.join("planted.jsonl"));
    plant_link(&bashrc, &file_link);
    plant_link(&private, &dir_link);
    std::fs::write(&planted, "").unwrap();
    std::os::unix::fs::chown(&planted, Some(NOBODY), Some(NOBODY)).unwrap();
    let cases = [
        (file_link.clone(), format!("it is a symbolic link owned by uid {NOBODY}, not by you (uid 0) or root")),
        (
            dir_link.join("audit.jsonl"),
            format!("the symbolic link {} on its way is owned by uid {NOBODY}", dir_link.display()),
        ),
        (planted.clone(), format!("it is owned by uid {NOBODY}, not by you (uid 0) or root")),
    ];
    for (log, why) in &cases {
        env.write_config(&format!("{}audit_log: \"{}\"\n", env.default_config_yaml(), log.display()));
        let mut s = env.spawn();
        s.initialize();
        let r = s.call_tool("acp_delete_session", json!({"session": "s1"}));
        assert!(r.is_error && r.text.starts_with("Refused: this call must be recorded"), "{}", r.text);
        assert!(r.text.contains(&format!("Refusing to use audit log {}", log.display())), "{}", r.text);
        assert!(r.text.contains(why.as_str()), "{why}: {}", r.text);
        assert!(r.text.contains("erase or forge the record"), "{}", r.text);
        finish(s);
        let report = run(top, top, &["check-config"], &[]);
        assert_eq!(report.status.code(), Some(2), "{}", text(&report));
        assert!(text(&report).contains(&format!("audit_log: Refusing to use audit log {}", log.display())));
        assert!(text(&report).contains(why.as_str()), "{why}: {}", text(&report));
    }
    assert!(is_link(&file_link), "the planted link is left alone");
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "echo hello\n", "nothing appended to the link's target");
    assert_eq!(std::fs::read_dir(&private).unwrap().count(), 0, "nothing made behind the planted directory link");
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "");
    assert_eq!(env.gateway.session_ids("team-a"), ["s1"], "nothing was sent");
}

fn is_link(link: &Path) -> bool {
    std::fs::symlink_metadata(link).unwrap().file_type().is_symlink()
}

#[test]
fn our_own_links_to_the_audit_log_are_followed_and_kept() {
    let env = TestEnv::new();
    env.gateway.add_session("team-a", "s1", "Running", "2026-01-01T00:00:00Z");
    let top = env.dir.path();
    let real = top.join("logs/real.jsonl");
    let link = top.join("audit.jsonl");
    symlink(&real, &link).unwrap();
    env.write_config(&format!("{}audit_log: audit.jsonl\n", env.default_config_yaml()));
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_delete_session", json!({"session": "s1", "dry_run": true}));
    assert!(!r.is_error, "{}", r.text);
    finish(s);
    assert!(is_link(&link));
    let record: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&real).unwrap().trim()).unwrap();
    assert_eq!((&record["tool"], &record["dry_run"]), (&json!("acp_delete_session"), &json!(true)));
    assert_eq!(std::fs::metadata(&real).unwrap().mode() & 0o777, 0o600);
}

/// One ambient cluster `amb` logging in at `idp`.
fn oidc_env() -> (AmbientEnv, FakeIdp) {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    idp.on_issue(env.api.token_acceptor());
    env.write_oidc(&idp.issuer());
    (env, idp)
}

#[test]
fn a_stored_login_behind_another_users_link_is_refused_by_the_server_check_config_and_login() {
    if !as_root("a planted link on the way to a stored login") {
        return;
    }
    let (env, idp) = oidc_env();
    let top = env.dir.path();
    let real_home = top.join("real-home");
    let tokens = real_home.join(".config/acp/tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    for d in [&real_home, &real_home.join(".config"), &real_home.join(".config/acp"), &tokens] {
        chmod(d, 0o700);
    }
    idp.add_refresh_token("planted-refresh-Qw81Zx", "ada");
    let login = json!({"issuer": idp.issuer(), "client_id": "ocm-cli", "grant": "interactive",
                       "refresh_token": "planted-refresh-Qw81Zx", "expires_at": 1});
    std::fs::write(tokens.join("amb.json"), login.to_string()).unwrap();
    chmod(&tokens.join("amb.json"), 0o600);
    let home = sticky(top).join("home");
    plant_link(&real_home, &home);
    let why = format!("the symbolic link {} on its way is owned by uid {NOBODY}", home.display());

    let mut cmd = Command::new(bin_path());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("ACP_CLUSTER_CONFIG", top.join("clusters.yaml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut s = Server::start(cmd);
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.contains("Refusing to use the stored login"), "{}", r.text);
    assert!(r.text.contains(&why) && r.text.contains(&format!("rm {}", home.display())), "{}", r.text);
    finish(s);
    let report = run(top, &home, &["check-config"], &[]);
    assert_eq!(report.status.code(), Some(2), "{}", text(&report));
    assert!(text(&report).contains(&why), "{}", text(&report));
    let out = run(top, &home, &["login", "amb"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("cannot log in to cluster amb: Refusing to use the stored login"), "{}", text(&out));
    assert!(text(&out).contains(&why), "{}", text(&out));
    assert!(idp.requests().is_empty(), "the provider was asked: {:?}", idp.requests());
    assert!(env.methods().is_empty(), "{:?}", env.methods());
    assert!(idp.refresh_valid("planted-refresh-Qw81Zx"), "the refresh token was not spent");
}

#[test]
fn login_refuses_a_tokens_directory_the_server_would_not_read_before_asking_the_provider() {
    let (env, idp) = oidc_env();
    let top = env.dir.path();
    let tokens = top.join(".config/acp/tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    chmod(&tokens, 0o777);
    let out = run(top, top, &["login", "amb"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let want = format!("its directory {} has mode 0777", tokens.display());
    assert!(text(&out).contains(&want) && text(&out).contains(&format!("chmod 700 {}", tokens.display())));
    let report = run(top, top, &["check-config"], &[]);
    assert!(report.status.code() == Some(2) && text(&report).contains(&want), "{}", text(&report));
    // The same for acp_login's device flow in the server.
    let mut s = env.spawn();
    let r = s.call_tool("acp_login", json!({"cluster": "amb"}));
    assert!(r.is_error && r.text.starts_with("Cannot start the login for cluster amb: Refusing"), "{}", r.text);
    assert!(r.text.contains(&want), "{}", r.text);
    finish(s);
    chmod(&tokens, 0o700);
    chmod(&top.join(".config"), 0o757);
    let out = run(top, top, &["login", "amb"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("chmod go-w {}", top.join(".config").display())), "{}", text(&out));
    chmod(&top.join(".config"), 0o700);
    if as_root("a tokens directory of another user, or root's") {
        std::os::unix::fs::chown(&tokens, Some(NOBODY), Some(NOBODY)).unwrap();
        let out = run(top, top, &["login", "amb"], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains(&format!("is owned by uid {NOBODY}")), "{}", text(&out));
        assert!(text(&out).contains(&format!("chown 0 {}", tokens.display())), "{}", text(&out));
        std::os::unix::fs::chown(&tokens, Some(0), Some(0)).unwrap();
    }
    // Client credentials without a secret: nothing to log in with, so nothing is asked.
    let out = run(top, top, &["login", "amb", "--client-credentials"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("give --client-secret-file PATH") && text(&out).contains("ACP_OIDC_CLIENT_SECRET"));
    let missing = top.join("no-such-secret");
    let out = run(
        top,
        top,
        &["login", "amb", "--client-credentials", "--client-secret-file", missing.to_str().unwrap()],
        &[],
    );
    assert!(text(&out).contains("no such file"), "{}", text(&out));
    assert!(idp.requests().is_empty(), "the provider was asked: {:?}", idp.requests());
    assert!(!tokens.join("amb.json").exists());
}
