//! clusters.yaml permissions, table-driven: a file others can write is refused (nothing is
//! sent), one others can read is used with a warning, and so is a directory others can enter.

mod common;

use common::*;
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[derive(Debug)]
enum Expect {
    /// Used; the warnings that must appear (file, directory).
    Used {
        file_warning: bool,
        dir_warning: bool,
    },
    Refused,
    /// The directory lets others replace the file.
    RefusedDir,
}

use Expect::*;

#[test]
fn config_permissions_are_checked_before_anything_is_sent() {
    let cases = [
        (0o600, 0o700, Used { file_warning: false, dir_warning: false }),
        (0o400, 0o700, Used { file_warning: false, dir_warning: false }),
        (0o640, 0o700, Used { file_warning: true, dir_warning: false }),
        (0o644, 0o700, Used { file_warning: true, dir_warning: false }),
        (0o604, 0o700, Used { file_warning: true, dir_warning: false }),
        (0o600, 0o755, Used { file_warning: false, dir_warning: true }),
        (0o600, 0o750, Used { file_warning: false, dir_warning: true }),
        (0o644, 0o755, Used { file_warning: true, dir_warning: true }),
        (0o666, 0o700, Refused),
        (0o620, 0o700, Refused),
        (0o660, 0o700, Refused),
        (0o602, 0o700, Refused),
        (0o622, 0o700, Refused),
        (0o777, 0o777, Refused),
        (0o600, 0o770, RefusedDir),
        (0o600, 0o775, RefusedDir),
        (0o600, 0o757, RefusedDir),
        (0o600, 0o1777, Used { file_warning: false, dir_warning: true }),
    ];
    for (file_mode, dir_mode, expect) in cases {
        let case = format!("file {file_mode:04o}, directory {dir_mode:04o}");
        let env = TestEnv::new();
        env.write_default_config();
        let path = env.config_path();
        fs::set_permissions(&path, fs::Permissions::from_mode(file_mode)).unwrap();
        fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(dir_mode)).unwrap();
        let mut s = env.spawn_with(&[("RUST_LOG", "warn")], &[]);
        s.initialize();
        let r = s.call_tool("acp_list_sessions", json!({}));
        let f = s.close();
        assert_eq!(f.status.code(), Some(0), "{case}: {}", f.stderr);
        let shown = path.display().to_string();
        let file_warning = format!(
            "{shown} has mode {file_mode:04o}: other users can read the tokens in it. Fix it with: chmod 600 {shown}"
        );
        let dir = env.dir.path().display().to_string();
        let dir_warning =
            format!("{dir} has mode {:04o}: it should be private. Fix it with: chmod 700 {dir}", dir_mode & 0o777);
        match expect {
            Used { file_warning: fw, dir_warning: dw } => {
                assert!(!r.is_error, "{case}: {}", r.text);
                assert_eq!(env.gateway.request_count(), 1, "{case}");
                assert_eq!(f.stderr.contains(&file_warning), fw, "{case}: file warning expected: {fw}\n{}", f.stderr);
                assert_eq!(
                    f.stderr.contains(&dir_warning),
                    dw,
                    "{case}: directory warning expected: {dw}\n{}",
                    f.stderr
                );
                assert!(!r.text.contains("mode"), "{case}: warnings go to the log, not the result: {}", r.text);
            }
            RefusedDir => {
                assert!(r.is_error, "{case}: a file in a directory others can write was used: {}", r.text);
                let want = format!("Refusing to use {shown}: its directory {dir} has mode {dir_mode:04o}");
                assert!(r.text.starts_with(&want), "{case}: {}", r.text);
                assert!(r.text.contains(&format!("chmod 700 {dir}")), "{case}: {}", r.text);
                assert_eq!(env.gateway.request_count(), 0, "{case}");
            }
            Refused => {
                assert!(r.is_error, "{case}: a file others can write was used: {}", r.text);
                assert!(
                    r.text.starts_with(&format!("Refusing to use {shown}: its mode is {file_mode:04o}")),
                    "{case}: {}",
                    r.text
                );
                assert!(
                    r.text.contains("could point this server (and your token) at a server of theirs"),
                    "{}",
                    r.text
                );
                assert!(r.text.ends_with(&format!("Fix it with: chmod 600 {shown}")), "{case}: {}", r.text);
                assert_eq!(env.gateway.request_count(), 0, "{case}: a request was sent");
                assert!(f.stderr.contains("config_error"), "{case}: the refusal is logged: {}", f.stderr);
            }
        }
        assert_no_token_leak(&r.text);
        assert_no_token_leak(&f.stderr);
        // Let the TempDir clean up whatever the modes were.
        fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    }
}

