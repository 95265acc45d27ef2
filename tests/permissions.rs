//! clusters.yaml permissions, table-driven: a file others can write is refused (nothing is
//! sent), one others can read is used with a warning, and so is a directory others can enter.

mod common;

use common::*;
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;

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
