//! Migration between the config file and the vault (issue 4): round trips
//! keep every field, dry runs change nothing, conflicts, moves, and
//! failures that leave both stores as they were.

mod common;

use std::fs;
use std::path::PathBuf;

use common::host::MemoryHost;
use common::{capture_logs, new_profile, open_with, ConfigDir};
use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::profile::Profile;
use ibwapi_config::settings::Settings;
use ibwapi_config::store::{Migrated, Migration};
use ibwapi_config::vault::host::HostOp;
use ibwapi_config::{Error, Store, StoreKind};
use pretty_assertions::assert_eq;

const VAULT_PASS: &str = "migration vault pass";

fn file_vault(config: &ConfigDir) -> Settings {
    config.settings_with(&[
        ("IBWAPI_VAULT_NAME", "[file]"),
        ("IBWAPI_VAULT_PASS", VAULT_PASS),
    ])
}

fn vault_path(config: &ConfigDir) -> PathBuf {
    config.dir.path().join("posh-ibwapi.vault")
}

fn open_host(config: &ConfigDir, host: &MemoryHost) -> Store {
    let settings = config.settings_with(&[("IBWAPI_VAULT_NAME", "MyVault")]);
    Store::open_with_host(&settings, Box::new(DefaultCollation), Some(host.boxed())).unwrap()
}

fn to(destination: StoreKind) -> Migration {
    Migration {
        destination,
        names: None,
        move_profiles: false,
        overwrite: false,
        dry_run: false,
    }
}

fn moving(destination: StoreKind) -> Migration {
    Migration {
        move_profiles: true,
        ..to(destination)
    }
}

fn named(destination: StoreKind, names: &[&str]) -> Migration {
    Migration {
        names: Some(names.iter().map(|n| n.to_string()).collect()),
        ..to(destination)
    }
}

/// Every field of every profile, and which is current.
fn snapshot(store: &mut Store) -> Vec<String> {
    let current = store.profiles().current_name().map(str::to_owned);
    let mut rows: Vec<String> = store.list().into_iter().map(describe).collect();
    rows.push(format!("current: {current:?}"));
    rows
}

fn describe(profile: &Profile) -> String {
    let credential = profile
        .credential
        .as_ref()
        .map(|c| (c.username.clone(), c.password.expose().to_owned()));
    format!(
        "{} host={:?} version={:?} credential={credential:?} skip={} nosession={}",
        profile.name,
        profile.wapi_host,
        profile.wapi_version,
        profile.skip_certificate_check,
        profile.no_session
    )
}

fn listed(migrated: &[Migrated]) -> Vec<(String, bool)> {
    migrated
        .iter()
        .map(|m| (m.profile.name.clone(), m.is_current))
        .collect()
}

fn bytes(path: &std::path::Path) -> Option<Vec<u8>> {
    fs::read(path).ok()
}

#[test]
fn file_to_vault_and_back_keeps_every_field_and_the_current_profile() {
    for fixture in ["posh-ibwapi.ps7-linux.json", "posh-ibwapi.older.json"] {
        let config = ConfigDir::with_fixture(fixture);
        let original = fs::read(&config.path).unwrap();
        let before = snapshot(&mut config.open());
        let mut store = open_with(&file_vault(&config));
        assert_eq!(store.kind(), StoreKind::Vault);

        let there = store.migrate(&moving(StoreKind::Vault)).unwrap();

        assert_eq!(
            snapshot(&mut store),
            before,
            "{fixture}: the session shows the vault"
        );
        assert!(
            !config.path.exists(),
            "{fixture}: all moved, so the file is deleted"
        );
        assert_eq!(
            snapshot(&mut open_with(&file_vault(&config))),
            before,
            "{fixture}"
        );
        let back = store.migrate(&moving(StoreKind::File)).unwrap();

        assert_eq!(listed(&there), listed(&back), "{fixture}");
        assert!(
            store.profiles().is_empty(),
            "{fixture}: the vault is empty again"
        );
        assert_eq!(snapshot(&mut config.open()), before, "{fixture}");
        if fixture.contains("ps7") {
            assert_eq!(
                listed(&back),
                [("lab".into(), true), ("prod".into(), false)]
            );
            assert_eq!(fs::read(&config.path).unwrap(), original, "byte for byte");
        }
    }
}

#[test]
fn a_dry_run_changes_nothing_in_either_store() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut session = open_with(&file_vault(&config));
    session.set(new_profile("vaulted")).unwrap();
    let (file_before, vault_before) = (bytes(&config.path), bytes(&vault_path(&config)));
    let session_before = snapshot(&mut session);

    for destination in [StoreKind::Vault, StoreKind::File] {
        let dry = Migration {
            dry_run: true,
            move_profiles: true,
            ..to(destination)
        };
        let would = session.migrate(&dry).unwrap();

        let expected = match destination {
            StoreKind::Vault => vec![("lab".into(), true), ("prod".into(), false)],
            _ => vec![("vaulted".into(), true)],
        };
        assert_eq!(listed(&would), expected);
        assert_eq!(bytes(&config.path), file_before);
        assert_eq!(bytes(&vault_path(&config)), vault_before);
        assert_eq!(snapshot(&mut session), session_before);
    }
}

