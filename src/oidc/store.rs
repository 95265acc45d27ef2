//! Where logins are kept: ours in `~/.config/acp/tokens/<cluster>.json`, the platform CLI's
//! in `$AMBIENT_CONFIG` or `~/.config/ambient/config.json` (acpctl's `pkg/config`: keys
//! `access_token`, `refresh_token`, `issuer_url`, `client_id`). Both are read under
//! clusters.yaml's permission rules and replaced atomically (a temporary file in the same
//! directory, then a rename), ours 0600 in a 0700 directory, acpctl's keeping its mode and
//! every key we do not touch; a symbolic link of ours is written through, another user's is
//! refused ([`secure_file::place_to_replace`]). Renewal holds [`LoginLock`], so that two
//! processes never spend one refresh token.

use super::OidcError;
use crate::credentials::Secret;
use crate::secure_file::{self, FileKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a stored login was made, which decides how it is renewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "grant")]
pub enum Grant {
    /// Device code or browser: renewed with the refresh token.
    Interactive,
    /// Client credentials: renewed by asking again, with the secret from this file (else
    /// `ACP_OIDC_CLIENT_SECRET`). The secret itself is never stored.
    ClientCredentials { client_secret_file: Option<PathBuf> },
}

/// Our stored login for one cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLogin {
    pub issuer: String,
    pub client_id: String,
    #[serde(flatten)]
    pub grant: Grant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

fn home() -> Result<PathBuf, OidcError> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| OidcError::File("HOME is not set, so there is no ~/.config/acp/tokens for stored logins".into()))
}

/// `~/.config/acp/tokens/<cluster>.json`. A cluster name that cannot be a file name is refused.
pub fn store_path(cluster: &str) -> Result<PathBuf, OidcError> {
    let ok = !cluster.is_empty()
        && cluster.len() <= 128
        && !cluster.starts_with('.')
        && cluster.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !ok {
        return Err(OidcError::Setup(format!(
            "cluster name {} cannot name a file for its stored login: use letters, digits, '-', '_' and '.'",
            crate::validate::quote(cluster)
        )));
    }
    Ok(home()?.join(".config/acp/tokens").join(format!("{cluster}.json")))
}

/// acpctl's config file: `$AMBIENT_CONFIG`, else `$XDG_CONFIG_HOME/ambient/config.json`, else
/// `~/.config/ambient/config.json` (Go's `os.UserConfigDir` on Linux).
pub fn acpctl_path() -> Result<PathBuf, OidcError> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(p) = env("AMBIENT_CONFIG") {
        return Ok(p);
    }
    let dir = match env("XDG_CONFIG_HOME") {
        Some(d) => d,
        None => home()?.join(".config"),
    };
    Ok(dir.join("ambient/config.json"))
}

/// A JSON object as read, and the mode of its file.
type Json = (Map<String, Value>, u32);

/// Read a private JSON file, and its mode; `Ok(None)` when it is not there. Every token in it
/// is registered for redaction before anything else happens to it.
fn read_json(path: &Path) -> Result<Option<Json>, OidcError> {
    let file = match secure_file::read_private(path, FileKind::Tokens) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => return Err(OidcError::File(e.to_string())),
    };
    file.warnings.iter().for_each(|w| log::warn!("{w}"));
    match serde_json::from_str::<Value>(&file.text) {
        Ok(Value::Object(map)) => {
            for key in ["access_token", "refresh_token"] {
                if let Some(v) = map.get(key).and_then(Value::as_str) {
                    crate::redact::register(v);
                }
            }
            Ok(Some((map, file.mode)))
        }
        _ => Err(OidcError::File(format!(
            "{} is not a JSON object; delete it (mcp-acp logout) and log in again",
            path.display()
        ))),
    }
}

fn write_json(path: &Path, map: &Map<String, Value>, mode: u32) -> Result<(), OidcError> {
    let mut text = serde_json::to_string_pretty(map).unwrap_or_default();
    text.push('\n');
    let real = secure_file::place_to_replace(path, FileKind::Tokens, true).map_err(file_error)?;
    write_atomic(&real, text.as_bytes(), mode)
        .map_err(|e| OidcError::File(format!("cannot write {} ({e})", real.display())))
}

fn file_error(e: secure_file::FileError) -> OidcError {
    OidcError::File(e.to_string())
}

/// Whether a login can be stored at `path` by the rules the server reads it with (no
/// directory on its way others can write, no link of theirs), and in a directory of ours;
/// nothing is made. For `mcp-acp login`, before the identity provider is asked, and for
/// `check-config`, on a login the server will write back when it renews it.
pub fn check_place(path: &Path) -> Result<(), OidcError> {
    secure_file::place_to_replace(path, FileKind::Tokens, false).map(|_| ()).map_err(file_error)
}

/// An exclusive lock on a stored login, held while it is read, renewed and written (and while
/// a new one is stored): `.<name>.lock` beside the file (0600), `flock`ed, released on drop.
pub struct LoginLock {
    _file: File,
}

