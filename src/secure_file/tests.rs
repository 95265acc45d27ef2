use super::*;

#[test]
fn a_missing_file_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read_private(&dir.path().join("nope.yaml"), FileKind::Config).unwrap().is_none());
    assert!(read_private(&dir.path().join("no/dir/x.yaml"), FileKind::CaCert).unwrap().is_none());
}

#[test]
fn size_is_bounded_and_text_must_be_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.yaml");
    private_write(&f, &vec![b'#'; MAX_CONFIG_BYTES as usize]);
    assert_eq!(read_private(&f, FileKind::Config).unwrap().unwrap().text.len(), MAX_CONFIG_BYTES as usize);
    private_write(&f, &vec![b'#'; 2 * MAX_CONFIG_BYTES as usize]);
    let e = read_private(&f, FileKind::Config).unwrap_err().to_string();
    assert!(e.contains("it is 2097152 bytes, over the limit of 1 MiB (1048576 bytes)"), "{e}");
    private_write(&f, b"clusters: {}\n\xff\xfe");
    let e = read_private(&f, FileKind::Config).unwrap_err().to_string();
    assert!(e.ends_with("it is not UTF-8 text (invalid byte at offset 13)"), "{e}");
}

#[test]
fn a_growing_file_is_still_bounded() {
    let big = vec![b'#'; MAX_CONFIG_BYTES as usize + 10];
    let file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut &file, &big).unwrap();
    std::io::Seek::rewind(&mut &file).unwrap();
    assert!(read_bounded(file).unwrap_err().to_string().contains("grew past the limit of 1 MiB"));
}

fn private_write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    set_mode(path, 0o600);
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A private directory (0700) under the system's temporary directory.
#[cfg(unix)]
fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o700);
    dir
}

#[cfg(unix)]
fn warnings(path: &Path, kind: FileKind) -> Vec<String> {
    read_private(path, kind).unwrap().unwrap().warnings.iter().map(ToString::to_string).collect()
}

#[cfg(unix)]
fn refusal(path: &Path, kind: FileKind) -> String {
    read_private(path, kind).unwrap_err().to_string()
}

#[cfg(unix)]
#[test]
fn permissions_refuse_writable_and_warn_on_readable() {
    let dir = private_dir();
    let (d, f) = (dir.path(), dir.path().join("clusters.yaml"));
    private_write(&f, b"clusters: {}\n");
    assert!(warnings(&f, FileKind::Config).is_empty());
    set_mode(&f, 0o644);
    let w = warnings(&f, FileKind::Config);
    assert!(w[0].contains("0644") && w[0].contains("chmod 600"), "{w:?}");
    assert!(warnings(&f, FileKind::CaCert).is_empty(), "a CA file may be public");
    set_mode(&f, 0o620);
    assert!(refusal(&f, FileKind::Config).contains("Refusing"));
    let e = refusal(&f, FileKind::CaCert);
    assert!(e.starts_with("Refusing to use ca_cert ") && e.contains("trust a certificate of theirs"), "{e}");
    set_mode(&f, 0o600);
    set_mode(d, 0o755);
    assert!(warnings(&f, FileKind::Config)[0].contains("chmod 700"));
    assert!(warnings(&f, FileKind::CaCert).is_empty());
    set_mode(d, 0o775);
    assert!(refusal(&f, FileKind::Config).contains("its directory"));
    assert!(refusal(&f, FileKind::CaCert).contains("its directory"));
    set_mode(d, 0o1777);
    assert!(warnings(&f, FileKind::Config)[0].contains("mode 0777"), "sticky: warned, not refused");
    set_mode(d, 0o700);
}

#[cfg(unix)]
#[test]
fn a_private_key_others_can_read_is_refused() {
    let dir = private_dir();
    let f = dir.path().join("client.key");
    private_write(&f, b"-----BEGIN PRIVATE KEY-----\n");
    assert!(warnings(&f, FileKind::PrivateKey).is_empty());
    for mode in [0o640, 0o604, 0o400 | 0o004] {
        set_mode(&f, mode);
        let e = refusal(&f, FileKind::PrivateKey);
        let want = format!("Refusing to use client_key {}: its mode is {mode:04o}", f.display());
        assert!(e.starts_with(&want) && e.ends_with(&format!("chmod 600 {}", f.display())), "{e}");
    }
    set_mode(&f, 0o644);
    assert!(warnings(&f, FileKind::ClientCert).is_empty(), "a certificate may be public");
    set_mode(&f, 0o600);
    set_mode(dir.path(), 0o755);
    assert!(warnings(&f, FileKind::PrivateKey)[0].contains("chmod 700"), "its directory, like clusters.yaml's");
    set_mode(dir.path(), 0o700);
}

