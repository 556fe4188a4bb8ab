//! An encrypted vault file: named secrets in one file, unlocked with a password.
//!
//! On a headless machine with nothing else installed, [`EncryptedVaultFile`]
//! keeps secrets (name → UTF-8 value) in a single file, sealed with a key
//! derived from a password. The product reads the password from
//! `IBWAPI_VAULT_PASS`; this module only takes its bytes.
//!
//! # Threat model
//!
//! The file is protected at rest: whoever gets a copy (a backup, a lost disk,
//! another account) learns neither names nor values and cannot change them
//! undetected, unless they guess the password, which Argon2id makes slow.
//! Nothing here protects the secrets from a process that has the password
//! (or the user's environment that holds it), nor from anyone who can read
//! this process's memory.
//!
//! # File format, version 1
//!
//! Integers are little-endian; offsets and sizes are in bytes.
//!
//! | offset | size | field |
//! | ---: | ---: | --- |
//! | 0 | 8 | magic, ASCII `IBWVAULT` |
//! | 8 | 2 | format version, `1` |
//! | 10 | 4 | Argon2id memory cost `m`, in KiB |
//! | 14 | 4 | Argon2id passes `t` |
//! | 18 | 4 | Argon2id lanes `p` |
//! | 22 | 16 | salt, random per vault |
//! | 38 | 32 | password check |
//! | 70 | 24 | XChaCha20-Poly1305 nonce, random per save |
//! | 94 | n + 16 | the n-byte contents, encrypted, then the Poly1305 tag |
//!
//! Bytes 0..94 are the header. Argon2id (version 0x13) turns the password,
//! the salt and the header's `m`, `t`, `p` into 64 bytes: the first 32 are the
//! XChaCha20-Poly1305 key, the last 32 the password check. The check is what
//! tells a wrong password apart from a damaged file; it lets a guesser test a
//! password no faster than the tag already does, as each guess still costs
//! one Argon2id run. The whole header is the associated data, so a changed
//! parameter, salt, check or nonce fails authentication. The contents are a
//! UTF-8 JSON object mapping each name to its value.
//!
//! New vaults use m = 64 MiB, t = 2, p = 1. An open then needs 64 MiB of
//! memory for a moment and takes about 115 ms on the 2-core development
//! machine (AMD EPYC, release build; ~85 ms of hashing, the rest allocating
//! and wiping that memory; a debug build takes ~2.6 s). The parameters live
//! in the header, so a later build can raise them for new vaults and still
//! open old files. A file asking for more than m = 1 GiB, t = 64 or p = 16 is
//! refused as damaged, so that a tampered header cannot make the process
//! allocate or compute without bound.
//!
//! The salt and key stay the same for the life of a vault, so a save costs
//! no Argon2id run; each save draws a fresh random 24-byte nonce, which
//! XChaCha20-Poly1305 allows (a repeat at 192 random bits is negligible).
//!
//! # Writing
//!
//! Every save writes the whole file to a temporary file in the same folder,
//! syncs it, renames it over the old file, then syncs the folder: a reader
//! sees the old file or the new one, never a mix ([`crate::shared_file`]).
//! On Unix the new file has mode 0600, so a looser mode on an existing file
//! is tightened by the next save (with an INFO record saying so), and a
//! missing parent folder is created with mode 0700.
//!
//! # Several processes
//!
//! Every save holds the save lock `<file>.lock` ([`crate::shared_file`]).
//! Under it, the handle compares the file's stamp (size, modification
//! time, inode) with the one it last read or wrote; when another process
//! saved meanwhile, the file is read again (Argon2id runs again only if
//! the vault was re-created with a new salt), and then only this call's
//! change is applied to what it holds and written. So two processes that
//! save at once both keep their changes. A caller that must read and write
//! under one lock (the vault backend: list, then save) holds it with
//! [`hold_save_lock`] until [`release_save_lock`].
//!
//! # Known shortcomings
//!
//! - No rollback protection: an older copy of the file, sealed with the same
//!   password, can be put back and opens without complaint.
//! - Memory hygiene is best effort: the password, key, values, Argon2 memory
//!   and decrypted JSON are wiped on drop, but `serde_json`'s scratch buffer
//!   for strings with escapes, copies the caller makes, and memory swapped to
//!   disk are not. Names are encrypted in the file but plain `String`s in
//!   memory. The handle keeps a copy of the password so that [`reload`] can
//!   follow a vault that was re-created with a new salt.
//! - The lock file is never deleted (see [`crate::shared_file`]).
//! - The file's length shows roughly how much is stored.
//! - An existing vault keeps its salt and parameters: there is no password
//!   change or parameter upgrade yet.
//! - Mode bits are set on Unix only; on Windows the file inherits the
//!   folder's ACL. The rename replaces a symbolic link at the path with a
//!   regular file, owned by the user who saved.
//!
//! [`reload`]: EncryptedVaultFile::reload
//! [`hold_save_lock`]: EncryptedVaultFile::hold_save_lock
//! [`release_save_lock`]: EncryptedVaultFile::release_save_lock

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::shared_file::{self, FileStamp, SaveLock};

/// The first bytes of every vault file.
const MAGIC: [u8; 8] = *b"IBWVAULT";

/// The only format version this module reads and writes.
const FORMAT_VERSION: u16 = 1;

const SALT_LEN: usize = 16;
const KEY_LEN: usize = 32;
const CHECK_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

// Where each header field starts; see the table in the module docs.
const VERSION_AT: usize = MAGIC.len();
const KDF_AT: usize = VERSION_AT + 2;
const SALT_AT: usize = KDF_AT + 12;
const CHECK_AT: usize = SALT_AT + SALT_LEN;
const NONCE_AT: usize = CHECK_AT + CHECK_LEN;
const HEADER_LEN: usize = NONCE_AT + NONCE_LEN;

