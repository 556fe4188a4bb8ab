//! The Set, Get and Remove rules (BEHAVIOR.md A4 to A6) on a file store.

mod common;

use std::cmp::Ordering;
use std::fs;

use common::{edit, names, new_profile, ConfigDir};
use ibwapi_config::collation::Collation;
use ibwapi_config::error::ProfileField;
use ibwapi_config::profile::{Credential, Secret};
use ibwapi_config::profiles::ProfileEdit;
use ibwapi_config::{Error, Store};
use pretty_assertions::assert_eq;

fn store_with(profile_names: &[&str]) -> (ConfigDir, Store) {
    let config = ConfigDir::empty();
    let mut store = config.open();
    for name in profile_names {
        store.set(new_profile(name)).unwrap();
    }
    (config, store)
}

fn current(store: &Store) -> Option<String> {
    store.profiles().current_name().map(str::to_owned)
}

#[test]
fn editing_ignores_letter_case_and_keeps_the_first_spelling() {
    let (config, mut store) = store_with(&["Prod"]);
    let mut change = edit("PROD");
    change.wapi_host = Some("new.example.test".into());

    store.set(change).unwrap();

    assert_eq!(names(&mut store), ["Prod"]);
    assert_eq!(
        store
            .get(Some("prod"))
            .unwrap()
            .unwrap()
            .wapi_host
            .as_deref(),
        Some("new.example.test")
    );
    assert_eq!(current(&store).as_deref(), Some("Prod"));
    assert!(config.text().contains("\"CurrentProfile\": \"Prod\""));
}

#[test]
fn a_new_profile_needs_host_then_credential_then_version() {
    let (config, mut store) = store_with(&[]);
    let mut change = edit("lab");

    let missing = |store: &mut Store, change: ProfileEdit| match store.set(change) {
        Err(
            error @ Error::MissingField {
                field,
                is_new: true,
                ..
            },
        ) => (field, error.to_string()),
        other => panic!("expected MissingField, got {other:?}"),
    };

    let (field, message) = missing(&mut store, edit("lab"));
    assert_eq!(field, ProfileField::WapiHost);
    assert_eq!(message, "A new profile needs a WAPIHost (-WAPIHost).");

    change.wapi_host = Some("lab.example.test".into());
    change.wapi_version = Some("2.12".into());
    let (field, message) = missing(&mut store, change);
    assert_eq!(field, ProfileField::Credential);
    assert_eq!(message, "A new profile needs a credential (-Credential).");

    let mut change = edit("lab");
    change.wapi_host = Some("lab.example.test".into());
    change.credential = Some(Credential::new("admin", Secret::from("x")));
    let (field, _) = missing(&mut store, change);
    assert_eq!(field, ProfileField::WapiVersion);

    assert!(store.profiles().is_empty());
    assert!(!config.path.exists(), "nothing may be saved on error");
}

#[test]
fn new_profiles_start_with_false_flags_and_minus_one_keeps_them() {
    let (_config, mut store) = store_with(&["lab"]);
    let lab = |store: &Store| {
        let p = store.get(Some("lab")).unwrap().unwrap();
        (p.skip_certificate_check, p.no_session)
    };
    assert_eq!(lab(&store), (false, false));

    let mut change = edit("lab");
    change.skip_certificate_check = Some(true);
    store.set(change).unwrap();
    assert_eq!(lab(&store), (true, false));

    store.set(edit("lab")).unwrap();
    assert_eq!(lab(&store), (true, false));

    let mut change = edit("lab");
    change.skip_certificate_check = Some(false);
    change.no_session = Some(true);
    store.set(change).unwrap();
    assert_eq!(lab(&store), (false, true));
}

