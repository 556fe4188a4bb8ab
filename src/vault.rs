//! Vault storage (BEHAVIOR.md A2.2 and A3, Part B).
//!
//! When `IBWAPI_VAULT_NAME` is not blank (and the environment-variable
//! profile is not in use), [`open`] picks the vault it names ([`name`]):
//!
//! - a value starting with `[` is a built-in vault: the encrypted vault
//!   file ([`mod@file`]) or an OS keyring (on Linux the Secret Service and
//!   keyutils vaults, modules `secret_service` and `keyutils`);
//! - any other value is a SecretManagement vault reached through the module
//!   ([`host`]).
//!
//! Every vault kind implements [`SecretVault`]. One generic backend on top
//! of it ([`backend`]) implements [`crate::store::Backend`]: it lists and
//! parses the secrets ([`template`], [`value`]) when opened, and on save
//! writes only the secrets whose profile is new or changed and removes the
//! secrets of deleted profiles, undoing what it can when a step fails.
//!
//! When the vault cannot be set up, [`open`] says why and the store falls
//! back to the config file, exactly as 4.x does.

pub mod backend;
pub mod encrypted_file;
pub mod file;
pub mod host;
#[cfg(target_os = "linux")]
pub mod keyutils;
pub mod name;
#[cfg(target_os = "linux")]
pub mod secret_service;
pub mod template;
pub mod value;

use std::fmt;
use std::path::Path;

use self::backend::VaultBackend;
use self::host::{HostCalls, HostVault};
use self::name::VaultChoice;
use self::template::SecretTemplate;
use crate::error::Error;
use crate::profile::{is_blank, Secret};
use crate::profiles::ProfileSet;
use crate::settings::{Settings, VAULT_NAME};
use crate::store::Backend;

/// A place that stores secrets by name: the operations a vault backend
/// needs, and all that a new vault kind has to provide.
pub trait SecretVault: Send + fmt::Debug {
    /// The vault's name, for messages.
    fn vault_name(&self) -> &str;

    /// The names of all secrets in the vault.
    ///
    /// # Errors
    ///
    /// When the vault cannot be listed.
    fn list_secrets(&mut self) -> Result<Vec<String>, Error>;

    /// The value of the secret called `name`, or `None` when it does not
    /// exist.
    ///
    /// # Errors
    ///
    /// When the vault cannot be read.
    fn read_secret(&mut self, name: &str) -> Result<Option<Secret>, Error>;

    /// The values of the secrets called `names`, in the same order, each
    /// as [`SecretVault::read_secret`] gives it. The backend reads all the
    /// profiles it loads with one call; a vault that reads many secrets
    /// faster at once than one by one overrides it. The default reads them
    /// one by one.
    fn read_secrets(&mut self, names: &[String]) -> Vec<Result<Option<Secret>, Error>> {
        names.iter().map(|name| self.read_secret(name)).collect()
    }

    /// Creates or replaces the secret called `name`.
    ///
    /// # Errors
    ///
    /// When the vault refuses the name or the write.
    fn write_secret(&mut self, name: &str, value: &Secret) -> Result<(), Error>;

    /// Removes the secret called `name`; a missing secret is not an error.
    ///
    /// # Errors
    ///
    /// When the vault refuses the removal.
    fn remove_secret(&mut self, name: &str) -> Result<(), Error>;

    /// A phrase for log records and messages, such as `the SecretManagement
    /// vault 'X'`. The default uses [`SecretVault::vault_name`].
    fn describe(&self) -> String {
        format!("the vault '{}'", self.vault_name())
    }

    /// Why the vault would refuse a new secret called `name` (the rule, in
    /// words), or `None` when it accepts it. The backend asks before it
    /// writes anything. The default accepts every name.
    fn name_problem(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }

    /// Whether the vault changed since this handle last read or wrote it,
    /// when the vault can tell cheaply (and then it has already read what
    /// it needs again); `None` when it cannot tell, and the backend
    /// compares the listed names instead. The default cannot tell.
    ///
    /// # Errors
    ///
    /// When the check or the re-read failed.
    fn changed(&mut self) -> Result<Option<bool>, Error> {
        Ok(None)
    }