/// Argon2id cost for new vaults: 64 MiB, 2 passes, 1 lane (~115 ms, see above).
const DEFAULT_KDF: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    passes: 2,
    lanes: 1,
};

/// The most a file may ask for; more is treated as a damaged header.
const MAX_KDF: KdfParams = KdfParams {
    memory_kib: 1024 * 1024,
    passes: 64,
    lanes: 16,
};

/// The secrets in memory: name → value, values wiped on drop.
type Entries = BTreeMap<String, Zeroizing<String>>;

/// Why a vault file could not be opened or saved.
///
/// Every variant names the vault file. None holds a password or a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultFileError {
    /// `open_existing` or `reload` found no file at the path.
    #[error("vault file {} does not exist", .path.display())]
    NotFound {
        /// The vault file.
        path: PathBuf,
    },

    /// The password was empty; a vault always needs one.
    #[error("the password for vault file {} is empty", .path.display())]
    EmptyPassword {
        /// The vault file.
        path: PathBuf,
    },

    /// The password does not open this vault.
    #[error("wrong password for vault file {}", .path.display())]
    WrongPassword {
        /// The vault file.
        path: PathBuf,
    },

    /// The file is a vault but damaged or truncated.
    #[error("vault file {} is damaged: {reason}", .path.display())]
    Corrupt {
        /// The vault file.
        path: PathBuf,
        /// What is wrong, in a few words.
        reason: &'static str,
    },

    /// The file is not a vault, or a vault of a format this build cannot read.
    #[error("{} is not a vault file this build can read ({})",
        .path.display(), describe_version(*.version))]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The format version it declares; `None` when it is no vault file.
        version: Option<u16>,
    },

    /// The file system refused a step.
    #[error("cannot {action} vault file {}: {source}", .path.display())]
    Io {
        /// The vault file.
        path: PathBuf,
        /// The step that failed, such as `read` or `replace`.
        action: &'static str,
        /// The error from the operating system.
        source: io::Error,
    },
}

/// Words for the version found in a file, for [`VaultFileError::UnsupportedVersion`].
fn describe_version(version: Option<u16>) -> String {
    match version {
        Some(found) => format!("format version {found}; this build reads {FORMAT_VERSION}"),
        None => "unknown format".to_owned(),
    }
}

/// A vault file opened with its password: the secrets, in memory, and what it
/// takes to save them again.
///
/// Changes are written to disk before the call that makes them returns; if
/// the write fails, the handle keeps its previous contents. Names are
/// case-sensitive; case rules belong to the caller. `Debug` shows the path
/// and the number of entries only.
pub struct EncryptedVaultFile {
    path: PathBuf,
    // Kept (wiped on drop) so that `reload` can re-derive the key if another
    // handle re-created the vault with a new salt.
    password: Zeroizing<Vec<u8>>,
    keys: Keys,
    entries: Entries,
    /// The file as this handle last read or wrote it; `None`: no file.
    seen: Option<FileStamp>,
    /// The save lock, while a caller holds it.
    lock: Option<SaveLock>,
}

impl EncryptedVaultFile {
    /// Opens the vault at `path`, or starts an empty one if there is no file.
    ///
    /// A new vault gets a random salt and the default Argon2id cost; its file
    /// (and a missing parent folder) is created on the first save. Either way
    /// this runs Argon2id once, which takes about 115 ms.
    ///
    /// # Errors
    ///
    /// [`EmptyPassword`](VaultFileError::EmptyPassword) for an empty password;
    /// otherwise as [`open_existing`](Self::open_existing), except that a
    /// missing file is no error.
    pub fn open_or_create(path: &Path, password: &[u8]) -> Result<Self, VaultFileError> {
        Self::open_or_create_with(path, password, DEFAULT_KDF)
    }

    /// Opens the vault at `path`, which must exist.
    ///
    /// # Errors
    ///
    /// - [`NotFound`](VaultFileError::NotFound): there is no file at `path`;
    /// - [`EmptyPassword`](VaultFileError::EmptyPassword): `password` is empty;
    /// - [`WrongPassword`](VaultFileError::WrongPassword): it does not open
    ///   this vault (also the outcome of a damaged salt or cost field);
    /// - [`Corrupt`](VaultFileError::Corrupt): the file is truncated or fails
    ///   authentication;
    /// - [`UnsupportedVersion`](VaultFileError::UnsupportedVersion): the file
    ///   is not a vault, or a vault of another format version;
    /// - [`Io`](VaultFileError::Io): the file cannot be read.
    pub fn open_existing(path: &Path, password: &[u8]) -> Result<Self, VaultFileError> {
        require_password(path, password)?;

        let (file, stamp) = read_file(path)?.ok_or_else(|| not_found(path))?;
        Self::unlock_file(path, password, &file, stamp)
    }

