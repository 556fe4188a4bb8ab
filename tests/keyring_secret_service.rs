//! The Secret Service vault against a real Secret Service.
//!
//! Run inside a private session bus with an unlocked gnome-keyring:
//!
//! ```text
//! tests/support/secret-service-session.sh cargo test --test keyring_secret_service
//! ```
//!
//! When no Secret Service is reachable every test fails and says so, unless
//! `IBWAPI_SKIP_SECRET_SERVICE_TESTS=1` is set: then they are skipped, with a
//! note on standard error. Each test uses names of its own and removes what
//! it made. They run one at a time (serial_test): gnome-keyring was seen to
//! refuse a collection created while another test created or locked one.
#![cfg(target_os = "linux")]

mod keyring_common;

use std::collections::HashMap;

use ibwapi_config::profile::Secret;
use ibwapi_config::vault::secret_service::{SecretServiceVault, APPLICATION, NAME_ATTRIBUTE};
use ibwapi_config::vault::SecretVault;
use ibwapi_config::Error;
use keyring_common::{
    lab_with_host, open_store, own_writes_hide_no_other_change, read_text,
    store_sees_removal_and_recreation, timing_count, unique, Cleanup, JSON_VALUE, PLAIN_PROFILE,
};
use secret_service::blocking::SecretService;
use secret_service::EncryptionType;

const SKIP_VARIABLE: &str = "IBWAPI_SKIP_SECRET_SERVICE_TESTS";
const BUS_NAME: &str = "org.freedesktop.secrets";

/// The default collection for clean-up, which must not fail loudly.
fn open_quietly() -> Option<SecretServiceVault> {
    SecretServiceVault::open(None, None).ok()
}

/// Removes `names` from the default collection when dropped.
fn cleanup(names: Vec<String>) -> Cleanup<SecretServiceVault> {
    Cleanup {
        names,
        open: open_quietly,
    }
}

/// The default collection, or `None` when the tests are to be skipped.
fn default_vault() -> Option<SecretServiceVault> {
    match SecretServiceVault::open(None, None) {
        Ok(vault) => Some(vault),
        Err(e) if std::env::var(SKIP_VARIABLE).as_deref() == Ok("1") => {
            eprintln!("skipped: no usable Secret Service ({e}); {SKIP_VARIABLE}=1 is set");
            None
        }
        Err(e) => panic!(
            "no usable Secret Service: {e}\nRun these tests with \
             tests/support/secret-service-session.sh cargo test --test \
             keyring_secret_service, or set {SKIP_VARIABLE}=1 to skip them"
        ),
    }
}

/// Deletes a collection (by label) when dropped, locked or not.
struct CollectionCleanup(String);

impl Drop for CollectionCleanup {
    fn drop(&mut self) {
        delete_collection(&self.0);
    }
}

/// Deletes the collections labelled `label`, locked or not.
fn delete_collection(label: &str) {
    let Ok(service) = SecretService::connect(EncryptionType::Plain) else {
        return;
    };
    let Ok(collections) = service.get_all_collections() else {
        return;
    };
    let Ok(bus) = zbus::blocking::Connection::session() else {
        return;
    };
    for collection in collections {
        if collection.get_label().ok().as_deref() == Some(label) {
            let path = collection.collection_path.as_str();
            let iface = Some("org.freedesktop.Secret.Collection");
            let _ = bus.call_method(Some(BUS_NAME), path, iface, "Delete", &());
        }
    }
}

/// The values of `names`, read with one `read_secrets` call.
fn read_all(vault: &mut SecretServiceVault, names: &[String]) -> Vec<Option<String>> {
    let values = vault.read_secrets(names);
    assert_eq!(values.len(), names.len());
    values
        .into_iter()
        .map(|value| value.expect("read").map(|s| s.expose().to_owned()))
        .collect()
}

