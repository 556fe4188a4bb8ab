//! The value of a profile's secret: one compact JSON object, as 4.x writes
//! it (BEHAVIOR.md A2.2).
//!
//! ```text
//! {"WAPIHost":"gm.example.test","WAPIVersion":"2.12","Credential":{"Username":"admin",
//!  "Password":"s3cr3t!"},"SkipCertificateCheck":false,"NoSession":true,"Current":true}
//! ```
//!
//! (one line in the vault). The keys come in that order, the password is in
//! plain text (the vault encrypts), and strings are escaped as PowerShell
//! 7's `ConvertTo-Json -Compress` escapes them.
//!
//! Reading is as lenient as the config file's: member names match without
//! regard to ASCII letter case, `null` counts as missing, comments and
//! trailing commas are accepted, a missing or non-`true` flag is false. A
//! value that is not a JSON object, or whose fields have the wrong type,
//! does not parse. A credential without a user name or password loads as
//! no credential, with a warning.
//!
//! The value text is held in wiping memory and the password is moved, not
//! copied, out of the parsed tree; the parser's own scratch buffers (used
//! for strings with escapes) are not wiped.

use serde::Deserialize;
use serde_json_lenient::{Map, Value};

use crate::config_file::document::{is_true, member, optional_text, powershell_quote};
use crate::config_file::json_writer::{write_compact, Node};
use crate::profile::{Credential, Profile, Secret};

/// A profile read from its secret.
pub struct StoredProfile {
    /// The profile, named as recovered from the secret name.
    pub profile: Profile,
    /// The secret's `Current` flag.
    pub current: bool,
    /// Why the credential was dropped, when it was.
    pub warning: Option<String>,
}

/// The secret value for `profile`, with `Current` set to `current`.
pub fn encode(profile: &Profile, current: bool) -> Secret {
    let credential = profile.credential.as_ref().map_or(Node::Null, |c| {
        Node::Object(vec![
            ("Username", Node::String(&c.username)),
            ("Password", Node::String(c.password.expose())),
        ])
    });

    let root = Node::Object(vec![
        ("WAPIHost", optional_node(profile.wapi_host.as_deref())),
        (
            "WAPIVersion",
            optional_node(profile.wapi_version.as_deref()),
        ),
        ("Credential", credential),
        (
            "SkipCertificateCheck",
            Node::Bool(profile.skip_certificate_check),
        ),
        ("NoSession", Node::Bool(profile.no_session)),
        ("Current", Node::Bool(current)),
    ]);

    let mut text = write_compact(&root);
    Secret::new(std::mem::take(&mut *text))
}

/// Reads the secret value of the profile called `name`.
///
/// # Errors
///
/// A one-line reason when the value is not a profile object.
pub fn decode(name: &str, value: &Secret) -> Result<StoredProfile, String> {
    let mut fields = match parse(value.expose())? {
        Value::Object(fields) => fields,
        _ => return Err("the value is not a JSON object".to_owned()),
    };

    let mut profile = Profile::new(name);
    profile.wapi_host = optional_text(member(&fields, "WAPIHost"), "WAPIHost")?;
    profile.wapi_version = optional_text(member(&fields, "WAPIVersion"), "WAPIVersion")?;
    profile.skip_certificate_check = is_true(member(&fields, "SkipCertificateCheck"));
    profile.no_session = is_true(member(&fields, "NoSession"));
    let current = is_true(member(&fields, "Current"));

    let warning = match take_member(&mut fields, "Credential") {
        None => None,
        Some(Value::Object(mut credential)) => read_credential(&mut profile, &mut credential)?,
        Some(_) => return Err("Credential is not a JSON object".to_owned()),
    };

    Ok(StoredProfile {
        profile,
        current,
        warning,
    })
}