    /// The path of the vault file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names of the secrets, in byte order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.keys().map(String::as_str)
    }

    /// The value stored under `name` (exact, case-sensitive match).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(|value| value.as_str())
    }

    /// The number of secrets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the vault holds no secret.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Stores `value` under `name`, replacing any value there, and saves.
    ///
    /// Like every change, it takes the save lock (unless the caller holds
    /// it), reads the file again if another process saved it meanwhile, and
    /// applies only this change to what the file holds.
    ///
    /// # Errors
    ///
    /// [`Io`](VaultFileError::Io) if the file cannot be locked or written;
    /// the vault on disk is then unchanged, and the handle holds what the
    /// file holds. Re-reading a changed file can fail as
    /// [`reload`](Self::reload) does.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), VaultFileError> {
        self.set_many([(name, value)])
    }

    /// Stores several `(name, value)` pairs and saves once.
    ///
    /// A later pair wins over an earlier one with the same name. The file is
    /// written even when `pairs` is empty, which creates a new vault's file.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set); no pair is stored if the save fails.
    pub fn set_many<'a, I>(&mut self, pairs: I) -> Result<(), VaultFileError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        self.change(|entries| {
            for (name, value) in pairs {
                entries.insert(name.to_owned(), Zeroizing::new(value.to_owned()));
            }
            ((), true)
        })
    }

    /// Stores and removes secrets and saves once: `Some(value)` stores,
    /// `None` removes. Nothing is written when `changes` is empty.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set); nothing is stored or removed if the save fails.
    pub fn update<'a, I>(&mut self, changes: I) -> Result<(), VaultFileError>
    where
        I: IntoIterator<Item = (&'a str, Option<&'a str>)>,
    {
        let changes: Vec<_> = changes.into_iter().collect();
        if changes.is_empty() {
            return Ok(());
        }

        self.change(|entries| {
            for (name, value) in changes {
                match value {
                    Some(value) => entries.insert(name.to_owned(), Zeroizing::new(value.into())),
                    None => entries.remove(name),
                };
            }
            ((), true)
        })
    }

    /// Removes the secret `name` and saves; `false` if there was none.
    ///
    /// Nothing is written when the name is absent.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set); the secret stays if the save fails.
    pub fn remove(&mut self, name: &str) -> Result<bool, VaultFileError> {
        Ok(self.remove_many([name])? > 0)
    }

    /// Removes several secrets, saves once, and returns how many existed.
    ///
    /// Nothing is written when none of the names is present.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set); no secret is removed if the save fails.
    pub fn remove_many<'a, I>(&mut self, names: I) -> Result<usize, VaultFileError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        self.change(|entries| {
            let removed = names
                .into_iter()
                .filter(|name| entries.remove(*name).is_some())
                .count();
            (removed, removed > 0)
        })
    }

    /// Reads the file again with the same password, dropping unsaved state.
    ///
    /// Use it to see changes another handle or process has saved. Argon2id
    /// runs again only if the file's salt or cost has changed.
    ///
    /// # Errors
    ///
    /// As [`open_existing`](Self::open_existing), including
    /// [`NotFound`](VaultFileError::NotFound) for a vault never saved. On
    /// error the handle keeps its previous contents.
    pub fn reload(&mut self) -> Result<(), VaultFileError> {
        let (file, stamp) = read_file(&self.path)?.ok_or_else(|| not_found(&self.path))?;

        self.reload_from(&file, stamp)
    }

    /// Whether the file differs from what this handle last read or wrote:
    /// one `stat`.
    ///
    /// # Errors
    ///
    /// [`Io`](VaultFileError::Io) when the file cannot be examined.
    pub fn changed_on_disk(&self) -> Result<bool, VaultFileError> {
        let now =
            FileStamp::of_path(&self.path).map_err(|e| io_error(&self.path, "examine", e))?;

        Ok(now != self.seen)
    }

    /// Reads the file again when [`changed_on_disk`](Self::changed_on_disk);
    /// returns whether it did. A file deleted meanwhile is an empty vault
    /// (with the same password and salt for the next save).
    ///
    /// # Errors
    ///
    /// As [`reload`](Self::reload), except that a missing file is no error.
    /// On error the handle keeps its previous contents.
    pub fn reload_if_changed(&mut self) -> Result<bool, VaultFileError> {
        if !self.changed_on_disk()? {
            return Ok(false);
        }

        match read_file(&self.path)? {
            Some((file, stamp)) => self.reload_from(&file, stamp)?,
            None => {
                self.entries = Entries::new();
                self.seen = None;
                log::debug!("vault file {} no longer exists", self.path.display());
            }
        }
        Ok(true)
    }

    /// Takes the save lock and keeps it until
    /// [`release_save_lock`](Self::release_save_lock) or drop, so that a
    /// caller can read and then change the vault with no other process
    /// saving in between. Changes made meanwhile do not lock again.
    ///
    /// # Errors
    ///
    /// [`Io`](VaultFileError::Io) when the lock cannot be taken (including
    /// after waiting [`shared_file::LOCK_TIMEOUT`] for another process).
    pub fn hold_save_lock(&mut self) -> Result<(), VaultFileError> {
        if self.lock.is_none() {
            self.lock = Some(self.acquire_lock()?);
        }
        Ok(())
    }

    /// Releases the lock taken by [`hold_save_lock`](Self::hold_save_lock).
    pub fn release_save_lock(&mut self) {
        self.lock = None;
    }

    fn acquire_lock(&self) -> Result<SaveLock, VaultFileError> {
        SaveLock::acquire(&self.path).map_err(|e| io_error(&self.path, "lock", e))
    }

    fn reload_from(&mut self, file: &[u8], stamp: FileStamp) -> Result<(), VaultFileError> {
        let (keys, entries) =
            unlock(file, &self.password, Some(&self.keys)).map_err(|f| f.at(&self.path))?;

        self.keys = keys;
        self.entries = entries;
        self.seen = Some(stamp);
        log::debug!(
            "reloaded vault file {} ({} entries)",
            self.path.display(),
            self.len()
        );
        Ok(())
    }

    /// Under the save lock: reads the file again when another process
    /// saved it, applies `edit` to a copy of the contents, and saves the
    /// copy when `edit` says so.
    fn change<R>(
        &mut self,
        edit: impl FnOnce(&mut Entries) -> (R, bool),
    ) -> Result<R, VaultFileError> {
        let _lock = match self.lock {
            Some(_) => None,
            None => Some(self.acquire_lock()?),
        };
        self.reload_if_changed()?;

        let mut entries = self.entries.clone();
        let (result, write) = edit(&mut entries);
        if write {
            shared_file::remove_stale_temp_files(&self.path);
            self.commit(entries)?;
        }
        Ok(result)
    }

    /// `open_or_create` with chosen Argon2id costs for a new vault (tests use
    /// cheap ones).
    fn open_or_create_with(
        path: &Path,
        password: &[u8],
        kdf: KdfParams,
    ) -> Result<Self, VaultFileError> {
        require_password(path, password)?;

        match read_file(path)? {
            Some((file, stamp)) => Self::unlock_file(path, password, &file, stamp),
            None => Self::new_empty(path, password, kdf),
        }
    }

    /// A vault with no secrets and no file yet.
    fn new_empty(path: &Path, password: &[u8], kdf: KdfParams) -> Result<Self, VaultFileError> {
        let salt = random_bytes().map_err(|e| io_error(path, "make a salt for", e))?;
        let keys = Keys::derive(password, kdf, salt).map_err(|f| f.at(path))?;

        log::debug!(
            "vault file {} does not exist yet; starting empty",
            path.display()
        );
        Ok(Self::assemble(path, password, keys, Entries::new(), None))
    }

    /// Checks the password against `file` and decrypts it.
    fn unlock_file(
        path: &Path,
        password: &[u8],
        file: &[u8],
        stamp: FileStamp,
    ) -> Result<Self, VaultFileError> {
        let (keys, entries) = unlock(file, password, None).map_err(|f| f.at(path))?;

        log::debug!(
            "opened vault file {} ({} entries)",
            path.display(),
            entries.len()
        );
        Ok(Self::assemble(path, password, keys, entries, Some(stamp)))
    }

    fn assemble(
        path: &Path,
        password: &[u8],
        keys: Keys,
        entries: Entries,
        seen: Option<FileStamp>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            password: Zeroizing::new(password.to_vec()),
            keys,
            entries,
            seen,
            lock: None,
        }
    }

    /// Saves `entries` and only then makes them the handle's contents, so a
    /// failed save changes nothing.
    fn commit(&mut self, entries: Entries) -> Result<(), VaultFileError> {
        let file = seal(&self.keys, &entries).map_err(|e| io_error(&self.path, "encrypt", e))?;

        let replaced = shared_file::replace(&self.path, &file)
            .map_err(|e| io_error(&self.path, e.action, e.source))?;
        self.seen = Some(replaced.stamp);
        if let Some(mode) = replaced.tightened_from {
            log::info!(
                "the vault file {} had mode {mode:04o}, so other users could read or replace \
                 it; it now has mode 0600 (only its owner can read and write it)",
                self.path.display()
            );
        }

        log::debug!(
            "saved vault file {} ({} entries)",
            self.path.display(),
            entries.len()
        );
        self.entries = entries;
        Ok(())
    }
}

