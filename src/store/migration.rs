//! Migration of profiles between the config file and the vault named by
//! `IBWAPI_VAULT_NAME` (Part B; `ib_store_migrate` in docs/ABI.md).
//!
//! The store chosen at import stays the session's store; the other side is
//! opened for the migration: the config file at `config_path`, or the vault
//! with the same setup steps as an import (unlock, test), any failure of
//! which is [`Error::VaultUnavailable`].
//!
//! # What happens
//!
//! 1. Both stores take their save lock (the config file first, then the
//!    vault) and are read again when another process changed them.
//! 2. The profiles to migrate are chosen in the source: all of them, or the
//!    named ones (letter case ignored); a named profile that is missing is
//!    [`Error::ProfileNotInSource`].
//! 3. A destination profile of the same name with different settings is a
//!    conflict ([`Error::MigrationConflict`], naming all of them) unless
//!    `overwrite` is set; one with the same settings is left as it is.
//! 4. When the source's current profile is migrated, it becomes the
//!    destination's current profile.
//! 5. The destination is written; only then, for a move, the profiles are
//!    removed from the source, whose current profile moves on as
//!    Remove-IBConfig moves it.
//!
//! With `dry_run` the steps stop before the first write and the result
//! says what would be migrated.
//!
//! # All or nothing
//!
//! A failed destination write leaves the destination as it was (the file
//! is replaced atomically; a vault undoes its own steps). When the source
//! cannot be changed after the destination was written, the destination
//! is restored to what it held before. When that fails as well, the error
//! says which store holds what. In every case the session's own store
//! shows, in memory, what the module believes it holds.

use super::{config_path, Backend, Store, StoreKind};
use crate::collation::{total_order, Collation};
use crate::config_file::ConfigFile;
use crate::error::Error;
use crate::profile::{is_blank, same_name, Profile};
use crate::profiles::ProfileSet;
use crate::vault;
use crate::vault::host::HostCalls;

/// What to migrate, as `ib_migration` says.
#[derive(Clone, Debug)]
pub struct Migration {
    /// [`StoreKind::File`] or [`StoreKind::Vault`]; the source is the
    /// other one.
    pub destination: StoreKind,
    /// The profiles to migrate; `None`: every profile of the source.
    pub names: Option<Vec<String>>,
    /// Remove the profiles from the source afterwards.
    pub move_profiles: bool,
    /// Replace destination profiles of the same name that differ.
    pub overwrite: bool,
    /// Change nothing; only say what would be migrated.
    pub dry_run: bool,
}

/// One migrated profile, as the destination holds it afterwards.
#[derive(Debug)]
pub struct Migrated {
    /// The profile.
    pub profile: Profile,
    /// Whether it is the destination's current profile afterwards.
    pub is_current: bool,
}

/// One store taking part in a migration.
struct Side {
    backend: Box<dyn Backend>,
    profiles: ProfileSet,
}

impl Side {
    fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Locks the store and reads it again when it changed.
    fn begin(&mut self) -> Result<(), Error> {
        if let Some(fresh) = self.backend.begin_change()? {
            self.profiles = fresh;
        }
        Ok(())
    }
}

/// The plan for one migration.
struct Plan {
    selected: Vec<Profile>,
    destination: ProfileSet,
    source: ProfileSet,
}

impl Store {
    /// Copies (or moves) profiles between the config file and the vault
    /// named by `IBWAPI_VAULT_NAME`; see the [module documentation](self).
    /// Returns the migrated profiles (or those that would be, for a dry
    /// run), sorted by name, as the destination holds them.
    ///
    /// # Errors
    ///
    /// [`Error::ReadOnlyStore`] for the environment profile;
    /// [`Error::NoVaultConfigured`]; [`Error::VaultUnavailable`] when the
    /// vault cannot be set up; [`Error::InvalidArgument`] for a blank name
    /// or a credential a vault cannot hold; [`Error::ProfileNotInSource`];
    /// [`Error::MigrationConflict`]; the stores' errors when a lock, read
    /// or write fails, and [`Error::MigrationFailed`] when a write failed
    /// after another one was done. Nothing changes on error, except as
    /// [`Error::MigrationFailed`] says.
    pub fn migrate(&mut self, migration: &Migration) -> Result<Vec<Migrated>, Error> {
        log::debug!("migrate: {migration:?}");
        let session_kind = self.kind();
        if session_kind == StoreKind::Environment {
            return Err(Error::ReadOnlyStore);
        }
        if migration.destination == StoreKind::Environment {
            return Err(Error::invalid_argument(
                "destination",
                "must be the config file (1) or the vault (2)",
            ));
        }

        let other = self.open_other(session_kind)?;
        let session = Side {
            backend: self.backend.take().ok_or(Error::ReadOnlyStore)?,
            profiles: std::mem::take(&mut self.profiles),
        };
        let (mut file, mut vault) = match session_kind {
            StoreKind::File => (session, other),
            _ => (other, session),
        };

        let result = run(&mut file, &mut vault, migration, &*self.collation);

        let session = match session_kind {
            StoreKind::File => file,
            _ => vault,
        };
        self.backend = Some(session.backend);
        self.profiles = session.profiles;

        let mut migrated = result?;
        migrated.sort_by(|a, b| total_order(&*self.collation, &a.profile.name, &b.profile.name));
        Ok(migrated)
    }

