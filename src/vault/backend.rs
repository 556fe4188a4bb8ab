//! The vault backend: profiles kept as one secret each, in any
//! [`SecretVault`] (BEHAVIOR.md A2.2 and A3).
//!
//! # Loading
//!
//! The vault is listed once when the store opens. Names that do not match
//! the template's wildcard are not ours and are ignored silently. A name
//! that matches but does not fit (an empty profile name, repeats of `{0}`
//! that differ) is logged as an error and skipped. The fitting secrets are
//! read with one [`SecretVault::read_secrets`] call and each is parsed
//! ([`super::value`]); one that cannot be read or parsed, or whose profile
//! name clashes with one already loaded (letter case ignored), is logged as
//! an error naming the secret and skipped: that profile is not loaded. The
//! profile whose `Current` is true is current; when several are, the first
//! listed wins and a warning names the others.
//!
//! # Saving
//!
//! The backend remembers, per profile, the exact secret name it was listed
//! under and the value as it would write it (a fingerprint: loading a secret
//! and saving it unchanged compares equal even if 4.x formatted it
//! differently). A save compares the new profile set with that:
//!
//! 1. a profile that is new, or whose value differs in any field including
//!    `Current`, is written: an existing profile under the exact name it
//!    was listed with (so letter case never splits it into two secrets), a
//!    new one under the template's name for it;
//! 2. the secret of a profile that is gone is removed; when no profile is
//!    left, so are fitting secrets that were skipped because their value did
//!    not parse (a secret that could not be read at all is kept);
//! 3. nothing else is touched, and the config file never is.
//!
//! Before anything is written, each new secret name is checked against the
//! vault's rules ([`SecretVault::name_problem`]): a refused name gives
//! [`Error::VaultNameRefused`] and nothing is written. Writes run first and
//! removals last. When a step fails, the steps already done are undone in
//! reverse order (the old value written back, a new secret removed). When
//! an undo fails too, [`Error::VaultWriteFailed`] names the profiles that
//! are out of step and what to do; the backend records what the vault now
//! holds, so the next successful save writes those profiles again as the
//! module shows them.
//!
//! A vault that holds writes back until [`SecretVault::commit`] (the vault
//! file, during a change) writes the whole save at once: either every step
//! lands or none does.
//!
//! # Staying in step
//!
//! The backend remembers the fitting secret names as last listed or
//! written. [`Backend::reload_if_changed`] asks the vault whether it
//! changed ([`SecretVault::changed`]: the vault file compares its stamp);
//! a vault that cannot tell is listed (one call) and reloaded when the set
//! of names differs. So an edit of an existing secret's value by another
//! process is not seen by a keyring or SecretManagement vault until the
//! names change, this process writes, or the module is imported again.
//! [`Backend::begin_change`] does the same before every save, after the
//! vault file took its lock.

use std::collections::{BTreeSet, HashSet};

use indexmap::IndexMap;

use super::template::SecretTemplate;
use super::value;
use super::SecretVault;
use crate::error::Error;
use crate::profile::{fold_name, Secret};
use crate::profiles::ProfileSet;
use crate::store::{Backend, StoreKind};

/// A store backend over a secret vault.
#[derive(Debug)]
pub struct VaultBackend {
    vault: Box<dyn SecretVault>,
    template: SecretTemplate,
    /// What the vault holds for each loaded profile, by [`fold_name`].
    stored: IndexMap<String, StoredSecret>,
    /// Fitting secrets that were not loaded.
    skipped: Vec<Skipped>,
    /// The fitting secret names, as last listed or written.
    listed: BTreeSet<String>,
}

#[derive(Debug)]
struct StoredSecret {
    profile: String,
    secret: String,
    /// The value as [`value::encode`] writes it.
    value: Secret,
}

#[derive(Debug)]
struct Skipped {
    profile: String,
    secret: String,
    /// The raw value; `None` when it could not be read.
    value: Option<Secret>,
}