/// The object paths of our items called `name` in the collection `label`.
fn item_paths(label: &str, name: &str) -> Vec<String> {
    let service = SecretService::connect(EncryptionType::Plain).expect("connect");
    let collections = service.get_all_collections().expect("collections");
    let collection = collections
        .into_iter()
        .find(|c| c.get_label().ok().as_deref() == Some(label))
        .expect("the collection");
    let attributes = HashMap::from([("application", APPLICATION), (NAME_ATTRIBUTE, name)]);
    let items = collection.search_items(attributes).expect("search");
    items
        .iter()
        .map(|i| i.item_path.as_str().to_owned())
        .collect()
}

/// The number of items in the default collection with `attributes`.
fn count_items(attributes: &[(&str, &str)]) -> usize {
    let service = SecretService::connect(EncryptionType::Dh).expect("connect");
    let collection = service
        .get_default_collection()
        .expect("default collection");
    let attributes: HashMap<&str, &str> = attributes.iter().copied().collect();
    let items = collection.search_items(attributes).expect("search");
    items.len()
}

#[test]
#[serial_test::serial]
fn json_value_round_trips_unchanged() {
    let Some(mut vault) = default_vault() else {
        return;
    };
    let name = unique("round-trip");
    let _cleanup = cleanup(vec![name.clone()]);

    assert_eq!(read_text(&mut vault, &name), None);
    vault
        .write_secret(&name, &Secret::from(JSON_VALUE))
        .expect("write");

    assert_eq!(read_text(&mut vault, &name).as_deref(), Some(JSON_VALUE));
    assert_eq!(vault.vault_name(), "[keyring]secret-service");
}

#[test]
#[serial_test::serial]
fn listing_shows_only_our_items() {
    let Some(mut vault) = default_vault() else {
        return;
    };
    let ours = unique("ours");
    let foreign = unique("foreign");
    let _cleanup = cleanup(vec![ours.clone()]);

    let service = SecretService::connect(EncryptionType::Dh).expect("connect");
    let collection = service
        .get_default_collection()
        .expect("default collection");
    let attributes = HashMap::from([("application", "another-program"), ("name", &*foreign)]);
    let item = collection
        .create_item(&foreign, attributes, b"not ours", true, "text/plain")
        .expect("create a foreign item");
    vault
        .write_secret(&ours, &Secret::from("{}"))
        .expect("write");

    let names = vault.list_secrets().expect("list");
    assert!(names.contains(&ours), "{names:?}");
    assert!(!names.contains(&foreign), "{names:?}");
    assert_eq!(read_text(&mut vault, &foreign), None);

    vault
        .remove_secret(&foreign)
        .expect("remove a foreign name");
    assert_eq!(item.get_secret().expect("foreign item kept"), b"not ours");
    item.delete().expect("delete the foreign item");
}

#[test]
#[serial_test::serial]
fn write_replaces_the_item() {
    let Some(mut vault) = default_vault() else {
        return;
    };
    let name = unique("replace");
    let _cleanup = cleanup(vec![name.clone()]);

    vault
        .write_secret(&name, &Secret::from("first"))
        .expect("write 1");
    vault
        .write_secret(&name, &Secret::from("second"))
        .expect("write 2");

    assert_eq!(read_text(&mut vault, &name).as_deref(), Some("second"));
    let names = vault.list_secrets().expect("list");
    assert_eq!(names.iter().filter(|n| **n == name).count(), 1);
    assert_eq!(
        count_items(&[("application", APPLICATION), (NAME_ATTRIBUTE, &name)]),
        1
    );
}

#[test]
#[serial_test::serial]
fn remove_deletes_and_tolerates_missing() {
    let Some(mut vault) = default_vault() else {
        return;
    };
    let name = unique("remove");
    let _cleanup = cleanup(vec![name.clone()]);

    vault
        .write_secret(&name, &Secret::from("x"))
        .expect("write");
    vault.remove_secret(&name).expect("remove");

    assert_eq!(read_text(&mut vault, &name), None);
    assert!(!vault.list_secrets().expect("list").contains(&name));
    vault.remove_secret(&name).expect("remove again");
}

