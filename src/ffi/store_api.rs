//! The `ib_store_*` exports.

use std::cmp::Ordering;
use std::ffi::c_void;
use std::slice;
use std::sync::{Arc, Mutex};

use super::handles::Registry;
use super::host_vault::{host_from, refuse_inside_callback};
use super::panic::{status_boundary, value_boundary};
use super::profile_list::{issue_list, IbProfileList};
use super::strings::{optional_secret, optional_str, optional_string, required_str};
use super::types::{IbMigration, IbOpenOptions, IbProfileEdit, IbSetting, IbStatus, IbStr};
use crate::collation::{Collation, DefaultCollation};
use crate::error::Error;
use crate::profile::Credential;
use crate::profiles::ProfileEdit;
use crate::settings::Settings;
use crate::store::{Migration, Store, StoreKind};

/// An open profile store (opaque). Created by `ib_store_open`, freed by
/// `ib_store_free`.
pub struct IbStore {
    store: Mutex<Store>,
}

static STORES: Registry<IbStore> = Registry::new("ib_store");

/// A collation callback from C.
struct CCollation {
    callback: unsafe extern "C" fn(*mut c_void, IbStr, IbStr) -> i32,
    context: *mut c_void,
}

// SAFETY: ib_open_options documents that the callback and its context may
// be used from any thread that calls a store function.
unsafe impl Send for CCollation {}

impl Collation for CCollation {
    fn compare(&self, a: &str, b: &str) -> Ordering {
        // SAFETY: the caller registered a function of this signature; the
        // two strings outlive the call.
        let order =
            unsafe { (self.callback)(self.context, IbStr::borrowed(a), IbStr::borrowed(b)) };
        order.cmp(&0)
    }
}

/// Decides where the profiles come from (the environment-variable profile,
/// a vault, or the config file), loads them, and returns a store handle.
///
/// `options->settings` carries the `IBWAPI_*` environment variables and
/// `config_path` by name (unknown names are ignored). Warnings found while
/// loading (an unusable environment profile, a damaged file, unreadable
/// passwords) and the choice made are emitted through the log callback
/// during this call; a damaged file is not an error.
///
/// On `IB_OK`, `*store_out` receives a handle the caller owns and must
/// release with `ib_store_free`; on error it is not written. The handle may
/// be used from any thread; calls on one store are serialised.
///
/// With a vault name (`IBWAPI_VAULT_NAME`) that is not a built-in vault,
/// the host vault's callback runs during this call to set the vault up and
/// load the profiles, and later during the calls that save. A vault that
/// cannot be set up is no error: an error record says why and the config
/// file is used instead.
///
/// Returns `IB_NULL_ARGUMENT` (NULL `options`, `store_out`, setting name or
/// `host_vault->call`), `IB_INVALID_UTF8`, `IB_INVALID_ARGUMENT`
/// (`config_path` missing when the file is needed, or called from inside a
/// host vault callback).
///
/// # Safety
///
/// `options` must point at a valid `ib_open_options` whose `settings` array
/// holds `settings_len` entries and whose `host_vault` is NULL or points at
/// a valid `ib_host_vault`; `store_out` must be valid for writing.
/// `collate`, `collate_context` and the host vault's `call` and `context`
/// must stay usable until the store is freed.
#[no_mangle]
pub unsafe extern "C" fn ib_store_open(
    options: *const IbOpenOptions,
    store_out: *mut *mut IbStore,
) -> IbStatus {
    status_boundary(|| {
        refuse_inside_callback("ib_store_open")?;
        let options = options.as_ref().ok_or_else(|| null("options"))?;
        check_out(store_out, "store_out")?;

        let settings = settings_from(options)?;
        let host = host_from(options)?;
        let store = Store::open_with_host(&settings, collation_from(options), host)?;

        store_out.write(STORES.issue(IbStore {
            store: Mutex::new(store),
        }));
        Ok(())
    })
}

/// Closes a store. NULL, unknown and already freed handles are ignored.
/// Profile lists obtained from the store stay valid.
///
/// # Safety
///
/// None beyond passing a pointer value; it is never dereferenced unless it
/// is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ib_store_free(store: *mut IbStore) {
    value_boundary((), || STORES.release(store));
}

/// Writes the store's kind to `*kind_out`: 0 = environment-variable
/// profile, 1 = config file, 2 = vault. Not written on error.
///
/// Returns `IB_NULL_ARGUMENT` or `IB_INVALID_HANDLE` for a bad argument.
///
/// # Safety
///
/// `kind_out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ib_store_kind(store: *const IbStore, kind_out: *mut u32) -> IbStatus {
    status_boundary(|| {
        check_out(kind_out, "kind_out")?;

        let kind = with_store(store, |store| Ok(store.kind()))?;
        kind_out.write(kind as u32);
        Ok(())
    })
}

