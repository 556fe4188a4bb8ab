//! SecretManagement vaults, reached through the host (the .NET module).
//!
//! The core cannot run PowerShell, so the module lends it a callback
//! ([`HostCalls`]; across the C ABI the `ib_host_vault` struct of
//! docs/ABI.md). Each [`HostOp`] is one SecretManagement cmdlet the host
//! runs in its runspace; the reply is a list of items and, when it failed,
//! a [`HostFailure`].
//!
//! [`HostVault::open`] sets the vault up in 4.x's order: SecretManagement
//! must be available, `IBWAPI_VAULT_PASS` (when not blank) unlocks the
//! vault, and the vault must pass its own test. Any failure makes the vault
//! unavailable and the store falls back to the config file.
//!
//! # Secret-name rules
//!
//! After the test, the host describes the vault (`Get-SecretVault`):
//! `module=<ModuleName>` and `param:<Key>=<Value>` items. From them come
//! the rules a new secret name must meet before anything is written:
//!
//! - every SecretManagement vault: the name must not start with `psht:`,
//!   which `Get-SecretInfo` never lists (so the profile would vanish);
//! - module `Az.KeyVault` (any letter case): 1 to 127 characters, each an
//!   ASCII letter, digit or `-` (Azure Key Vault's rule);
//! - module `Microsoft.PowerShell.SecretStore`: no `*`, `?`, `[` or `]`, as
//!   SecretStore matches a new name as a wildcard pattern when it writes it
//!   and then fails to create or to overwrite it;
//! - a vault parameter `NamePattern` (key in any letter case): a regular
//!   expression (Rust `regex` syntax, close to .NET's without look-around
//!   or back-references) that the whole name must match. One that does not
//!   compile is ignored with a warning.
//!
//! # Classifying failures
//!
//! The host reports a failure kind (failed, locked, not found, not
//! installed) and the message it saw. Beyond the kind, the message is
//! searched, ASCII letter case ignored, which is a heuristic that depends on
//! the wording of each vault's errors: `read-only`, `readonly` or
//! `read only` make a write or removal [`Error::VaultReadOnly`]; `soft-delete`,
//! `soft delete` or `deleted` make a write [`Error::VaultNameBlocked`] (Azure
//! Key Vault: "currently in a deleted but recoverable state");
//! `PasswordRequired`, `password required`, `password is required` or
//! `is locked` make any operation [`Error::VaultLocked`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use regex::Regex;

use super::template::SecretTemplate;
use super::SecretVault;
use crate::error::Error;
use crate::profile::Secret;

/// One operation the host performs; the numbers are the C ABI's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HostOp {
    /// Whether SecretManagement is installed (`Get-Command Get-Secret, ...`).
    Available = 1,
    /// `Unlock-SecretVault -Name vault -Password arg1`.
    Unlock = 2,
    /// `Test-SecretVault -Name vault`.
    Test = 3,
    /// `Get-SecretInfo -Vault vault -Name arg1` (a wildcard pattern).
    List = 4,
    /// `Get-Secret -Vault vault -Name arg1 -AsPlainText`.
    Read = 5,
    /// `Set-Secret -Vault vault -Name arg1 -Secret arg2`.
    Write = 6,
    /// `Remove-Secret -Vault vault -Name arg1`.
    Remove = 7,
    /// `Get-SecretVault -Name vault`.
    Describe = 8,
}

/// How a host operation failed; the numbers are the C ABI's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HostFailureKind {
    /// Any other failure.
    Failed = 1,
    /// The vault needs a password (`PasswordRequiredException`).
    Locked = 2,
    /// The secret does not exist.
    NotFound = 3,
    /// SecretManagement is not installed.
    NotInstalled = 4,
}

impl HostFailureKind {
    /// The kind for its C ABI number.
    pub fn from_number(number: u32) -> Option<HostFailureKind> {
        match number {
            1 => Some(HostFailureKind::Failed),
            2 => Some(HostFailureKind::Locked),
            3 => Some(HostFailureKind::NotFound),
            4 => Some(HostFailureKind::NotInstalled),
            _ => None,
        }
    }
}

