//! The keyutils vault against the real kernel keyring of the current user.
//!
//! ```text
//! cargo test --test keyring_keyutils
//! ```
//!
//! When the kernel keyring cannot be used (a seccomp profile blocking
//! `keyctl`, a kernel without keys) every test fails and says so, unless
//! `IBWAPI_SKIP_KEYUTILS_TESTS=1` is set: then they are skipped, with a note
//! on standard error. Each test uses names of its own and removes the keys it
//! made. One test starts this test binary again as a child process, to check
//! that separate processes share the secrets.
//!
//! The tests run one at a time (serial_test): a change check sees every
//! `posh-ibwapi:` key in `@u`, so another test's keys would look like a
//! change. For the same reason, no other process should add or remove such
//! keys while they run.
#![cfg(target_os = "linux")]

mod keyring_common;

use std::process::Command;

use ibwapi_config::profile::Secret;
use ibwapi_config::vault::keyutils::{KeyutilsVault, DESCRIPTION_PREFIX};
use ibwapi_config::vault::SecretVault;
use ibwapi_config::Error;
use keyring_common::{
    open_store, own_writes_hide_no_other_change, read_text, store_sees_removal_and_recreation,
    timing_count, unique, Cleanup, JSON_VALUE, PLAIN_PROFILE,
};
use linux_keyutils::{KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};

const SKIP_VARIABLE: &str = "IBWAPI_SKIP_KEYUTILS_TESTS";

/// Set in the child process: what `child_process_step` does.
const CHILD_VARIABLE: &str = "IBWAPI_KEYUTILS_TEST_CHILD";

/// The vault for clean-up, which must not fail loudly.
fn open_quietly() -> Option<KeyutilsVault> {
    KeyutilsVault::open().ok()
}

/// Removes `names` from the keyring when dropped.
fn cleanup(names: Vec<String>) -> Cleanup<KeyutilsVault> {
    Cleanup {
        names,
        open: open_quietly,
    }
}

/// The vault, or `None` when the tests are to be skipped.
fn vault() -> Option<KeyutilsVault> {
    match KeyutilsVault::open() {
        Ok(vault) => Some(vault),
        Err(e) if std::env::var(SKIP_VARIABLE).as_deref() == Ok("1") => {
            eprintln!("skipped: the kernel keyring is not usable ({e}); {SKIP_VARIABLE}=1 is set");
            None
        }
        Err(e) => panic!(
            "the kernel keyring is not usable: {e}\nSet {SKIP_VARIABLE}=1 to skip these tests \
             where keyctl is blocked"
        ),
    }
}

fn user_keyring() -> KeyRing {
    KeyRing::from_special_id(KeyRingIdentifier::User, false).expect("@u")
}

#[test]
#[serial_test::serial]
fn json_value_round_trips_unchanged() {
    let Some(mut vault) = vault() else {
        return;
    };
    let name = unique("round-trip");
    let _cleanup = cleanup(vec![name.clone()]);

    assert_eq!(read_text(&mut vault, &name), None);
    vault
        .write_secret(&name, &Secret::from(JSON_VALUE))
        .expect("write");

    assert_eq!(read_text(&mut vault, &name).as_deref(), Some(JSON_VALUE));
    assert_eq!(vault.vault_name(), "[keyring]keyutils");
}

#[test]
#[serial_test::serial]
fn key_is_namespaced_in_the_user_keyring() {
    let Some(mut vault) = vault() else {
        return;
    };
    let name = unique("namespaced");
    let _cleanup = cleanup(vec![name.clone()]);

    vault
        .write_secret(&name, &Secret::from("v"))
        .expect("write");

    let key = user_keyring().search(&format!("{DESCRIPTION_PREFIX}{name}"));
    let key = key.expect("a key named posh-ibwapi:<name> in @u");
    assert_eq!(key.read_to_vec().expect("read"), b"v");
}

