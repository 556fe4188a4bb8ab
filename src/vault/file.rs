//! The built-in vault `[file]`: an encrypted vault file unlocked with
//! `IBWAPI_VAULT_PASS` ([`super::encrypted_file`] does the cryptography).
//!
//! `[file]` keeps the vault in `posh-ibwapi.vault` beside the config file;
//! `[file]<path>` at `<path>`, a relative path being taken from the config
//! file's folder (the process's working folder is not PowerShell's current
//! location, so it would surprise). There is no default password: without
//! a non-blank `IBWAPI_VAULT_PASS` the vault is unavailable. A missing file
//! is an empty vault, created by the first save.
//!
//! Names are case-sensitive in the file. The vault backend always writes a
//! secret back under the exact name it was listed with, so letter case
//! never splits one profile into two secrets.
//!
//! During a change ([`SecretVault::begin_change`] to
//! [`SecretVault::end_change`]) the vault holds the file's save lock, and
//! writes and removals are held back in memory until
//! [`SecretVault::commit`] saves them all with one rewrite of the file: a
//! Set-IBConfig that moves the current profile changes two secrets, and a
//! crash can never leave only one of them written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::encrypted_file::EncryptedVaultFile;
use super::name::DEFAULT_VAULT_FILE;
use super::SecretVault;
use crate::error::Error;
use crate::profile::Secret;

/// An opened vault file.
pub struct FileVault {
    name: String,
    file: EncryptedVaultFile,
    /// During a change: the writes (`Some`) and removals (`None`) not yet
    /// saved, by secret name.
    held: Option<BTreeMap<String, Option<Secret>>>,
}

impl FileVault {
    /// Opens the vault file for `IBWAPI_VAULT_NAME` value `name`.
    ///
    /// `path` is the path given after `[file]`, if any; `config_path` is the
    /// config file's path, whose folder holds the default vault file and
    /// anchors a relative path.
    ///
    /// # Errors
    ///
    /// Why the vault cannot be used: no password, a wrong password, a
    /// damaged or unreadable file.
    pub fn open(
        name: &str,
        path: Option<&Path>,
        config_path: &Path,
        password: Option<&Secret>,
    ) -> Result<FileVault, String> {
        let path = vault_path(path, config_path);
        let password = password.ok_or_else(|| {
            format!(
                "the vault file {} needs a password: set IBWAPI_VAULT_PASS to it (or, for a \
                 new vault, to the password to protect it with) and import the module again",
                path.display()
            )
        })?;

        let file = EncryptedVaultFile::open_or_create(&path, password.expose().as_bytes())
            .map_err(|error| error.to_string())?;
        Ok(FileVault {
            name: name.to_owned(),
            file,
            held: None,
        })
    }

    fn error(&self, action: String, error: &dyn fmt::Display) -> Error {
        Error::VaultAccess {
            vault: self.name.clone(),
            action,
            detail: error.to_string(),
        }
    }
}

/// Where the vault file is: `path`, from the config file's folder when
/// relative, or the default file in that folder.
pub fn vault_path(path: Option<&Path>, config_path: &Path) -> PathBuf {
    let folder = config_path.parent().unwrap_or(Path::new("."));

    match path {
        None => folder.join(DEFAULT_VAULT_FILE),
        Some(path) => folder.join(path),
    }
}

impl SecretVault for FileVault {
    fn vault_name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> String {
        format!("the encrypted vault file {}", self.file.path().display())
    }

    fn list_secrets(&mut self) -> Result<Vec<String>, Error> {
        let saved = self.file.names().map(str::to_owned);
        let Some(held) = &self.held else {
            return Ok(saved.collect());
        };

        let mut names: Vec<String> = saved.filter(|name| !held.contains_key(name)).collect();
        names.extend(
            held.iter()
                .filter(|(_, value)| value.is_some())
                .map(|(name, _)| name.clone()),
        );
        names.sort();
        Ok(names)
    }

    fn read_secret(&mut self, name: &str) -> Result<Option<Secret>, Error> {
        if let Some(value) = self.held.as_ref().and_then(|held| held.get(name)) {
            return Ok(value.clone());
        }
        Ok(self.file.get(name).map(Secret::from))
    }

    fn write_secret(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        if let Some(held) = &mut self.held {
            held.insert(name.to_owned(), Some(value.clone()));
            return Ok(());
        }
        self.file
            .set(name, value.expose())
            .map_err(|e| self.error(format!("write the secret '{name}'"), &e))
    }

    fn remove_secret(&mut self, name: &str) -> Result<(), Error> {
        if let Some(held) = &mut self.held {
            held.insert(name.to_owned(), None);
            return Ok(());
        }
        self.file
            .remove(name)
            .map(drop)
            .map_err(|e| self.error(format!("remove the secret '{name}'"), &e))
    }

    fn changed(&mut self) -> Result<Option<bool>, Error> {
        self.file
            .reload_if_changed()
            .map(Some)
            .map_err(|e| self.error("read the vault file again".to_owned(), &e))
    }

    fn begin_change(&mut self) -> Result<(), Error> {
        self.file
            .hold_save_lock()
            .map_err(|e| self.error("lock the vault file".to_owned(), &e))?;
        self.held = Some(BTreeMap::new());
        Ok(())
    }

    fn commit(&mut self) -> Result<(), Error> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };

        let changes = held
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_ref().map(Secret::expose)));
        let saved = self.file.update(changes);
        self.held = Some(BTreeMap::new());
        saved.map_err(|e| self.error(format!("save {} change(s)", held.len()), &e))
    }

    fn end_change(&mut self) {
        self.held = None;
        self.file.release_save_lock();
    }
}

impl fmt::Debug for FileVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileVault")
            .field("name", &self.name)
            .field("file", &self.file)
            .field("held", &self.held.as_ref().map(BTreeMap::len))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_sits_beside_the_config_file() {
        let config = Path::new("/home/u/.config/posh-ibwapi.json");

        assert_eq!(
            vault_path(None, config),
            Path::new("/home/u/.config/posh-ibwapi.vault")
        );
        assert_eq!(
            vault_path(Some(Path::new("v/x.vault")), config),
            Path::new("/home/u/.config/v/x.vault")
        );
        assert_eq!(
            vault_path(Some(Path::new("/srv/x.vault")), config),
            Path::new("/srv/x.vault")
        );
    }
}
