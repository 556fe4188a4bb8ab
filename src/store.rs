//! The profile store: where profiles come from, chosen once at open time,
//! and the backend trait that file and vault storage implement.
//!
//! [`Store::open`] checks, in this order (BEHAVIOR.md A2), and takes the
//! first that applies:
//!
//! 1. the environment-variable profile, when `IBWAPI_HOST` is not blank and
//!    the other `IBWAPI_*` settings make a usable profile ([`env_profile`]);
//! 2. a vault, when `IBWAPI_VAULT_NAME` is not blank ([`vault`]); when the
//!    vault cannot be used, an error record says so and the file is used;
//! 3. the config file at `config_path` ([`ConfigFile`]).
//!
//! Every change goes through [`Store::set`], [`Store::remove`] or
//! [`Store::remove_all`]: it is applied in memory, saved at once, and undone
//! in memory when the save fails.
//!
//! # Staying in step with other processes
//!
//! A change first calls [`Backend::begin_change`]: the config file and the
//! encrypted vault file take their save lock and read the store again when
//! another process changed it; other vaults list their secrets again and
//! reload when the names differ. The change is then applied to what was
//! read, saved, and the lock released ([`Backend::end_change`]). So a
//! change made elsewhere is never undone by this process's next change,
//! and only this call's change is written.
//!
//! [`Store::refresh`] is the cheap check the module makes before each
//! cmdlet: when the backing store changed since this handle read or wrote
//! it, the profiles are reloaded (logged as an import logs). The setting
//! `IBWAPI_CONFIG_SYNC=off` turns it into a no-op; changes still re-read
//! before saving. The environment profile never reloads.
//!
//! [`Store::migrate`] copies or moves profiles between the config file and
//! the configured vault ([`migration`]).

use std::fmt;
use std::path::PathBuf;

mod migration;

pub use self::migration::{Migrated, Migration};

use crate::collation::Collation;
use crate::config_file::ConfigFile;
use crate::env_profile;
use crate::error::Error;
use crate::heap;
use crate::profile::{is_blank, Profile};
use crate::profiles::{ProfileEdit, ProfileSet};
use crate::settings::{Settings, CONFIG_PATH, CONFIG_SYNC, VAULT_NAME};
use crate::vault;
use crate::vault::host::{HostCalls, SharedHost};

/// Which kind of store is in use; the numbers are the C ABI's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum StoreKind {
    /// The read-only environment-variable profile.
    Environment = 0,
    /// The config file.
    File = 1,
    /// A vault.
    Vault = 2,
}

/// Where a writable store keeps its profiles.
///
/// The config file implements it, and so does the vault backend
/// ([`vault::backend::VaultBackend`]) on top of any [`vault::SecretVault`].
/// A backend loads its profiles when it is opened; afterwards the store
/// calls [`Backend::save`] after each change with the complete new set, and
/// the backend works out what to write (a vault writes only the secrets
/// that changed and removes those of deleted profiles).
pub trait Backend: Send + fmt::Debug {
    /// The kind reported to the module.
    fn kind(&self) -> StoreKind;

    /// A phrase for log records, such as `the config file /home/u/x.json`.
    fn describe(&self) -> String;

    /// Persists `profiles`, which is the whole new state; an empty set
    /// removes everything stored.
    ///
    /// # Errors
    ///
    /// Whatever prevented the save; the store then restores its previous
    /// state in memory. A backend should leave its storage unchanged on
    /// error as far as it can.
    fn save(&mut self, profiles: &ProfileSet) -> Result<(), Error>;

    /// Reads the stored profiles again, unconditionally, logging as an
    /// import does.
    ///
    /// # Errors
    ///
    /// When the store cannot be read at all (a vault that cannot be
    /// listed); a damaged config file is no error.
    fn reload(&mut self) -> Result<ProfileSet, Error>;

    /// Checks cheaply whether the stored profiles changed since this
    /// backend last read or wrote them, and when they did, reads them
    /// again (logging as an import does). `None`: nothing changed.
    ///
    /// # Errors
    ///
    /// When the check or the reload failed; the caller keeps what it had.
    fn reload_if_changed(&mut self) -> Result<Option<ProfileSet>, Error>;

    /// Starts a change: takes the save lock other processes respect (file
    /// kinds), then reads the stored profiles again when they changed
    /// (`Some`). Each successful call is followed by exactly one
    /// [`Backend::end_change`], with any number of saves between.
    ///
    /// # Errors
    ///
    /// When the lock cannot be taken or the store cannot be read again;
    /// nothing is held then.
    fn begin_change(&mut self) -> Result<Option<ProfileSet>, Error>;