/// A failed host operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFailure {
    /// How it failed.
    pub kind: HostFailureKind,
    /// What the host saw (an error record's message); never a secret value.
    pub message: String,
}

/// What the host answered. Items are secret names (list), the secret's
/// value (read) or facts (describe); they are kept in wiping memory because
/// a read returns a password.
#[derive(Debug, Default)]
pub struct HostReply {
    /// The results, in order.
    pub items: Vec<Secret>,
    /// Set when the operation failed; the items are then ignored.
    pub failure: Option<HostFailure>,
}

impl HostReply {
    /// A successful reply with these items.
    pub fn ok<I, S>(items: I) -> HostReply
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        HostReply {
            items: items.into_iter().map(|s| Secret::new(s.into())).collect(),
            failure: None,
        }
    }

    /// A failed reply.
    pub fn failed(kind: HostFailureKind, message: impl Into<String>) -> HostReply {
        HostReply {
            items: Vec::new(),
            failure: Some(HostFailure {
                kind,
                message: message.into(),
            }),
        }
    }
}

/// The host's side: runs one SecretManagement operation on `vault`.
///
/// It is called only while a store operation runs, on the calling thread.
/// `arg1` and `arg2` are as [`HostOp`] says; the unlock password and the
/// written value are secrets the host must not log.
pub trait HostCalls: Send {
    /// Runs `op` and returns its reply.
    fn call(
        &mut self,
        op: HostOp,
        vault: &str,
        arg1: Option<&str>,
        arg2: Option<&str>,
    ) -> HostReply;
}

/// One host shared by the session's vault and a vault opened for a
/// migration: each call locks it, so it is used by one caller at a time.
#[derive(Clone)]
pub struct SharedHost(Arc<Mutex<Box<dyn HostCalls>>>);

impl SharedHost {
    /// Shares `host`.
    pub fn new(host: Box<dyn HostCalls>) -> SharedHost {
        SharedHost(Arc::new(Mutex::new(host)))
    }
}

impl HostCalls for SharedHost {
    fn call(
        &mut self,
        op: HostOp,
        vault: &str,
        arg1: Option<&str>,
        arg2: Option<&str>,
    ) -> HostReply {
        // A host that panicked is still the host; its next reply says how
        // it fares.
        let mut host = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        host.call(op, vault, arg1, arg2)
    }
}

/// A SecretManagement vault reached through the host.
pub struct HostVault {
    host: Box<dyn HostCalls>,
    name: String,
    /// The escaped wildcard pattern that lists the template's secrets.
    pattern: String,
    module: Option<String>,
    rules: Vec<NameRule>,
}

impl HostVault {
    /// Sets up the vault called `name` as 4.x does: available, unlocked
    /// with `password` when given, tested; then learns its name rules.
    ///
    /// # Errors
    ///
    /// Why the vault cannot be used, including the host's message.
    pub fn open(
        host: Box<dyn HostCalls>,
        name: &str,
        password: Option<&Secret>,
        template: &SecretTemplate,
    ) -> Result<HostVault, String> {
        let mut vault = HostVault {
            host,
            name: name.to_owned(),
            pattern: template.wildcard(),
            module: None,
            rules: vec![NameRule::NotHidden],
        };

        vault.setup(HostOp::Available, None).map_err(|failure| {
            if failure.kind == HostFailureKind::NotInstalled {
                not_installed(&failure.message)
            } else {
                format!(
                    "could not check that SecretManagement is installed: {}",
                    failure.message
                )
            }
        })?;

        if let Some(password) = password {
            vault
                .setup(HostOp::Unlock, Some(password.expose()))
                .map_err(|failure| {
                    format!(
                        "could not unlock the vault '{name}' with IBWAPI_VAULT_PASS: {}",
                        failure.message
                    )
                })?;
        }

        vault.setup(HostOp::Test, None).map_err(|failure| {
            format!(
                "the vault '{name}' failed its test (Test-SecretVault): {}",
                failure.message
            )
        })?;

        vault.learn_rules();
        Ok(vault)
    }

