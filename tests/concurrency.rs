//! Concurrent processes (issue 4): four processes that each add 50
//! profiles to the same store at the same time keep all 200, with the
//! right fields. The test binary runs itself again as each child
//! ([`child_process`]); the children open the store, say `READY`, and all
//! start adding when the parent writes a line to them.

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use common::child::{self, Running};
use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::Store;
use pretty_assertions::assert_eq;
use tempfile::TempDir;

const CHILDREN: usize = 4;
const PROFILES_EACH: usize = 50;

/// The child's side; does nothing in a normal test run.
#[test]
fn child_process() {
    child::run_child();
}

fn add_at_once(mode: &str) {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("posh-ibwapi.json");
    let start = Instant::now();

    let mut children: Vec<Running> = (0..CHILDREN)
        .map(|index| spawn(mode, &config, index))
        .collect();
    for running in &mut children {
        assert!(running.wait_for("READY"), "a child did not start");
    }
    for running in &mut children {
        let mut stdin = running.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
    }

    let mut reported = BTreeSet::new();
    for mut running in children {
        reported.extend(running.saved());
        let status = running.child.wait().unwrap();
        assert!(status.success(), "a child failed: {status}");
    }
    assert_eq!(reported.len(), CHILDREN * PROFILES_EACH);

    let mut store = Store::open(&child::settings(mode, &config), Box::new(DefaultCollation))
        .expect("the store opens");
    let names: BTreeSet<String> = store.list().into_iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, reported, "every profile of every process is there");
    for profile in store.list() {
        let credential = profile.credential.as_ref().unwrap();
        let expected_host = format!("{}.example.test", profile.name);
        assert_eq!(profile.wapi_host.as_deref(), Some(expected_host.as_str()));
        assert_eq!(profile.wapi_version.as_deref(), Some("2.12"));
        assert_eq!(credential.username, "admin");
        assert_eq!(credential.password.expose(), "pass");
        assert!(!profile.skip_certificate_check && !profile.no_session);
    }
    let current = store.profiles().current_name().expect("a current profile");
    assert!(
        current.ends_with(&format!("-{}", PROFILES_EACH - 1)),
        "the last save made its profile current: {current}"
    );
    eprintln!(
        "{mode}: {CHILDREN} processes x {PROFILES_EACH} profiles in {:?}",
        start.elapsed()
    );
}

fn spawn(mode: &str, config: &Path, index: usize) -> Running {
    child::spawn(
        "child_process",
        &[
            (child::MODE, mode.to_owned()),
            (child::CONFIG, config.to_str().unwrap().to_owned()),
            (child::PREFIX, format!("p{index}")),
            (child::COUNT, PROFILES_EACH.to_string()),
        ],
    )
}

#[test]
fn four_processes_adding_to_the_config_file_keep_all_profiles() {
    add_at_once("file");
}

#[test]
fn four_processes_adding_to_the_vault_file_keep_all_profiles() {
    add_at_once("vault");
}
