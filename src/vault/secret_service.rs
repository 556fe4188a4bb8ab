//! The Linux Secret Service as a vault: `[keyring]secret-service` and
//! `[keyring]secret-service:<collection>`.
//!
//! [`SecretServiceVault`] keeps each secret as one item of a Secret Service
//! collection (gnome-keyring, KeePassXC, KWallet's bridge), reached over the
//! D-Bus session bus with the pure-Rust `secret-service` and `zbus` crates.
//! Values travel over the bus encrypted (a Diffie-Hellman session).
//!
//! # Items
//!
//! An item carries the attributes `application = posh-ibwapi` and
//! `name = <secret name>`, its label is the secret name, its content type
//! `text/plain` and its value the UTF-8 text. Listing searches the chosen
//! collection for `application = posh-ibwapi`, so the items of other
//! programs, and ours in other collections, are never seen or touched. A
//! write replaces the item with the same attributes (and removes any
//! duplicate another program made); reading takes the first match.
//!
//! # Collections
//!
//! Without a name the vault uses the collection behind the `default` alias
//! (gnome-keyring's "login"). A name picks the collection whose label is
//! exactly that name, else the one with that alias, else the one whose
//! object path ends in it (so `login` finds gnome-keyring's "Login").
//!
//! A missing collection is created when the service allows it without a
//! prompt. gnome-keyring always prompts for the new collection's password;
//! a prompt cannot be answered headless, so it is dismissed and, when a
//! password was given, the collection is created with that password through
//! gnome-keyring's `InternalUnsupportedGuiltRiddenInterface`
//! (`CreateWithMasterPassword`, the call its own tools use). Without a
//! password the open fails and says how to create the collection.
//!
//! # Locked collections, headless
//!
//! A locked collection is first unlocked the standard way, which succeeds
//! only when the service needs no prompt. Otherwise the prompt is dismissed
//! and, when a password was given, gnome-keyring's `UnlockWithMasterPassword`
//! is tried; that works headless and with no display. Other services
//! (KeePassXC, KWallet) have no such call: their collection must be unlocked
//! beforehand. Without a password the open fails with a message telling the
//! user to unlock first; for gnome-keyring's login collection that is
//! `gnome-keyring-daemon --unlock` with the password on standard input. A
//! collection locked after the open makes each operation fail the same way.
//!
//! # Seeing other processes' changes
//!
//! [`SecretVault::changed`] makes one `SearchItems` call and compares the
//! object paths of our items with those this handle last listed or wrote:
//! an added or removed profile in another process is seen at the cost of
//! one D-Bus round trip, whatever the number of profiles. This handle's own
//! writes and removals update that set of paths item by item, so they do
//! not look like a change, and a change another process made just before
//! them still does. A value another process rewrote in place keeps its
//! item path and is not seen until the set of items changes, this handle
//! saves, or the module is imported again. (Reading every item's `Modified`
//! time would see it, but costs one round trip per profile before every
//! command: over a second at 1,000.)
//!
//! # Names and values of many items
//!
//! The Secret Service has no call that returns many items' attributes, so
//! the secret name of each item is looked up once and kept by object path;
//! a listing looks up only the paths it has not seen. gnome-keyring numbers
//! a collection's items with a counter that never goes back while the
//! collection exists, so a path names the same item as long as a search
//! still finds it. A path that a search no longer finds is forgotten, so
//! one that comes back is looked up again. A failed search forgets every
//! path and makes the next check report a change: the collection may have
//! been deleted, and one created again under the same name numbers its
//! items from 1 again. What is not seen: a collection deleted and created
//! again between two checks (two commands of a session), or another
//! program changing an item's `name` attribute in place.
//!
//! The values of all the profiles are read with one
//! [`SecretVault::read_secrets`] call, through the object paths the listing
//! found, a few D-Bus calls in flight at a time (`PARALLEL_CALLS`
//! threads). `GetSecrets`, which returns many values in one call, is not
//! used: the `secret-service` crate keeps its encrypted session to itself,
//! and reading the values through an unencrypted session would put them on
//! the bus in clear. An item that cannot be read through its path (removed
//! meanwhile) is searched for by name, as a single read does.
//!
//! # Where this runs
//!
//! Compiled on Linux only. Tested against gnome-keyring 42 in a private
//! session bus (`tests/support/secret-service-session.sh`); KeePassXC and
//! KWallet are not tested. The macOS Keychain and the Windows Credential
//! Manager are other vault kinds, not part of this module.
//!
//! # Secrets in memory
//!
//! Values handed out are [`Secret`]s, wiped on drop. The `secret-service`
//! crate and zbus keep copies of their own (message buffers, the decrypted
//! bytes before they reach us) that this module cannot wipe. No value and
//! no password is ever logged.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use secret_service::blocking::{Collection, Item, SecretService};
use secret_service::EncryptionType;
use zbus::blocking::Connection;
use zbus::zvariant::{DynamicDeserialize, DynamicType, ObjectPath, OwnedObjectPath};
use zbus::zvariant::{OwnedValue, Value};
use zbus::DBusError;
use zeroize::Zeroize;