#[test]
#[serial_test::serial]
fn two_instances_see_each_others_writes() {
    let (Some(mut first), Some(mut second)) = (default_vault(), default_vault()) else {
        return;
    };
    let one = unique("instance-one");
    let two = unique("instance-two");
    let _cleanup = cleanup(vec![one.clone(), two.clone()]);

    first
        .write_secret(&one, &Secret::from("1"))
        .expect("write 1");
    assert_eq!(read_text(&mut second, &one).as_deref(), Some("1"));
    second
        .write_secret(&two, &Secret::from("2"))
        .expect("write 2");

    assert!(first.list_secrets().expect("list").contains(&two));
    second.remove_secret(&one).expect("remove");
    assert_eq!(read_text(&mut first, &one), None);
}

#[test]
#[serial_test::serial]
fn named_collection_is_created_and_kept_apart() {
    let Some(mut default) = default_vault() else {
        return;
    };
    let label = unique("collection");
    let _collection = CollectionCleanup(label.clone());
    let password = Secret::from("collection password");

    let mut named = SecretServiceVault::open(Some(&label), Some(&password)).expect("create");
    named
        .write_secret("lab", &Secret::from(JSON_VALUE))
        .expect("write");
    assert_eq!(
        named.vault_name(),
        format!("[keyring]secret-service:{label}")
    );

    let mut again = SecretServiceVault::open(Some(&label), None).expect("open again");
    assert_eq!(read_text(&mut again, "lab").as_deref(), Some(JSON_VALUE));
    assert_eq!(again.list_secrets().expect("list"), vec!["lab".to_owned()]);
    assert_eq!(read_text(&mut default, "lab"), None);
}

#[test]
#[serial_test::serial]
fn missing_collection_without_password_is_a_clear_error() {
    if default_vault().is_none() {
        return;
    }
    let label = unique("no-password");
    let _collection = CollectionCleanup(label.clone());

    let error = SecretServiceVault::open(Some(&label), None).expect_err("prompt needed");

    assert!(matches!(error, Error::VaultUnavailable { .. }), "{error:?}");
    assert!(error.to_string().contains("IBWAPI_VAULT_PASS"), "{error}");
}

#[test]
#[serial_test::serial]
fn locked_collection_opens_only_with_its_password() {
    if default_vault().is_none() {
        return;
    }
    let label = unique("locked");
    let _collection = CollectionCleanup(label.clone());
    let password = Secret::from("right password");
    let mut vault = SecretServiceVault::open(Some(&label), Some(&password)).expect("create");
    vault
        .write_secret("lab", &Secret::from("kept"))
        .expect("write");
    lock_collection(&label);

    let error = SecretServiceVault::open(Some(&label), None).expect_err("locked");
    assert!(matches!(error, Error::VaultLocked { .. }), "{error:?}");
    assert!(
        error.to_string().contains("gnome-keyring-daemon --unlock"),
        "{error}"
    );
    let wrong = SecretServiceVault::open(Some(&label), Some(&Secret::from("wrong")));
    assert!(matches!(wrong, Err(Error::VaultLocked { .. })), "{wrong:?}");

    let mut vault = SecretServiceVault::open(Some(&label), Some(&password)).expect("unlock");
    assert_eq!(read_text(&mut vault, "lab").as_deref(), Some("kept"));
}

#[test]
#[serial_test::serial]
fn operations_fail_clearly_when_locked_after_open() {
    if default_vault().is_none() {
        return;
    }
    let label = unique("relocked");
    let _collection = CollectionCleanup(label.clone());
    let password = Secret::from("pw");
    let mut vault = SecretServiceVault::open(Some(&label), Some(&password)).expect("create");

    lock_collection(&label);

    let error = vault.list_secrets().expect_err("locked");
    assert!(matches!(error, Error::VaultLocked { .. }), "{error:?}");
    let error = vault
        .write_secret("lab", &Secret::from("x"))
        .expect_err("locked");
    assert!(matches!(error, Error::VaultLocked { .. }), "{error:?}");
}

