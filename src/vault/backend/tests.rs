//! The vault backend over an in-memory vault that counts its calls and
//! fails on request.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use pretty_assertions::assert_eq;
use serde_json_lenient::Value;

use super::*;
use crate::collation::DefaultCollation;
use crate::profile::Credential;
use crate::profiles::ProfileEdit;

const FIXTURE: &str = include_str!("../../../tests/fixtures/vault.4x-default-template.json");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Read,
    Write,
    Remove,
}

/// Makes the call `op` on `secret` fail once, after `after` successful ones.
struct Fault {
    op: Op,
    secret: String,
    after: usize,
}

#[derive(Default)]
struct Shared {
    /// Names compare ignoring ASCII case, as SecretManagement's do.
    secrets: Vec<(String, String)>,
    calls: Vec<(Op, String)>,
    faults: Vec<Fault>,
    refuse_underscores: bool,
}

impl Shared {
    fn position(&self, name: &str) -> Option<usize> {
        self.secrets
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn call(&mut self, op: Op, secret: &str) -> Result<(), Error> {
        self.calls.push((op, secret.to_owned()));

        let matching = |fault: &Fault| fault.op == op && fault.secret == secret;
        let Some(at) = self.faults.iter().position(matching) else {
            return Ok(());
        };
        if self.faults[at].after > 0 {
            self.faults[at].after -= 1;
            return Ok(());
        }

        self.faults.remove(at);
        Err(Error::VaultAccess {
            vault: "mem".to_owned(),
            action: format!("{op:?} '{secret}'"),
            detail: "injected failure".to_owned(),
        })
    }
}

#[derive(Clone, Default)]
struct MemoryVault(Arc<Mutex<Shared>>);

impl fmt::Debug for MemoryVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryVault")
    }
}

impl MemoryVault {
    fn with_fixture() -> MemoryVault {
        let vault = MemoryVault::default();
        let Value::Object(secrets) = serde_json_lenient::from_str(FIXTURE).unwrap() else {
            panic!("the fixture is an object");
        };
        for (name, value) in secrets {
            vault.put(&name, value.as_str().unwrap());
        }
        vault
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.0.lock().unwrap()
    }

    fn put(&self, name: &str, value: &str) {
        self.shared()
            .secrets
            .push((name.to_owned(), value.to_owned()));
    }

    fn get(&self, name: &str) -> Option<String> {
        let shared = self.shared();
        shared.position(name).map(|at| shared.secrets[at].1.clone())
    }

    fn names(&self) -> Vec<String> {
        self.shared()
            .secrets
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn fail(&self, op: Op, secret: &str, after: usize) {
        self.shared().faults.push(Fault {
            op,
            secret: secret.to_owned(),
            after,
        });
    }

    /// The write and remove calls so far, then forgets them.
    fn take_changes(&self) -> Vec<(Op, String)> {
        let calls = std::mem::take(&mut self.shared().calls);
        calls
            .into_iter()
            .filter(|(op, _)| *op != Op::Read)
            .collect()
    }
}

impl SecretVault for MemoryVault {
    fn vault_name(&self) -> &str {
        "mem"
    }

    fn list_secrets(&mut self) -> Result<Vec<String>, Error> {
        Ok(self.names())
    }

    fn read_secret(&mut self, name: &str) -> Result<Option<Secret>, Error> {
        self.shared().call(Op::Read, name)?;
        Ok(self.get(name).map(Secret::new))
    }

    fn write_secret(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        let mut shared = self.shared();
        shared.call(Op::Write, name)?;

        let entry = (name.to_owned(), value.expose().to_owned());
        match shared.position(name) {
            Some(at) => shared.secrets[at] = entry,
            None => shared.secrets.push(entry),
        }
        Ok(())
    }

    fn remove_secret(&mut self, name: &str) -> Result<(), Error> {
        let mut shared = self.shared();
        shared.call(Op::Remove, name)?;

        if let Some(at) = shared.position(name) {
            shared.secrets.remove(at);
        }
        Ok(())
    }

