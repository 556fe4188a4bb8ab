//! How the config file stores passwords (BEHAVIOR.md A2.3).
//!
//! - With `"IsBase64": true`: Base64 of the password's UTF-16LE bytes. Linux
//!   and macOS write this.
//! - Without it: a Windows DPAPI blob (current-user scope) as lower-case
//!   hex, the output of `ConvertFrom-SecureString` without a key. Only
//!   Windows can read or write it (the `dpapi` module, Windows only).
//!
//! Every intermediate buffer that holds the password is wiped on drop.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::profile::Secret;

/// A password in the form the config file stores it.
pub struct StoredPassword {
    /// The `Password` value.
    pub text: Zeroizing<String>,
    /// Whether to write `"IsBase64": true` (everywhere but Windows).
    pub is_base64: bool,
}

/// Why a stored password could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// A DPAPI password on a platform without DPAPI.
    DpapiUnsupported,
    /// The text did not decode or decrypt; the detail says why (it never
    /// holds the password).
    Undecodable(String),
}

/// Encodes `password` as 4.x does on this platform: DPAPI hex on Windows,
/// Base64 of UTF-16LE elsewhere.
///
/// # Errors
///
/// On Windows, the operating system's error when DPAPI fails; never
/// elsewhere.
pub fn store(password: &Secret) -> std::io::Result<StoredPassword> {
    #[cfg(windows)]
    {
        Ok(StoredPassword {
            text: protect(password)?,
            is_base64: false,
        })
    }

    #[cfg(not(windows))]
    {
        Ok(StoredPassword {
            text: encode_base64(password),
            is_base64: true,
        })
    }
}

/// Decodes a stored `Password` value; `is_base64` is its `IsBase64` flag.
///
/// # Errors
///
/// [`ReadError::DpapiUnsupported`] for a DPAPI value off Windows, and
/// [`ReadError::Undecodable`] for a value that does not decode.
pub fn read(text: &str, is_base64: bool) -> Result<Secret, ReadError> {
    if is_base64 {
        decode_base64(text).map_err(ReadError::Undecodable)
    } else {
        unprotect(text)
    }
}

/// The Base64 form of `password` (of its UTF-16LE bytes).
pub fn encode_base64(password: &Secret) -> Zeroizing<String> {
    let bytes = utf16le_bytes(password);

    Zeroizing::new(STANDARD.encode(&*bytes))
}

/// The password stored as Base64 of UTF-16LE bytes.
///
/// # Errors
///
/// A short description (never the password) when the text is not Base64,
/// has an odd number of bytes, or is not valid UTF-16.
pub fn decode_base64(text: &str) -> Result<Secret, String> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));

    STANDARD
        .decode_vec(text.trim(), &mut bytes)
        .map_err(|err| format!("not valid Base64: {err}"))?;
    from_utf16le(&bytes)
}

/// The DPAPI-protected hex form of `password`, as Windows 4.x writes it.
#[cfg(windows)]
fn protect(password: &Secret) -> std::io::Result<Zeroizing<String>> {
    let blob = crate::dpapi::protect(&utf16le_bytes(password))?;

    Ok(to_hex(&blob))
}

/// The password stored as a DPAPI-protected hex string.
fn unprotect(text: &str) -> Result<Secret, ReadError> {
    #[cfg(windows)]
    {
        let blob = from_hex(text).map_err(ReadError::Undecodable)?;
        let plain = crate::dpapi::unprotect(&blob)
            .map_err(|err| ReadError::Undecodable(format!("DPAPI: {err}")))?;
        from_utf16le(&plain).map_err(ReadError::Undecodable)
    }

    #[cfg(not(windows))]
    {
        let _ = text;
        Err(ReadError::DpapiUnsupported)
    }
}

fn utf16le_bytes(password: &Secret) -> Zeroizing<Vec<u8>> {
    let units = password.expose().encode_utf16().count();
    let mut bytes = Zeroizing::new(Vec::with_capacity(2 * units));

    for unit in password.expose().encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

fn from_utf16le(bytes: &[u8]) -> Result<Secret, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(format!(
            "an odd number of bytes ({}) is not UTF-16",
            bytes.len()
        ));
    }

    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    // Three UTF-8 bytes per UTF-16 unit at most: the string never regrows.
    let mut text = Zeroizing::new(String::with_capacity(3 * bytes.len() / 2));

    for c in char::decode_utf16(units) {
        text.push(c.map_err(|_| "not valid UTF-16 (an unpaired surrogate)".to_owned())?);
    }
    Ok(Secret::new(std::mem::take(&mut *text)))
}

#[cfg(windows)]
fn to_hex(bytes: &[u8]) -> Zeroizing<String> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = Zeroizing::new(String::with_capacity(2 * bytes.len()));

    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

#[cfg(windows)]
fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.trim().as_bytes();

    if digits.len() % 2 != 0 {
        return Err("the hex text has an odd length".to_owned());
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| "the text is not hex".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_utf16le() {
        let encoded = encode_base64(&Secret::from("infoblox"));

        assert_eq!(encoded.as_str(), "aQBuAGYAbwBiAGwAbwB4AA==");
        assert_eq!(decode_base64(&encoded).unwrap().expose(), "infoblox");
    }

    #[test]
    fn astral_characters_survive() {
        let password = Secret::from("𝄞 ✓ \"x\"");

        let decoded = decode_base64(&encode_base64(&password)).unwrap();

        assert_eq!(decoded.expose(), password.expose());
    }

    #[test]
    fn bad_base64_is_reported_without_the_text() {
        assert!(decode_base64("not base64!").unwrap_err().contains("Base64"));
        assert!(decode_base64("YQ==").unwrap_err().contains("odd"));
        assert!(decode_base64("ANg=").unwrap_err().contains("UTF-16"));
    }

    #[cfg(not(windows))]
    #[test]
    fn dpapi_is_unsupported_off_windows() {
        assert!(matches!(
            read("01000000d08c", false),
            Err(ReadError::DpapiUnsupported)
        ));
    }
}
