//! What is loaded is written back unchanged, in 4.x's format.

mod common;

use std::collections::HashSet;
use std::fs;

use common::{capture_logs, fixture, new_profile, ConfigDir};
use ibwapi_config::config_file::{document, ConfigFile};
use ibwapi_config::profile::{fold_name, Credential, Profile, Secret};
use ibwapi_config::profiles::ProfileSet;
use ibwapi_config::store::Backend;
use pretty_assertions::assert_eq;
use proptest::prelude::*;

fn parse_fixture(name: &str) -> ProfileSet {
    let bytes = fs::read(fixture(name)).unwrap();
    document::parse(&bytes)
        .expect("the fixture parses")
        .profiles
}

/// Every field of every profile, passwords included, for comparisons.
fn snapshot(profiles: &ProfileSet) -> Vec<String> {
    let mut lines = vec![format!("current={:?}", profiles.current_name())];

    for p in profiles.iter() {
        let credential = p
            .credential
            .as_ref()
            .map(|c| (&c.username, c.password.expose()));
        lines.push(format!(
            "{:?} host={:?} version={:?} cred={credential:?} kept={} skip={} nosession={}",
            p.name,
            p.wapi_host,
            p.wapi_version,
            p.unreadable_credential.is_some(),
            p.skip_certificate_check,
            p.no_session
        ));
    }
    lines
}

#[cfg(not(windows))]
#[test]
fn ps7_file_is_written_back_byte_for_byte() {
    let original = fs::read_to_string(fixture("posh-ibwapi.ps7-linux.json")).unwrap();

    let written = document::render(&parse_fixture("posh-ibwapi.ps7-linux.json")).unwrap();

    assert_eq!(written.as_str(), original);
}

#[test]
fn older_file_keeps_every_field() {
    let loaded = parse_fixture("posh-ibwapi.older.json");

    let written = document::render(&loaded).unwrap();
    let reloaded = document::parse(written.as_bytes()).unwrap().profiles;

    assert_eq!(snapshot(&reloaded), snapshot(&loaded));
    assert!(written.starts_with("{\n  \"CurrentProfile\": \"\",\n  \"Profiles\": {\n"));
    let saved: serde_json_lenient::Value = serde_json_lenient::from_str(&written).unwrap();
    let nocred_keys: Vec<&str> = saved["Profiles"]["nocred"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        nocred_keys,
        [
            "WAPIHost",
            "WAPIVersion",
            "SkipCertificateCheck",
            "NoSession"
        ]
    );
}

#[cfg(not(windows))]
#[test]
fn windows_dpapi_credentials_are_written_back_verbatim() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps51-windows.json");
    let original: serde_json_lenient::Value = serde_json_lenient::from_str(
        fs::read_to_string(&config.path)
            .unwrap()
            .trim_start_matches('\u{feff}'),
    )
    .unwrap();
    let (mut store, _) = config.open_logged();

    let (result, _) = capture_logs(|| store.set(new_profile("linux")));
    result.unwrap();

    let saved: serde_json_lenient::Value = serde_json_lenient::from_str(&config.text()).unwrap();
    for name in ["prod", "lab"] {
        assert_eq!(
            saved["Profiles"][name]["Credential"], original["Profiles"][name]["Credential"],
            "the DPAPI credential of {name} must survive a save on Linux"
        );
        assert!(saved["Profiles"][name]["Credential"]
            .get("IsBase64")
            .is_none());
    }
    assert_eq!(saved["CurrentProfile"], "linux");
}

#[cfg(not(windows))]
#[test]
fn a_new_credential_replaces_the_kept_dpapi_one() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps51-windows.json");
    let (mut store, _) = config.open_logged();
    let mut edit = common::edit("lab");
    edit.credential = Some(Credential::new("admin", Secret::from("new")));

    let (result, _) = capture_logs(|| store.set(edit));
    result.unwrap();

    let (reopened, records) = config.open_logged();
    let lab = reopened.get(Some("lab")).unwrap().unwrap();
    assert_eq!(lab.credential.as_ref().unwrap().password.expose(), "new");
    assert!(lab.unreadable_credential.is_none());
    let warnings = common::at_level(&records, log::Level::Warn);
    assert_eq!(warnings.len(), 1, "only prod still warns: {warnings:?}");
}