    /// Opens the store that is not the session's: the vault for a file
    /// session, the config file for a vault session.
    fn open_other(&self, session: StoreKind) -> Result<Side, Error> {
        let vault_name = self
            .settings
            .vault_name
            .as_deref()
            .filter(|name| !is_blank(name))
            .ok_or(Error::NoVaultConfigured)?;

        if session == StoreKind::Vault {
            let (file, profiles) = ConfigFile::open(config_path(&self.settings)?);
            return Ok(Side {
                backend: Box::new(file),
                profiles,
            });
        }

        let host = self
            .host
            .clone()
            .map(|host| Box::new(host) as Box<dyn HostCalls>);
        let (profiles, backend) = vault::open_for_migration(vault_name, &self.settings, host)
            .map_err(|unavailable| Error::VaultUnavailable {
                vault: vault_name.to_owned(),
                reason: unavailable.reason().to_owned(),
            })?;
        Ok(Side { backend, profiles })
    }
}

/// Locks both stores (the file first, so that two migrations in opposite
/// directions cannot wait for each other), migrates, and unlocks.
fn run(
    file: &mut Side,
    vault: &mut Side,
    migration: &Migration,
    collation: &dyn Collation,
) -> Result<Vec<Migrated>, Error> {
    file.begin()?;
    if let Err(error) = vault.begin() {
        file.backend.end_change();
        return Err(error);
    }

    let result = match migration.destination {
        StoreKind::File => migrate_locked(vault, file, migration, collation),
        _ => migrate_locked(file, vault, migration, collation),
    };

    vault.backend.end_change();
    file.backend.end_change();
    result
}

fn migrate_locked(
    source: &mut Side,
    destination: &mut Side,
    migration: &Migration,
    collation: &dyn Collation,
) -> Result<Vec<Migrated>, Error> {
    let plan = plan(source, destination, migration, collation)?;
    let migrated = result_of(&plan);
    let names = quoted_names(&plan.selected);

    if plan.selected.is_empty() {
        log::info!("{} holds no profile to migrate", source.describe());
        return Ok(migrated);
    }
    if migration.dry_run {
        log::info!(
            "would migrate {} profile(s) from {} to {}: {names}",
            plan.selected.len(),
            source.describe(),
            destination.describe()
        );
        return Ok(migrated);
    }

    write(source, destination, plan, migration.move_profiles)?;
    log::info!(
        "migrated {} profile(s) from {} to {}: {names}{}",
        migrated.len(),
        source.describe(),
        destination.describe(),
        if migration.move_profiles {
            "; they were removed from the source"
        } else {
            ""
        }
    );
    Ok(migrated)
}

fn plan(
    source: &Side,
    destination: &Side,
    migration: &Migration,
    collation: &dyn Collation,
) -> Result<Plan, Error> {
    let selected = select(source, migration.names.as_deref())?;
    if destination.backend.kind() == StoreKind::Vault {
        check_credentials(&selected)?;
    }
    check_conflicts(&selected, destination, migration.overwrite)?;

    let mut new_destination = destination.profiles.clone();
    for profile in &selected {
        let same = new_destination
            .find(&profile.name)
            .is_some_and(|existing| existing.same_settings(profile));
        if !same {
            new_destination.put(profile.clone());
        }
    }
    let current = source
        .profiles
        .current_name()
        .filter(|current| selected.iter().any(|p| same_name(&p.name, current)))
        .and_then(|current| new_destination.find(current))
        .map(|profile| profile.name.clone());
    if current.is_some() {
        new_destination.set_current_name(current);
    }

    let mut new_source = source.profiles.clone();
    if migration.move_profiles {
        for profile in &selected {
            new_source.remove(Some(&profile.name), collation)?;
        }
    }
    Ok(Plan {
        selected,
        destination: new_destination,
        source: new_source,
    })
}