/// Get-IBConfig: the profile called `name` (letter case ignored), or the
/// current profile when `name.ptr` is NULL.
///
/// On `IB_OK`, `*list_out` receives a new list of 0 or 1 profiles (0 when
/// there is no such profile or no current one), owned by the caller and
/// released with `ib_profile_list_free`. Not written on error.
///
/// Returns `IB_NULL_ARGUMENT`, `IB_INVALID_HANDLE`, `IB_INVALID_UTF8`, or
/// `IB_INVALID_ARGUMENT` for a blank name.
///
/// # Safety
///
/// `name` must be a valid `ib_str`; `list_out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ib_store_get(
    store: *mut IbStore,
    name: IbStr,
    list_out: *mut *mut IbProfileList,
) -> IbStatus {
    status_boundary(|| {
        check_out(list_out, "list_out")?;
        let name = optional_str(name, "name")?;

        let list = with_store(store, |store| {
            let found = store.get(name)?.cloned();
            Ok(IbProfileList::from_store(store, found))
        })?;
        list_out.write(issue_list(list));
        Ok(())
    })
}

/// Get-IBConfig -List: every profile, sorted by name with the collation
/// given at open time.
///
/// On `IB_OK`, `*list_out` receives a new list owned by the caller, released
/// with `ib_profile_list_free`. Not written on error.
///
/// Returns `IB_NULL_ARGUMENT` or `IB_INVALID_HANDLE` for a bad argument.
///
/// # Safety
///
/// `list_out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ib_store_list(
    store: *mut IbStore,
    list_out: *mut *mut IbProfileList,
) -> IbStatus {
    status_boundary(|| {
        check_out(list_out, "list_out")?;

        let list = with_store(store, |store| {
            let sorted: Vec<_> = store.list().into_iter().cloned().collect();
            Ok(IbProfileList::from_store(store, sorted))
        })?;
        list_out.write(issue_list(list));
        Ok(())
    })
}

/// Set-IBConfig: creates or changes a profile and saves at once.
///
/// The password bytes are copied into memory that is wiped after use; the
/// caller may wipe its own copy as soon as the call returns. Nothing
/// changes on error.
///
/// Returns `IB_READ_ONLY_STORE` (environment profile), `IB_INVALID_ARGUMENT`
/// (blank string, bad flag, user name without password or the reverse),
/// `IB_RESERVED_NAME`, `IB_NO_CURRENT_PROFILE`, `IB_INVALID_VERSION`,
/// `IB_MISSING_FIELD`, `IB_FILE_IO` (save failed), the vault statuses
/// `IB_VAULT_*` (4001 to 4006) when a vault save fails, and the usual
/// argument errors.
///
/// # Safety
///
/// `edit` must point at a valid `ib_profile_edit` whose strings are valid.
#[no_mangle]
pub unsafe extern "C" fn ib_store_set(
    store: *mut IbStore,
    edit: *const IbProfileEdit,
) -> IbStatus {
    status_boundary(|| {
        let edit = edit.as_ref().ok_or_else(|| null("edit"))?;
        let edit = edit_from(edit)?;

        with_store(store, |store| store.set(edit))
    })
}

/// Remove-IBConfig: removes the profile called `name` (letter case
/// ignored), or the current profile when `name.ptr` is NULL, and saves at
/// once. When it was current, the first remaining profile in sorted order
/// becomes current. When no profile is left, the config file is deleted.
///
/// Returns `IB_READ_ONLY_STORE`, `IB_PROFILE_NOT_FOUND` (nothing removed),
/// `IB_INVALID_ARGUMENT` (blank name), `IB_FILE_IO`, `IB_VAULT_*`, and the
/// usual argument errors. Nothing changes on error.
///
/// # Safety
///
/// `name` must be a valid `ib_str`.
#[no_mangle]
pub unsafe extern "C" fn ib_store_remove(store: *mut IbStore, name: IbStr) -> IbStatus {
    status_boundary(|| {
        let name = optional_str(name, "name")?;

        with_store(store, |store| store.remove(name))
    })
}

