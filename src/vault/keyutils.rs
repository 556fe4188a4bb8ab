//! The Linux kernel keyring as a vault: `[keyring]keyutils`.
//!
//! [`KeyutilsVault`] keeps each secret as one `user` key, described
//! `posh-ibwapi:<secret name>`, linked in the user keyring (`@u`) of the
//! calling user. Only keys with that prefix are ever listed, read, replaced
//! or removed, so other programs' keys in `@u` are left alone.
//!
//! # Why the user keyring
//!
//! `@u` is shared by every process of the same user, with or without a
//! login session, so pwsh processes started one after another (or side by
//! side) see the same secrets. The session keyring is per login session (a
//! container without PAM has none, and each `docker exec` may get its own);
//! the process and thread keyrings die with the process. The persistent
//! keyring expires after `/proc/sys/kernel/keys/persistent_keyring_expiry`
//! seconds (three days by default) and needs `CONFIG_PERSISTENT_KEYRINGS`.
//!
//! # Possession and permissions
//!
//! The kernel gives most rights on a key only to a process that
//! "possesses" it: one that reaches it from its thread, process or session
//! keyring. A login session usually links `@u` into the session keyring,
//! but a process in a fresh or container session (`docker exec`,
//! `keyctl session`) often has no such link, and could then create keys
//! it can neither read nor change. So [`KeyutilsVault::open`] links `@u`
//! into the calling process's own keyring, which lasts as long as the
//! process and touches no keyring other processes use. On top of that,
//! each key grants its owning user every right (view, read, write,
//! search, link, set-attribute), so the same user's other processes can
//! use it without possession; `@u` itself already grants the owning user
//! all rights. Group and others get nothing.
//!
//! # Lifetime and limits
//!
//! Keys live in kernel memory only: they are gone after a reboot. Since
//! Linux 5.3 the user keyring belongs to the user namespace and stays until
//! the namespace ends (for the host namespace: until reboot); before 5.3 it
//! was dropped when the user's last process exited. A removed secret's key
//! is unlinked from `@u` and invalidated, which unlinks it everywhere else.
//!
//! The kernel keeps 1 to 32767 bytes in a `user` key's value (an empty
//! value cannot be stored) and at most 4095 bytes in a description. Each
//! user has a quota: `/proc/sys/kernel/keys/maxkeys` keys (200 by default)
//! and `maxbytes` bytes (20000 by default; for root `root_maxkeys` and
//! `root_maxbytes`), counted over all of the user's keys, descriptions
//! included. A write beyond it fails with a message naming these files.
//!
//! # Listing
//!
//! `@u` is enumerated: its payload (read with `keyctl(KEYCTL_READ)`) is the
//! list of linked key ids, and each key not seen before is described with
//! `keyctl(KEYCTL_DESCRIBE)`. A key's type and description never change, so
//! the descriptions are kept by serial id, and a listing costs one read of
//! `@u` plus one call per key it has not seen; ids no longer linked are
//! forgotten. A read or a removal takes the key id the listing found and
//! describes that key once more before using it (the kernel picks serial
//! ids at random and may give a freed one to a new key); when the key is
//! gone or is another one, `@u` is listed again. No index key is kept, so
//! nothing can get out of step. The description is read here with a direct
//! system call rather than through `linux_keyutils::Metadata`, which reads
//! descriptions into a fixed 512-byte buffer (a longer one panics) and cuts
//! them at the first `;`; `linux_keyutils::KeyRing::get_links` is avoided
//! too, as it trusts the length the kernel returns beyond its buffer's
//! capacity.
//!
//! # Seeing other processes' changes
//!
//! [`SecretVault::changed`] lists `@u` as above and compares the ids of our
//! keys with those this handle last listed or wrote: a secret another
//! process added, removed, or removed and wrote again (a new key, so a new
//! id) is seen without describing the keys already known. A value another
//! process rewrote in place (`add_key` updates an existing key and keeps
//! its id) is not seen until the set of keys changes, this handle saves,
//! or the module is imported again. A key invalidated or revoked by other
//! means (`keyctl invalidate`) stays in `@u`'s list until the kernel's
//! garbage collector unlinks it, usually within a millisecond (for a
//! revoked key, `/proc/sys/kernel/keys/gc_delay` seconds later); a check in
//! between still counts it, and reading it finds no value.
//!
//! # Where this runs
//!
//! Compiled on Linux only, and tested against the real kernel keyring. A
//! container whose seccomp profile blocks `add_key`/`keyctl` (Docker's
//! default profile does) cannot use this vault; the open then fails.

