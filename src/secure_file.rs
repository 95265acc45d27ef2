//! Reading a file we take orders from (clusters.yaml, a cluster's `ca_cert`) only if no
//! other user could have written or replaced it; and the same rules for the audit log we write.
//!
//! The checks are OpenSSH's `StrictModes` for `authorized_keys`, made on what is actually
//! read: the path is resolved (symlinks followed), every directory from `/` down must be
//! owned by root or by us and writable by nobody else (unless sticky, like /tmp), and the
//! file is opened first and then judged by `fstat` on the open descriptor, so what was
//! checked is what is read. Only regular files, and at most [`MAX_CONFIG_BYTES`] of them.

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

/// Read the file at `path` (relative to the current directory) if it is safe to trust.
/// `Ok(None)`: it, or a directory on its way, does not exist. Errors name the file and the fix.
pub fn read_private(path: &Path, kind: FileKind) -> Result<Option<Checked>, FileError> {
    let given = path.display().to_string();
    let canon = match std::fs::canonicalize(path) {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FileError { kind, name: given, problem: Problem::Io(e) }),
    };
    // Name the file as the user wrote it, and where it really is when that differs
    // (a symlink, a relative path): a refusal may be about the real location.
    let name = match canon.as_path() == path {
        true => given,
        false => format!("{given} (resolved to {})", canon.display()),
    };
    let fail = |problem| FileError { kind, name: name.clone(), problem };
    // Not even opened unless regular: opening a device can have side effects.
    let before = std::fs::metadata(&canon).map_err(|e| fail(Problem::Io(e)))?;
    regular(&before).map_err(fail)?;
    let file = match open(&canon) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(Problem::Io(e))),
    };
    // From here on, only the open file's own metadata counts: it cannot be swapped.
    let meta = file.metadata().map_err(|e| fail(Problem::Io(e)))?;
    regular(&meta).map_err(fail)?;
    #[cfg(unix)]
    let warnings = unix::check(&meta, &canon, &name, kind).map_err(fail)?;
    #[cfg(not(unix))]
    let warnings = Vec::new();
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(fail(Problem::TooLarge(meta.len())));
    }
    let text = read_bounded(file).map_err(fail)?;
    Ok(Some(Checked { text, warnings }))
}

/// Judge a file already opened by us at `canon` (resolved; the audit log, opened for append)
/// by the rules of [`read_private`]: a regular file, ours or root's, that nobody else can
/// write, below directories nobody else can write. Judged on the open descriptor, like a read.
pub fn check_opened(file: &File, canon: &Path, kind: FileKind) -> Result<Vec<FileWarning>, FileError> {
    let name = canon.display().to_string();
    let fail = |problem| FileError { kind, name: name.clone(), problem };
    let meta = file.metadata().map_err(|e| fail(Problem::Io(e)))?;
    regular(&meta).map_err(fail)?;
    #[cfg(unix)]
    let warnings = unix::check(&meta, canon, &name, kind).map_err(fail)?;
    #[cfg(not(unix))]
    let warnings = Vec::new();
    Ok(warnings)
}

/// Judge the directories a file we are about to create at `canon` (resolved) would sit in, by
/// the rules of [`read_private`]: nothing is created where another user could replace it.
pub fn check_place(canon: &Path, kind: FileKind) -> Result<(), FileError> {
    #[cfg(unix)]
    unix::check_directories(canon, kind, &mut Vec::new()).map_err(|problem| FileError {
        kind,
        name: canon.display().to_string(),
        problem,
    })?;
    #[cfg(not(unix))]
    let _ = (canon, kind);
    Ok(())
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
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, OPEN_FLAGS);
    #[cfg(not(unix))]
    let _ = OPEN_FLAGS;
    options.open(path)
}

#[cfg(unix)]
mod unix {
    use super::{FileKind, FileWarning, Problem};
    use std::fs::Metadata;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    unsafe extern "C" {
        /// POSIX; cannot fail.
        safe fn geteuid() -> u32;
    }

    /// Owned by root or by us: anyone else could rewrite it, or chmod it back after we look.
    fn owner_problem(meta: &Metadata) -> Option<String> {
        let (uid, me) = (meta.uid(), geteuid());
        (uid != 0 && uid != me).then(|| format!("owned by uid {uid}, not by you (uid {me}) or root"))
    }

    /// The file (`meta`: from the open descriptor), then the directories above it.
    pub fn check(meta: &Metadata, canon: &Path, name: &str, kind: FileKind) -> Result<Vec<FileWarning>, Problem> {
        let mut warnings = Vec::new();
        check_file(meta, canon, name, kind, &mut warnings)?;
        check_directories(canon, kind, &mut warnings)?;
        Ok(warnings)
    }

    fn check_file(
        meta: &Metadata,
        canon: &Path,
        name: &str,
        kind: FileKind,
        warnings: &mut Vec<FileWarning>,
    ) -> Result<(), Problem> {
        let threat = kind.threat();
        let real = canon.display();
        if let Some(owner) = owner_problem(meta) {
            return Err(Problem::Untrusted(format!(
                "it is {owner}, so that user can rewrite it and could {threat}. Fix it with: chown {} {real}",
                geteuid()
            )));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(Problem::Untrusted(format!(
                "its mode is {mode:04o}, so users other than you can write it and could {threat}. \
                 Fix it with: chmod 600 {real}"
            )));
        }
        if kind == FileKind::PrivateKey && mode & 0o044 != 0 {
            return Err(Problem::Untrusted(format!(
                "its mode is {mode:04o}, so users other than you can read the private key and act as you. \
                 Fix it with: chmod 600 {real}"
            )));
        }
        if kind.secret() && mode & 0o044 != 0 {
            warnings.push(FileWarning::Readable { name: name.to_string(), mode, real: canon.to_path_buf() });
        }
        Ok(())
    }

    /// Every directory from `/` down to the file's: whoever can write one of them can rename
    /// what is below it and so replace the file. The sticky bit (as on /tmp) stops them from
    /// renaming or removing entries they do not own.
    pub fn check_directories(canon: &Path, kind: FileKind, warnings: &mut Vec<FileWarning>) -> Result<(), Problem> {
        let threat = kind.threat();
        let Some(parent) = canon.parent() else { return Ok(()) };
        let mut chain: Vec<PathBuf> = parent.ancestors().map(Path::to_path_buf).collect();
        chain.reverse();
        for dir in &chain {
            let shown = dir.display();
            let is_parent = dir.as_path() == parent;
            let place = match is_parent {
                true => format!("its directory {shown}"),
                false => format!("the directory {shown} above it"),
            };
            let meta = std::fs::symlink_metadata(dir)
                .map_err(|e| Problem::Untrusted(format!("cannot inspect {place} ({e})")))?;
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
            if is_parent && kind.secret() && mode & 0o077 != 0 {
                warnings.push(FileWarning::OpenDirectory { dir: dir.clone(), mode: mode & 0o777 });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
