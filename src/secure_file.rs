//! Reading a file we take orders from (clusters.yaml, a cluster's `ca_cert`) only if no
//! other user could have written or replaced it; and writing one (the audit log, a stored
//! login, its lock) only where no other user could have put something in our way.
//!
//! The checks are OpenSSH's `StrictModes` for `authorized_keys`, made on what is actually
//! used: the path is walked one component at a time with `lstat`, following only symbolic
//! links that we or root own (another user's link, planted in /tmp, is refused: it would
//! choose the file for us); every directory passed through must be owned by root or by us and
//! writable by nobody else (unless sticky, like /tmp); and the file is opened with
//! `O_NOFOLLOW` and then judged by `fstat` on the open descriptor, so what was checked is what
//! is used. Only regular files; a file we write must be our own; at most [`MAX_CONFIG_BYTES`]
//! is read.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Largest file read. A real clusters.yaml or CA bundle is a few KiB; the bound keeps a
/// mistaken path (a log, a disk image) from costing memory.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// What the file is for: decides the wording, and whether others reading it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// clusters.yaml: holds tokens, so a file or directory others can read is warned about.
    Config,
    /// A cluster's `ca_cert`: a trust anchor, public by nature; only who can write it matters.
    CaCert,
    /// The audit log (written, not read): only who else can write or replace it matters.
    AuditLog,
    /// A cluster's `client_cert`: public by nature, like a CA file.
    ClientCert,
    /// A cluster's `client_key`: whoever can read it can be us, so others reading it is an
    /// error, not a warning.
    PrivateKey,
    /// A stored login (`~/.config/acp/tokens/<cluster>.json`, acpctl's config.json): holds a
    /// refresh token, so it is held to clusters.yaml's rules.
    Tokens,
}

/// A file that passed the checks: its text, and what is worth a warning.
#[derive(Debug)]
pub struct Checked {
    pub text: String,
    pub warnings: Vec<FileWarning>,
    /// Its permission bits (kept when the file is written back).
    pub mode: u32,
}

/// Why a file was not read. `Display` is the message for the user: it names the file and the fix.
#[derive(Debug)]
pub struct FileError {
    pub kind: FileKind,
    /// The file as the user wrote it, and where it really is when that differs.
    pub name: String,
    pub problem: Problem,
}

/// What is wrong with a file. `Display`: the detail, without the file's name.
#[derive(Debug)]
pub enum Problem {
    /// Nothing there. [`read_private`] answers `Ok(None)` instead; this is for callers to
    /// whom a missing file is an error (a `ca_cert`).
    NotFound,
    /// The file system would not give it to us.
    Io(io::Error),
    /// What it is instead of a regular file.
    NotRegular(&'static str),
    /// Its size, over [`MAX_CONFIG_BYTES`].
    TooLarge(u64),
    /// It grew past [`MAX_CONFIG_BYTES`] while being read.
    Grew,
    /// Not UTF-8: where the first bad byte is (never the content: it may hold a token).
    NotUtf8 { offset: usize },
    /// Another user could have written or replaced it: who could and how, and the fix.
    Untrusted(String),
}

/// Worth telling, not worth refusing: only for clusters.yaml, which holds tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileWarning {
    /// Other users can read the file.
    Readable { name: String, mode: u32, real: PathBuf },
    /// Other users can enter or list the file's own directory.
    OpenDirectory { dir: PathBuf, mode: u32 },
}

