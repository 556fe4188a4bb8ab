//! The message of the last failure on each thread.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use super::types::{IbStatus, IB_NULL_ARGUMENT, IB_OK, IB_PANIC};

thread_local! {
    static MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error.
pub(crate) fn set(message: String) {
    MESSAGE.with(|slot| *slot.borrow_mut() = message);
}

/// Forgets this thread's last error.
pub(crate) fn clear() {
    MESSAGE.with(|slot| slot.borrow_mut().clear());
}

/// Gives the message of the last failed `ib_` call on the calling thread.
///
/// On `IB_OK`, `*ptr_out` and `*len_out` describe UTF-8 text (not
/// NUL-terminated; empty when the last call succeeded). The text is owned
/// by the library and stays valid until the next `ib_` call on the same
/// thread. It never contains a password. Returns `IB_NULL_ARGUMENT` when an
/// out-pointer is NULL.
///
/// # Safety
///
/// Non-NULL `ptr_out` and `len_out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ib_last_error_message(
    ptr_out: *mut *const u8,
    len_out: *mut usize,
) -> IbStatus {
    if ptr_out.is_null() || len_out.is_null() {
        set("ptr_out and len_out must not be NULL".to_owned());
        return IB_NULL_ARGUMENT;
    }

    let read = panic::catch_unwind(AssertUnwindSafe(|| {
        MESSAGE.with(|slot| {
            let message = slot.borrow();
            (message.as_ptr(), message.len())
        })
    }));
    let Ok((ptr, len)) = read else {
        return IB_PANIC;
    };

    ptr_out.write(ptr);
    len_out.write(len);
    IB_OK
}