#[test]
fn without_a_name_the_current_profile_is_edited() {
    let (_config, mut store) = store_with(&["a", "b"]);
    let change = ProfileEdit {
        wapi_version: Some("2.5".into()),
        ..ProfileEdit::default()
    };

    store.set(change).unwrap();

    assert_eq!(
        store
            .get(Some("b"))
            .unwrap()
            .unwrap()
            .wapi_version
            .as_deref(),
        Some("2.5")
    );
    assert_eq!(
        store
            .get(Some("a"))
            .unwrap()
            .unwrap()
            .wapi_version
            .as_deref(),
        Some("2.12")
    );
}

#[test]
fn without_a_name_or_a_current_profile_set_fails() {
    let (_config, mut store) = store_with(&[]);

    let error = store.set(new_profile_without_name()).unwrap_err();

    assert!(matches!(error, Error::NoCurrentProfile));
    assert!(error.to_string().contains("pass -ProfileName"));
}

fn new_profile_without_name() -> ProfileEdit {
    ProfileEdit {
        profile_name: None,
        ..new_profile("x")
    }
}

#[test]
fn env_is_reserved_as_name_and_new_name() {
    let (_config, mut store) = store_with(&["lab"]);
    let mut rename = edit("lab");
    rename.new_name = Some("Env".into());

    let as_name = store.set(new_profile("env")).unwrap_err();
    let as_new_name = store.set(rename).unwrap_err();

    assert!(matches!(as_name, Error::ReservedName { .. }));
    assert!(matches!(as_new_name, Error::ReservedName { .. }));
    assert!(as_name
        .to_string()
        .contains("reserved for the environment-variable profile"));
    assert_eq!(names(&mut store), ["lab"]);
}

