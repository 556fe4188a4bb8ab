//! Vault storage through `Store`: a SecretManagement vault reached through
//! an in-memory host (as the module provides one), and the encrypted vault
//! file `[file]`. Every fallback to the config file, and what it logs.

mod common;

use std::fs;
use std::sync::{Arc, Mutex, MutexGuard};

use common::{capture_logs, edit, new_profile, ConfigDir};
use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::settings::Settings;
use ibwapi_config::vault::host::{HostCalls, HostFailureKind, HostOp, HostReply};
use ibwapi_config::{Error, Store, StoreKind};
use log::Level;
use pretty_assertions::assert_eq;
use serde_json_lenient::Value;

const FIXTURE: &str = include_str!("fixtures/vault.4x-default-template.json");
const VAULT_PASS: &str = "vault pass ✓";

/// Makes `op` on `name` fail once, after `after` calls that succeed.
struct Fault {
    op: HostOp,
    name: String,
    after: usize,
    kind: HostFailureKind,
    message: String,
}

/// What the in-memory host holds and how it behaves.
#[derive(Default)]
struct HostState {
    missing: bool,
    unlock_error: Option<String>,
    test_error: Option<String>,
    /// Answers to `describe`.
    facts: Vec<String>,
    /// Name and value; names compare ignoring ASCII case.
    secrets: Vec<(String, String)>,
    /// Each operation, its vault and first argument.
    calls: Vec<(HostOp, String, Option<String>)>,
    /// Operations on a secret that fail once, after some that succeed.
    faults: Vec<Fault>,
}

impl HostState {
    fn position(&self, name: &str) -> Option<usize> {
        self.secrets
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn take_fault(&mut self, op: HostOp, name: &str) -> Option<HostReply> {
        let at = self
            .faults
            .iter()
            .position(|f| f.op == op && f.name == name)?;
        if self.faults[at].after > 0 {
            self.faults[at].after -= 1;
            return None;
        }

        let fault = self.faults.remove(at);
        Some(HostReply::failed(fault.kind, fault.message))
    }
}

/// A SecretManagement stand-in over a list of secrets, shared with the test.
#[derive(Clone, Default)]
struct MemoryHost(Arc<Mutex<HostState>>);

impl MemoryHost {
    fn with_fixture() -> MemoryHost {
        let host = MemoryHost::default();
        let Value::Object(secrets) = serde_json_lenient::from_str(FIXTURE).unwrap() else {
            panic!("the fixture is an object");
        };
        for (name, value) in secrets {
            host.put(&name, value.as_str().unwrap());
        }
        host
    }

    fn state(&self) -> MutexGuard<'_, HostState> {
        self.0.lock().unwrap()
    }

    fn put(&self, name: &str, value: &str) {
        self.state()
            .secrets
            .push((name.to_owned(), value.to_owned()));
    }

    fn get(&self, name: &str) -> Option<String> {
        let state = self.state();
        state.position(name).map(|at| state.secrets[at].1.clone())
    }

