//! Files that several processes share: the save lock, atomic replacement,
//! and the stamp that tells whether a file changed since it was read.
//!
//! The config file and the encrypted vault file both use this module.
//!
//! # The save lock
//!
//! A save runs while the process holds an exclusive lock on `<file>.lock`
//! in the file's folder (the standard library's file locks: `flock` on
//! Unix, `LockFileEx` on Windows). Two handles in one process exclude each
//! other too. Within the lock, the saver checks whether the file changed
//! since it read it, reads it again if so, applies only its own change,
//! and replaces the file; so two processes saving at once both keep their
//! changes.
//!
//! - The lock file holds no data. It is created (mode 0600 on Unix) on
//!   first use and never deleted, not even when the config file is: a
//!   process may be waiting on it, and deleting it would let a third
//!   process lock a new file of the same name while the second one still
//!   locks the old one.
//! - The operating system releases the lock when the process ends, however
//!   it ends, so a crash never leaves a stale lock.
//! - A process waits at most [`LOCK_TIMEOUT`] for the lock, then the save
//!   fails with a message saying another process holds it.
//! - Readers take no lock: the file is only ever replaced by a rename, so a
//!   reader sees the old file or the new one.
//! - Posh-IBWAPI 4.x takes no lock and rewrites the file in place; a 4.x
//!   process saving at the same moment can still overwrite a change.
//!
//! # Atomic replacement
//!
//! [`replace`] writes a temporary file `.<name>.<6 random>.tmp` in the same
//! folder (mode 0600 on Unix), flushes it to disk, renames it over the
//! file, then flushes the folder. A crash at any moment leaves the old file
//! or the new one, and at most a temporary file, which the next save under
//! the lock removes ([`remove_stale_temp_files`]). A folder it creates is
//! 0700 on Unix.
//!
//! # Stamps
//!
//! A [`FileStamp`] is the file's size, its modification time at full
//! precision and, on Unix, its device and inode numbers. Every replacement
//! makes a new inode, so a save by another process always changes the
//! stamp; an in-place edit (4.x, an editor) changes the size or the time.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// How long a save waits for another process to release the lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The random part of a temporary file's name, in characters.
const TEMP_RANDOM_LEN: usize = 6;

/// What tells one version of a file from another without reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    identity: Option<(u64, u64)>,
}

impl FileStamp {
    /// The stamp of the file at `path`, following symbolic links; `None`
    /// when there is no file.
    ///
    /// # Errors
    ///
    /// When the file exists but cannot be examined.
    pub fn of_path(path: &Path) -> io::Result<Option<FileStamp>> {
        match fs::metadata(path) {
            Ok(metadata) => Ok(Some(FileStamp::of_metadata(&metadata))),
            Err(err) if is_missing(&err) => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn of_metadata(metadata: &fs::Metadata) -> FileStamp {
        FileStamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            identity: identity(metadata),
        }
    }
}

#[cfg(unix)]
fn identity(metadata: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;

    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn identity(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Whether an error means "there is no such file".
pub fn is_missing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// The bytes of the file at `path` and the stamp of what was read; `None`
/// when there is no file. The stamp comes from the open file, so it always
/// describes these bytes even if the file is replaced meanwhile.
///
/// # Errors
///
/// When the file exists but cannot be read.
pub fn read(path: &Path) -> io::Result<Option<(Vec<u8>, FileStamp)>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if is_missing(&err) => return Ok(None),
        Err(err) => return Err(err),
    };

    let metadata = file.metadata()?;
    // Sized up front so that the buffer never grows: growing would leave
    // copies of secrets in freed memory.
    let capacity = usize::try_from(metadata.len())
        .unwrap_or(0)
        .saturating_add(1);
    let mut bytes = Vec::with_capacity(capacity);
    file.read_to_end(&mut bytes)?;

    Ok(Some((bytes, FileStamp::of_metadata(&metadata))))
}

/// The exclusive save lock of one file, held until dropped.
#[derive(Debug)]
pub struct SaveLock {
    file: File,
    path: PathBuf,
}

impl SaveLock {
    /// Locks `<target>.lock`, creating it (and `target`'s folder) when
    /// missing, and waits up to [`LOCK_TIMEOUT`] for another holder.
    ///
    /// # Errors
    ///
    /// When the lock file cannot be created or locked, or the wait timed
    /// out ([`io::ErrorKind::TimedOut`]).
    pub fn acquire(target: &Path) -> io::Result<SaveLock> {
        SaveLock::acquire_within(target, LOCK_TIMEOUT)
    }

