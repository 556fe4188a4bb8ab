//! The set of profiles and the rules of Set, Get and Remove (BEHAVIOR.md
//! A4 to A6), independent of where the profiles are stored.
//!
//! Names are compared without regard to letter case; a profile keeps the
//! spelling it was first saved with, and the current profile is recorded in
//! that spelling. Profiles keep the order they were loaded in; new ones are
//! appended. Every method either succeeds completely or changes nothing.

use std::fmt;

use indexmap::IndexMap;

use crate::collation::{total_order, Collation};
use crate::error::{Error, ProfileField};
use crate::profile::{
    check_version, fold_name, is_blank, is_reserved_name, same_name, Credential, Profile,
};

/// What Set-IBConfig asks to change. `None` keeps the stored value.
#[derive(Default)]
pub struct ProfileEdit {
    /// The profile to edit or create; `None` edits the current profile.
    pub profile_name: Option<String>,
    /// The new host.
    pub wapi_host: Option<String>,
    /// The new WAPI version; `latest` must be resolved before it gets here.
    pub wapi_version: Option<String>,
    /// The new credential.
    pub credential: Option<Credential>,
    /// The new SkipCertificateCheck; a new profile starts with false.
    pub skip_certificate_check: Option<bool>,
    /// The new NoSession; a new profile starts with false.
    pub no_session: Option<bool>,
    /// Renames the profile (replacing any other profile of that name).
    pub new_name: Option<String>,
    /// Leaves the current profile as it is.
    pub no_switch_profile: bool,
}

/// Two profile names that are the same when letter case is ignored.
#[derive(Debug)]
pub struct NameCollision {
    /// The name already in the set.
    pub existing: String,
    /// The name that was refused.
    pub rejected: String,
}

/// Profiles by name, plus the name of the current one.
#[derive(Clone, Default)]
pub struct ProfileSet {
    /// Keyed by [`fold_name`] of the profile's name.
    profiles: IndexMap<String, Profile>,
    /// The current profile's name, as stored; it may name no profile.
    current: Option<String>,
    /// Indexes of `profiles` in collation order; dropped on every change.
    sorted: Option<Vec<usize>>,
}

impl ProfileSet {
    /// An empty set with no current profile.
    pub fn new() -> ProfileSet {
        ProfileSet::default()
    }

    /// A set holding only `profile`, which is current.
    pub fn single_current(profile: Profile) -> ProfileSet {
        let mut set = ProfileSet::new();
        set.current = Some(profile.name.clone());
        set.profiles.insert(fold_name(&profile.name), profile);
        set
    }

    /// Adds `profile` at the end, as a loader does.
    ///
    /// # Errors
    ///
    /// [`NameCollision`] when a profile with the same name ignoring letter
    /// case is already there; `profile` is dropped.
    pub fn try_push(&mut self, profile: Profile) -> Result<(), NameCollision> {
        let key = fold_name(&profile.name);

        if let Some(existing) = self.profiles.get(&key) {
            return Err(NameCollision {
                existing: existing.name.clone(),
                rejected: profile.name,
            });
        }

        self.sorted = None;
        self.profiles.insert(key, profile);
        Ok(())
    }

    /// Adds `profile`, or replaces the profile of that name (letter case
    /// ignored) in its place; a current name that named the replaced
    /// profile follows its new spelling.
    pub fn put(&mut self, profile: Profile) {
        let key = fold_name(&profile.name);
        if self.is_current(&profile.name) {
            self.current = Some(profile.name.clone());
        }

        self.sorted = None;
        self.profiles.insert(key, profile);
    }

    /// Records the current profile's name as loaded; blank means none.
    pub fn set_current_name(&mut self, name: Option<String>) {
        self.current = name.filter(|name| !name.is_empty());
    }

