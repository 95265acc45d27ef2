//! The server's side of stored logins: access tokens kept in memory and renewed from the
//! stored refresh token a minute before they expire, the rotated refresh token written back
//! atomically; and acp_login's device flow, one poll per call.

use super::flows::{self, DeviceLogin, Tokens};
use super::store::{Acpctl, Grant, StoredLogin, acpctl_path, store_path};
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

    /// Our stored login for `cluster`, renewed if needed.
    fn stored(&mut self, cluster: &Cluster, oidc: &Oidc, now: i64) -> Result<Option<Secret>, OidcError> {
        let path = store_path(&cluster.name)?;
        let Some(mut login) = StoredLogin::load(&path)? else { return Ok(None) };
        if login.issuer != oidc.issuer.base() || login.client_id != oidc.client_id {
            return Err(OidcError::Setup(format!(
                "it was made with issuer {} and client {}, but clusters.yaml now says issuer {} and client {}",
                login.issuer,
                login.client_id,
                oidc.issuer.base(),
                oidc.client_id
            )));
        }
        if let Some(access) = login.access_token.as_deref().filter(|_| fresh(login.expires_at, now)) {
            let access = Secret::new(access.to_string());
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
        log::info!("renewed the access token of cluster {} from its stored login", cluster.name);
        Ok(Some(self.keep(&cluster.name, &tokens.access, tokens.expires_at, TokenSource::StoredLogin)))
    }

    /// acpctl's stored login, renewed if needed and written back into its file.
    fn acpctl(&mut self, cluster: &Cluster, now: i64) -> Result<Option<Secret>, OidcError> {
        let path = acpctl_path()?;
        let Some(mut file) = Acpctl::load(&path)? else { return Ok(None) };
        let exp = |t: &str| crate::jwt::claims(t).and_then(|c| c.exp);
        if let Some(access) = file.get("access_token").filter(|t| fresh(exp(t), now)) {
            let access = Secret::new(access.to_string());
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

/// Store the tokens of an interactive login (device code, browser) for `cluster`.
pub fn save_interactive(cluster: &str, oidc: &Oidc, tokens: &Tokens) -> Result<PathBuf, OidcError> {
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
    login.save(&path)?;
    Ok(path)
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
    }

    fn pending(&self, cluster: &str) -> bool {
        self.pending.iter().any(|(c, _)| c == cluster)
    }

    fn device_step(&mut self, cluster: &Cluster, now: i64) -> Result<DeviceStep, LoginFailed> {
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
            let (idp, ep) = self
                .idp(&oidc.issuer)
                .map_err(|e| LoginFailed(format!("Cannot start the login for cluster {name}: {e}.")))?;
            let login = DeviceLogin::start(idp, ep, &oidc.client_id, &oidc.scopes)
                .map_err(|e| LoginFailed(format!("Cannot start the login for cluster {name}: {e}.")))?;
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
                save_interactive(name, oidc, &tokens).map_err(|e| LoginFailed(format!("Logged in, but {e}")))?;
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