    /// The vault's module, when the host described it.
    pub fn module(&self) -> Option<&str> {
        self.module.as_deref()
    }

    fn setup(&mut self, op: HostOp, arg: Option<&str>) -> Result<HostReply, HostFailure> {
        let reply = self.call(op, arg, None);

        match reply.failure {
            Some(failure) => Err(failure),
            None => Ok(reply),
        }
    }

    fn call(&mut self, op: HostOp, arg1: Option<&str>, arg2: Option<&str>) -> HostReply {
        log::debug!("asking the host: {op:?} on the vault '{}'", self.name);

        self.host.call(op, &self.name, arg1, arg2)
    }

    /// Asks the host to describe the vault and keeps the name rules that
    /// follow. A failure leaves only the rules every vault has.
    fn learn_rules(&mut self) {
        let reply = match self.setup(HostOp::Describe, None) {
            Ok(reply) => reply,
            Err(failure) => {
                log::warn!(
                    "could not describe the vault '{}' (Get-SecretVault): {}; secret names \
                     are not checked against its rules before they are written",
                    self.name,
                    failure.message
                );
                return;
            }
        };

        for item in &reply.items {
            self.learn_fact(item.expose());
        }
    }

    fn learn_fact(&mut self, fact: &str) {
        if let Some(module) = fact.strip_prefix("module=") {
            log::info!(
                "the vault '{}' is provided by the module {module}",
                self.name
            );
            self.module = Some(module.to_owned());
            self.rules.extend(NameRule::for_module(module));
            return;
        }

        let parameter = fact.strip_prefix("param:").and_then(|p| p.split_once('='));
        match parameter {
            Some((key, pattern)) if key.eq_ignore_ascii_case("NamePattern") => {
                self.learn_name_pattern(pattern);
            }
            Some(_) => {}
            None => log::debug!("ignoring the vault fact '{fact}'"),
        }
    }

    fn learn_name_pattern(&mut self, pattern: &str) {
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(regex) => {
                log::info!(
                    "secret names in the vault '{}' must match its NamePattern {pattern}",
                    self.name
                );
                self.rules.push(NameRule::Pattern(regex));
            }
            Err(error) => log::warn!(
                "the NamePattern of the vault '{}' is not a regular expression this module \
                 understands ({}); secret names are not checked against it",
                self.name,
                one_line(&error.to_string())
            ),
        }
    }

    /// The error for a failed operation on the secret `secret`.
    fn failure_error(&self, op: HostOp, secret: &str, failure: HostFailure) -> Error {
        let vault = self.name.clone();
        let message = failure.message;
        let lower = message.to_ascii_lowercase();
        let says = |words: &[&str]| words.iter().any(|word| lower.contains(word));
        let writes = matches!(op, HostOp::Write | HostOp::Remove);

        if failure.kind == HostFailureKind::Locked
            || says(&[
                "passwordrequired",
                "password required",
                "password is required",
                "is locked",
            ])
        {
            return Error::VaultLocked {
                vault,
                detail: message,
            };
        }
        if failure.kind == HostFailureKind::NotInstalled {
            return Error::VaultUnavailable {
                vault,
                reason: not_installed(&message),
            };
        }
        if writes && says(&["read-only", "readonly", "read only"]) {
            return Error::VaultReadOnly {
                vault,
                detail: message,
            };
        }
        if op == HostOp::Write && says(&["soft-delete", "soft delete", "deleted"]) {
            return Error::VaultNameBlocked {
                vault,
                name: secret.to_owned(),
                detail: message,
            };
        }

        Error::VaultAccess {
            vault,
            action: action_words(op, secret),
            detail: message,
        }
    }
}