use crate::error::Error;
use crate::profile::Secret;
use crate::vault::SecretVault;

/// The value of the `application` attribute that marks this module's items.
pub const APPLICATION: &str = "posh-ibwapi";

/// The attribute that marks this module's items.
pub const APPLICATION_ATTRIBUTE: &str = "application";

/// The attribute that holds the secret name.
pub const NAME_ATTRIBUTE: &str = "name";

const VAULT_PREFIX: &str = "[keyring]secret-service";
const CONTENT_TYPE: &str = "text/plain";
const DEFAULT_ALIAS: &str = "default";
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

const BUS_NAME: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const SESSION: &str = "org.freedesktop.Secret.Session";
const PROMPT: &str = "org.freedesktop.Secret.Prompt";
const GNOME: &str = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";
const LABEL_PROPERTY: &str = "org.freedesktop.Secret.Collection.Label";

/// The D-Bus error for a method an object lacks; gnome-keyring also gives
/// it for an item that was removed.
const UNKNOWN_METHOD: &str = "org.freedesktop.DBus.Error.UnknownMethod";

/// The D-Bus error for an interface an object lacks.
const UNKNOWN_INTERFACE: &str = "org.freedesktop.DBus.Error.UnknownInterface";

/// The D-Bus error for an object that does not exist.
const UNKNOWN_OBJECT: &str = "org.freedesktop.DBus.Error.UnknownObject";

/// The Secret Service's error for an item or collection that does not exist.
const NO_SUCH_OBJECT: &str = "org.freedesktop.Secret.Error.NoSuchObject";

/// The most D-Bus calls in flight at once when many items are looked up or
/// read: the service answers one call while the bus carries the others.
/// Measured with gnome-keyring on 2 cores: 8 threads read 300 items twice
/// as fast as one, 16 barely faster than 8; at 1,000 items gnome-keyring
/// itself is the limit (about 0.5 ms per item call) and 8 threads gain 15
/// to 30 percent.
const PARALLEL_CALLS: usize = 8;

/// Fewer items than this are handled on the calling thread: starting
/// threads would cost more than it saves.
const PARALLEL_MIN_ITEMS: usize = 16;

/// A collection of the Linux Secret Service, holding one item per secret.
pub struct SecretServiceVault {
    name: String,
    label: String,
    conn: Connection,
    service: SecretService<'static>,
    collection: OwnedObjectPath,
    /// The object paths of our items, as last listed or written; `None`
    /// before the first listing.
    seen: Option<HashSet<OwnedObjectPath>>,
    /// The secret name of each item looked up, by object path; `None` for
    /// an item without a `name` attribute (see the module documentation).
    names: HashMap<OwnedObjectPath, Option<String>>,
}