use std::collections::{HashMap, HashSet};
use std::fmt;

use linux_keyutils::{Key, KeyError, KeyPermissions, KeyRing, KeyRingIdentifier, KeySerialId};
use linux_keyutils::{KeyPermissionsBuilder, Permission};
use zeroize::{Zeroize, Zeroizing};

use crate::error::Error;
use crate::profile::Secret;
use crate::vault::SecretVault;

/// The prefix of the description of every key this vault makes.
pub const DESCRIPTION_PREFIX: &str = "posh-ibwapi:";

/// The vault name, as `IBWAPI_VAULT_NAME` spells it.
pub const VAULT_NAME: &str = "[keyring]keyutils";

/// The kernel's limit on a key description, in bytes.
const MAX_DESCRIPTION: usize = 4095;

/// The kernel's limit on a `user` key's value, in bytes.
const MAX_VALUE: usize = 32767;

/// `KEYCTL_DESCRIBE` from `<linux/keyctl.h>`.
const KEYCTL_DESCRIBE: libc::c_ulong = 6;

/// The user keyring of the calling user, holding one key per secret.
pub struct KeyutilsVault {
    ring: KeyRing,
    /// What the keys linked in `@u` were described as.
    keys: KeyCache,
    /// The serial ids of our keys, as last listed or written; `None` before
    /// the first listing.
    seen: Option<HashSet<i32>>,
    /// `@u`'s links at the last check that found no change: when they are
    /// the same at the next check, one read of `@u` answers it.
    unchanged_links: Option<Vec<i32>>,
}

impl KeyutilsVault {
    /// Opens the user keyring (`@u`) of the calling user, creating it if
    /// the kernel has not yet.
    ///
    /// # Errors
    ///
    /// [`Error::VaultUnavailable`] when the kernel keyring cannot be used
    /// (no `CONFIG_KEYS`, or the calls are blocked by a seccomp profile).
    pub fn open() -> Result<Self, Error> {
        log::debug!("vault {VAULT_NAME}: open");
        let ring = KeyRing::from_special_id(KeyRingIdentifier::User, true);
        let ring = ring.map_err(|e| Error::VaultUnavailable {
            vault: VAULT_NAME.to_owned(),
            reason: format!(
                "the kernel keyring cannot be used by this process ({}); a container's \
                 seccomp profile may block it",
                describe_error(e)
            ),
        })?;

        possess_user_keyring();
        Ok(KeyutilsVault {
            ring,
            keys: KeyCache::default(),
            seen: None,
            unchanged_links: None,
        })
    }

    /// Lists `@u`, describing only the keys not described yet; returns the
    /// ids of our keys.
    fn our_keys(&mut self, action: &str) -> Result<HashSet<i32>, Error> {
        let linked = linked_ids().map_err(|e| access(action, e))?;
        Ok(self.ours_among(&linked))
    }

    /// Our keys among the keys `linked` in `@u`, describing only the keys
    /// not described yet.
    fn ours_among(&mut self, linked: &[i32]) -> HashSet<i32> {
        self.keys.retain(linked);

        for &id in linked {
            if self.keys.knows(id) {
                continue;
            }
            // A key that cannot be described now (gone meanwhile) is not
            // ours this time, and is described again by the next listing.
            if let Some(text) = describe(KeySerialId::new(id)) {
                self.keys.insert(id, name_in_description(&text));
            }
        }
        linked
            .iter()
            .copied()
            .filter(|&id| self.keys.name_of(id).is_some())
            .collect()
    }