#[test]
fn a_different_profile_of_the_same_name_is_a_conflict_unless_overwrite() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut session = open_with(&file_vault(&config));
    let mut lab = new_profile("LAB");
    lab.wapi_host = Some("other.example.test".into());
    session.set(lab).unwrap();
    let vault_before = bytes(&vault_path(&config));

    let error = session.migrate(&to(StoreKind::Vault)).unwrap_err();

    assert!(
        matches!(error, Error::MigrationConflict { ref profiles, .. } if profiles == &["lab"])
    );
    let message = error.to_string();
    assert!(
        message.contains("already holds a different profile named 'lab'"),
        "{message}"
    );
    assert!(message.contains("nothing was migrated"), "{message}");
    assert_eq!(bytes(&vault_path(&config)), vault_before);

    let overwrite = Migration {
        overwrite: true,
        ..to(StoreKind::Vault)
    };
    session.migrate(&overwrite).unwrap();
    let lab = session.get(Some("lab")).unwrap().unwrap();
    assert_eq!(lab.wapi_host.as_deref(), Some("gm-lab.example.test"));
    assert!(
        session.is_current("lab"),
        "the file's current profile followed"
    );
    assert_eq!(snapshot(&mut session), snapshot(&mut config.open()));
}

#[test]
fn an_identical_profile_of_the_same_name_is_no_conflict() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut session = open_with(&file_vault(&config));
    session
        .migrate(&named(StoreKind::Vault, &["prod"]))
        .unwrap();
    let vault_before = bytes(&vault_path(&config));

    let again = session
        .migrate(&named(StoreKind::Vault, &["PROD"]))
        .unwrap();

    assert_eq!(listed(&again), [("prod".into(), false)]);
    assert_eq!(
        bytes(&vault_path(&config)),
        vault_before,
        "nothing to write"
    );
}

#[test]
fn move_removes_from_the_source_and_its_current_profile_moves_on() {
    let config = ConfigDir::empty();
    let mut session = open_with(&file_vault(&config));
    for name in ["a", "c", "b"] {
        session.set(new_profile(name)).unwrap();
    }

    let moved = session
        .migrate(&Migration {
            move_profiles: true,
            ..named(StoreKind::File, &["B", "c"])
        })
        .unwrap();

    assert_eq!(listed(&moved), [("b".into(), true), ("c".into(), false)]);
    assert_eq!(common::names(&mut session), ["a"]);
    assert!(session.is_current("a"), "as Remove-IBConfig moves it");
    let mut file = config.open();
    assert_eq!(common::names(&mut file), ["b", "c"]);
    assert!(file.is_current("b"));

    session.set(new_profile("d")).unwrap();
    session.set(new_profile("e")).unwrap();
    session
        .migrate(&Migration {
            move_profiles: true,
            ..named(StoreKind::File, &["d"])
        })
        .unwrap();
    assert!(
        session.is_current("e"),
        "a current profile not migrated stays"
    );
    assert!(
        config.open().is_current("b"),
        "the source's current did not move"
    );
}

#[test]
fn a_copy_leaves_the_source_as_it_was() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let file_before = bytes(&config.path);
    let mut session = open_with(&file_vault(&config));

    session.migrate(&to(StoreKind::Vault)).unwrap();

    assert_eq!(bytes(&config.path), file_before);
    assert_eq!(common::names(&mut session), ["lab", "prod"]);
}

#[test]
fn refusals_come_before_any_change() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut session = open_with(&file_vault(&config));

    let missing = session.migrate(&named(StoreKind::Vault, &["lab", "nope"]));
    let blank = session.migrate(&named(StoreKind::Vault, &[" "]));
    let environment = to(StoreKind::Environment);

    let message = missing.unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "Profile \"nope\" was not found in the config file {}; nothing was migrated.",
            config.path.display()
        )
    );
    assert!(matches!(blank, Err(Error::InvalidArgument { .. })));
    assert!(matches!(
        session.migrate(&environment),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(!vault_path(&config).exists());
}

#[test]
fn the_environment_profile_and_a_missing_vault_are_refused() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let env = config.settings_with(&[
        ("IBWAPI_HOST", "gm.example.test"),
        ("IBWAPI_VERSION", "2.12"),
        ("IBWAPI_USERNAME", "admin"),
        ("IBWAPI_PASSWORD", "pw"),
        ("IBWAPI_VAULT_NAME", "[file]"),
    ]);

    let read_only = open_with(&env).migrate(&to(StoreKind::Vault)).unwrap_err();
    let no_vault = config.open().migrate(&to(StoreKind::Vault)).unwrap_err();

    assert!(matches!(read_only, Error::ReadOnlyStore), "{read_only:?}");
    assert!(matches!(no_vault, Error::NoVaultConfigured), "{no_vault:?}");
    assert!(no_vault.to_string().contains("set IBWAPI_VAULT_NAME"));
}