#[cfg(unix)]
#[test]
fn every_directory_above_is_checked() {
    let top = private_dir();
    let (cfg, acp) = (top.path().join("cfg"), top.path().join("cfg/acp"));
    std::fs::create_dir_all(&acp).unwrap();
    set_mode(&acp, 0o700);
    let f = acp.join("clusters.yaml");
    private_write(&f, b"clusters: {}\n");
    for (mode, refused) in [(0o777, true), (0o770, true), (0o757, true), (0o755, false), (0o1777, false)] {
        set_mode(&cfg, mode);
        match read_private(&f, FileKind::Config) {
            Err(e) => {
                let e = e.to_string();
                assert!(refused, "{mode:04o}: {e}");
                let want = format!("the directory {} above it has mode {mode:04o}", cfg.display());
                assert!(e.contains(&want) && e.ends_with(&format!("chmod go-w {}", cfg.display())), "{e}");
            }
            Ok(c) => {
                assert!(!refused, "{mode:04o}: used");
                assert!(c.unwrap().warnings.is_empty(), "{mode:04o}: only the file's own directory is warned about");
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_is_judged_by_where_it_leads() {
    let top = private_dir();
    let shared = top.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let target = shared.join("real.yaml");
    private_write(&target, b"clusters: {}\n");
    let link = top.path().join("clusters.yaml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    set_mode(&shared, 0o777);
    let e = refusal(&link, FileKind::Config);
    let want = format!(
        "Refusing to use {} (resolved to {}): its directory {} has mode 0777",
        link.display(),
        target.display(),
        shared.display()
    );
    assert!(e.starts_with(&want), "{e}");
    set_mode(&shared, 0o1777);
    assert!(warnings(&link, FileKind::Config)[0].contains("it should be private"));
    std::fs::remove_file(&target).unwrap();
    assert!(read_private(&link, FileKind::Config).unwrap().is_none(), "dangling: not found");
}

#[cfg(unix)]
#[test]
fn only_regular_files_are_read_and_nothing_blocks() {
    let dir = private_dir();
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    set_mode(&fifo, 0o600);
    let e = refusal(&fifo, FileKind::Config);
    assert!(e.ends_with("it is a FIFO (named pipe), not a regular file"), "{e}");
    let e = refusal(Path::new("/dev/zero"), FileKind::Config);
    assert!(e.ends_with("it is a character device, not a regular file"), "{e}");
    let e = refusal(dir.path(), FileKind::CaCert);
    assert!(e.contains("cannot read it (it is a directory, not a regular file)"), "{e}");
}

#[cfg(unix)]
#[test]
fn the_file_must_be_ours_or_roots() {
    use std::os::unix::fs::{MetadataExt, chown};
    let top = private_dir();
    if std::fs::metadata(top.path()).unwrap().uid() != 0 {
        println!("not root: cannot give files to another user; ownership checks skipped");
        return;
    }
    let sub = top.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    set_mode(&sub, 0o700);
    let f = sub.join("clusters.yaml");
    private_write(&f, b"clusters: {}\n");
    chown(&f, Some(65534), Some(65534)).unwrap();
    let e = refusal(&f, FileKind::Config);
    assert!(e.contains("it is owned by uid 65534, not by you (uid 0) or root"), "{e}");
    assert!(e.ends_with(&format!("Fix it with: chown 0 {}", f.display())), "{e}");
    chown(&f, Some(0), Some(0)).unwrap();
    chown(&sub, Some(65534), Some(65534)).unwrap();
    let e = refusal(&f, FileKind::CaCert);
    let want = format!("its directory {} is owned by uid 65534, not by you (uid 0) or root", sub.display());
    assert!(e.contains(&want), "{e}");
    chown(&sub, Some(0), Some(0)).unwrap();
    assert!(read_private(&f, FileKind::Config).unwrap().is_some());
}

#[cfg(unix)]
#[test]
fn the_walk_follows_our_links_and_dots_as_the_kernel_does_and_stops_on_a_loop() {
    let top = private_dir();
    let base = std::fs::canonicalize(top.path()).unwrap();
    std::fs::create_dir_all(base.join("a/b")).unwrap();
    private_write(&base.join("a/b/f.yaml"), b"x: 1\n");
    std::os::unix::fs::symlink("a/b", base.join("rel")).unwrap();
    std::os::unix::fs::symlink(base.join("rel"), base.join("abs")).unwrap();
    for path in ["abs/f.yaml", "rel/../b/./f.yaml", "a/../abs/f.yaml"] {
        let r = unix::resolve(&base.join(path), FileKind::Config).unwrap();
        assert_eq!(r.real, base.join("a/b/f.yaml"), "{path}");
        assert!(r.meta.is_some_and(|m| m.is_file()), "{path}");
    }
    let r = unix::resolve(&base.join("rel/missing/x.json"), FileKind::Tokens).unwrap();
    assert_eq!((r.real, r.meta.is_none()), (base.join("a/b/missing/x.json"), true));
    std::os::unix::fs::symlink("loop", base.join("loop")).unwrap();
    let e = read_private(&base.join("loop"), FileKind::Config).unwrap_err().to_string();
    assert!(e.contains("too many levels of symbolic links"), "{e}");
}

#[cfg(unix)]
#[test]
fn a_file_opened_to_append_is_made_private_with_its_directories_and_must_be_ours() {
    use std::os::unix::fs::PermissionsExt;
    let top = private_dir();
    let path = top.path().join("x/y/log.jsonl");
    assert!(open_append(&path, FileKind::AuditLog, false).unwrap().is_none(), "nothing made without create");
    assert!(!top.path().join("x").exists());
    let (_, real) = open_append(&path, FileKind::AuditLog, true).unwrap().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((real, mode(&path), mode(&top.path().join("x/y"))), (path.clone(), 0o600, 0o700));
    set_mode(&top.path().join("x"), 0o777);
    let e = open_append(&path, FileKind::AuditLog, true).unwrap_err().to_string();
    assert!(e.contains("the directory") && e.contains("above it has mode 0777"), "{e}");
    set_mode(&top.path().join("x"), 0o700);
    let e = place_to_replace(&top.path().join("x/y/log.jsonl/z"), FileKind::Tokens, false).unwrap_err();
    assert!(e.to_string().contains("Not a directory"), "{e}");
}

#[cfg(unix)]
#[test]
fn another_users_link_is_refused_for_reading_and_writing_and_root_owned_places_only_for_root() {
    use std::os::unix::fs::{MetadataExt, chown, lchown, symlink};
    let top = private_dir();
    if std::fs::metadata(top.path()).unwrap().uid() != 0 {
        println!("skipped: not root, so no link can be given to another user");
        return;
    }
    let sticky = top.path().join("t");
    std::fs::create_dir(&sticky).unwrap();
    set_mode(&sticky, 0o1777);
    let mine = top.path().join("mine.yaml");
    private_write(&mine, b"clusters: {}\n");
    let link = sticky.join("c.yaml");
    symlink(&mine, &link).unwrap();
    assert!(read_private(&link, FileKind::Config).unwrap().is_some(), "root's link is followed");
    lchown(&link, Some(65534), Some(65534)).unwrap();
    let want = "it is a symbolic link owned by uid 65534, not by you (uid 0) or root";
    for e in [
        read_private(&link, FileKind::Config).unwrap_err(),
        open_append(&link, FileKind::AuditLog, true).unwrap_err(),
        place_to_replace(&link, FileKind::Tokens, true).unwrap_err(),
    ] {
        let e = e.to_string();
        assert!(e.contains(want) && e.contains(&format!("Fix it with: rm {}", link.display())), "{e}");
    }
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "clusters: {}\n");
    let theirs = top.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    set_mode(&theirs, 0o755);
    chown(&theirs, Some(65534), Some(65534)).unwrap();
    let e = place_to_replace(&theirs.join("x.json"), FileKind::Tokens, false).unwrap_err().to_string();
    assert!(e.contains("is owned by uid 65534, not by you (uid 0) or root"), "{e}");
}