    /// The key of the secret `name`: the one listed, when its description
    /// still says so, else the one a new listing finds.
    fn find_key(&mut self, name: &str, action: &str) -> Result<Option<Key>, Error> {
        if let Some(key) = self.checked_key(name) {
            return Ok(Some(key));
        }
        self.our_keys(action)?;
        Ok(self.checked_key(name))
    }

    /// The key listed for the secret `name`, described once more (one
    /// system call) because a freed serial id may now be another key's; a
    /// key that is gone or another is forgotten.
    fn checked_key(&mut self, name: &str) -> Option<Key> {
        let id = self.keys.id_of(name)?;
        let now = describe(KeySerialId::new(id)).and_then(|text| name_in_description(&text));

        if now.as_deref() == Some(name) {
            return Some(Key::from_id(KeySerialId::new(id)));
        }
        self.keys.remove(id);
        None
    }

    fn read_key(&mut self, name: &str) -> Result<Option<Secret>, Error> {
        let action = format!("read the secret '{name}'");
        let Some(key) = self.find_key(name, &action)? else {
            return Ok(None);
        };

        let mut bytes = match read_payload(key) {
            Ok(bytes) => bytes,
            Err(KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired) => {
                return Ok(None);
            }
            Err(e) => return Err(access(&action, e)),
        };
        let secret = secret_from_bytes(&mut bytes);
        secret
            .map(Some)
            .map_err(|detail| access_detail(&action, detail))
    }

    fn write_key(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        let action = format!("write the secret '{name}'");
        let description = description(name)?;
        let len = value.expose().len();
        if len == 0 || len > MAX_VALUE {
            let detail = format!("a kernel key holds 1 to {MAX_VALUE} bytes, not {len}");
            return Err(access_detail(&action, detail));
        }

        let key = self.ring.add_key(&description, value.expose().as_bytes());
        let key = key.map_err(|e| access(&action, e))?;
        let perms = key.set_perms(permissions());
        perms.map_err(|e| access(&action, e))?;

        // Our own write must not look like another process's change, and
        // must not hide one made meanwhile: only its own key is noted.
        let id = key.get_id().as_raw_id();
        self.keys.insert(id, Some(name.to_owned()));
        if let Some(seen) = &mut self.seen {
            seen.insert(id);
        }
        Ok(())
    }

    fn remove_key(&mut self, name: &str) -> Result<(), Error> {
        let action = format!("remove the secret '{name}'");
        let Some(key) = self.find_key(name, &action)? else {
            return Ok(());
        };

        // Unlinked first: an invalidated key stays in `@u`'s list until the
        // kernel's garbage collector runs, and listings trust known ids.
        let unlinked = self.ring.unlink_key(key);
        let invalidated = key.invalidate();
        match unlinked.or(invalidated) {
            Ok(()) | Err(KeyError::KeyDoesNotExist | KeyError::KeyRevoked) => {
                self.forget_key(key.get_id().as_raw_id());
                Ok(())
            }
            Err(e) => Err(access(&action, e)),
        }
    }

    /// Records that our key `id` is gone.
    fn forget_key(&mut self, id: i32) {
        self.keys.remove(id);
        if let Some(seen) = &mut self.seen {
            seen.remove(&id);
        }
    }
}

impl SecretVault for KeyutilsVault {
    fn vault_name(&self) -> &str {
        VAULT_NAME
    }