    /// The current profile's name, which may name no existing profile.
    pub fn current_name(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// How many profiles there are.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// Whether there are no profiles.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// The profiles in stored order.
    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The profile called `name`, ignoring letter case.
    pub fn find(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(&fold_name(name))
    }

    /// Get-IBConfig: the profile called `name`, or the current profile when
    /// `name` is `None`. A current name that names no profile gives `None`.
    pub fn get(&self, name: Option<&str>) -> Option<&Profile> {
        self.find(name.or(self.current_name())?)
    }

    /// Whether `name` is the current profile.
    pub fn is_current(&self, name: &str) -> bool {
        self.current
            .as_deref()
            .is_some_and(|current| same_name(current, name))
    }

    /// Get-IBConfig -List: every profile, sorted by name with `collation`.
    /// The order is cached until the set changes.
    pub fn sorted(&mut self, collation: &dyn Collation) -> Vec<&Profile> {
        let profiles = &self.profiles;
        let order = self.sorted.get_or_insert_with(|| {
            let mut order: Vec<usize> = (0..profiles.len()).collect();
            order.sort_by(|&a, &b| total_order(collation, &profiles[a].name, &profiles[b].name));
            order
        });

        order.iter().map(|&index| &profiles[index]).collect()
    }

    /// Set-IBConfig: creates or changes one profile.
    ///
    /// # Errors
    ///
    /// In this order: [`Error::InvalidArgument`] or [`Error::ReservedName`]
    /// for a bad argument, [`Error::NoCurrentProfile`] when no name is given
    /// and none is current, [`Error::InvalidVersion`] or
    /// [`Error::UnresolvedLatestVersion`], then [`Error::MissingField`] when
    /// the result lacks a host, a credential or a version. Nothing changes
    /// on error.
    pub fn apply_edit(&mut self, edit: ProfileEdit) -> Result<(), Error> {
        check_edit_arguments(&edit)?;

        let name = self.name_to_edit(edit.profile_name.as_deref())?;
        let existing = self.find(&name).cloned();
        let is_new = existing.is_none();
        let mut profile = existing.unwrap_or_else(|| Profile::new(name));

        apply_changes(&mut profile, &edit)?;
        check_complete(&profile, is_new)?;

        log::debug!("set: saving profile '{}' (new: {is_new})", profile.name);
        self.store_edited(profile, edit.new_name, !edit.no_switch_profile);
        Ok(())
    }

    /// Remove-IBConfig: removes the profile called `name`, or the current
    /// one when `name` is `None`. When it was current, the first remaining
    /// profile in `collation` order becomes current, or none.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a blank name, and
    /// [`Error::ProfileNotFound`] when no such profile exists (or there is no
    /// current profile); nothing changes then.
    pub fn remove(&mut self, name: Option<&str>, collation: &dyn Collation) -> Result<(), Error> {
        let name = self.name_to_remove(name)?;

        let Some(removed) = self.profiles.shift_remove(&fold_name(&name)) else {
            return Err(Error::ProfileNotFound { name });
        };
        self.sorted = None;

        if self.is_current(&removed.name) {
            self.current = self.first_in_order(collation);
        }
        Ok(())
    }

    /// Remove-IBConfig -AllProfiles: no profiles and no current profile.
    pub fn clear(&mut self) {
        *self = ProfileSet::new();
    }

    fn name_to_edit(&self, given: Option<&str>) -> Result<String, Error> {
        match given {
            Some(name) => Ok(name.to_owned()),
            None => self.current.clone().ok_or(Error::NoCurrentProfile),
        }
    }

    fn name_to_remove(&self, given: Option<&str>) -> Result<String, Error> {
        match given {
            Some(name) if is_blank(name) => Err(blank("ProfileName")),
            Some(name) => Ok(name.to_owned()),
            None => Ok(self.current.clone().unwrap_or_default()),
        }
    }

    fn first_in_order(&self, collation: &dyn Collation) -> Option<String> {
        let first = self
            .profiles
            .values()
            .min_by(|a, b| total_order(collation, &a.name, &b.name))?;

        Some(first.name.clone())
    }

    /// Puts an edited profile in place, renaming it first when asked.
    fn store_edited(&mut self, mut profile: Profile, new_name: Option<String>, switch: bool) {
        let was_current = self.is_current(&profile.name);
        let rename = new_name.filter(|new_name| !same_name(new_name, &profile.name));

        let (key, position) = match rename {
            Some(new_name) => self.rename(&mut profile, new_name),
            None => (fold_name(&profile.name), None),
        };
        let stored_name = profile.name.clone();

        self.sorted = None;
        match position {
            Some(index) => self.profiles.shift_insert(index, key, profile),
            None => self.profiles.insert(key, profile),
        };

        if was_current || switch {
            self.current = Some(stored_name);
        }
    }

    /// Removes the profile's old entry; returns the key to store it under
    /// and, when it should keep its old position, that position. When
    /// another profile already has the new name, that one is replaced in
    /// place and keeps its spelling.
    fn rename(&mut self, profile: &mut Profile, new_name: String) -> (String, Option<usize>) {
        let old = self.profiles.shift_remove_full(&fold_name(&profile.name));
        let key = fold_name(&new_name);

        log::debug!("set: renaming profile '{}' to '{new_name}'", profile.name);
        if let Some(target) = self.profiles.get(&key) {
            profile.name = target.name.clone();
            return (key, None);
        }

        profile.name = new_name;
        (key, old.map(|(index, _, _)| index))
    }
}

impl fmt::Debug for ProfileSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileSet")
            .field("current", &self.current)
            .field("profiles", &self.profiles.values().collect::<Vec<_>>())
            .finish()
    }
}

