//! Conversions between `ib_str` and Rust strings.
//!
//! Inputs are checked strictly: a NULL pointer with a non-zero length is an
//! invalid argument, and bytes that are not UTF-8 are refused. Passwords are
//! copied straight from the caller's bytes into a wiping [`Secret`].

use std::{ptr, slice, str};

use super::types::IbStr;
use crate::error::Error;
use crate::profile::Secret;

impl IbStr {
    /// The absent string: NULL pointer, length 0.
    pub const NULL: IbStr = IbStr {
        ptr: ptr::null(),
        len: 0,
    };

    /// A view of `text`, valid as long as `text` is.
    pub fn borrowed(text: &str) -> IbStr {
        IbStr {
            ptr: text.as_ptr(),
            len: text.len(),
        }
    }

    /// A view of `text`, or [`IbStr::NULL`] for `None`.
    pub fn optional(text: Option<&str>) -> IbStr {
        text.map_or(IbStr::NULL, IbStr::borrowed)
    }
}

/// The string `text` points at, or `None` when its pointer is NULL.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a NULL pointer with a non-zero length,
/// [`Error::InvalidUtf8`] for bytes that are not UTF-8.
///
/// # Safety
///
/// A non-NULL `text.ptr` must point at `text.len` readable bytes that stay
/// unchanged for `'a`.
pub unsafe fn optional_str<'a>(text: IbStr, argument: &str) -> Result<Option<&'a str>, Error> {
    if text.ptr.is_null() {
        if text.len != 0 {
            return Err(Error::invalid_argument(
                argument,
                "NULL pointer with a non-zero length",
            ));
        }
        return Ok(None);
    }

    let bytes = slice::from_raw_parts(text.ptr, text.len);
    let text = str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8 {
        argument: argument.to_owned(),
    })?;
    Ok(Some(text))
}

/// The string `text` points at, which must be present.
///
/// # Errors
///
/// [`Error::NullArgument`] for a NULL pointer, and those of
/// [`optional_str`].
///
/// # Safety
///
/// As for [`optional_str`].
pub unsafe fn required_str<'a>(text: IbStr, argument: &str) -> Result<&'a str, Error> {
    optional_str(text, argument)?.ok_or_else(|| Error::NullArgument {
        argument: argument.to_owned(),
    })
}

/// An owned copy of an optional string.
///
/// # Errors
///
/// Those of [`optional_str`].
///
/// # Safety
///
/// As for [`optional_str`].
pub unsafe fn optional_string(text: IbStr, argument: &str) -> Result<Option<String>, Error> {
    Ok(optional_str(text, argument)?.map(str::to_owned))
}

/// An optional password, copied into wiping memory.
///
/// # Errors
///
/// Those of [`optional_str`]; the message never shows the bytes.
///
/// # Safety
///
/// As for [`optional_str`].
pub unsafe fn optional_secret(text: IbStr, argument: &str) -> Result<Option<Secret>, Error> {
    Ok(optional_str(text, argument)?.map(Secret::from))
}

/// An optional string whose bytes need not be UTF-8: invalid sequences
/// become U+FFFD. For messages from the host, which are shown, not used.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a NULL pointer with a non-zero length.
///
/// # Safety
///
/// As for [`optional_str`].
pub unsafe fn optional_lossy(text: IbStr, argument: &str) -> Result<Option<String>, Error> {
    if text.ptr.is_null() {
        return optional_str(text, argument).map(|_| None);
    }

    let bytes = slice::from_raw_parts(text.ptr, text.len);
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}