    fn list_secrets(&mut self) -> Result<Vec<String>, Error> {
        log::debug!("vault {VAULT_NAME}: list");
        let ours = self.our_keys("list the secrets")?;

        let mut names: Vec<String> = ours
            .iter()
            .filter_map(|&id| self.keys.name_of(id).map(str::to_owned))
            .collect();
        names.sort();
        names.dedup();
        self.seen = Some(ours);
        Ok(names)
    }

    fn changed(&mut self) -> Result<Option<bool>, Error> {
        log::debug!("vault {VAULT_NAME}: check for changes");
        let linked = linked_ids().map_err(|e| access("list the secrets", e))?;
        if self.unchanged_links.as_ref() == Some(&linked) {
            // The same keys, linked in the same order, as at the last check
            // that found nothing: a key's own value may differ (the
            // documented limit), its set of keys cannot.
            return Ok(Some(false));
        }

        let ours = self.ours_among(&linked);
        let changed = self.seen.as_ref() != Some(&ours);
        self.unchanged_links = (!changed).then_some(linked);
        Ok(Some(changed))
    }

    fn read_secret(&mut self, name: &str) -> Result<Option<Secret>, Error> {
        log::debug!("vault {VAULT_NAME}: read '{name}'");
        self.read_key(name)
    }

    fn write_secret(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        log::debug!("vault {VAULT_NAME}: write '{name}'");
        self.write_key(name, value)
    }

    fn remove_secret(&mut self, name: &str) -> Result<(), Error> {
        log::debug!("vault {VAULT_NAME}: remove '{name}'");
        self.remove_key(name)
    }
}

/// What the keys linked in `@u` were described as, by serial id, so that a
/// listing describes only the keys it has not seen.
#[derive(Debug, Default)]
struct KeyCache {
    /// The secret name of each key described; `None` for a key that is not
    /// ours.
    names: HashMap<i32, Option<String>>,
    /// The serial id of each of our keys, by secret name.
    ids: HashMap<String, i32>,
}

impl KeyCache {
    /// Whether key `id` was described.
    fn knows(&self, id: i32) -> bool {
        self.names.contains_key(&id)
    }

    /// The secret name of key `id`, when it is one of ours.
    fn name_of(&self, id: i32) -> Option<&str> {
        self.names.get(&id)?.as_deref()
    }

    /// The id of our key for the secret `name`.
    fn id_of(&self, name: &str) -> Option<i32> {
        self.ids.get(name).copied()
    }

    /// Notes that key `id` holds the secret `name` (`None`: not ours); a
    /// key noted before for that name is forgotten.
    fn insert(&mut self, id: i32, name: Option<String>) {
        self.remove(id);
        if let Some(name) = &name {
            if let Some(old) = self.ids.insert(name.clone(), id) {
                self.names.remove(&old);
            }
        }
        self.names.insert(id, name);
    }

    /// Forgets key `id`.
    fn remove(&mut self, id: i32) {
        if let Some(Some(name)) = self.names.remove(&id) {
            if self.ids.get(&name) == Some(&id) {
                self.ids.remove(&name);
            }
        }
    }

    /// Forgets the keys not in `linked`.
    fn retain(&mut self, linked: &[i32]) {
        let linked: HashSet<i32> = linked.iter().copied().collect();
        self.names.retain(|id, _| linked.contains(id));
        self.ids.retain(|_, id| linked.contains(id));
    }
}

impl fmt::Debug for KeyutilsVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyutilsVault")
            .field("name", &VAULT_NAME)
            .finish_non_exhaustive()
    }
}

/// Links `@u` into this process's keyring, so this process possesses its
/// keys (see the module documentation); a failure only costs that.
fn possess_user_keyring() {
    let process = KeyRing::from_special_id(KeyRingIdentifier::Process, true);
    let linked = process.and_then(|ring| ring.link_keyring_id(KeyRingIdentifier::User));
    if let Err(e) = linked {
        log::debug!("vault {VAULT_NAME}: cannot link @u into the process keyring: {e:?}");
    }
}