impl fmt::Debug for EncryptedVaultFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names may say what is stored, so only their number is shown.
        f.debug_struct("EncryptedVaultFile")
            .field("path", &self.path)
            .field("kdf", &self.keys.kdf)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// Argon2id cost parameters, as stored in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct KdfParams {
    memory_kib: u32,
    passes: u32,
    lanes: u32,
}

impl KdfParams {
    /// The Argon2id instance, refusing costs beyond [`MAX_KDF`].
    fn argon2(self) -> Result<Argon2<'static>, Fault> {
        const OUT_OF_RANGE: Fault = Fault::Corrupt("key-derivation costs are out of range");

        let too_high = self.memory_kib > MAX_KDF.memory_kib
            || self.passes > MAX_KDF.passes
            || self.lanes > MAX_KDF.lanes;
        if too_high {
            return Err(OUT_OF_RANGE);
        }

        let output_len = Some(KEY_LEN + CHECK_LEN);
        let params = Params::new(self.memory_kib, self.passes, self.lanes, output_len)
            .map_err(|_| OUT_OF_RANGE)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// What a password derives for one vault (its salt and costs).
#[derive(Clone)]
struct Keys {
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    check: [u8; CHECK_LEN],
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl Keys {
    /// Runs Argon2id: the slow step.
    fn derive(password: &[u8], kdf: KdfParams, salt: [u8; SALT_LEN]) -> Result<Self, Fault> {
        let argon2 = kdf.argon2()?;

        // Argon2's working memory ends up holding the output; wipe it too.
        let mut memory = Zeroizing::new(vec![Block::default(); argon2.params().block_count()]);
        let mut output = Zeroizing::new([0u8; KEY_LEN + CHECK_LEN]);
        argon2
            .hash_password_into_with_memory(password, &salt, &mut output[..], &mut memory[..])
            .map_err(|_| Fault::Corrupt("key derivation refused its input"))?;

        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&output[..KEY_LEN]);
        let check = array_at(&output[..], KEY_LEN);
        Ok(Self {
            kdf,
            salt,
            check,
            key,
        })
    }

