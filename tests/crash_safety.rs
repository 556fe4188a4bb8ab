//! Crash safety (issue 4): a process killed at any moment of a save leaves
//! a store that loads with the old or the new content, never a mix and
//! never an empty or half-written file.
//!
//! The test binary runs itself again as a child ([`child_process`]) that
//! opens a store and adds profiles in a loop, printing `SAVED <name>` after
//! each save. The parent kills it with SIGKILL after a random 1 to 40 ms
//! (counted from when the store is open), then loads the file and checks
//! that every reported profile is there, whole, with nothing else but at
//! most the one profile whose save finished just before the kill.
//! `IBWAPI_TEST_SEED` picks another sequence of delays.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use common::child::{self, Rng, Running};
use ibwapi_config::config_file::document;
use ibwapi_config::profile::{Profile, Secret};
use ibwapi_config::profiles::ProfileSet;
use ibwapi_config::vault::encrypted_file::EncryptedVaultFile;
use ibwapi_config::vault::value;
use tempfile::TempDir;

const FILE_KILLS: usize = 200;
const VAULT_KILLS: usize = 100;
/// Start again from an empty store this often, so that the file stays small.
const RESET_EVERY: usize = 25;

/// The child's side; does nothing in a normal test run.
#[test]
fn child_process() {
    child::run_child();
}

/// What the store held after one kill.
struct Loaded {
    profiles: Vec<Profile>,
    current: Vec<String>,
}

/// The parent's side: spawn, kill, check, `kills` times.
fn kill_and_check(mode: &str, kills: usize, load: &mut dyn FnMut(&Path) -> Option<Loaded>) {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("posh-ibwapi.json");
    let store_file = match mode {
        "vault" => dir.path().join("posh-ibwapi.vault"),
        _ => config.clone(),
    };
    let mut rng = Rng::from_env(0x1b_0d15_ea5e);
    let mut expected = BTreeSet::new();
    let mut killed_mid_run = 0;
    let mut killed_mid_write = 0;
    let start = Instant::now();

    for run in 0..kills {
        if run % RESET_EVERY == 0 {
            let _ = fs::remove_file(&store_file);
            expected.clear();
        }
        let prefix = format!("r{run}");
        let mut running = spawn(mode, &config, &prefix);
        assert!(
            running.wait_for("READY"),
            "run {run}: the child did not start"
        );

        thread::sleep(Duration::from_millis(rng.between(1, 40)));
        kill(&mut running);
        let saved = running.saved();
        if !saved.is_empty() {
            killed_mid_run += 1;
        }
        if temp_files(dir.path()) > 0 {
            killed_mid_write += 1;
        }
        expected.extend(saved.iter().cloned());

        let next = format!("{prefix}-{}", saved.len());
        if check(run, load(&store_file), &expected, &next) {
            expected.insert(next);
        }
    }

    let left = temp_files(dir.path());
    assert!(left <= 1, "{left} temporary files accumulated");
    eprintln!(
        "{mode}: {kills} kills in {:?}: {killed_mid_run} after at least one save, \
         {killed_mid_write} left a temporary file (killed while writing)",
        start.elapsed()
    );
    assert!(
        killed_mid_run >= kills / 2,
        "too few kills landed among the saves: {killed_mid_run} of {kills}"
    );
}

/// How many temporary files of an interrupted save are in `folder`.
fn temp_files(folder: &Path) -> usize {
    fs::read_dir(folder)
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".tmp")
        })
        .count()
}

fn spawn(mode: &str, config: &Path, prefix: &str) -> Running {
    child::spawn(
        "child_process",
        &[
            (child::MODE, mode.to_owned()),
            (child::CONFIG, config.to_str().unwrap().to_owned()),
            (child::PREFIX, prefix.to_owned()),
        ],
    )
}

fn kill(running: &mut Running) {
    let pid = libc::pid_t::try_from(running.child.id()).unwrap();
    // SAFETY: kill(2) with a process id we started and have not reaped.
    let result = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(result, 0, "kill failed");
    running.child.wait().unwrap();
}

