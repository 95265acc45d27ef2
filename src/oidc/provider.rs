//! The server's side of stored logins: access tokens kept in memory and renewed from the
//! stored refresh token a minute before they expire, the rotated refresh token written back
//! atomically; and acp_login's device flow, one poll per call.

use super::flows::{self, DeviceLogin, Tokens};
use super::store::{Acpctl, Grant, LoginLock, StoredLogin, acpctl_path, store_path};
use super::{Endpoints, Idp, MAX_LIFETIME_SECS, OidcError, RENEW_EARLY_SECS};
use crate::config::{Cluster, Oidc};
use crate::credentials::{Secret, TokenSource};
use crate::deadline::Deadline;
use crate::login_source::{DeviceStep, LoginFailed, LoginSource};
use crate::secure_file::{self, FileKind};
use crate::validate::{ServerUrl, parse_server_url};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variable a client secret may come from (never the command line).
pub const SECRET_ENV: &str = "ACP_OIDC_CLIENT_SECRET";
/// Deadline of each call to the identity provider.
pub const IDP_TIMEOUT: Duration = Duration::from_secs(30);

struct Cached {
    cluster: String,
    access: Secret,
    expires_at: Option<i64>,
    source: TokenSource,
}

/// Stored logins as the server uses them.
#[derive(Default)]
pub struct Logins {
    cache: Vec<Cached>,
    /// One client per issuer, with its endpoints once discovered.
    idps: Vec<(Idp, Option<Endpoints>)>,
    pending: Vec<(String, DeviceLogin)>,
    /// The deadline of the tool call being served: renewal draws on it.
    deadline: Option<Deadline>,
    /// Clusters whose stored access token the platform refused (401): renewed, not reused.
    refused: Vec<String>,
}

/// Still good for more than [`RENEW_EARLY_SECS`] (a token without `exp` is taken as good).
pub fn fresh(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_none_or(|e| e.saturating_sub(RENEW_EARLY_SECS) > now && e.saturating_sub(now) <= MAX_LIFETIME_SECS)
}

impl Logins {
    /// The client for `issuer` and its endpoints (discovered once per process).
    pub fn idp(&mut self, issuer: &ServerUrl) -> Result<(&Idp, &Endpoints), OidcError> {
        idp_of(&mut self.idps, issuer, self.deadline)
    }

    fn keep(&mut self, cluster: &str, access: &Secret, expires_at: Option<i64>, source: TokenSource) -> Secret {
        self.cache.retain(|c| c.cluster != cluster);
        let cached = Cached { cluster: cluster.into(), access: access.clone(), expires_at, source };
        self.cache.push(cached);
        access.clone()
    }

    /// How long to wait for another process renewing the same login: what is left of the call.
    fn lock_wait(&self) -> Duration {
        self.deadline.map_or(IDP_TIMEOUT, |d| d.left())
    }