    fn name_problem(&self, name: &str) -> Option<String> {
        (self.shared().refuse_underscores && name.contains('_'))
            .then(|| "no underscores".to_owned())
    }
}

fn load(vault: &MemoryVault) -> (VaultBackend, ProfileSet) {
    let (backend, profiles) =
        VaultBackend::load(Box::new(vault.clone()), SecretTemplate::from_setting(None)).unwrap();
    vault.take_changes();
    (backend, profiles)
}

fn edit(name: &str) -> ProfileEdit {
    ProfileEdit {
        profile_name: Some(name.to_owned()),
        ..ProfileEdit::default()
    }
}

fn new_profile(name: &str) -> ProfileEdit {
    ProfileEdit {
        wapi_host: Some("gm.example.test".to_owned()),
        wapi_version: Some("2.12".to_owned()),
        credential: Some(Credential::new("admin", Secret::from("pw"))),
        ..edit(name)
    }
}

fn writes(names: &[&str]) -> Vec<(Op, String)> {
    names.iter().map(|n| (Op::Write, (*n).to_owned())).collect()
}

#[test]
fn the_4x_fixture_loads() {
    let vault = MemoryVault::with_fixture();

    let (_, profiles) = load(&vault);

    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["prod", "lab", "old"]);
    assert_eq!(profiles.current_name(), Some("prod"));

    let prod = profiles.find("prod").unwrap();
    assert_eq!(prod.wapi_host.as_deref(), Some("gm.example.test"));
    assert_eq!(prod.wapi_version.as_deref(), Some("2.12"));
    assert!(prod.no_session && !prod.skip_certificate_check);
    let credential = prod.credential.as_ref().unwrap();
    assert_eq!(
        (credential.username.as_str(), credential.password.expose()),
        ("admin", "s3cr3t!")
    );

    let lab = profiles.find("lab").unwrap();
    assert!(lab.skip_certificate_check && !lab.no_session);
    assert_eq!(
        lab.credential.as_ref().unwrap().password.expose(),
        "lab pass ✓"
    );

    let old = profiles.find("old").unwrap();
    assert!(!old.skip_certificate_check && !old.no_session);
    assert_eq!(old.credential.as_ref().unwrap().username, "ro-user");
}

#[test]
fn saving_unchanged_profiles_writes_nothing() {
    let vault = MemoryVault::with_fixture();
    let (mut backend, profiles) = load(&vault);

    backend.save(&profiles).unwrap();

    assert_eq!(vault.take_changes(), []);
}

#[test]
fn only_the_changed_profile_is_written() {
    let vault = MemoryVault::with_fixture();
    let (mut backend, mut profiles) = load(&vault);
    let before = vault.get("poshibwapi-old").unwrap();

    let mut change = edit("lab");
    change.no_session = Some(true);
    change.no_switch_profile = true;
    profiles.apply_edit(change).unwrap();
    backend.save(&profiles).unwrap();

    assert_eq!(vault.take_changes(), writes(&["poshibwapi-lab"]));
    assert!(vault
        .get("poshibwapi-lab")
        .unwrap()
        .contains("\"NoSession\":true"));
    assert_eq!(vault.get("poshibwapi-old").unwrap(), before);

    backend.save(&profiles).unwrap();
    assert_eq!(vault.take_changes(), [], "a second save has nothing to do");
}

#[test]
fn current_moves_between_two_secrets() {
    let vault = MemoryVault::with_fixture();
    let (mut backend, mut profiles) = load(&vault);

    profiles.apply_edit(edit("lab")).unwrap();
    backend.save(&profiles).unwrap();

    assert_eq!(
        vault.take_changes(),
        writes(&["poshibwapi-prod", "poshibwapi-lab"])
    );
    assert!(vault
        .get("poshibwapi-prod")
        .unwrap()
        .ends_with("\"Current\":false}"));
    assert!(vault
        .get("poshibwapi-lab")
        .unwrap()
        .ends_with("\"Current\":true}"));
}

