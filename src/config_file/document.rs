//! The JSON document of `posh-ibwapi.json`, read and written as 4.x does.
//!
//! Reading is lenient like PowerShell 7's `ConvertFrom-Json`: a UTF-8 byte
//! order mark, CRLF line ends, comments and trailing commas are accepted,
//! and member names match without regard to ASCII letter case. `null`
//! counts as missing. A document that does not parse, or does not have the
//! expected shape, or has two profiles whose names differ only in letter
//! case, is rejected as a whole with a description of the problem.
//!
//! Writing produces what PowerShell 7's `ConvertTo-Json` wrote for 4.x (see
//! [`super::json_writer`]).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::io;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json_lenient::{Map, Value};
use zeroize::Zeroizing;

use super::json_writer::{write_member, write_profiles_document, Node, PROFILE_DEPTH};
use super::password::{self, ReadError, StoredPassword};
use crate::profile::{fold_name, Credential, Profile, UnreadableCredential};
use crate::profiles::ProfileSet;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A parsed document: the profiles, and warnings about credentials that
/// could not be read (each names its profile).
pub struct Parsed {
    /// The profiles and the current name.
    pub profiles: ProfileSet,
    /// One line per profile whose credential was dropped.
    pub warnings: Vec<String>,
}

/// Reads a config file's bytes.
///
/// # Errors
///
/// A one-line description of why the file is not a usable config file.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let mut parsed = Parsed {
        profiles: ProfileSet::new(),
        warnings: Vec::new(),
    };
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // ConvertFrom-Json gives 4.x nothing for an empty file, and no error.
        return Ok(parsed);
    }

    let raw = parse_raw(bytes).map_err(|err| err.to_string())?;
    parsed
        .profiles
        .set_current_name(optional_text(raw.current.as_ref(), "CurrentProfile")?);

    for (name, value) in last_of_each_name(raw.profiles) {
        let (profile, warning) = read_profile(name, &value)?;
        parsed.warnings.extend(warning);
        parsed.profiles.try_push(profile).map_err(|collision| {
            format!(
                "the profile names '{}' and '{}' are the same when letter case is ignored",
                collision.existing, collision.rejected
            )
        })?;
    }
    Ok(parsed)
}

/// `profiles` with each exactly repeated name once, where it first appears,
/// with the value it has last: what ConvertFrom-Json makes of repeated members.
/// (Names that differ in letter case stay apart and are refused later.)
fn last_of_each_name(profiles: Vec<(String, RawProfile)>) -> Vec<(String, RawProfile)> {
    let mut slots: HashMap<String, usize> = HashMap::with_capacity(profiles.len());
    let mut kept: Vec<(String, RawProfile)> = Vec::with_capacity(profiles.len());

    for (name, value) in profiles {
        match slots.get(&name) {
            Some(&slot) => kept[slot].1 = value,
            None => {
                slots.insert(name.clone(), kept.len());
                kept.push((name, value));
            }
        }
    }
    kept
}

/// The document for `profiles`, formatted as PowerShell 7 writes it.
///
/// # Errors
///
/// On Windows, the operating system's error when DPAPI fails to protect a
/// password; never elsewhere.
pub fn render(profiles: &ProfileSet) -> io::Result<Zeroizing<String>> {
    render_with(profiles, &mut RenderCache::default())
}

/// Each profile's text in the document as last rendered, so that a save
/// renders only the profiles that changed and copies the rest: with 10,000
/// profiles, rendering all of them anew took longer than writing the file.
///
/// A profile is found again by a keyed 64-bit hash of all its fields
/// (SipHash with this process's random key), password included; the cached
/// text is wiped when it is replaced or dropped. A profile whose credential
/// could not be read is rendered every time.
#[derive(Default)]
pub struct RenderCache {
    keys: RandomState,
    fragments: HashMap<String, Fragment>,
    /// Counts renderings; a fragment not used by the latest one is dropped.
    generation: u64,
}

/// One profile's text in the document.
struct Fragment {
    /// The hash of the profile it was rendered from; `None`: not reusable.
    digest: Option<u64>,
    /// The rendering that last used it.
    generation: u64,
    text: Zeroizing<String>,
}

