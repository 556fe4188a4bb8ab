//! The host's SecretManagement access across the C ABI: the
//! `ib_host_vault` callback the core calls, and the `ib_host_reply_*`
//! exports the host answers with (docs/ABI.md, "Vaults").
//!
//! Each call gets a fresh `ib_host_reply`, registered in the live-handle
//! registry only while the callback runs: afterwards the same pointer gives
//! `IB_INVALID_HANDLE`, so a host that keeps it cannot write into freed
//! memory. A reply the host got wrong (an item that is NULL or not UTF-8, an
//! unknown failure kind) makes the operation fail with a message saying so,
//! rather than succeed with a missing item.
//!
//! While the callback runs, the calling thread is marked: an `ib_store_*`
//! call from inside the callback would wait forever for the store's own
//! lock, so it is refused with `IB_INVALID_ARGUMENT` instead.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::{Mutex, PoisonError};

use super::handles::Registry;
use super::panic::status_boundary;
use super::strings::{optional_lossy, required_str};
use super::types::{IbHostVault, IbOpenOptions, IbStatus, IbStr};
use crate::error::Error;
use crate::profile::Secret;
use crate::vault::host::{HostCalls, HostFailure, HostFailureKind, HostOp, HostReply};

/// The reply to one host vault operation (opaque), owned by the core and
/// valid only while the callback that received it runs.
#[derive(Default)]
pub struct IbHostReply {
    state: Mutex<ReplyState>,
}

#[derive(Default)]
struct ReplyState {
    items: Vec<Secret>,
    failure: Option<HostFailure>,
    /// The first way the host misused the reply.
    misuse: Option<String>,
}

