//! The one error type of the crate.
//!
//! Every variant carries what a caller needs to act (the argument, the
//! profile name, the path) and its `Display` is the one-line message the
//! PowerShell user sees. No variant ever holds a password.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What went wrong in a store operation or at the C boundary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required pointer was NULL.
    #[error("{argument} must not be NULL")]
    NullArgument {
        /// The parameter or field, as the C caller names it.
        argument: String,
    },

    /// A string was not valid UTF-8.
    #[error("{argument} is not valid UTF-8")]
    InvalidUtf8 {
        /// The parameter or field that held the bytes.
        argument: String,
    },

    /// A value was empty, blank or out of range.
    #[error("invalid {argument}: {reason}")]
    InvalidArgument {
        /// The parameter or field.
        argument: String,
        /// Why the value is not accepted.
        reason: String,
    },

    /// A handle that was never issued or is already freed.
    #[error("{argument} is not a live {kind} (never issued, or already freed)")]
    InvalidHandle {
        /// The parameter that held the handle.
        argument: String,
        /// The handle type, e.g. `ib_store`.
        kind: &'static str,
    },

    /// A WAPI version that does not parse as a .NET `System.Version`.
    #[error("WAPIVersion '{value}' is not a valid version (such as 2.12 or 2.11.3)")]
    InvalidVersion {
        /// The rejected text.
        value: String,
    },

    /// `latest` reached the core: the module must ask the grid first.
    #[error(
        "WAPIVersion 'latest' must be resolved to a version number by the module \
         before it is stored"
    )]
    UnresolvedLatestVersion,

    /// `ENV` used as a profile name.
    #[error(
        "{argument} '{name}' is not allowed: ENV is reserved for the \
         environment-variable profile"
    )]
    ReservedName {
        /// `ProfileName` or `NewName`.
        argument: String,
        /// The name as given.
        name: String,
    },

    /// The named profile does not exist (Remove); an empty name means there
    /// was no current profile to remove.
    #[error("{}", not_found_message(name))]
    ProfileNotFound {
        /// The name as given.
        name: String,
    },

    /// No profile name was given and no profile is current.
    #[error("no profile name was given and there is no current profile; pass -ProfileName")]
    NoCurrentProfile,

    /// A profile lacks a field it needs after the edit.
    #[error("{}", missing_field_message(profile, *field, *is_new))]
    MissingField {
        /// The profile being edited.
        profile: String,
        /// The first missing field, in the order host, credential, version.
        field: ProfileField,
        /// Whether the edit would have created the profile.
        is_new: bool,
    },

    /// The environment-variable profile is active: nothing can change.
    #[error(
        "profiles cannot be changed while the environment-variable profile is active; \
         to use saved profiles, unset IBWAPI_HOST and import the module again"
    )]
    ReadOnlyStore,

    /// The config file could not be read, written, moved or deleted.
    #[error("could not {action} {path}: {source}")]
    FileIo {
        /// What was being done, e.g. `write`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The vault cannot be used at all (its module is gone, it cannot be
    /// set up).
    #[error("the vault '{vault}' cannot be used: {reason}")]
    VaultUnavailable {
        /// The vault, as `IBWAPI_VAULT_NAME` names it.
        vault: String,
        /// Why, including what the vault reported.
        reason: String,
    },

    /// The vault needs a password before it can be used.
    #[error(
        "the vault '{vault}' is locked ({detail}); unlock it (for a SecretManagement vault: \
         Unlock-SecretVault), or set IBWAPI_VAULT_PASS and import the module again"
    )]
    VaultLocked {
        /// The vault.
        vault: String,
        /// What the vault reported.
        detail: String,
    },

    /// One vault operation failed (a read, write or removal). Vault kinds
    /// report their failures with this; the vault backend turns a failed
    /// save into [`Error::VaultWriteFailed`].
    #[error("could not {action} in the vault '{vault}': {detail}")]
    VaultAccess {
        /// The vault.
        vault: String,
        /// What was being done, such as `write the secret 'poshibwapi-lab'`.
        action: String,
        /// What the vault reported.
        detail: String,
    },

    /// A save failed part-way; the message says which profiles are out of
    /// step between the module and the vault, and what to do.
    #[error("{message}")]
    VaultWriteFailed {
        /// The whole message.
        message: String,
        /// The profiles whose secret no longer matches the module's state.
        out_of_step: Vec<String>,
    },

    /// A secret name the vault would refuse; nothing was written.
    #[error(
        "the vault '{vault}' would refuse the secret name '{name}': {rule}. Nothing was \
         saved; choose a profile name (or IBWAPI_VAULT_SECRET_TEMPLATE) that fits"
    )]
    VaultNameRefused {
        /// The vault.
        vault: String,
        /// The secret name.
        name: String,
        /// The rule it breaks.
        rule: String,
    },

    /// The vault does not accept writes.
    #[error(
        "the vault '{vault}' is read-only: {detail}; choose a writable vault or unset \
         IBWAPI_VAULT_NAME"
    )]
    VaultReadOnly {
        /// The vault.
        vault: String,
        /// What the vault reported.
        detail: String,
    },

    /// The name is held by a soft-deleted secret (Azure Key Vault and the
    /// like).
    #[error(
        "the vault '{vault}' cannot store the secret '{name}' because a deleted secret of \
         that name still holds it ({detail}); purge or recover the deleted secret '{name}' \
         in '{vault}', or wait for its retention to end"
    )]
    VaultNameBlocked {
        /// The vault.
        vault: String,
        /// The secret name.
        name: String,
        /// What the vault reported.
        detail: String,
    },

    /// A migration needs a vault and none is configured.
    #[error(
        "no vault is configured to migrate profiles to or from: set IBWAPI_VAULT_NAME to a \
         SecretManagement vault or a built-in vault such as [file], and import the module \
         again"
    )]
    NoVaultConfigured,

    /// A profile named for a migration is not in the store it would come
    /// from.
    #[error("Profile \"{name}\" was not found in {store}; nothing was migrated.")]
    ProfileNotInSource {
        /// The name as given.
        name: String,
        /// The source store, such as `the config file /home/u/x.json`.
        store: String,
    },

    /// The migration's destination holds different profiles of the same
    /// names; nothing was migrated.
    #[error("{}", conflict_message(destination, profiles))]
    MigrationConflict {
        /// The destination store.
        destination: String,
        /// The profiles that differ, as the source names them.
        profiles: Vec<String>,
    },

    /// A migration failed part-way; the message says what was undone and,
    /// when an undo failed too, what is out of step. The status is that of
    /// `cause`.
    #[error("{message}")]
    MigrationFailed {
        /// The whole message.
        message: String,
        /// The failure that stopped the migration.
        #[source]
        cause: Box<Error>,
    },

    /// A bug or an impossible state.
    #[error("internal error: {detail}")]
    Internal {
        /// What was found.
        detail: String,
    },
}

