//! The secret-name template (BEHAVIOR.md A2.2): how a profile name becomes
//! a secret name, and back.
//!
//! The template is `poshibwapi-{0}` unless `IBWAPI_VAULT_SECRET_TEMPLATE`
//! is not blank; a template without the literal text `{0}` gets `{0}`
//! appended. The secret name is the template with **every** `{0}` replaced
//! by the profile name, as .NET's `String.Replace` does. No other character
//! is special: braces, `*`, `?`, `[`, regex characters and any Unicode are
//! taken literally.
//!
//! # Recovering the profile name
//!
//! Cut at each `{0}`, the template is literal pieces `p0 {0} p1 ... {0} pk`.
//! A secret name fits when it is `p0 n p1 n ... n pk` for one non-empty `n`
//! (the profile name), the pieces and the repeats of `n` compared without
//! regard to letter case, as SecretManagement compares names. The length of
//! `n` follows from the name's length, so the split is unique; when `{0}`
//! appears more than once, the profile name is the text at the **first**
//! occurrence and the others must equal it ignoring letter case. Hence
//! `profile_name(secret_name(n)) == n` for every template and every
//! non-empty `n` (a property test checks it).
//!
//! # Listing
//!
//! A SecretManagement vault is listed with a wildcard pattern: the template
//! with each `{0}` turned into `*` and every other character escaped as
//! `[WildcardPattern]::Escape` does (a backtick before `*`, `?`, `[`, `]`
//! and the backtick itself). Built-in vaults list every name; the backend
//! keeps the names that match that same pattern ([`SecretTemplate::matches`])
//! and ignores the rest silently, so unrelated secrets cause no noise.

use std::fmt;

/// The template when `IBWAPI_VAULT_SECRET_TEMPLATE` is unset or blank.
pub const DEFAULT_TEMPLATE: &str = "poshibwapi-{0}";

/// Where the profile name goes.
const PLACEHOLDER: &str = "{0}";

/// A secret-name template, with `{0}` at least once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretTemplate {
    text: String,
    /// The literal text around the placeholders: one more than there are
    /// placeholders.
    pieces: Vec<Vec<char>>,
}

impl SecretTemplate {
    /// The template for the `IBWAPI_VAULT_SECRET_TEMPLATE` setting.
    pub fn from_setting(setting: Option<&str>) -> SecretTemplate {
        match setting {
            Some(text) if !crate::profile::is_blank(text) => SecretTemplate::new(text),
            _ => SecretTemplate::new(DEFAULT_TEMPLATE),
        }
    }

    /// `text` as a template, with `{0}` appended when it has none.
    pub fn new(text: &str) -> SecretTemplate {
        let mut text = text.to_owned();
        if !text.contains(PLACEHOLDER) {
            text.push_str(PLACEHOLDER);
        }

        let pieces = text
            .split(PLACEHOLDER)
            .map(|piece| piece.chars().collect())
            .collect();
        SecretTemplate { text, pieces }
    }

    /// The template's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The secret name for the profile called `profile`.
    pub fn secret_name(&self, profile: &str) -> String {
        self.text.replace(PLACEHOLDER, profile)
    }

    /// The wildcard pattern that lists this template's secrets from a
    /// SecretManagement vault (`Get-SecretInfo -Name`).
    pub fn wildcard(&self) -> String {
        let mut pattern = String::with_capacity(self.text.len() + 8);

        for (index, piece) in self.pieces.iter().enumerate() {
            if index > 0 {
                pattern.push('*');
            }
            for &c in piece {
                if matches!(c, '*' | '?' | '[' | ']' | '`') {
                    pattern.push('`');
                }
                pattern.push(c);
            }
        }
        pattern
    }

    /// Whether `secret` matches [`SecretTemplate::wildcard`]: the pieces in
    /// order, anything (even nothing) where `{0}` was, letter case ignored.
    pub fn matches(&self, secret: &str) -> bool {
        let name: Vec<char> = secret.chars().collect();
        let (first, rest) = self.pieces.split_first().expect("never empty");
        let (last, middle) = rest.split_last().expect("at least one placeholder");

        if name.len() < first.len() + last.len()
            || !same_text(&name[..first.len()], first)
            || !same_text(&name[name.len() - last.len()..], last)
        {
            return false;
        }

        let mut inner = &name[first.len()..name.len() - last.len()];
        for piece in middle {
            match find(inner, piece) {
                Some(at) => inner = &inner[at + piece.len()..],
                None => return false,
            }
        }
        true
    }

    /// The profile name inside `secret`, or `None` when `secret` does not
    /// fit the template (see the module docs).
    pub fn profile_name(&self, secret: &str) -> Option<String> {
        let name: Vec<char> = secret.chars().collect();
        let repeats = self.pieces.len() - 1;
        let literal: usize = self.pieces.iter().map(Vec::len).sum();

        let spare = name.len().checked_sub(literal)?;
        if spare == 0 || spare % repeats != 0 {
            return None;
        }
        let length = spare / repeats;

        let mut at = 0;
        let mut profile: Option<&[char]> = None;
        for (index, piece) in self.pieces.iter().enumerate() {
            if index > 0 {
                let occurrence = &name[at..at + length];
                match profile {
                    None => profile = Some(occurrence),
                    Some(first) if same_text(first, occurrence) => {}
                    Some(_) => return None,
                }
                at += length;
            }
            if !same_text(&name[at..at + piece.len()], piece) {
                return None;
            }
            at += piece.len();
        }

        profile.map(|chars| chars.iter().collect())
    }
}

