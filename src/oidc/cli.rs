//! `mcp-acp login <cluster>` and `mcp-acp logout <cluster>`: for a person at a terminal (or a
//! script), not the MCP server. Everything goes to stderr; no token is ever printed.

use super::flows::{self, DeviceLogin};
use super::pkce::{BROWSER_WAIT, BrowserLogin};
use super::provider::{HOW_TO_ADD, IDP_TIMEOUT, Logins, SECRET_ENV, client_secret, device_failure, save_interactive};
use super::store::{self, Grant, StoredLogin, store_path};
use super::{OidcError, Tokens};
use crate::config::{self, Cluster};
use crate::login_source::LoginFailed;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub const USAGE: &str = "\
Usage: mcp-acp login <cluster> [--browser | --client-credentials [--client-secret-file PATH]]
       mcp-acp logout <cluster>

login: log in to the cluster's identity provider (`oidc:` in clusters.yaml) and store the
refresh token in ~/.config/acp/tokens/<cluster>.json (0600); the server renews its access
tokens from it. The default is the device flow: open a URL on any device and enter a code.
--browser: authorization code + PKCE, the browser returning to 127.0.0.1 on this machine.
--client-credentials: for automation; the secret comes from --client-secret-file PATH (a file
only you can read) or $ACP_OIDC_CLIENT_SECRET, never from the command line.
logout: delete the stored login.
";

enum Mode {
    Device,
    Browser,
    ClientCredentials(Option<PathBuf>),
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `args`: everything after the program name, starting with `login` or `logout`.
pub fn run(args: &[String]) -> ExitCode {
    let usage = |why: &str| {
        eprintln!("mcp-acp: {why}\n\n{USAGE}");
        ExitCode::from(2)
    };
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => return usage("no command"),
    };
    let mut cluster = None;
    let mut mode = Mode::Device;
    let mut secret_file = None;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--help" | "-h" => {
                eprint!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--browser" if command == "login" => mode = Mode::Browser,
            "--client-credentials" if command == "login" => mode = Mode::ClientCredentials(None),
            "--client-secret-file" if command == "login" => match it.next() {
                Some(p) => secret_file = Some(PathBuf::from(p)),
                None => return usage("--client-secret-file needs a PATH"),
            },
            s if s.starts_with("--client-secret") => {
                return usage(&format!(
                    "a client secret is never taken from the command line (other users can see it in `ps`, and \
                     it stays in shell history): use --client-secret-file PATH or {SECRET_ENV}"
                ));
            }
            s if s.starts_with('-') => return usage(&format!("unknown option {}", crate::validate::quote(s))),
            s if cluster.is_none() => cluster = Some(s.to_string()),
            s => return usage(&format!("unexpected argument {}", crate::validate::quote(s))),
        }
    }
    if let (Some(file), Mode::ClientCredentials(f)) = (&secret_file, &mut mode) {
        *f = Some(std::path::absolute(file).unwrap_or_else(|_| file.clone()));
    } else if secret_file.is_some() {
        return usage("--client-secret-file goes with --client-credentials");
    }
    let Some(name) = cluster else { return usage("which cluster? (a name from clusters.yaml)") };
    let path = config::config_path();
    let loaded = match config::load(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mcp-acp: {e}");
            return ExitCode::FAILURE;
        }
    };
    loaded.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    let Some(cluster) = loaded.config.cluster(&name).cloned() else {
        eprintln!(
            "mcp-acp: cluster {} is not in {} (configured: {})",
            crate::validate::quote(&name),
            path.display(),
            loaded.config.cluster_names().join(", ")
        );
        return ExitCode::FAILURE;
    };
    let result = match command {
        "logout" => logout(&cluster),
        _ => login(&cluster, mode),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mcp-acp: {message}");
            ExitCode::FAILURE
        }
    }
}

fn logout(cluster: &Cluster) -> Result<(), LoginFailed> {
    let path = store_path(&cluster.name).map_err(|e| LoginFailed(e.to_string()))?;
    match store::remove(&path).map_err(|e| LoginFailed(e.to_string()))? {
        true => eprintln!("Logged out of cluster {}: deleted {}.", cluster.name, path.display()),
        false => eprintln!("No stored login for cluster {} ({} does not exist).", cluster.name, path.display()),
    }
    Ok(())
}