impl SecretServiceVault {
    /// Connects to the Secret Service of the session bus and opens
    /// `collection` (the `default` alias when `None`), creating it when
    /// missing and unlocking it with `password` when locked (see the
    /// module documentation for what works without a prompt).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty collection name;
    /// [`Error::VaultUnavailable`] when there is no session bus or Secret
    /// Service, no default collection, or a missing collection cannot be
    /// created; [`Error::VaultLocked`] when the collection stays locked.
    pub fn open(collection: Option<&str>, password: Option<&Secret>) -> Result<Self, Error> {
        let name = vault_name(collection)?;
        log::debug!("vault {name}: open");

        let conn = connect(&name)?;
        let service = SecretService::connect_with_existing(EncryptionType::Dh, conn.clone())
            .map_err(|e| {
                unavailable(&name, format!("no Secret Service on the session bus: {e}"))
            })?;
        let path = resolve(&conn, &service, &name, collection, password)?;
        let label = collection_label(&service, &path, collection);

        let vault = SecretServiceVault {
            name,
            label,
            conn,
            service,
            collection: path,
            seen: None,
            names: HashMap::new(),
        };
        vault.ensure_unlocked(password)?;
        Ok(vault)
    }

    fn collection(&self) -> Result<Collection<'_>, Error> {
        let collection = self.service.get_collection_by_path(self.collection.clone());
        let collection = collection.map_err(|e| self.failure("open the collection", e))?;