#[test]
fn blank_arguments_are_refused() {
    let (_config, mut store) = store_with(&["lab"]);
    let blank_host = ProfileEdit {
        wapi_host: Some("  ".into()),
        ..edit("lab")
    };
    let blank_new_name = ProfileEdit {
        new_name: Some("".into()),
        ..edit("lab")
    };

    for change in [edit(" \t"), blank_host, blank_new_name] {
        assert!(matches!(
            store.set(change),
            Err(Error::InvalidArgument { .. })
        ));
    }
    assert!(matches!(
        store.remove(Some(" ")),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn bad_and_unresolved_versions_are_refused_without_change() {
    let (config, mut store) = store_with(&["lab"]);
    let before = config.text();

    let bad = store.set(ProfileEdit {
        wapi_version: Some("2.x".into()),
        ..edit("lab")
    });
    let latest = store.set(ProfileEdit {
        wapi_version: Some("latest".into()),
        ..edit("lab")
    });

    assert!(matches!(bad, Err(Error::InvalidVersion { .. })));
    assert!(matches!(latest, Err(Error::UnresolvedLatestVersion)));
    assert_eq!(config.text(), before);
}

#[test]
fn rename_replaces_the_old_name_and_current_follows() {
    let (config, mut store) = store_with(&["a", "b"]);
    store.set(edit("a")).unwrap();
    let rename = ProfileEdit {
        new_name: Some("c".into()),
        no_switch_profile: true,
        ..edit("a")
    };

    store.set(rename).unwrap();

    assert_eq!(names(&mut store), ["b", "c"]);
    assert_eq!(current(&store).as_deref(), Some("c"));
    let text = config.text();
    assert!(
        text.find("\"c\": {").unwrap() < text.find("\"b\": {").unwrap(),
        "keeps its slot"
    );
}

#[test]
fn rename_onto_an_existing_profile_replaces_it() {
    let (_config, mut store) = store_with(&["a", "Prod"]);
    let rename = ProfileEdit {
        new_name: Some("PROD".into()),
        wapi_host: Some("from-a.example.test".into()),
        ..edit("a")
    };

    store.set(rename).unwrap();

    assert_eq!(names(&mut store), ["Prod"]);
    let prod = store.get(Some("prod")).unwrap().unwrap();
    assert_eq!(prod.wapi_host.as_deref(), Some("from-a.example.test"));
    assert_eq!(current(&store).as_deref(), Some("Prod"));
}

#[test]
fn renaming_to_the_same_name_in_other_case_changes_nothing() {
    let (_config, mut store) = store_with(&["lab"]);

    store
        .set(ProfileEdit {
            new_name: Some("LAB".into()),
            ..edit("lab")
        })
        .unwrap();

    assert_eq!(names(&mut store), ["lab"]);
}

#[test]
fn no_switch_profile_keeps_the_current_profile() {
    let (_config, mut store) = store_with(&["a"]);

    store
        .set(ProfileEdit {
            no_switch_profile: true,
            ..new_profile("b")
        })
        .unwrap();

    assert_eq!(current(&store).as_deref(), Some("a"));
}

#[test]
fn get_gives_the_current_or_the_named_profile_or_nothing() {
    let (config, store) = store_with(&["a", "b"]);

    assert_eq!(store.get(None).unwrap().unwrap().name, "b");
    assert_eq!(store.get(Some("A")).unwrap().unwrap().name, "a");
    assert!(store.get(Some("zzz")).unwrap().is_none());

    let text = config
        .text()
        .replace("\"CurrentProfile\": \"b\"", "\"CurrentProfile\": \"gone\"");
    fs::write(&config.path, text).unwrap();
    let dangling = config.open();
    assert!(dangling.get(None).unwrap().is_none());
}

#[test]
fn list_is_sorted_case_insensitively_and_follows_changes() {
    let (_config, mut store) = store_with(&["Gamma", "beta", "Alpha"]);

    assert_eq!(names(&mut store), ["Alpha", "beta", "Gamma"]);

    store.set(new_profile("delta")).unwrap();
    assert_eq!(names(&mut store), ["Alpha", "beta", "delta", "Gamma"]);
}

struct Reversed;

impl Collation for Reversed {
    fn compare(&self, a: &str, b: &str) -> Ordering {
        b.cmp(a)
    }
}

#[test]
fn list_and_remove_use_the_given_collation() {
    let config = ConfigDir::empty();
    let mut store = Store::open(&config.settings(), Box::new(Reversed)).unwrap();
    for name in ["b", "a", "c"] {
        store.set(new_profile(name)).unwrap();
    }

    assert_eq!(names(&mut store), ["c", "b", "a"]);

    store.remove(Some("c")).unwrap();
    assert_eq!(current(&store).as_deref(), Some("b"));
}

#[test]
fn removing_the_current_profile_makes_the_first_by_name_current() {
    let (config, mut store) = store_with(&["b", "gamma", "Alpha", "delta"]);
    store.set(edit("b")).unwrap();

    store.remove(None).unwrap();

    assert_eq!(current(&store).as_deref(), Some("Alpha"));
    assert!(config.text().contains("\"CurrentProfile\": \"Alpha\""));
}

#[test]
fn removing_another_profile_keeps_the_current_one() {
    let (_config, mut store) = store_with(&["a", "b"]);

    store.remove(Some("A")).unwrap();

    assert_eq!(names(&mut store), ["b"]);
    assert_eq!(current(&store).as_deref(), Some("b"));
}

#[test]
fn removing_an_unknown_profile_changes_nothing() {
    let (config, mut store) = store_with(&["a"]);
    let before = config.text();

    let error = store.remove(Some("nope")).unwrap_err();

    assert!(matches!(error, Error::ProfileNotFound { .. }));
    assert_eq!(
        error.to_string(),
        "Profile \"nope\" was not found; nothing was removed."
    );
    assert_eq!(config.text(), before);
}

#[test]
fn removing_with_no_current_profile_is_not_found() {
    let config = ConfigDir::with_fixture("posh-ibwapi.older.json");
    let mut store = config.open();

    assert!(matches!(
        store.remove(None),
        Err(Error::ProfileNotFound { .. })
    ));
    assert_eq!(store.profiles().len(), 2);
}

#[test]
fn removing_the_last_profile_deletes_the_file() {
    let (config, mut store) = store_with(&["a"]);
    assert!(config.path.exists());

    store.remove(Some("a")).unwrap();

    assert!(!config.path.exists());
    assert_eq!(current(&store), None);
    assert!(config.files().is_empty(), "no temporary files either");
    assert_eq!(
        config.all_files(),
        ["posh-ibwapi.json.lock"],
        "the save lock stays"
    );
}

#[test]
fn remove_all_deletes_everything() {
    let (config, mut store) = store_with(&["a", "b"]);

    store.remove_all().unwrap();

    assert!(store.profiles().is_empty());
    assert_eq!(current(&store), None);
    assert!(!config.path.exists());
    store.remove_all().expect("removing nothing is fine");
}

#[test]
fn remove_all_moves_a_damaged_file_aside_instead_of_deleting_it() {
    let config = ConfigDir::with_fixture("posh-ibwapi.truncated.json");
    let (mut store, _) = config.open_logged();

    store.remove_all().unwrap();

    let files = config.files();
    assert_eq!(files.len(), 1);
    assert!(
        files[0].starts_with("posh-ibwapi.json.corrupt-"),
        "{files:?}"
    );
}

#[test]
fn a_damaged_file_changed_since_loading_is_not_overwritten() {
    let config = ConfigDir::with_fixture("posh-ibwapi.truncated.json");
    let (mut store, _) = config.open_logged();
    fs::write(&config.path, "{ \"being edited\": ").unwrap();

    let error = store.set(new_profile("x")).unwrap_err();

    assert!(matches!(error, Error::FileIo { .. }));
    assert_eq!(config.text(), "{ \"being edited\": ");
    assert!(store.profiles().is_empty());
}

#[test]
fn a_failed_save_of_a_new_store_rolls_back() {
    let config = ConfigDir::empty();
    let blocker = config.dir.path().join("not-a-folder");
    fs::write(&blocker, "").unwrap();
    let settings = ibwapi_config::settings::Settings::from_pairs([(
        "config_path",
        Some(blocker.join("posh-ibwapi.json").to_str().unwrap()),
    )]);
    let mut store = common::open_with(&settings);

    let error = store.set(new_profile("lab")).unwrap_err();

    assert!(matches!(error, Error::FileIo { .. }), "{error:?}");
    assert!(store.profiles().is_empty());
    assert_eq!(current(&store), None);
}

#[test]
fn a_failed_save_restores_the_previous_profiles() {
    let (config, mut store) = store_with(&["keep", "other"]);
    let before = names(&mut store);
    fs::remove_dir_all(config.dir.path()).unwrap();
    fs::write(config.dir.path(), "now a file, not a folder").unwrap();

    let set = store.set(ProfileEdit {
        new_name: Some("renamed".into()),
        ..edit("keep")
    });
    let remove = store.remove(Some("other"));

    assert!(matches!(set, Err(Error::FileIo { .. })), "{set:?}");
    assert!(matches!(remove, Err(Error::FileIo { .. })), "{remove:?}");
    assert_eq!(names(&mut store), before);
    assert_eq!(current(&store).as_deref(), Some("other"));
    fs::remove_file(config.dir.path()).unwrap();
}

#[test]
fn a_current_name_in_other_letter_case_still_finds_its_profile() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let text = config
        .text()
        .replace("\"CurrentProfile\": \"lab\"", "\"CurrentProfile\": \"LAB\"");
    fs::write(&config.path, text).unwrap();
    let mut store = config.open();

    assert_eq!(store.get(None).unwrap().unwrap().name, "lab");

    store.set(edit("Lab")).unwrap();
    assert!(config.text().contains("\"CurrentProfile\": \"lab\""));
}

#[cfg(not(windows))]
#[test]
fn editing_a_profile_without_a_readable_credential_asks_for_one() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps51-windows.json");
    let (mut store, _) = config.open_logged();

    let error = store
        .set(ProfileEdit {
            wapi_version: Some("2.12".into()),
            ..edit("lab")
        })
        .unwrap_err();

    assert!(matches!(error, Error::MissingField { is_new: false, .. }));
    assert_eq!(
        error.to_string(),
        "Profile 'lab' has no usable credential; pass -Credential."
    );
}