/// A profile field that Set may find missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileField {
    /// The grid manager's host name.
    WapiHost,
    /// The user name and password.
    Credential,
    /// The WAPI version.
    WapiVersion,
}

impl ProfileField {
    /// The Set-IBConfig parameter that provides the field.
    pub fn parameter(self) -> &'static str {
        match self {
            ProfileField::WapiHost => "-WAPIHost",
            ProfileField::Credential => "-Credential",
            ProfileField::WapiVersion => "-WAPIVersion",
        }
    }
}

impl fmt::Display for ProfileField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileField::WapiHost => "a WAPIHost",
            ProfileField::Credential => "a credential",
            ProfileField::WapiVersion => "a WAPIVersion",
        })
    }
}

fn missing_field_message(profile: &str, field: ProfileField, is_new: bool) -> String {
    let parameter = field.parameter();

    if is_new {
        format!("A new profile needs {field} ({parameter}).")
    } else {
        format!(
            "Profile '{profile}' has no {}; pass {parameter}.",
            bare_field(field)
        )
    }
}

fn conflict_message(destination: &str, profiles: &[String]) -> String {
    let (what, them) = match profiles {
        [one] => (format!("a different profile named '{one}'"), "it"),
        many => (
            format!(
                "different profiles with these names: '{}'",
                many.join("', '")
            ),
            "them",
        ),
    };

    format!(
        "{destination} already holds {what}; nothing was migrated. Migrate again with \
         overwriting allowed to replace {them}, or leave {them} out"
    )
}

fn bare_field(field: ProfileField) -> &'static str {
    match field {
        ProfileField::WapiHost => "WAPIHost",
        ProfileField::Credential => "usable credential",
        ProfileField::WapiVersion => "WAPIVersion",
    }
}

impl Error {
    /// An [`Error::InvalidArgument`] from borrowed text.
    pub fn invalid_argument(argument: &str, reason: &str) -> Error {
        Error::InvalidArgument {
            argument: argument.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// An [`Error::FileIo`] for `action` on `path`.
    pub fn file_io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::FileIo {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The text of [`Error::ProfileNotFound`]; Remove-IBConfig shows it as a
/// warning, as Posh-IBWAPI 4.x does.
fn not_found_message(name: &str) -> String {
    if name.is_empty() {
        return "There is no current profile to remove; nothing was removed. Pass -ProfileName."
            .to_owned();
    }
    format!("Profile \"{name}\" was not found; nothing was removed.")
}
