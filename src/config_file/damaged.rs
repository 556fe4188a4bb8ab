//! A config file that could not be loaded, and how it is kept.
//!
//! Such a file is never overwritten or deleted. It stays where it is until
//! the next save (or remove-all), which first renames it to
//! `<path>.corrupt-<UTC yyyyMMddTHHmmssZ>`. If it changed since it was
//! loaded, someone is working on it: the save is refused instead.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;

/// A damaged config file waiting to be moved aside.
#[derive(Debug)]
pub struct DamagedFile {
    backup: PathBuf,
    fingerprint: Option<Fingerprint>,
}

/// What tells one version of a file from another without reading it.
#[derive(Debug, PartialEq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    identity: Option<(u64, u64)>,
}

/// What [`DamagedFile::move_aside`] did.
#[derive(Debug, PartialEq)]
pub enum MoveOutcome {
    /// The file was renamed to this path.
    Moved(PathBuf),
    /// The file no longer exists: there is nothing to keep.
    Gone,
}

impl DamagedFile {
    /// Records the file at `path` as damaged, as it is now.
    pub fn new(path: &Path, now: SystemTime) -> DamagedFile {
        DamagedFile {
            backup: backup_path(path, now),
            fingerprint: fingerprint(path),
        }
    }

    /// Where the file will be moved.
    pub fn backup(&self) -> &Path {
        &self.backup
    }

    /// Renames the file at `path` to the backup name (with `-2`, `-3`, …
    /// appended if that name is taken).
    ///
    /// # Errors
    ///
    /// [`Error::FileIo`] when the rename fails, or when the file changed
    /// since it was found damaged (then nothing is moved or saved).
    pub fn move_aside(&self, path: &Path) -> Result<MoveOutcome, Error> {
        let Some(now) = fingerprint(path) else {
            return Ok(MoveOutcome::Gone);
        };

        if self.fingerprint.as_ref() != Some(&now) {
            return Err(Error::file_io("save over", path, changed_since_load()));
        }

        let backup = free_name(&self.backup);
        fs::rename(path, &backup).map_err(|err| Error::file_io("move aside", path, err))?;
        keep_private(&backup);
        Ok(MoveOutcome::Moved(backup))
    }
}

/// The damaged file may hold passwords (4.x left it world-readable), so the
/// kept copy is made owner-only like every file this crate writes. Failing
/// to do so is not worth failing the save: the copy is logged instead.
fn keep_private(backup: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;

        if let Err(err) = fs::set_permissions(backup, fs::Permissions::from_mode(0o600)) {
            log::warn!(
                "could not make {} readable by its owner only: {err}",
                backup.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = backup;
}

fn changed_since_load() -> io::Error {
    io::Error::other(
        "the file could not be loaded and has changed since; nothing was saved, so that \
         no change is lost. Import the module again to load it",
    )
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let metadata = fs::symlink_metadata(path).ok()?;

    Some(Fingerprint {
        len: metadata.len(),
        modified: metadata.modified().ok(),
        identity: identity(&metadata),
    })
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

fn free_name(wanted: &Path) -> PathBuf {
    let mut candidate = wanted.to_path_buf();

    for number in 2.. {
        if fs::symlink_metadata(&candidate).is_err() {
            break;
        }
        candidate = suffixed(wanted, &format!("-{number}"));
    }
    candidate
}

/// `<path>.corrupt-<UTC yyyyMMddTHHmmssZ>`.
pub fn backup_path(path: &Path, now: SystemTime) -> PathBuf {
    suffixed(path, &format!(".corrupt-{}", utc_stamp(now)))
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

/// `yyyyMMddTHHmmssZ` for `time` in UTC.
pub fn utc_stamp(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_date(days);

    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);

    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamps_are_utc_in_the_agreed_form() {
        let at = |seconds| UNIX_EPOCH + Duration::from_secs(seconds);

        assert_eq!(utc_stamp(at(0)), "19700101T000000Z");
        assert_eq!(utc_stamp(at(951_782_400)), "20000229T000000Z");
        assert_eq!(utc_stamp(at(1_767_225_599)), "20251231T235959Z");
    }

    #[test]
    fn backup_name_appends_to_the_file_name() {
        let path = Path::new("/home/u/.config/posh-ibwapi.json");

        let backup = backup_path(path, UNIX_EPOCH);

        assert_eq!(
            backup,
            Path::new("/home/u/.config/posh-ibwapi.json.corrupt-19700101T000000Z")
        );
    }

    #[test]
    fn a_taken_backup_name_gets_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let wanted = dir.path().join("f.corrupt-x");
        fs::write(&wanted, "old").unwrap();

        assert_eq!(free_name(&wanted), dir.path().join("f.corrupt-x-2"));
    }
}
