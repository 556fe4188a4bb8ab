//! Staying in step with other processes (issue 4): `Store::refresh` sees
//! what another handle saved and reads nothing when nothing changed; a
//! change applies only itself to what the store holds now; the file is
//! made private again. Two handles in one process stand in for two
//! processes (they take the same locks and read the same files); the
//! cross-process tests are in `tests/concurrency.rs`.

mod common;

use std::fs;

use common::host::MemoryHost;
use common::{at_level, capture_logs, edit, names, new_profile, open_with, ConfigDir};
use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::profiles::ProfileEdit;
use ibwapi_config::settings::Settings;
use ibwapi_config::vault::host::HostOp;
use ibwapi_config::{Store, StoreKind};
use log::Level;
use pretty_assertions::assert_eq;

const VAULT_PASS: &str = "sync vault pass";

fn open_host(settings: &Settings, host: &MemoryHost) -> Store {
    let store =
        Store::open_with_host(settings, Box::new(DefaultCollation), Some(host.boxed())).unwrap();
    assert_eq!(store.kind(), StoreKind::Vault);
    store
}

fn current(store: &Store) -> Option<String> {
    store.profiles().current_name().map(str::to_owned)
}

/// Runs `refresh` and returns whether it reloaded, and its log records.
fn refresh_logged(store: &mut Store) -> (bool, Vec<(Level, String)>) {
    capture_logs(|| store.refresh())
}

#[test]
fn refresh_sees_another_handles_save_once() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut mine = config.open();
    let mut other = config.open();

    other.set(new_profile("added")).unwrap();
    let (reloaded, records) = refresh_logged(&mut mine);

    assert!(reloaded);
    assert_eq!(names(&mut mine), ["added", "lab", "prod"]);
    assert_eq!(current(&mine).as_deref(), Some("added"));
    let info = at_level(&records, Level::Info);
    assert!(
        info.iter().any(|r| r.starts_with("loaded 3 profile(s)")),
        "{info:?}"
    );

    let (again, records) = refresh_logged(&mut mine);
    assert!(!again, "nothing changed since the reload");
    assert!(records.is_empty(), "no read, no record: {records:?}");
}

#[test]
fn refresh_reads_nothing_when_nothing_changed() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut store = config.open();
    store.set(new_profile("mine")).unwrap();

    let (reloaded, records) = refresh_logged(&mut store);

    assert!(!reloaded, "this handle's own save is no change");
    assert!(records.is_empty(), "{records:?}");
}

#[test]
fn refresh_follows_a_deleted_and_a_re_created_file() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut store = config.open();

    fs::remove_file(&config.path).unwrap();
    assert!(store.refresh());
    assert!(store.profiles().is_empty());
    assert!(!store.refresh());

    fs::copy(common::fixture("posh-ibwapi.older.json"), &config.path).unwrap();
    assert!(store.refresh());
    assert_eq!(names(&mut store), ["legacy", "nocred"]);
}

#[test]
fn a_reload_warns_about_a_damaged_file_as_an_import_does() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut store = config.open();
    fs::copy(common::fixture("posh-ibwapi.truncated.json"), &config.path).unwrap();

    let (reloaded, records) = refresh_logged(&mut store);

    assert!(reloaded);
    assert!(store.profiles().is_empty());
    let warnings = at_level(&records, Level::Warn);
    assert_eq!(warnings.len(), 1, "{records:?}");
    assert!(warnings[0].starts_with("could not parse config file"));
}

#[test]
fn sync_off_makes_refresh_a_no_op_but_saves_still_merge() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    for (index, off) in ["off", "OFF", " Off "].into_iter().enumerate() {
        let mut mine = open_with(&config.settings_with(&[("IBWAPI_CONFIG_SYNC", off)]));
        let mut other = config.open();
        let name = format!("other-{index}");
        other.set(new_profile(&name)).unwrap();

        assert!(!mine.refresh(), "IBWAPI_CONFIG_SYNC={off:?}");
        assert!(mine.get(Some(&name)).unwrap().is_none());

        mine.set(new_profile(&format!("mine-{}", off.trim())))
            .unwrap();
        assert!(mine.get(Some(&name)).unwrap().is_some(), "the save re-read");
        assert!(config.open().get(Some(&name)).unwrap().is_some());
    }

    let mut on = open_with(&config.settings_with(&[("IBWAPI_CONFIG_SYNC", "on")]));
    config.open().set(new_profile("seen")).unwrap();
    assert!(on.refresh());
}

#[test]
fn two_handles_adding_profiles_keep_each_others() {
    let config = ConfigDir::empty();
    let mut first = config.open();
    let mut second = config.open();

    first.set(new_profile("a")).unwrap();
    second.set(new_profile("b")).unwrap();
    first.set(new_profile("c")).unwrap();

    assert_eq!(names(&mut first), ["a", "b", "c"]);
    assert_eq!(names(&mut config.open()), ["a", "b", "c"]);
    assert_eq!(current(&config.open()).as_deref(), Some("c"));
}

