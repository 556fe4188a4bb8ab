//! What the two keyring test files (`keyring_keyutils.rs`,
//! `keyring_secret_service.rs`) share: test data, unique names, clean-up,
//! store helpers, and the scenarios both keyrings must pass alike.
#![allow(dead_code)] // Each keyring uses a different part of this module.

use std::sync::atomic::{AtomicU32, Ordering};

use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::profile::{Credential, Secret};
use ibwapi_config::profiles::ProfileEdit;
use ibwapi_config::settings::Settings;
use ibwapi_config::vault::SecretVault;
use ibwapi_config::{Store, StoreKind};

/// A profile value with quotes, braces, backslashes and non-ASCII text.
pub const JSON_VALUE: &str = concat!(
    r#"{"WAPIHost":"gm.example.com","WAPIVersion":"2.12","#,
    r#""Credential":{"Username":"admin ünïcødé","Password":"p\"w{}[]\\ 🔑 \u00e9"},"#,
    r#""SkipCertificateCheck":false,"NoSession":true,"Current":true}"#
);

/// A profile value that is not current, for seeding many profiles.
pub const PLAIN_PROFILE: &str = concat!(
    r#"{"WAPIHost":"gm.example.com","WAPIVersion":"2.12","#,
    r#""Credential":{"Username":"admin","Password":"pw"},"#,
    r#""SkipCertificateCheck":false,"NoSession":false,"Current":false}"#
);

/// A name no other test (or earlier run) uses.
pub fn unique(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "poshibwapi-test-{tag}-{}-{count}-{nanos}",
        std::process::id()
    )
}

/// Removes the listed secrets when dropped, through a vault that `open`
/// opens then (the test's own handles may be gone or broken by then).
pub struct Cleanup<V: SecretVault> {
    /// The secrets to remove.
    pub names: Vec<String>,
    /// Opens the vault to remove them from.
    pub open: fn() -> Option<V>,
}

impl<V: SecretVault> Drop for Cleanup<V> {
    fn drop(&mut self) {
        if let Some(mut vault) = (self.open)() {
            for name in &self.names {
                let _ = vault.remove_secret(name);
            }
        }
    }
}

/// The text of the secret `name`, or `None` when there is none.
pub fn read_text(vault: &mut impl SecretVault, name: &str) -> Option<String> {
    let secret = vault.read_secret(name).expect("read");
    secret.map(|s| s.expose().to_owned())
}

/// Opens the store of `settings`, which must be a vault store.
pub fn open_store(settings: &Settings) -> Store {
    let store = Store::open(settings, Box::new(DefaultCollation)).expect("open");
    assert_eq!(store.kind(), StoreKind::Vault);
    store
}

/// Set-IBConfig of the profile `lab` with `host` and a credential.
pub fn lab_with_host(host: &str) -> ProfileEdit {
    ProfileEdit {
        profile_name: Some("lab".to_owned()),
        wapi_host: Some(host.to_owned()),
        wapi_version: Some("2.12".to_owned()),
        credential: Some(Credential::new("admin", Secret::from("pw"))),
        ..Default::default()
    }
}

/// The host of the profile `lab`, or `None` when there is no such profile.
pub fn lab_host(store: &Store) -> Option<String> {
    let lab = store.get(Some("lab")).expect("get");
    lab.and_then(|lab| lab.wapi_host.clone())
}

/// The profile count of the timing tests: `IBWAPI_TIMING_COUNT`, else 1,000.
pub fn timing_count() -> usize {
    let count = std::env::var("IBWAPI_TIMING_COUNT").ok();
    count.and_then(|c| c.parse().ok()).unwrap_or(1000)
}

/// Writes, rewrites and removals of `mine` are no change to `mine`, but they
/// do not hide a secret `other` added before them.
pub fn own_writes_hide_no_other_change<V: SecretVault>(
    mine: &mut V,
    other: &mut V,
    open: fn() -> Option<V>,
) {
    let (own, others) = (unique("own"), unique("others"));
    let _cleanup = Cleanup {
        names: vec![own.clone(), others.clone()],
        open,
    };
    mine.list_secrets().expect("list");

    mine.write_secret(&own, &Secret::from("1")).expect("write");
    assert_eq!(mine.changed().expect("check"), Some(false), "own write");
    mine.write_secret(&own, &Secret::from("2"))
        .expect("rewrite");
    assert_eq!(mine.changed().expect("check"), Some(false), "own rewrite");
    mine.remove_secret(&own).expect("remove");
    assert_eq!(mine.changed().expect("check"), Some(false), "own removal");

    other
        .write_secret(&others, &Secret::from("x"))
        .expect("write");
    mine.write_secret(&own, &Secret::from("3")).expect("write");
    assert_eq!(
        mine.changed().expect("check"),
        Some(true),
        "the other handle's secret, added before this handle's write"
    );
}

/// Two stores on one vault: a profile the other removes and saves again,
/// then removes, is seen by the first at each refresh.
pub fn store_sees_removal_and_recreation(mine: &mut Store, other: &mut Store) {
    mine.set(lab_with_host("first.example.test")).expect("set");
    assert!(!mine.refresh(), "its own write is no change");
    assert!(other.refresh(), "a new secret");
    other.remove(Some("lab")).expect("remove");
    other
        .set(lab_with_host("second.example.test"))
        .expect("set again");

    assert!(mine.refresh(), "a new secret in place of the old one");
    assert_eq!(lab_host(mine).as_deref(), Some("second.example.test"));
    assert!(!mine.refresh());

    other.remove(Some("lab")).expect("remove");
    assert!(mine.refresh(), "a removed secret");
    assert_eq!(lab_host(mine), None);
}
