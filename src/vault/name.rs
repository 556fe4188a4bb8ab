//! The forms of `IBWAPI_VAULT_NAME`: a built-in vault or a SecretManagement
//! vault.
//!
//! A value that starts with `[` names a built-in vault, reached by the core
//! itself; any other value names a SecretManagement vault, reached through
//! the module (the host).
//!
//! Why `[` cannot clash with an existing setup: Posh-IBWAPI 4.x passes the
//! vault name to `Test-SecretVault -Name` when the module is imported, and
//! that parameter takes wildcards. A name starting with `[` opens a
//! wildcard bracket expression (`[file]` matches a vault called `f`, `i`,
//! `l` or `e`, never one called `[file]`), so no such value ever named a
//! working SecretManagement vault in 4.x.
//!
//! | value | vault |
//! | --- | --- |
//! | `[file]` | encrypted vault file `posh-ibwapi.vault` beside the config file |
//! | `[file]<path>` | encrypted vault file at `<path>` (relative: to the config file's folder) |
//! | `[keyring]secret-service` | Secret Service (GNOME Keyring, KWallet...), default collection |
//! | `[keyring]secret-service:<collection>` | Secret Service, the named collection |
//! | `[keyring]keyutils` | the Linux kernel key retention service |
//! | `[keyring]macos-keychain` | macOS Keychain (not built yet) |
//! | `[keyring]windows-credentials` | Windows Credential Manager (not built yet) |
//!
//! The words inside and right after the brackets are matched without
//! regard to ASCII letter case; a path or collection is taken as written.

use std::path::PathBuf;

/// The list of valid built-in forms, for messages.
pub const BUILT_IN_FORMS: &str = "[file], [file]<path>, [keyring]secret-service, \
     [keyring]secret-service:<collection>, [keyring]keyutils, [keyring]macos-keychain, \
     [keyring]windows-credentials";

/// The default vault file name, in the config file's folder.
pub const DEFAULT_VAULT_FILE: &str = "posh-ibwapi.vault";

/// The vault that `IBWAPI_VAULT_NAME` selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VaultChoice {
    /// A SecretManagement vault of this name, through the host.
    SecretManagement(String),
    /// The encrypted vault file; `None`: the default path.
    File(Option<PathBuf>),
    /// Secret Service; `None`: the default collection.
    SecretService(Option<String>),
    /// Linux kernel keyutils.
    Keyutils,
    /// macOS Keychain.
    MacosKeychain,
    /// Windows Credential Manager.
    WindowsCredentials,
}

/// Reads the value of `IBWAPI_VAULT_NAME`.
///
/// # Errors
///
/// A message listing the valid forms when the value starts with `[` but is
/// none of them.
pub fn parse(value: &str) -> Result<VaultChoice, String> {
    if !value.starts_with('[') {
        return Ok(VaultChoice::SecretManagement(value.to_owned()));
    }

    if let Some(path) = strip_prefix_ignore_case(value, "[file]") {
        let path = (!crate::profile::is_blank(path)).then(|| PathBuf::from(path));
        return Ok(VaultChoice::File(path));
    }

    strip_prefix_ignore_case(value, "[keyring]")
        .and_then(parse_keyring)
        .ok_or_else(|| {
            format!(
                "'{value}' is not a built-in vault: a value starting with '[' must be one of \
                 {BUILT_IN_FORMS} (any other value names a SecretManagement vault)"
            )
        })
}

fn parse_keyring(store: &str) -> Option<VaultChoice> {
    if let Some(collection) = strip_prefix_ignore_case(store, "secret-service:") {
        return (!collection.is_empty())
            .then(|| VaultChoice::SecretService(Some(collection.to_owned())));
    }

    let known = [
        ("secret-service", VaultChoice::SecretService(None)),
        ("keyutils", VaultChoice::Keyutils),
        ("macos-keychain", VaultChoice::MacosKeychain),
        ("windows-credentials", VaultChoice::WindowsCredentials),
    ];
    known
        .into_iter()
        .find(|(word, _)| store.eq_ignore_ascii_case(word))
        .map(|(_, choice)| choice)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;

    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_a_bracket_are_secretmanagement_vaults() {
        for name in ["MyVault", "file", " [file]", "Az Key Vault", "my[vault]"] {
            assert_eq!(
                parse(name),
                Ok(VaultChoice::SecretManagement(name.to_owned()))
            );
        }
    }

    #[test]
    fn file_forms() {
        assert_eq!(parse("[file]"), Ok(VaultChoice::File(None)));
        assert_eq!(parse("[FILE]  "), Ok(VaultChoice::File(None)));
        assert_eq!(
            parse("[file]/srv/ib/Profiles.vault"),
            Ok(VaultChoice::File(Some("/srv/ib/Profiles.vault".into())))
        );
    }

    #[test]
    fn keyring_forms() {
        let cases = [
            ("[keyring]secret-service", VaultChoice::SecretService(None)),
            (
                "[keyring]Secret-Service:Work Stuff",
                VaultChoice::SecretService(Some("Work Stuff".into())),
            ),
            ("[Keyring]keyutils", VaultChoice::Keyutils),
            ("[keyring]macos-keychain", VaultChoice::MacosKeychain),
            (
                "[keyring]windows-credentials",
                VaultChoice::WindowsCredentials,
            ),
        ];

        for (value, expected) in cases {
            assert_eq!(parse(value), Ok(expected), "{value}");
        }
    }

    #[test]
    fn unknown_built_in_forms_list_the_valid_ones() {
        for value in [
            "[",
            "[files]",
            "[keyring]",
            "[keyring]gnome",
            "[keyring]secret-service:",
            "[vault]x",
            "[fil",
        ] {
            let message = parse(value).unwrap_err();
            assert!(message.contains(BUILT_IN_FORMS), "{message}");
            assert!(message.contains(&format!("'{value}'")), "{message}");
        }
    }
}
