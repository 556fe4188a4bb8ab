//! The C ABI (docs/ABI.md; the generated header is `include/ibwapi_config.h`).
//!
//! Every export:
//! - runs inside the panic boundary ([`mod@panic`]), so no panic reaches C;
//! - checks its pointers first: NULL gives `IB_NULL_ARGUMENT`, a handle not
//!   in the live-handle registry ([`handles`]) gives `IB_INVALID_HANDLE`;
//! - writes its out-parameters only on `IB_OK`;
//! - leaves the reason for any failure in a thread-local message
//!   ([`last_error`]) that never holds a password.
//!
//! The exports are `unsafe extern "C"`: the caller vouches for the pointers
//! it passes, as each `# Safety` section says. The `ib_str` conversions are
//! in [`strings`], log forwarding in [`log`], the host's SecretManagement
//! callback in [`host_vault`].

pub mod handles;
pub mod host_vault;
pub mod last_error;
pub mod log;
pub mod panic;
pub mod profile_list;
pub mod store_api;
pub mod strings;
pub mod types;

pub use self::host_vault::{ib_host_reply_add, ib_host_reply_fail, IbHostReply};
pub use self::last_error::ib_last_error_message;
pub use self::log::ib_set_log_callback;
pub use self::profile_list::{
    ib_profile_list_entry, ib_profile_list_free, ib_profile_list_len, IbProfileList,
};
pub use self::store_api::{
    ib_store_free, ib_store_get, ib_store_kind, ib_store_list, ib_store_migrate, ib_store_open,
    ib_store_refresh, ib_store_remove, ib_store_remove_all, ib_store_set, IbStore,
};
pub use self::types::*;