/// The source profiles to migrate, in the source's order.
fn select(source: &Side, names: Option<&[String]>) -> Result<Vec<Profile>, Error> {
    let Some(names) = names else {
        return Ok(source.profiles.iter().cloned().collect());
    };

    let mut selected: Vec<Profile> = Vec::new();
    for name in names {
        if is_blank(name) {
            return Err(Error::invalid_argument(
                "ProfileName",
                "the value is empty or whitespace",
            ));
        }
        let profile = source
            .profiles
            .find(name)
            .ok_or_else(|| Error::ProfileNotInSource {
                name: name.clone(),
                store: source.describe(),
            })?;
        if !selected.iter().any(|p| same_name(&p.name, &profile.name)) {
            selected.push(profile.clone());
        }
    }
    Ok(selected)
}

/// A vault holds passwords in plain text; a credential this platform
/// cannot read (a Windows DPAPI password) cannot go there.
fn check_credentials(selected: &[Profile]) -> Result<(), Error> {
    let Some(profile) = selected.iter().find(|p| p.unreadable_credential.is_some()) else {
        return Ok(());
    };

    Err(Error::invalid_argument(
        "ProfileName",
        &format!(
            "the profile '{name}' has a stored credential this platform cannot read (a \
             Windows DPAPI password), which a vault cannot hold; nothing was migrated. Set a \
             new credential first (Set-IBConfig -ProfileName '{name}' -Credential \
             (Get-Credential)), or leave the profile out",
            name = profile.name
        ),
    ))
}

fn check_conflicts(
    selected: &[Profile],
    destination: &Side,
    overwrite: bool,
) -> Result<(), Error> {
    let conflicts: Vec<String> = selected
        .iter()
        .filter(|profile| {
            destination
                .profiles
                .find(&profile.name)
                .is_some_and(|existing| !existing.same_settings(profile))
        })
        .map(|profile| profile.name.clone())
        .collect();

    if conflicts.is_empty() {
        return Ok(());
    }
    if overwrite {
        log::info!(
            "replacing the different profile(s) '{}' in {}",
            conflicts.join("', '"),
            destination.describe()
        );
        return Ok(());
    }
    Err(Error::MigrationConflict {
        destination: destination.describe(),
        profiles: conflicts,
    })
}

/// The migrated profiles as the planned destination holds them.
fn result_of(plan: &Plan) -> Vec<Migrated> {
    plan.selected
        .iter()
        .filter_map(|profile| plan.destination.find(&profile.name))
        .map(|profile| Migrated {
            profile: profile.clone(),
            is_current: plan.destination.is_current(&profile.name),
        })
        .collect()
}

/// Writes the destination, then (for a move) the source; undoes the
/// destination when the source fails.
fn write(
    source: &mut Side,
    destination: &mut Side,
    plan: Plan,
    move_profiles: bool,
) -> Result<(), Error> {
    if let Err(error) = destination.backend.save(&plan.destination) {
        return Err(Error::MigrationFailed {
            message: format!(
                "could not write the profiles to {}: {error}; nothing was migrated",
                destination.describe()
            ),
            cause: Box::new(error),
        });
    }

    if move_profiles {
        if let Err(error) = source.backend.save(&plan.source) {
            return Err(undo_copy(source, destination, &plan, error));
        }
        source.profiles = plan.source;
    }
    destination.profiles = plan.destination;
    Ok(())
}

/// Restores the destination after the source could not be changed, and
/// says what each store holds.
fn undo_copy(source: &Side, destination: &mut Side, plan: &Plan, error: Error) -> Error {
    let names = quoted_names(&plan.selected);

    let message = match destination.backend.save(&destination.profiles) {
        Ok(()) => format!(
            "could not remove the migrated profiles from {}: {error}. The copies written to \
             {} were undone, so nothing was migrated",
            source.describe(),
            destination.describe()
        ),
        Err(undo_error) => {
            // What the destination holds now is what the module shows.
            destination.profiles = plan.destination.clone();
            format!(
                "could not remove the migrated profiles from {source}: {error}. Undoing the \
                 copies in {destination} failed as well: {undo_error}. So the profiles \
                 {names} are now in both stores: {destination} holds the migrated copies \
                 (replacing any profiles of the same name it held before) and {source} still \
                 holds them; remove them from one of the two to finish",
                source = source.describe(),
                destination = destination.describe(),
            )
        }
    };
    Error::MigrationFailed {
        message,
        cause: Box::new(error),
    }
}