#[test]
#[serial_test::serial]
fn collection_found_by_path_name_and_alias() {
    let Some(mut default) = default_vault() else {
        return;
    };
    let name = unique("by-alias");
    let _cleanup = cleanup(vec![name.clone()]);
    default
        .write_secret(&name, &Secret::from("v"))
        .expect("write");

    // gnome-keyring: the default alias is the "Login" collection, whose
    // object path ends in "login".
    for collection in ["default", "login", "Login"] {
        let mut vault = SecretServiceVault::open(Some(collection), None).expect(collection);
        assert_eq!(
            read_text(&mut vault, &name).as_deref(),
            Some("v"),
            "{collection}"
        );
    }
}

#[test]
#[serial_test::serial]
fn empty_collection_name_is_refused() {
    let error = SecretServiceVault::open(Some(" "), None).expect_err("empty");

    assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
}

#[test]
#[serial_test::serial]
fn debug_output_names_the_vault() {
    let Some(vault) = default_vault() else {
        return;
    };

    let text = format!("{vault:?}");

    assert!(text.contains("[keyring]secret-service"), "{text}");
}

fn lock_collection(label: &str) {
    let service = SecretService::connect(EncryptionType::Plain).expect("connect");
    let collections = service.get_all_collections().expect("collections");
    let collection = collections
        .into_iter()
        .find(|c| c.get_label().ok().as_deref() == Some(label))
        .expect("the collection");
    collection.lock().expect("lock");
    assert!(collection.is_locked().expect("locked?"));
}

/// Settings for a store in the Secret Service collection `label`.
fn store_settings(config: &std::path::Path, label: &str) -> ibwapi_config::settings::Settings {
    let vault = format!("[keyring]secret-service:{label}");
    ibwapi_config::settings::Settings::from_pairs([
        ("config_path", config.to_str()),
        ("IBWAPI_VAULT_NAME", Some(vault.as_str())),
        ("IBWAPI_VAULT_PASS", Some("collection password")),
    ])
}

#[test]
#[serial_test::serial]
fn a_store_sees_profiles_another_handle_added_but_not_edits_in_place() {
    if default_vault().is_none() {
        return;
    }
    let label = unique("refresh");
    let _collection = CollectionCleanup(label.clone());
    let dir = tempfile::tempdir().expect("a folder");
    let settings = store_settings(&dir.path().join("posh-ibwapi.json"), &label);
    let mut mine = open_store(&settings);
    let mut other = open_store(&settings);
    let host = |store: &ibwapi_config::Store| {
        let lab = store.get(Some("lab")).expect("get").expect("lab");
        lab.wapi_host.clone().expect("a host")
    };

    mine.set(lab_with_host("first.example.test")).expect("set");
    assert!(!mine.refresh(), "its own write is no change");
    assert!(other.refresh(), "a new item is seen");

    // An edit in place keeps the item's path: the one-call check does not
    // see it (the documented cost trade-off) ...
    other
        .set(lab_with_host("second.example.test"))
        .expect("set");
    assert!(!mine.refresh());
    assert_eq!(host(&mine), "first.example.test");

    // ... until the set of items changes.
    let mut extra = lab_with_host("extra.example.test");
    extra.profile_name = Some("extra".to_owned());
    other.set(extra).expect("set");
    assert!(mine.refresh(), "an added profile is seen");
    assert_eq!(host(&mine), "second.example.test");
}