    fn acquire_within(target: &Path, timeout: Duration) -> io::Result<SaveLock> {
        let path = lock_path(target);
        create_private_folder(folder_of(target))?;
        let file = open_lock_file(&path)?;

        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SaveLock { file, path }),
                Err(TryLockError::Error(err)) => return Err(err),
                Err(TryLockError::WouldBlock) if start.elapsed() >= timeout => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "another process has held the lock {} for {} s; try again \
                             when it has finished saving",
                            path.display(),
                            timeout.as_secs()
                        ),
                    ));
                }
                Err(TryLockError::WouldBlock) => {
                    if pause == Duration::from_millis(1) {
                        log::debug!("waiting for another process to release {}", path.display());
                    }
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SaveLock {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; this only makes it
        // explicit.
        let _ = self.file.unlock();
    }
}

/// `<target>.lock`.
pub fn lock_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);

    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);

    options.open(path)
}

/// What [`replace`] did.
#[derive(Debug)]
pub struct Replaced {
    /// The stamp of the new file.
    pub stamp: FileStamp,
    /// The mode bits of the replaced file when it was open to other users
    /// (Unix only); the new file is 0600.
    pub tightened_from: Option<u32>,
}

/// Why [`replace`] failed: the step, in words such as `write`, and the
/// operating system's error. The old file is unchanged.
#[derive(Debug)]
pub struct ReplaceError {
    /// `create the folder of`, `create a temporary file beside`, `set the
    /// mode of`, `write`, `sync` or `replace`.
    pub action: &'static str,
    /// The operating system's error.
    pub source: io::Error,
}

/// Replaces the file at `path` with `bytes`, or leaves it as it was.
///
/// # Errors
///
/// The step that failed; the old file is then unchanged and the temporary
/// file is deleted.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<Replaced, ReplaceError> {
    let step = |action| move |source| ReplaceError { action, source };
    let folder = folder_of(path);
    create_private_folder(folder).map_err(step("create the folder of"))?;

    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .rand_bytes(TEMP_RANDOM_LEN)
        .tempfile_in(folder)
        .map_err(step("create a temporary file beside"))?;

    // tempfile already creates 0600 files on Unix; saying so keeps it true.
    restrict_to_owner(temp.as_file()).map_err(step("set the mode of"))?;
    temp.write_all(bytes)
        .and_then(|()| fault_point())
        .map_err(step("write"))?;
    temp.as_file().sync_all().map_err(step("sync"))?;

    let stamp = FileStamp::of_metadata(&temp.as_file().metadata().map_err(step("sync"))?);
    let tightened_from = open_mode(path);
    temp.persist(path)
        .map_err(|err| step("replace")(err.error))?;

    sync_folder(folder);
    Ok(Replaced {
        stamp,
        tightened_from,
    })
}

/// Deletes temporary files that an interrupted save of `path` left behind.
/// Call it only while holding `path`'s [`SaveLock`]: every cooperating
/// writer holds the lock while its temporary file exists. Best effort.
pub fn remove_stale_temp_files(path: &Path) {
    let folder = folder_of(path);
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };

    for entry in entries.flatten() {
        if !is_temp_name(&entry.file_name(), &prefix) {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => log::info!(
                "removed {}, left behind by an interrupted save",
                entry.path().display()
            ),
            Err(err) => log::debug!("could not remove {}: {err}", entry.path().display()),
        }
    }
}

/// `.NAME.` for a file `NAME`, so that a temporary file shows which file
/// it belonged to.
fn temp_prefix(path: &Path) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(path.file_name().unwrap_or(OsStr::new("file")));
    prefix.push(".");
    prefix
}

