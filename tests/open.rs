//! The open-time choice between the environment profile, a vault and the
//! file (BEHAVIOR.md A2), and what it logs.

mod common;

use common::{at_level, capture_logs, new_profile, ConfigDir};
use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::settings::Settings;
use ibwapi_config::{Error, Store, StoreKind};
use log::Level;
use pretty_assertions::assert_eq;

const PASSWORD: &str = "s3cr3t-env-pass";

fn env_settings(config: &ConfigDir) -> Vec<(&'static str, Option<String>)> {
    vec![
        (
            "config_path",
            Some(config.path.to_str().unwrap().to_owned()),
        ),
        ("IBWAPI_HOST", Some("gm.example.test".into())),
        ("IBWAPI_VERSION", Some("2.12".into())),
        ("IBWAPI_USERNAME", Some("admin".into())),
        ("IBWAPI_PASSWORD", Some(PASSWORD.into())),
        ("IBWAPI_SKIPCERTCHECK", Some("yes".into())),
    ]
}

fn settings_of(pairs: &[(&'static str, Option<String>)]) -> Settings {
    Settings::from_pairs(pairs.iter().map(|(name, value)| (*name, value.as_deref())))
}

fn open_logged(pairs: &[(&'static str, Option<String>)]) -> (Result<Store, Error>, Vec<String>) {
    let (store, records) =
        capture_logs(|| Store::open(&settings_of(pairs), Box::new(DefaultCollation)));
    let all = records
        .iter()
        .map(|(level, text)| format!("{level}: {text}"))
        .collect();
    (store, all)
}

fn set(pairs: &mut [(&'static str, Option<String>)], name: &str, value: Option<&str>) {
    let slot = pairs.iter_mut().find(|(n, _)| *n == name).unwrap();
    slot.1 = value.map(str::to_owned);
}

#[test]
fn the_environment_profile_wins_and_is_read_only() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");

    let (store, records) = open_logged(&env_settings(&config));
    let mut store = store.unwrap();

    assert_eq!(store.kind(), StoreKind::Environment);
    assert_eq!(common::names(&mut store), ["ENV"]);
    let env = store.get(None).unwrap().unwrap();
    assert_eq!(env.credential.as_ref().unwrap().password.expose(), PASSWORD);
    assert!(env.skip_certificate_check && !env.no_session);
    assert!(store.get(Some("env")).unwrap().is_some());
    assert!(records
        .iter()
        .any(|r| r.starts_with("INFO") && r.contains("admin@gm.example.test")));
    assert!(
        records.iter().all(|r| !r.contains(PASSWORD)),
        "{records:#?}"
    );

    let error = store.set(new_profile("x")).unwrap_err();
    assert!(matches!(error, Error::ReadOnlyStore));
    assert!(error
        .to_string()
        .contains("unset IBWAPI_HOST and import the module again"));
    assert!(matches!(store.remove(None), Err(Error::ReadOnlyStore)));
    assert!(matches!(store.remove_all(), Err(Error::ReadOnlyStore)));
    assert!(config.text().contains("\"lab\""), "the file is not touched");
}

#[test]
fn an_incomplete_environment_profile_warns_once_and_uses_the_file() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let cases = [
        (
            "IBWAPI_VERSION",
            Some("latest"),
            "IBWAPI_VERSION is missing or is not a valid version",
        ),
        ("IBWAPI_VERSION", None, "IBWAPI_VERSION is missing"),
        (
            "IBWAPI_USERNAME",
            Some(" "),
            "IBWAPI_USERNAME is missing or blank",
        ),
        (
            "IBWAPI_PASSWORD",
            Some(""),
            "IBWAPI_PASSWORD is missing or blank",
        ),
    ];

    for (name, value, expected) in cases {
        let mut pairs = env_settings(&config);
        set(&mut pairs, name, value);
        set(
            &mut pairs,
            "IBWAPI_PASSWORD",
            if name == "IBWAPI_PASSWORD" {
                value
            } else {
                None
            },
        );

        let (store, records) = open_logged(&pairs);

        let warnings: Vec<_> = records.iter().filter(|r| r.starts_with("WARN")).collect();
        assert_eq!(warnings.len(), 1, "{name}: {records:#?}");
        assert!(warnings[0].contains(expected), "{warnings:?}");
        assert!(warnings[0].ends_with("the environment-variable profile is not used."));
        assert_eq!(store.unwrap().kind(), StoreKind::File);
    }
}

#[test]
fn a_blank_host_means_no_environment_profile_and_no_warning() {
    let config = ConfigDir::empty();
    let mut pairs = env_settings(&config);
    set(&mut pairs, "IBWAPI_HOST", Some("  "));
    set(&mut pairs, "IBWAPI_VERSION", None);

    let (store, records) = open_logged(&pairs);

    assert_eq!(store.unwrap().kind(), StoreKind::File);
    assert!(
        records.iter().all(|r| !r.starts_with("WARN")),
        "{records:#?}"
    );
}

#[test]
fn a_vault_name_falls_back_to_the_file_with_an_error_record() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let pairs = vec![
        (
            "config_path",
            Some(config.path.to_str().unwrap().to_owned()),
        ),
        ("IBWAPI_VAULT_NAME", Some("MyVault".into())),
        ("IBWAPI_VAULT_PASS", Some("vault-pass".into())),
    ];

    let (store, records) = open_logged(&pairs);

    let store = store.unwrap();
    assert_eq!(store.kind(), StoreKind::File);
    assert_eq!(store.profiles().len(), 2);
    let errors: Vec<_> = records.iter().filter(|r| r.starts_with("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{records:#?}");
    assert!(errors[0].contains("SecretManagement is not installed"));
    assert!(errors[0].contains("'MyVault'"));
    assert!(errors[0].contains(&format!("config file {} instead", config.path.display())));
    assert!(records.iter().all(|r| !r.contains("vault-pass")));
}

#[test]
fn the_file_choice_is_logged_at_info_level() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");

    let (_, records) = config.open_logged();

    let info = at_level(&records, Level::Info);
    let path = config.path.display().to_string();
    assert!(info
        .iter()
        .any(|r| r.starts_with("using the config file") && r.contains(&path)));
    assert!(info
        .iter()
        .any(|r| r.contains("loaded 2 profile(s)") && r.contains("'lab'")));
}

#[test]
fn a_missing_file_gives_no_profiles_and_no_warning() {
    let config = ConfigDir::empty();

    let (store, records) = config.open_logged();

    assert!(store.profiles().is_empty());
    assert!(at_level(&records, Level::Warn).is_empty());
}

#[test]
fn config_path_is_required_for_the_file() {
    let result = Store::open(&Settings::default(), Box::new(DefaultCollation));

    let Err(Error::InvalidArgument { argument, .. }) = result else {
        panic!("expected InvalidArgument, got {result:?}");
    };
    assert_eq!(argument, "config_path");
}

#[test]
fn unknown_settings_are_ignored_with_a_debug_record() {
    let ((), records) = capture_logs(|| {
        Settings::from_pairs([("IBWAPI_FUTURE", Some("x"))]);
    });

    assert!(at_level(&records, Level::Debug)
        .iter()
        .any(|r| r.contains("IBWAPI_FUTURE")));
}

#[test]
fn no_log_record_holds_a_password() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let ((), records) = capture_logs(|| {
        let mut store = config.open();
        store.set(new_profile("x")).unwrap();
        store.list();
        store.remove(Some("x")).unwrap();
    });

    for (_, record) in records {
        for secret in ["infoblox", "Pä$$", "pass\"", "aQBuAGYAbwBiAGwAbwB4AA"] {
            assert!(!record.contains(secret), "{record}");
        }
    }
}