#[test]
#[serial_test::serial]
fn another_handles_add_remove_and_recreate_are_seen() {
    let (Some(mut mine), Some(mut other)) = (default_vault(), default_vault()) else {
        return;
    };
    let name = unique("recreated");
    let _cleanup = cleanup(vec![name.clone()]);
    let names = [name.clone()];
    mine.list_secrets().expect("list");
    assert_eq!(mine.changed().expect("check"), Some(false));

    other
        .write_secret(&name, &Secret::from("first"))
        .expect("add");
    assert_eq!(mine.changed().expect("check"), Some(true), "an added item");
    assert!(mine.list_secrets().expect("list").contains(&name));
    assert_eq!(read_all(&mut mine, &names), [Some("first".to_owned())]);
    assert_eq!(mine.changed().expect("check"), Some(false));

    // Removed and written again: a new item, at a new path; the path this
    // handle looked up is gone, so reading through it falls back to a
    // search, and the check sees the new path.
    other.remove_secret(&name).expect("remove");
    other
        .write_secret(&name, &Secret::from("second"))
        .expect("write again");
    assert_eq!(read_text(&mut mine, &name).as_deref(), Some("second"));
    assert_eq!(read_all(&mut mine, &names), [Some("second".to_owned())]);
    assert_eq!(mine.changed().expect("check"), Some(true), "a new path");
    assert!(mine.list_secrets().expect("list").contains(&name));
    assert_eq!(read_all(&mut mine, &names), [Some("second".to_owned())]);

    other.remove_secret(&name).expect("remove");
    assert_eq!(mine.changed().expect("check"), Some(true), "a removed item");
    assert_eq!(read_all(&mut mine, &names), [None]);
    assert!(!mine.list_secrets().expect("list").contains(&name));
    assert_eq!(read_text(&mut mine, &name), None);
}

#[test]
#[serial_test::serial]
fn values_are_read_afresh_not_kept() {
    let (Some(mut mine), Some(mut other)) = (default_vault(), default_vault()) else {
        return;
    };
    let name = unique("in-place");
    let _cleanup = cleanup(vec![name.clone()]);
    other
        .write_secret(&name, &Secret::from("first"))
        .expect("write");
    mine.list_secrets().expect("list");
    assert_eq!(read_text(&mut mine, &name).as_deref(), Some("first"));

    other
        .write_secret(&name, &Secret::from("second"))
        .expect("rewrite");

    // Rewritten in place: the same path, so no change is reported (the
    // documented limit), but every read gets the value now stored.
    assert_eq!(mine.changed().expect("check"), Some(false));
    assert_eq!(read_text(&mut mine, &name).as_deref(), Some("second"));
    assert_eq!(read_all(&mut mine, &[name]), [Some("second".to_owned())]);
}

#[test]
#[serial_test::serial]
fn own_writes_are_no_change_but_do_not_hide_another_handles() {
    let (Some(mut mine), Some(mut other)) = (default_vault(), default_vault()) else {
        return;
    };
    own_writes_hide_no_other_change(&mut mine, &mut other, open_quietly);
}

#[test]
#[serial_test::serial]
fn many_secrets_are_read_in_order() {
    if default_vault().is_none() {
        return;
    }
    let label = unique("many");
    let _collection = CollectionCleanup(label.clone());
    let password = Secret::from("collection password");
    let mut writer = SecretServiceVault::open(Some(&label), Some(&password)).expect("create");
    let names: Vec<String> = (0..40).map(|i| format!("secret-{i:02}")).collect();
    for (index, name) in names.iter().enumerate() {
        let value = Secret::new(format!("value {index} {JSON_VALUE}"));
        writer.write_secret(name, &value).expect("write");
    }
    let mut reader = SecretServiceVault::open(Some(&label), None).expect("open");
    assert_eq!(reader.list_secrets().expect("list"), names);

    // One secret removed and one rewritten after the listing, one never
    // there: read all at once, in the order asked.
    writer.remove_secret("secret-07").expect("remove");
    writer
        .write_secret("secret-08", &Secret::from("rewritten"))
        .expect("rewrite");
    let mut asked = names.clone();
    asked.push("missing".to_owned());
    asked.reverse();
    let values = read_all(&mut reader, &asked);

    for (name, value) in asked.iter().zip(&values) {
        let expected = match name.as_str() {
            "missing" | "secret-07" => None,
            "secret-08" => Some("rewritten".to_owned()),
            _ => {
                let index: usize = name["secret-".len()..].parse().expect("a number");
                Some(format!("value {index} {JSON_VALUE}"))
            }
        };
        assert_eq!(value, &expected, "{name}");
    }
}

