//! The checks themselves (owners and modes), the path walk that follows only links we or root
//! own, and `flock`.

use super::{FileKind, FileWarning, Problem, Use};
use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

unsafe extern "C" {
    /// POSIX; cannot fail.
    safe fn geteuid() -> u32;
    /// BSD/Linux flock(2); takes a descriptor we own (see [`lock`]).
    fn flock(fd: i32, op: i32) -> i32;
}

const LOCK_EX: i32 = 2;
const LOCK_NB: i32 = 4;
/// As the kernel's own limit on links followed in one path.
const MAX_LINKS: usize = 40;

/// Owned by root or by us: anyone else could rewrite it, or chmod it back after we look.
fn owner_problem(meta: &Metadata) -> Option<String> {
    let (uid, me) = (meta.uid(), geteuid());
    (uid != 0 && uid != me).then(|| format!("owned by uid {uid}, not by you (uid {me}) or root"))
}

/// Where a path leads, followed as the kernel would but one component at a time.
pub struct Resolved {
    /// Every link followed, `.` and `..` applied; beyond the first missing component, the rest
    /// of the path as written.
    pub real: PathBuf,
    /// `lstat` of `real`; `None` when it, or a directory on the way, does not exist.
    pub meta: Option<Metadata>,
    /// Every directory passed through, from `/` down, each once.
    dirs: Vec<PathBuf>,
}

/// Walk `path` (relative: to the working directory) with `lstat`: a symbolic link is followed
/// only if we or root own it. Another user's link (planted in /tmp, say) would decide where we
/// read or write, so it is refused, naming it and its owner.
pub fn resolve(path: &Path, kind: FileKind) -> Result<Resolved, Problem> {
    let given = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir().map_err(Problem::Io)?.join(path),
    };
    // A stack: the next component is last.
    let mut todo: Vec<OsString> = parts(&given);
    let (mut real, mut dirs, mut links) = (PathBuf::from("/"), Vec::new(), 0);
    let mut meta = None;
    while let Some(part) = todo.pop() {
        if part == ".." {
            real.pop();
            meta = None;
            continue;
        }
        if !dirs.contains(&real) {
            dirs.push(real.clone());
        }
        let next = real.join(&part);
        let m = match std::fs::symlink_metadata(&next) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                real = next;
                while let Some(rest) = todo.pop() {
                    if rest == ".." {
                        real.pop();
                    } else {
                        real.push(rest);
                    }
                }
                return Ok(Resolved { real, meta: None, dirs });
            }
            Err(e) => return Err(Problem::Io(e)),
        };
        if m.file_type().is_symlink() {
            if let Some(owner) = owner_problem(&m) {
                return Err(link_problem(&next, &given, &owner, kind));
            }
            links += 1;
            let target = std::fs::read_link(&next).map_err(Problem::Io)?;
            if links > MAX_LINKS {
                let e = io::Error::new(io::ErrorKind::InvalidInput, "too many levels of symbolic links");
                return Err(Problem::Io(e));
            }
            if target.is_absolute() {
                real = PathBuf::from("/");
            }
            todo.extend(parts(&target));
            meta = None;
            continue;
        }
        real = next;
        meta = Some(m);
    }
    let meta = match meta {
        Some(m) => Some(m),
        None => std::fs::symlink_metadata(&real).ok(),
    };
    Ok(Resolved { real, meta, dirs })
}

/// The components of `path`, reversed (a stack), `.` and the root left out.
fn parts(path: &Path) -> Vec<OsString> {
    let mut out: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    out.reverse();
    out
}

/// Another user's symbolic link at `link`, on the way to `given` (or `given` itself).
pub fn link_problem(link: &Path, given: &Path, owner: &str, kind: FileKind) -> Problem {
    let threat = kind.threat();
    let which = match link == given {
        true => "it is a symbolic link".to_string(),
        false => format!("the symbolic link {} on its way is", link.display()),
    };
    Problem::Untrusted(format!(
        "{which} {owner}, so that user decides where it leads and could {threat}. Fix it with: rm {} \
         (or choose a path in a directory only you can write)",
        link.display()
    ))
}