#[test]
fn rename_writes_the_new_secret_then_removes_the_old() {
    let vault = MemoryVault::with_fixture();
    let (mut backend, mut profiles) = load(&vault);

    let mut rename = edit("old");
    rename.new_name = Some("older".to_owned());
    rename.no_switch_profile = true;
    profiles.apply_edit(rename).unwrap();
    backend.save(&profiles).unwrap();

    assert_eq!(
        vault.take_changes(),
        [
            (Op::Write, "poshibwapi-older".to_owned()),
            (Op::Remove, "poshibwapi-old".to_owned()),
        ]
    );
    assert!(vault.get("poshibwapi-old").is_none());
    assert!(vault.get("poshibwapi-older").unwrap().contains("ro-user"));
}

#[test]
fn a_secret_listed_in_other_letter_case_is_written_back_under_its_own_name() {
    let vault = MemoryVault::default();
    vault.put(
        "PoshIBWAPI-Lab",
        r#"{"WAPIHost":"h","WAPIVersion":"2.1","Credential":{"Username":"u","Password":"p"}}"#,
    );
    let (mut backend, mut profiles) = load(&vault);

    let mut change = edit("LAB");
    change.wapi_host = Some("h2".to_owned());
    profiles.apply_edit(change).unwrap();
    backend.save(&profiles).unwrap();

    assert_eq!(vault.take_changes(), writes(&["PoshIBWAPI-Lab"]));
    assert_eq!(profiles.find("lab").unwrap().name, "Lab");
}

#[test]
fn remove_all_removes_profile_secrets_only() {
    let vault = MemoryVault::with_fixture();
    vault.put("poshibwapi-broken", "{not json");
    let (mut backend, mut profiles) = load(&vault);
    assert_eq!(profiles.len(), 3);

    profiles.clear();
    backend.save(&profiles).unwrap();

    assert_eq!(vault.names(), ["unrelated-secret"]);
}

#[test]
fn an_unreadable_secret_is_skipped_and_kept() {
    let vault = MemoryVault::with_fixture();
    vault.fail(Op::Read, "poshibwapi-lab", 0);

    let (mut backend, mut profiles) = load(&vault);
    assert!(profiles.find("lab").is_none());
    assert_eq!(profiles.len(), 2);

    profiles.clear();
    backend.save(&profiles).unwrap();
    assert_eq!(vault.names(), ["poshibwapi-lab", "unrelated-secret"]);
}

