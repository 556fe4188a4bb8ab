//! The environment-variable profile (BEHAVIOR.md A2.1).
//!
//! When `IBWAPI_HOST` is not blank, the module runs "stateless": the only
//! profile is `ENV`, built from the `IBWAPI_*` settings, current, and never
//! saved. If a required setting is missing or invalid, one warning names the
//! first one (as 4.x does) and the store falls through to the vault or file.

use crate::profile::{is_blank, is_valid_version, Credential, Profile, ENV_PROFILE_NAME};
use crate::settings::{Settings, PASSWORD, USERNAME, VERSION};

const NOT_USED: &str = "the environment-variable profile is not used.";

/// The `ENV` profile, when the settings describe a usable one.
///
/// Returns `None` without a record when `IBWAPI_HOST` is blank, and `None`
/// with one warning when it is set but the version, user name or password
/// (checked in that order) is missing or invalid.
pub fn from_settings(settings: &Settings) -> Option<Profile> {
    let host = settings.host.as_deref().filter(|host| !is_blank(host))?;

    if let Some(problem) = first_problem(settings) {
        log::warn!("{problem} {NOT_USED}");
        return None;
    }

    let mut profile = Profile::new(ENV_PROFILE_NAME);
    profile.wapi_host = Some(host.to_owned());
    profile.wapi_version = settings.version.clone();
    profile.credential = credential(settings);
    profile.skip_certificate_check = flag(settings.skip_cert_check.as_deref());
    profile.no_session = flag(settings.no_session.as_deref());

    Some(profile)
}

/// Reads an `IBWAPI_*` switch: unset, empty, `False`, `0` or `No` (any
/// letter case) is false; anything else is true.
pub fn flag(value: Option<&str>) -> bool {
    match value {
        None | Some("") => false,
        Some(text) => !["False", "0", "No"]
            .iter()
            .any(|no| text.eq_ignore_ascii_case(no)),
    }
}

fn first_problem(settings: &Settings) -> Option<String> {
    let version_ok = settings.version.as_deref().is_some_and(is_valid_version);
    let username_ok = settings.username.as_deref().is_some_and(|u| !is_blank(u));
    let password_ok = settings
        .password
        .as_ref()
        .is_some_and(|p| !is_blank(p.expose()));

    if !version_ok {
        Some(format!(
            "{VERSION} is missing or is not a valid version (such as 2.12);"
        ))
    } else if !username_ok {
        Some(format!("{USERNAME} is missing or blank;"))
    } else if !password_ok {
        Some(format!("{PASSWORD} is missing or blank;"))
    } else {
        None
    }
}

fn credential(settings: &Settings) -> Option<Credential> {
    let username = settings.username.clone()?;
    let password = settings.password.clone()?;

    Some(Credential::new(username, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> Settings {
        Settings::from_pairs([
            ("IBWAPI_HOST", Some("gm.example.test")),
            ("IBWAPI_VERSION", Some("2.12")),
            ("IBWAPI_USERNAME", Some("admin")),
            ("IBWAPI_PASSWORD", Some("secret")),
        ])
    }

    #[test]
    fn complete_settings_give_the_env_profile() {
        let profile = from_settings(&complete()).expect("an ENV profile");

        assert_eq!(profile.name, "ENV");
        assert_eq!(profile.wapi_host.as_deref(), Some("gm.example.test"));
        assert_eq!(profile.credential.unwrap().password.expose(), "secret");
        assert!(!profile.skip_certificate_check);
    }

    #[test]
    fn blank_host_means_no_env_profile() {
        let mut settings = complete();
        settings.host = Some(" \t".into());

        assert!(from_settings(&settings).is_none());
    }

    #[test]
    fn latest_is_not_a_valid_env_version() {
        let mut settings = complete();
        settings.version = Some("latest".into());

        assert!(from_settings(&settings).is_none());
    }

    #[test]
    fn flags_follow_the_4x_false_strings() {
        for no in [
            None,
            Some(""),
            Some("false"),
            Some("FALSE"),
            Some("0"),
            Some("no"),
        ] {
            assert!(!flag(no), "{no:?}");
        }
        for yes in [Some("1"), Some("true"), Some(" no"), Some("off"), Some(" ")] {
            assert!(flag(yes), "{yes:?}");
        }
    }
}