impl IbHostReply {
    fn update<T>(&self, change: impl FnOnce(&mut ReplyState) -> T) -> T {
        // Nothing panics while holding this lock; recover if it ever did.
        change(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

static REPLIES: Registry<IbHostReply> = Registry::new("ib_host_reply");

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

type Callback = unsafe extern "C" fn(*mut c_void, u32, IbStr, IbStr, IbStr, *mut IbHostReply);

/// The host vault given in `ib_open_options`.
struct CHostVault {
    call: Callback,
    context: *mut c_void,
}

// SAFETY: ib_open_options documents that the callback and its context may
// be used from any thread that calls a store function.
unsafe impl Send for CHostVault {}

impl HostCalls for CHostVault {
    fn call(
        &mut self,
        op: HostOp,
        vault: &str,
        arg1: Option<&str>,
        arg2: Option<&str>,
    ) -> HostReply {
        let handle = REPLIES.issue(IbHostReply::default());

        let marked = CallbackMark::enter();
        // SAFETY: the host registered a function of this signature with a
        // context valid for it; every string outlives the call, and the
        // reply handle stays registered until the call returns.
        unsafe {
            (self.call)(
                self.context,
                op as u32,
                IbStr::borrowed(vault),
                IbStr::optional(arg1),
                IbStr::optional(arg2),
                handle,
            );
        }
        drop(marked);

        let state = REPLIES
            .take(handle)
            .map(|reply| reply.update(std::mem::take))
            .unwrap_or_default();
        into_reply(state, op)
    }
}

/// Marks the thread as inside a host callback until dropped.
struct CallbackMark {
    outer: bool,
}

impl CallbackMark {
    fn enter() -> CallbackMark {
        CallbackMark {
            outer: IN_CALLBACK.with(|flag| flag.replace(true)),
        }
    }
}

impl Drop for CallbackMark {
    fn drop(&mut self) {
        IN_CALLBACK.with(|flag| flag.set(self.outer));
    }
}

fn into_reply(state: ReplyState, op: HostOp) -> HostReply {
    if let Some(misuse) = state.misuse {
        log::debug!("the host's reply to the vault operation {op:?} was invalid: {misuse}");
        return HostReply::failed(
            HostFailureKind::Failed,
            format!("the module's reply was invalid ({misuse})"),
        );
    }

    HostReply {
        items: state.items,
        failure: state.failure,
    }
}

/// The host vault of `options`, or `None` when it gives none.
///
/// # Errors
///
/// [`Error::NullArgument`] when the struct's `call` is NULL.
///
/// # Safety
///
/// A non-NULL `options.host_vault` must point at a valid `ib_host_vault`.
pub(crate) unsafe fn host_from(
    options: &IbOpenOptions,
) -> Result<Option<Box<dyn HostCalls>>, Error> {
    let Some(host) = options.host_vault.as_ref() else {
        return Ok(None);
    };
    let host: IbHostVault = *host;

    let call = host.call.ok_or_else(|| Error::NullArgument {
        argument: "options.host_vault->call".to_owned(),
    })?;
    Ok(Some(Box::new(CHostVault {
        call,
        context: host.context,
    })))
}

/// Refuses store calls made from inside a host vault callback.
///
/// # Errors
///
/// [`Error::InvalidArgument`] when the calling thread is inside one.
pub(crate) fn refuse_inside_callback(function: &str) -> Result<(), Error> {
    if IN_CALLBACK.with(Cell::get) {
        return Err(Error::invalid_argument(
            function,
            "must not be called from inside an ib_host_vault callback (the store is busy \
             waiting for that callback)",
        ));
    }
    Ok(())
}

/// Appends one result to the reply of the running host vault operation: a
/// secret name (list), the secret's value (read), or a fact (describe:
/// `module=<ModuleName>`, `param:<Key>=<Value>`). The bytes are copied
/// (a value into memory that is wiped after use).
///
/// Returns `IB_INVALID_HANDLE` when `reply` is not the reply of a callback
/// that is still running, `IB_NULL_ARGUMENT` for a NULL `reply` or `item`,
/// `IB_INVALID_UTF8`. A NULL or non-UTF-8 item also makes the operation
/// fail, so that the core never goes on with a result missing.
///
/// # Safety
///
/// `item` must be a valid `ib_str`.
#[no_mangle]
pub unsafe extern "C" fn ib_host_reply_add(reply: *mut IbHostReply, item: IbStr) -> IbStatus {
    status_boundary(|| {
        let reply = REPLIES.get(reply, "reply")?;

        match required_str(item, "item") {
            Ok(text) => {
                let item = Secret::from(text);
                reply.update(|state| state.items.push(item));
                Ok(())
            }
            Err(error) => {
                let problem = error.to_string();
                reply.update(|state| {
                    state.misuse.get_or_insert(problem);
                });
                Err(error)
            }
        }
    })
}

/// Marks the running host vault operation as failed. `kind`: 1 failed,
/// 2 password required (locked), 3 not found, 4 SecretManagement not
/// installed. `message` is what the host saw (an error record's message;
/// NULL for none); bytes that are not UTF-8 are replaced. Items added to a
/// failed reply are ignored; a second failure keeps the first.
///
/// Returns `IB_INVALID_HANDLE` when `reply` is not the reply of a callback
/// that is still running, `IB_NULL_ARGUMENT` for a NULL `reply`, and
/// `IB_INVALID_ARGUMENT` for an unknown `kind` (the operation then fails
/// all the same).
///
/// # Safety
///
/// `message` must be a valid `ib_str`.
#[no_mangle]
pub unsafe extern "C" fn ib_host_reply_fail(
    reply: *mut IbHostReply,
    kind: u32,
    message: IbStr,
) -> IbStatus {
    status_boundary(|| {
        let reply = REPLIES.get(reply, "reply")?;
        let message = optional_lossy(message, "message")?.unwrap_or_default();

        let Some(kind) = HostFailureKind::from_number(kind) else {
            let problem = format!("the failure kind {kind} is unknown (message: {message})");
            reply.update(|state| {
                state.misuse.get_or_insert(problem);
            });
            return Err(Error::invalid_argument("kind", "must be 1, 2, 3 or 4"));
        };

        reply.update(|state| {
            state.failure.get_or_insert(HostFailure { kind, message });
        });
        Ok(())
    })
}