    /// Whether these keys were derived for the vault that `header` describes.
    fn fit(&self, header: &Header) -> bool {
        self.kdf == header.kdf && self.salt == header.salt && self.check == header.check
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        // The cipher wipes its copy of the key on drop.
        XChaCha20Poly1305::new(Key::from_slice(&self.key[..]))
    }
}

/// The fixed-size start of a vault file.
struct Header {
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    check: [u8; CHECK_LEN],
    nonce: [u8; NONCE_LEN],
}

impl Header {
    /// Reads the header of `file`, which must be a whole version 1 vault.
    fn parse(file: &[u8]) -> Result<Self, Fault> {
        check_format(file)?;

        if file.len() < HEADER_LEN + TAG_LEN {
            return Err(Fault::Corrupt("the file is truncated"));
        }

        let kdf = KdfParams {
            memory_kib: u32_at(file, KDF_AT),
            passes: u32_at(file, KDF_AT + 4),
            lanes: u32_at(file, KDF_AT + 8),
        };
        Ok(Self {
            kdf,
            salt: array_at(file, SALT_AT),
            check: array_at(file, CHECK_AT),
            nonce: array_at(file, NONCE_AT),
        })
    }

    fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0u8; HEADER_LEN];

        bytes[..VERSION_AT].copy_from_slice(&MAGIC);
        bytes[VERSION_AT..KDF_AT].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes[KDF_AT..KDF_AT + 4].copy_from_slice(&self.kdf.memory_kib.to_le_bytes());
        bytes[KDF_AT + 4..KDF_AT + 8].copy_from_slice(&self.kdf.passes.to_le_bytes());
        bytes[KDF_AT + 8..SALT_AT].copy_from_slice(&self.kdf.lanes.to_le_bytes());
        bytes[SALT_AT..CHECK_AT].copy_from_slice(&self.salt);
        bytes[CHECK_AT..NONCE_AT].copy_from_slice(&self.check);
        bytes[NONCE_AT..].copy_from_slice(&self.nonce);
        bytes
    }
}

/// Tells a vault of this version from other files. A file that is only a
/// prefix of the magic counts as a truncated vault, not another format.
fn check_format(file: &[u8]) -> Result<(), Fault> {
    let magic_len = file.len().min(MAGIC.len());
    if file[..magic_len] != MAGIC[..magic_len] {
        return Err(Fault::Unsupported(None));
    }

    let Some(version) = file.get(VERSION_AT..KDF_AT) else {
        return Err(Fault::Corrupt("the file is truncated"));
    };
    let version = u16::from_le_bytes([version[0], version[1]]);
    if version != FORMAT_VERSION {
        return Err(Fault::Unsupported(Some(version)));
    }
    Ok(())
}

/// Why a file did not open, before the path is known to attach.
#[derive(Debug)]
enum Fault {
    WrongPassword,
    Corrupt(&'static str),
    Unsupported(Option<u16>),
}

impl Fault {
    fn at(self, path: &Path) -> VaultFileError {
        let path = path.to_path_buf();
        match self {
            Self::WrongPassword => VaultFileError::WrongPassword { path },
            Self::Corrupt(reason) => VaultFileError::Corrupt { path, reason },
            Self::Unsupported(version) => VaultFileError::UnsupportedVersion { path, version },
        }
    }
}

/// Opens a whole vault file: header, password check, contents.
///
/// `known` keys are reused when they fit the header, sparing Argon2id.
fn unlock(file: &[u8], password: &[u8], known: Option<&Keys>) -> Result<(Keys, Entries), Fault> {
    let header = Header::parse(file)?;

    let keys = keys_for(&header, password, known)?;

    let entries = decrypt(file, &header, &keys)?;
    Ok((keys, entries))
}

fn keys_for(header: &Header, password: &[u8], known: Option<&Keys>) -> Result<Keys, Fault> {
    if let Some(keys) = known.filter(|keys| keys.fit(header)) {
        return Ok(keys.clone());
    }

    let keys = Keys::derive(password, header.kdf, header.salt)?;

    // Comparing in constant time is not needed: the check is in the file,
    // so timing would reveal nothing a reader of the file does not know.
    if keys.check != header.check {
        return Err(Fault::WrongPassword);
    }
    Ok(keys)
}

/// Decrypts the contents; the password check has already passed, so a
/// failure here means damage.
fn decrypt(file: &[u8], header: &Header, keys: &Keys) -> Result<Entries, Fault> {
    let nonce = XNonce::from_slice(&header.nonce);
    let mut buffer = Zeroizing::new(file[HEADER_LEN..].to_vec());

    keys.cipher()
        .decrypt_in_place(nonce, &file[..HEADER_LEN], &mut *buffer)
        .map_err(|_| Fault::Corrupt("the contents fail authentication"))?;

    decode_entries(&buffer)
}

fn decode_entries(json: &[u8]) -> Result<Entries, Fault> {
    let plain: BTreeMap<String, String> = serde_json::from_slice(json)
        .map_err(|_| Fault::Corrupt("the contents are not a JSON object of strings"))?;

    // Moving each String into Zeroizing keeps its one heap buffer.
    Ok(plain
        .into_iter()
        .map(|(name, value)| (name, Zeroizing::new(value)))
        .collect())
}

/// The whole new file for `entries`, with a fresh nonce.
fn seal(keys: &Keys, entries: &Entries) -> io::Result<Vec<u8>> {
    let header = Header {
        kdf: keys.kdf,
        salt: keys.salt,
        check: keys.check,
        nonce: random_bytes()?,
    };
    let header_bytes = header.to_bytes();
    let mut buffer = encode_entries(entries)?;

    keys.cipher()
        .encrypt_in_place(
            XNonce::from_slice(&header.nonce),
            &header_bytes,
            &mut *buffer,
        )
        .map_err(|_| io::Error::other("the contents are too large to encrypt"))?;

    let mut file = Vec::with_capacity(HEADER_LEN + buffer.len());
    file.extend_from_slice(&header_bytes);
    file.extend_from_slice(&buffer);
    Ok(file)
}

/// The contents as JSON, in a buffer with room for the tag.
///
/// The size is measured first so that the buffer never grows: growing would
/// leave unwiped copies of the plaintext in freed memory.
fn encode_entries(entries: &Entries) -> io::Result<Zeroizing<Vec<u8>>> {
    let view: BTreeMap<&str, &str> = entries
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();

    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, &view)?;