impl SecretVault for HostVault {
    fn vault_name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> String {
        match &self.module {
            Some(module) => format!("the SecretManagement vault '{}' ({module})", self.name),
            None => format!("the SecretManagement vault '{}'", self.name),
        }
    }

    fn list_secrets(&mut self) -> Result<Vec<String>, Error> {
        let pattern = self.pattern.clone();
        let reply = self.call(HostOp::List, Some(&pattern), None);

        match reply.failure {
            Some(failure) => Err(self.failure_error(HostOp::List, &pattern, failure)),
            None => Ok(reply
                .items
                .iter()
                .map(|item| item.expose().to_owned())
                .collect()),
        }
    }

    fn read_secret(&mut self, name: &str) -> Result<Option<Secret>, Error> {
        let mut reply = self.call(HostOp::Read, Some(name), None);

        match reply.failure {
            Some(failure) if failure.kind == HostFailureKind::NotFound => Ok(None),
            Some(failure) => Err(self.failure_error(HostOp::Read, name, failure)),
            None if reply.items.len() > 1 => Err(Error::VaultAccess {
                vault: self.name.clone(),
                action: action_words(HostOp::Read, name),
                detail: format!(
                    "the host returned {} values instead of one",
                    reply.items.len()
                ),
            }),
            None => Ok(reply.items.pop()),
        }
    }

    fn write_secret(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        let reply = self.call(HostOp::Write, Some(name), Some(value.expose()));

        match reply.failure {
            Some(failure) => Err(self.failure_error(HostOp::Write, name, failure)),
            None => Ok(()),
        }
    }

    fn remove_secret(&mut self, name: &str) -> Result<(), Error> {
        let reply = self.call(HostOp::Remove, Some(name), None);

        match reply.failure {
            None => Ok(()),
            Some(failure) if failure.kind == HostFailureKind::NotFound => Ok(()),
            Some(failure) => Err(self.failure_error(HostOp::Remove, name, failure)),
        }
    }

    fn name_problem(&self, name: &str) -> Option<String> {
        self.rules
            .iter()
            .find(|rule| !rule.allows(name))
            .map(NameRule::describe)
    }
}

impl fmt::Debug for HostVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostVault")
            .field("name", &self.name)
            .field("pattern", &self.pattern)
            .field("module", &self.module)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// A rule that a vault applies to secret names.
#[derive(Debug)]
enum NameRule {
    /// SecretManagement never lists names starting with `psht:`.
    NotHidden,
    /// Azure Key Vault: `^[0-9A-Za-z-]{1,127}$`.
    AzureKeyVault,
    /// SecretStore: no wildcard characters.
    NoWildcards,
    /// The vault's `NamePattern`, anchored at both ends.
    Pattern(Regex),
}

impl NameRule {
    fn for_module(module: &str) -> Option<NameRule> {
        if module.eq_ignore_ascii_case("Az.KeyVault") {
            Some(NameRule::AzureKeyVault)
        } else if module.eq_ignore_ascii_case("Microsoft.PowerShell.SecretStore") {
            Some(NameRule::NoWildcards)
        } else {
            None
        }
    }

    fn allows(&self, name: &str) -> bool {
        match self {
            NameRule::NotHidden => !name
                .get(..5)
                .is_some_and(|head| head.eq_ignore_ascii_case("psht:")),
            NameRule::AzureKeyVault => {
                (1..=127).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }
            NameRule::NoWildcards => !name.contains(['*', '?', '[', ']']),
            NameRule::Pattern(regex) => regex.is_match(name),
        }
    }

    fn describe(&self) -> String {
        match self {
            NameRule::NotHidden => "SecretManagement never lists secrets whose name starts \
                                    with 'psht:', so the profile could not be loaded again"
                .to_owned(),
            NameRule::AzureKeyVault => "Azure Key Vault secret names are 1 to 127 characters, \
                                        each a letter (A-Z, a-z), a digit or '-'"
                .to_owned(),
            NameRule::NoWildcards => "SecretStore matches a new secret name as a wildcard \
                                      pattern, so names with '*', '?', '[' or ']' cannot be \
                                      written reliably"
                .to_owned(),
            NameRule::Pattern(regex) => {
                let pattern = regex.as_str();
                let inner = &pattern[4..pattern.len() - 2];
                format!("secret names must match the vault's NamePattern {inner}")
            }
        }
    }
}