    fn names(&self) -> Vec<String> {
        self.state()
            .secrets
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The writes and removals so far, forgetting every call.
    fn take_changes(&self) -> Vec<(HostOp, String)> {
        let calls = std::mem::take(&mut self.state().calls);
        calls
            .into_iter()
            .filter(|(op, _, _)| matches!(op, HostOp::Write | HostOp::Remove))
            .map(|(op, _, name)| (op, name.unwrap()))
            .collect()
    }

    fn ops(&self) -> Vec<HostOp> {
        self.state().calls.iter().map(|(op, _, _)| *op).collect()
    }

    fn fail_next(&self, op: HostOp, name: &str, kind: HostFailureKind, message: &str) {
        self.fail_after(op, name, 0, kind, message);
    }

    fn fail_after(&self, op: HostOp, name: &str, after: usize, kind: HostFailureKind, msg: &str) {
        self.state().faults.push(Fault {
            op,
            name: name.to_owned(),
            after,
            kind,
            message: msg.to_owned(),
        });
    }
}

impl HostCalls for MemoryHost {
    fn call(
        &mut self,
        op: HostOp,
        vault: &str,
        arg1: Option<&str>,
        arg2: Option<&str>,
    ) -> HostReply {
        let mut state = self.state();
        let logged_arg = if op == HostOp::Unlock {
            arg1.map(|_| "<password>".to_owned())
        } else {
            arg1.map(str::to_owned)
        };
        state.calls.push((op, vault.to_owned(), logged_arg));

        let name = arg1.unwrap_or_default();
        if let Some(fault) = state.take_fault(op, name) {
            return fault;
        }

        match op {
            HostOp::Available if state.missing => HostReply::failed(
                HostFailureKind::NotInstalled,
                "The term 'Get-Secret' is not recognized",
            ),
            HostOp::Unlock if arg1 != Some(VAULT_PASS) => {
                HostReply::failed(HostFailureKind::Failed, "wrong password")
            }
            HostOp::Unlock => match &state.unlock_error {
                Some(message) => HostReply::failed(HostFailureKind::Failed, message.clone()),
                None => HostReply::default(),
            },
            HostOp::Test => match &state.test_error {
                Some(message) => HostReply::failed(HostFailureKind::Failed, message.clone()),
                None => HostReply::default(),
            },
            HostOp::Describe => HostReply::ok(state.facts.clone()),
            HostOp::List => {
                let names = state
                    .secrets
                    .iter()
                    .filter(|(n, _)| wildcard_match(name, n))
                    .map(|(n, _)| n.clone());
                HostReply::ok(names.collect::<Vec<_>>())
            }
            HostOp::Read => match state.position(name) {
                Some(at) => HostReply::ok([state.secrets[at].1.clone()]),
                None => HostReply::failed(HostFailureKind::NotFound, "not found"),
            },
            HostOp::Write => {
                let entry = (name.to_owned(), arg2.unwrap().to_owned());
                match state.position(name) {
                    Some(at) => state.secrets[at] = entry,
                    None => state.secrets.push(entry),
                }
                HostReply::default()
            }
            HostOp::Remove => match state.position(name) {
                Some(at) => {
                    state.secrets.remove(at);
                    HostReply::default()
                }
                None => HostReply::failed(HostFailureKind::Failed, "secret not found"),
            },
            HostOp::Available => HostReply::default(),
        }
    }
}

/// PowerShell's WildcardPattern, ignoring case: `*`, `?`, and a backtick
/// escaping the next character. Brackets must be escaped here.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '`' => Some(chars.next().expect("a backtick escapes a character")),
            '*' => None,
            '[' | ']' => panic!("unescaped bracket in {pattern}"),
            '?' => Some('\u{0}'),
            c => Some(c),
        });
    }
    let name: Vec<char> = name.chars().collect();
    matches(&tokens, &name)
}

fn matches(tokens: &[Option<char>], name: &[char]) -> bool {
    match tokens.split_first() {
        None => name.is_empty(),
        Some((None, rest)) => (0..=name.len()).any(|skip| matches(rest, &name[skip..])),
        Some((Some(c), rest)) => name.split_first().is_some_and(|(n, tail)| {
            (*c == '\u{0}' || c.eq_ignore_ascii_case(n)) && matches(rest, tail)
        }),
    }
}

fn settings(config: &ConfigDir, pairs: &[(&str, &str)]) -> Settings {
    let path = config.path.to_str().unwrap();
    Settings::from_pairs(
        [("config_path", Some(path))]
            .into_iter()
            .chain(pairs.iter().map(|(n, v)| (*n, Some(*v)))),
    )
}

/// Opens with `host` (when given) and returns the store, its ERROR and
/// every record.
fn open(
    settings: &Settings,
    host: Option<&MemoryHost>,
) -> (Store, Vec<String>, Vec<(Level, String)>) {
    let host = host.map(|h| Box::new(h.clone()) as Box<dyn HostCalls>);
    let (store, records) = capture_logs(|| {
        Store::open_with_host(settings, Box::new(DefaultCollation), host).unwrap()
    });
    let errors = common::at_level(&records, Level::Error);
    (store, errors, records)
}

fn open_vault(config: &ConfigDir, host: &MemoryHost) -> Store {
    let (store, errors, _) = open(
        &settings(config, &[("IBWAPI_VAULT_NAME", "MyVault")]),
        Some(host),
    );
    assert_eq!(store.kind(), StoreKind::Vault, "{errors:?}");
    host.take_changes();
    store
}