/// What a secret held before a step changed it.
#[derive(Clone, Debug)]
enum Previous {
    /// There was no such secret.
    Absent,
    /// This value.
    Value(Secret),
    /// Something that could not be read.
    Unknown,
}

/// One write or removal of a save.
#[derive(Debug)]
struct Step {
    /// The profile's key in `stored`; `None` for a skipped secret.
    key: Option<String>,
    profile: String,
    secret: String,
    /// The value to write; `None` removes the secret.
    new: Option<Secret>,
    previous: Previous,
}

impl Step {
    fn describe(&self) -> String {
        match self.new {
            Some(_) => format!("wrote the secret '{}'", self.secret),
            None => format!("removed the secret '{}'", self.secret),
        }
    }
}

impl VaultBackend {
    /// Lists the vault and loads the profiles of the secrets that fit
    /// `template`. Problems with single secrets are logged, not returned.
    ///
    /// # Errors
    ///
    /// The vault's error when it cannot be listed.
    pub fn load(
        vault: Box<dyn SecretVault>,
        template: SecretTemplate,
    ) -> Result<(VaultBackend, ProfileSet), Error> {
        let mut backend = VaultBackend {
            vault,
            template,
            stored: IndexMap::new(),
            skipped: Vec::new(),
            listed: BTreeSet::new(),
        };
        let names = backend.vault.list_secrets()?;

        let profiles = backend.load_names(names);
        Ok((backend, profiles))
    }

    /// Loads the profiles of the secrets called `names` (as listed),
    /// forgetting what was loaded before.
    fn load_names(&mut self, names: Vec<String>) -> ProfileSet {
        self.stored.clear();
        self.skipped.clear();
        self.listed = self.fitting(&names);

        let mut profiles = ProfileSet::new();
        let mut current = Vec::new();
        let wanted = self.profile_secrets(names);
        let secrets: Vec<String> = wanted.iter().map(|(secret, _)| secret.clone()).collect();
        // One call, so that a vault can read them all at once.
        let values = self.vault.read_secrets(&secrets);
        for ((secret, profile), value) in wanted.into_iter().zip(values) {
            self.load_secret(secret, profile, value, &mut profiles, &mut current);
        }

        self.choose_current(&mut profiles, &current);
        log::info!(
            "loaded {} profile(s) from {} with the secret name template '{}'; current \
             profile: {}",
            profiles.len(),
            self.vault.describe(),
            self.template,
            profiles
                .current_name()
                .map_or("none".to_owned(), |name| format!("'{name}'"))
        );
        profiles
    }

    /// The secrets among `names` to load, each once and with its profile
    /// name. Secrets that are not profile secrets are ignored; one that
    /// matches the template but does not fit it is logged and skipped.
    fn profile_secrets(&self, names: Vec<String>) -> Vec<(String, String)> {
        let mut seen = HashSet::new();
        let mut wanted = Vec::new();
        for secret in names {
            if !seen.insert(secret.clone()) {
                continue;
            }
            if !self.template.matches(&secret) {
                log::debug!("ignoring the secret '{secret}': not a profile secret");
                continue;
            }
            match self.template.profile_name(&secret) {
                Some(profile) => wanted.push((secret, profile)),
                None => log::error!(
                    "the secret '{secret}' in {} does not fit the secret name template '{}'; \
                     it is skipped",
                    self.vault.describe(),
                    self.template
                ),
            }
        }
        wanted
    }

    /// The names among `names` that fit the template.
    fn fitting(&self, names: &[String]) -> BTreeSet<String> {
        names
            .iter()
            .filter(|name| self.template.matches(name))
            .cloned()
            .collect()
    }

    /// The names to load again when the vault changed since it was last
    /// listed or written; `None` when it did not.
    fn names_if_changed(&mut self) -> Result<Option<Vec<String>>, Error> {
        match self.vault.changed()? {
            Some(false) => Ok(None),
            Some(true) => self.vault.list_secrets().map(Some),
            None => {
                let names = self.vault.list_secrets()?;
                let changed = self.fitting(&names) != self.listed;
                Ok(changed.then_some(names))
            }
        }
    }

