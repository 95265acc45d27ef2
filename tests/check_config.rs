//! `mcp-acp check-config` end to end: every problem in one report, exit status 0 / 1 (warnings
//! with --strict) / 2 (errors), the same as JSON, --online reaching both APIs, and never a
//! token or a piece of one.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn check(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = bin_command();
    cmd.arg("check-config")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("ACP_CLUSTER_CONFIG", dir.join("clusters.yaml"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn write(dir: &Path, yaml: &str) {
    let path = dir.join("clusters.yaml");
    std::fs::write(&path, yaml).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    dir
}

/// A JWT whose payload is `claims` (the signature is never checked by us).
fn jwt(claims: &str) -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.{}.c2lnbmF0dXJl", mcp_acp::base64::encode_url(claims.as_bytes()))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn a_broken_configuration_gets_every_problem_listed_and_exit_status_2() {
    let dir = private_dir();
    write(
        dir.path(),
        &format!(
            "clusters:\n  a:\n    server: ftp://x\n    token: \"{TOKEN}\"\n    default_project: team-a\n  \
             b:\n    server: https://gw.example.com:6443\n    default_project: Team_B\n    tokn: x\n  \
             c:\n    api: ambient\n    server: https://amb.example.com\n    token: \"{TOKEN}\"\n    default_project: team-a\n    \
             allowed_projects: [team-b]\nread_onyl: true\ndefault_cluster: a\n"
        ),
    );
    let out = check(dir.path(), &[], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    for expected in [
        "error: cluster 'a': server: ",
        "error: cluster 'b': server: Direct Kubernetes API URLs (port 6443) are not supported",
        "error: cluster 'b': default_project \"Team_B\" is invalid",
        "error: cluster 'b': unknown key \"tokn\"",
        "error: cluster 'c': default_project \"team-a\" is not in allowed_projects [team-b]",
        "error: unknown top-level key \"read_onyl\"",
    ] {
        assert!(text.contains(expected), "expected {expected:?} in:\n{text}");
    }
    assert!(text.trim_end().ends_with("error(s), 0 warning(s)."), "{text}");
    assert_no_token_leak(&text);
    assert_no_token_leak(&String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_clean_configuration_passes_and_an_expiring_token_is_a_warning() {
    let dir = private_dir();
    let soon = jwt(&format!(r#"{{"preferred_username":"ada","iss":"https://sso.example.com","exp":{}}}"#, now() + 300));
    write(
        dir.path(),
        &format!(
            "clusters:\n  dev:\n    server: https://gw.example.com\n    token: \"{TOKEN}\"\n    default_project: team-a\n  \
             amb:\n    api: ambient\n    server: https://amb.example.com\n    token: \"{soon}\"\n    default_project: team-a\n\
             default_cluster: dev\n"
        ),
    );
    let out = check(dir.path(), &[], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Cluster dev (public-api) [default]\n  server: https://gw.example.com"), "{text}");
    assert!(text.contains("token: from the cluster's `token` in clusters.yaml; an opaque token (not a JWT"), "{text}");
    assert!(text.contains("a JWT for 'ada', issued by https://sso.example.com, expires at "), "{text}");
    assert!(text.contains("warning: cluster 'amb': the token expires in "), "{text}");
    assert!(text.trim_end().ends_with("Result: 0 error(s), 1 warning(s)."), "{text}");
    assert_eq!(check(dir.path(), &["--strict"], &[]).status.code(), Some(1));
    let json: Value = serde_json::from_slice(&check(dir.path(), &["--json"], &[]).stdout).unwrap();
    assert_eq!((json["errors"].as_u64(), json["warnings"].as_u64()), (Some(0), Some(1)));
    assert_eq!(json["clusters"][1]["name"], "amb");
    assert_no_token_leak(&text);
    assert!(!text.contains(&soon[30..50]), "no piece of the JWT");
}

#[test]
fn online_reaches_both_apis_and_names_what_failed() {
    let env = AmbientEnv::new();
    let gw = FakeGateway::start();
    gw.accept_token(TOKEN);
    gw.add_project("team-a");
    let url = env.api.url();
    let yaml = format!(
        "clusters:\n  amb:\n    api: ambient\n    server: \"{url}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n  \
         dev:\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n  \
         down:\n    server: \"http://127.0.0.1:9\"\n    token: \"{TOKEN}\"\n    default_project: team-a\ndefault_cluster: amb\n",
        gw.url()
    );
    env.write(&yaml);
    let out = check(env.dir.path(), &["--online"], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "the down cluster is an error:\n{text}");
    assert!(text.contains("online: authenticated read ok: 2 project(s) visible"), "{text}");
    assert!(text.contains("online: /health ok; authenticated read ok: 0 session(s) in project 'team-a'"), "{text}");
    assert!(text.contains("error: cluster 'down': /health: "), "{text}");
    assert!(text.contains("online: /health failed; authenticated read skipped: /health failed"), "{text}");
    assert_eq!(text.matches("error: cluster 'down': ").count(), 1, "one cause, told once:\n{text}");
    assert_no_token_leak(&text);
    // A refused token is named as such.
    env.api.revoke_token(TOKEN);
    let out = check(env.dir.path(), &["--online", "--json"], &[]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = json["problems"].to_string();
    assert!(problems.contains("amb") && problems.contains("401"), "{problems}");
}

#[test]
fn an_unusable_audit_log_is_an_error_and_bad_arguments_are_refused() {
    let dir = private_dir();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    write(
        dir.path(),
        &format!(
            "clusters:\n  dev:\n    server: https://gw.example.com\n    token: \"{TOKEN}\"\n    default_project: team-a\n\
             default_cluster: dev\naudit_log: open/audit.jsonl\n"
        ),
    );
    let out = check(dir.path(), &[], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("error: audit_log: "), "{text}");
    let out = check(dir.path(), &["--fix"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument \"--fix\""));
}

#[test]
fn a_cluster_that_logs_in_needs_a_stored_login() {
    let dir = private_dir();
    write(
        dir.path(),
        "clusters:\n  amb:\n    api: ambient\n    server: https://amb.example.com\n    default_project: team-a\n    \
         oidc: {issuer: 'https://sso.example.com/realms/acp', client_id: ocm-cli}\ndefault_cluster: amb\n",
    );
    let out = check(dir.path(), &[], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("token: a stored OIDC login: none yet"), "{text}");
    assert!(
        text.contains("error: cluster 'amb': no login stored at ") && text.contains("run `mcp-acp login amb`"),
        "{text}"
    );
    // With ACP_TOKEN as the fallback it is a warning.
    let out = check(dir.path(), &[], &[("ACP_TOKEN", TOKEN)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("ACP_TOKEN is used until then"));
    assert_no_token_leak(&stdout(&out));
}

#[test]
fn the_audit_log_is_judged_without_creating_it_or_its_directory() {
    let dir = private_dir();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    for (log, unsafe_place) in [("open/audit.jsonl", true), ("open/sub/audit.jsonl", true), ("logs/audit.jsonl", false)]
    {
        write(
            dir.path(),
            &format!(
                "audit_log: {log}\nclusters:\n  a:\n    server: https://gw.example.com\n    token: \"{TOKEN}\"\n    default_project: team-a\ndefault_cluster: a\n"
            ),
        );
        let o = check(dir.path(), &[], &[]);
        let out = stdout(&o);
        assert_eq!(out.contains("audit_log:") && out.contains("0777"), unsafe_place, "{log}: {out}");
        assert_eq!(o.status.code(), Some(if unsafe_place { 2 } else { 0 }), "{log}: {out}");
        let path = dir.path().join(log);
        assert!(!path.exists(), "{log} was created by check-config");
    }
    assert!(!open.join("sub").exists() && !dir.path().join("logs").exists(), "no directory was made");
}

#[test]
fn a_file_others_can_write_is_reported_with_everything_else_wrong_in_it() {
    let dir = private_dir();
    write(
        dir.path(),
        &format!(
            "clusters:\n  a:\n    server: ftp://x\n    token: \"{TOKEN}\"\n    default_project: team-a\nread_onyl: true\n"
        ),
    );
    let path = dir.path().join("clusters.yaml");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o664)).unwrap();
    let o = check(dir.path(), &[], &[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("its mode is 0664"), "{out}");
    assert!(out.contains("unknown top-level key \"read_onyl\""), "{out}");
    assert!(out.contains("cluster 'a': server: Server URL must start with https://"), "{out}");
    assert_no_token_leak(&out);
    assert_no_token_leak(&String::from_utf8_lossy(&o.stderr));
}

/// A stored login the server can read but not write back (its directory is root's, not
/// ours) is an error: renewal would fail. Our stored login and acpctl's file alike. Needs
/// root, to set it up and to run the check as another user.
#[test]
fn a_stored_login_in_a_directory_that_is_not_ours_is_an_error() {
    use std::os::unix::fs::{PermissionsExt, chown};
    use std::os::unix::process::CommandExt;
    if !is_root() {
        println!("skipped: needs root to run check-config as another user beside a root-owned directory");
        return;
    }
    const USER: u32 = 65534;
    let dir = private_dir();
    let (home, mode) = (dir.path(), |p: &Path, m: u32| std::fs::set_permissions(p, PermissionsExt::from_mode(m)));
    let tokens = home.join(".config/acp/tokens");
    let acpctl = home.join("acpctl");
    std::fs::create_dir_all(&tokens).unwrap();
    std::fs::create_dir(&acpctl).unwrap();
    let login = format!(
        "{{\"issuer\": \"https://sso.example.com/realms/acp\", \"client_id\": \"ocm-cli\", \"grant\": \"interactive\", \
         \"refresh_token\": \"{TOKEN}\"}}"
    );
    std::fs::write(tokens.join("amb.json"), &login).unwrap();
    let acpctl_file = format!(
        "{{\"refresh_token\": \"{TOKEN}\", \"issuer_url\": \"https://sso.example.com/realms/acp\", \"client_id\": \
         \"ocm-cli\"}}"
    );
    std::fs::write(acpctl.join("config.json"), acpctl_file).unwrap();
    write(
        home,
        "clusters:\n  amb:\n    api: ambient\n    server: https://amb.example.com\n    default_project: team-a\n    \
         oidc: {issuer: 'https://sso.example.com/realms/acp', client_id: ocm-cli}\n  ctl:\n    api: ambient\n    \
         server: https://amb.example.com\n    default_project: team-a\n    token_from: acpctl\ndefault_cluster: amb\n",
    );
    // Everything the user's, but the two directories holding the logins: root's, 0755.
    for p in [home, &home.join(".config"), &home.join(".config/acp"), &home.join("clusters.yaml")] {
        chown(p, Some(USER), Some(USER)).unwrap();
    }
    for f in [tokens.join("amb.json"), acpctl.join("config.json")] {
        chown(&f, Some(USER), Some(USER)).unwrap();
        mode(&f, 0o600).unwrap();
    }
    mode(&tokens, 0o755).unwrap();
    mode(&acpctl, 0o755).unwrap();
    let out = bin_command()
        .arg("check-config")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("ACP_CLUSTER_CONFIG", home.join("clusters.yaml"))
        .env("AMBIENT_CONFIG", acpctl.join("config.json"))
        .uid(USER)
        .gid(USER)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let amb = (tokens.join("amb.json"), &tokens);
    let ctl = (acpctl.join("config.json"), &acpctl);
    for (cluster, (file, place)) in [("amb", amb), ("ctl", ctl)] {
        let want = format!(
            "error: cluster '{cluster}': Refusing to use the stored login {}: its directory {} is owned by uid 0, \
             not by you (uid {USER}), so this server cannot write the file there. Fix it with: chown {USER} {}",
            file.display(),
            place.display(),
            place.display()
        );
        assert!(text.contains(&want), "{want}\n{text}");
    }
    assert!(text.contains("token: a stored OIDC login: unusable"), "{text}");
    assert!(text.contains("token: acpctl's stored login: unusable"), "{text}");
    assert_no_token_leak(&text);
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}