impl LoginLock {
    /// Wait at most `wait` for another process renewing the same login.
    pub fn take(path: &Path, wait: Duration) -> Result<LoginLock, OidcError> {
        let real = secure_file::place_to_replace(path, FileKind::Tokens, true).map_err(file_error)?;
        let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let lock = real.with_file_name(format!(".{name}.lock"));
        let cannot = |e: io::Error| OidcError::File(format!("cannot lock {} ({e})", lock.display()));
        let file = match secure_file::open_append(&lock, FileKind::Tokens, true).map_err(file_error)? {
            Some((file, _)) => file,
            None => return Err(cannot(io::ErrorKind::NotFound.into())),
        };
        match secure_file::lock(&file, wait).map_err(cannot)? {
            true => Ok(LoginLock { _file: file }),
            false => Err(OidcError::File(format!(
                "another mcp-acp process has been renewing this login for over {} s (it holds {}); try again",
                wait.as_secs().max(1),
                lock.display()
            ))),
        }
    }
}

impl StoredLogin {
    pub fn load(path: &Path) -> Result<Option<StoredLogin>, OidcError> {
        let Some((map, _)) = read_json(path)? else { return Ok(None) };
        serde_json::from_value(Value::Object(map)).map(Some).map_err(|e| {
            OidcError::File(format!(
                "{} is not a stored login ({e}); run mcp-acp logout and log in again",
                path.display()
            ))
        })
    }

    /// Replace the file atomically, 0600 (its directory 0700 if it is created). Callers hold
    /// its [`LoginLock`].
    pub fn save(&self, path: &Path) -> Result<(), OidcError> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => write_json(path, &map, 0o600),
            _ => Err(OidcError::File("cannot encode the stored login".into())),
        }
    }

    pub fn refresh(&self) -> Option<Secret> {
        self.refresh_token.as_ref().map(|r| Secret::new(r.clone()))
    }
}

/// acpctl's stored login: its file as read (every key kept for writing back).
pub struct Acpctl {
    pub path: PathBuf,
    map: Map<String, Value>,
}

impl Acpctl {
    pub fn load(path: &Path) -> Result<Option<Acpctl>, OidcError> {
        let Some((map, _)) = read_json(path)? else { return Ok(None) };
        Ok(Some(Acpctl { path: path.to_path_buf(), map }))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// Write the new tokens back (under the login's [`LoginLock`]): the file is read again,
    /// so that a change acpctl made meanwhile is kept, and only the two token keys change; its
    /// mode is kept. A file acpctl removed meanwhile (a logout) is left removed.
    pub fn save_tokens(&self, access: &Secret, refresh: Option<&Secret>) -> Result<(), OidcError> {
        let Some((mut map, mode)) = read_json(&self.path)? else { return Ok(()) };
        map.insert("access_token".into(), Value::String(access.expose().to_string()));
        if let Some(r) = refresh {
            map.insert("refresh_token".into(), Value::String(r.expose().to_string()));
        }
        write_json(&self.path, &map, mode)
    }
}

/// Replace the file at `path` (resolved and judged: [`secure_file::place_to_replace`]) with
/// `bytes` atomically: written to a new temporary file in the same directory (`O_EXCL`, so
/// never through a symlink; exactly `mode`), flushed to disk, then renamed over `path`, so a
/// reader sees the old file or the new one, never half of one.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let temp = dir.join(format!(".{}.{}-{nanos}.tmp", name.to_string_lossy(), std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let written = options.open(&temp).and_then(|mut f| {
        // Exactly `mode`, whatever the umask.
        #[cfg(unix)]
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Delete the stored login of `cluster` (where it really is: the links on its way are
/// judged as for a write); false if there was none.
pub fn remove(path: &Path) -> Result<bool, OidcError> {
    let real = secure_file::place_to_replace(path, FileKind::Tokens, false).map_err(file_error)?;
    match std::fs::remove_file(&real) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(OidcError::File(format!("cannot delete {} ({e})", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn cluster_names_that_are_no_file_names_are_refused() {
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(store_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_stored_login_round_trips_at_0600_and_acpctl_keeps_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = dir.path().join("tokens/dev.json");
        let login = StoredLogin {
            issuer: "https://sso.example.com".into(),
            client_id: "ocm-cli".into(),
            grant: Grant::Interactive,
            refresh_token: Some("refresh-unit-test-123".into()),
            access_token: None,
            expires_at: Some(5),
        };
        login.save(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        let back = StoredLogin::load(&path).unwrap().unwrap();
        assert_eq!((back.refresh_token.as_deref(), back.grant), (Some("refresh-unit-test-123"), Grant::Interactive));
        assert!(remove(&path).unwrap() && !remove(&path).unwrap());

        let acp = dir.path().join("config.json");
        std::fs::write(&acp, r#"{"api_url":"https://x","refresh_token":"old-refresh-123456","project":"p"}"#).unwrap();
        std::fs::set_permissions(&acp, std::fs::Permissions::from_mode(0o600)).unwrap();
        let a = Acpctl::load(&acp).unwrap().unwrap();
        a.save_tokens(&Secret::new("new-access-1234567".into()), Some(&Secret::new("new-refresh-1234567".into())))
            .unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&acp).unwrap()).unwrap();
        assert_eq!((v["api_url"].as_str(), v["project"].as_str()), (Some("https://x"), Some("p")));
        assert_eq!(v["refresh_token"], "new-refresh-1234567");
        assert_eq!(std::fs::metadata(&acp).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