/// Remove-IBConfig -AllProfiles: removes every profile and the current
/// name, and deletes the config file (or, for a vault, removes every
/// profile secret; other secrets stay).
///
/// Returns `IB_READ_ONLY_STORE`, `IB_FILE_IO`, `IB_VAULT_*`,
/// `IB_NULL_ARGUMENT` or `IB_INVALID_HANDLE`. Nothing changes on error.
///
/// # Safety
///
/// None beyond passing a pointer value.
#[no_mangle]
pub unsafe extern "C" fn ib_store_remove_all(store: *mut IbStore) -> IbStatus {
    status_boundary(|| with_store(store, Store::remove_all))
}

/// Checks cheaply whether the backing store changed since this handle
/// last read or wrote it, and reloads the profiles when it did. Call it
/// before each cmdlet.
///
/// The check: the config file and the encrypted vault file compare their
/// size, modification time and inode with what this handle last read or
/// wrote (one `stat`); other vaults list their secret names (for a
/// SecretManagement vault, one `Get-SecretInfo` through the host callback)
/// and reload when the set of names differs (docs/VAULTS.md). A reload
/// logs as an import does (warnings for a damaged file and so on).
///
/// On `IB_OK`, `*reloaded_out` is 1 when the profiles were reloaded and 0
/// otherwise. It is always 0 for the environment-variable profile, and
/// when the setting `IBWAPI_CONFIG_SYNC` was `off` (any letter case) at
/// open. A check that fails (a vault that cannot be listed, say) is no
/// error: a warning is logged, the profiles read earlier stay, and
/// `*reloaded_out` is 0.
///
/// Returns `IB_NULL_ARGUMENT`, `IB_INVALID_HANDLE`, or `IB_INVALID_ARGUMENT`
/// when called from inside a host vault callback.
///
/// # Safety
///
/// `reloaded_out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ib_store_refresh(store: *mut IbStore, reloaded_out: *mut u8) -> IbStatus {
    status_boundary(|| {
        check_out(reloaded_out, "reloaded_out")?;

        let reloaded = with_store(store, |store| Ok(store.refresh()))?;
        reloaded_out.write(u8::from(reloaded));
        Ok(())
    })
}

/// Copies (or, with `move`, moves) profiles between the config file and the
/// vault named by `IBWAPI_VAULT_NAME`. `migration->destination` is 1 (the
/// config file) or 2 (the vault); the source is the other one. The store
/// chosen at open stays this handle's store; the other one is opened for
/// the call (a vault with the same setup steps as `ib_store_open`, calling
/// the host vault callback for a SecretManagement vault).
///
/// - `names` NULL migrates every profile of the source; a named profile
///   missing in the source gives `IB_PROFILE_NOT_FOUND`.
/// - A destination profile of the same name (letter case ignored) whose
///   fields differ gives `IB_MIGRATION_CONFLICT`, naming all of them,
///   unless `overwrite` is 1; one with the same fields is left as it is.
/// - When the source's current profile is migrated, it becomes the
///   destination's current profile. With `move`, the profiles are removed
///   from the source after the destination is written, and the source's
///   current profile moves as Remove-IBConfig moves it.
/// - `dry_run` 1 changes nothing and lists what would be migrated; the
///   same checks run, so a dry run fails as the real one would.
/// - All or nothing: on error neither store changed, unless the message
///   says that undoing a step failed and which store holds what. This
///   handle's profiles reflect the result.
///
/// On `IB_OK`, `*list_out` receives a new list, owned by the caller and
/// released with `ib_profile_list_free`: the migrated profiles sorted by
/// name, as the destination holds them, `is_current` set for the one that
/// is the destination's current profile. Not written on error.
///
/// Returns `IB_READ_ONLY_STORE` (environment profile), `IB_VAULT_UNAVAILABLE`
/// (no vault configured, or it cannot be set up; the message says why),
/// `IB_PROFILE_NOT_FOUND`, `IB_MIGRATION_CONFLICT`, `IB_INVALID_ARGUMENT`
/// (bad destination or flag, a blank name, a credential a vault cannot
/// hold), `IB_FILE_IO`, `IB_VAULT_*`, and the usual argument errors.
///
/// # Safety
///
/// `migration` must point at a valid `ib_migration` whose `names` array
/// holds `names_len` valid strings; `list_out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ib_store_migrate(
    store: *mut IbStore,
    migration: *const IbMigration,
    list_out: *mut *mut IbProfileList,
) -> IbStatus {
    status_boundary(|| {
        let migration = migration.as_ref().ok_or_else(|| null("migration"))?;
        check_out(list_out, "list_out")?;
        let migration = migration_from(migration)?;

        let migrated = with_store(store, |store| store.migrate(&migration))?;
        list_out.write(issue_list(IbProfileList::from_migrated(migrated)));
        Ok(())
    })
}

