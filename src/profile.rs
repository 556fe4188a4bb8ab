//! One connection profile, its credential, and the rules for its fields.
//!
//! A profile (BEHAVIOR.md A1) has a name, a WAPI host, a WAPI version, a
//! credential and two flags. Host and version may be missing in a loaded
//! file; Set refuses to save a profile without them.
//!
//! Passwords are held in [`Secret`], which zeroes its memory when dropped
//! and never prints its content. Nothing here derives `Debug` over a
//! password: the `Debug` impls are written by hand and redact it.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::Error;

/// The name of the environment-variable profile; no other profile may use it.
pub const ENV_PROFILE_NAME: &str = "ENV";

/// A password: wiped from memory on drop, printed as `<redacted>`.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of `text`; its buffer is wiped when the secret drops.
    pub fn new(text: String) -> Secret {
        Secret(Zeroizing::new(text))
    }

    /// The password in clear, for the few places that must encode it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Secret {
        Secret::new(text.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A user name and password, as a PowerShell `PSCredential` holds them.
#[derive(Clone)]
pub struct Credential {
    /// The WAPI user name.
    pub username: String,
    /// The password.
    pub password: Secret,
}

impl Credential {
    /// A credential from a user name and a password.
    pub fn new(username: impl Into<String>, password: Secret) -> Credential {
        Credential {
            username: username.into(),
            password,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// A stored credential that this platform cannot read, kept unchanged.
///
/// A file written on Windows protects passwords with DPAPI, which other
/// platforms cannot decrypt. The profile then has no [`Credential`], but the
/// original JSON object is carried along and written back as it was, so a
/// save on Linux never destroys a Windows secret. Setting a new credential
/// drops it.
#[derive(Clone)]
pub struct UnreadableCredential {
    pub(crate) json: serde_json_lenient::Value,
}

impl fmt::Debug for UnreadableCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnreadableCredential(<redacted>)")
    }
}

/// One connection profile.
#[derive(Clone)]
pub struct Profile {
    /// The name, in the spelling first saved.
    pub name: String,
    /// The grid manager's host name; `None` when the file had none.
    pub wapi_host: Option<String>,
    /// The WAPI version, such as `2.12`; `None` when the file had none.
    pub wapi_version: Option<String>,
    /// The credential; `None` when there is none or it could not be read.
    pub credential: Option<Credential>,
    /// A credential kept from the file because it could not be read here.
    pub unreadable_credential: Option<UnreadableCredential>,
    /// Whether TLS certificate checks are skipped.
    pub skip_certificate_check: bool,
    /// Whether each request logs in anew instead of keeping a session.
    pub no_session: bool,
}

impl Profile {
    /// An empty profile: no host, version or credential, flags false.
    pub fn new(name: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            wapi_host: None,
            wapi_version: None,
            credential: None,
            unreadable_credential: None,
            skip_certificate_check: false,
            no_session: false,
        }
    }
}

impl Profile {
    /// Whether `other` holds the same host, version, credential (user name
    /// and password, or the same unreadable stored credential) and flags.
    /// The names are not compared.
    pub fn same_settings(&self, other: &Profile) -> bool {
        let same_credential = match (&self.credential, &other.credential) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.username == b.username && a.password.expose() == b.password.expose()
            }
            _ => false,
        };
        let same_unreadable = match (&self.unreadable_credential, &other.unreadable_credential) {
            (None, None) => true,
            (Some(a), Some(b)) => a.json == b.json,
            _ => false,
        };

        self.wapi_host == other.wapi_host
            && self.wapi_version == other.wapi_version
            && same_credential
            && same_unreadable
            && self.skip_certificate_check == other.skip_certificate_check
            && self.no_session == other.no_session
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("wapi_host", &self.wapi_host)
            .field("wapi_version", &self.wapi_version)
            .field("credential", &self.credential)
            .field("unreadable_credential", &self.unreadable_credential)
            .field("skip_certificate_check", &self.skip_certificate_check)
            .field("no_session", &self.no_session)
            .finish()
    }
}