    /// Ends a change: releases what [`Backend::begin_change`] took.
    fn end_change(&mut self);
}

/// An open profile store.
pub struct Store {
    profiles: ProfileSet,
    /// `None` for the environment-variable profile, which is read-only.
    backend: Option<Box<dyn Backend>>,
    collation: Box<dyn Collation>,
    /// The settings given at open time, for a migration's other store.
    settings: Settings,
    /// The host's SecretManagement access, shared with the vault.
    host: Option<SharedHost>,
}

impl Store {
    /// Chooses and loads the store described by `settings`.
    ///
    /// Import-time warnings (unusable environment profile, damaged file,
    /// unreadable credentials) and the choice made are logged.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when the config file is needed and
    /// `config_path` is missing or blank. A damaged file is not an error.
    pub fn open(settings: &Settings, collation: Box<dyn Collation>) -> Result<Store, Error> {
        Store::open_with_host(settings, collation, None)
    }

    /// [`Store::open`], with the host's access to SecretManagement vaults.
    ///
    /// Without `host`, a vault name that is not a built-in vault falls back
    /// to the config file as if SecretManagement were not installed.
    ///
    /// # Errors
    ///
    /// As [`Store::open`].
    pub fn open_with_host(
        settings: &Settings,
        collation: Box<dyn Collation>,
        host: Option<Box<dyn HostCalls>>,
    ) -> Result<Store, Error> {
        if let Some(profile) = env_profile::from_settings(settings) {
            log_environment_choice(&profile);
            return Ok(Store::environment(profile, collation));
        }

        let host = host.map(SharedHost::new);
        let (profiles, backend) = open_vault_or_file(settings, host.clone())?;
        heap::release_freed_memory();
        if !settings.sync_enabled() {
            log::info!(
                "{CONFIG_SYNC} is off: changes other processes make to {} are seen only \
                 when this session saves or the module is imported again",
                backend.describe()
            );
        }
        Ok(Store {
            profiles,
            backend: Some(backend),
            collation,
            settings: settings.clone(),
            host,
        })
    }

    /// A read-only store holding only the environment-variable profile.
    pub fn environment(profile: Profile, collation: Box<dyn Collation>) -> Store {
        Store {
            profiles: ProfileSet::single_current(profile),
            backend: None,
            collation,
            settings: Settings::default(),
            host: None,
        }
    }

    /// Which kind of store this is.
    pub fn kind(&self) -> StoreKind {
        self.backend
            .as_ref()
            .map_or(StoreKind::Environment, |b| b.kind())
    }

    /// The profiles, in stored order.
    pub fn profiles(&self) -> &ProfileSet {
        &self.profiles
    }

    /// Get-IBConfig: the named profile, or the current one for `None`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a blank name.
    pub fn get(&self, name: Option<&str>) -> Result<Option<&Profile>, Error> {
        log::trace!("get: profile {}", describe_name(name));

        if name.is_some_and(is_blank) {
            return Err(Error::invalid_argument(
                "ProfileName",
                "the value is empty or whitespace",
            ));
        }
        Ok(self.profiles.get(name))
    }

    /// Get-IBConfig -List: all profiles in collation order.
    pub fn list(&mut self) -> Vec<&Profile> {
        log::trace!("list: {} profile(s)", self.profiles.len());

        self.profiles.sorted(&*self.collation)
    }

    /// Whether `name` is the current profile.
    pub fn is_current(&self, name: &str) -> bool {
        self.profiles.is_current(name)
    }

    /// Set-IBConfig (see [`ProfileSet::apply_edit`]), saved at once.
    ///
    /// # Errors
    ///
    /// [`Error::ReadOnlyStore`] for the environment profile, the errors of
    /// [`ProfileSet::apply_edit`], and the backend's error when the save
    /// fails ([`Error::FileIo`] for the file). Nothing changes on error.
    pub fn set(&mut self, edit: ProfileEdit) -> Result<(), Error> {
        log::debug!(
            "set: profile {}",
            describe_name(edit.profile_name.as_deref())
        );

        self.change(|profiles, _| profiles.apply_edit(edit))
    }

    /// Remove-IBConfig (see [`ProfileSet::remove`]), saved at once.
    ///
    /// # Errors
    ///
    /// [`Error::ReadOnlyStore`], the errors of [`ProfileSet::remove`], and
    /// the backend's error when the save fails. Nothing changes on error.
    pub fn remove(&mut self, name: Option<&str>) -> Result<(), Error> {
        log::debug!("remove: profile {}", describe_name(name));

        self.change(|profiles, collation| profiles.remove(name, collation))
    }