fn login(cluster: &Cluster, mode: Mode) -> Result<(), LoginFailed> {
    let name = &cluster.name;
    let Some(oidc) = &cluster.oidc else {
        if cluster.token_from.is_some() {
            return Err(LoginFailed(format!(
                "cluster {name} takes its login from acpctl (token_from: acpctl): run `acpctl login` instead, \
                 or add `oidc:` to log in with mcp-acp."
            )));
        }
        return Err(LoginFailed(format!(
            "cluster {name} has no `oidc:` in clusters.yaml, so there is nothing to log in to. {HOW_TO_ADD}"
        )));
    };
    let failed = |e: OidcError| LoginFailed(format!("login to cluster {name} failed: {e}"));
    // Everything that can be known here is checked before the identity provider is asked: a
    // login that could not be stored, or read back by the server, is not worth having.
    let path = store_path(name).map_err(failed)?;
    store::check_place(&path).map_err(|e| LoginFailed(format!("cannot log in to cluster {name}: {e}")))?;
    let secret = match &mode {
        Mode::ClientCredentials(file) => Some(client_secret(file.as_deref()).map_err(failed)?),
        _ => None,
    };
    let mut logins = Logins::default();
    let (idp, ep) = logins.idp(&oidc.issuer).map_err(failed)?;
    eprintln!("Logging in to cluster {name} at {} (client {}).", oidc.issuer, oidc.client_id);
    let tokens: Tokens = match mode {
        Mode::Device => {
            let mut device = DeviceLogin::start(idp, ep, &oidc.client_id, &oidc.scopes).map_err(failed)?;
            let s = &device.start;
            eprintln!("\n! First copy your one-time code: {}", s.user_code);
            eprintln!(
                "Then open this page in a browser, on any device, and enter the code:\n    {}",
                s.verification_uri
            );
            if let Some(complete) = &s.verification_uri_complete {
                eprintln!("(or open this one, which has the code filled in:\n    {complete})");
            }
            eprintln!("\nWaiting for you to confirm (the code expires in {} s)...", s.expires_in);
            loop {
                std::thread::sleep(device.wait().max(Duration::from_millis(50)));
                match device.poll(idp, ep, now()) {
                    Ok(Some(t)) => break t,
                    Ok(None) => {}
                    Err(e) => return Err(LoginFailed(device_failure(name, &e))),
                }
            }
        }
        Mode::Browser => {
            let Some(auth) = &ep.authorization else {
                return Err(failed(OidcError::Setup("the identity provider has no authorization_endpoint".into())));
            };
            let browser = BrowserLogin::start(auth, &oidc.client_id, &oidc.scopes).map_err(failed)?;
            eprintln!(
                "\nOpen this URL in a browser on this machine (it returns to {}):\n    {}",
                browser.redirect_uri, browser.url
            );
            eprintln!("\nWaiting for the browser (up to {} s)...", BROWSER_WAIT.as_secs());
            let code = browser.wait(BROWSER_WAIT).map_err(failed)?;
            flows::authorization_code(idp, ep, &oidc.client_id, &code, &browser.redirect_uri, &browser.verifier, now())
                .map_err(failed)?
        }
        Mode::ClientCredentials(file) => {
            let Some(secret) = secret else { return Err(failed(OidcError::Setup("no client secret".into()))) };
            let tokens =
                flows::client_credentials(idp, ep, &oidc.client_id, &secret, &oidc.scopes, now()).map_err(failed)?;
            let mut login = StoredLogin {
                issuer: oidc.issuer.base(),
                client_id: oidc.client_id.clone(),
                grant: Grant::ClientCredentials { client_secret_file: file.clone() },
                refresh_token: None,
                access_token: None,
                expires_at: None,
            };
            super::provider::update(&mut login, &tokens);
            super::provider::save_new(&path, &login, IDP_TIMEOUT).map_err(failed)?;
            let from = match &file {
                Some(f) => format!("the secret file {}", f.display()),
                None => format!("{SECRET_ENV} (set it for the server too)"),
            };
            eprintln!(
                "Logged in to cluster {name} as {}. Stored in {}; the server asks again with {from} when the token expires.",
                who(&tokens),
                path.display()
            );
            return Ok(());
        }
    };
    let path = save_interactive(name, oidc, &tokens, IDP_TIMEOUT).map_err(failed)?;
    eprintln!(
        "\nLogged in to cluster {name} as {}. The login is stored in {} (mode 0600); the server renews its \
         access token from it. `mcp-acp logout {name}` deletes it.",
        who(&tokens),
        path.display()
    );
    Ok(())
}

fn who(tokens: &Tokens) -> String {
    crate::jwt::claims(tokens.access.expose())
        .and_then(|c| c.who().map(str::to_string))
        .unwrap_or_else(|| "(the token names no user)".into())
}
