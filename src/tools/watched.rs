//! The backend as tools reach it (through `Context::with_cluster`): error statuses kept for
//! the audit log, and a 401 to a stored login's token dealt with once.

use crate::config::Cluster;
use crate::credentials::{Secret, TokenSource};
use crate::gateway::{Backend, Target};
use crate::login_source::LoginSource;

/// A backend as tools see it: the status of every error answer is kept for the audit log,
/// including those a tool turns into a result ("not found") rather than an error; and a 401
/// to a token of a stored login is dealt with once (see [`Renew`]).
pub(super) struct Watched<'a> {
    pub inner: &'a mut dyn Backend,
    pub status: &'a mut Option<u16>,
    pub renew: Option<Renew<'a>>,
}

/// A stored login whose token the platform refused: dropped, and for a read renewed and the
/// read sent once more. A change is never sent twice.
pub(super) struct Renew<'a> {
    pub source: &'a mut dyn LoginSource,
    pub cluster: &'a Cluster,
    pub now: i64,
    pub renewed: Option<(Secret, TokenSource)>,
    pub tried: bool,
}

impl Backend for Watched<'_> {
    fn capabilities(&self) -> &'static crate::gateway::Capabilities {
        self.inner.capabilities()
    }
    fn plan(&self, t: &Target, op: &crate::gateway::Op) -> Option<crate::gateway::Request> {
        self.inner.plan(t, op)
    }
    fn execute(
        &mut self,
        t: &Target,
        op: &crate::gateway::Op,
    ) -> Result<crate::gateway::Answer, crate::gateway::ApiError> {
        use crate::gateway::{ApiError, Renewal};
        let renewed = self.renew.as_ref().and_then(|r| r.renewed.as_ref());
        let mut answer = match renewed {
            Some((token, from)) => self.inner.execute(&Target { token, token_source: *from, ..*t }, op),
            None => self.inner.execute(t, op),
        };
        if let (Err(ApiError::Unauthorized { after, .. }), Some(renew)) = (&mut answer, self.renew.as_mut()) {
            if !renew.tried {
                renew.tried = true;
                renew.source.forget(&renew.cluster.name);
                *after = Some(Renewal::ChangeNotResent);
                if !op.kind().changes() {
                    *after = Some(Renewal::NotRenewed);
                    if let Ok(Some((token, from))) = renew.source.token(renew.cluster, renew.now, t.deadline) {
                        log::info!(
                            "the token of cluster {} was refused; renewed, and the read sent once more",
                            t.cluster
                        );
                        answer = self.inner.execute(&Target { token: &token, token_source: from, ..*t }, op);
                        if let Err(ApiError::Unauthorized { after, .. }) = &mut answer {
                            *after = Some(Renewal::RefusedRenewed);
                        }
                        renew.renewed = Some((token, from));
                    }
                }
            }
        }
        if let Some(status) = answer.as_ref().err().and_then(ApiError::status) {
            *self.status = Some(status);
        }
        answer
    }
}