fn assert_no_secret_in(records: &[(Level, String)]) {
    for (_, record) in records {
        for secret in ["s3cr3t!", "lab pass", VAULT_PASS, "pass\"", "new-pass"] {
            assert!(!record.contains(secret), "{record}");
        }
    }
}

#[test]
fn the_4x_fixture_loads_from_a_secretmanagement_vault() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();

    let (mut store, errors, records) = open(
        &settings(&config, &[("IBWAPI_VAULT_NAME", "MyVault")]),
        Some(&host),
    );

    assert_eq!(store.kind(), StoreKind::Vault);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(common::names(&mut store), ["lab", "old", "prod"]);
    let prod = store.get(None).unwrap().unwrap();
    assert_eq!(prod.name, "prod");
    assert_eq!(
        prod.credential.as_ref().unwrap().password.expose(),
        "s3cr3t!"
    );
    let old = store.get(Some("OLD")).unwrap().unwrap();
    assert!(!old.skip_certificate_check && !old.no_session);

    let calls = host.state().calls.clone();
    assert_eq!(
        calls[3],
        (HostOp::List, "MyVault".into(), Some("poshibwapi-*".into()))
    );
    let info = common::at_level(&records, Level::Info);
    assert!(info
        .iter()
        .any(|r| r.contains("the SecretManagement vault 'MyVault'")
            && r.contains("IBWAPI_VAULT_NAME is 'MyVault'")
            && r.contains("template 'poshibwapi-{0}'")));
    assert!(info.iter().any(|r| r.starts_with("loaded 3 profile(s)")));
    assert!(!config.path.exists(), "the config file is never touched");
    assert_no_secret_in(&records);
}

#[test]
fn setup_runs_available_unlock_test_describe_in_order() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    let pairs = [
        ("IBWAPI_VAULT_NAME", "MyVault"),
        ("IBWAPI_VAULT_PASS", VAULT_PASS),
    ];

    let (store, _, records) = open(&settings(&config, &pairs), Some(&host));

    assert_eq!(store.kind(), StoreKind::Vault);
    assert_eq!(
        host.ops()[..5],
        [
            HostOp::Available,
            HostOp::Unlock,
            HostOp::Test,
            HostOp::Describe,
            HostOp::List
        ]
    );
    assert_no_secret_in(&records);
}

#[test]
fn changes_write_only_the_secrets_that_changed() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    let mut store = open_vault(&config, &host);
    let old_value = host.get("poshibwapi-old").unwrap();

    let ((), records) = capture_logs(|| {
        let mut change = edit("lab");
        change.wapi_version = Some("2.12".into());
        change.no_switch_profile = true;
        store.set(change).unwrap();
    });

    assert_eq!(
        host.take_changes(),
        [(HostOp::Write, "poshibwapi-lab".into())]
    );
    assert!(host
        .get("poshibwapi-lab")
        .unwrap()
        .contains("\"WAPIVersion\":\"2.12\""));
    assert_eq!(host.get("poshibwapi-old").unwrap(), old_value);
    let info = common::at_level(&records, Level::Info);
    assert!(info
        .iter()
        .any(|r| r.contains("wrote the secret 'poshibwapi-lab'")));
    assert_no_secret_in(&records);
}

#[test]
fn current_moves_and_rename_writes_new_then_removes_old() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    let mut store = open_vault(&config, &host);

    store.set(edit("lab")).unwrap();
    assert_eq!(
        host.take_changes(),
        [
            (HostOp::Write, "poshibwapi-prod".into()),
            (HostOp::Write, "poshibwapi-lab".into()),
        ]
    );

    let mut rename = edit("lab");
    rename.new_name = Some("lab2".into());
    store.set(rename).unwrap();
    assert_eq!(
        host.take_changes(),
        [
            (HostOp::Write, "poshibwapi-lab2".into()),
            (HostOp::Remove, "poshibwapi-lab".into()),
        ]
    );

    let reopened = open_vault(&config, &host);
    assert_eq!(reopened.get(None).unwrap().unwrap().name, "lab2");
}

