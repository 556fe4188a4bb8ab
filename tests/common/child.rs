//! Child processes for the crash and concurrency tests: the test binary
//! runs itself again with one test selected and its instructions in
//! environment variables.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use ibwapi_config::collation::DefaultCollation;
use ibwapi_config::settings::Settings;
use ibwapi_config::Store;

/// What the child does: `file` or `vault`, the store it opens.
pub const MODE: &str = "IBWAPI_TEST_CHILD";
/// The config file's path.
pub const CONFIG: &str = "IBWAPI_TEST_CONFIG";
/// The prefix of the profile names the child adds.
pub const PREFIX: &str = "IBWAPI_TEST_PREFIX";
/// How many profiles to add; unset: until killed.
pub const COUNT: &str = "IBWAPI_TEST_COUNT";

/// The vault password of the `vault` mode.
pub const VAULT_PASS: &str = "child vault pass";

/// A running child, its standard input and its output lines.
pub struct Running {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub lines: Lines<BufReader<ChildStdout>>,
}

impl Running {
    /// Reads lines until one ends with `wanted` (the test harness prints
    /// `test <name> ... ` before the child's first line); false at the end
    /// of output.
    pub fn wait_for(&mut self, wanted: &str) -> bool {
        self.lines
            .by_ref()
            .map_while(Result::ok)
            .any(|line| line.ends_with(wanted))
    }

    /// The names of the `SAVED <name>` lines still to come, until the end
    /// of the output.
    pub fn saved(&mut self) -> Vec<String> {
        self.lines
            .by_ref()
            .map_while(Result::ok)
            .filter_map(|line| line.strip_prefix("SAVED ").map(str::to_owned))
            .collect()
    }
}

/// Starts this test binary again, running only `test`, with `envs`.
pub fn spawn(test: &str, envs: &[(&str, String)]) -> Running {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .envs(envs.iter().map(|(name, value)| (*name, value)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the test binary starts");

    let stdout = child.stdout.take().expect("piped");
    Running {
        stdin: child.stdin.take(),
        lines: BufReader::new(stdout).lines(),
        child,
    }
}

/// The settings a child opens in `mode` on the config file `config`.
pub fn settings(mode: &str, config: &Path) -> Settings {
    let config = config.to_str().expect("a UTF-8 path");
    let mut pairs = vec![("config_path", Some(config))];
    if mode == "vault" {
        pairs.push(("IBWAPI_VAULT_NAME", Some("[file]")));
        pairs.push(("IBWAPI_VAULT_PASS", Some(VAULT_PASS)));
    }
    Settings::from_pairs(pairs)
}

/// The child's side, when this process is a child: opens the store, says
/// `READY`, waits for a line on standard input when `COUNT` is set, then
/// adds profiles `<prefix>-0`, `<prefix>-1`, … printing `SAVED <name>`
/// after each save. Returns at once in a normal test run.
pub fn run_child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let config = std::env::var(CONFIG).expect("the config path");
    let prefix = std::env::var(PREFIX).expect("the name prefix");
    let count: Option<usize> = std::env::var(COUNT).ok().map(|c| c.parse().unwrap());

    let settings = settings(&mode, Path::new(&config));
    let mut store = Store::open(&settings, Box::new(DefaultCollation)).expect("the store opens");
    println!("READY");
    if count.is_some() {
        let mut go = String::new();
        std::io::stdin()
            .read_line(&mut go)
            .expect("the start signal");
    }

    for index in 0..count.unwrap_or(usize::MAX) {
        let name = format!("{prefix}-{index}");
        store
            .set(super::new_profile(&name))
            .unwrap_or_else(|error| panic!("saving {name}: {error}"));
        println!("SAVED {name}");
    }
}

/// A small seeded generator (xorshift64*), enough to spread kill times.
pub struct Rng(u64);

impl Rng {
    /// From `IBWAPI_TEST_SEED` when set, else `default`; says which.
    pub fn from_env(default: u64) -> Rng {
        let seed = std::env::var("IBWAPI_TEST_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or(default);
        eprintln!("random seed {seed} (set IBWAPI_TEST_SEED to repeat another)");
        Rng(seed.max(1))
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        low + value % (high - low + 1)
    }
}
