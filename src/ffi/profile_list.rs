//! The `ib_profile_list_*` exports: immutable snapshots of profiles.

use std::sync::Arc;

use super::handles::Registry;
use super::panic::{status_boundary, value_boundary};
use super::types::{IbProfileView, IbStatus, IbStr};
use crate::error::Error;
use crate::profile::Profile;
use crate::store::{Migrated, Store};

/// A snapshot of profiles (opaque), owned by the caller. Its passwords are
/// wiped when it is freed with `ib_profile_list_free`.
pub struct IbProfileList {
    entries: Vec<Entry>,
}

struct Entry {
    profile: Profile,
    is_current: bool,
}

static LISTS: Registry<IbProfileList> = Registry::new("ib_profile_list");

impl IbProfileList {
    /// A snapshot of `profiles`, marking the store's current one.
    pub(crate) fn from_store(store: &Store, profiles: impl IntoIterator<Item = Profile>) -> Self {
        let entries = profiles
            .into_iter()
            .map(|profile| Entry {
                is_current: store.is_current(&profile.name),
                profile,
            })
            .collect();

        IbProfileList { entries }
    }
}

impl IbProfileList {
    /// A snapshot of migrated profiles, each marked as the destination
    /// marks it.
    pub(crate) fn from_migrated(migrated: Vec<Migrated>) -> Self {
        let entries = migrated
            .into_iter()
            .map(|migrated| Entry {
                profile: migrated.profile,
                is_current: migrated.is_current,
            })
            .collect();

        IbProfileList { entries }
    }
}

/// Registers `list` and returns its handle.
pub(crate) fn issue_list(list: IbProfileList) -> *mut IbProfileList {
    LISTS.issue(list)
}

/// The number of profiles in `list`; 0 for NULL or an unknown handle.
///
/// # Safety
///
/// None beyond passing a pointer value.
#[no_mangle]
pub unsafe extern "C" fn ib_profile_list_len(list: *const IbProfileList) -> usize {
    value_boundary(0, || {
        LISTS.get(list, "list").map_or(0, |list| list.entries.len())
    })
}

/// Fills `*view_out` with the profile at `index` (0-based).
///
/// Every pointer in the view is borrowed from the list and stays valid
/// until `ib_profile_list_free(list)`; copy what you keep. Not written on
/// error. The list is immutable, so views may be read from any thread.
///
/// Returns `IB_NULL_ARGUMENT`, `IB_INVALID_HANDLE`, or
/// `IB_INVALID_ARGUMENT` when `index` is out of range.
///
/// # Safety
///
/// `view_out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ib_profile_list_entry(
    list: *const IbProfileList,
    index: usize,
    view_out: *mut IbProfileView,
) -> IbStatus {
    status_boundary(|| {
        if view_out.is_null() {
            return Err(Error::NullArgument {
                argument: "view_out".to_owned(),
            });
        }

        let list: Arc<IbProfileList> = LISTS.get(list, "list")?;
        let entry = list.entries.get(index).ok_or_else(|| {
            let reason = format!(
                "{index} is past the end of a list of {}",
                list.entries.len()
            );
            Error::invalid_argument("index", &reason)
        })?;

        view_out.write(view_of(entry));
        Ok(())
    })
}

/// Releases a list and wipes its passwords. NULL, unknown and already freed
/// handles are ignored. Views taken from the list become invalid.
///
/// # Safety
///
/// None beyond passing a pointer value.
#[no_mangle]
pub unsafe extern "C" fn ib_profile_list_free(list: *mut IbProfileList) {
    value_boundary((), || LISTS.release(list));
}

fn view_of(entry: &Entry) -> IbProfileView {
    let profile = &entry.profile;
    let credential = profile.credential.as_ref();

    IbProfileView {
        profile_name: IbStr::borrowed(&profile.name),
        wapi_host: IbStr::optional(profile.wapi_host.as_deref()),
        wapi_version: IbStr::optional(profile.wapi_version.as_deref()),
        username: IbStr::optional(credential.map(|c| c.username.as_str())),
        password: IbStr::optional(credential.map(|c| c.password.expose())),
        skip_certificate_check: u8::from(profile.skip_certificate_check),
        no_session: u8::from(profile.no_session),
        is_current: u8::from(entry.is_current),
    }
}