#[test]
#[serial_test::serial]
fn listing_shows_only_our_keys() {
    let Some(mut vault) = vault() else {
        return;
    };
    let ours = unique("ours");
    let foreign = unique("foreign");
    let _cleanup = cleanup(vec![ours.clone()]);

    let ring = user_keyring();
    let other_program = ring
        .add_key(&format!("other-program:{foreign}"), "x")
        .expect("add");
    let no_colon = ring
        .add_key(&format!("posh-ibwapi{foreign}"), "x")
        .expect("add");
    let everything = KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .user(Permission::ALL)
        .build();
    other_program.set_perms(everything).expect("perms");
    vault
        .write_secret(&ours, &Secret::from("{}"))
        .expect("write");

    let names = vault.list_secrets().expect("list");
    assert!(names.contains(&ours), "{names:?}");
    assert!(!names.iter().any(|n| n.contains(&foreign)), "{names:?}");
    vault
        .remove_secret(&foreign)
        .expect("remove a foreign name");
    assert_eq!(other_program.read_to_vec().expect("kept"), b"x");

    other_program.invalidate().expect("clean up");
    no_colon.invalidate().expect("clean up");
}

#[test]
#[serial_test::serial]
fn names_with_separators_and_unicode_list_exactly() {
    let Some(mut vault) = vault() else {
        return;
    };
    let name = format!("{};semi:colon ünï {{0}}", unique("odd"));
    let long = format!("{}-{}", unique("long"), "x".repeat(600));
    let _cleanup = cleanup(vec![name.clone(), long.clone()]);

    vault
        .write_secret(&name, &Secret::from("1"))
        .expect("write");
    vault
        .write_secret(&long, &Secret::from("2"))
        .expect("write long");

    let names = vault.list_secrets().expect("list");
    assert!(names.contains(&name), "{names:?}");
    assert!(names.contains(&long));
    assert_eq!(read_text(&mut vault, &long).as_deref(), Some("2"));
}

#[test]
#[serial_test::serial]
fn write_replaces_the_key() {
    let Some(mut vault) = vault() else {
        return;
    };
    let name = unique("replace");
    let _cleanup = cleanup(vec![name.clone()]);

    vault
        .write_secret(&name, &Secret::from("first, longer"))
        .expect("write 1");
    vault
        .write_secret(&name, &Secret::from("second"))
        .expect("write 2");

    assert_eq!(read_text(&mut vault, &name).as_deref(), Some("second"));
    let names = vault.list_secrets().expect("list");
    assert_eq!(names.iter().filter(|n| **n == name).count(), 1);
}