    /// Remove-IBConfig -AllProfiles: every profile and the current name go,
    /// and the backend removes everything it stored.
    ///
    /// # Errors
    ///
    /// [`Error::ReadOnlyStore`] and the backend's error when the removal
    /// fails. Nothing changes on error.
    pub fn remove_all(&mut self) -> Result<(), Error> {
        log::debug!("remove all: {} profile(s)", self.profiles.len());

        self.change(|profiles, _| {
            profiles.clear();
            Ok(())
        })
    }

    /// Reloads the profiles when the backing store changed since this
    /// handle last read or wrote it; returns whether it did.
    ///
    /// The check is cheap: one `stat` for the config file and the vault
    /// file, one listing of secret names for other vaults (for a
    /// SecretManagement vault, one `Get-SecretInfo` through the host). It
    /// does nothing for the environment profile or when
    /// `IBWAPI_CONFIG_SYNC` is `off`. A failed check is logged as a warning
    /// and the profiles read earlier stay.
    pub fn refresh(&mut self) -> bool {
        let Some(backend) = self.backend.as_mut() else {
            return false;
        };
        if !self.settings.sync_enabled() {
            return false;
        }

        match backend.reload_if_changed() {
            Ok(Some(fresh)) => {
                self.profiles = fresh;
                heap::release_freed_memory();
                true
            }
            Ok(None) => false,
            Err(error) => {
                log::warn!(
                    "could not check whether {} changed: {error}; the profiles read \
                     earlier are used",
                    backend.describe()
                );
                false
            }
        }
    }

    /// Takes the backend's lock, reads the store again when it changed,
    /// applies `edit` to that, saves, and restores the state before `edit`
    /// when either step fails.
    fn change<F>(&mut self, edit: F) -> Result<(), Error>
    where
        F: FnOnce(&mut ProfileSet, &dyn Collation) -> Result<(), Error>,
    {
        let Some(backend) = self.backend.as_mut() else {
            return Err(Error::ReadOnlyStore);
        };
        if let Some(fresh) = backend.begin_change()? {
            self.profiles = fresh;
        }
        let before = self.profiles.clone();

        let result =
            edit(&mut self.profiles, &*self.collation).and_then(|()| backend.save(&self.profiles));
        backend.end_change();
        if result.is_err() {
            self.profiles = before;
        }
        result
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.kind())
            .field("profiles", &self.profiles.len())
            .field("backend", &self.backend)
            .finish()
    }
}

fn describe_name(name: Option<&str>) -> String {
    name.map_or("(current)".to_owned(), |name| format!("'{name}'"))
}

fn log_environment_choice(profile: &Profile) {
    let user = profile
        .credential
        .as_ref()
        .map_or("", |c| c.username.as_str());

    log::info!(
        "using the environment-variable profile ENV because IBWAPI_HOST is set: {user}@{}, \
         WAPI version {}; saved profiles are not loaded and cannot be changed",
        profile.wapi_host.as_deref().unwrap_or(""),
        profile.wapi_version.as_deref().unwrap_or(""),
    );
}

fn open_vault_or_file(
    settings: &Settings,
    host: Option<SharedHost>,
) -> Result<(ProfileSet, Box<dyn Backend>), Error> {
    let host = host.map(|host| Box::new(host) as Box<dyn HostCalls>);
    let config_path = config_path(settings)?;

    let vault_name = settings
        .vault_name
        .as_deref()
        .filter(|name| !is_blank(name));
    let reason = match vault_name {
        None => "IBWAPI_HOST and IBWAPI_VAULT_NAME are not set".to_owned(),
        Some(name) => match vault::open(name, settings, host) {
            Ok(opened) => return Ok(opened),
            Err(unavailable) => {
                log::error!(
                    "{unavailable} ({VAULT_NAME} names the vault '{name}'); the profiles come \
                     from the config file {} instead",
                    config_path.display()
                );
                format!("the vault '{name}' cannot be used")
            }
        },
    };

    log::info!(
        "using the config file {} because {reason}",
        config_path.display()
    );
    let (file, profiles) = ConfigFile::open(config_path);
    Ok((profiles, Box::new(file)))
}

fn config_path(settings: &Settings) -> Result<PathBuf, Error> {
    let path = settings.config_path.clone();

    path.filter(|path| !is_blank(&path.to_string_lossy()))
        .ok_or_else(|| Error::invalid_argument(CONFIG_PATH, "the setting is missing or blank"))
}
