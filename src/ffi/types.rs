//! The `#[repr(C)]` types and status codes of the C ABI (docs/ABI.md).
//!
//! cbindgen renames the Rust names (`IbStr`) to the C names (`ib_str`); see
//! `cbindgen.toml`.

use std::ffi::c_void;

use super::host_vault::IbHostReply;
use crate::error::Error;

/// Status returned by every fallible function. `IB_OK` (0) is success;
/// after any other value, `ib_last_error_message` gives the reason. Values
/// are grouped by origin and never renumbered.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IbStatus(pub u32);

/// Success.
pub const IB_OK: IbStatus = IbStatus(0);
/// A required pointer was NULL.
pub const IB_NULL_ARGUMENT: IbStatus = IbStatus(1001);
/// A string was not valid UTF-8.
pub const IB_INVALID_UTF8: IbStatus = IbStatus(1002);
/// An empty or blank value, a bad flag value, an index out of range.
pub const IB_INVALID_ARGUMENT: IbStatus = IbStatus(1003);
/// A handle that was never issued or is already freed.
pub const IB_INVALID_HANDLE: IbStatus = IbStatus(1004);
/// A WAPI version that does not parse as System.Version, or `latest`.
pub const IB_INVALID_VERSION: IbStatus = IbStatus(1005);
/// `ENV` used as a profile name.
pub const IB_RESERVED_NAME: IbStatus = IbStatus(1006);
/// The named profile does not exist.
pub const IB_PROFILE_NOT_FOUND: IbStatus = IbStatus(2001);
/// No profile name was given and no profile is current.
pub const IB_NO_CURRENT_PROFILE: IbStatus = IbStatus(2002);
/// A new profile lacks a host, a credential or a version.
pub const IB_MISSING_FIELD: IbStatus = IbStatus(2003);
/// The environment-variable profile is active: nothing can change.
pub const IB_READ_ONLY_STORE: IbStatus = IbStatus(2004);
/// A migration's destination holds a different profile of the same name
/// (letter case ignored); the message names them. Nothing was migrated;
/// pass `overwrite` to replace them.
pub const IB_MIGRATION_CONFLICT: IbStatus = IbStatus(2005);
/// The config file could not be read or written.
pub const IB_FILE_IO: IbStatus = IbStatus(3001);
/// The vault cannot be used (SecretManagement not installed, unlock or
/// test failed, or it went away after the store was opened), or a
/// migration found no vault configured.
pub const IB_VAULT_UNAVAILABLE: IbStatus = IbStatus(4001);
/// The vault needs a password: unlock it, or set IBWAPI_VAULT_PASS and
/// import the module again.
pub const IB_VAULT_LOCKED: IbStatus = IbStatus(4002);
/// A vault write or removal failed; the message says which profiles are
/// out of step, if any, and what to do.
pub const IB_VAULT_WRITE_FAILED: IbStatus = IbStatus(4003);
/// A secret name the vault would refuse; the message gives the rule.
/// Nothing was written.
pub const IB_VAULT_NAME_REFUSED: IbStatus = IbStatus(4004);
/// The vault is read-only.
pub const IB_VAULT_READ_ONLY: IbStatus = IbStatus(4005);
/// The secret name is held by a soft-deleted secret.
pub const IB_VAULT_NAME_BLOCKED: IbStatus = IbStatus(4006);
/// A bug: a panic was caught at the boundary.
pub const IB_PANIC: IbStatus = IbStatus(9001);
/// A bug or an impossible state.
pub const IB_INTERNAL: IbStatus = IbStatus(9002);