    /// Our stored login for `cluster`, renewed if needed. The renewal holds the login's lock
    /// and reads the file again under it: a login another process renewed meanwhile is used as
    /// it is, and its refresh token (already spent) is not spent again.
    fn stored(&mut self, cluster: &Cluster, oidc: &Oidc, now: i64) -> Result<Option<Secret>, OidcError> {
        let path = store_path(&cluster.name)?;
        let load = |path: &Path| -> Result<Option<StoredLogin>, OidcError> {
            let Some(login) = StoredLogin::load(path)? else { return Ok(None) };
            if login.issuer != oidc.issuer.base() || login.client_id != oidc.client_id {
                return Err(OidcError::Setup(format!(
                    "it was made with issuer {} and client {}, but clusters.yaml now says issuer {} and client {}",
                    login.issuer,
                    login.client_id,
                    oidc.issuer.base(),
                    oidc.client_id
                )));
            }
            Ok(Some(login))
        };
        // A token the platform refused (401) is renewed, not reused.
        let refused = self.refused.contains(&cluster.name);
        let usable = |login: &StoredLogin| {
            let good = fresh(login.expires_at, now) && !refused;
            login.access_token.as_deref().filter(|_| good).map(|a| Secret::new(a.to_string()))
        };
        let Some(login) = load(&path)? else { return Ok(None) };
        if let Some(access) = usable(&login) {
            return Ok(Some(self.keep(&cluster.name, &access, login.expires_at, TokenSource::StoredLogin)));
        }
        let _lock = LoginLock::take(&path, self.lock_wait())?;
        let Some(mut login) = load(&path)? else { return Ok(None) };
        if let Some(access) = usable(&login) {
            log::info!("the stored login of cluster {} was renewed by another process", cluster.name);
            return Ok(Some(self.keep(&cluster.name, &access, login.expires_at, TokenSource::StoredLogin)));
        }
        let tokens = {
            let (idp, ep) = self.idp(&oidc.issuer)?;
            match &login.grant {
                Grant::Interactive => {
                    let refresh = login
                        .refresh()
                        .ok_or_else(|| OidcError::Setup(format!("{} holds no refresh token", path.display())))?;
                    flows::refresh(idp, ep, &oidc.client_id, &refresh, now)?
                }
                Grant::ClientCredentials { client_secret_file } => {
                    let secret = client_secret(client_secret_file.as_deref())?;
                    flows::client_credentials(idp, ep, &oidc.client_id, &secret, &oidc.scopes, now)?
                }
            }
        };
        update(&mut login, &tokens);
        login.save(&path)?;
        self.refused.retain(|c| *c != cluster.name);
        log::info!("renewed the access token of cluster {} from its stored login", cluster.name);
        Ok(Some(self.keep(&cluster.name, &tokens.access, tokens.expires_at, TokenSource::StoredLogin)))
    }

    /// acpctl's stored login, renewed if needed (under the same lock, its file read again
    /// under it) and written back into its file.
    fn acpctl(&mut self, cluster: &Cluster, now: i64) -> Result<Option<Secret>, OidcError> {
        let path = acpctl_path()?;
        let exp = |t: &str| crate::jwt::claims(t).and_then(|c| c.exp);
        let refused = self.refused.contains(&cluster.name);
        let usable =
            |file: &Acpctl| file.get("access_token").filter(|t| fresh(exp(t), now) && !refused).map(str::to_string);
        let Some(file) = Acpctl::load(&path)? else { return Ok(None) };
        if let Some(access) = usable(&file) {
            let access = Secret::new(access);
            return Ok(Some(self.keep(&cluster.name, &access, exp(access.expose()), TokenSource::Acpctl)));
        }
        let _lock = LoginLock::take(&path, self.lock_wait())?;
        let Some(file) = Acpctl::load(&path)? else { return Ok(None) };
        if let Some(access) = usable(&file) {
            let access = Secret::new(access);
            return Ok(Some(self.keep(&cluster.name, &access, exp(access.expose()), TokenSource::Acpctl)));
        }
        let missing = |key: &str| OidcError::Setup(format!("{} has no {key} to renew the login with", path.display()));
        let refresh = Secret::new(file.get("refresh_token").ok_or_else(|| missing("refresh_token"))?.to_string());
        let issuer = file.get("issuer_url").ok_or_else(|| missing("issuer_url"))?;
        let issuer =
            parse_server_url(issuer).map_err(|e| OidcError::Setup(format!("{}: issuer_url: {e}", path.display())))?;
        let client_id = file.get("client_id").ok_or_else(|| missing("client_id"))?.to_string();
        let tokens = {
            let (idp, ep) = self.idp(&issuer)?;
            flows::refresh(idp, ep, &client_id, &refresh, now)?
        };
        file.save_tokens(&tokens.access, tokens.refresh.as_ref())?;
        self.refused.retain(|c| *c != cluster.name);
        Ok(Some(self.keep(&cluster.name, &tokens.access, tokens.expires_at, TokenSource::Acpctl)))
    }
}

