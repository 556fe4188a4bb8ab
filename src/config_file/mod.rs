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
//!   folder, flushed to disk, then renamed over the old one. On Unix the
//!   file is readable by its owner only (0600) and a folder created for it
//!   is 0700. When no profile is left, the file is deleted.

pub mod damaged;
pub mod document;
pub mod json_writer;
pub mod password;

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use zeroize::Zeroizing;

use self::damaged::{DamagedFile, MoveOutcome};
use crate::error::Error;
use crate::profiles::ProfileSet;
use crate::store::{Backend, StoreKind};

/// The config file backend.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    damaged: Option<DamagedFile>,
}

impl ConfigFile {
    /// Loads the file at `path`. Problems are logged as warnings, never
    /// returned: the module must import even with a damaged file.
    pub fn open(path: PathBuf) -> (ConfigFile, ProfileSet) {
        let mut file = ConfigFile {
            path,
            damaged: None,
        };
        let profiles = file.load();

        (file, profiles)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&mut self) -> ProfileSet {
        let path = self.path.display().to_string();

        let bytes = match fs::read(&self.path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(err) if is_missing(&err) => {
                log::info!("config file {path} does not exist; there are no profiles");
                return ProfileSet::new();
            }
            Err(err) => return self.damaged_file("could not read", &err.to_string()),
        };

        log::info!("reading profiles from the config file {path}");
        match document::parse(&bytes) {
            Ok(parsed) => loaded(parsed, &path),
            Err(detail) => self.damaged_file("could not parse", &detail),
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
        Ok(())
    }

    fn write(&self, profiles: &ProfileSet) -> Result<(), Error> {
        let text = document::render(profiles)
            .map_err(|err| Error::file_io("protect the passwords for", &self.path, err))?;

        write_atomically(&self.path, text.as_bytes())?;
        log::info!(
            "wrote {} profile(s) to the config file {}",
            profiles.len(),
            self.path.display()
        );
        Ok(())
    }

    fn delete(&self) -> Result<(), Error> {
        match fs::remove_file(&self.path) {
            Ok(()) => {
                log::info!(
                    "deleted the config file {}: no profile is left",
                    self.path.display()
                );
                Ok(())
            }
            Err(err) if is_missing(&err) => Ok(()),
            Err(err) => Err(Error::file_io("delete", &self.path, err)),
        }
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
        self.move_damaged_aside()?;

        if profiles.is_empty() {
            self.delete()
        } else {
            self.write(profiles)
        }
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

fn is_missing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Replaces `path` with `bytes` so that a crash leaves the old file or the
/// new one, never a mix.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let folder = parent_folder(path);
    create_folder(folder)?;

    let io_error = |err| Error::file_io("write", path, err);
    let mut temp = tempfile::Builder::new()
        .prefix(".posh-ibwapi.")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(io_error)?;

    restrict_to_owner(temp.as_file()).map_err(io_error)?;
    temp.write_all(bytes).map_err(io_error)?;
    temp.as_file().sync_all().map_err(io_error)?;
    temp.persist(path).map_err(|err| io_error(err.error))?;

    sync_folder(folder);
    Ok(())
}

fn parent_folder(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn create_folder(folder: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);

    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);

    builder
        .create(folder)
        .map_err(|err| Error::file_io("create the folder", folder, err))
}

#[cfg(unix)]
fn restrict_to_owner(file: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    file.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_: &fs::File) -> io::Result<()> {
    // The file inherits the folder's ACL: %LOCALAPPDATA% is the user's own.
    Ok(())
}

/// Makes the rename durable. Best effort: the data is already on disk.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Err(err) = fs::File::open(folder).and_then(|dir| dir.sync_all()) {
        log::debug!("could not flush the folder {}: {err}", folder.display());
    }

    #[cfg(not(unix))]
    let _ = folder;
}