    let mut buffer = Zeroizing::new(Vec::with_capacity(counter.0 + TAG_LEN));
    serde_json::to_writer(&mut *buffer, &view)?;
    Ok(buffer)
}

/// A writer that only counts bytes.
struct ByteCounter(usize);

impl Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The bytes of `path` and their stamp, or `None` if there is no such file.
fn read_file(path: &Path) -> Result<Option<(Vec<u8>, FileStamp)>, VaultFileError> {
    shared_file::read(path).map_err(|e| io_error(path, "read", e))
}

fn require_password(path: &Path, password: &[u8]) -> Result<(), VaultFileError> {
    if password.is_empty() {
        return Err(VaultFileError::EmptyPassword {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut array = [0u8; N];
    array.copy_from_slice(&bytes[at..at + N]);
    array
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(array_at(bytes, at))
}

fn not_found(path: &Path) -> VaultFileError {
    VaultFileError::NotFound {
        path: path.to_path_buf(),
    }
}

fn io_error(path: &Path, action: &'static str, source: io::Error) -> VaultFileError {
    VaultFileError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::fs;
    use std::time::Instant;

    use proptest::prelude::*;
    use tempfile::TempDir;

    const PASSWORD: &[u8] = b"correct horse battery staple";

    /// Costs that keep the many Argon2id runs of the tests fast.
    const CHEAP_KDF: KdfParams = KdfParams {
        memory_kib: 8,
        passes: 1,
        lanes: 1,
    };

    fn vault_path(dir: &TempDir) -> PathBuf {
        dir.path().join("vault.bin")
    }

    fn open_cheap(path: &Path) -> EncryptedVaultFile {
        EncryptedVaultFile::open_or_create_with(path, PASSWORD, CHEAP_KDF).unwrap()
    }

    /// A saved vault with two secrets, and its folder.
    fn saved_vault() -> (TempDir, PathBuf) {
        let dir = TempDir::new().unwrap();
        let path = vault_path(&dir);
        let mut vault = open_cheap(&path);
        vault.set_many([("alpha", "one"), ("beta", "two")]).unwrap();
        (dir, path)
    }

    fn open(path: &Path) -> Result<EncryptedVaultFile, VaultFileError> {
        EncryptedVaultFile::open_existing(path, PASSWORD)
    }

    fn contents(vault: &EncryptedVaultFile) -> Vec<(String, String)> {
        vault
            .names()
            .map(|n| (n.to_owned(), vault.get(n).unwrap().to_owned()))
            .collect()
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;

        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;

        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn round_trip_keeps_unicode_quotes_braces_and_empty_values() {
        let dir = TempDir::new().unwrap();
        let path = vault_path(&dir);
        let pairs = [
            (
                "grid/admin",
                "p\u{e4}ss \"w\u{f6}rd\" {x} [y] \\ \n\t \u{1F511}",
            ),
            ("empty", ""),
            ("Empty", "case-sensitive twin"),
            ("{\"json\": true}", "}{"),
            ("\u{0}", "nul \u{0} inside"),
        ];
        let mut vault = open_cheap(&path);
        vault.set_many(pairs).unwrap();

        let reopened = open(&path).unwrap();

        assert_eq!(reopened.len(), pairs.len());
        for (name, value) in pairs {
            assert_eq!(reopened.get(name), Some(value), "{name:?}");
        }
        assert_eq!(reopened.get("EMPTY"), None);
    }

    #[test]
    fn missing_file_is_an_empty_vault_created_on_first_save() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("new").join("deeper").join("vault.bin");

        let mut vault = open_cheap(&path);

        assert!(vault.is_empty());
        assert!(!path.exists(), "opening must not write");
        vault.set("name", "value").unwrap();
        assert_eq!(open(&path).unwrap().get("name"), Some("value"));
    }

    #[test]
    fn open_existing_reports_a_missing_file() {
        let dir = TempDir::new().unwrap();

        let error = open(&vault_path(&dir)).unwrap_err();

        assert!(
            matches!(error, VaultFileError::NotFound { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn empty_password_is_refused() {
        let dir = TempDir::new().unwrap();
        let path = vault_path(&dir);

        let error = EncryptedVaultFile::open_or_create(&path, b"").unwrap_err();

        assert!(
            matches!(error, VaultFileError::EmptyPassword { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn wrong_password_is_its_own_error() {
        let (_dir, path) = saved_vault();
        let before = fs::read(&path).unwrap();

        let error = EncryptedVaultFile::open_existing(&path, b"Correct horse").unwrap_err();

        assert!(
            matches!(error, VaultFileError::WrongPassword { .. }),
            "{error:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), before);
    }

    #[test]
    fn every_flipped_byte_is_an_error() {
        let (_dir, path) = saved_vault();
        let good = fs::read(&path).unwrap();

        for at in 0..good.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[at] ^= mask;
                fs::write(&path, &bad).unwrap();

                let outcome = open(&path);

                assert_flip_rejected(at, mask, outcome);
            }
        }
    }

    /// Magic and version bytes make another format; any other byte makes a
    /// wrong password (salt, costs, check) or a damaged file.
    fn assert_flip_rejected(
        at: usize,
        mask: u8,
        outcome: Result<EncryptedVaultFile, VaultFileError>,
    ) {
        let error = outcome.expect_err(&format!("byte {at} ^ {mask:#x} opened"));

        let expected = if at < KDF_AT {
            matches!(error, VaultFileError::UnsupportedVersion { .. })
        } else {
            matches!(
                error,
                VaultFileError::WrongPassword { .. } | VaultFileError::Corrupt { .. }
            )
        };
        assert!(expected, "byte {at} ^ {mask:#x}: {error:?}");
    }

    #[test]
    fn every_truncation_is_corrupt() {
        let (_dir, path) = saved_vault();
        let good = fs::read(&path).unwrap();

        for len in 0..good.len() {
            fs::write(&path, &good[..len]).unwrap();

            let error = open(&path).unwrap_err();

            assert!(
                matches!(error, VaultFileError::Corrupt { .. }),
                "length {len}: {error:?}"
            );
        }
    }

    #[test]
    fn other_formats_and_versions_are_unsupported() {
        let (_dir, path) = saved_vault();
        let mut newer = fs::read(&path).unwrap();
        newer[VERSION_AT..KDF_AT].copy_from_slice(&2u16.to_le_bytes());

        fs::write(&path, &newer).unwrap();
        let error = open(&path).unwrap_err();
        assert!(matches!(
            error,
            VaultFileError::UnsupportedVersion {
                version: Some(2),
                ..
            }
        ));

        fs::write(&path, br#"{"alpha": "one"}"#).unwrap();
        let error = open(&path).unwrap_err();
        assert!(matches!(
            error,
            VaultFileError::UnsupportedVersion { version: None, .. }
        ));
    }

    #[test]
    fn tampered_costs_beyond_the_limit_are_refused_without_deriving() {
        let (_dir, path) = saved_vault();
        let mut bad = fs::read(&path).unwrap();
        bad[KDF_AT..KDF_AT + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        fs::write(&path, &bad).unwrap();

        let error = open(&path).unwrap_err();

        assert!(matches!(error, VaultFileError::Corrupt { .. }), "{error:?}");
    }

    #[test]
    fn errors_name_the_file_and_no_secret() {
        let (_dir, path) = saved_vault();

        let error = EncryptedVaultFile::open_existing(&path, b"hunter2").unwrap_err();

        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(!message.contains("hunter2"));
    }

    #[test]
    fn debug_output_hides_password_names_and_values() {
        let (_dir, path) = saved_vault();
        let vault = open(&path).unwrap();

        let debug = format!("{vault:?}");

        for secret in ["correct horse", "alpha", "one", "beta", "two"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("entries: 2"), "{debug}");
    }

    #[test]
    fn each_save_draws_a_new_nonce_and_keeps_the_salt() {
        let (_dir, path) = saved_vault();
        let first = fs::read(&path).unwrap();

        open(&path).unwrap().set("alpha", "one").unwrap();
        let second = fs::read(&path).unwrap();

        assert_eq!(first[SALT_AT..CHECK_AT], second[SALT_AT..CHECK_AT]);
        assert_ne!(first[NONCE_AT..HEADER_LEN], second[NONCE_AT..HEADER_LEN]);
    }

    #[test]
    fn header_records_the_costs_of_a_new_vault() {
        let (_dir, path) = saved_vault();

        let file = fs::read(&path).unwrap();
        let header = Header::parse(&file).unwrap();

        assert_eq!(&file[..VERSION_AT], b"IBWVAULT");
        assert_eq!(header.kdf, CHEAP_KDF);
    }

    #[test]
    fn remove_and_remove_many_save_only_when_something_goes() {
        let (_dir, path) = saved_vault();
        let mut vault = open(&path).unwrap();
        vault.set("gamma", "three").unwrap();
        let before = fs::read(&path).unwrap();

        assert!(!vault.remove("ALPHA").unwrap());
        assert_eq!(vault.remove_many(["nope", "none"]).unwrap(), 0);
        assert_eq!(
            fs::read(&path).unwrap(),
            before,
            "nothing removed, nothing written"
        );

        assert!(vault.remove("alpha").unwrap());
        assert_eq!(
            vault
                .remove_many(["beta", "gamma", "beta", "nope"])
                .unwrap(),
            2
        );
        assert!(open(&path).unwrap().is_empty());
    }

    #[test]
    fn set_replaces_and_names_are_sorted() {
        let (_dir, path) = saved_vault();
        let mut vault = open(&path).unwrap();

        vault.set("alpha", "uno").unwrap();
        vault.set("Zulu", "z").unwrap();

        let names: Vec<&str> = vault.names().collect();
        assert_eq!(names, ["Zulu", "alpha", "beta"]);
        assert_eq!(contents(&open(&path).unwrap()), contents(&vault));
    }

    #[test]
    fn reload_sees_what_another_handle_saved() {
        let (_dir, path) = saved_vault();
        let mut first = open(&path).unwrap();
        let mut second = open(&path).unwrap();

        second.set("gamma", "three").unwrap();
        first.reload().unwrap();

        assert_eq!(first.get("gamma"), Some("three"));
    }

    #[test]
    fn a_stale_handle_applies_only_its_own_change() {
        let (_dir, path) = saved_vault();
        let mut first = open(&path).unwrap();
        let mut second = open(&path).unwrap();

        second.set("gamma", "three").unwrap();
        second.remove("beta").unwrap();
        first.set("delta", "four").unwrap();

        let names: Vec<&str> = first.names().collect();
        assert_eq!(names, ["alpha", "delta", "gamma"]);
        assert_eq!(contents(&open(&path).unwrap()), contents(&first));
        assert!(
            !first.reload_if_changed().unwrap(),
            "its own save is no change"
        );
        assert!(second.reload_if_changed().unwrap());
    }

    #[test]
    fn a_held_lock_makes_another_handle_wait() {
        let (_dir, path) = saved_vault();
        let mut holder = open(&path).unwrap();
        let mut waiter = open(&path).unwrap();
        holder.hold_save_lock().unwrap();

        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            waiter.set("late", "value").unwrap();
            sender.send(()).unwrap();
            waiter
        });

        let wait = std::time::Duration::from_millis(150);
        assert!(receiver.recv_timeout(wait).is_err(), "the save waits");
        holder.set("held", "value").unwrap();
        holder.release_save_lock();
        receiver
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        let waiter = thread.join().unwrap();
        assert_eq!(
            waiter.get("held"),
            Some("value"),
            "it re-read under the lock"
        );
        assert_eq!(open(&path).unwrap().len(), 4);
    }

    #[test]
    fn a_deleted_file_reloads_as_an_empty_vault() {
        let (_dir, path) = saved_vault();
        let mut vault = open(&path).unwrap();
        fs::remove_file(&path).unwrap();

        assert!(vault.reload_if_changed().unwrap());
        assert!(vault.is_empty());
        vault.set("again", "1").unwrap();
        assert_eq!(
            contents(&open(&path).unwrap()),
            [("again".into(), "1".into())]
        );
    }

    #[test]
    fn reload_follows_a_vault_re_created_with_a_new_salt() {
        let (_dir, path) = saved_vault();
        let mut vault = open(&path).unwrap();

        fs::remove_file(&path).unwrap();
        open_cheap(&path).set("fresh", "start").unwrap();
        vault.reload().unwrap();

        assert_eq!(contents(&vault), [("fresh".to_owned(), "start".to_owned())]);
    }

    #[test]
    fn reload_of_a_missing_file_keeps_the_contents() {
        let dir = TempDir::new().unwrap();
        let path = vault_path(&dir);
        let mut vault = open_cheap(&path);
        vault.set("kept", "yes").unwrap();
        fs::remove_file(&path).unwrap();

        let error = vault.reload().unwrap_err();

        assert!(
            matches!(error, VaultFileError::NotFound { .. }),
            "{error:?}"
        );
        assert_eq!(vault.get("kept"), Some("yes"));
    }

    #[test]
    fn failed_write_leaves_the_old_file_and_the_handle_intact() {
        let (dir, path) = saved_vault();
        let before = fs::read(&path).unwrap();
        let mut vault = open(&path).unwrap();

        shared_file::fail_next_write();
        let error = vault.set("alpha", "changed").unwrap_err();

        assert!(
            matches!(
                error,
                VaultFileError::Io {
                    action: "write",
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(vault.get("alpha"), Some("one"));
        let mut files: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            ["vault.bin", "vault.bin.lock"],
            "no temporary file left"
        );
    }

    #[cfg(unix)]
    #[test]
    fn new_file_is_0600_and_new_folder_0700() {
        let dir = TempDir::new().unwrap();
        let folder = dir.path().join("created");
        let path = folder.join("vault.bin");

        open_cheap(&path).set("a", "b").unwrap();

        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(mode_of(&folder), 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn a_0644_file_is_tightened_on_the_next_save() {
        let (_dir, path) = saved_vault();
        set_mode(&path, 0o644);
        let mut vault = open(&path).unwrap();

        vault.set("alpha", "again").unwrap();

        assert_eq!(mode_of(&path), 0o600);
    }

    /// With the folder read-only the temporary file cannot be created, and
    /// the old file must stay. Root (or `CAP_DAC_OVERRIDE`) ignores the mode,
    /// so there the test is skipped: `failed_write_leaves_...` covers the
    /// same guarantee with an injected failure that works for root too.
    #[cfg(unix)]
    #[test]
    fn read_only_folder_keeps_the_old_file() {
        let (dir, path) = saved_vault();
        let before = fs::read(&path).unwrap();
        let mut vault = open(&path).unwrap();
        set_mode(dir.path(), 0o500);

        if fs::write(dir.path().join("probe"), b"").is_ok() {
            set_mode(dir.path(), 0o700);
            eprintln!("skipped: this user writes into read-only folders (root?)");
            return;
        }
        let outcome = vault.set("alpha", "changed");
        set_mode(dir.path(), 0o700);

        assert!(
            matches!(outcome, Err(VaultFileError::Io { .. })),
            "{outcome:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(open(&path).unwrap().get("alpha"), Some("one"));
    }

    #[test]
    fn default_costs_are_valid_and_within_the_read_limit() {
        // `argon2` also applies the read limit, so this checks both.
        assert!(DEFAULT_KDF.argon2().is_ok());
        assert!(MAX_KDF.argon2().is_ok());
    }

    /// Prints what opening costs with the default Argon2id parameters. Debug
    /// builds are many times slower; the target (50-150 ms) is for release.
    #[test]
    fn measure_default_key_derivation() {
        let start = Instant::now();
        Keys::derive(PASSWORD, DEFAULT_KDF, [7; SALT_LEN]).unwrap();
        let elapsed = start.elapsed();

        let build = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        println!("Argon2id m=64 MiB t=2 p=1 took {elapsed:?} ({build} build)");
        if !cfg!(debug_assertions) {
            assert!(elapsed.as_millis() < 1000, "{elapsed:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_names_and_values_round_trip(
            secrets in prop::collection::btree_map(any::<String>(), any::<String>(), 0..8)
        ) {
            let dir = TempDir::new().unwrap();
            let path = vault_path(&dir);
            let mut vault = open_cheap(&path);

            vault.set_many(secrets.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap();
            let reopened = open(&path).unwrap();

            let expected: Vec<(String, String)> = secrets.into_iter().collect();
            prop_assert_eq!(contents(&reopened), expected);
        }
    }
}
