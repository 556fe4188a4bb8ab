//! The named settings the module passes when it opens the store.
//!
//! The core never reads environment variables itself: the module reads the
//! `IBWAPI_*` variables, computes the config file's path, and passes them by
//! name. Unknown names are ignored (with a debug record), so a newer module
//! can pass settings an older core does not know.

use std::fmt;
use std::path::PathBuf;

use crate::profile::Secret;

/// `IBWAPI_HOST`: the environment profile's host; not blank turns it on.
pub const HOST: &str = "IBWAPI_HOST";
/// `IBWAPI_VERSION`: the environment profile's WAPI version.
pub const VERSION: &str = "IBWAPI_VERSION";
/// `IBWAPI_USERNAME`: the environment profile's user name.
pub const USERNAME: &str = "IBWAPI_USERNAME";
/// `IBWAPI_PASSWORD`: the environment profile's password.
pub const PASSWORD: &str = "IBWAPI_PASSWORD";
/// `IBWAPI_SKIPCERTCHECK`: the environment profile's SkipCertificateCheck.
pub const SKIP_CERT_CHECK: &str = "IBWAPI_SKIPCERTCHECK";
/// `IBWAPI_NOSESSION`: the environment profile's NoSession.
pub const NO_SESSION: &str = "IBWAPI_NOSESSION";
/// `IBWAPI_VAULT_NAME`: the vault holding the profiles; not blank turns it on.
pub const VAULT_NAME: &str = "IBWAPI_VAULT_NAME";
/// `IBWAPI_VAULT_SECRET_TEMPLATE`: secret name template, `{0}` = profile.
pub const VAULT_SECRET_TEMPLATE: &str = "IBWAPI_VAULT_SECRET_TEMPLATE";
/// `IBWAPI_VAULT_PASS`: the password that unlocks the vault.
pub const VAULT_PASS: &str = "IBWAPI_VAULT_PASS";
/// `IBWAPI_CONFIG_SYNC`: `off` (any letter case) turns the refresh before
/// each cmdlet into a no-op; any other value, or unset, leaves it on.
pub const CONFIG_SYNC: &str = "IBWAPI_CONFIG_SYNC";
/// `config_path`: the full path of `posh-ibwapi.json`, chosen by the module.
pub const CONFIG_PATH: &str = "config_path";

/// The settings given at open time. `None` means unset.
#[derive(Clone, Default)]
pub struct Settings {
    /// `IBWAPI_HOST`.
    pub host: Option<String>,
    /// `IBWAPI_VERSION`.
    pub version: Option<String>,
    /// `IBWAPI_USERNAME`.
    pub username: Option<String>,
    /// `IBWAPI_PASSWORD`.
    pub password: Option<Secret>,
    /// `IBWAPI_SKIPCERTCHECK`, as given.
    pub skip_cert_check: Option<String>,
    /// `IBWAPI_NOSESSION`, as given.
    pub no_session: Option<String>,
    /// `IBWAPI_VAULT_NAME`.
    pub vault_name: Option<String>,
    /// `IBWAPI_VAULT_SECRET_TEMPLATE`.
    pub vault_secret_template: Option<String>,
    /// `IBWAPI_VAULT_PASS`.
    pub vault_pass: Option<Secret>,
    /// `IBWAPI_CONFIG_SYNC`, as given.
    pub config_sync: Option<String>,
    /// `config_path`.
    pub config_path: Option<PathBuf>,
}

impl Settings {
    /// Settings from `(name, value)` pairs; a later pair wins over an earlier
    /// one with the same name, and `None` unsets.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Self {
        let mut settings = Settings::default();

        for (name, value) in pairs {
            settings.set(name, value);
        }

        settings
    }

    /// Sets the setting called `name`; unknown names are ignored.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let text = || value.map(str::to_owned);
        let secret = || value.map(Secret::from);

        match name {
            HOST => self.host = text(),
            VERSION => self.version = text(),
            USERNAME => self.username = text(),
            PASSWORD => self.password = secret(),
            SKIP_CERT_CHECK => self.skip_cert_check = text(),
            NO_SESSION => self.no_session = text(),
            VAULT_NAME => self.vault_name = text(),
            VAULT_SECRET_TEMPLATE => self.vault_secret_template = text(),
            VAULT_PASS => self.vault_pass = secret(),
            CONFIG_SYNC => self.config_sync = text(),
            CONFIG_PATH => self.config_path = value.map(PathBuf::from),
            _ => log::debug!("ignoring the unknown setting '{name}'"),
        }
    }

    /// Whether the store follows changes other processes make: true
    /// unless `IBWAPI_CONFIG_SYNC` is `off` (any letter case, white space
    /// around it ignored).
    pub fn sync_enabled(&self) -> bool {
        !self
            .config_sync
            .as_deref()
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("off"))
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("version", &self.version)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("skip_cert_check", &self.skip_cert_check)
            .field("no_session", &self.no_session)
            .field("vault_name", &self.vault_name)
            .field("vault_secret_template", &self.vault_secret_template)
            .field("vault_pass", &self.vault_pass)
            .field("config_sync", &self.config_sync)
            .field("config_path", &self.config_path)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_is_off_only_for_off() {
        let sync =
            |value: Option<&str>| Settings::from_pairs([(CONFIG_SYNC, value)]).sync_enabled();

        assert!(sync(None));
        assert!(sync(Some("")));
        assert!(sync(Some("on")));
        assert!(sync(Some("0")));
        assert!(!sync(Some("off")));
        assert!(!sync(Some(" OFF ")));
        assert!(!sync(Some("Off")));
    }
}