fn check_edit_arguments(edit: &ProfileEdit) -> Result<(), Error> {
    check_name("ProfileName", edit.profile_name.as_deref())?;
    check_name("NewName", edit.new_name.as_deref())?;
    check_not_blank("WAPIHost", edit.wapi_host.as_deref())?;
    check_not_blank("WAPIVersion", edit.wapi_version.as_deref())?;

    if edit
        .credential
        .as_ref()
        .is_some_and(|c| c.username.is_empty())
    {
        return Err(Error::invalid_argument(
            "Credential",
            "the user name is empty",
        ));
    }
    Ok(())
}

fn check_name(argument: &str, name: Option<&str>) -> Result<(), Error> {
    check_not_blank(argument, name)?;

    match name {
        Some(name) if is_reserved_name(name) => Err(Error::ReservedName {
            argument: argument.to_owned(),
            name: name.to_owned(),
        }),
        _ => Ok(()),
    }
}

fn check_not_blank(argument: &str, value: Option<&str>) -> Result<(), Error> {
    match value {
        Some(value) if is_blank(value) => Err(blank(argument)),
        _ => Ok(()),
    }
}

fn blank(argument: &str) -> Error {
    Error::invalid_argument(argument, "the value is empty or whitespace")
}

fn apply_changes(profile: &mut Profile, edit: &ProfileEdit) -> Result<(), Error> {
    if let Some(version) = &edit.wapi_version {
        check_version(version)?;
        profile.wapi_version = Some(version.clone());
    }

    if let Some(host) = &edit.wapi_host {
        profile.wapi_host = Some(host.clone());
    }

    if let Some(credential) = &edit.credential {
        profile.credential = Some(credential.clone());
        profile.unreadable_credential = None;
    }

    if let Some(skip) = edit.skip_certificate_check {
        profile.skip_certificate_check = skip;
    }

    if let Some(no_session) = edit.no_session {
        profile.no_session = no_session;
    }
    Ok(())
}

fn check_complete(profile: &Profile, is_new: bool) -> Result<(), Error> {
    let missing = if profile.wapi_host.is_none() {
        Some(ProfileField::WapiHost)
    } else if profile.credential.is_none() {
        Some(ProfileField::Credential)
    } else if profile.wapi_version.is_none() {
        Some(ProfileField::WapiVersion)
    } else {
        None
    };

    match missing {
        Some(field) => Err(Error::MissingField {
            profile: profile.name.clone(),
            field,
            is_new,
        }),
        None => Ok(()),
    }
}
