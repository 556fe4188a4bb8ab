//! The config file `posh-ibwapi.json` as a profile store (BEHAVIOR.md A2.3
//! and A3).
//!
//! - No file: no profiles, no warning.
//! - A file that cannot be read or parsed: one warning, no profiles, and the
//!   file is left alone until the next save, which first moves it aside
//!   ([`damaged`]).
//! - A credential that cannot be read (a Windows DPAPI password on Linux,
//!   bad Base64): one warning naming the profile, which loads without a
//!   credential; the stored credential is written back unchanged.
//! - Every save rewrites the whole document: a temporary file in the same
//!   folder, flushed to disk, then renamed over the old one
//!   ([`crate::shared_file`]). On Unix the file is readable by its owner
//!   only (0600), a file that was open to other users (say 0644 from 4.x)
//!   is tightened with an INFO record saying so, and a folder created for
//!   it is 0700. When no profile is left, the file is deleted.
//!
//! # Several processes
//!
//! The handle remembers the stamp (size, modification time, inode) of the
//! file as it last read or wrote it. A change runs under the save lock
//! `posh-ibwapi.json.lock` ([`Backend::begin_change`]): when the stamp
//! differs, the file is read again and the change is applied to what it
//! holds now. A file that changed and no longer parses is not overwritten:
//! the change is refused, as someone is probably writing it.
//! [`Backend::reload_if_changed`] costs one `stat` when nothing changed.

pub mod damaged;
pub mod document;
pub mod json_writer;
pub mod password;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use zeroize::Zeroizing;

use self::damaged::{DamagedFile, MoveOutcome};
use crate::error::Error;
use crate::profiles::ProfileSet;
use crate::shared_file::{self, FileStamp, SaveLock};
use crate::store::{Backend, StoreKind};

/// The config file backend.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    damaged: Option<DamagedFile>,
    /// The file as this handle last read or wrote it; `None`: no file.
    seen: Option<FileStamp>,
    /// Held from [`Backend::begin_change`] to [`Backend::end_change`].
    lock: Option<SaveLock>,
    /// The profiles' texts as last written.
    rendered: document::RenderCache,
}

/// What reading the file gave.
enum Reading {
    Missing,
    Parsed(document::Parsed, FileStamp),
    /// `what` and `now` say why: "could not read" / "cannot be read", or
    /// "could not parse" / "does not parse".
    Damaged {
        what: &'static str,
        now: &'static str,
        detail: String,
    },
}