/// The status for `error`.
pub(crate) fn status_of(error: &Error) -> IbStatus {
    match error {
        Error::NullArgument { .. } => IB_NULL_ARGUMENT,
        Error::InvalidUtf8 { .. } => IB_INVALID_UTF8,
        Error::InvalidArgument { .. } => IB_INVALID_ARGUMENT,
        Error::InvalidHandle { .. } => IB_INVALID_HANDLE,
        Error::InvalidVersion { .. } | Error::UnresolvedLatestVersion => IB_INVALID_VERSION,
        Error::ReservedName { .. } => IB_RESERVED_NAME,
        Error::ProfileNotFound { .. } | Error::ProfileNotInSource { .. } => IB_PROFILE_NOT_FOUND,
        Error::NoCurrentProfile => IB_NO_CURRENT_PROFILE,
        Error::MissingField { .. } => IB_MISSING_FIELD,
        Error::ReadOnlyStore => IB_READ_ONLY_STORE,
        Error::MigrationConflict { .. } => IB_MIGRATION_CONFLICT,
        Error::MigrationFailed { cause, .. } => status_of(cause),
        Error::FileIo { .. } => IB_FILE_IO,
        Error::VaultUnavailable { .. } | Error::NoVaultConfigured => IB_VAULT_UNAVAILABLE,
        Error::VaultLocked { .. } => IB_VAULT_LOCKED,
        Error::VaultAccess { .. } | Error::VaultWriteFailed { .. } => IB_VAULT_WRITE_FAILED,
        Error::VaultNameRefused { .. } => IB_VAULT_NAME_REFUSED,
        Error::VaultReadOnly { .. } => IB_VAULT_READ_ONLY,
        Error::VaultNameBlocked { .. } => IB_VAULT_NAME_BLOCKED,
        Error::Internal { .. } => IB_INTERNAL,
    }
}

/// A UTF-8 string, not NUL-terminated, borrowed for the duration of a call
/// (inputs) or for the lifetime of the object it came from (outputs).
/// `ptr == NULL` means "absent" and then `len` must be 0; an empty string
/// has a non-NULL `ptr` and `len == 0`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IbStr {
    /// The first byte, or NULL for "absent".
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// One named setting for `ib_store_open`: an `IBWAPI_*` environment
/// variable's value, or `config_path`. A NULL `value` means unset.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IbSetting {
    /// The setting's name, e.g. `IBWAPI_HOST`; must not be NULL.
    pub name: IbStr,
    /// Its value; NULL when the variable is unset.
    pub value: IbStr,
}

/// Compares two profile names: negative, zero or positive as `a` sorts
/// before, with, or after `b`. Called only while a store function runs, on
/// the thread that called it. It must not unwind (throw) across the call.
pub type IbCollateFn = Option<unsafe extern "C" fn(ctx: *mut c_void, a: IbStr, b: IbStr) -> i32>;

/// Receives one log record: `level` is 1 = error, 2 = warn, 3 = info,
/// 4 = debug, 5 = trace; `msg` (UTF-8, `msg_len` bytes, not NUL-terminated)
/// is borrowed for the call only. Called on the thread whose `ib_` call
/// logs. It must not unwind (throw) across the call.
pub type IbLogFn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, level: u32, msg: *const u8, msg_len: usize)>;

/// What `ib_store_open` needs.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IbOpenOptions {
    /// `settings_len` settings; may be NULL when `settings_len` is 0.
    pub settings: *const IbSetting,
    /// The number of settings.
    pub settings_len: usize,
    /// The profile-name order for lists; NULL: built-in case-insensitive
    /// order (lower-cased text, then exact text).
    pub collate: IbCollateFn,
    /// Passed to `collate` as `ctx`; must stay valid until the store is freed.
    pub collate_context: *mut c_void,
    /// The host's access to SecretManagement vaults; NULL when it offers
    /// none (then an `IBWAPI_VAULT_NAME` that is not a built-in vault falls
    /// back to the config file as if SecretManagement were not installed).
    /// The struct is copied during `ib_store_open`; its `call` and `context`
    /// must stay usable until the store is freed.
    pub host_vault: *const IbHostVault,
}