/// Whether `text` is empty or only whitespace (.NET `IsNullOrWhiteSpace`).
pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// The key under which a profile name is compared: names differing only in
/// letter case are the same profile.
pub fn fold_name(name: &str) -> String {
    name.to_lowercase()
}

/// Whether two profile names are the same profile.
pub fn same_name(a: &str, b: &str) -> bool {
    a == b || fold_name(a) == fold_name(b)
}

/// Whether `name` is `ENV` in any letter case.
pub fn is_reserved_name(name: &str) -> bool {
    same_name(name, ENV_PROFILE_NAME)
}

/// Checks a WAPI version given to Set.
///
/// # Errors
///
/// [`Error::UnresolvedLatestVersion`] for `latest` (any letter case), which
/// the module must resolve against the grid first, and
/// [`Error::InvalidVersion`] for text that [`is_valid_version`] rejects.
pub fn check_version(text: &str) -> Result<(), Error> {
    if text.trim().eq_ignore_ascii_case("latest") {
        return Err(Error::UnresolvedLatestVersion);
    }

    if !is_valid_version(text) {
        return Err(Error::InvalidVersion {
            value: text.to_owned(),
        });
    }

    Ok(())
}

/// Whether `text` parses like .NET `System.Version.TryParse`: two to four
/// components separated by `.`, each a non-negative 32-bit integer.
///
/// A component is ASCII digits with an optional leading `+`; whitespace
/// around each component is tolerated, as .NET's integer parsing does.
pub fn is_valid_version(text: &str) -> bool {
    let components: Vec<&str> = text.split('.').collect();

    (2..=4).contains(&components.len()) && components.into_iter().all(is_version_component)
}

fn is_version_component(component: &str) -> bool {
    let digits = component.trim_matches(is_dotnet_number_space);
    let digits = digits.strip_prefix('+').unwrap_or(digits);

    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<i32>().is_ok()
}

/// The whitespace .NET accepts around a number: tab to carriage return, space.
fn is_dotnet_number_space(c: char) -> bool {
    matches!(c, '\u{9}'..='\u{d}' | ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_that_system_version_accepts() {
        for text in [
            "1.0", "2.12", "2.11.3", "1.2.3.4", " 2 . 12 ", "+2.+5", "0.0",
        ] {
            assert!(is_valid_version(text), "{text:?} should be valid");
        }
    }

    #[test]
    fn versions_that_system_version_rejects() {
        let rejected = [
            "",
            "2",
            "latest",
            "1.2.3.4.5",
            "2.",
            ".2",
            "a.b",
            "-1.0",
            "2.x",
            "1.2147483648",
            "2..1",
            "٢.١",
            "+.1",
            "2 1.0",
        ];

        for text in rejected {
            assert!(!is_valid_version(text), "{text:?} should be invalid");
        }
    }

    #[test]
    fn latest_gets_its_own_error() {
        assert!(matches!(
            check_version("Latest"),
            Err(Error::UnresolvedLatestVersion)
        ));
        assert!(matches!(
            check_version("2.x"),
            Err(Error::InvalidVersion { .. })
        ));
        assert!(check_version("2.12").is_ok());
    }

    #[test]
    fn debug_output_never_shows_a_password() {
        let credential = Credential::new("admin", Secret::from("hunter2"));
        let mut profile = Profile::new("lab");
        profile.credential = Some(credential);

        let text = format!("{profile:?}");

        assert!(!text.contains("hunter2"));
        assert!(text.contains("admin"));
    }

    #[test]
    fn names_compare_without_letter_case() {
        assert!(same_name("Prod", "PROD"));
        assert!(same_name("Ärger", "äRGER"));
        assert!(!same_name("prod", "prod2"));
        assert!(is_reserved_name("env"));
    }
}