impl ConfigFile {
    /// Loads the file at `path`. Problems are logged as warnings, never
    /// returned: the module must import even with a damaged file.
    pub fn open(path: PathBuf) -> (ConfigFile, ProfileSet) {
        let mut file = ConfigFile {
            path,
            damaged: None,
            seen: None,
            lock: None,
            rendered: document::RenderCache::default(),
        };
        let profiles = file.load();

        (file, profiles)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Reading {
        let (bytes, stamp) = match shared_file::read(&self.path) {
            Ok(Some((bytes, stamp))) => (Zeroizing::new(bytes), stamp),
            Ok(None) => return Reading::Missing,
            Err(err) => {
                return Reading::Damaged {
                    what: "could not read",
                    now: "cannot be read",
                    detail: err.to_string(),
                }
            }
        };

        match document::parse(&bytes) {
            Ok(parsed) => Reading::Parsed(parsed, stamp),
            Err(detail) => Reading::Damaged {
                what: "could not parse",
                now: "does not parse",
                detail,
            },
        }
    }

    /// Reads the file as an import does: problems are logged, never
    /// returned.
    fn load(&mut self) -> ProfileSet {
        let path = self.path.display().to_string();
        self.damaged = None;

        match self.read() {
            Reading::Missing => {
                self.seen = None;
                log::info!("config file {path} does not exist; there are no profiles");
                ProfileSet::new()
            }
            Reading::Parsed(parsed, stamp) => {
                self.seen = Some(stamp);
                log::info!("reading profiles from the config file {path}");
                loaded(parsed, &path)
            }
            Reading::Damaged { what, detail, .. } => {
                self.seen = FileStamp::of_path(&self.path).ok().flatten();
                self.damaged_file(what, &detail)
            }
        }
    }

    fn damaged_file(&mut self, what: &str, detail: &str) -> ProfileSet {
        let damaged = DamagedFile::new(&self.path, SystemTime::now());

        log::warn!(
            "{what} config file {path}: {detail}; no profiles were loaded. The file is left \
             as it is and will be moved aside to {backup} before the next save.",
            path = self.path.display(),
            backup = damaged.backup().display(),
        );
        self.damaged = Some(damaged);
        ProfileSet::new()
    }

    /// Whether the file differs from what this handle last read or wrote.
    fn changed(&self) -> Result<bool, Error> {
        let now = FileStamp::of_path(&self.path)
            .map_err(|err| Error::file_io("examine", &self.path, err))?;

        Ok(now != self.seen)
    }

    /// Under the save lock: the profiles the file holds now, when another
    /// process changed it. A file that changed and does not parse is not
    /// overwritten.
    fn reload_for_change(&mut self) -> Result<Option<ProfileSet>, Error> {
        if !self.changed()? {
            return Ok(None);
        }

        let path = self.path.display().to_string();
        log::info!(
            "the config file {path} changed since this session read it; reading it again \
             before saving"
        );
        match self.read() {
            Reading::Missing => {
                self.seen = None;
                self.damaged = None;
                log::info!("config file {path} no longer exists; there are no profiles");
                Ok(Some(ProfileSet::new()))
            }
            Reading::Parsed(parsed, stamp) => {
                self.seen = Some(stamp);
                self.damaged = None;
                Ok(Some(loaded(parsed, &path)))
            }
            Reading::Damaged { now, detail, .. } => Err(Error::file_io(
                "save over",
                &self.path,
                io::Error::other(format!(
                    "the file changed since it was read and now {now} ({detail}); nothing \
                     was saved, so that no change is lost. Try again when the other program \
                     has finished writing, or repair the file"
                )),
            )),
        }
    }

    fn move_damaged_aside(&mut self) -> Result<(), Error> {
        let Some(damaged) = &self.damaged else {
            return Ok(());
        };

        if let MoveOutcome::Moved(backup) = damaged.move_aside(&self.path)? {
            log::warn!(
                "moved the damaged config file {} aside to {}",
                self.path.display(),
                backup.display()
            );
        }
        self.damaged = None;
        self.seen = None;
        Ok(())
    }

    fn write(&mut self, profiles: &ProfileSet) -> Result<(), Error> {
        let text = document::render_with(profiles, &mut self.rendered)
            .map_err(|err| Error::file_io("protect the passwords for", &self.path, err))?;

        let replaced =
            shared_file::replace(&self.path, text.as_bytes()).map_err(|err| match err.action {
                "create the folder of" => {
                    let folder = shared_file::folder_of(&self.path);
                    Error::file_io("create the folder", folder, err.source)
                }
                _ => Error::file_io("write", &self.path, err.source),
            })?;
        self.seen = Some(replaced.stamp);

        if let Some(mode) = replaced.tightened_from {
            log::info!(
                "the config file {} had mode {mode:04o}, so other users could read or change \
                 it; it now has mode 0600 (only its owner can read and write it)",
                self.path.display()
            );
        }
        log::info!(
            "wrote {} profile(s) to the config file {}",
            profiles.len(),
            self.path.display()
        );
        Ok(())
    }

    fn delete(&mut self) -> Result<(), Error> {
        match fs::remove_file(&self.path) {
            Ok(()) => {
                log::info!(
                    "deleted the config file {}: no profile is left",
                    self.path.display()
                );
            }
            Err(err) if shared_file::is_missing(&err) => {}
            Err(err) => return Err(Error::file_io("delete", &self.path, err)),
        }
        self.seen = None;
        Ok(())
    }

    fn lock(&self) -> Result<SaveLock, Error> {
        SaveLock::acquire(&self.path)
            .map_err(|err| Error::file_io("lock", shared_file::lock_path(&self.path), err))
    }
}

impl Backend for ConfigFile {
    fn kind(&self) -> StoreKind {
        StoreKind::File
    }

    fn describe(&self) -> String {
        format!("the config file {}", self.path.display())
    }

    fn save(&mut self, profiles: &ProfileSet) -> Result<(), Error> {
        // Normally held since begin_change; taken here for a lone save.
        let _lock = match self.lock {
            Some(_) => None,
            None => Some(self.lock()?),
        };
        shared_file::remove_stale_temp_files(&self.path);
        self.move_damaged_aside()?;

        if profiles.is_empty() {
            self.delete()
        } else {
            self.write(profiles)
        }
    }

    fn reload(&mut self) -> Result<ProfileSet, Error> {
        Ok(self.load())
    }

    fn reload_if_changed(&mut self) -> Result<Option<ProfileSet>, Error> {
        if !self.changed()? {
            return Ok(None);
        }

        log::info!(
            "the config file {} changed since this session read it; reading it again",
            self.path.display()
        );
        Ok(Some(self.load()))
    }

    fn begin_change(&mut self) -> Result<Option<ProfileSet>, Error> {
        let lock = self.lock()?;

        let fresh = self.reload_for_change()?;
        self.lock = Some(lock);
        Ok(fresh)
    }

    fn end_change(&mut self) {
        self.lock = None;
    }
}

fn loaded(parsed: document::Parsed, path: &str) -> ProfileSet {
    for warning in &parsed.warnings {
        log::warn!("{warning}");
    }

    let profiles = parsed.profiles;
    log::info!(
        "loaded {} profile(s) from {path}; current profile: {}",
        profiles.len(),
        profiles
            .current_name()
            .map_or("none".to_owned(), |name| format!("'{name}'"))
    );
    profiles
}