fn idp_of<'a>(
    idps: &'a mut Vec<(Idp, Option<Endpoints>)>,
    issuer: &ServerUrl,
    deadline: Option<Deadline>,
) -> Result<(&'a Idp, &'a Endpoints), OidcError> {
    let i = match idps.iter().position(|(idp, _)| idp.issuer() == issuer) {
        Some(i) => i,
        None => {
            idps.push((Idp::new(issuer, IDP_TIMEOUT), None));
            idps.len() - 1
        }
    };
    let (idp, ep) = &mut idps[i];
    idp.set_deadline(deadline);
    if ep.is_none() {
        *ep = Some(idp.discover()?);
    }
    Ok((&*idp, ep.as_ref().expect("discovered")))
}

/// Put new tokens into a stored login: a rotated refresh token replaces the old one.
pub fn update(login: &mut StoredLogin, tokens: &Tokens) {
    login.access_token = Some(tokens.access.expose().to_string());
    login.expires_at = tokens.expires_at;
    if let Some(r) = &tokens.refresh {
        login.refresh_token = Some(r.expose().to_string());
    }
}

/// Store the tokens of an interactive login (device code, browser) for `cluster`, waiting at
/// most `wait` for another process holding the login's lock.
pub fn save_interactive(cluster: &str, oidc: &Oidc, tokens: &Tokens, wait: Duration) -> Result<PathBuf, OidcError> {
    let path = store_path(cluster)?;
    let mut login = StoredLogin {
        issuer: oidc.issuer.base(),
        client_id: oidc.client_id.clone(),
        grant: Grant::Interactive,
        refresh_token: None,
        access_token: None,
        expires_at: None,
    };
    update(&mut login, tokens);
    if login.refresh_token.is_none() {
        log::warn!(
            "the identity provider gave no refresh token: the login for {cluster} ends when its access token does"
        );
    }
    save_new(&path, &login, wait)?;
    Ok(path)
}

/// Store a new login under its lock: a server renewing the old one meanwhile does not write
/// the old one back over it. Waits at most `wait` for the lock (in a tool call, what is left
/// of it).
pub fn save_new(path: &Path, login: &StoredLogin, wait: Duration) -> Result<(), OidcError> {
    let _lock = LoginLock::take(path, wait)?;
    login.save(path)
}

/// The client secret: from `file` (held to the private-file rules), else `$ACP_OIDC_CLIENT_SECRET`.
pub fn client_secret(file: Option<&Path>) -> Result<Secret, OidcError> {
    let value = match file {
        Some(path) => match secure_file::read_private(path, FileKind::Tokens) {
            Ok(Some(f)) => f.text,
            Ok(None) => return Err(OidcError::File(format!("client secret file {}: no such file", path.display()))),
            Err(e) => return Err(OidcError::File(e.to_string())),
        },
        None => std::env::var(SECRET_ENV).map_err(|_| {
            OidcError::Setup(format!(
                "no client secret: give --client-secret-file PATH (a file only you can read) or set {SECRET_ENV}"
            ))
        })?,
    };
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(OidcError::Setup("the client secret is empty or not printable ASCII".into()));
    }
    Ok(Secret::new(value.to_string()))
}

/// The words for a device flow that ended without a login.
pub fn device_failure(cluster: &str, e: &OidcError) -> String {
    match e.code() {
        Some("access_denied") => format!("The login for cluster {cluster} was denied at the identity provider."),
        Some("expired_token") => {
            format!(
                "The code for cluster {cluster} expired before it was confirmed; start the login again for a new one."
            )
        }
        _ => format!("The login for cluster {cluster} failed: {e}."),
    }
}

