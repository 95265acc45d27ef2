//! An ambient cluster for end-to-end tests: the fake ambient API server, a clusters.yaml that
//! points at it, and the real binary started against it.

use super::ambient::FakeAmbient;
use super::mcp::{Server, TOKEN, bin_command};
use serde_json::json;

/// A second project on the same server, whose sessions an ambient token can reach by id.
pub const OTHER: &str = "team-b";

pub struct AmbientEnv {
    pub dir: tempfile::TempDir,
    pub api: FakeAmbient,
}

impl AmbientEnv {
    /// The fake ambient server with projects `team-a` and [`OTHER`], and clusters.yaml with one
    /// cluster `amb` (`api: ambient`, [`TOKEN`], default project `team-a`).
    pub fn new() -> AmbientEnv {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let api = FakeAmbient::start();
        api.accept_token(TOKEN);
        api.add_project("team-a");
        api.add_project(OTHER);
        let env = AmbientEnv { dir, api };
        env.write(&format!(
            "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    token: \"{TOKEN}\"\n    default_project: team-a\ndefault_cluster: amb\n",
            env.api.url()
        ));
        env
    }

    pub fn write(&self, yaml: &str) {
        let path = self.dir.path().join("clusters.yaml");
        std::fs::write(&path, yaml).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }

    /// clusters.yaml with the one cluster `amb` logging in at the identity provider `issuer`
    /// (`oidc:`, client `ocm-cli`, no token).
    pub fn write_oidc(&self, issuer: &str) {
        self.write(&format!(
            "clusters:\n  amb:\n    api: ambient\n    server: \"{}\"\n    default_project: team-a\n    oidc:\n      \
             issuer: \"{issuer}\"\n      client_id: ocm-cli\ndefault_cluster: amb\n",
            self.api.url()
        ));
    }

    /// The binary with nothing of this process's environment but PATH: HOME and the working
    /// directory are this env's, clusters.yaml is its own, logging at trace.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = bin_command();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("ACP_CLUSTER_CONFIG", self.dir.path().join("clusters.yaml"))
            .env("RUST_LOG", "trace")
            .current_dir(self.dir.path());
        cmd
    }

    /// Started and initialized, logging at trace.
    pub fn spawn(&self) -> Server {
        self.spawn_with(&[])
    }

    /// [`AmbientEnv::spawn`] with these environment variables too.
    pub fn spawn_with(&self, vars: &[(&str, &str)]) -> Server {
        let mut cmd = self.command();
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.envs(vars.iter().copied());
        let mut s = Server::start(cmd);
        s.initialize();
        s
    }

    /// A session in `project` with this prompt; its id.
    pub fn session(&self, project: &str, prompt: &str) -> String {
        self.api.add_session(project, json!({"name": "", "prompt": prompt}))
    }

    /// Every request so far, as `METHOD path`.
    pub fn methods(&self) -> Vec<String> {
        self.api.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
    }
}
