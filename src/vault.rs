//! Vault storage (BEHAVIOR.md A2.2): the seam where vault backends plug in.
//!
//! Not built yet. When `IBWAPI_VAULT_NAME` is set, [`open`] reports that
//! vaults are not available and the store falls back to the config file,
//! exactly as 4.x falls back when a vault cannot be set up.
//!
//! The plan: each vault kind (SecretManagement through the module, the OS
//! stores through the `keyring` crates, an encrypted local file) implements
//! [`SecretVault`]. One generic backend on top of it implements
//! [`crate::store::Backend`]: it expands the secret-name template, lists
//! and parses the secrets into profiles when opened, and on save writes only
//! the secrets whose profile is new or changed and removes the secrets of
//! deleted profiles. Vault errors will get their own status codes (4001..).

use std::fmt;

use crate::error::Error;
use crate::profile::Secret;
use crate::profiles::ProfileSet;
use crate::settings::Settings;
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
}

/// Why the vault named in the settings cannot be used.
#[derive(Debug)]
pub struct VaultUnavailable {
    reason: String,
}

impl fmt::Display for VaultUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Opens the vault called `name` and loads its profiles.
///
/// # Errors
///
/// Always, for now: vault storage is not available in this build.
pub fn open(
    name: &str,
    settings: &Settings,
) -> Result<(ProfileSet, Box<dyn Backend>), VaultUnavailable> {
    let _ = (name, settings);

    Err(VaultUnavailable {
        reason: "vault storage is not available in this build".to_owned(),
    })
}