#[test]
#[serial_test::serial]
fn a_collection_deleted_and_created_again_is_read_afresh() {
    if default_vault().is_none() {
        return;
    }
    let label = unique("again");
    let _collection = CollectionCleanup(label.clone());
    let password = Secret::from("collection password");
    let mut mine = SecretServiceVault::open(Some(&label), Some(&password)).expect("create");
    mine.write_secret("old", &Secret::from("old value"))
        .expect("write");
    assert_eq!(mine.list_secrets().expect("list"), ["old"]);
    let old_path = item_paths(&label, "old");

    delete_collection(&label);
    assert!(mine.changed().is_err(), "the collection is gone");
    let mut other = SecretServiceVault::open(Some(&label), Some(&password)).expect("again");
    other
        .write_secret("new", &Secret::from("new value"))
        .expect("write");
    // gnome-keyring numbers the items of the new collection from 1 again:
    // the new item has the path the old one had.
    assert_eq!(item_paths(&label, "new"), old_path);

    assert_eq!(mine.changed().expect("check"), Some(true));
    assert_eq!(mine.list_secrets().expect("list"), ["new"]);
    assert_eq!(read_text(&mut mine, "new").as_deref(), Some("new value"));
    assert_eq!(read_text(&mut mine, "old"), None);
}

#[test]
#[serial_test::serial]
fn a_store_sees_a_profile_another_handle_removed_and_created_again() {
    if default_vault().is_none() {
        return;
    }
    let label = unique("store-recreate");
    let _collection = CollectionCleanup(label.clone());
    let dir = tempfile::tempdir().expect("a folder");
    let settings = store_settings(&dir.path().join("posh-ibwapi.json"), &label);
    let (mut mine, mut other) = (open_store(&settings), open_store(&settings));

    store_sees_removal_and_recreation(&mut mine, &mut other);
}

/// Prints how long opening a store of many profiles and its change check
/// take. The collection `poshibwapi-timing` is seeded once and kept, so a
/// second run in the same session bus measures without seeding again.
#[test]
#[ignore = "a timing, not a check: run with --ignored --nocapture"]
#[serial_test::serial]
fn timing_open_and_change_check() {
    if default_vault().is_none() {
        return;
    }
    let count = timing_count();
    let label = "poshibwapi-timing";
    let password = Secret::from("collection password");
    let mut vault = SecretServiceVault::open(Some(label), Some(&password)).expect("open");
    let seeded = vault.list_secrets().expect("list").len();
    let started = std::time::Instant::now();
    for index in seeded..count {
        let name = format!("poshibwapi-p{index}");
        vault
            .write_secret(&name, &Secret::from(PLAIN_PROFILE))
            .expect("seed");
    }
    let ms = |since: std::time::Instant| since.elapsed().as_secs_f64() * 1000.0;
    eprintln!("seeded {} item(s) in {:.0} ms", count - seeded, ms(started));

    let dir = tempfile::tempdir().expect("a folder");
    let settings = store_settings(&dir.path().join("posh-ibwapi.json"), label);
    let started = std::time::Instant::now();
    let mut store = open_store(&settings);
    eprintln!("open + load of {count}: {:.1} ms", ms(started));
    assert_eq!(store.profiles().len(), count);

    let checks = 20;
    let started = std::time::Instant::now();
    for _ in 0..checks {
        assert!(!store.refresh());
    }
    eprintln!(
        "change check, nothing changed: {:.2} ms",
        ms(started) / checks as f64
    );

    vault
        .write_secret("poshibwapi-extra", &Secret::from(PLAIN_PROFILE))
        .expect("add");
    let started = std::time::Instant::now();
    assert!(store.refresh());
    eprintln!(
        "change check that reloads (one added): {:.1} ms",
        ms(started)
    );
    vault.remove_secret("poshibwapi-extra").expect("remove");
    let started = std::time::Instant::now();
    assert!(store.refresh());
    eprintln!(
        "change check that reloads (one removed): {:.1} ms",
        ms(started)
    );
    assert_eq!(store.profiles().len(), count);
}