/// [`render`], reusing and refreshing the texts in `cache`.
///
/// # Errors
///
/// As [`render`].
pub fn render_with(
    profiles: &ProfileSet,
    cache: &mut RenderCache,
) -> io::Result<Zeroizing<String>> {
    cache.generation = cache.generation.wrapping_add(1);
    for profile in profiles.iter() {
        cache.refresh(profile)?;
    }
    let generation = cache.generation;
    cache
        .fragments
        .retain(|_, fragment| fragment.generation == generation);

    let parts: Vec<&str> = profiles
        .iter()
        .map(|profile| cache.fragments[&profile.name].text.as_str())
        .collect();
    Ok(write_profiles_document(
        profiles.current_name().unwrap_or(""),
        &parts,
    ))
}

impl fmt::Debug for RenderCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the texts: they hold passwords.
        write!(f, "RenderCache({} profiles)", self.fragments.len())
    }
}

impl RenderCache {
    /// Makes the fragment of `profile` current, rendering it only when the
    /// profile changed since it was rendered.
    fn refresh(&mut self, profile: &Profile) -> io::Result<()> {
        let digest = self.digest(profile);
        let generation = self.generation;

        if let Some(fragment) = self.fragments.get_mut(&profile.name) {
            if digest.is_none() || fragment.digest != digest {
                fragment.text = render_profile(profile)?;
                fragment.digest = digest;
            }
            fragment.generation = generation;
            return Ok(());
        }

        let text = render_profile(profile)?;
        let fragment = Fragment {
            digest,
            generation,
            text,
        };
        self.fragments.insert(profile.name.clone(), fragment);
        Ok(())
    }

    /// The profile's hash, or `None` when it must not be cached.
    fn digest(&self, profile: &Profile) -> Option<u64> {
        if profile.unreadable_credential.is_some() {
            return None;
        }

        let mut hasher = self.keys.build_hasher();
        profile.name.hash(&mut hasher);
        profile.wapi_host.hash(&mut hasher);
        profile.wapi_version.hash(&mut hasher);
        profile.skip_certificate_check.hash(&mut hasher);
        profile.no_session.hash(&mut hasher);
        if let Some(credential) = &profile.credential {
            credential.username.hash(&mut hasher);
            credential.password.expose().hash(&mut hasher);
        }
        Some(hasher.finish())
    }
}

/// `"name": { ... }` of one profile, as it stands in the document.
fn render_profile(profile: &Profile) -> io::Result<Zeroizing<String>> {
    let stored = profile
        .credential
        .as_ref()
        .map(|c| password::store(&c.password))
        .transpose()?;

    Ok(write_member(
        &profile.name,
        &profile_node(profile, stored.as_ref()),
        PROFILE_DEPTH,
    ))
}

fn profile_node<'a>(profile: &'a Profile, password: Option<&'a StoredPassword>) -> Node<'a> {
    let mut members = vec![
        ("WAPIHost", optional_node(profile.wapi_host.as_deref())),
        (
            "WAPIVersion",
            optional_node(profile.wapi_version.as_deref()),
        ),
    ];

    if let Some(credential) = credential_node(profile, password) {
        members.push(("Credential", credential));
    }

    members.push((
        "SkipCertificateCheck",
        Node::Bool(profile.skip_certificate_check),
    ));
    members.push(("NoSession", Node::Bool(profile.no_session)));
    Node::Object(members)
}

fn credential_node<'a>(
    profile: &'a Profile,
    password: Option<&'a StoredPassword>,
) -> Option<Node<'a>> {
    if let (Some(credential), Some(password)) = (&profile.credential, password) {
        let mut members = vec![
            ("Username", Node::String(&credential.username)),
            ("Password", Node::String(&password.text)),
        ];
        if password.is_base64 {
            members.push(("IsBase64", Node::Bool(true)));
        }
        return Some(Node::Object(members));
    }

    let kept = profile.unreadable_credential.as_ref()?;
    Some(Node::from_value(&kept.json))
}

fn optional_node(text: Option<&str>) -> Node<'_> {
    text.map_or(Node::Null, Node::String)
}