impl FileKind {
    /// What someone who can write the file could do with it.
    fn threat(self) -> &'static str {
        match self {
            FileKind::Config => "point this server (and your token) at a server of theirs",
            FileKind::CaCert => "make this server trust a certificate of theirs and read your token on its way",
            FileKind::AuditLog => "erase or forge the record of what this server did",
            FileKind::ClientCert => "replace the certificate this server presents to the cluster",
            FileKind::PrivateKey => "replace the key this server proves who it is with",
            FileKind::Tokens => "log this server in as someone else",
        }
    }

    /// Holds a secret: a file or directory others can read is warned about (a private key
    /// others can read is refused outright, below).
    fn secret(self) -> bool {
        matches!(self, FileKind::Config | FileKind::PrivateKey | FileKind::Tokens)
    }

    /// How the file is named in messages.
    fn label(self) -> &'static str {
        match self {
            FileKind::Config => "cluster configuration",
            FileKind::CaCert => "ca_cert",
            FileKind::ClientCert => "client_cert",
            FileKind::PrivateKey => "client_key",
            FileKind::AuditLog => "audit log",
            FileKind::Tokens => "stored login",
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, problem) = (&self.name, &self.problem);
        match (self.kind, problem) {
            (FileKind::Config, Problem::Untrusted(why)) => write!(f, "Refusing to use {name}: {why}"),
            (FileKind::Tokens, Problem::Untrusted(why)) => write!(f, "Refusing to use the stored login {name}: {why}"),
            (kind, Problem::Untrusted(why)) => write!(f, "Refusing to use {} {name}: {why}", kind.label()),
            (FileKind::Config, _) => write!(f, "Cannot read cluster configuration {name}: {problem}"),
            (FileKind::AuditLog, _) => write!(f, "audit log {name}: cannot use it ({problem})"),
            (FileKind::Tokens, _) => write!(f, "Cannot read the stored login {name}: {problem}"),
            (kind, _) => write!(f, "{} {name}: cannot read it ({problem})", kind.label()),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotFound => f.write_str("no such file"),
            Problem::Io(e) => write!(f, "{e}"),
            Problem::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            Problem::TooLarge(len) => {
                write!(f, "it is {len} bytes, over the limit of 1 MiB ({MAX_CONFIG_BYTES} bytes)")
            }
            Problem::Grew => write!(f, "it grew past the limit of 1 MiB ({MAX_CONFIG_BYTES} bytes) while being read"),
            Problem::NotUtf8 { offset } => write!(f, "it is not UTF-8 text (invalid byte at offset {offset})"),
            Problem::Untrusted(why) => f.write_str(why),
        }
    }
}

impl fmt::Display for FileWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileWarning::Readable { name, mode, real } => write!(
                f,
                "{name} has mode {mode:04o}: other users can read the tokens in it. Fix it with: chmod 600 {}",
                real.display()
            ),
            FileWarning::OpenDirectory { dir, mode } => {
                let dir = dir.display();
                write!(f, "{dir} has mode {mode:04o}: it should be private. Fix it with: chmod 700 {dir}")
            }
        }
    }
}

/// What is done with a file: a file we write must be ours (not only root's), and one we
/// replace is made anew in its directory, which must be ours too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Read,
    /// Opened to append to (the audit log, a lock file), created 0600 if missing.
    Append,
    /// Written as a new file beside it, then renamed over it (a stored login).
    Replace,
}

/// Read the file at `path` (relative to the current directory) if it is safe to trust.
/// `Ok(None)`: it, or a directory on its way, does not exist. Errors name the file and the fix.
pub fn read_private(path: &Path, kind: FileKind) -> Result<Option<Checked>, FileError> {
    let (r, name) = walk(path, kind)?;
    let fail = |problem| FileError { kind, name: name.clone(), problem };
    // Not even opened unless regular: opening a device can have side effects.
    let Some(before) = &r.meta else { return Ok(None) };
    regular(before).map_err(fail)?;
    let file = match open(&r.real) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(Problem::Io(e))),
    };
    // From here on, only the open file's own metadata counts: it cannot be swapped.
    let meta = file.metadata().map_err(|e| fail(Problem::Io(e)))?;
    regular(&meta).map_err(fail)?;
    let mut warnings = Vec::new();
    unix::check_file(&meta, &r.real, &name, kind, Use::Read, &mut warnings).map_err(fail)?;
    unix::check_directories(&r, kind, Use::Read, &mut warnings).map_err(fail)?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(fail(Problem::TooLarge(meta.len())));
    }
    let text = read_bounded(file).map_err(fail)?;
    Ok(Some(Checked { text, warnings, mode: mode_of(&meta) }))
}