/// The file (`meta`: from the open descriptor). A file we write must be ours: root's only if
/// we are root.
pub fn check_file(
    meta: &Metadata,
    real: &Path,
    name: &str,
    kind: FileKind,
    usage: Use,
    warnings: &mut Vec<FileWarning>,
) -> Result<(), Problem> {
    let threat = kind.threat();
    let shown = real.display();
    let me = geteuid();
    if let Some(owner) = owner_problem(meta) {
        return Err(Problem::Untrusted(format!(
            "it is {owner}, so that user can rewrite it and could {threat}. Fix it with: chown {me} {shown}"
        )));
    }
    if usage != Use::Read && meta.uid() != me {
        return Err(Problem::Untrusted(format!(
            "it is owned by uid {}, not by you (uid {me}), so this server would write to a file that is not \
             its own. Fix it with: chown {me} {shown} (or choose another path)",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(Problem::Untrusted(format!(
            "its mode is {mode:04o}, so users other than you can write it and could {threat}. \
             Fix it with: chmod 600 {shown}"
        )));
    }
    if kind == FileKind::PrivateKey && mode & 0o044 != 0 {
        return Err(Problem::Untrusted(format!(
            "its mode is {mode:04o}, so users other than you can read the private key and act as you. \
             Fix it with: chmod 600 {shown}"
        )));
    }
    if kind.secret() && mode & 0o044 != 0 {
        warnings.push(FileWarning::Readable { name: name.to_string(), mode, real: real.to_path_buf() });
    }
    Ok(())
}

/// Every directory the walk passed through: whoever can write one of them can rename what is
/// below it (a link included) and so replace the file. The sticky bit (as on /tmp) stops them
/// from renaming or removing entries they do not own. A file we replace is made beside it, so
/// the directory that will hold it must be ours.
pub fn check_directories(
    r: &Resolved,
    kind: FileKind,
    usage: Use,
    warnings: &mut Vec<FileWarning>,
) -> Result<(), Problem> {
    let threat = kind.threat();
    let parent = r.real.parent();
    // The deepest directory that exists: where a missing one, or the file, is made.
    let deepest = r.real.ancestors().skip(1).find(|a| r.dirs.iter().any(|d| d == a));
    for dir in &r.dirs {
        let shown = dir.display();
        let is_parent = Some(dir.as_path()) == parent;
        let place = match is_parent {
            true => format!("its directory {shown}"),
            false => format!("the directory {shown} above it"),
        };
        let meta =
            std::fs::symlink_metadata(dir).map_err(|e| Problem::Untrusted(format!("cannot inspect {place} ({e})")))?;
        if let Some(owner) = owner_problem(&meta) {
            return Err(Problem::Untrusted(format!(
                "{place} is {owner}, so that user can replace the file and could {threat}. \
                 Fix it with: chown {} {shown} (or move the file elsewhere)",
                geteuid()
            )));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            // The directory holding the tokens should be private anyway; elsewhere removing
            // the write bits is enough (`chmod 700` on, say, a home directory is not wanted).
            let fix = if is_parent && kind.secret() { "700" } else { "go-w" };
            return Err(Problem::Untrusted(format!(
                "{place} has mode {mode:04o}, so other users can replace the file and {threat}. \
                 Fix it with: chmod {fix} {shown}"
            )));
        }
        if usage == Use::Replace && Some(dir.as_path()) == deepest && meta.uid() != geteuid() {
            return Err(Problem::Untrusted(format!(
                "{place} is owned by uid {}, not by you (uid {}), so this server cannot write the file there. \
                 Fix it with: chown {} {shown} (or choose another path)",
                meta.uid(),
                geteuid(),
                geteuid()
            )));
        }
        if is_parent && kind.secret() && mode & 0o077 != 0 {
            warnings.push(FileWarning::OpenDirectory { dir: dir.clone(), mode: mode & 0o777 });
        }
    }
    Ok(())
}

/// Hold an exclusive `flock` on `file` until it is closed, waiting at most `wait` for another
/// process to let it go. `Ok(false)`: it did not within `wait`.
pub fn lock(file: &File, wait: Duration) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let started = Instant::now();
    loop {
        // SAFETY: the descriptor is `file`'s, open for the whole call; flock only reads it.
        if unsafe { flock(file.as_raw_fd(), LOCK_EX | LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock if started.elapsed() >= wait => return Ok(false),
            io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
            io::ErrorKind::Interrupted => {}
            _ => return Err(e),
        }
    }
}