fn read_profile(name: String, raw: &RawProfile) -> Result<(Profile, Option<String>), String> {
    let no_fields = ProfileFields::default();
    let fields = match raw {
        RawProfile::Fields(fields) => fields,
        RawProfile::Null => &no_fields,
        RawProfile::NotObject => return Err(format!("profile '{name}' is not a JSON object")),
    };

    let context = |field: &str| format!("profile '{name}': {field}");
    let wapi_host = optional_text(fields.get(Field::WapiHost), &context("WAPIHost"))?;
    let wapi_version = optional_text(fields.get(Field::WapiVersion), &context("WAPIVersion"))?;
    let credential = fields.get(Field::Credential);
    match credential {
        Some(Value::Object(members)) => check_member_names(members)
            .map_err(|detail| context(&format!("Credential: {detail}")))?,
        Some(_) => return Err(context("Credential is not a JSON object")),
        None => {}
    }

    let mut profile = Profile::new(name);
    profile.wapi_host = wapi_host;
    profile.wapi_version = wapi_version;
    profile.skip_certificate_check = is_true(fields.get(Field::SkipCertificateCheck));
    profile.no_session = is_true(fields.get(Field::NoSession));

    let warning = credential.and_then(|credential| load_credential(&mut profile, credential));
    Ok((profile, warning))
}

/// Reads the credential into `profile`; when it cannot be read, keeps it as
/// it was and returns the warning to show.
fn load_credential(profile: &mut Profile, json: &Value) -> Option<String> {
    match decode_credential(json) {
        Ok(credential) => {
            profile.credential = Some(credential);
            None
        }
        Err(problem) => {
            profile.unreadable_credential = Some(UnreadableCredential { json: json.clone() });
            Some(credential_warning(&profile.name, &problem))
        }
    }
}

enum CredentialProblem {
    Missing(&'static str),
    Password(ReadError),
}

fn decode_credential(json: &Value) -> Result<Credential, CredentialProblem> {
    let text_member = |key| match member(json.as_object()?, key) {
        Some(Value::String(text)) => Some(text.as_str()),
        _ => None,
    };
    let username = text_member("Username").ok_or(CredentialProblem::Missing("Username"))?;
    let stored = text_member("Password").ok_or(CredentialProblem::Missing("Password"))?;
    let is_base64 = is_true(json.as_object().and_then(|o| member(o, "IsBase64")));

    let password = password::read(stored, is_base64).map_err(CredentialProblem::Password)?;
    Ok(Credential::new(username, password))
}

fn credential_warning(name: &str, problem: &CredentialProblem) -> String {
    let quoted = powershell_quote(name);
    let reset = format!(
        "Set a new one with Set-IBConfig -ProfileName {quoted} -Credential (Get-Credential)."
    );

    match problem {
        CredentialProblem::Password(ReadError::DpapiUnsupported) => format!(
            "Profile {quoted}: its password is protected with Windows DPAPI and cannot be \
             read on this platform; the file probably came from a Windows machine. The \
             profile has no credential. {reset}"
        ),
        CredentialProblem::Password(ReadError::Undecodable(detail)) => format!(
            "Profile {quoted}: the stored password could not be decoded ({detail}); the \
             profile has no credential. {reset}"
        ),
        CredentialProblem::Missing(field) => format!(
            "Profile {quoted}: the stored credential has no {field}; the profile has no \
             credential. {reset}"
        ),
    }
}

/// `name` as a PowerShell single-quoted string (quote characters doubled).
pub(crate) fn powershell_quote(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);

    quoted.push('\'');
    for c in name.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            quoted.push(c);
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

/// The member called `key` (ASCII letter case ignored); `null` is missing.
pub(crate) fn member<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, value)| value)
        .filter(|value| !value.is_null())
}

/// Whether a flag is on, read the way Posh-IBWAPI 4.x tests it (`if ($x)`):
/// PowerShell's truthiness of what ConvertFrom-Json made of the value, so a
/// hand-edited `"true"`, `"no"` or `1` means what it meant to 4.x.
pub(crate) fn is_true(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_f64() != Some(0.0),
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(items)) => match items.as_slice() {
            [] => false,
            [only] => is_true(Some(only)),
            _ => true,
        },
        Some(Value::Object(_)) => true,
    }
}

pub(crate) fn optional_text(value: Option<&Value>, what: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(format!("{what} is not a string")),
    }
}