#[test]
#[serial_test::serial]
fn remove_deletes_and_tolerates_missing() {
    let Some(mut vault) = vault() else {
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
    assert!(user_keyring()
        .search(&format!("{DESCRIPTION_PREFIX}{name}"))
        .is_err());
    vault.remove_secret(&name).expect("remove again");
}

#[test]
#[serial_test::serial]
fn two_instances_see_each_others_writes() {
    let (Some(mut first), Some(mut second)) = (vault(), vault()) else {
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
fn separate_processes_share_the_secrets() {
    let Some(mut vault) = vault() else {
        return;
    };
    let from_parent = unique("from-parent");
    let from_child = unique("from-child");
    let _cleanup = cleanup(vec![from_parent.clone(), from_child.clone()]);
    vault
        .write_secret(&from_parent, &Secret::from(JSON_VALUE))
        .expect("write");

    // The first child reads the parent's secret and writes one; a second
    // child, started after the first has exited, reads and removes it.
    run_child(&format!("check-and-write\n{from_parent}\n{from_child}"));
    assert_eq!(
        read_text(&mut vault, &from_child).as_deref(),
        Some("child value")
    );
    run_child(&format!("check-and-remove\n{from_child}"));

    assert_eq!(read_text(&mut vault, &from_child), None);
}

/// Runs `child_process_step` in a new process of this test binary.
fn run_child(step: &str) {
    let binary = std::env::current_exe().expect("test binary");
    let output = Command::new(binary)
        .args(["child_process_step", "--exact", "--ignored", "--nocapture"])
        .env(CHILD_VARIABLE, step)
        .output()
        .expect("start the child process");

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    assert!(stdout.contains("1 passed"), "child did not run: {stdout}");
}

#[test]
#[ignore = "a step of separate_processes_share_the_secrets, run in a child process"]
fn child_process_step() {
    let Ok(step) = std::env::var(CHILD_VARIABLE) else {
        eprintln!("nothing to do: only separate_processes_share_the_secrets runs this step");
        return;
    };
    let mut vault = KeyutilsVault::open().expect("open in the child");
    let lines: Vec<&str> = step.lines().collect();

    match lines.as_slice() {
        ["check-and-write", parent, child] => {
            assert_eq!(read_text(&mut vault, parent).as_deref(), Some(JSON_VALUE));
            let value = Secret::from("child value");
            vault
                .write_secret(child, &value)
                .expect("write in the child");
        }
        ["check-and-remove", child] => {
            assert_eq!(read_text(&mut vault, child).as_deref(), Some("child value"));
            vault.remove_secret(child).expect("remove in the child");
        }
        _ => panic!("unknown step {step:?}"),
    }
}

#[test]
#[serial_test::serial]
fn oversized_name_and_value_and_empty_value_are_refused() {
    let Some(mut vault) = vault() else {
        return;
    };
    let name = unique("oversized");
    let _cleanup = cleanup(vec![name.clone()]);

    let long_name = "n".repeat(4096);
    let error = vault
        .write_secret(&long_name, &Secret::from("x"))
        .expect_err("long name");
    assert!(matches!(error, Error::VaultNameRefused { .. }), "{error:?}");

    let big = Secret::new("v".repeat(40_000));
    let error = vault.write_secret(&name, &big).expect_err("big value");
    assert!(matches!(error, Error::VaultAccess { .. }), "{error:?}");
    let error = vault
        .write_secret(&name, &Secret::from(""))
        .expect_err("empty");
    assert!(matches!(error, Error::VaultAccess { .. }), "{error:?}");
    assert_eq!(read_text(&mut vault, &name), None);
}

#[test]
#[serial_test::serial]
fn debug_output_names_the_vault() {
    let Some(vault) = vault() else {
        return;
    };

    let text = format!("{vault:?}");

    assert!(text.contains("[keyring]keyutils"), "{text}");
}

#[test]
#[serial_test::serial]
fn another_handles_add_remove_and_recreate_are_seen() {
    let (Some(mut mine), Some(mut other)) = (vault(), vault()) else {
        return;
    };
    let name = unique("recreated");
    let _cleanup = cleanup(vec![name.clone()]);
    mine.list_secrets().expect("list");
    assert_eq!(mine.changed().expect("check"), Some(false));

    other
        .write_secret(&name, &Secret::from("first"))
        .expect("add");
    assert_eq!(mine.changed().expect("check"), Some(true), "an added key");
    assert!(mine.list_secrets().expect("list").contains(&name));
    assert_eq!(read_text(&mut mine, &name).as_deref(), Some("first"));
    assert_eq!(mine.changed().expect("check"), Some(false));

    // Removed and written again: a new key with a new id. The id this
    // handle listed is gone, so a read lists `@u` again, and the check
    // sees the new id.
    other.remove_secret(&name).expect("remove");
    other
        .write_secret(&name, &Secret::from("second"))
        .expect("write again");
    assert_eq!(read_text(&mut mine, &name).as_deref(), Some("second"));
    assert_eq!(mine.changed().expect("check"), Some(true), "a new id");
    assert!(mine.list_secrets().expect("list").contains(&name));
    assert_eq!(mine.changed().expect("check"), Some(false));

    other.remove_secret(&name).expect("remove");
    assert_eq!(mine.changed().expect("check"), Some(true), "a removed key");
    assert!(!mine.list_secrets().expect("list").contains(&name));
    assert_eq!(read_text(&mut mine, &name), None);
}

#[test]
#[serial_test::serial]
fn values_are_read_afresh_not_kept() {
    let (Some(mut mine), Some(mut other)) = (vault(), vault()) else {
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

    // Updated in place: the same id, so no change is reported (the
    // documented limit), but a read gets the value now stored.
    assert_eq!(mine.changed().expect("check"), Some(false));
    assert_eq!(read_text(&mut mine, &name).as_deref(), Some("second"));
}

#[test]
#[serial_test::serial]
fn own_writes_are_no_change_but_do_not_hide_another_handles() {
    let (Some(mut mine), Some(mut other)) = (vault(), vault()) else {
        return;
    };
    own_writes_hide_no_other_change(&mut mine, &mut other, open_quietly);
}

#[test]
#[serial_test::serial]
fn a_store_sees_a_profile_another_handle_removed_and_created_again() {
    if vault().is_none() {
        return;
    }
    let prefix = unique("store");
    let _cleanup = cleanup(vec![format!("{prefix}-lab")]);
    let dir = tempfile::tempdir().expect("a folder");
    let settings = store_settings(&dir.path().join("c.json"), &format!("{prefix}-{{0}}"));
    let (mut mine, mut other) = (open_store(&settings), open_store(&settings));

    store_sees_removal_and_recreation(&mut mine, &mut other);
}

/// Settings for a keyutils store whose secret names follow `template`.
fn store_settings(config: &std::path::Path, template: &str) -> ibwapi_config::settings::Settings {
    ibwapi_config::settings::Settings::from_pairs([
        ("config_path", config.to_str()),
        ("IBWAPI_VAULT_NAME", Some("[keyring]keyutils")),
        ("IBWAPI_VAULT_SECRET_TEMPLATE", Some(template)),
    ])
}

/// Prints how long opening a store of many profiles and its change check
/// take; needs a key quota above the count (root has one).
#[test]
#[ignore = "a timing, not a check: run with --ignored --nocapture"]
#[serial_test::serial]
fn timing_open_and_change_check() {
    let Some(mut vault) = vault() else {
        return;
    };
    let count = timing_count();
    let prefix = unique("timing");
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}-p{i}")).collect();
    let extra = format!("{prefix}-extra");
    let _cleanup = cleanup(names.iter().chain([&extra]).cloned().collect());
    let ms = |since: std::time::Instant| since.elapsed().as_secs_f64() * 1000.0;

    let started = std::time::Instant::now();
    for name in &names {
        vault
            .write_secret(name, &Secret::from(PLAIN_PROFILE))
            .expect("seed");
    }
    eprintln!("seeded {count} key(s) in {:.0} ms", ms(started));

    let dir = tempfile::tempdir().expect("a folder");
    let settings = store_settings(&dir.path().join("c.json"), &format!("{prefix}-{{0}}"));
    let started = std::time::Instant::now();
    let mut store = open_store(&settings);
    eprintln!("open + load of {count}: {:.1} ms", ms(started));
    assert_eq!(store.profiles().len(), count);

    let checks = 100;
    let started = std::time::Instant::now();
    for _ in 0..checks {
        assert!(!store.refresh());
    }
    eprintln!(
        "change check, nothing changed: {:.3} ms",
        ms(started) / checks as f64
    );

    vault
        .write_secret(&extra, &Secret::from(PLAIN_PROFILE))
        .expect("add");
    let started = std::time::Instant::now();
    assert!(store.refresh());
    eprintln!(
        "change check that reloads (one added): {:.1} ms",
        ms(started)
    );
    vault.remove_secret(&extra).expect("remove");
    let started = std::time::Instant::now();
    assert!(store.refresh());
    eprintln!(
        "change check that reloads (one removed): {:.1} ms",
        ms(started)
    );
    assert_eq!(store.profiles().len(), count);
}
