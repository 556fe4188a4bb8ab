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

    /// The named profile does not exist (Remove).
    #[error("Profile \"{name}\" was not found; nothing was removed.")]
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