fn quoted_names(profiles: &[Profile]) -> String {
    let names: Vec<String> = profiles.iter().map(|p| format!("'{}'", p.name)).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::collation::DefaultCollation;
    use crate::ffi::types::{status_of, IB_VAULT_WRITE_FAILED};
    use crate::profile::{Credential, Secret};

    type Saves = Arc<Mutex<Vec<Vec<String>>>>;

    /// Records the names of each save; the saves numbered in `fail` fail.
    #[derive(Debug)]
    struct Fake {
        kind: StoreKind,
        saves: Saves,
        fail: Vec<usize>,
    }

    impl Backend for Fake {
        fn kind(&self) -> StoreKind {
            self.kind
        }

        fn describe(&self) -> String {
            format!("the fake {:?} store", self.kind)
        }

        fn save(&mut self, profiles: &ProfileSet) -> Result<(), Error> {
            let mut saves = self.saves.lock().unwrap();
            if self.fail.contains(&saves.len()) {
                saves.push(vec!["(failed)".to_owned()]);
                return Err(Error::VaultAccess {
                    vault: "fake".to_owned(),
                    action: "save".to_owned(),
                    detail: "injected failure".to_owned(),
                });
            }
            saves.push(profiles.iter().map(|p| p.name.clone()).collect());
            Ok(())
        }

        fn reload(&mut self) -> Result<ProfileSet, Error> {
            Ok(ProfileSet::new())
        }

        fn reload_if_changed(&mut self) -> Result<Option<ProfileSet>, Error> {
            Ok(None)
        }

        fn begin_change(&mut self) -> Result<Option<ProfileSet>, Error> {
            Ok(None)
        }

        fn end_change(&mut self) {}
    }

    fn side(kind: StoreKind, names: &[&str], fail: Vec<usize>) -> (Side, Saves) {
        let saves = Saves::default();
        let mut profiles = ProfileSet::new();
        for name in names {
            let mut profile = Profile::new(*name);
            profile.wapi_host = Some(format!("{name}.example.test"));
            profile.credential = Some(Credential::new("admin", Secret::from("pw")));
            profiles.try_push(profile).unwrap();
        }
        profiles.set_current_name(names.first().map(|name| name.to_string()));
        let backend = Fake {
            kind,
            saves: saves.clone(),
            fail,
        };
        let side = Side {
            backend: Box::new(backend),
            profiles,
        };
        (side, saves)
    }

    fn moving() -> Migration {
        Migration {
            destination: StoreKind::Vault,
            names: None,
            move_profiles: true,
            overwrite: false,
            dry_run: false,
        }
    }

    fn names(profiles: &ProfileSet) -> Vec<String> {
        profiles.iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn a_failed_source_removal_restores_the_destination() {
        let (mut source, source_saves) = side(StoreKind::File, &["a", "b"], vec![0]);
        let (mut destination, saves) = side(StoreKind::Vault, &["x"], vec![]);

        let error = migrate_locked(&mut source, &mut destination, &moving(), &DefaultCollation)
            .unwrap_err();

        assert_eq!(
            *saves.lock().unwrap(),
            [vec!["x", "a", "b"], vec!["x"]],
            "written, then restored"
        );
        assert_eq!(source_saves.lock().unwrap().len(), 1);
        assert!(error
            .to_string()
            .contains("were undone, so nothing was migrated"));
        assert_eq!(
            status_of(&error),
            IB_VAULT_WRITE_FAILED,
            "the cause's status"
        );
        assert_eq!(names(&destination.profiles), ["x"]);
        assert_eq!(names(&source.profiles), ["a", "b"]);
    }

    #[test]
    fn a_failed_undo_says_which_store_holds_what() {
        let (mut source, _) = side(StoreKind::File, &["a", "b"], vec![0]);
        let (mut destination, _) = side(StoreKind::Vault, &["x"], vec![1]);

        let error = migrate_locked(&mut source, &mut destination, &moving(), &DefaultCollation)
            .unwrap_err();

        let message = error.to_string();
        assert!(
            message.starts_with("could not remove the migrated profiles from the fake File store"),
            "{message}"
        );
        assert!(
            message.contains("Undoing the copies in the fake Vault store failed as well"),
            "{message}"
        );
        assert!(
            message.contains("the profiles 'a', 'b' are now in both stores"),
            "{message}"
        );
        assert_eq!(
            names(&destination.profiles),
            ["x", "a", "b"],
            "the session shows what the destination holds"
        );
        assert!(destination.profiles.is_current("a"));
        assert_eq!(names(&source.profiles), ["a", "b"]);
    }

    #[test]
    fn a_failed_destination_write_touches_nothing_else() {
        let (mut source, source_saves) = side(StoreKind::File, &["a"], vec![]);
        let (mut destination, _) = side(StoreKind::Vault, &[], vec![0]);

        let error = migrate_locked(&mut source, &mut destination, &moving(), &DefaultCollation)
            .unwrap_err();

        assert!(matches!(error, Error::MigrationFailed { .. }));
        assert!(
            source_saves.lock().unwrap().is_empty(),
            "the source is not touched"
        );
        assert!(destination.profiles.is_empty());
    }
}