        match collection.is_locked() {
            Ok(false) => Ok(collection),
            Ok(true) => Err(self.locked(format!(
                "the collection '{}' was locked after the vault was opened",
                self.label
            ))),
            Err(e) => Err(self.failure("open the collection", e)),
        }
    }

    fn ensure_unlocked(&self, password: Option<&Secret>) -> Result<(), Error> {
        let collection = self.service.get_collection_by_path(self.collection.clone());
        let locked = collection.and_then(|c| c.is_locked());
        if !locked.map_err(|e| self.failure("open the collection", e))? {
            return Ok(());
        }

        log::debug!(
            "vault {}: unlock the collection '{}'",
            self.name,
            self.label
        );
        if self.unlock_without_prompt()? {
            return Ok(());
        }
        match password {
            Some(password) => self.unlock_with_password(password),
            None => Err(self.locked(format!(
                "the collection '{}' can only be unlocked through a prompt, which cannot be \
                 shown here; unlock it first (gnome-keyring's login collection: \
                 `gnome-keyring-daemon --unlock` reads the password on standard input)",
                self.label
            ))),
        }
    }

    /// The standard Unlock call; true when it needed no prompt.
    fn unlock_without_prompt(&self) -> Result<bool, Error> {
        let objects = vec![self.collection.as_ref()];
        let reply: zbus::Result<(Vec<OwnedObjectPath>, OwnedObjectPath)> =
            call(&self.conn, SERVICE_PATH, SERVICE, "Unlock", &(objects,));
        let (unlocked, prompt) = reply.map_err(|e| self.failure("unlock the collection", e))?;

        if unlocked.contains(&self.collection) {
            return Ok(true);
        }
        dismiss(&self.conn, &prompt);
        Ok(false)
    }

    fn unlock_with_password(&self, password: &Secret) -> Result<(), Error> {
        let target = self.collection.as_ref();
        let reply = with_plain_session(&self.conn, |session| {
            let body = (target, secret_struct(session, password));
            call::<_, ()>(
                &self.conn,
                SERVICE_PATH,
                GNOME,
                "UnlockWithMasterPassword",
                &body,
            )
        });

        reply.map_err(|e| {
            let detail = if is_unknown_method(&e) {
                "this Secret Service takes no password (only gnome-keyring does); unlock the \
                 collection first"
                    .to_owned()
            } else {
                format!("IBWAPI_VAULT_PASS was not accepted: {}", short(&e))
            };
            self.locked(format!("collection '{}': {detail}", self.label))
        })
    }

    fn our_items<'c>(
        &self,
        collection: &'c Collection<'_>,
        name: Option<&str>,
    ) -> Result<Vec<Item<'c>>, secret_service::Error> {
        collection.search_items(attributes(name))
    }

    /// Reads our item called `name`, found by a search.
    fn read_item(&self, name: &str) -> Result<Option<Secret>, Error> {
        let action = format!("read the secret '{name}'");
        let collection = self.collection()?;
        let items = self.our_items(&collection, Some(name));
        let items = items.map_err(|e| self.failure(&action, e))?;

        let Some(item) = items.first() else {
            return Ok(None);
        };
        let bytes = item.get_secret().map_err(|e| self.failure(&action, e))?;
        secret_from_bytes(bytes)
            .map(Some)
            .map_err(|detail| self.access(&action, detail))
    }

    /// Writes the item; returns its path and the paths of the duplicates
    /// it removed.
    fn write_item(&self, name: &str, value: &Secret) -> Result<ItemsWritten, Error> {
        let action = format!("write the secret '{name}'");
        let collection = self.collection()?;
        let bytes = value.expose().as_bytes();

        let item = collection.create_item(name, attributes(Some(name)), bytes, true, CONTENT_TYPE);
        let item = item.map_err(|e| self.failure(&action, e))?;
        let others = self.our_items(&collection, Some(name));
        let others = others.map_err(|e| self.failure(&action, e))?;

        let mut removed = Vec::new();
        for other in others
            .iter()
            .filter(|other| other.item_path != item.item_path)
        {
            other.delete().map_err(|e| self.failure(&action, e))?;
            removed.push(other.item_path.clone());
        }
        Ok((item.item_path.clone(), removed))
    }

    /// Removes our items called `name`; returns their paths.
    fn remove_items(&self, name: &str) -> Result<Vec<OwnedObjectPath>, Error> {
        let action = format!("remove the secret '{name}'");
        let collection = self.collection()?;
        let items = self.our_items(&collection, Some(name));
        let items = items.map_err(|e| self.failure(&action, e))?;

        let mut removed = Vec::new();
        for item in &items {
            item.delete().map_err(|e| self.failure(&action, e))?;
            removed.push(item.item_path.clone());
        }
        Ok(removed)
    }

    /// The object paths of our items: one `SearchItems` call. A failure
    /// forgets what this handle knows of the items, as the collection may
    /// be gone: the next check then reports a change, and the next listing
    /// looks up every item.
    fn item_paths(&mut self) -> Result<Vec<OwnedObjectPath>, Error> {
        let path = self.collection.as_str();
        let found = call(
            &self.conn,
            path,
            COLLECTION,
            "SearchItems",
            &(attributes(None),),
        );
        match found {
            Ok(paths) => Ok(paths),
            Err(e) => {
                self.seen = None;
                self.names.clear();
                Err(self.failure("list the secrets", e))
            }
        }
    }

    /// Forgets the names of the items a search (`found`) no longer finds.
    fn forget_missing(&mut self, found: &[OwnedObjectPath]) {
        let found: HashSet<&OwnedObjectPath> = found.iter().collect();
        self.names.retain(|path, _| found.contains(path));
    }

    /// Looks up the names of the items in `paths` not looked up yet, a few
    /// calls at a time; returns `paths` without the items that are gone.
    fn look_up_names(
        &mut self,
        paths: Vec<OwnedObjectPath>,
    ) -> Result<Vec<OwnedObjectPath>, Error> {
        let new: Vec<&OwnedObjectPath> = paths
            .iter()
            .filter(|path| !self.names.contains_key(*path))
            .collect();
        let found = in_parallel(&new, |path| self.name_at(path));

        let mut gone = HashSet::new();
        for (path, name) in new.into_iter().zip(found) {
            match name {
                Ok(name) => {
                    self.names.insert(path.clone(), name);
                }
                Err(e) if is_gone(&e) => {
                    gone.insert(path.clone());
                }
                Err(e) => return Err(self.failure("list the secrets", e)),
            }
        }
        Ok(paths.into_iter().filter(|p| !gone.contains(p)).collect())
    }

    /// The `name` attribute of the item at `path`: one D-Bus call.
    fn name_at(&self, path: &OwnedObjectPath) -> Result<Option<String>, secret_service::Error> {
        let item = self.service.get_item_by_path(path.clone())?;
        Ok(item.get_attributes()?.remove(NAME_ATTRIBUTE))
    }

    /// The value of the item at `path`: one D-Bus call. `None` when it
    /// cannot be read that way, for whatever reason: the caller then
    /// searches by name, which tells a missing item from a failure.
    fn secret_at(&self, path: &OwnedObjectPath) -> Option<Secret> {
        let item = self.service.get_item_by_path(path.clone()).ok()?;
        let bytes = item.get_secret().ok()?;
        secret_from_bytes(bytes).ok()
    }

    /// The paths of our items by secret name, as looked up; of duplicates,
    /// the first path in sort order.
    fn paths_by_name(&self) -> HashMap<&str, &OwnedObjectPath> {
        let mut index: HashMap<&str, &OwnedObjectPath> = HashMap::new();
        for (path, name) in &self.names {
            let Some(name) = name else {
                continue;
            };
            let first = index.entry(name.as_str()).or_insert(path);
            if path.as_str() < first.as_str() {
                *first = path;
            }
        }
        index
    }

    /// Records that our item at `path` is called `name`.
    fn remember_item(&mut self, path: OwnedObjectPath, name: &str) {
        if let Some(seen) = &mut self.seen {
            seen.insert(path.clone());
        }
        self.names.insert(path, Some(name.to_owned()));
    }

    /// Records that the items at `paths` are gone.
    fn forget_items(&mut self, paths: &[OwnedObjectPath]) {
        for path in paths {
            if let Some(seen) = &mut self.seen {
                seen.remove(path);
            }
            self.names.remove(path);
        }
    }

    fn failure(&self, action: &str, error: impl Into<ServiceError>) -> Error {
        match error.into() {
            ServiceError::Service(secret_service::Error::Locked) => {
                self.locked(format!("the collection '{}' is locked", self.label))
            }
            ServiceError::Service(e) => self.access(action, e.to_string()),
            ServiceError::Bus(e) => self.access(action, short(&e)),
        }
    }

    fn access(&self, action: &str, detail: String) -> Error {
        Error::VaultAccess {
            vault: self.name.clone(),
            action: action.to_owned(),
            detail,
        }
    }

    fn locked(&self, detail: String) -> Error {
        Error::VaultLocked {
            vault: self.name.clone(),
            detail,
        }
    }
}