#[test]
fn a_vault_that_cannot_be_set_up_is_unavailable_with_the_reason() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let (store, _) =
        capture_logs(|| open_with(&config.settings_with(&[("IBWAPI_VAULT_NAME", "[file]")])));
    let mut store = store;
    assert_eq!(
        store.kind(),
        StoreKind::File,
        "no password: the file is used"
    );

    let error = store.migrate(&to(StoreKind::Vault)).unwrap_err();

    let Error::VaultUnavailable { vault, reason } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(vault, "[file]");
    assert!(
        reason.contains("needs a password: set IBWAPI_VAULT_PASS"),
        "{reason}"
    );
}

#[test]
fn a_vault_that_failed_at_import_is_set_up_again_for_the_migration() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let host = MemoryHost::default();
    host.fail(HostOp::Test, "", 0);
    let (store, _) = capture_logs(|| open_host(&config, &host));
    let mut store = store;
    assert_eq!(store.kind(), StoreKind::File);
    host.take_ops();

    let moved = store.migrate(&moving(StoreKind::Vault)).unwrap();

    assert_eq!(
        listed(&moved),
        [("lab".into(), true), ("prod".into(), false)]
    );
    let ops = host.take_ops();
    assert_eq!(
        ops[..4],
        [
            HostOp::Available,
            HostOp::Test,
            HostOp::Describe,
            HostOp::List
        ]
    );
    assert_eq!(store.kind(), StoreKind::File, "the session keeps its store");
    assert!(
        store.profiles().is_empty(),
        "the session shows the moved-out file"
    );
    assert!(!config.path.exists());
    assert!(host
        .get("poshibwapi-lab")
        .unwrap()
        .ends_with("\"Current\":true}"));
}

#[test]
fn a_failing_destination_write_leaves_both_stores_unchanged() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let host = MemoryHost::default();
    let mut session = open_host(&config, &host);
    session.set(new_profile("kept")).unwrap();
    let (file_before, vault_before) = (bytes(&config.path), host.snapshot());
    let session_before = snapshot(&mut session);
    // lab is written first, then prod fails; lab's write must be undone.
    host.fail(HostOp::Write, "poshibwapi-prod", 0);

    let error = session.migrate(&moving(StoreKind::Vault)).unwrap_err();

    let message = error.to_string();
    assert!(
        message
            .starts_with("could not write the profiles to the SecretManagement vault 'MyVault'"),
        "{message}"
    );
    assert!(message.contains("nothing was migrated"), "{message}");
    assert!(matches!(error, Error::MigrationFailed { .. }));
    assert_eq!(host.snapshot(), vault_before);
    assert_eq!(bytes(&config.path), file_before);
    assert_eq!(snapshot(&mut session), session_before);
}

#[test]
fn a_failing_source_removal_undoes_the_copy() {
    let config = ConfigDir::with_fixture("posh-ibwapi.older.json");
    let file_before = snapshot(&mut config.open());
    let host = MemoryHost::default();
    let mut session = open_host(&config, &host);
    for name in ["lab", "prod"] {
        session.set(new_profile(name)).unwrap();
    }
    let (vault_before, session_before) = (host.snapshot(), snapshot(&mut session));
    host.fail(HostOp::Remove, "poshibwapi-prod", 0);

    let error = session.migrate(&moving(StoreKind::File)).unwrap_err();

    let message = error.to_string();
    assert!(
        message.starts_with(
            "could not remove the migrated profiles from the SecretManagement vault 'MyVault'"
        ),
        "{message}"
    );
    assert!(
        message.contains("were undone, so nothing was migrated"),
        "{message}"
    );
    // The undo saves the file's old profiles again, in this module's
    // layout (this older file lacked NoSession, so the bytes differ).
    assert_eq!(snapshot(&mut config.open()), file_before);
    assert_eq!(host.snapshot(), vault_before);
    assert_eq!(snapshot(&mut session), session_before);
}

#[cfg(not(windows))]
#[test]
fn a_credential_this_platform_cannot_read_cannot_go_to_a_vault() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps51-windows.json");
    let (store, _) = capture_logs(|| open_with(&file_vault(&config)));
    let mut session = store;

    let error = session
        .migrate(&named(StoreKind::Vault, &["lab"]))
        .unwrap_err();

    assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
    assert!(error.to_string().contains("Windows DPAPI"), "{error}");
    assert!(!vault_path(&config).exists());
}