#[test]
fn remove_and_remove_all_leave_other_secrets_alone() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    let mut store = open_vault(&config, &host);

    store.remove(None).unwrap();
    assert_eq!(
        host.take_changes(),
        [
            (HostOp::Write, "poshibwapi-lab".into()),
            (HostOp::Remove, "poshibwapi-prod".into()),
        ],
        "lab (first in sorted order) becomes current"
    );

    store.remove_all().unwrap();
    assert_eq!(host.names(), ["unrelated-secret"]);
    assert!(!config.path.exists());
}

#[test]
fn a_template_with_wildcard_characters_is_escaped_for_listing() {
    let config = ConfigDir::empty();
    let host = MemoryHost::default();
    let template = "ib[{0}]*?`";
    let pairs = [
        ("IBWAPI_VAULT_NAME", "MyVault"),
        ("IBWAPI_VAULT_SECRET_TEMPLATE", template),
    ];
    let (mut store, _, _) = open(&settings(&config, &pairs), Some(&host));
    store.set(new_profile("Lab.*")).unwrap();
    host.put("ib[x]y*?`", "not listed: the pattern is literal");

    let (mut store, errors, _) = open(&settings(&config, &pairs), Some(&host));

    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(common::names(&mut store), ["Lab.*"]);
    assert!(host.get("ib[Lab.*]*?`").is_some());
    let list = host
        .state()
        .calls
        .iter()
        .find(|(op, _, _)| *op == HostOp::List)
        .cloned();
    assert_eq!(list.unwrap().2.as_deref(), Some("ib`[*`]`*`?``"));
}

#[test]
fn azure_key_vault_names_are_checked_before_any_write() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    host.state().facts = vec!["module=Az.KeyVault".into(), "param:AZKVaultName=kv".into()];
    let mut store = open_vault(&config, &host);

    let error = store.set(new_profile("my_lab")).unwrap_err();

    assert!(matches!(error, Error::VaultNameRefused { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("'poshibwapi-my_lab'"), "{message}");
    assert!(
        message.contains("letter (A-Z, a-z), a digit or '-'"),
        "{message}"
    );
    assert_eq!(host.take_changes(), []);
    assert!(store.get(Some("my_lab")).unwrap().is_none());
    store.set(new_profile("my-lab")).unwrap();
}

#[test]
fn host_failures_map_to_read_only_name_blocked_and_locked() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    let mut store = open_vault(&config, &host);
    let failed = HostFailureKind::Failed;

    host.fail_next(
        HostOp::Write,
        "poshibwapi-new",
        failed,
        "The vault is read-only.",
    );
    let error = store.set(new_profile("new")).unwrap_err();
    assert!(matches!(error, Error::VaultReadOnly { .. }), "{error:?}");
    assert!(error
        .to_string()
        .contains("choose a writable vault or unset IBWAPI_VAULT_NAME"));

    host.fail_next(
        HostOp::Write,
        "poshibwapi-new",
        failed,
        "Secret poshibwapi-new is currently in a deleted but recoverable state",
    );
    let error = store.set(new_profile("new")).unwrap_err();
    assert!(matches!(error, Error::VaultNameBlocked { .. }), "{error:?}");
    assert!(error
        .to_string()
        .contains("purge or recover the deleted secret 'poshibwapi-new' in 'MyVault'"));

    let locked = HostFailureKind::Locked;
    host.fail_next(
        HostOp::Write,
        "poshibwapi-new",
        locked,
        "A valid password is required",
    );
    let error = store.set(new_profile("new")).unwrap_err();
    assert!(matches!(error, Error::VaultLocked { .. }), "{error:?}");
    assert!(error.to_string().contains("set IBWAPI_VAULT_PASS"));

    // Each failure undid the write of prod (no longer current) before it.
    assert!(host
        .get("poshibwapi-prod")
        .unwrap()
        .ends_with("\"Current\":true}"));
    assert!(host.get("poshibwapi-new").is_none());
    assert_eq!(store.get(None).unwrap().unwrap().name, "prod");
}

#[test]
fn a_failed_undo_names_the_profiles_out_of_step() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    let mut store = open_vault(&config, &host);
    let failed = HostFailureKind::Failed;
    host.fail_next(HostOp::Write, "poshibwapi-new", failed, "quota exceeded");
    // The first write of prod succeeds; its undo (the second write) fails.
    host.fail_after(HostOp::Write, "poshibwapi-prod", 1, failed, "x");

    let error = store.set(new_profile("new")).unwrap_err();

    let Error::VaultWriteFailed {
        message,
        out_of_step,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(out_of_step, &["prod"], "{message}");
    assert!(message.contains("quota exceeded"), "{message}");
    assert!(message.contains("import the module again"), "{message}");
}