impl SecretVault for SecretServiceVault {
    fn vault_name(&self) -> &str {
        &self.name
    }

    fn list_secrets(&mut self) -> Result<Vec<String>, Error> {
        log::debug!("vault {}: list", self.name);
        self.collection()?;
        let paths = self.item_paths()?;
        self.forget_missing(&paths);
        let paths = self.look_up_names(paths)?;

        let names: BTreeSet<String> = paths
            .iter()
            .filter_map(|path| self.names.get(path).cloned().flatten())
            .collect();
        self.seen = Some(paths.into_iter().collect());
        Ok(names.into_iter().collect())
    }

    fn changed(&mut self) -> Result<Option<bool>, Error> {
        log::debug!("vault {}: check for changes", self.name);
        let now = self.item_paths()?;
        self.forget_missing(&now);

        let same = self.seen.as_ref().is_some_and(|seen| {
            seen.len() == now.len() && now.iter().all(|path| seen.contains(path))
        });
        Ok(Some(!same))
    }

    fn read_secret(&mut self, name: &str) -> Result<Option<Secret>, Error> {
        log::debug!("vault {}: read '{name}'", self.name);
        let path = self.paths_by_name().get(name).map(|path| (*path).clone());

        if let Some(path) = path {
            self.collection()?;
            if let Some(secret) = self.secret_at(&path) {
                return Ok(Some(secret));
            }
        }
        self.read_item(name)
    }

    fn read_secrets(&mut self, names: &[String]) -> Vec<Result<Option<Secret>, Error>> {
        log::debug!("vault {}: read {} secret(s)", self.name, names.len());
        if self.collection().is_err() {
            // Locked or gone: each read says so, as when read one by one.
            return names.iter().map(|name| self.read_item(name)).collect();
        }

        let index = self.paths_by_name();
        let paths: Vec<Option<&OwnedObjectPath>> = names
            .iter()
            .map(|name| index.get(name.as_str()).copied())
            .collect();
        let values = in_parallel(&paths, |path| path.and_then(|p| self.secret_at(p)));

        names
            .iter()
            .zip(values)
            .map(|(name, value)| match value {
                Some(secret) => Ok(Some(secret)),
                None => self.read_item(name),
            })
            .collect()
    }

    fn write_secret(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        log::debug!("vault {}: write '{name}'", self.name);
        let (path, removed) = self.write_item(name, value)?;

        // Our own write must not look like another process's change, and
        // must not hide one made meanwhile: only its own items are noted.
        self.forget_items(&removed);
        self.remember_item(path, name);
        Ok(())
    }