fn parse(text: &str) -> Result<Value, String> {
    let mut deserializer = serde_json_lenient::Deserializer::from_str(text);
    deserializer.set_allow_comments(true);
    deserializer.set_ignore_trailing_commas(true);

    let value = Value::deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Moves the credential into `profile`; a missing part gives a warning.
fn read_credential(
    profile: &mut Profile,
    credential: &mut Map<String, Value>,
) -> Result<Option<String>, String> {
    let username = optional_text(member(credential, "Username"), "Credential.Username")?;
    let password = match take_member(credential, "Password") {
        None => None,
        Some(Value::String(password)) => Some(Secret::new(password)),
        Some(_) => return Err("Credential.Password is not a string".to_owned()),
    };

    match (username, password) {
        (Some(username), Some(password)) => {
            profile.credential = Some(Credential::new(username, password));
            Ok(None)
        }
        (username, _) => {
            let missing = if username.is_none() {
                "Username"
            } else {
                "Password"
            };
            Ok(Some(format!(
                "Profile {}: the stored credential has no {missing}; the profile has no \
                 credential. Set a new one with Set-IBConfig -ProfileName {} -Credential \
                 (Get-Credential).",
                powershell_quote(&profile.name),
                powershell_quote(&profile.name),
            )))
        }
    }
}

/// Moves the member called `key` (ASCII letter case ignored) out of
/// `object`; `null` is missing.
fn take_member(object: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let value = object
        .iter_mut()
        .find(|(name, value)| name.eq_ignore_ascii_case(key) && !value.is_null())
        .map(|(_, value)| value)?;

    Some(std::mem::take(value))
}

fn optional_node(text: Option<&str>) -> Node<'_> {
    text.map_or(Node::Null, Node::String)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        let mut profile = Profile::new("prod");
        profile.wapi_host = Some("gm.example.test".to_owned());
        profile.wapi_version = Some("2.12".to_owned());
        profile.credential = Some(Credential::new("admin", Secret::from("s3cr3t!")));
        profile.no_session = true;
        profile
    }

    #[test]
    fn encodes_exactly_like_4x() {
        let text = encode(&profile(), true);

        assert_eq!(
            text.expose(),
            concat!(
                r#"{"WAPIHost":"gm.example.test","WAPIVersion":"2.12","#,
                r#""Credential":{"Username":"admin","Password":"s3cr3t!"},"#,
                r#""SkipCertificateCheck":false,"NoSession":true,"Current":true}"#
            )
        );
    }

    #[test]
    fn passwords_with_quotes_and_unicode_round_trip() {
        let mut original = profile();
        let password = "Pä$$ \"wörd\" ✓ \\ {}\n";
        original.credential = Some(Credential::new("ädmin", Secret::from(password)));

        let decoded = decode("prod", &encode(&original, false)).unwrap();

        let credential = decoded.profile.credential.unwrap();
        assert_eq!(credential.password.expose(), password);
        assert_eq!(credential.username, "ädmin");
        assert!(!decoded.current);
        assert!(decoded.profile.no_session);
    }

    #[test]
    fn missing_flags_are_false_and_key_case_is_ignored() {
        let text = r#"{"wapihost":"h","WAPIVERSION":2.5,
            "credential":{"username":"u","password":"p"}, /* 4.x never wrote this */}"#;

        let decoded = decode("old", &Secret::from(text)).unwrap();

        assert_eq!(decoded.profile.wapi_host.as_deref(), Some("h"));
        assert_eq!(decoded.profile.wapi_version.as_deref(), Some("2.5"));
        assert!(!decoded.profile.skip_certificate_check && !decoded.profile.no_session);
        assert!(!decoded.current);
        assert!(decoded.warning.is_none());
    }

    #[test]
    fn values_that_are_no_profile_do_not_parse() {
        for text in [
            "not a profile",
            "[1]",
            "\"text\"",
            r#"{"WAPIHost":[1]}"#,
            r#"{"Credential":"admin"}"#,
            r#"{"Credential":{"Username":"u","Password":1}}"#,
            r#"{"WAPIHost":"h"} trailing"#,
        ] {
            assert!(decode("x", &Secret::from(text)).is_err(), "{text}");
        }
    }

    #[test]
    fn a_credential_without_password_loads_without_credential() {
        let text = r#"{"WAPIHost":"h","Credential":{"Username":"u"}}"#;

        let decoded = decode("it's", &Secret::from(text)).unwrap();

        assert!(decoded.profile.credential.is_none());
        let warning = decoded.warning.unwrap();
        assert!(warning.contains("'it''s'") && warning.contains("no Password"));
    }
}
