//! Helpers shared by the integration tests.
#![allow(dead_code)] // Each test file uses a different part of this module.

pub mod child;
pub mod host;

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Once;

use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::profile::{Credential, Secret};
use ibwapi_config::profiles::ProfileEdit;
use ibwapi_config::settings::Settings;
use ibwapi_config::Store;
use log::{Level, LevelFilter, Log, Metadata, Record};
use tempfile::TempDir;

/// The fixtures copied into this repository.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A temporary folder holding `posh-ibwapi.json`, optionally a copy of a
/// fixture.
pub struct ConfigDir {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl ConfigDir {
    pub fn empty() -> ConfigDir {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("posh-ibwapi.json");
        ConfigDir { dir, path }
    }

    pub fn with_fixture(name: &str) -> ConfigDir {
        let config = ConfigDir::empty();
        fs::copy(fixture(name), &config.path).expect("the fixture copies");
        config
    }

    pub fn settings(&self) -> Settings {
        self.settings_with(&[])
    }

    /// The settings of this file, with the `IBWAPI_*` values `pairs`.
    pub fn settings_with(&self, pairs: &[(&str, &str)]) -> Settings {
        let path = self.path.to_str().expect("a UTF-8 temporary path");
        Settings::from_pairs(
            [("config_path", Some(path))]
                .into_iter()
                .chain(pairs.iter().map(|(n, v)| (*n, Some(*v)))),
        )
    }

    pub fn open(&self) -> Store {
        open_with(&self.settings())
    }

    /// Opens the store and returns the log records emitted meanwhile.
    pub fn open_logged(&self) -> (Store, Vec<(Level, String)>) {
        capture_logs(|| self.open())
    }

    pub fn text(&self) -> String {
        fs::read_to_string(&self.path).expect("the config file is readable")
    }

    /// The names of the files in the folder, sorted, leaving out the save
    /// lock `posh-ibwapi.json.lock` (which every save creates and leaves).
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .all_files()
            .into_iter()
            .filter(|name| name != "posh-ibwapi.json.lock")
            .collect();
        names.sort();
        names
    }

    /// The names of all the files in the folder, sorted.
    pub fn all_files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path())
            .expect("the folder is readable")
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

pub fn open_with(settings: &Settings) -> Store {
    Store::open(settings, Box::new(DefaultCollation)).expect("the store opens")
}

/// A complete new profile: host, credential and version.
pub fn new_profile(name: &str) -> ProfileEdit {
    ProfileEdit {
        profile_name: Some(name.to_owned()),
        wapi_host: Some(format!("{}.example.test", name.to_lowercase())),
        wapi_version: Some("2.12".to_owned()),
        credential: Some(Credential::new("admin", Secret::from("pass"))),
        ..ProfileEdit::default()
    }
}

/// An edit naming `name` and changing nothing yet.
pub fn edit(name: &str) -> ProfileEdit {
    ProfileEdit {
        profile_name: Some(name.to_owned()),
        ..ProfileEdit::default()
    }
}

/// The profile names of `store` in list order.
pub fn names(store: &mut Store) -> Vec<String> {
    store.list().into_iter().map(|p| p.name.clone()).collect()
}

thread_local! {
    static RECORDS: RefCell<Option<Vec<(Level, String)>>> = const { RefCell::new(None) };
}

struct CapturingLogger;

impl Log for CapturingLogger {
    fn enabled(&self, _: &Metadata) -> bool {
        true
    }

    fn log(&self, record: &Record) {
        RECORDS.with(|records| {
            if let Some(records) = records.borrow_mut().as_mut() {
                records.push((record.level(), record.args().to_string()));
            }
        });
    }

    fn flush(&self) {}
}

static LOGGER: CapturingLogger = CapturingLogger;
static INSTALL: Once = Once::new();

/// Runs `body` and returns the log records it emitted on this thread.
pub fn capture_logs<T>(body: impl FnOnce() -> T) -> (T, Vec<(Level, String)>) {
    INSTALL.call_once(|| {
        log::set_logger(&LOGGER).expect("no other logger in the test binary");
        log::set_max_level(LevelFilter::Trace);
    });

    RECORDS.with(|records| *records.borrow_mut() = Some(Vec::new()));
    let value = body();
    let records = RECORDS.with(|records| records.borrow_mut().take().unwrap_or_default());
    (value, records)
}

/// The messages at `level`.
pub fn at_level(records: &[(Level, String)], level: Level) -> Vec<String> {
    records
        .iter()
        .filter(|(record_level, _)| *record_level == level)
        .map(|(_, message)| message.clone())
        .collect()
}