/// The key description for the secret `name`.
fn description(name: &str) -> Result<String, Error> {
    let description = format!("{DESCRIPTION_PREFIX}{name}");
    let rule = if name.contains('\0') {
        "a kernel key description cannot contain a NUL character"
    } else if description.len() > MAX_DESCRIPTION {
        "a kernel key description is at most 4095 bytes, prefix 'posh-ibwapi:' included"
    } else {
        return Ok(description);
    };

    Err(Error::VaultNameRefused {
        vault: VAULT_NAME.to_owned(),
        name: name.to_owned(),
        rule: rule.to_owned(),
    })
}

/// Possessor: everything; owning user: everything; group, others: nothing.
fn permissions() -> KeyPermissions {
    KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .user(Permission::ALL)
        .build()
}

/// The whole payload of `key`, in a buffer wiped on drop.
fn read_payload(key: Key) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut buffer = Zeroizing::new(Vec::new());
    loop {
        let len = key.read(&mut *buffer)?;
        if len <= buffer.len() {
            buffer.truncate(len);
            return Ok(buffer);
        }
        // Too small (or the key grew meanwhile): a fresh, exact buffer;
        // the old one is wiped as it drops.
        buffer = Zeroizing::new(vec![0; len]);
    }
}

/// The serial ids linked in `@u`: one read of its payload.
fn linked_ids() -> Result<Vec<i32>, KeyError> {
    let user_ring = Key::from_id(KeySerialId::new(KeyRingIdentifier::User as i32));
    let links = read_payload(user_ring)?;

    Ok(links
        .chunks_exact(4)
        .map(|id| i32::from_ne_bytes([id[0], id[1], id[2], id[3]]))
        .collect())
}

/// The secret name in a key's `KEYCTL_DESCRIBE` text, when the key is one
/// of ours.
fn name_in_description(text: &str) -> Option<String> {
    // "type;uid;gid;perm;description": the description may hold ';'.
    let mut fields = text.splitn(5, ';');
    let key_type = fields.next()?;
    let description = fields.nth(3)?;
    let name = description.strip_prefix(DESCRIPTION_PREFIX)?;
    (key_type == "user").then(|| name.to_owned())
}

/// `keyctl(KEYCTL_DESCRIBE)`; `None` when the key is gone or not viewable.
fn describe(id: KeySerialId) -> Option<String> {
    let mut buffer = vec![0_u8; 256];
    loop {
        let len = describe_into(id, &mut buffer)?;
        if len <= buffer.len() {
            buffer.truncate(len);
            break;
        }
        buffer = vec![0; len];
    }

    if buffer.last() == Some(&0) {
        buffer.pop();
    }
    String::from_utf8(buffer).ok()
}

/// One `KEYCTL_DESCRIBE` call: the full length of the description
/// (terminating NUL included), of which at most `buffer.len()` bytes were
/// copied.
fn describe_into(id: KeySerialId, buffer: &mut [u8]) -> Option<usize> {
    // The kernel reads the key id as an int; the cast keeps its bits.
    let raw_id = id.as_raw_id() as libc::c_ulong;

    // SAFETY: `buffer` is valid for writes of `buffer.len()` bytes for the
    // whole call, and KEYCTL_DESCRIBE copies at most that many bytes into
    // it; the remaining arguments are plain integers.
    let result = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_DESCRIBE,
            raw_id,
            buffer.as_mut_ptr(),
            buffer.len() as libc::c_ulong,
        )
    };
    usize::try_from(result).ok()
}

fn secret_from_bytes(bytes: &mut Zeroizing<Vec<u8>>) -> Result<Secret, String> {
    match String::from_utf8(std::mem::take(&mut **bytes)) {
        Ok(text) => Ok(Secret::new(text)),
        Err(e) => {
            e.into_bytes().zeroize();
            Err("the stored value is not UTF-8 text".to_owned())
        }
    }
}

fn access(action: &str, error: KeyError) -> Error {
    access_detail(action, describe_error(error))
}

