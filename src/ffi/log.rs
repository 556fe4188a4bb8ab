//! Forwards the crate's `log` records to a callback registered from C.
//!
//! One [`log::Log`] implementation is installed the first time
//! `ib_set_log_callback` is called. The callback and its context sit behind
//! a lock and can be replaced at any time; they are copied out before each
//! call, so the callback may itself call `ib_` functions.

use std::ffi::c_void;
use std::sync::{OnceLock, PoisonError, RwLock};

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::panic::status_boundary;
use super::types::{IbLogFn, IbStatus};
use crate::error::Error;

type Callback = unsafe extern "C" fn(*mut c_void, u32, *const u8, usize);

#[derive(Clone, Copy)]
struct Sink {
    callback: Callback,
    /// The caller's context pointer, kept as an address so that the sink is
    /// `Send`; the caller promises it is usable from any thread.
    context: usize,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

struct CallbackLogger;

static LOGGER: CallbackLogger = CallbackLogger;

impl Log for CallbackLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Some(sink) = current_sink() else {
            return;
        };

        let message = record.args().to_string();
        // SAFETY: the caller registered a function of this signature and a
        // context valid for it; the message outlives the call.
        unsafe {
            (sink.callback)(
                sink.context as *mut c_void,
                level_number(record.level()),
                message.as_ptr(),
                message.len(),
            );
        }
    }

    fn flush(&self) {}
}

fn current_sink() -> Option<Sink> {
    *SINK.read().unwrap_or_else(PoisonError::into_inner)
}

fn level_number(level: Level) -> u32 {
    match level {
        Level::Error => 1,
        Level::Warn => 2,
        Level::Info => 3,
        Level::Debug => 4,
        Level::Trace => 5,
    }
}

fn level_filter(max_level: u32) -> Result<LevelFilter, Error> {
    match max_level {
        0 => Ok(LevelFilter::Off),
        1 => Ok(LevelFilter::Error),
        2 => Ok(LevelFilter::Warn),
        3 => Ok(LevelFilter::Info),
        4 => Ok(LevelFilter::Debug),
        5 => Ok(LevelFilter::Trace),
        _ => Err(Error::invalid_argument(
            "max_level",
            "must be 0 (off) to 5 (trace)",
        )),
    }
}

fn install_logger() -> Result<(), Error> {
    let installed = INSTALLED.get_or_init(|| {
        log::set_logger(&LOGGER).map_err(|_| {
            "another logger is already installed in this process; records cannot be \
             forwarded"
                .to_owned()
        })
    });

    installed
        .clone()
        .map_err(|detail| Error::Internal { detail })
}

/// Registers the process-wide log callback.
///
/// `cb` receives `(ctx, level, msg, msg_len)` for every record at or below
/// `max_level` (0 = off, 1 = error, 2 = warn, 3 = info, 4 = debug,
/// 5 = trace); `msg` is UTF-8, not NUL-terminated, and borrowed for the call
/// only. Records are emitted only while an `ib_` function runs, on the
/// thread that called it: warnings found while loading arrive during
/// `ib_store_open`. A NULL `cb` turns forwarding off. Calling again
/// replaces the callback, context and level. Records never contain
/// passwords.
///
/// Returns `IB_INVALID_ARGUMENT` for a `max_level` above 5.
///
/// # Safety
///
/// `cb` must be safe to call with `ctx` from any thread that calls into this
/// library, until it is replaced, and must not unwind (throw) into the
/// library.
#[no_mangle]
pub unsafe extern "C" fn ib_set_log_callback(
    cb: IbLogFn,
    ctx: *mut c_void,
    max_level: u32,
) -> IbStatus {
    status_boundary(|| {
        let filter = level_filter(max_level)?;
        install_logger()?;

        let sink = cb.map(|callback| Sink {
            callback,
            context: ctx as usize,
        });
        *SINK.write().unwrap_or_else(PoisonError::into_inner) = sink;

        let filter = if sink.is_some() {
            filter
        } else {
            LevelFilter::Off
        };
        log::set_max_level(filter);
        Ok(())
    })
}