#[test]
fn a_change_applies_only_itself_to_what_the_file_holds_now() {
    let config = ConfigDir::empty();
    let mut first = config.open();
    for name in ["a", "b", "c"] {
        first.set(new_profile(name)).unwrap();
    }
    let mut second = config.open();

    second.remove(Some("a")).unwrap();
    second
        .set(ProfileEdit {
            new_name: Some("b2".into()),
            ..edit("b")
        })
        .unwrap();
    first.set(new_profile("d")).unwrap();

    assert_eq!(names(&mut config.open()), ["b2", "c", "d"]);
    assert_eq!(current(&first).as_deref(), Some("d"));

    second.set(edit("c")).unwrap();
    first.remove(Some("d")).unwrap();
    assert_eq!(
        current(&config.open()).as_deref(),
        Some("c"),
        "removing a profile that is no longer current leaves the current one"
    );
}

#[test]
fn an_edit_of_a_profile_another_handle_removed_needs_all_fields() {
    let config = ConfigDir::empty();
    let mut first = config.open();
    first.set(new_profile("gone")).unwrap();
    let mut second = config.open();
    second.remove(Some("gone")).unwrap();

    let error = first
        .set(ProfileEdit {
            wapi_version: Some("2.13".into()),
            ..edit("gone")
        })
        .unwrap_err();

    assert!(error.to_string().contains("A new profile needs"), "{error}");
    assert!(first.profiles().is_empty(), "the re-read state stays");
    assert!(!config.path.exists());
}

