//! Windows DPAPI, for config files written by 4.x on Windows.
//!
//! On Windows, 4.x stores each password as the hex of a DPAPI blob
//! (`ConvertFrom-SecureString` with no key: current-user scope, the
//! password's UTF-16LE bytes as plain text). This module calls
//! `CryptProtectData` and `CryptUnprotectData` through `windows-sys`.
//!
//! **Not compiled or run here.** The project's build machine is Linux and
//! its vendored `windows-sys` is an empty stub, so this file has never been
//! compiled, and no test has exercised it. It needs a Windows build and a
//! round-trip test against a file written by 4.x before it is trusted.

use std::io;
use std::ptr;
use std::slice;

use windows_sys::Win32::Foundation::LocalFree;
use windows_sys::Win32::Security::Cryptography::{
    CryptProtectData, CryptUnprotectData, CRYPTPROTECT_UI_FORBIDDEN, CRYPT_INTEGER_BLOB,
};
use zeroize::{Zeroize, Zeroizing};

/// Encrypts `plain` for the current user.
///
/// # Errors
///
/// The Windows error when `CryptProtectData` fails, or when `plain` is
/// larger than 4 GiB.
pub fn protect(plain: &[u8]) -> io::Result<Vec<u8>> {
    let input = blob_of(plain)?;
    let mut output = empty_blob();

    // SAFETY: `input` points at `plain`, alive for the call; the optional
    // pointers are NULL, which the API allows; `output` is written by it.
    let ok = unsafe {
        CryptProtectData(
            &input,
            ptr::null(),
            ptr::null(),
            ptr::null(),
            ptr::null(),
            CRYPTPROTECT_UI_FORBIDDEN,
            &mut output,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }

    // SAFETY: on success `output` holds a LocalAlloc buffer of cbData bytes.
    Ok(unsafe { take_blob(output, false) }.to_vec())
}

/// Decrypts a blob that [`protect`] (or `ConvertFrom-SecureString`) made.
///
/// # Errors
///
/// The Windows error when `CryptUnprotectData` fails (another user, another
/// machine, damaged data).
pub fn unprotect(blob: &[u8]) -> io::Result<Zeroizing<Vec<u8>>> {
    let input = blob_of(blob)?;
    let mut output = empty_blob();

    // SAFETY: as in `protect`; the description out-pointer is NULL.
    let ok = unsafe {
        CryptUnprotectData(
            &input,
            ptr::null_mut(),
            ptr::null(),
            ptr::null(),
            ptr::null(),
            CRYPTPROTECT_UI_FORBIDDEN,
            &mut output,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }

    // SAFETY: on success `output` holds a LocalAlloc buffer of cbData bytes.
    Ok(unsafe { take_blob(output, true) })
}

fn blob_of(bytes: &[u8]) -> io::Result<CRYPT_INTEGER_BLOB> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "data over 4 GiB"))?;

    Ok(CRYPT_INTEGER_BLOB {
        cbData: len,
        pbData: bytes.as_ptr().cast_mut(),
    })
}

fn empty_blob() -> CRYPT_INTEGER_BLOB {
    CRYPT_INTEGER_BLOB {
        cbData: 0,
        pbData: ptr::null_mut(),
    }
}

/// Copies a blob the API allocated, wipes it when `secret`, and frees it.
///
/// # Safety
///
/// `blob` must come from a successful DPAPI call and not be freed yet.
unsafe fn take_blob(blob: CRYPT_INTEGER_BLOB, secret: bool) -> Zeroizing<Vec<u8>> {
    let len = blob.cbData as usize;
    let bytes = slice::from_raw_parts_mut(blob.pbData, len);
    let copy = Zeroizing::new(bytes.to_vec());

    if secret {
        bytes.zeroize();
    }
    LocalFree(blob.pbData.cast());
    copy
}