/// Open `path` to append to it (`O_APPEND|O_NOFOLLOW`, created 0600 when `create`, its missing
/// directories 0700): every link on the way ours or root's, every directory safe, and the open
/// file a regular one of ours that nobody else can write, judged by `fstat`. `Ok(None)`: it is
/// not there and `create` is false. Also the real path, for messages.
pub fn open_append(path: &Path, kind: FileKind, create: bool) -> Result<Option<(File, PathBuf)>, FileError> {
    let (r, name) = place(path, kind, Use::Append, create)?;
    let fail = |problem| FileError { kind, name: name.clone(), problem };
    match &r.meta {
        // Not even opened unless regular: opening a device can have side effects.
        Some(meta) => regular(meta).map_err(fail)?,
        None if !create => return Ok(None),
        None => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(create);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file =
        open_with(&mut options, &r.real).map_err(|e| fail(planted(&r.real, path, kind).unwrap_or(Problem::Io(e))))?;
    let meta = file.metadata().map_err(|e| fail(Problem::Io(e)))?;
    regular(&meta).map_err(fail)?;
    unix::check_file(&meta, &r.real, &name, kind, Use::Append, &mut Vec::new()).map_err(fail)?;
    Ok(Some((file, r.real)))
}

/// Where the file we are about to replace at `path` really is (a link of ours is written
/// through, not replaced), once every link and directory on the way is judged safe and the
/// directory that will hold it is ours; missing directories are made 0700 when `create`.
pub fn place_to_replace(path: &Path, kind: FileKind, create: bool) -> Result<PathBuf, FileError> {
    let (r, name) = place(path, kind, Use::Replace, create)?;
    if let Some(meta) = &r.meta {
        regular(meta).map_err(|problem| FileError { kind, name, problem })?;
    }
    Ok(r.real)
}

/// Hold an exclusive lock on `file` (released when it is closed), waiting at most `wait` for
/// another process that holds it. `Ok(false)`: it was not let go in time.
pub fn lock(file: &File, wait: std::time::Duration) -> io::Result<bool> {
    unix::lock(file, wait)
}

/// The file's permission bits.
fn mode_of(meta: &Metadata) -> u32 {
    #[cfg(unix)]
    return std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
    #[cfg(not(unix))]
    return if meta.permissions().readonly() { 0o400 } else { 0o600 };
}

/// `path` walked, and how to name it: as written, and where it really is when that differs.
fn walk(path: &Path, kind: FileKind) -> Result<(unix::Resolved, String), FileError> {
    let given = path.display().to_string();
    let r = unix::resolve(path, kind).map_err(|problem| FileError { kind, name: given.clone(), problem })?;
    let name = match r.real.as_path() == path {
        true => given,
        false => format!("{given} (resolved to {})", r.real.display()),
    };
    Ok((r, name))
}

/// [`walk`] for a file we write, its directories judged; missing ones made 0700 when `create`,
/// then walked and judged again (a link planted meanwhile is caught).
fn place(path: &Path, kind: FileKind, usage: Use, create: bool) -> Result<(unix::Resolved, String), FileError> {
    let judged = |r: &unix::Resolved, name: &String| {
        unix::check_directories(r, kind, usage, &mut Vec::new()).map_err(|problem| FileError {
            kind,
            name: name.clone(),
            problem,
        })
    };
    let (r, name) = walk(path, kind)?;
    judged(&r, &name)?;
    let Some(dir) = r.real.parent().filter(|d| create && !d.exists()) else { return Ok((r, name)) };
    make_private_dir(dir).map_err(|e| FileError { kind, name: name.clone(), problem: Problem::Io(e) })?;
    let (r, name) = walk(path, kind)?;
    judged(&r, &name)?;
    Ok((r, name))
}

fn make_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Why an open of `real` failed when a symbolic link was put there after the walk.
fn planted(real: &Path, given: &Path, kind: FileKind) -> Option<Problem> {
    let meta = std::fs::symlink_metadata(real).ok().filter(|m| m.file_type().is_symlink())?;
    #[cfg(unix)]
    let owner = format!("owned by uid {}", std::os::unix::fs::MetadataExt::uid(&meta));
    #[cfg(not(unix))]
    let owner = String::from("put there while it was being opened");
    Some(unix::link_problem(real, given, &owner, kind))
}

/// At most [`MAX_CONFIG_BYTES`], even from a file that grows while it is read; UTF-8 only.
fn read_bounded(file: File) -> Result<String, Problem> {
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(Problem::Io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(Problem::Grew);
    }
    String::from_utf8(bytes).map_err(|e| Problem::NotUtf8 { offset: e.utf8_error().valid_up_to() })
}

/// `Err` says what the file is instead of a regular file.
fn regular(meta: &Metadata) -> Result<(), Problem> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    Err(Problem::NotRegular(if t.is_dir() { "a directory" } else { special(&t) }))
}