/// The visits of a [`Visitor`] for every JSON value that is neither an object
/// nor `null`, each giving `$value` (an array's items are skipped unread).
macro_rules! visit_non_objects {
    ($de:lifetime, $output:ty, $value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$output, E> {
            Ok($value)
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$output, E> {
            Ok($value)
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$output, E> {
            Ok($value)
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$output, E> {
            Ok($value)
        }

        fn visit_str<E: de::Error>(self, _: &str) -> Result<$output, E> {
            Ok($value)
        }

        fn visit_seq<A: SeqAccess<$de>>(self, mut seq: A) -> Result<$output, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
}

/// The top level of the document, with the profiles in file order and
/// duplicates kept so that they can be reported.
struct RawDocument {
    current: Option<Value>,
    profiles: Vec<(String, RawProfile)>,
}

/// One member of `Profiles` as read. Profiles are read straight into this
/// shape, not into a general JSON tree, which would build a map per profile
/// only to throw it away (more allocations, more freed heap left behind).
// Nearly every profile is `Fields`, so boxing it would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum RawProfile {
    /// `null`: a profile with nothing set.
    Null,
    /// Anything else that is not an object: the document is refused.
    NotObject,
    /// An object.
    Fields(ProfileFields),
}

/// The profile members the module reads.
#[derive(Clone, Copy)]
enum Field {
    WapiHost,
    WapiVersion,
    Credential,
    SkipCertificateCheck,
    NoSession,
}

impl Field {
    const ALL: [(Field, &'static str); 5] = [
        (Field::WapiHost, "WAPIHost"),
        (Field::WapiVersion, "WAPIVersion"),
        (Field::Credential, "Credential"),
        (Field::SkipCertificateCheck, "SkipCertificateCheck"),
        (Field::NoSession, "NoSession"),
    ];

    /// The field a member name stands for, letter case ignored.
    fn of(key: &str) -> Option<Field> {
        Field::ALL
            .iter()
            .find(|(_, name)| key.eq_ignore_ascii_case(name))
            .map(|(field, _)| *field)
    }
}

/// A profile object's members: a repeat of a name replaces its value (as a
/// JSON object does; names that differ only in letter case were refused by
/// [`MemberNames`]); other members are skipped unread.
#[derive(Default)]
struct ProfileFields {
    members: [Option<Value>; 5],
}

impl ProfileFields {
    /// The value of `field`; `null` counts as missing.
    fn get(&self, field: Field) -> Option<&Value> {
        self.members[field as usize]
            .as_ref()
            .filter(|value| !value.is_null())
    }

    fn set(&mut self, field: Field, value: Value) {
        self.members[field as usize] = Some(value);
    }
}

impl<'de> Deserialize<'de> for RawProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ProfileVisitor)
    }
}

struct ProfileVisitor;

impl<'de> Visitor<'de> for ProfileVisitor {
    type Value = RawProfile;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a profile object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawProfile, A::Error> {
        let mut fields = ProfileFields::default();
        let mut keys = MemberNames::default();

        while let Some(key) = map.next_key::<String>()? {
            keys.add(&key)?;
            match Field::of(&key) {
                Some(field) => fields.set(field, map.next_value::<Value>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RawProfile::Fields(fields))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawProfile, E> {
        Ok(RawProfile::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<RawProfile, E> {
        Ok(RawProfile::Null)
    }

    visit_non_objects!('de, RawProfile, RawProfile::NotObject);
}

fn parse_raw(bytes: &[u8]) -> serde_json_lenient::Result<RawDocument> {
    let mut deserializer = serde_json_lenient::Deserializer::from_slice(bytes);
    deserializer.set_allow_comments(true);
    deserializer.set_ignore_trailing_commas(true);

    let raw = RawDocument::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(raw)
}

impl<'de> Deserialize<'de> for RawDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = RawDocument;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with CurrentProfile and Profiles")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDocument, A::Error> {
        let mut current: Option<(String, Value)> = None;
        let mut profiles: Option<(String, Vec<(String, RawProfile)>)> = None;
        let mut keys = MemberNames::default();

        while let Some(key) = map.next_key::<String>()? {
            keys.add(&key)?;
            if key.eq_ignore_ascii_case("CurrentProfile") {
                current = Some((key, map.next_value::<Value>()?));
            } else if key.eq_ignore_ascii_case("Profiles") {
                let members = map.next_value::<Option<OrderedMembers>>()?;
                profiles = Some((key, members.unwrap_or_default().0));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }

        Ok(RawDocument {
            current: current.map(|(_, value)| value),
            profiles: profiles.map(|(_, members)| members).unwrap_or_default(),
        })
    }

    // Any other JSON value: ConvertFrom-Json gives 4.x an object without
    // CurrentProfile or Profiles members, so no profiles and no warning.

    fn visit_unit<E: de::Error>(self) -> Result<RawDocument, E> {
        Ok(RawDocument::empty())
    }

    visit_non_objects!('de, RawDocument, RawDocument::empty());
}

impl RawDocument {
    fn empty() -> RawDocument {
        RawDocument {
            current: None,
            profiles: Vec::new(),
        }
    }
}

/// Refuses an already parsed object whose member names differ only in letter
/// case, as [`MemberNames`] does while parsing.
fn check_member_names(members: &Map<String, Value>) -> Result<(), String> {
    let mut names = MemberNames::default();
    members
        .keys()
        .try_for_each(|key| names.add::<serde_json_lenient::Error>(key))
        .map_err(|error| error.to_string())
}

/// The member names of one JSON object so far. PowerShell 7's ConvertFrom-Json
/// refuses an object with two names that differ only in letter case (its
/// objects' properties ignore case), so 4.x could not read such a file; a
/// repeat in the same spelling replaces the earlier value instead.
#[derive(Default)]
struct MemberNames(Vec<(String, String)>);

impl MemberNames {
    fn add<E: de::Error>(&mut self, key: &str) -> Result<(), E> {
        // Each name is folded once, as it is added: this runs for every
        // member of every profile at import.
        let folded = fold_name(key);
        match self.0.iter().find(|(_, seen)| *seen == folded) {
            Some((other, _)) if other != key => Err(E::custom(format!(
                "the member names '{other}' and '{key}' differ only in letter case, which \
                 PowerShell's ConvertFrom-Json (and so Posh-IBWAPI 4.x) refuses"
            ))),
            Some(_) => Ok(()),
            None => {
                self.0.push((key.to_owned(), folded));
                Ok(())
            }
        }
    }
}

/// A JSON object's members in file order, duplicates included.
#[derive(Default)]
struct OrderedMembers(Vec<(String, RawProfile)>);

impl<'de> Deserialize<'de> for OrderedMembers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = OrderedMembers;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Profiles as a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMembers, A::Error> {
        let mut members = Vec::new();

        while let Some(entry) = map.next_entry::<String, RawProfile>()? {
            members.push(entry);
        }
        Ok(OrderedMembers(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_true_as_powershell_tests_them() {
        let truth = |json: &str| is_true(Some(&serde_json_lenient::from_str(json).unwrap()));

        for on in [
            "true",
            "1",
            "-2.5",
            "\"true\"",
            "\"false\"",
            "\"no\"",
            "[1]",
            "[0, 0]",
            "{}",
        ] {
            assert!(truth(on), "{on} is true to 4.x");
        }
        for off in ["false", "0", "0.0", "\"\"", "[]", "[0]", "[false]", "null"] {
            assert!(!truth(off), "{off} is false to 4.x");
        }
    }

    #[test]
    fn comments_trailing_commas_and_key_case_are_accepted() {
        let text = br#"{
            // written by hand
            "currentprofile": "Lab",
            "PROFILES": { "lab": { "wapihost": "h", "WAPIVersion": 2.5, }, },
        }"#;

        let parsed = parse(text).unwrap();

        let lab = parsed.profiles.find("lab").unwrap();
        assert_eq!(lab.wapi_host.as_deref(), Some("h"));
        assert_eq!(lab.wapi_version.as_deref(), Some("2.5"));
        assert_eq!(parsed.profiles.current_name(), Some("Lab"));
    }

    #[test]
    fn names_differing_in_case_are_rejected() {
        let error = parse(br#"{"Profiles": {"a": {}, "A": {}}}"#).err().unwrap();

        assert!(error.contains("'a' and 'A'"), "{error}");
    }

    #[test]
    fn a_top_level_that_is_not_an_object_loads_nothing_as_in_4x() {
        for text in ["[1, 2]", "", " \r\n", "null", "\"x\"", "3", "true"] {
            let parsed = parse(text.as_bytes()).unwrap();
            assert!(
                parsed.profiles.is_empty() && parsed.warnings.is_empty(),
                "{text}"
            );
        }
        assert!(parse(br#"{"Profiles": "x"}"#).is_err());
        assert!(parse(b"[1, 2").is_err());
    }

    #[test]
    fn a_repeated_name_keeps_its_first_place_and_last_value() {
        let text = br#"{"Profiles": {"a": {"WAPIHost": "h1"}, "b": {}, "a": {"WAPIHost": "h2"}},
                        "CurrentProfile": "x", "CurrentProfile": "b"}"#;
        let parsed = parse(text).unwrap();

        let names: Vec<_> = parsed.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            parsed.profiles.get(Some("a")).unwrap().wapi_host.as_deref(),
            Some("h2")
        );
        assert_eq!(parsed.profiles.current_name(), Some("b"));
    }

    #[test]
    fn member_names_differing_only_in_case_are_refused_like_convertfrom_json() {
        for text in [
            r#"{"Profiles": {"a": {"WAPIHost": "h1", "wapihost": "h2"}}}"#,
            r#"{"Profiles": {"a": {"Other": 1, "OTHER": 2}}}"#,
            r#"{"Profiles": {}, "profiles": {}}"#,
            r#"{"Profiles": {"a": {"Credential": {"Username": "u", "username": "v"}}}}"#,
        ] {
            let error = parse(text.as_bytes()).err().expect(text);
            assert!(
                error.contains("differ only in letter case"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn missing_and_null_members_are_fine() {
        let parsed = parse(br#"{"CurrentProfile": null, "Profiles": {"x": null}}"#).unwrap();

        assert_eq!(parsed.profiles.len(), 1);
        assert_eq!(parsed.profiles.current_name(), None);
    }

    /// The whole tree written at once, as the document was rendered before
    /// [`RenderCache`]: the reference for the text pieced together.
    fn render_as_one_tree(profiles: &ProfileSet) -> Zeroizing<String> {
        let stored: Vec<_> = profiles
            .iter()
            .map(|p| {
                p.credential
                    .as_ref()
                    .map(|c| password::store(&c.password).unwrap())
            })
            .collect();
        let members = profiles
            .iter()
            .zip(&stored)
            .map(|(p, s)| (p.name.as_str(), profile_node(p, s.as_ref())))
            .collect();
        let root = Node::Object(vec![
            (
                "CurrentProfile",
                Node::String(profiles.current_name().unwrap_or("")),
            ),
            ("Profiles", Node::Object(members)),
        ]);
        super::super::json_writer::write_document(&root)
    }

    #[test]
    fn pieced_and_cached_rendering_equals_one_tree() {
        let text = r#"{"CurrentProfile": "b\"q", "Profiles": {
            "a": {"WAPIHost": "h\u2028", "WAPIVersion": "2.12",
                  "Credential": {"Username": "u", "Password": "cABhAHMAcwA=", "IsBase64": true},
                  "SkipCertificateCheck": true},
            "b\"q": {"WAPIHost": null, "Credential": {"Username": "x"}},
            "c": null}}"#;
        let mut profiles = parse(text.as_bytes()).unwrap().profiles;
        let mut cache = RenderCache::default();

        assert_eq!(
            *render_with(&profiles, &mut cache).unwrap(),
            *render_as_one_tree(&profiles)
        );
        let mut edited = profiles.get(Some("a")).unwrap().clone();
        edited.wapi_host = Some("changed".to_owned());
        profiles.put(edited);
        assert_eq!(
            *render_with(&profiles, &mut cache).unwrap(),
            *render_as_one_tree(&profiles)
        );
        assert!(render_with(&profiles, &mut cache)
            .unwrap()
            .contains("\"changed\""));

        assert_eq!(
            *render(&ProfileSet::new()).unwrap(),
            *render_as_one_tree(&ProfileSet::new())
        );
    }

    #[test]
    fn quotes_in_names_are_doubled_in_the_advice() {
        assert_eq!(powershell_quote("it's"), "'it''s'");
    }
}