#[test]
fn a_failed_write_is_rolled_back() {
    let vault = MemoryVault::with_fixture();
    let (mut backend, mut profiles) = load(&vault);
    let before: Vec<_> = vault.names().iter().map(|n| vault.get(n)).collect();
    vault.fail(Op::Write, "poshibwapi-lab", 0);

    let stored = profiles.clone();
    profiles.apply_edit(edit("lab")).unwrap();
    let error = backend.save(&profiles).unwrap_err();

    let Error::VaultWriteFailed {
        message,
        out_of_step,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert!(out_of_step.is_empty());
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(message.contains("profile 'lab' was not saved"), "{message}");
    assert_eq!(
        vault.take_changes(),
        writes(&["poshibwapi-prod", "poshibwapi-lab", "poshibwapi-prod"]),
        "prod written, lab failed, prod restored"
    );
    let after: Vec<_> = vault.names().iter().map(|n| vault.get(n)).collect();
    assert_eq!(after, before);

    backend.save(&stored).unwrap();
    assert_eq!(
        vault.take_changes(),
        [],
        "the backend still knows the vault"
    );
}

#[test]
fn a_failed_undo_names_the_profiles_out_of_step() {
    let vault = MemoryVault::with_fixture();
    let (mut backend, mut profiles) = load(&vault);
    let stored = profiles.clone();
    vault.fail(Op::Write, "poshibwapi-new", 0);
    vault.fail(Op::Write, "poshibwapi-prod", 1);

    profiles.apply_edit(new_profile("new")).unwrap();
    let error = backend.save(&profiles).unwrap_err();

    let Error::VaultWriteFailed {
        message,
        out_of_step,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(out_of_step, &["prod"]);
    assert!(message.contains("'prod' (the secret 'poshibwapi-prod' holds the new values"));
    assert!(message.contains("import the module again"), "{message}");
    assert!(vault
        .get("poshibwapi-prod")
        .unwrap()
        .ends_with("\"Current\":false}"));

    // The module kept the old state; the next save puts prod back.
    backend.save(&stored).unwrap();
    assert_eq!(
        vault.take_changes().last(),
        Some(&(Op::Write, "poshibwapi-prod".to_owned()))
    );
    assert!(vault
        .get("poshibwapi-prod")
        .unwrap()
        .ends_with("\"Current\":true}"));
}

#[test]
fn a_failed_removal_rewrites_what_was_done() {
    let vault = MemoryVault::with_fixture();
    let (mut backend, mut profiles) = load(&vault);
    vault.fail(Op::Remove, "poshibwapi-old", 0);

    let mut rename = edit("old");
    rename.new_name = Some("older".to_owned());
    rename.no_switch_profile = true;
    profiles.apply_edit(rename).unwrap();
    let error = backend.save(&profiles).unwrap_err();

    assert!(matches!(error, Error::VaultWriteFailed { .. }), "{error:?}");
    assert_eq!(
        vault.take_changes(),
        [
            (Op::Write, "poshibwapi-older".to_owned()),
            (Op::Remove, "poshibwapi-old".to_owned()),
            (Op::Remove, "poshibwapi-older".to_owned()),
        ]
    );
    assert!(vault.get("poshibwapi-older").is_none());
}

#[test]
fn a_refused_name_stops_the_save_before_any_write() {
    let vault = MemoryVault::with_fixture();
    vault.shared().refuse_underscores = true;
    let (mut backend, mut profiles) = load(&vault);

    profiles.apply_edit(new_profile("my_lab")).unwrap();
    let error = backend.save(&profiles).unwrap_err();

    let Error::VaultNameRefused { name, rule, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(
        (name.as_str(), rule.as_str()),
        ("poshibwapi-my_lab", "no underscores")
    );
    assert_eq!(vault.take_changes(), []);
}

#[test]
fn several_current_profiles_keep_the_first_and_fix_the_others_on_save() {
    let vault = MemoryVault::with_fixture();
    let lab = vault.get("poshibwapi-lab").unwrap();
    vault.put(
        "poshibwapi-lab2",
        &lab.replace("\"Current\":false", "\"Current\":true"),
    );
    let (mut backend, mut profiles) = load(&vault);

    assert_eq!(profiles.current_name(), Some("prod"));
    profiles.remove(Some("old"), &DefaultCollation).unwrap();
    backend.save(&profiles).unwrap();

    assert_eq!(
        vault.take_changes(),
        [
            (Op::Write, "poshibwapi-lab2".to_owned()),
            (Op::Remove, "poshibwapi-old".to_owned()),
        ]
    );
}

#[test]
fn a_new_profile_replaces_a_secret_that_did_not_parse() {
    let vault = MemoryVault::with_fixture();
    vault.put("PoshIbwapi-Broken", "{not json");
    let (mut backend, mut profiles) = load(&vault);
    let stored = profiles.clone();
    vault.fail(Op::Remove, "poshibwapi-old", 0);

    let mut broken = new_profile("broken");
    broken.no_switch_profile = true;
    profiles.apply_edit(broken).unwrap();
    profiles.remove(Some("old"), &DefaultCollation).unwrap();
    backend.save(&profiles).unwrap_err();

    assert_eq!(
        vault.take_changes(),
        [
            (Op::Write, "PoshIbwapi-Broken".to_owned()),
            (Op::Remove, "poshibwapi-old".to_owned()),
            (Op::Write, "PoshIbwapi-Broken".to_owned()),
        ],
        "written under its listed name, then restored"
    );
    assert_eq!(vault.get("poshibwapi-broken").as_deref(), Some("{not json"));
    backend.save(&stored).unwrap();
    assert_eq!(vault.take_changes(), []);
}