    /// The template in use.
    pub fn template(&self) -> &SecretTemplate {
        &self.template
    }

    /// Loads the profile `profile` from the secret `secret`, whose value
    /// was read as `value`, or records why it is skipped.
    fn load_secret(
        &mut self,
        secret: String,
        profile: String,
        value: Result<Option<Secret>, Error>,
        profiles: &mut ProfileSet,
        current: &mut Vec<String>,
    ) {
        let value = match value {
            Ok(Some(value)) => value,
            Ok(None) => {
                let reason = "it was listed but could not be found".to_owned();
                return self.skip(profile, secret, None, &reason);
            }
            Err(error) => return self.skip(profile, secret, None, &error.to_string()),
        };

        let stored = match value::decode(&profile, &value) {
            Ok(stored) => stored,
            Err(reason) => {
                let reason = format!("its value is not a profile: {reason}");
                return self.skip(profile, secret, Some(value), &reason);
            }
        };
        if let Some(warning) = &stored.warning {
            log::warn!("{warning}");
        }

        let fingerprint = value::encode(&stored.profile, stored.current);
        if let Err(collision) = profiles.try_push(stored.profile) {
            let reason = format!(
                "the profile '{}' is already loaded, and profile names are the same when \
                 letter case is ignored",
                collision.existing
            );
            return self.skip(profile, secret, Some(value), &reason);
        }

        if stored.current {
            current.push(profile.clone());
        }
        log::debug!("loaded the profile '{profile}' from the secret '{secret}'");
        self.stored.insert(
            fold_name(&profile),
            StoredSecret {
                profile,
                secret,
                value: fingerprint,
            },
        );
    }

    fn skip(&mut self, profile: String, secret: String, value: Option<Secret>, reason: &str) {
        log::error!(
            "skipped the secret '{secret}' in {}: {reason}; the profile '{profile}' is not \
             loaded",
            self.vault.describe()
        );
        self.skipped.push(Skipped {
            profile,
            secret,
            value,
        });
    }

    fn choose_current(&self, profiles: &mut ProfileSet, current: &[String]) {
        let Some((first, others)) = current.split_first() else {
            return;
        };

        if !others.is_empty() {
            log::warn!(
                "several profiles in {} are marked current: '{first}' and '{}'; '{first}' \
                 is the current profile, and the others are saved as not current with the \
                 next change",
                self.vault.describe(),
                others.join("', '")
            );
        }
        profiles.set_current_name(Some(first.clone()));
    }

    /// The writes and removals that make the vault hold `profiles`.
    fn plan(&self, profiles: &ProfileSet) -> Vec<Step> {
        let mut steps = Vec::new();

        for profile in profiles.iter() {
            let key = fold_name(&profile.name);
            let value = value::encode(profile, profiles.is_current(&profile.name));

            let (secret, previous) = match self.stored.get(&key) {
                Some(stored) if stored.value.expose() == value.expose() => continue,
                Some(stored) => (stored.secret.clone(), Previous::Value(stored.value.clone())),
                None => self.new_secret(&key, &profile.name),
            };
            steps.push(Step {
                key: Some(key),
                profile: profile.name.clone(),
                secret,
                new: Some(value),
                previous,
            });
        }

        for (key, stored) in &self.stored {
            if profiles.find(&stored.profile).is_none() {
                steps.push(Step {
                    key: Some(key.clone()),
                    profile: stored.profile.clone(),
                    secret: stored.secret.clone(),
                    new: None,
                    previous: Previous::Value(stored.value.clone()),
                });
            }
        }

        if profiles.is_empty() {
            steps.extend(self.skipped_to_remove());
        }
        steps
    }

