//! Loading the Posh-IBWAPI 4.x files in tests/fixtures (see its README).

mod common;

use std::fs;
use std::path::Path;

use common::{at_level, fixture, new_profile, ConfigDir};
use ibwapi_config::profile::Profile;
use ibwapi_config::StoreKind;
use log::Level;
use pretty_assertions::assert_eq;

const FIXTURES: [&str; 6] = [
    "README.md",
    "posh-ibwapi.older.json",
    "posh-ibwapi.ps51-windows.json",
    "posh-ibwapi.ps7-linux.json",
    "posh-ibwapi.truncated.json",
    "vault.4x-default-template.json",
];

fn password(profile: &Profile) -> Option<&str> {
    profile.credential.as_ref().map(|c| c.password.expose())
}

#[test]
fn fixture_copies_match_the_shared_originals() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    if !shared.is_dir() {
        eprintln!("{} is not there; nothing to compare", shared.display());
        return;
    }

    for name in FIXTURES {
        let original = fs::read(shared.join(name)).expect("the shared fixture");
        let copy = fs::read(fixture(name)).expect("the copied fixture");
        assert!(
            original == copy,
            "tests/fixtures/{name} differs from ../shared/fixtures"
        );
    }
}

#[test]
fn ps7_linux_file_loads_both_profiles_and_passwords() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");

    let (store, records) = config.open_logged();

    assert_eq!(store.kind(), StoreKind::File);
    assert_eq!(store.profiles().len(), 2);
    assert_eq!(store.profiles().current_name(), Some("lab"));
    assert!(at_level(&records, Level::Warn).is_empty());

    let lab = store.get(Some("lab")).unwrap().unwrap();
    assert_eq!(lab.wapi_host.as_deref(), Some("gm-lab.example.test"));
    assert_eq!(password(lab), Some("infoblox"));
    assert!(lab.skip_certificate_check && !lab.no_session);

    let prod = store.get(Some("prod")).unwrap().unwrap();
    assert_eq!(prod.wapi_version.as_deref(), Some("2.11.3"));
    assert_eq!(prod.credential.as_ref().unwrap().username, "svc-ipam");
    assert_eq!(password(prod), Some("Pä$$ wörd ✓ \"quoted\""));
    assert!(prod.no_session && !prod.skip_certificate_check);
}

#[cfg(not(windows))]
#[test]
fn ps51_windows_file_loads_without_credentials_and_warns_per_profile() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps51-windows.json");

    let (store, records) = config.open_logged();

    assert_eq!(store.profiles().len(), 2);
    assert_eq!(store.profiles().current_name(), Some("prod"));

    let prod = store.get(Some("prod")).unwrap().unwrap();
    assert_eq!(prod.wapi_host.as_deref(), Some("gm.example.test"));
    assert_eq!(prod.wapi_version.as_deref(), Some("2.11"));
    let lab = store.get(Some("lab")).unwrap().unwrap();
    assert_eq!(lab.wapi_host.as_deref(), Some("gm-lab.example.test"));
    assert_eq!(lab.wapi_version.as_deref(), Some("2.5"));
    assert!(lab.skip_certificate_check);
    assert!(prod.credential.is_none() && lab.credential.is_none());

    let warnings = at_level(&records, Level::Warn);
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(warnings[0].starts_with("Profile 'prod': ") && warnings[0].contains("DPAPI"));
    assert!(warnings[1].starts_with("Profile 'lab': ") && warnings[1].contains("Windows"));
    assert!(warnings[1].contains("Set-IBConfig -ProfileName 'lab' -Credential (Get-Credential)"));
}

#[test]
fn older_file_has_no_current_profile_and_default_flags() {
    let config = ConfigDir::with_fixture("posh-ibwapi.older.json");

    let (store, records) = config.open_logged();

    assert_eq!(store.profiles().len(), 2);
    assert_eq!(store.profiles().current_name(), None);
    assert!(store.get(None).unwrap().is_none());
    assert!(at_level(&records, Level::Warn).is_empty());

    let legacy = store.get(Some("legacy")).unwrap().unwrap();
    assert_eq!(password(legacy), Some("legacy-pass"));
    assert!(!legacy.skip_certificate_check && !legacy.no_session);

    let nocred = store.get(Some("nocred")).unwrap().unwrap();
    assert!(nocred.credential.is_none());
    assert!(nocred.skip_certificate_check && !nocred.no_session);
}

#[test]
fn truncated_file_warns_loads_nothing_and_is_kept() {
    let config = ConfigDir::with_fixture("posh-ibwapi.truncated.json");
    let original = fs::read(&config.path).unwrap();

    let (store, records) = config.open_logged();

    assert!(store.profiles().is_empty());
    let warnings = at_level(&records, Level::Warn);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let path = config.path.display().to_string();
    assert!(warnings[0].starts_with(&format!("could not parse config file {path}: ")));
    assert!(warnings[0].contains(&format!("will be moved aside to {path}.corrupt-")));
    assert_eq!(
        fs::read(&config.path).unwrap(),
        original,
        "the file must be untouched"
    );
}

#[test]
fn saving_after_a_truncated_file_moves_it_aside_first() {
    let config = ConfigDir::with_fixture("posh-ibwapi.truncated.json");
    let original = fs::read(&config.path).unwrap();
    let mut store = config.open();

    let (result, records) = common::capture_logs(|| store.set(new_profile("fresh")));

    result.expect("the save succeeds");
    let files = config.files();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0], "posh-ibwapi.json");
    assert!(
        files[1].starts_with("posh-ibwapi.json.corrupt-"),
        "{files:?}"
    );
    assert!(files[1].ends_with('Z') && files[1].len() == "posh-ibwapi.json.corrupt-".len() + 16);
    assert_eq!(
        fs::read(config.dir.path().join(&files[1])).unwrap(),
        original
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(config.dir.path().join(&files[1]))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the kept copy may hold passwords: owner only"
        );
    }
    assert!(config.text().contains("\"fresh\""));
    let warnings = at_level(&records, Level::Warn);
    assert!(warnings
        .iter()
        .any(|w| w.contains("moved the damaged config file")));
}