fn access_detail(action: &str, detail: String) -> Error {
    Error::VaultAccess {
        vault: VAULT_NAME.to_owned(),
        action: action.to_owned(),
        detail,
    }
}

/// A kernel key error as a sentence, with the way out where there is one.
fn describe_error(error: KeyError) -> String {
    match error {
        KeyError::QuotaExceeded => "the user's kernel key quota is full (see \
             /proc/sys/kernel/keys/maxkeys and maxbytes, root_maxkeys and root_maxbytes \
             for root)"
            .to_owned(),
        KeyError::AccessDenied | KeyError::PermissionDenied => {
            "the kernel denied access to the key".to_owned()
        }
        KeyError::InvalidArguments => {
            "the kernel refused the key (name or value too long?)".to_owned()
        }
        KeyError::OperationNotSupported | KeyError::Unknown(libc::ENOSYS) => {
            "the kernel keyring is not available (no CONFIG_KEYS, or blocked)".to_owned()
        }
        KeyError::Unknown(errno) => std::io::Error::from_raw_os_error(errno).to_string(),
        other => format!("kernel key error {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(entries: &[(i32, Option<&str>)]) -> KeyCache {
        let mut cache = KeyCache::default();
        for &(id, name) in entries {
            cache.insert(id, name.map(str::to_owned));
        }
        cache
    }

    #[test]
    fn descriptions_of_our_user_keys_give_names() {
        let ours = "user;0;0;3f3f0000;posh-ibwapi:lab;semi:colon";
        assert_eq!(name_in_description(ours).as_deref(), Some("lab;semi:colon"));
        assert_eq!(name_in_description("user;0;0;3f3f0000;other:lab"), None);
        assert_eq!(
            name_in_description("keyring;0;0;3f3f0000;posh-ibwapi:x"),
            None
        );
        assert_eq!(name_in_description("user;0;0"), None);
    }

    #[test]
    fn cache_finds_names_and_ids() {
        let cache = cache(&[(1, Some("a")), (2, None), (3, Some("b"))]);

        assert!(cache.knows(2));
        assert_eq!(cache.name_of(1), Some("a"));
        assert_eq!(cache.name_of(2), None);
        assert_eq!(cache.id_of("b"), Some(3));
        assert_eq!(cache.id_of("c"), None);
    }

    #[test]
    fn a_new_key_for_a_name_replaces_the_old_one() {
        let mut cache = cache(&[(1, Some("a"))]);

        cache.insert(5, Some("a".to_owned()));

        assert_eq!(cache.id_of("a"), Some(5));
        assert!(!cache.knows(1), "the old key is forgotten");
    }

    #[test]
    fn an_id_given_to_another_key_is_described_anew() {
        let mut cache = cache(&[(1, Some("a")), (2, Some("b"))]);

        // Id 1 now belongs to the key of "b"; the entry for "a" goes.
        cache.insert(1, Some("b".to_owned()));

        assert_eq!(cache.id_of("a"), None);
        assert_eq!(cache.id_of("b"), Some(1));
        assert!(!cache.knows(2));
    }

    #[test]
    fn removing_an_id_keeps_a_newer_key_of_the_same_name() {
        let mut cache = cache(&[(1, Some("a"))]);
        cache.names.insert(7, Some("a".to_owned()));

        cache.remove(7);

        assert_eq!(cache.id_of("a"), Some(1));
        cache.remove(1);
        assert_eq!(cache.id_of("a"), None);
    }

    #[test]
    fn keys_no_longer_linked_are_forgotten() {
        let mut cache = cache(&[(1, Some("a")), (2, None), (3, Some("b"))]);

        cache.retain(&[3, 4]);

        assert!(!cache.knows(1) && !cache.knows(2));
        assert_eq!(cache.id_of("a"), None);
        assert_eq!(cache.id_of("b"), Some(3));
    }
}