    /// Starts one change of the store. A vault that can lock against other
    /// processes (the vault file) takes the lock here and may hold writes
    /// and removals back until [`SecretVault::commit`]. The default does
    /// nothing.
    ///
    /// # Errors
    ///
    /// When the lock cannot be taken.
    fn begin_change(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Writes what was held back since [`SecretVault::begin_change`], all
    /// at once or not at all. The default has nothing to write.
    ///
    /// # Errors
    ///
    /// When the write failed; nothing held back was written then.
    fn commit(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Ends the change: drops what was held back and not committed, and
    /// releases the lock. The default does nothing.
    fn end_change(&mut self) {}
}

/// Why the vault named in the settings cannot be used.
#[derive(Debug)]
pub struct VaultUnavailable {
    reason: String,
}

impl VaultUnavailable {
    fn new(reason: impl Into<String>) -> VaultUnavailable {
        VaultUnavailable {
            reason: reason.into(),
        }
    }

    /// Why, in words.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for VaultUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Opens the vault called `name` and loads its profiles.
///
/// `host` reaches SecretManagement through the module; without it, a name
/// that is not a built-in vault is treated as "SecretManagement is not
/// installed".
///
/// # Errors
///
/// Why the vault cannot be used; the caller falls back to the config file.
pub fn open(
    name: &str,
    settings: &Settings,
    host: Option<Box<dyn HostCalls>>,
) -> Result<(ProfileSet, Box<dyn Backend>), VaultUnavailable> {
    let (vault, template) = set_up(name, settings, host)?;

    log::info!(
        "using {} because {VAULT_NAME} is '{name}'; secret name template '{template}'",
        vault.describe()
    );
    load(vault, template)
}

/// Opens the vault called `name` for a migration, with the same setup
/// steps as [`open`] (unlock, test), and loads its profiles.
///
/// # Errors
///
/// Why the vault cannot be used.
pub fn open_for_migration(
    name: &str,
    settings: &Settings,
    host: Option<Box<dyn HostCalls>>,
) -> Result<(ProfileSet, Box<dyn Backend>), VaultUnavailable> {
    let (vault, template) = set_up(name, settings, host)?;

    log::info!(
        "opened {} ({VAULT_NAME} '{name}', secret name template '{template}') to migrate \
         profiles",
        vault.describe()
    );
    load(vault, template)
}

fn set_up(
    name: &str,
    settings: &Settings,
    host: Option<Box<dyn HostCalls>>,
) -> Result<(Box<dyn SecretVault>, SecretTemplate), VaultUnavailable> {
    let template = SecretTemplate::from_setting(settings.vault_secret_template.as_deref());
    let password = settings
        .vault_pass
        .as_ref()
        .filter(|pass| !is_blank(pass.expose()));

    let choice = name::parse(name).map_err(VaultUnavailable::new)?;
    let vault = open_vault(&choice, name, settings, password, host, &template)?;
    Ok((vault, template))
}

fn load(
    vault: Box<dyn SecretVault>,
    template: SecretTemplate,
) -> Result<(ProfileSet, Box<dyn Backend>), VaultUnavailable> {
    let (backend, profiles) = VaultBackend::load(vault, template).map_err(|error| {
        VaultUnavailable::new(format!("could not list the profiles in the vault: {error}"))
    })?;
    Ok((profiles, Box::new(backend)))
}

fn open_vault(
    choice: &VaultChoice,
    name: &str,
    settings: &Settings,
    password: Option<&Secret>,
    host: Option<Box<dyn HostCalls>>,
    template: &SecretTemplate,
) -> Result<Box<dyn SecretVault>, VaultUnavailable> {
    match choice {
        VaultChoice::SecretManagement(vault) => {
            let host = host.ok_or_else(|| VaultUnavailable::new(host::no_host_message()))?;
            let vault =
                HostVault::open(host, vault, password, template).map_err(VaultUnavailable::new)?;
            Ok(Box::new(vault))
        }
        VaultChoice::File(path) => {
            let config_path = settings
                .config_path
                .as_deref()
                .unwrap_or(Path::new("posh-ibwapi.json"));
            let vault = file::FileVault::open(name, path.as_deref(), config_path, password)
                .map_err(VaultUnavailable::new)?;
            Ok(Box::new(vault))
        }
        VaultChoice::SecretService(collection) => {
            open_secret_service(collection.as_deref(), password)
        }
        VaultChoice::Keyutils => open_keyutils(),
        // TODO(#3): the macOS Keychain and Windows Credential Manager vaults
        // are not written yet.
        VaultChoice::MacosKeychain => Err(not_built("[keyring]macos-keychain (macOS Keychain)")),
        VaultChoice::WindowsCredentials => Err(not_built(
            "[keyring]windows-credentials (Windows Credential Manager)",
        )),
    }
}

/// `[keyring]secret-service[:<collection>]`, unlocked with `password` when
/// it is locked.
#[cfg(target_os = "linux")]
fn open_secret_service(
    collection: Option<&str>,
    password: Option<&Secret>,
) -> Result<Box<dyn SecretVault>, VaultUnavailable> {
    let vault = secret_service::SecretServiceVault::open(collection, password)
        .map_err(keyring_unavailable)?;
    Ok(Box::new(vault))
}

#[cfg(not(target_os = "linux"))]
fn open_secret_service(
    _: Option<&str>,
    _: Option<&Secret>,
) -> Result<Box<dyn SecretVault>, VaultUnavailable> {
    Err(not_built("[keyring]secret-service (Secret Service)"))
}

/// `[keyring]keyutils`: the user's kernel keyring.
#[cfg(target_os = "linux")]
fn open_keyutils() -> Result<Box<dyn SecretVault>, VaultUnavailable> {
    let vault = keyutils::KeyutilsVault::open().map_err(keyring_unavailable)?;
    Ok(Box::new(vault))
}

#[cfg(not(target_os = "linux"))]
fn open_keyutils() -> Result<Box<dyn SecretVault>, VaultUnavailable> {
    Err(not_built("[keyring]keyutils (Linux kernel keyring)"))
}

#[cfg(target_os = "linux")]
fn keyring_unavailable(error: Error) -> VaultUnavailable {
    match error {
        Error::VaultUnavailable { reason, .. } => VaultUnavailable::new(reason),
        other => VaultUnavailable::new(other.to_string()),
    }
}

fn not_built(store: &str) -> VaultUnavailable {
    VaultUnavailable::new(format!(
        "{store} is not available: this build of the module ({}) does not include it; use \
         [file] or a SecretManagement vault instead",
        std::env::consts::OS
    ))
}
