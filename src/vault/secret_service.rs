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
//! one D-Bus round trip, whatever the number of profiles. A value another
//! process rewrote in place keeps its item path and is not seen until the
//! set of items changes, this handle saves, or the module is imported
//! again. (Reading every item's `Modified` time would see it, but costs one
//! round trip per profile before every command: over a second at 1,000.)
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

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::Duration;

use secret_service::blocking::{Collection, Item, SecretService};
use secret_service::EncryptionType;
use zbus::blocking::Connection;
use zbus::zvariant::{DynamicDeserialize, DynamicType, ObjectPath, OwnedObjectPath};
use zbus::zvariant::{OwnedValue, Value};
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

/// A collection of the Linux Secret Service, holding one item per secret.
pub struct SecretServiceVault {
    name: String,
    label: String,
    conn: Connection,
    service: SecretService<'static>,
    collection: OwnedObjectPath,
    /// The sorted object paths of our items, as last listed or written;
    /// `None` before the first listing.
    seen: Option<Vec<String>>,
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

    /// Writes the item and returns its new `Modified` time.
    fn write_item(&self, name: &str, value: &Secret) -> Result<u64, Error> {
        let action = format!("write the secret '{name}'");
        let collection = self.collection()?;
        let bytes = value.expose().as_bytes();

        let item = collection.create_item(name, attributes(Some(name)), bytes, true, CONTENT_TYPE);
        let item = item.map_err(|e| self.failure(&action, e))?;
        let others = self.our_items(&collection, Some(name));
        let others = others.map_err(|e| self.failure(&action, e))?;

        for other in others
            .iter()
            .filter(|other| other.item_path != item.item_path)
        {
            other.delete().map_err(|e| self.failure(&action, e))?;
        }
        item.get_modified().map_err(|e| self.failure(&action, e))
    }

    fn remove_items(&self, name: &str) -> Result<(), Error> {
        let action = format!("remove the secret '{name}'");
        let collection = self.collection()?;
        let items = self.our_items(&collection, Some(name));
        let items = items.map_err(|e| self.failure(&action, e))?;

        for item in &items {
            item.delete().map_err(|e| self.failure(&action, e))?;
        }
        Ok(())
    }

    /// Our secret names, each once.
    fn list_names(&self) -> Result<BTreeSet<String>, Error> {
        let action = "list the secrets";
        let collection = self.collection()?;
        let items = self.our_items(&collection, None);
        let items = items.map_err(|e| self.failure(action, e))?;

        let mut names = BTreeSet::new();
        for item in &items {
            let mut attributes = item.get_attributes().map_err(|e| self.failure(action, e))?;
            if let Some(name) = attributes.remove(NAME_ATTRIBUTE) {
                names.insert(name);
            }
        }
        Ok(names)
    }

    /// The sorted object paths of our items: one `SearchItems` call.
    fn item_paths(&self) -> Result<Vec<String>, Error> {
        let path = self.collection.as_str();
        let found: zbus::Result<Vec<OwnedObjectPath>> = call(
            &self.conn,
            path,
            COLLECTION,
            "SearchItems",
            &(attributes(None),),
        );
        let found = found.map_err(|e| self.failure("list the secrets", e))?;

        let mut paths: Vec<String> = found.iter().map(|p| p.as_str().to_owned()).collect();
        paths.sort();
        Ok(paths)
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
        let names = self.list_names()?;

        self.seen = Some(self.item_paths()?);
        Ok(names.into_iter().collect())
    }

    fn changed(&mut self) -> Result<Option<bool>, Error> {
        log::debug!("vault {}: check for changes", self.name);
        let now = self.item_paths()?;

        Ok(Some(self.seen.as_ref() != Some(&now)))
    }

    fn read_secret(&mut self, name: &str) -> Result<Option<Secret>, Error> {
        log::debug!("vault {}: read '{name}'", self.name);
        self.read_item(name)
    }

    fn write_secret(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        log::debug!("vault {}: write '{name}'", self.name);
        self.write_item(name, value)?;

        // Our own write must not look like another process's change.
        self.seen = Some(self.item_paths()?);
        Ok(())
    }

    fn remove_secret(&mut self, name: &str) -> Result<(), Error> {
        log::debug!("vault {}: remove '{name}'", self.name);
        self.remove_items(name)?;

        self.seen = Some(self.item_paths()?);
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
        "org.freedesktop.DBus.Error.UnknownMethod"
            | "org.freedesktop.DBus.Error.UnknownInterface"
            | "org.freedesktop.DBus.Error.UnknownObject"
    )
}

/// A D-Bus error as one line: the error name and its description.
fn short(error: &zbus::Error) -> String {
    match error {
        zbus::Error::MethodError(name, Some(detail), _) => format!("{}: {detail}", name.as_str()),
        zbus::Error::MethodError(name, None, _) => name.as_str().to_owned(),
        other => other.to_string(),
    }
}
