//! A SecretManagement stand-in for the default template: secrets in
//! memory, every call recorded, failures on request.

use std::sync::{Arc, Mutex, MutexGuard};

use ibwapi_config::vault::host::{HostCalls, HostFailureKind, HostOp, HostReply};

/// An operation on one secret that fails once, after `after` that succeed.
struct Fault {
    op: HostOp,
    name: String,
    after: usize,
}

#[derive(Default)]
pub struct HostState {
    /// Name and value; names compare ignoring ASCII case.
    pub secrets: Vec<(String, String)>,
    /// Each operation and its first argument.
    pub calls: Vec<(HostOp, Option<String>)>,
    faults: Vec<Fault>,
}

/// Shared with the test, which looks at the secrets and the calls.
#[derive(Clone, Default)]
pub struct MemoryHost(Arc<Mutex<HostState>>);

impl MemoryHost {
    pub fn state(&self) -> MutexGuard<'_, HostState> {
        self.0.lock().unwrap()
    }

    /// Creates or replaces a secret, as another process would.
    pub fn put(&self, name: &str, value: &str) {
        let mut state = self.state();
        let entry = (name.to_owned(), value.to_owned());
        match position(&state.secrets, name) {
            Some(at) => state.secrets[at] = entry,
            None => state.secrets.push(entry),
        }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        let state = self.state();
        position(&state.secrets, name).map(|at| state.secrets[at].1.clone())
    }

    /// A copy of every secret, sorted by name.
    pub fn snapshot(&self) -> Vec<(String, String)> {
        let mut secrets = self.state().secrets.clone();
        secrets.sort();
        secrets
    }

    /// The operations so far, forgetting them.
    pub fn take_ops(&self) -> Vec<HostOp> {
        let calls = std::mem::take(&mut self.state().calls);
        calls.into_iter().map(|(op, _)| op).collect()
    }

    /// Makes `op` on the secret `name` fail once, after `after` successes.
    pub fn fail(&self, op: HostOp, name: &str, after: usize) {
        self.state().faults.push(Fault {
            op,
            name: name.to_owned(),
            after,
        });
    }

    pub fn boxed(&self) -> Box<dyn HostCalls> {
        Box::new(self.clone())
    }
}

fn position(secrets: &[(String, String)], name: &str) -> Option<usize> {
    secrets
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case(name))
}

impl HostState {
    fn take_fault(&mut self, op: HostOp, name: &str) -> bool {
        let Some(at) = self
            .faults
            .iter()
            .position(|f| f.op == op && f.name.eq_ignore_ascii_case(name))
        else {
            return false;
        };
        if self.faults[at].after > 0 {
            self.faults[at].after -= 1;
            return false;
        }
        self.faults.remove(at);
        true
    }
}

impl HostCalls for MemoryHost {
    fn call(&mut self, op: HostOp, _: &str, arg1: Option<&str>, arg2: Option<&str>) -> HostReply {
        let mut state = self.state();
        state.calls.push((op, arg1.map(str::to_owned)));
        let name = arg1.unwrap_or_default();

        if state.take_fault(op, name) {
            return HostReply::failed(HostFailureKind::Failed, "injected failure");
        }
        match op {
            HostOp::List => {
                // The default template's pattern: a prefix, then `*`.
                let prefix = name.trim_end_matches('*').to_lowercase();
                let names = state
                    .secrets
                    .iter()
                    .filter(|(n, _)| n.to_lowercase().starts_with(&prefix))
                    .map(|(n, _)| n.clone());
                HostReply::ok(names.collect::<Vec<_>>())
            }
            HostOp::Read => match position(&state.secrets, name) {
                Some(at) => HostReply::ok([state.secrets[at].1.clone()]),
                None => HostReply::failed(HostFailureKind::NotFound, "not found"),
            },
            HostOp::Write => {
                let entry = (name.to_owned(), arg2.unwrap().to_owned());
                match position(&state.secrets, name) {
                    Some(at) => state.secrets[at] = entry,
                    None => state.secrets.push(entry),
                }
                HostReply::default()
            }
            HostOp::Remove => {
                if let Some(at) = position(&state.secrets, name) {
                    state.secrets.remove(at);
                }
                HostReply::default()
            }
            _ => HostReply::default(),
        }
    }
}