fn fallback_error(pairs: &[(&str, &str)], host: Option<&MemoryHost>) -> (String, ConfigDir) {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");

    let (store, errors, records) = open(&settings(&config, pairs), host);

    assert_eq!(store.kind(), StoreKind::File, "{records:#?}");
    assert_eq!(store.profiles().len(), 2);
    assert_eq!(errors.len(), 1, "{records:#?}");
    let expected_tail = format!(
        "the profiles come from the config file {} instead",
        config.path.display()
    );
    assert!(errors[0].ends_with(&expected_tail), "{}", errors[0]);
    assert_no_secret_in(&records);
    (errors[0].clone(), config)
}

#[test]
fn unset_and_blank_vault_names_use_the_file_quietly() {
    for pairs in [vec![], vec![("IBWAPI_VAULT_NAME", " ")]] {
        let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
        let host = MemoryHost::with_fixture();

        let (store, errors, _) = open(&settings(&config, &pairs), Some(&host));

        assert_eq!(store.kind(), StoreKind::File);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(host.ops().is_empty(), "the host is not asked");
    }
}

#[test]
fn not_installed_falls_back_to_the_file() {
    let host = MemoryHost::with_fixture();
    host.state().missing = true;

    let (error, _) = fallback_error(&[("IBWAPI_VAULT_NAME", "MyVault")], Some(&host));

    assert!(
        error.starts_with("SecretManagement is not installed"),
        "{error}"
    );
    assert!(
        error.contains("The term 'Get-Secret' is not recognized"),
        "{error}"
    );
}

#[test]
fn no_host_is_the_same_as_not_installed() {
    let (error, _) = fallback_error(&[("IBWAPI_VAULT_NAME", "MyVault")], None);

    assert!(
        error.starts_with("SecretManagement is not installed"),
        "{error}"
    );
}

#[test]
fn unlock_and_test_failures_fall_back_to_the_file() {
    let host = MemoryHost::with_fixture();
    let pairs = [
        ("IBWAPI_VAULT_NAME", "MyVault"),
        ("IBWAPI_VAULT_PASS", "wrong"),
    ];
    let (error, _) = fallback_error(&pairs, Some(&host));
    assert!(
        error.contains(
            "could not unlock the vault 'MyVault' with IBWAPI_VAULT_PASS: wrong password"
        ),
        "{error}"
    );

    host.state().test_error = Some("Test-SecretVault returned False".into());
    let (error, _) = fallback_error(&[("IBWAPI_VAULT_NAME", "MyVault")], Some(&host));
    let expected = "the vault 'MyVault' failed its test (Test-SecretVault): Test-SecretVault \
                    returned False";
    assert!(error.contains(expected), "{error}");
}

#[test]
fn a_blank_vault_pass_does_not_unlock() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    let pairs = [
        ("IBWAPI_VAULT_NAME", "MyVault"),
        ("IBWAPI_VAULT_PASS", "  "),
    ];

    let (store, _, _) = open(&settings(&config, &pairs), Some(&host));

    assert_eq!(store.kind(), StoreKind::Vault);
    assert!(!host.ops().contains(&HostOp::Unlock));
}

#[test]
fn unknown_and_unbuilt_built_in_vaults_fall_back_to_the_file() {
    let (error, _) = fallback_error(&[("IBWAPI_VAULT_NAME", "[nosuch]")], None);
    assert!(
        error.contains("[file], [file]<path>, [keyring]secret-service"),
        "{error}"
    );

    let (error, _) = fallback_error(&[("IBWAPI_VAULT_NAME", "[keyring]macos-keychain")], None);
    assert!(
        error.contains("is not available: this build of the module"),
        "{error}"
    );
}