fn not_installed(message: &str) -> String {
    let mut text = "SecretManagement is not installed: the module \
                    Microsoft.PowerShell.SecretManagement is needed to use a SecretManagement \
                    vault (install it with Install-Module Microsoft.PowerShell.SecretManagement)"
        .to_owned();
    if !message.trim().is_empty() {
        text.push_str(" (");
        text.push_str(message.trim());
        text.push(')');
    }
    text
}

fn action_words(op: HostOp, secret: &str) -> String {
    match op {
        HostOp::List => format!("list the secrets matching '{secret}'"),
        HostOp::Read => format!("read the secret '{secret}'"),
        HostOp::Write => format!("write the secret '{secret}'"),
        HostOp::Remove => format!("remove the secret '{secret}'"),
        other => format!("run {other:?}"),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message for a vault name given without a host to reach it.
pub(crate) fn no_host_message() -> String {
    not_installed("the module offered no access to SecretManagement")
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::{Arc, Mutex};

    type Log = Arc<Mutex<Vec<(HostOp, Option<String>)>>>;

    /// Answers from a table; records every call.
    struct Scripted {
        answers: Vec<(HostOp, HostReply)>,
        calls: Log,
    }

    impl HostCalls for Scripted {
        fn call(&mut self, op: HostOp, _: &str, arg1: Option<&str>, _: Option<&str>) -> HostReply {
            self.calls
                .lock()
                .unwrap()
                .push((op, arg1.map(str::to_owned)));
            match self.answers.iter().position(|(o, _)| *o == op) {
                Some(at) => self.answers.remove(at).1,
                None => HostReply::default(),
            }
        }
    }

    fn open(
        answers: Vec<(HostOp, HostReply)>,
        password: Option<&str>,
    ) -> (Result<HostVault, String>, Log) {
        let calls = Log::default();
        let host = Scripted {
            answers,
            calls: calls.clone(),
        };
        let password = password.map(Secret::from);

        let vault = HostVault::open(
            Box::new(host),
            "V",
            password.as_ref(),
            &SecretTemplate::new("p-{0}"),
        );
        (vault, calls)
    }

    fn ops(calls: &Log) -> Vec<HostOp> {
        calls.lock().unwrap().iter().map(|(op, _)| *op).collect()
    }

    #[test]
    fn setup_runs_in_4x_order_and_describes_last() {
        let (vault, calls) = open(vec![], Some("pw"));

        assert!(vault.is_ok());
        assert_eq!(
            ops(&calls),
            [
                HostOp::Available,
                HostOp::Unlock,
                HostOp::Test,
                HostOp::Describe
            ]
        );
        assert_eq!(calls.lock().unwrap()[1].1.as_deref(), Some("pw"));
    }

    #[test]
    fn no_password_means_no_unlock() {
        let (_, calls) = open(vec![], None);

        assert_eq!(
            ops(&calls),
            [HostOp::Available, HostOp::Test, HostOp::Describe]
        );
    }

    #[test]
    fn each_setup_failure_says_what_failed() {
        let cases = [
            (
                HostOp::Available,
                HostFailureKind::NotInstalled,
                "SecretManagement is not installed",
            ),
            (
                HostOp::Available,
                HostFailureKind::Failed,
                "could not check",
            ),
            (
                HostOp::Unlock,
                HostFailureKind::Failed,
                "could not unlock the vault 'V' with IBWAPI_VAULT_PASS",
            ),
            (HostOp::Test, HostFailureKind::Failed, "failed its test"),
        ];

        for (op, kind, expected) in cases {
            let answers = vec![(op, HostReply::failed(kind, "host says no"))];

            let message = open(answers, Some("pw")).0.unwrap_err();

            assert!(message.contains(expected), "{message}");
            assert!(message.contains("host says no"), "{message}");
        }
    }

    #[test]
    fn a_failed_describe_only_warns() {
        let answers = vec![(
            HostOp::Describe,
            HostReply::failed(HostFailureKind::Failed, "x"),
        )];

        let vault = open(answers, None).0.unwrap();

        assert_eq!(vault.module(), None);
        assert!(vault.name_problem("p-ok").is_none());
    }

    fn described(facts: &[&str]) -> HostVault {
        let answers = vec![(HostOp::Describe, HostReply::ok(facts.iter().copied()))];
        open(answers, None).0.unwrap()
    }

    #[test]
    fn azure_key_vault_names_are_letters_digits_and_hyphens() {
        let vault = described(&["module=az.keyvault", "param:AZKVaultName=kv1"]);

        assert!(vault.name_problem("poshibwapi-Lab-2").is_none());
        let problem = vault.name_problem("poshibwapi-my_lab").unwrap();
        assert!(problem.contains("Azure Key Vault"), "{problem}");
        assert!(vault.name_problem(&"a".repeat(128)).is_some());
        assert!(vault.name_problem("poshibwapi-läb").is_some());
        assert!(vault.describe().contains("az.keyvault"));
    }

    #[test]
    fn secretstore_refuses_wildcard_characters() {
        let vault = described(&["module=Microsoft.PowerShell.SecretStore"]);

        assert!(vault.name_problem("p-a[1]").is_some());
        assert!(vault.name_problem("p-a b").is_none());
    }

    #[test]
    fn a_name_pattern_must_match_the_whole_name() {
        let vault = described(&["module=Other", "param:namepattern=p-[a-z]+"]);

        assert!(vault.name_problem("p-lab").is_none());
        let problem = vault.name_problem("p-lab2").unwrap();
        assert!(problem.contains("NamePattern p-[a-z]+"), "{problem}");
    }

    #[test]
    fn a_bad_name_pattern_is_ignored() {
        let vault = described(&["param:NamePattern=(?<=x)a"]);

        assert!(vault.name_problem("anything").is_none());
    }

    #[test]
    fn hidden_names_are_refused_everywhere() {
        let vault = described(&[]);

        assert!(vault.name_problem("PSHT:lab").is_some());
    }

    /// An operation, how it failed, and what the error must be.
    type Case = (HostOp, HostFailure, fn(&Error) -> bool);

    #[test]
    fn failures_are_classified_from_kind_and_message() {
        let vault = described(&[]);
        let fail = |kind, text: &str| HostFailure {
            kind,
            message: text.to_owned(),
        };

        let cases: [Case; 6] = [
            (
                HostOp::Write,
                fail(HostFailureKind::Failed, "Vault is ReadOnly"),
                |e| matches!(e, Error::VaultReadOnly { .. }),
            ),
            (
                HostOp::Write,
                fail(
                    HostFailureKind::Failed,
                    "Secret x is currently in a deleted but recoverable state",
                ),
                |e| matches!(e, Error::VaultNameBlocked { .. }),
            ),
            (
                HostOp::Remove,
                fail(HostFailureKind::Failed, "could not be deleted"),
                |e| matches!(e, Error::VaultAccess { .. }),
            ),
            (HostOp::Read, fail(HostFailureKind::Locked, "x"), |e| {
                matches!(e, Error::VaultLocked { .. })
            }),
            (
                HostOp::Write,
                fail(HostFailureKind::Failed, "PasswordRequiredException: ..."),
                |e| matches!(e, Error::VaultLocked { .. }),
            ),
            (
                HostOp::Write,
                fail(HostFailureKind::NotInstalled, ""),
                |e| matches!(e, Error::VaultUnavailable { .. }),
            ),
        ];

        for (op, failure, expected) in cases {
            let error = vault.failure_error(op, "p-x", failure);
            assert!(expected(&error), "{op:?}: {error:?}");
        }
    }
}