#[cfg(unix)]
#[test]
fn the_saved_file_is_private_and_ends_with_a_newline() {
    use std::os::unix::fs::PermissionsExt;

    let config = ConfigDir::empty();
    let nested = config.dir.path().join("a/b/posh-ibwapi.json");
    let settings = ibwapi_config::settings::Settings::from_pairs([(
        "config_path",
        Some(nested.to_str().unwrap()),
    )]);
    let mut store = common::open_with(&settings);

    store.set(new_profile("lab")).unwrap();

    let mode = |path: &std::path::Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&nested), 0o600);
    assert_eq!(mode(&config.dir.path().join("a/b")), 0o700);
    assert_eq!(mode(&config.dir.path().join("a")), 0o700);
    let text = fs::read(&nested).unwrap();
    assert!(text.ends_with(b"}\n") && !text.starts_with(b"\xEF\xBB\xBF"));
    assert!(!text.contains(&b'\r'));
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"'{}\\[\\]$`\\\\ \t\r\n\u{0}\u{1f}\u{85}\u{2028}\u{2029}a-zA-Zäß✓𝄞]{0,12}",
    ]
}

fn any_profile() -> impl Strategy<Value = Profile> {
    let name = any_text().prop_filter("not blank", |n| !n.trim().is_empty());
    let credential = proptest::option::of((any_text(), any_text()));
    let fields = (
        proptest::option::of(any_text()),
        proptest::option::of(any_text()),
    );

    (name, fields, credential, any::<bool>(), any::<bool>()).prop_map(
        |(name, (host, version), credential, skip, no_session)| {
            let mut profile = Profile::new(name);
            profile.wapi_host = host;
            profile.wapi_version = version;
            profile.credential =
                credential.map(|(user, pass)| Credential::new(user, Secret::new(pass)));
            profile.skip_certificate_check = skip;
            profile.no_session = no_session;
            profile
        },
    )
}

fn any_profile_set() -> impl Strategy<Value = ProfileSet> {
    (
        proptest::collection::vec(any_profile(), 1..6),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(profiles, current)| {
            let mut seen = HashSet::new();
            let mut set = ProfileSet::new();
            let current = current.get(&profiles).name.clone();
            for profile in profiles {
                if seen.insert(fold_name(&profile.name)) {
                    set.try_push(profile).unwrap();
                }
            }
            set.set_current_name(Some(current));
            set
        })
}

proptest! {
    #[test]
    fn any_profiles_survive_save_and_load(profiles in any_profile_set()) {
        let config = ConfigDir::empty();
        let (mut file, _) = ConfigFile::open(config.path.clone());

        file.save(&profiles).unwrap();
        let (_, reloaded) = ConfigFile::open(config.path.clone());

        prop_assert_eq!(snapshot(&reloaded), snapshot(&profiles));
    }
}

fn any_edit() -> impl Strategy<Value = (String, String, String, String)> {
    let not_blank = |t: &String| !t.trim().is_empty();
    (
        any_text().prop_filter("a usable name", move |n| {
            not_blank(n) && !n.eq_ignore_ascii_case("env")
        }),
        any_text().prop_filter("a host", not_blank),
        any_text().prop_filter("a user name", |u| !u.is_empty()),
        any_text(),
    )
}

proptest! {
    #[test]
    fn any_profile_set_through_the_store_reloads_the_same(
        (name, host, user, pass) in any_edit()
    ) {
        let config = ConfigDir::empty();
        let mut store = config.open();
        let edit = ibwapi_config::profiles::ProfileEdit {
            profile_name: Some(name.clone()),
            wapi_host: Some(host.clone()),
            wapi_version: Some("2.12.1".into()),
            credential: Some(Credential::new(user.clone(), Secret::new(pass.clone()))),
            ..Default::default()
        };

        store.set(edit).unwrap();
        let reloaded = config.open();

        let profile = reloaded.get(None).unwrap().unwrap();
        prop_assert_eq!(&profile.name, &name);
        prop_assert_eq!(profile.wapi_host.as_deref(), Some(host.as_str()));
        let credential = profile.credential.as_ref().unwrap();
        prop_assert_eq!(&credential.username, &user);
        prop_assert_eq!(credential.password.expose(), pass.as_str());
    }
}