#[test]
fn unreadable_and_unparseable_secrets_are_skipped_with_an_error() {
    let config = ConfigDir::empty();
    let host = MemoryHost::with_fixture();
    host.put("poshibwapi-broken", "{\"WAPIHost\": [");
    host.put("poshibwapi-", "empty profile name");
    host.fail_next(
        HostOp::Read,
        "poshibwapi-lab",
        HostFailureKind::Failed,
        "access denied",
    );

    let (mut store, errors, records) = open(
        &settings(&config, &[("IBWAPI_VAULT_NAME", "MyVault")]),
        Some(&host),
    );

    assert_eq!(store.kind(), StoreKind::Vault);
    assert_eq!(common::names(&mut store), ["old", "prod"]);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors
        .iter()
        .any(|e| e.contains("'poshibwapi-lab'") && e.contains("access denied")));
    assert!(errors
        .iter()
        .any(|e| e.contains("'poshibwapi-broken'") && e.contains("not a profile")));
    assert!(errors
        .iter()
        .any(|e| e.contains("'poshibwapi-'") && e.contains("template 'poshibwapi-{0}'")));
    assert!(errors.iter().all(|e| !e.contains("unrelated-secret")));
    assert_no_secret_in(&records);
}

fn file_settings(config: &ConfigDir, vault: &str, pass: Option<&str>) -> Settings {
    let mut pairs = vec![("IBWAPI_VAULT_NAME", vault)];
    pairs.extend(pass.map(|p| ("IBWAPI_VAULT_PASS", p)));
    settings(config, &pairs)
}

#[test]
fn the_encrypted_vault_file_works_end_to_end() {
    let config = ConfigDir::empty();
    let path = config.dir.path().join("sub").join("profiles.vault");
    let name = format!("[file]{}", path.display());

    let (mut store, errors, _) = open(&file_settings(&config, &name, Some(VAULT_PASS)), None);
    assert_eq!(store.kind(), StoreKind::Vault, "{errors:?}");
    store.set(new_profile("lab")).unwrap();
    store.set(new_profile("prod")).unwrap();
    let mut rename = edit("lab");
    rename.new_name = Some("lab2".into());
    rename.no_switch_profile = true;
    store.set(rename).unwrap();
    drop(store);

    let bytes = fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"IBWVAULT"));
    assert!(
        !String::from_utf8_lossy(&bytes).contains("prod"),
        "names are encrypted too"
    );
    assert!(!config.path.exists(), "the config file is never written");

    let (mut store, errors, records) =
        open(&file_settings(&config, &name, Some(VAULT_PASS)), None);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(common::names(&mut store), ["lab2", "prod"]);
    assert_eq!(store.get(None).unwrap().unwrap().name, "prod");
    assert!(common::at_level(&records, Level::Info)
        .iter()
        .any(|r| r.contains(&format!("the encrypted vault file {}", path.display()))));

    store.remove_all().unwrap();
    let (store, _, _) = open(&file_settings(&config, &name, Some(VAULT_PASS)), None);
    assert!(store.profiles().is_empty());
}

#[test]
fn the_default_vault_file_sits_beside_the_config_file() {
    let config = ConfigDir::empty();

    let (mut store, _, _) = open(&file_settings(&config, "[file]", Some(VAULT_PASS)), None);
    store.set(new_profile("lab")).unwrap();

    assert!(config.dir.path().join("posh-ibwapi.vault").exists());
}

#[test]
fn a_wrong_or_missing_vault_file_password_falls_back_to_the_file() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let (mut store, _, _) = open(&file_settings(&config, "[file]", Some(VAULT_PASS)), None);
    store.set(new_profile("vaulted")).unwrap();

    let (error, _) = {
        let (store, errors, _) = open(&file_settings(&config, "[file]", Some("not it")), None);
        assert_eq!(store.kind(), StoreKind::File);
        assert_eq!(store.profiles().len(), 2, "the config file's profiles");
        (errors.join("\n"), ())
    };
    assert!(error.contains("wrong password for vault file"), "{error}");
    assert!(error.contains(&format!("config file {} instead", config.path.display())));

    for pass in [None, Some(" ")] {
        let (store, errors, _) = open(&file_settings(&config, "[file]", pass), None);
        assert_eq!(store.kind(), StoreKind::File);
        assert!(
            errors[0].contains("needs a password: set IBWAPI_VAULT_PASS"),
            "{errors:?}"
        );
    }
}