    /// The secret name for a profile not loaded from the vault, and what
    /// that secret holds now: a skipped secret of that profile is reused.
    fn new_secret(&self, key: &str, profile: &str) -> (String, Previous) {
        let skipped = self
            .skipped
            .iter()
            .find(|skipped| fold_name(&skipped.profile) == key);

        match skipped {
            Some(skipped) => {
                let previous = skipped
                    .value
                    .clone()
                    .map_or(Previous::Unknown, Previous::Value);
                (skipped.secret.clone(), previous)
            }
            None => (self.template.secret_name(profile), Previous::Absent),
        }
    }

    fn skipped_to_remove(&self) -> Vec<Step> {
        let mut steps = Vec::new();

        for skipped in &self.skipped {
            let Some(value) = &skipped.value else {
                log::info!(
                    "keeping the secret '{}' in {}: it could not be read when the module \
                     was imported",
                    skipped.secret,
                    self.vault.describe()
                );
                continue;
            };
            steps.push(Step {
                key: None,
                profile: skipped.profile.clone(),
                secret: skipped.secret.clone(),
                new: None,
                previous: Previous::Value(value.clone()),
            });
        }
        steps
    }

    /// Refuses the save when the vault would refuse a new secret name.
    fn check_names(&self, steps: &[Step]) -> Result<(), Error> {
        let new_names = steps
            .iter()
            .filter(|step| step.new.is_some() && matches!(step.previous, Previous::Absent));

        for step in new_names {
            if let Some(rule) = self.vault.name_problem(&step.secret) {
                return Err(Error::VaultNameRefused {
                    vault: self.vault.vault_name().to_owned(),
                    name: step.secret.clone(),
                    rule,
                });
            }
        }
        Ok(())
    }

    fn apply(&mut self, step: &Step) -> Result<(), Error> {
        match &step.new {
            Some(value) => self.vault.write_secret(&step.secret, value),
            None => self.vault.remove_secret(&step.secret),
        }
    }

    /// Undoes `done` in reverse order; returns the steps whose undo failed,
    /// with the reason.
    fn undo<'a>(&mut self, done: &'a [Step]) -> Vec<(&'a Step, Error)> {
        let mut failed = Vec::new();

        for step in done.iter().rev() {
            let undone = match &step.previous {
                Previous::Absent => self.vault.remove_secret(&step.secret),
                Previous::Value(old) => self.vault.write_secret(&step.secret, old),
                Previous::Unknown => Err(Error::Internal {
                    detail: "its old value could not be read, so it cannot be restored".to_owned(),
                }),
            };

            match undone {
                Ok(()) => log::info!(
                    "undone: {} (profile '{}') in {}",
                    step.describe(),
                    step.profile,
                    self.vault.describe()
                ),
                Err(error) => {
                    log::warn!(
                        "could not undo: {} (profile '{}'): {error}",
                        step.describe(),
                        step.profile
                    );
                    failed.push((step, error));
                }
            }
        }
        failed
    }

    /// Records that the vault now holds what `step` did.
    fn record(&mut self, step: &Step) {
        match step.new {
            Some(_) => self.listed.insert(step.secret.clone()),
            None => self.listed.remove(&step.secret),
        };
        if let Some(key) = &step.key {
            match &step.new {
                Some(value) => {
                    self.stored.insert(
                        key.clone(),
                        StoredSecret {
                            profile: step.profile.clone(),
                            secret: step.secret.clone(),
                            value: value.clone(),
                        },
                    );
                }
                None => {
                    self.stored.shift_remove(key);
                }
            }
        }
        self.skipped.retain(|skipped| skipped.secret != step.secret);
    }

    /// The error for a save whose step `failed` went wrong with `error`
    /// after `done` steps, of which `not_undone` could not be undone.
    fn save_error(
        &self,
        failed: &Step,
        error: Error,
        done: usize,
        not_undone: &[(&Step, Error)],
    ) -> Error {
        if not_undone.is_empty() {
            return rolled_back(failed, error, done);
        }

        let details: Vec<String> = not_undone
            .iter()
            .map(|(step, undo_error)| out_of_step(step, undo_error))
            .collect();
        let profiles: Vec<String> = not_undone.iter().map(|(s, _)| s.profile.clone()).collect();
        let which = if profiles.len() == 1 {
            "this profile"
        } else {
            "these profiles"
        };

        Error::VaultWriteFailed {
            message: format!(
                "{error}; the change to the profile '{}' was not saved. Undoing the steps \
                 already done failed as well, so the vault '{}' and the module now disagree \
                 about {which}: {}. The module keeps the profiles as they were before this \
                 change, and any later change saves {which} again as the module shows them; \
                 to keep what the vault holds instead, import the module again.",
                failed.profile,
                self.vault.vault_name(),
                details.join("; "),
            ),
            out_of_step: profiles,
        }
    }
}