    fn remove_secret(&mut self, name: &str) -> Result<(), Error> {
        log::debug!("vault {}: remove '{name}'", self.name);
        let removed = self.remove_items(name)?;

        self.forget_items(&removed);
        Ok(())
    }
}

impl fmt::Debug for SecretServiceVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretServiceVault")
            .field("name", &self.name)
            .field("collection", &self.collection.as_str())
            .finish_non_exhaustive()
    }
}

/// What a write did: the path of the item written, and those of the
/// duplicates it removed.
type ItemsWritten = (OwnedObjectPath, Vec<OwnedObjectPath>);

/// A failure of the `secret-service` crate or of a raw D-Bus call.
enum ServiceError {
    Service(secret_service::Error),
    Bus(zbus::Error),
}

impl From<secret_service::Error> for ServiceError {
    fn from(error: secret_service::Error) -> Self {
        ServiceError::Service(error)
    }
}

impl From<zbus::Error> for ServiceError {
    fn from(error: zbus::Error) -> Self {
        ServiceError::Bus(error)
    }
}

fn vault_name(collection: Option<&str>) -> Result<String, Error> {
    match collection {
        None => Ok(VAULT_PREFIX.to_owned()),
        Some(c) if c.trim().is_empty() => Err(Error::invalid_argument(
            "IBWAPI_VAULT_NAME",
            "the Secret Service collection name after ':' is empty",
        )),
        Some(c) => Ok(format!("{VAULT_PREFIX}:{c}")),
    }
}

fn connect(vault: &str) -> Result<Connection, Error> {
    let builder = zbus::blocking::connection::Builder::session();
    let conn = builder.and_then(|b| b.method_timeout(CALL_TIMEOUT).build());

    conn.map_err(|e| {
        unavailable(
            vault,
            format!(
                "no D-Bus session bus ({}); is DBUS_SESSION_BUS_ADDRESS set?",
                short(&e)
            ),
        )
    })
}

/// The object path of the collection to use, created when missing.
fn resolve(
    conn: &Connection,
    service: &SecretService<'_>,
    vault: &str,
    collection: Option<&str>,
    password: Option<&Secret>,
) -> Result<OwnedObjectPath, Error> {
    let Some(label) = collection else {
        let default = service.get_collection_by_alias(DEFAULT_ALIAS);
        return default.map(|c| c.collection_path.clone()).map_err(|e| {
            let cause = match e {
                secret_service::Error::NoResult => String::new(),
                other => format!(" ({other})"),
            };
            let reason = format!(
                "the Secret Service has no default collection{cause}; name one with \
                 IBWAPI_VAULT_NAME=[keyring]secret-service:<collection>"
            );
            unavailable(vault, reason)
        });
    };

    let found = find_collection(service, label);
    match found.map_err(|e| unavailable(vault, format!("cannot list the collections: {e}")))? {
        Some(path) => Ok(path),
        None => create_collection(conn, vault, label, password),
    }
}

fn find_collection(
    service: &SecretService<'_>,
    name: &str,
) -> Result<Option<OwnedObjectPath>, secret_service::Error> {
    let collections = service.get_all_collections()?;
    for collection in &collections {
        if collection.get_label()? == name {
            return Ok(Some(collection.collection_path.clone()));
        }
    }

    if let Ok(collection) = service.get_collection_by_alias(name) {
        return Ok(Some(collection.collection_path.clone()));
    }
    let by_path = collections
        .iter()
        .find(|c| c.collection_path.as_str().rsplit('/').next() == Some(name));
    Ok(by_path.map(|c| c.collection_path.clone()))
}

