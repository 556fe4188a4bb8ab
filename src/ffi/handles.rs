//! The live-handle registry.
//!
//! Every handle given to C (`ib_store *`, `ib_profile_list *`,
//! `ib_host_reply *`) is the address of an `Arc` kept in a process-wide
//! table until it is freed. A call looks the address up and clones the
//! `Arc`, so a NULL, made-up or
//! freed handle gives an error instead of a crash, and a handle freed by one
//! thread while another is using it stays alive until that use ends.
//!
//! Limit: after a handle is freed, the allocator may reuse its address for a
//! new handle of the same type, which a stale pointer would then reach.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::Error;

/// The live handles of one type.
pub struct Registry<T> {
    kind: &'static str,
    live: Mutex<BTreeMap<usize, Arc<T>>>,
}

impl<T> Registry<T> {
    /// An empty registry for handles of the C type `kind`.
    pub const fn new(kind: &'static str) -> Registry<T> {
        Registry {
            kind,
            live: Mutex::new(BTreeMap::new()),
        }
    }

    /// Registers `value` and returns its handle.
    pub fn issue(&self, value: T) -> *mut T {
        let value = Arc::new(value);
        let handle = Arc::as_ptr(&value).cast_mut();

        self.table().insert(handle as usize, value);
        handle
    }

    /// The value behind `handle`.
    ///
    /// # Errors
    ///
    /// [`Error::NullArgument`] for NULL, [`Error::InvalidHandle`] for a
    /// handle that is not live.
    pub fn get(&self, handle: *const T, argument: &str) -> Result<Arc<T>, Error> {
        if handle.is_null() {
            return Err(Error::NullArgument {
                argument: argument.to_owned(),
            });
        }

        let found = self.table().get(&(handle as usize)).cloned();
        found.ok_or_else(|| Error::InvalidHandle {
            argument: argument.to_owned(),
            kind: self.kind,
        })
    }

    /// Unregisters `handle`; the value drops once no call uses it. NULL and
    /// unknown handles are ignored.
    pub fn release(&self, handle: *const T) {
        let removed = self.table().remove(&(handle as usize));

        drop(removed);
    }

    /// Unregisters `handle` and returns its value, if it was live.
    pub fn take(&self, handle: *const T) -> Option<Arc<T>> {
        self.table().remove(&(handle as usize))
    }

    fn table(&self) -> MutexGuard<'_, BTreeMap<usize, Arc<T>>> {
        // No code panics while holding this lock; recover if one ever did.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_valid_until_released() {
        let registry = Registry::new("ib_thing");
        let handle = registry.issue(7_u32);

        assert_eq!(*registry.get(handle, "thing").unwrap(), 7);

        registry.release(handle);
        registry.release(handle);
        assert!(matches!(
            registry.get(handle, "thing"),
            Err(Error::InvalidHandle { .. })
        ));
    }

    #[test]
    fn null_and_made_up_handles_are_errors() {
        let registry: Registry<u32> = Registry::new("ib_thing");

        let null = registry.get(std::ptr::null(), "thing");
        let made_up = registry.get(0x1000 as *const u32, "thing");

        assert!(matches!(null, Err(Error::NullArgument { .. })));
        assert!(matches!(made_up, Err(Error::InvalidHandle { .. })));
    }
}