#[cfg(unix)]
#[test]
fn a_file_open_to_others_is_made_private_with_an_info_record() {
    use std::os::unix::fs::PermissionsExt;

    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    fs::set_permissions(&config.path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut store = config.open();

    let (result, records) = capture_logs(|| store.set(new_profile("x")));

    result.unwrap();
    let mode = fs::metadata(&config.path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let info = at_level(&records, Level::Info);
    let expected = format!("the config file {} had mode 0644", config.path.display());
    assert!(
        info.iter()
            .any(|r| r.starts_with(&expected) && r.contains("now has mode 0600")),
        "{info:?}"
    );

    let (_, records) = capture_logs(|| store.set(new_profile("y")));
    assert!(at_level(&records, Level::Info)
        .iter()
        .all(|r| !r.contains("had mode")));
    let lock = fs::metadata(config.dir.path().join("posh-ibwapi.json.lock")).unwrap();
    assert_eq!(lock.permissions().mode() & 0o777, 0o600);
}

fn vault_file_settings(config: &ConfigDir, extra: &[(&str, &str)]) -> Settings {
    let mut pairs = vec![
        ("IBWAPI_VAULT_NAME", "[file]"),
        ("IBWAPI_VAULT_PASS", VAULT_PASS),
    ];
    pairs.extend_from_slice(extra);
    config.settings_with(&pairs)
}

#[test]
fn the_vault_file_follows_another_handle_and_merges_saves() {
    let config = ConfigDir::empty();
    let settings = vault_file_settings(&config, &[]);
    let mut mine = open_with(&settings);
    let mut other = open_with(&settings);
    assert_eq!(mine.kind(), StoreKind::Vault);

    mine.set(new_profile("a")).unwrap();
    other.set(new_profile("b")).unwrap();
    assert!(mine.refresh());
    assert!(!mine.refresh());
    assert_eq!(names(&mut mine), ["a", "b"]);

    other.remove(Some("a")).unwrap();
    mine.set(new_profile("c")).unwrap();
    assert_eq!(names(&mut mine), ["b", "c"]);
    let mut reopened = open_with(&settings);
    assert_eq!(names(&mut reopened), ["b", "c"]);
    assert_eq!(current(&reopened).as_deref(), Some("c"));
}

#[test]
fn the_vault_file_with_sync_off_refreshes_nothing() {
    let config = ConfigDir::empty();
    let mut mine = open_with(&vault_file_settings(
        &config,
        &[("IBWAPI_CONFIG_SYNC", "off")],
    ));
    let mut other = open_with(&vault_file_settings(&config, &[]));

    other.set(new_profile("b")).unwrap();

    assert!(!mine.refresh());
    assert!(mine.profiles().is_empty());
}

#[cfg(unix)]
#[test]
fn a_vault_file_open_to_others_is_made_private_with_an_info_record() {
    use std::os::unix::fs::PermissionsExt;

    let config = ConfigDir::empty();
    let settings = vault_file_settings(&config, &[]);
    let path = config.dir.path().join("posh-ibwapi.vault");
    open_with(&settings).set(new_profile("a")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o664)).unwrap();
    let mut store = open_with(&settings);

    let (result, records) = capture_logs(|| store.set(new_profile("b")));

    result.unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let expected = format!("the vault file {} had mode 0664", path.display());
    let info = at_level(&records, Level::Info);
    assert!(info.iter().any(|r| r.starts_with(&expected)), "{info:?}");
}

#[test]
fn a_host_vault_refresh_is_one_listing_when_nothing_changed() {
    let config = ConfigDir::empty();
    let host = MemoryHost::default();
    let settings = config.settings_with(&[("IBWAPI_VAULT_NAME", "MyVault")]);
    let mut store = open_host(&settings, &host);
    store.set(new_profile("a")).unwrap();
    host.take_ops();

    assert!(!store.refresh());
    assert_eq!(host.take_ops(), [HostOp::List]);

    let mut other = open_host(&settings, &host);
    other.set(new_profile("b")).unwrap();
    host.take_ops();
    assert!(store.refresh());
    assert_eq!(names(&mut store), ["a", "b"]);
    assert_eq!(current(&store).as_deref(), Some("b"));
    let ops = host.take_ops();
    assert_eq!(ops[0], HostOp::List);
    assert_eq!(
        ops.iter().filter(|op| **op == HostOp::Read).count(),
        2,
        "{ops:?}"
    );
}

#[test]
fn a_host_vault_sees_a_value_edit_only_when_the_names_change() {
    let config = ConfigDir::empty();
    let host = MemoryHost::default();
    let settings = config.settings_with(&[("IBWAPI_VAULT_NAME", "MyVault")]);
    let mut store = open_host(&settings, &host);
    store.set(new_profile("a")).unwrap();
    let edited = host
        .get("poshibwapi-a")
        .unwrap()
        .replace("a.example.test", "edited.test");
    host.put("poshibwapi-a", &edited);

    assert!(
        !store.refresh(),
        "documented: a value edit alone is not seen"
    );
    let host_name = |store: &Store| store.get(Some("a")).unwrap().unwrap().wapi_host.clone();
    assert_eq!(host_name(&store).as_deref(), Some("a.example.test"));

    host.put("poshibwapi-z", &edited);
    assert!(store.refresh());
    assert_eq!(host_name(&store).as_deref(), Some("edited.test"));
}

#[test]
fn a_host_vault_save_acts_on_the_current_listing() {
    let config = ConfigDir::empty();
    let host = MemoryHost::default();
    let settings = config.settings_with(&[("IBWAPI_VAULT_NAME", "MyVault")]);
    let mut mine = open_host(&settings, &host);
    let mut other = open_host(&settings, &host);

    mine.set(new_profile("a")).unwrap();
    other.set(new_profile("b")).unwrap();
    mine.remove(None).unwrap();

    assert_eq!(host.snapshot().len(), 1);
    assert_eq!(names(&mut mine), ["a"], "b was current; a is left");
    let mut reopened = open_host(&settings, &host);
    assert_eq!(current(&reopened).as_deref(), Some("a"));
    assert_eq!(names(&mut reopened), ["a"]);
}

#[test]
fn a_failing_host_listing_warns_and_keeps_the_profiles() {
    let config = ConfigDir::empty();
    let host = MemoryHost::default();
    let settings = config.settings_with(&[("IBWAPI_VAULT_NAME", "MyVault")]);
    let mut store = open_host(&settings, &host);
    store.set(new_profile("a")).unwrap();
    host.fail(HostOp::List, "poshibwapi-*", 0);

    let (reloaded, records) = refresh_logged(&mut store);

    assert!(!reloaded);
    assert_eq!(names(&mut store), ["a"]);
    let warnings = at_level(&records, Level::Warn);
    assert!(
        warnings[0].starts_with("could not check whether the SecretManagement vault 'MyVault'"),
        "{warnings:?}"
    );
}

#[test]
fn the_environment_profile_never_reloads() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let pairs = [
        ("IBWAPI_HOST", "gm.example.test"),
        ("IBWAPI_VERSION", "2.12"),
        ("IBWAPI_USERNAME", "admin"),
        ("IBWAPI_PASSWORD", "pw"),
    ];
    let mut store = open_with(&config.settings_with(&pairs));
    fs::remove_file(&config.path).unwrap();

    assert!(!store.refresh());
    assert_eq!(names(&mut store), ["ENV"]);
}

#[test]
fn a_file_half_written_by_another_program_is_not_saved_over() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let mut store = config.open();
    // What a 4.x process writing in place could leave for a moment.
    let text = config.text();
    let half = &text[..text.len() / 2];
    fs::write(&config.path, half).unwrap();

    let error = store.set(new_profile("x")).unwrap_err();

    let message = error.to_string();
    assert!(
        message.contains("changed since it was read and now does not parse"),
        "{message}"
    );
    assert!(message.contains("nothing was saved"), "{message}");
    assert_eq!(config.text(), half, "the file is left to its writer");
    assert_eq!(
        names(&mut store),
        ["lab", "prod"],
        "the session keeps what it had"
    );
}