/// Runs one SecretManagement operation for the core (docs/ABI.md, "Vaults"):
/// `op` 1 available, 2 unlock, 3 test, 4 list, 5 read, 6 write, 7 remove,
/// 8 describe; `vault` is the vault's name; `arg1` and `arg2` are as the
/// table in docs/ABI.md says (NULL when unused). The host answers through
/// `reply` with `ib_host_reply_add` and `ib_host_reply_fail`; `reply` is
/// valid only until the callback returns.
///
/// Called only while an `ib_store_*` function runs, on the thread that
/// called it. The callback must not unwind (throw) into the core, and must
/// not call `ib_store_*` functions (they fail with `IB_INVALID_ARGUMENT`).
/// The unlock password (op 2, `arg1`) and the written value (op 6, `arg2`)
/// are secrets: the host must not log them or keep them.
pub type IbHostVaultFn = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        op: u32,
        vault: IbStr,
        arg1: IbStr,
        arg2: IbStr,
        reply: *mut IbHostReply,
    ),
>;

/// The host's SecretManagement access, given in `ib_open_options`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IbHostVault {
    /// The operation callback; must not be NULL.
    pub call: IbHostVaultFn,
    /// Passed to `call` as `context`; must stay valid until the store is
    /// freed, and usable from any thread that calls a store function.
    pub context: *mut c_void,
}

/// The arguments of Set-IBConfig. A NULL string means "not given".
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IbProfileEdit {
    /// The profile to edit or create; NULL: the current profile.
    pub profile_name: IbStr,
    /// New host; NULL: keep.
    pub wapi_host: IbStr,
    /// New WAPI version; NULL: keep. `latest` is refused.
    pub wapi_version: IbStr,
    /// New user name; give with `password`, or leave both NULL to keep.
    pub username: IbStr,
    /// New password; give with `username`, or leave both NULL to keep.
    pub password: IbStr,
    /// -1 keep, 0 false, 1 true.
    pub skip_certificate_check: i8,
    /// -1 keep, 0 false, 1 true.
    pub no_session: i8,
    /// Rename the profile to this; NULL: no rename.
    pub new_name: IbStr,
    /// 1: do not make the profile current; 0: make it current.
    pub no_switch_profile: u8,
}

/// One profile of an `ib_profile_list`. Every pointer is borrowed from the
/// list and valid until `ib_profile_list_free`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IbProfileView {
    /// The name, in the spelling first saved.
    pub profile_name: IbStr,
    /// NULL when the file had none.
    pub wapi_host: IbStr,
    /// NULL when the file had none.
    pub wapi_version: IbStr,
    /// NULL when there is no credential.
    pub username: IbStr,
    /// NULL when there is no credential.
    pub password: IbStr,
    /// 0 or 1.
    pub skip_certificate_check: u8,
    /// 0 or 1.
    pub no_session: u8,
    /// 1 when this is the current profile.
    pub is_current: u8,
}

/// What `ib_store_migrate` does: copy (or move) profiles between the config
/// file and the vault named by `IBWAPI_VAULT_NAME`. (The Rust field
/// `move_profiles` is `move` in C.)
/// cbindgen:field-names=[destination, names, names_len, move, overwrite, dry_run]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IbMigration {
    /// 1 = the config file, 2 = the configured vault; the source is the
    /// other one.
    pub destination: u32,
    /// `names_len` profile names to migrate (letter case ignored); NULL =
    /// every profile of the source. An empty list migrates nothing.
    pub names: *const IbStr,
    /// The number of names; 0 when `names` is NULL.
    pub names_len: usize,
    /// 1: remove the migrated profiles from the source afterwards; 0: copy.
    pub move_profiles: u8,
    /// 1: replace destination profiles of the same name whose fields differ;
    /// 0: such a profile makes the migration fail with
    /// `IB_MIGRATION_CONFLICT`.
    pub overwrite: u8,
    /// 1: change nothing, only list what would be migrated.
    pub dry_run: u8,
}