fn create_collection(
    conn: &Connection,
    vault: &str,
    label: &str,
    password: Option<&Secret>,
) -> Result<OwnedObjectPath, Error> {
    log::debug!("vault {vault}: create collection '{label}'");
    let properties = HashMap::from([(LABEL_PROPERTY, Value::from(label))]);
    let reply: zbus::Result<(OwnedObjectPath, OwnedObjectPath)> = call(
        conn,
        SERVICE_PATH,
        SERVICE,
        "CreateCollection",
        &(&properties, ""),
    );
    let (path, prompt) = reply.map_err(|e| cannot_create(vault, label, &short(&e)))?;

    if path.as_str() != "/" {
        return Ok(path);
    }
    dismiss(conn, &prompt);
    let Some(password) = password else {
        let reason = "the Secret Service wants a password prompt, which cannot be shown here; \
                      create it first (for example with Seahorse), or set IBWAPI_VAULT_PASS \
                      to have it created with that password (gnome-keyring only)";
        return Err(cannot_create(vault, label, reason));
    };

    let reply = with_plain_session(conn, |session| {
        let body = (&properties, secret_struct(session, password));
        call::<_, OwnedObjectPath>(conn, SERVICE_PATH, GNOME, "CreateWithMasterPassword", &body)
    });
    reply.map_err(|e| cannot_create(vault, label, &short(&e)))
}

fn cannot_create(vault: &str, label: &str, reason: &str) -> Error {
    unavailable(
        vault,
        format!("the collection '{label}' does not exist and cannot be created: {reason}"),
    )
}

fn unavailable(vault: &str, reason: String) -> Error {
    Error::VaultUnavailable {
        vault: vault.to_owned(),
        reason,
    }
}

/// Calls `method` of the Secret Service and decodes the reply.
fn call<B, R>(
    conn: &Connection,
    path: &str,
    iface: &str,
    method: &str,
    body: &B,
) -> zbus::Result<R>
where
    B: serde::Serialize + DynamicType,
    R: for<'d> DynamicDeserialize<'d>,
{
    let reply = conn.call_method(Some(BUS_NAME), path, Some(iface), method, body)?;
    reply.body().deserialize()
}

/// Withdraws a prompt the service created but that cannot be shown.
fn dismiss(conn: &Connection, prompt: &OwnedObjectPath) {
    if prompt.as_str() == "/" {
        return;
    }
    let reply = conn.call_method(
        Some(BUS_NAME),
        prompt.as_str(),
        Some(PROMPT),
        "Dismiss",
        &(),
    );
    if let Err(e) = reply {
        log::debug!("dismissing the prompt {} failed: {e}", prompt.as_str());
    }
}

/// Runs `f` with a `plain` (unencrypted) session of this connection.
///
/// gnome-keyring's password calls take the password as a Secret Service
/// secret; a plain session keeps that simple. The session bus only lets
/// the same user's processes connect.
fn with_plain_session<R>(
    conn: &Connection,
    f: impl FnOnce(ObjectPath<'_>) -> zbus::Result<R>,
) -> zbus::Result<R> {
    let body = ("plain", Value::from(""));
    let (_, session): (OwnedValue, OwnedObjectPath) =
        call(conn, SERVICE_PATH, SERVICE, "OpenSession", &body)?;

    let result = f(session.as_ref());
    let closed = conn.call_method(
        Some(BUS_NAME),
        session.as_str(),
        Some(SESSION),
        "Close",
        &(),
    );
    if let Err(e) = closed {
        log::debug!("closing the session {} failed: {e}", session.as_str());
    }
    result
}

/// A Secret Service `Secret` struct for a plain session.
fn secret_struct<'s>(
    session: ObjectPath<'s>,
    password: &'s Secret,
) -> (ObjectPath<'s>, Vec<u8>, &'s [u8], &'static str) {
    (
        session,
        Vec::new(),
        password.expose().as_bytes(),
        CONTENT_TYPE,
    )
}

fn attributes(name: Option<&str>) -> HashMap<&str, &str> {
    let mut attributes = HashMap::from([(APPLICATION_ATTRIBUTE, APPLICATION)]);
    if let Some(name) = name {
        attributes.insert(NAME_ATTRIBUTE, name);
    }
    attributes
}

fn secret_from_bytes(bytes: Vec<u8>) -> Result<Secret, String> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Secret::new(text)),
        Err(e) => {
            e.into_bytes().zeroize();
            Err("the stored value is not UTF-8 text".to_owned())
        }
    }
}

/// The collection's name for messages: as given, else its label.
fn collection_label(
    service: &SecretService<'_>,
    path: &OwnedObjectPath,
    given: Option<&str>,
) -> String {
    if let Some(given) = given {
        return given.to_owned();
    }
    let collection = service.get_collection_by_path(path.clone());
    let label = collection.and_then(|c| c.get_label()).unwrap_or_default();
    if label.is_empty() {
        path.as_str().to_owned()
    } else {
        label
    }
}