/// Fixing the mode takes effect on the next call, without a restart.
#[test]
fn a_refused_file_is_used_once_its_mode_is_fixed() {
    let env = TestEnv::new();
    env.write_default_config();
    fs::set_permissions(env.config_path(), fs::Permissions::from_mode(0o666)).unwrap();
    let mut s = env.spawn();
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(r.is_error && r.text.contains("mode is 0666"), "{}", r.text);
    fs::set_permissions(env.config_path(), fs::Permissions::from_mode(0o600)).unwrap();
    let r = s.call_tool("acp_list_sessions", json!({}));
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.gateway.request_count(), 1);
}

/// A symlinked clusters.yaml is judged by the file it points to.
#[test]
fn a_symlinked_config_is_judged_by_its_target() {
    let env = TestEnv::new();
    let target = env.dir.path().join("real.yaml");
    fs::write(&target, env.default_config_yaml()).unwrap();
    std::os::unix::fs::symlink(&target, env.config_path()).unwrap();
    for (mode, refused) in [(0o600, false), (0o666, true)] {
        fs::set_permissions(&target, fs::Permissions::from_mode(mode)).unwrap();
        let mut s = env.spawn();
        let r = s.call_tool("acp_list_sessions", json!({}));
        assert_eq!(r.is_error, refused, "target mode {mode:04o}: {}", r.text);
        if refused {
            assert!(r.text.contains(&format!("its mode is {mode:04o}")), "{}", r.text);
        }
    }
    assert_eq!(env.gateway.request_count(), 1);
}

// What is checked is what is read: the resolved path, every directory above it, who owns
// them, and the open file itself (see src/secure_file.rs).

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// One `acp_list_sessions` on a fresh server (log level warn), `extra_env` and `remove_env` as
/// for [`TestEnv::spawn_with`]; checks that nothing leaked.
fn list_once(env: &TestEnv, extra_env: &[(&str, &str)], remove_env: &[&str]) -> (ToolResult, Finished) {
    let mut env_vars = vec![("RUST_LOG", "warn")];
    env_vars.extend_from_slice(extra_env);
    let mut s = env.spawn_with(&env_vars, remove_env);
    s.initialize();
    let r = s.call_tool("acp_list_sessions", json!({}));
    let f = s.close();
    assert_eq!(f.status.code(), Some(0), "{}", f.stderr);
    for out in [&r.text, &f.stdout, &f.stderr] {
        assert_no_token_leak(out);
    }
    (r, f)
}