fn special(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        } else if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        } else if t.is_socket() {
            return "a socket";
        }
    }
    let _ = t;
    "a device or another special file"
}

/// Open flags on Linux, where their values are known per architecture (linux's
/// asm-generic/fcntl.h and the arm/powerpc/m68k overrides): O_NONBLOCK so a FIFO swapped in
/// after the type check cannot block, O_NOFOLLOW so a final symlink swapped in is not
/// followed, O_NOCTTY so a terminal never becomes ours.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "riscv32",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    )
))]
pub(crate) const OPEN_FLAGS: i32 = 0o4000 | 0o400000 | 0o400;
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "m68k"
    )
))]
pub(crate) const OPEN_FLAGS: i32 = 0o4000 | 0o100000 | 0o400;
/// Elsewhere a plain open; the type check just before it still applies.
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "riscv32",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "loongarch64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "m68k"
    )
)))]
pub(crate) const OPEN_FLAGS: i32 = 0;

fn open(path: &Path) -> io::Result<File> {
    open_with(std::fs::OpenOptions::new().read(true), path)
}

/// Open with [`OPEN_FLAGS`] added: never through a last-moment symlink, never blocking.
fn open_with(options: &mut std::fs::OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(options, OPEN_FLAGS);
    #[cfg(not(unix))]
    let _ = OPEN_FLAGS;
    options.open(path)
}

#[cfg(unix)]
mod unix;

/// Elsewhere: the path as given, and no owners or modes to judge.
#[cfg(not(unix))]
mod unix {
    use super::{FileKind, FileWarning, Problem, Use};
    use std::fs::{File, Metadata};
    use std::path::{Path, PathBuf};

    pub struct Resolved {
        pub real: PathBuf,
        pub meta: Option<Metadata>,
    }

    pub fn resolve(path: &Path, _: FileKind) -> Result<Resolved, Problem> {
        let real = std::path::absolute(path).map_err(Problem::Io)?;
        Ok(Resolved { meta: std::fs::symlink_metadata(&real).ok(), real })
    }

    pub fn link_problem(link: &Path, _: &Path, owner: &str, _: FileKind) -> Problem {
        Problem::Untrusted(format!("{} is a symbolic link {owner}", link.display()))
    }

    pub fn check_file(
        _: &Metadata,
        _: &Path,
        _: &str,
        _: FileKind,
        _: Use,
        _: &mut Vec<FileWarning>,
    ) -> Result<(), Problem> {
        Ok(())
    }

    pub fn check_directories(_: &Resolved, _: FileKind, _: Use, _: &mut Vec<FileWarning>) -> Result<(), Problem> {
        Ok(())
    }

    pub fn lock(_: &File, _: std::time::Duration) -> std::io::Result<bool> {
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