/// Whether the service lacks the method (not gnome-keyring).
fn is_unknown_method(error: &zbus::Error) -> bool {
    let zbus::Error::MethodError(name, _, _) = error else {
        return false;
    };
    matches!(
        name.as_str(),
        UNKNOWN_METHOD | UNKNOWN_INTERFACE | UNKNOWN_OBJECT
    )
}

/// Whether a call failed because its object is gone (an item removed
/// meanwhile).
fn is_gone(error: &secret_service::Error) -> bool {
    let name = match error {
        secret_service::Error::Zbus(zbus::Error::MethodError(name, _, _)) => name.to_string(),
        secret_service::Error::Zbus(zbus::Error::FDO(e)) => e.name().to_string(),
        secret_service::Error::ZbusFdo(e) => e.name().to_string(),
        _ => return false,
    };
    matches!(
        name.as_str(),
        UNKNOWN_METHOD | UNKNOWN_INTERFACE | UNKNOWN_OBJECT | NO_SUCH_OBJECT
    )
}

/// `f` applied to each of `inputs`, in order, on up to [`PARALLEL_CALLS`]
/// threads (on this one for a few inputs). A part whose thread cannot be
/// started runs on this thread; a panic in a thread is raised again here.
fn in_parallel<T, R, F>(inputs: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    if inputs.len() < PARALLEL_MIN_ITEMS {
        return inputs.iter().map(&f).collect();
    }
    let part_len = inputs.len().div_ceil(PARALLEL_CALLS);
    let f = &f;

    std::thread::scope(|scope| {
        let started: Vec<_> = inputs
            .chunks(part_len)
            .map(|part| {
                let run = move || part.iter().map(f).collect::<Vec<R>>();
                (part, std::thread::Builder::new().spawn_scoped(scope, run))
            })
            .collect();

        let mut results = Vec::with_capacity(inputs.len());
        for (part, thread) in started {
            match thread {
                Ok(thread) => match thread.join() {
                    Ok(part_results) => results.extend(part_results),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => results.extend(part.iter().map(f)),
            }
        }
        results
    })
}

/// A D-Bus error as one line: the error name and its description.
fn short(error: &zbus::Error) -> String {
    match error {
        zbus::Error::MethodError(name, Some(detail), _) => format!("{}: {detail}", name.as_str()),
        zbus::Error::MethodError(name, None, _) => name.as_str().to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_parallel_keeps_the_order() {
        for len in [0, 1, PARALLEL_MIN_ITEMS - 1, PARALLEL_MIN_ITEMS, 1001] {
            let inputs: Vec<usize> = (0..len).collect();

            let doubled = in_parallel(&inputs, |n| n * 2);

            let expected: Vec<usize> = inputs.iter().map(|n| n * 2).collect();
            assert_eq!(doubled, expected, "{len} inputs");
        }
    }

    #[test]
    #[should_panic(expected = "item 40")]
    fn in_parallel_raises_a_threads_panic_again() {
        let inputs: Vec<usize> = (0..100).collect();

        in_parallel(&inputs, |&n| assert!(n != 40, "item {n}"));
    }

    #[test]
    fn gone_objects_are_told_from_other_failures() {
        let fdo = |error| secret_service::Error::ZbusFdo(error);
        let unknown = "Object does not exist at path".to_owned();

        assert!(is_gone(&fdo(zbus::fdo::Error::UnknownMethod(
            unknown.clone()
        ))));
        assert!(is_gone(&fdo(zbus::fdo::Error::UnknownObject(unknown))));
        let wrapped = zbus::Error::FDO(Box::new(zbus::fdo::Error::UnknownMethod(String::new())));
        assert!(is_gone(&secret_service::Error::Zbus(wrapped)));
        assert!(!is_gone(&fdo(
            zbus::fdo::Error::AccessDenied(String::new())
        )));
        assert!(!is_gone(&secret_service::Error::Locked));
        assert!(!is_gone(&secret_service::Error::Crypto("bad padding")));
    }
}