/// Every reported profile is there and whole; besides them only `next`
/// (saved, killed before it could say so) may be; one current profile.
/// Returns whether `next` is there.
fn check(run: usize, loaded: Option<Loaded>, expected: &BTreeSet<String>, next: &str) -> bool {
    let Some(loaded) = loaded else {
        assert!(expected.is_empty(), "run {run}: the store is gone");
        return false;
    };

    let names: BTreeSet<String> = loaded.profiles.iter().map(|p| p.name.clone()).collect();
    let missing: Vec<_> = expected.difference(&names).collect();
    assert!(missing.is_empty(), "run {run}: lost {missing:?}");
    let extra: Vec<_> = names.difference(expected).collect();
    assert!(
        extra.is_empty() || extra == [next],
        "run {run}: unexpected {extra:?} (next would be {next})"
    );

    for profile in &loaded.profiles {
        assert_whole(run, profile);
    }
    if !names.is_empty() {
        assert_eq!(
            loaded.current.len(),
            1,
            "run {run}: current {:?}",
            loaded.current
        );
        assert!(
            names.contains(&loaded.current[0]),
            "run {run}: current not a profile"
        );
    }
    !extra.is_empty()
}

fn assert_whole(run: usize, profile: &Profile) {
    let name = &profile.name;
    let credential = profile.credential.as_ref().expect("a credential");

    assert_eq!(
        profile.wapi_host.as_deref(),
        Some(format!("{name}.example.test").as_str()),
        "run {run}"
    );
    assert_eq!(profile.wapi_version.as_deref(), Some("2.12"), "run {run}");
    assert_eq!(
        (credential.username.as_str(), credential.password.expose()),
        ("admin", "pass"),
        "run {run}: {name}"
    );
}

/// Parses the config file strictly: a damaged file or a credential warning
/// fails the test.
fn load_config(path: &Path) -> Option<Loaded> {
    let bytes = fs::read(path).ok()?;
    assert!(!bytes.is_empty(), "the config file is empty");

    let parsed = document::parse(&bytes)
        .unwrap_or_else(|detail| panic!("the config file does not parse: {detail}"));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    Some(loaded_from(&parsed.profiles))
}

fn loaded_from(profiles: &ProfileSet) -> Loaded {
    Loaded {
        profiles: profiles.iter().cloned().collect(),
        current: profiles
            .current_name()
            .map(str::to_owned)
            .into_iter()
            .collect(),
    }
}

/// Opens the vault file (once per vault: Argon2id is slow) and reads it
/// again after each kill; every secret must decode.
struct VaultChecker {
    vault: Option<(PathBuf, EncryptedVaultFile)>,
}

impl VaultChecker {
    fn load(&mut self, path: &Path) -> Option<Loaded> {
        if !path.exists() {
            self.vault = None;
            return None;
        }
        let vault = match &mut self.vault {
            Some((_, vault)) => {
                vault.reload().expect("the vault file opens");
                vault
            }
            None => {
                let vault = EncryptedVaultFile::open_existing(path, child::VAULT_PASS.as_bytes())
                    .expect("the vault file opens");
                &mut self.vault.insert((path.to_path_buf(), vault)).1
            }
        };

        let mut loaded = Loaded {
            profiles: Vec::new(),
            current: Vec::new(),
        };
        for secret in vault.names() {
            let name = secret
                .strip_prefix("poshibwapi-")
                .expect("a profile secret");
            let value = Secret::from(vault.get(secret).unwrap());
            let stored = value::decode(name, &value).expect("the secret decodes");
            if stored.current {
                loaded.current.push(name.to_owned());
            }
            loaded.profiles.push(stored.profile);
        }
        Some(loaded)
    }
}

#[test]
fn a_killed_save_leaves_the_old_or_the_new_config_file() {
    kill_and_check("file", FILE_KILLS, &mut load_config);
}

#[test]
fn a_killed_save_leaves_the_old_or_the_new_vault_file() {
    let mut checker = VaultChecker { vault: None };

    kill_and_check("vault", VAULT_KILLS, &mut |path| checker.load(path));
}