/// The error for a failed save whose earlier steps were all undone: the
/// vault's own error when it says what to do, else a write failure.
fn rolled_back(failed: &Step, error: Error, done: usize) -> Error {
    if matches!(
        error,
        Error::VaultReadOnly { .. }
            | Error::VaultNameBlocked { .. }
            | Error::VaultLocked { .. }
            | Error::VaultUnavailable { .. }
    ) {
        return error;
    }

    let undone = if done > 0 {
        format!(" (the {done} step(s) already done were undone)")
    } else {
        String::new()
    };
    Error::VaultWriteFailed {
        message: format!(
            "{error}; the change to the profile '{}' was not saved and nothing was \
             changed{undone}",
            failed.profile
        ),
        out_of_step: Vec::new(),
    }
}

/// What is out of step after `step` could not be undone.
fn out_of_step(step: &Step, undo_error: &Error) -> String {
    let state = match (&step.new, &step.previous) {
        (Some(_), Previous::Absent) => format!(
            "the vault holds its new secret '{}', which the module does not show",
            step.secret
        ),
        (Some(_), _) => format!(
            "the secret '{}' holds the new values, the module shows the old ones",
            step.secret
        ),
        (None, _) => format!(
            "its secret '{}' was removed from the vault, the module still shows it",
            step.secret
        ),
    };
    format!("'{}' ({state}; undo failed: {undo_error})", step.profile)
}

impl Backend for VaultBackend {
    fn kind(&self) -> StoreKind {
        StoreKind::Vault
    }

    fn describe(&self) -> String {
        self.vault.describe()
    }

    fn save(&mut self, profiles: &ProfileSet) -> Result<(), Error> {
        let steps = self.plan(profiles);
        if steps.is_empty() {
            log::debug!("nothing to save in {}", self.vault.describe());
            return Ok(());
        }
        self.check_names(&steps)?;

        for (index, step) in steps.iter().enumerate() {
            if let Err(error) = self.apply(step) {
                let done = &steps[..index];
                let not_undone = self.undo(done);
                for (step, _) in &not_undone {
                    self.record(step);
                }
                return Err(self.save_error(step, error, index, &not_undone));
            }
        }
        if let Err(error) = self.vault.commit() {
            return Err(rolled_back(&steps[0], error, 0));
        }

        for step in &steps {
            log::info!(
                "{} (profile '{}') in {}",
                step.describe(),
                step.profile,
                self.vault.describe()
            );
            self.record(step);
        }
        Ok(())
    }

    fn reload(&mut self) -> Result<ProfileSet, Error> {
        let names = self.vault.list_secrets()?;

        Ok(self.load_names(names))
    }

    fn reload_if_changed(&mut self) -> Result<Option<ProfileSet>, Error> {
        let Some(names) = self.names_if_changed()? else {
            return Ok(None);
        };

        log::info!(
            "{} changed since this session read it; reading its profiles again",
            self.vault.describe()
        );
        Ok(Some(self.load_names(names)))
    }

    fn begin_change(&mut self) -> Result<Option<ProfileSet>, Error> {
        self.vault.begin_change()?;

        let fresh = self.reload_if_changed();
        if fresh.is_err() {
            self.vault.end_change();
        }
        fresh
    }

    fn end_change(&mut self) {
        self.vault.end_change();
    }
}

#[cfg(test)]
mod tests;