impl fmt::Display for SecretTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether two runs of characters are equal ignoring letter case.
fn same_text(a: &[char], b: &[char]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| same_char(x, y))
}

/// Whether two characters are equal ignoring letter case: the same, or the
/// same after a one-character lower-case or upper-case mapping (close to
/// .NET's ordinal ignore-case comparison).
pub(crate) fn same_char(a: char, b: char) -> bool {
    a == b || fold(a) == fold(b) || upper(a) == upper(b)
}

fn fold(c: char) -> char {
    single(c.to_lowercase()).unwrap_or(c)
}

fn upper(c: char) -> char {
    single(c.to_uppercase()).unwrap_or(c)
}

fn single(mut mapped: impl Iterator<Item = char>) -> Option<char> {
    match (mapped.next(), mapped.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Where `needle` first occurs in `haystack`, letter case ignored.
fn find(haystack: &[char], needle: &[char]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| same_text(window, needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    #[test]
    fn the_default_applies_when_the_setting_is_unset_or_blank() {
        assert_eq!(
            SecretTemplate::from_setting(None).as_str(),
            "poshibwapi-{0}"
        );
        assert_eq!(
            SecretTemplate::from_setting(Some(" \t")).as_str(),
            "poshibwapi-{0}"
        );
        assert_eq!(
            SecretTemplate::from_setting(Some("ib-{0}-cfg")).as_str(),
            "ib-{0}-cfg"
        );
    }

    #[test]
    fn a_template_without_the_placeholder_gets_it_appended() {
        let template = SecretTemplate::new("ibwapi_");

        assert_eq!(template.as_str(), "ibwapi_{0}");
        assert_eq!(template.secret_name("lab"), "ibwapi_lab");
    }

    #[test]
    fn every_placeholder_is_replaced() {
        let template = SecretTemplate::new("{0}/x/{0}");

        assert_eq!(template.secret_name("lab"), "lab/x/lab");
        assert_eq!(template.profile_name("lab/x/lab").as_deref(), Some("lab"));
        assert_eq!(template.profile_name("Lab/X/LAB").as_deref(), Some("Lab"));
        assert_eq!(template.profile_name("lab/x/prod"), None);
    }

    #[test]
    fn names_are_recovered_ignoring_the_case_of_the_literal_parts() {
        let template = SecretTemplate::new("poshibwapi-{0}");

        assert_eq!(
            template.profile_name("PoshIBWAPI-Prod").as_deref(),
            Some("Prod")
        );
        assert_eq!(template.profile_name("poshibwapi-"), None);
        assert_eq!(template.profile_name("unrelated-secret"), None);
        assert_eq!(template.profile_name("poshibwap"), None);
    }

    #[test]
    fn the_wildcard_escapes_like_wildcard_pattern_escape() {
        let template = SecretTemplate::new("a*b?c[d]e`f-{0}-{0}.x");

        assert_eq!(template.wildcard(), "a`*b`?c`[d`]e``f-*-*.x");
        assert_eq!(
            SecretTemplate::new(DEFAULT_TEMPLATE).wildcard(),
            "poshibwapi-*"
        );
    }

    #[test]
    fn matching_follows_the_wildcard() {
        let template = SecretTemplate::new("pre-{0}-mid-{0}-post");

        assert!(template.matches("PRE--mid--post"));
        assert!(template.matches("pre-a-mid-b-post"));
        assert!(!template.matches("pre-a-post"));
        assert!(!template.matches("unrelated-secret"));
        assert!(!SecretTemplate::new("ab{0}ba").matches("aba"));
    }

    #[test]
    fn an_empty_profile_name_does_not_fit() {
        let template = SecretTemplate::new("x{0}");

        assert!(template.matches("x"));
        assert_eq!(template.profile_name("x"), None);
    }

    fn template_text() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            Just("{0}".to_owned()),
            Just("{".to_owned()),
            Just("0}".to_owned()),
            Just("*".to_owned()),
            Just("?".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("`".to_owned()),
            Just(".+^$()|\\".to_owned()),
            Just("ß".to_owned()),
            Just("İ".to_owned()),
            "\\PC{0,3}",
        ];
        prop::collection::vec(part, 0..6).prop_map(|parts| parts.concat())
    }

    fn profile_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9_-]{1,12}",
            "\\PC{1,8}",
            Just("{0}".to_owned()),
            Just("a*[b]?".to_owned()),
            Just("Ärger ✓".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn a_profile_name_survives_the_round_trip(
            text in template_text(),
            name in profile_name(),
        ) {
            let template = SecretTemplate::new(&text);

            let secret = template.secret_name(&name);

            prop_assert_eq!(template.profile_name(&secret), Some(name));
            prop_assert!(template.matches(&secret));
        }

        #[test]
        fn the_round_trip_ignores_the_letter_case_of_the_secret(
            text in template_text(),
            name in "[a-zA-Z]{1,8}",
        ) {
            let template = SecretTemplate::new(&text);
            let secret = template.secret_name(&name);
            // Upper case, where that keeps one character one character.
            let upper: String = secret
                .chars()
                .map(|c| single(c.to_uppercase()).unwrap_or(c))
                .collect();

            let recovered = template.profile_name(&upper);

            prop_assert_eq!(recovered.map(|n| n.to_lowercase()), Some(name.to_lowercase()));
        }
    }
}