/// Refused with every piece of `want` in the message, logged, and nothing sent (the gateway
/// still has `sent` requests, from earlier calls).
fn assert_refused(env: &TestEnv, sent: usize, r: &ToolResult, f: &Finished, want: &[&str]) {
    assert!(r.is_error, "used: {}", r.text);
    for w in want {
        assert!(r.text.contains(w), "expected {w:?} in: {}", r.text);
    }
    assert!(f.stderr.contains("config_error"), "the refusal is logged: {}", f.stderr);
    assert_eq!(env.gateway.request_count(), sent, "a request was sent: {}", r.text);
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_symlink_into_a_directory_others_can_write_is_refused() {
    let env = TestEnv::new();
    let shared = env.dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    let target = shared.join("real.yaml");
    fs::write(&target, env.default_config_yaml()).unwrap();
    chmod(&target, 0o600);
    std::os::unix::fs::symlink(&target, env.config_path()).unwrap();
    chmod(&shared, 0o777);
    let (r, f) = list_once(&env, &[], &[]);
    let (link, target, shared_s) = (shown(&env.config_path()), shown(&target), shown(&shared));
    let want = format!("Refusing to use {link} (resolved to {target}): its directory {shared_s} has mode 0777, so ");
    assert!(r.text.starts_with(&want), "{}", r.text);
    assert_refused(&env, 0, &r, &f, &["point this server (and your token) at a server of theirs", "chmod 700"]);
    // Sticky (like /tmp): others cannot replace a file they do not own; only a warning.
    chmod(&shared, 0o1777);
    let (r, f) = list_once(&env, &[], &[]);
    assert!(!r.is_error, "{}", r.text);
    assert!(f.stderr.contains(&format!("{shared_s} has mode 0777: it should be private")), "{}", f.stderr);
    assert_eq!(env.gateway.request_count(), 1);
}

#[test]
fn a_bare_file_name_is_checked_in_the_working_directory() {
    let env = TestEnv::new();
    env.write_default_config();
    let dir = shown(env.dir.path());
    chmod(env.dir.path(), 0o777);
    let (r, f) = list_once(&env, &[("ACP_CLUSTER_CONFIG", "clusters.yaml")], &[]);
    chmod(env.dir.path(), 0o700);
    let want = format!(
        "Refusing to use clusters.yaml (resolved to {}): its directory {dir} has mode 0777",
        shown(&env.config_path())
    );
    assert!(r.text.starts_with(&want), "{}", r.text);
    assert_refused(&env, 0, &r, &f, &[&format!("chmod 700 {dir}")]);
    // The same bare name, once the directory is private: found and used.
    let (r, _) = list_once(&env, &[("ACP_CLUSTER_CONFIG", "clusters.yaml")], &[]);
    assert!(!r.is_error, "{}", r.text);
    assert_eq!(env.gateway.request_count(), 1);
}

/// The default location, `$HOME/.config/acp/clusters.yaml`, under a `.config` others can write.
#[test]
fn a_directory_others_can_write_anywhere_above_the_file_is_refused() {
    let env = TestEnv::new();
    let dot_config = env.dir.path().join(".config");
    let acp = dot_config.join("acp");
    fs::create_dir_all(&acp).unwrap();
    chmod(&acp, 0o700);
    let file = acp.join("clusters.yaml");
    fs::write(&file, env.default_config_yaml()).unwrap();
    chmod(&file, 0o600);
    let mut used = 0;
    for (mode, refused) in [(0o777, true), (0o775, true), (0o770, true), (0o702, true), (0o755, false), (0o1777, false)]
    {
        chmod(&dot_config, mode);
        let (r, f) = list_once(&env, &[], &["ACP_CLUSTER_CONFIG"]);
        let case = format!(".config {mode:04o}");
        if refused {
            let want = format!(
                "Refusing to use {}: the directory {} above it has mode {mode:04o}, so other users can replace",
                shown(&file),
                shown(&dot_config)
            );
            assert!(r.text.starts_with(&want), "{case}: {}", r.text);
            assert!(r.text.ends_with(&format!("Fix it with: chmod go-w {}", shown(&dot_config))), "{case}: {}", r.text);
            assert_refused(&env, used, &r, &f, &[]);
        } else {
            assert!(!r.is_error, "{case}: {}", r.text);
            used += 1;
            assert_eq!(env.gateway.request_count(), used, "{case}");
            assert!(!f.stderr.contains(&shown(&dot_config)), "{case}: nothing to warn about: {}", f.stderr);
        }
    }
    chmod(&dot_config, 0o700);
}

#[test]
fn a_file_or_directory_owned_by_another_user_is_refused() {
    use std::os::unix::fs::{MetadataExt, chown};
    let env = TestEnv::new();
    if fs::metadata(env.dir.path()).unwrap().uid() != 0 {
        println!("note: not running as root, cannot give a file to another user; ownership cases skipped");
        return;
    }
    let conf = env.dir.path().join("conf");
    fs::create_dir(&conf).unwrap();
    chmod(&conf, 0o700);
    let file = conf.join("clusters.yaml");
    fs::write(&file, env.default_config_yaml()).unwrap();
    chmod(&file, 0o600);
    let config = [("ACP_CLUSTER_CONFIG", file.to_str().unwrap())];
    chown(&file, Some(65534), Some(65534)).unwrap();
    let (r, f) = list_once(&env, &config, &[]);
    let want = format!("Refusing to use {}: it is owned by uid 65534, not by you (uid 0) or root", shown(&file));
    assert!(r.text.starts_with(&want), "{}", r.text);
    assert_refused(&env, 0, &r, &f, &[&format!("Fix it with: chown 0 {}", shown(&file))]);
    chown(&file, Some(0), Some(0)).unwrap();
    chown(&conf, Some(65534), Some(65534)).unwrap();
    let (r, f) = list_once(&env, &config, &[]);
    let want = format!("its directory {} is owned by uid 65534, not by you (uid 0) or root", shown(&conf));
    assert_refused(&env, 0, &r, &f, &[&want, "so that user can replace the file"]);
    chown(&conf, Some(0), Some(0)).unwrap();
    let (r, _) = list_once(&env, &config, &[]);
    assert!(!r.is_error, "{}", r.text);
}

/// A FIFO would block the read forever and /dev/zero never ends: both are refused at once.
#[test]
fn a_fifo_or_a_device_is_refused_without_blocking() {
    let env = TestEnv::new();
    let made = std::process::Command::new("mkfifo").arg(env.config_path()).status().unwrap();
    assert!(made.success());
    chmod(&env.config_path(), 0o600);
    let started = std::time::Instant::now();
    let (r, f) = list_once(&env, &[], &[]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    let want = format!(
        "Cannot read cluster configuration {}: it is a FIFO (named pipe), not a regular file",
        shown(&env.config_path())
    );
    assert_refused(&env, 0, &r, &f, &[&want]);
    let (r, f) = list_once(&env, &[("ACP_CLUSTER_CONFIG", "/dev/zero")], &[]);
    assert_refused(&env, 0, &r, &f, &["/dev/zero: it is a character device, not a regular file"]);
}

#[test]
fn a_config_over_1_mib_is_refused() {
    let env = TestEnv::new();
    let mut yaml = env.default_config_yaml();
    let line = format!("# {}\n", "x".repeat(98));
    while yaml.len() + line.len() <= 2 * 1024 * 1024 {
        yaml.push_str(&line);
    }
    yaml.push_str(&"#".repeat(2 * 1024 * 1024 - yaml.len()));
    env.write_config(&yaml);
    let (r, f) = list_once(&env, &[], &[]);
    assert_refused(&env, 0, &r, &f, &["it is 2097152 bytes, over the limit of 1 MiB (1048576 bytes)"]);
    assert!(r.text.len() < 1000, "the content is not echoed: {} bytes", r.text.len());
}

/// A `ca_cert` decides whom the token is sent to: the same rules, minus the readability warnings.
#[test]
fn a_ca_cert_others_could_write_is_refused() {
    let env = TestEnv::new();
    let ca_dir = env.dir.path().join("ca");
    fs::create_dir(&ca_dir).unwrap();
    let ca = ca_dir.join("ca.pem");
    fs::write(&ca, common::tls::Ca::new("Test CA").pem()).unwrap();
    env.write_config(&format!(
        "clusters:\n  dev:\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\n    \
         ca_cert: ca/ca.pem\ndefault_cluster: dev\n",
        env.gateway.url()
    ));
    let mut used = 0;
    for (file_mode, dir_mode, refusal) in [
        (0o600, 0o700, None),
        (0o644, 0o755, None),
        (0o600, 0o1777, None),
        (0o620, 0o700, Some(format!("Refusing to use ca_cert {}: its mode is 0620", shown(&ca)))),
        (0o602, 0o700, Some(format!("Refusing to use ca_cert {}: its mode is 0602", shown(&ca)))),
        (0o600, 0o777, Some(format!("its directory {} has mode 0777", shown(&ca_dir)))),
        (0o600, 0o770, Some(format!("its directory {} has mode 0770", shown(&ca_dir)))),
    ] {
        let case = format!("ca_cert {file_mode:04o} in a directory {dir_mode:04o}");
        chmod(&ca, file_mode);
        chmod(&ca_dir, dir_mode);
        let (r, f) = list_once(&env, &[], &[]);
        match refusal {
            Some(want) => {
                assert!(r.text.contains("cluster 'dev': Refusing to use ca_cert"), "{case}: {}", r.text);
                assert!(r.text.contains("make this server trust a certificate of theirs"), "{case}: {}", r.text);
                assert_refused(&env, used, &r, &f, &[&want]);
            }
            None => {
                assert!(!r.is_error, "{case}: {}", r.text);
                used += 1;
                assert_eq!(env.gateway.request_count(), used, "{case}");
                assert!(!f.stderr.contains("ca.pem"), "{case}: a public CA file is no warning: {}", f.stderr);
            }
        }
    }
    chmod(&ca_dir, 0o700);
}
