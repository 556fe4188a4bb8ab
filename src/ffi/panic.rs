//! The panic boundary every export runs in.
//!
//! A panic must never unwind into C (that is undefined behaviour), so each
//! export's body runs inside `catch_unwind`. A caught panic is a bug: it is
//! logged at error level, becomes this thread's last error, and the export
//! returns `IB_PANIC` or its documented default.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use super::last_error;
use super::types::{status_of, IbStatus, IB_OK, IB_PANIC};
use crate::error::Error;

/// Runs a fallible export body: `Ok` gives `IB_OK`, an error its status and
/// last-error message, a panic `IB_PANIC`.
pub(crate) fn status_boundary<F>(body: F) -> IbStatus
where
    F: FnOnce() -> Result<(), Error>,
{
    last_error::clear();

    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => IB_OK,
        Ok(Err(error)) => {
            last_error::set(error.to_string());
            status_of(&error)
        }
        Err(payload) => {
            report_panic(payload.as_ref());
            IB_PANIC
        }
    }
}

/// Runs an export body that returns a value instead of a status; a panic
/// gives `fallback`.
pub(crate) fn value_boundary<T, F>(fallback: T, body: F) -> T
where
    F: FnOnce() -> T,
{
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        report_panic(payload.as_ref());
        fallback
    })
}

fn report_panic(payload: &(dyn Any + Send)) {
    let detail = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let message =
        format!("internal error (a bug, please report it): a panic was caught: {detail}");

    log::error!("{message}");
    last_error::set(message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::types::IB_NULL_ARGUMENT;

    #[test]
    fn errors_and_panics_become_statuses() {
        let null = status_boundary(|| {
            Err(Error::NullArgument {
                argument: "x".into(),
            })
        });
        let panicked = status_boundary(|| panic!("boom"));
        let value = value_boundary(0_usize, || panic!("boom"));

        assert_eq!(null, IB_NULL_ARGUMENT);
        assert_eq!(panicked, IB_PANIC);
        assert_eq!(value, 0);
        assert_eq!(status_boundary(|| Ok(())), IB_OK);
    }
}
