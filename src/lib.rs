//! The connection-profile store of the Posh-IBWAPI PowerShell module.
//!
//! A profile names an Infoblox grid manager (host, WAPI version, credential,
//! two flags). This crate keeps the profiles exactly as Posh-IBWAPI 4.x does,
//! so that existing scripts, config files and vault secrets keep
//! working, and exposes them to the .NET module through a C ABI.
//!
//! # Where profiles come from
//!
//! [`Store::open`] decides once, from the settings the module passes in:
//!
//! 1. the environment-variable profile `ENV` ([`env_profile`]), read-only;
//! 2. a vault ([`vault`]): a SecretManagement vault through the module, or
//!    a built-in one; when it cannot be set up, the file is used instead;
//! 3. the config file `posh-ibwapi.json` ([`config_file`]).
//!
//! # Map of the crate
//!
//! | module | concept |
//! | --- | --- |
//! | [`profile`] | one profile, its credential and password wrapper, version rules |
//! | [`profiles`] | the set of profiles and the Set/Get/Remove rules |
//! | [`collation`] | how profile names are sorted |
//! | [`settings`] | the named settings given at open time |
//! | [`env_profile`] | the `IBWAPI_*` environment-variable profile |
//! | [`config_file`] | the JSON file 4.x reads and writes |
//! | [`shared_file`] | the save lock, atomic replacement and change stamps of shared files |
//! | `dpapi` | Windows DPAPI for passwords written on Windows (Windows only) |
//! | [`vault`] | vault names, the secret-name template, the vault kinds and the vault backend |
//! | [`store`] | the open-time choice, the backend trait, refresh and migration |
//! | [`error`] | the error type |
//! | [`ffi`] | the C ABI described in `docs/ABI.md` |
//!
//! # Secrets
//!
//! Passwords live in [`profile::Secret`], which wipes its memory on drop and
//! prints as `<redacted>`. No log record and no error message holds one.

#![warn(
    missing_docs,
    clippy::missing_errors_doc,
    clippy::undocumented_unsafe_blocks
)]

pub mod collation;
pub mod config_file;
#[cfg(windows)]
pub mod dpapi;
pub mod env_profile;
pub mod error;
pub mod ffi;
pub mod heap;
pub mod profile;
pub mod profiles;
pub mod settings;
pub mod shared_file;
pub mod store;
pub mod vault;

pub use error::Error;
pub use store::{Store, StoreKind};