impl LoginSource for Logins {
    fn token(
        &mut self,
        cluster: &Cluster,
        now: i64,
        deadline: Deadline,
    ) -> Result<Option<(Secret, TokenSource)>, LoginFailed> {
        self.deadline = Some(deadline);
        if let Some(c) = self.cache.iter().find(|c| c.cluster == cluster.name && fresh(c.expires_at, now)) {
            return Ok(Some((c.access.clone(), c.source)));
        }
        let name = &cluster.name;
        if let Some(oidc) = &cluster.oidc {
            match self.stored(cluster, oidc, now) {
                Ok(Some(t)) => return Ok(Some((t, TokenSource::StoredLogin))),
                Ok(None) => {}
                Err(e) => {
                    return Err(LoginFailed(format!(
                        "The stored login for cluster {name} could not be renewed: {e}. Run `mcp-acp login {name}` \
                         to log in again."
                    )));
                }
            }
        }
        if cluster.token_from.is_some() {
            match self.acpctl(cluster, now) {
                Ok(t) => return Ok(t.map(|t| (t, TokenSource::Acpctl))),
                Err(e) => {
                    return Err(LoginFailed(format!(
                        "acpctl's stored login (token_from: acpctl on cluster {name}) could not be renewed: {e}. \
                         Run `acpctl login` again."
                    )));
                }
            }
        }
        Ok(None)
    }

    fn forget(&mut self, cluster: &str) {
        self.cache.retain(|c| c.cluster != cluster);
        self.refused.push(cluster.to_string());
    }

    fn pending(&self, cluster: &str) -> bool {
        self.pending.iter().any(|(c, _)| c == cluster)
    }

    fn device_step(&mut self, cluster: &Cluster, now: i64, deadline: Deadline) -> Result<DeviceStep, LoginFailed> {
        // This call's deadline, not the one of the call that started the flow (long passed).
        self.deadline = Some(deadline);
        let name = &cluster.name;
        let Some(oidc) = &cluster.oidc else {
            return Err(LoginFailed(format!(
                "cluster {name} has no `oidc:` in clusters.yaml, so it cannot log in by itself. {}",
                HOW_TO_ADD
            )));
        };
        let waiting = |d: &DeviceLogin, started| DeviceStep::Waiting {
            verification_uri: d.start.verification_uri.clone(),
            complete: d.start.verification_uri_complete.clone(),
            user_code: d.start.user_code.clone(),
            left: d.left(),
            started,
        };
        let Some(i) = self.pending.iter().position(|(c, _)| c == name) else {
            let cannot = |e: OidcError| LoginFailed(format!("Cannot start the login for cluster {name}: {e}."));
            // A login that could not be stored is not started: the provider is not asked.
            super::store::check_place(&store_path(name).map_err(cannot)?).map_err(cannot)?;
            let (idp, ep) = self.idp(&oidc.issuer).map_err(cannot)?;
            let login = DeviceLogin::start(idp, ep, &oidc.client_id, &oidc.scopes).map_err(cannot)?;
            let step = waiting(&login, true);
            self.pending.push((name.clone(), login));
            return Ok(step);
        };
        let polled = match idp_of(&mut self.idps, &oidc.issuer, self.deadline) {
            Ok((idp, ep)) => self.pending[i].1.poll(idp, ep, now),
            Err(e) => Err(e),
        };
        match polled {
            Ok(None) => Ok(waiting(&self.pending[i].1, false)),
            Ok(Some(tokens)) => {
                self.pending.remove(i);
                save_interactive(name, oidc, &tokens, self.lock_wait())
                    .map_err(|e| LoginFailed(format!("Logged in, but {e}")))?;
                self.keep(name, &tokens.access, tokens.expires_at, TokenSource::StoredLogin);
                Ok(DeviceStep::Done)
            }
            Err(e) => {
                self.pending.remove(i);
                Err(LoginFailed(device_failure(name, &e)))
            }
        }
    }
}

/// How to give a cluster a login.
pub const HOW_TO_ADD: &str = "Add it to the cluster's entry, e.g.\n    oidc:\n      issuer: https://sso.example.com/realms/acp\n      client_id: ocm-cli";