fn with_store<T>(
    handle: *const IbStore,
    body: impl FnOnce(&mut Store) -> Result<T, Error>,
) -> Result<T, Error> {
    refuse_inside_callback("store")?;
    let handle: Arc<IbStore> = STORES.get(handle, "store")?;
    let mut store = handle.store.lock().map_err(|_| Error::Internal {
        detail: "the store is unusable after an earlier panic; close and reopen it".to_owned(),
    })?;

    body(&mut store)
}

fn null(argument: &str) -> Error {
    Error::NullArgument {
        argument: argument.to_owned(),
    }
}

fn check_out<T>(out: *mut T, argument: &str) -> Result<(), Error> {
    if out.is_null() {
        return Err(null(argument));
    }
    Ok(())
}

unsafe fn settings_from(options: &IbOpenOptions) -> Result<Settings, Error> {
    let entries: &[IbSetting] = match (options.settings.is_null(), options.settings_len) {
        (true, 0) => &[],
        (true, _) => return Err(null("options.settings")),
        (false, len) => slice::from_raw_parts(options.settings, len),
    };

    let mut settings = Settings::default();
    for (index, entry) in entries.iter().enumerate() {
        let name = required_str(entry.name, &format!("options.settings[{index}].name"))?;
        let value = optional_str(entry.value, &format!("the value of setting {name}"))?;
        settings.set(name, value);
    }
    Ok(settings)
}

fn collation_from(options: &IbOpenOptions) -> Box<dyn Collation> {
    match options.collate {
        Some(callback) => Box::new(CCollation {
            callback,
            context: options.collate_context,
        }),
        None => Box::new(DefaultCollation),
    }
}

unsafe fn edit_from(edit: &IbProfileEdit) -> Result<ProfileEdit, Error> {
    Ok(ProfileEdit {
        profile_name: optional_string(edit.profile_name, "edit.profile_name")?,
        wapi_host: optional_string(edit.wapi_host, "edit.wapi_host")?,
        wapi_version: optional_string(edit.wapi_version, "edit.wapi_version")?,
        credential: credential_from(edit)?,
        skip_certificate_check: flag_from(edit.skip_certificate_check, "skip_certificate_check")?,
        no_session: flag_from(edit.no_session, "no_session")?,
        new_name: optional_string(edit.new_name, "edit.new_name")?,
        no_switch_profile: bool_from(edit.no_switch_profile, "edit.no_switch_profile")?,
    })
}

unsafe fn credential_from(edit: &IbProfileEdit) -> Result<Option<Credential>, Error> {
    let username = optional_string(edit.username, "edit.username")?;
    let password = optional_secret(edit.password, "edit.password")?;

    match (username, password) {
        (None, None) => Ok(None),
        (Some(username), Some(password)) => Ok(Some(Credential::new(username, password))),
        _ => Err(Error::invalid_argument(
            "edit.username/edit.password",
            "give both the user name and the password, or neither",
        )),
    }
}

fn flag_from(value: i8, field: &str) -> Result<Option<bool>, Error> {
    match value {
        -1 => Ok(None),
        0 => Ok(Some(false)),
        1 => Ok(Some(true)),
        _ => Err(Error::invalid_argument(
            &format!("edit.{field}"),
            "must be -1, 0 or 1",
        )),
    }
}

unsafe fn migration_from(migration: &IbMigration) -> Result<Migration, Error> {
    let destination = match migration.destination {
        1 => StoreKind::File,
        2 => StoreKind::Vault,
        _ => {
            return Err(Error::invalid_argument(
                "migration.destination",
                "must be 1 (the config file) or 2 (the vault)",
            ))
        }
    };

    Ok(Migration {
        destination,
        names: migration_names(migration)?,
        move_profiles: bool_from(migration.move_profiles, "migration.move")?,
        overwrite: bool_from(migration.overwrite, "migration.overwrite")?,
        dry_run: bool_from(migration.dry_run, "migration.dry_run")?,
    })
}

unsafe fn migration_names(migration: &IbMigration) -> Result<Option<Vec<String>>, Error> {
    let entries: &[IbStr] = match (migration.names.is_null(), migration.names_len) {
        (true, 0) => return Ok(None),
        (true, _) => return Err(null("migration.names")),
        (false, len) => slice::from_raw_parts(migration.names, len),
    };

    let mut names = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        names.push(required_str(*entry, &format!("migration.names[{index}]"))?.to_owned());
    }
    Ok(Some(names))
}

fn bool_from(value: u8, field: &str) -> Result<bool, Error> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::invalid_argument(field, "must be 0 or 1")),
    }
}