/// Whether `name` is `<prefix><6 letters or digits>.tmp`.
fn is_temp_name(name: &OsStr, prefix: &OsStr) -> bool {
    let (Some(name), Some(prefix)) = (name.to_str(), prefix.to_str()) else {
        return false;
    };

    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .is_some_and(|random| {
            random.len() == TEMP_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The folder holding `path`; a bare file name is in the current folder.
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Creates `folder` and missing ancestors, owner-only on Unix.
fn create_private_folder(folder: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);

    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);

    builder.create(folder)
}

#[cfg(unix)]
fn restrict_to_owner(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    file.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_: &File) -> io::Result<()> {
    // The file inherits the folder's ACL: %LOCALAPPDATA% is the user's own.
    Ok(())
}

/// The permission bits of the regular file at `path` when other users may
/// read or write it.
#[cfg(unix)]
fn open_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;

    let metadata = fs::symlink_metadata(path).ok()?;
    let mode = metadata.permissions().mode() & 0o777;

    (metadata.is_file() && mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn open_mode(_: &Path) -> Option<u32> {
    None
}

/// Makes the rename durable. Best effort: some file systems refuse to sync
/// a folder, and the data is already on disk.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Err(err) = File::open(folder).and_then(|dir| dir.sync_all()) {
        log::debug!("could not flush the folder {}: {err}", folder.display());
    }

    #[cfg(not(unix))]
    let _ = folder;
}

#[cfg(test)]
thread_local! {
    /// Set by a test to make the next temporary-file write fail on this thread.
    static FAIL_NEXT_WRITE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes the next [`replace`] on this thread fail at its write step.
#[cfg(test)]
pub(crate) fn fail_next_write() {
    FAIL_NEXT_WRITE.with(|fail| fail.set(true));
}

/// Where tests inject a failed write; nothing in normal builds.
fn fault_point() -> io::Result<()> {
    #[cfg(test)]
    if FAIL_NEXT_WRITE.with(|fail| fail.replace(false)) {
        return Err(io::Error::other("injected write failure"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::mpsc;

    #[test]
    fn a_replacement_changes_the_stamp_even_with_the_same_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");

        let first = replace(&path, b"one").unwrap().stamp;
        let second = replace(&path, b"two").unwrap().stamp;

        assert_ne!(first, second);
        assert_eq!(FileStamp::of_path(&path).unwrap(), Some(second));
        assert_eq!(FileStamp::of_path(&dir.path().join("none")).unwrap(), None);
    }

    #[test]
    fn read_returns_the_stamp_of_what_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let written = replace(&path, b"content").unwrap().stamp;

        let (bytes, stamp) = read(&path).unwrap().unwrap();

        assert_eq!(bytes, b"content");
        assert_eq!(stamp, written);
        assert!(read(&dir.path().join("none")).unwrap().is_none());
    }

    #[test]
    fn a_second_lock_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let first = SaveLock::acquire(&path).unwrap();
        let (sender, receiver) = mpsc::channel();

        let waiter = thread::spawn(move || {
            let second = SaveLock::acquire(&path).unwrap();
            sender.send(()).unwrap();
            drop(second);
        });

        assert!(receiver.recv_timeout(Duration::from_millis(100)).is_err());
        drop(first);
        receiver.recv_timeout(Duration::from_secs(5)).unwrap();
        waiter.join().unwrap();
        assert!(
            dir.path().join("f.json.lock").exists(),
            "the lock file stays"
        );
    }

    #[test]
    fn a_lock_held_too_long_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let _held = SaveLock::acquire(&path).unwrap();

        let error = SaveLock::acquire_within(&path, Duration::from_millis(30)).unwrap_err();

        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(error.to_string().contains("f.json.lock"), "{error}");
    }

    #[test]
    fn only_this_files_temporary_files_count_as_stale() {
        let prefix = temp_prefix(Path::new("/x/posh-ibwapi.json"));

        let stale = |name: &str| is_temp_name(OsStr::new(name), &prefix);

        assert!(stale(".posh-ibwapi.json.a1B2c3.tmp"));
        assert!(!stale(".posh-ibwapi.json.x.a1B2c3.tmp"));
        assert!(!stale(".posh-ibwapi.vault.a1B2c3.tmp"));
        assert!(!stale(".posh-ibwapi.json.a1B2c.tmp"));
        assert!(!stale("posh-ibwapi.json"));
    }

    #[test]
    fn stale_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let stale = dir.path().join(".f.json.abc123.tmp");
        let other = dir.path().join(".g.json.abc123.tmp");
        fs::write(&stale, "x").unwrap();
        fs::write(&other, "x").unwrap();

        remove_stale_temp_files(&path);

        assert!(!stale.exists());
        assert!(other.exists());
    }

    #[cfg(unix)]
    #[test]
    fn an_open_mode_is_reported_and_tightened() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

        let first = replace(&path, b"new").unwrap();
        let second = replace(&path, b"newer").unwrap();

        assert_eq!(first.tightened_from, Some(0o644));
        assert_eq!(second.tightened_from, None);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
