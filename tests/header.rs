//! The committed header must be what cbindgen generates from the source now.
//!
//! `build.rs` writes the fresh header to `$OUT_DIR` on every build, and also
//! refreshes `include/ibwapi_config.h` unless `IBWAPI_HEADER=check` or `CI`
//! is set. In CI the committed file is therefore left as committed, and this
//! test fails when someone changed `src/ffi` without committing the header.

use std::fs;
use std::path::Path;

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = Path::new(env!("OUT_DIR")).join("ibwapi_config.h");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/ibwapi_config.h");

    let generated = fs::read_to_string(generated).expect("build.rs writes the header");
    let committed = fs::read_to_string(committed).expect("the header is committed");

    assert!(
        generated == committed,
        "include/ibwapi_config.h is stale: build without IBWAPI_HEADER=check and CI, \
         then commit the regenerated header"
    );
}

#[test]
fn header_declares_every_export_and_status() {
    let header = include_str!("../include/ibwapi_config.h");

    for name in [
        "ib_set_log_callback(",
        "ib_store_open(",
        "ib_store_free(",
        "ib_store_kind(",
        "ib_store_get(",
        "ib_store_list(",
        "ib_store_set(",
        "ib_store_remove(",
        "ib_store_remove_all(",
        "ib_store_refresh(",
        "ib_store_migrate(",
        "typedef struct ib_migration {",
        "uint8_t move;",
        "ib_profile_list_len(",
        "ib_profile_list_entry(",
        "ib_profile_list_free(",
        "ib_last_error_message(",
        "ib_host_reply_add(",
        "ib_host_reply_fail(",
        "typedef struct ib_host_vault {",
        "typedef void (*ib_host_vault_fn)(",
        "const struct ib_host_vault *host_vault;",
        "typedef uint32_t ib_status;",
        "#define IB_OK 0",
        "#define IB_READ_ONLY_STORE 2004",
        "#define IB_MIGRATION_CONFLICT 2005",
        "#define IB_FILE_IO 3001",
        "#define IB_VAULT_UNAVAILABLE 4001",
        "#define IB_VAULT_LOCKED 4002",
        "#define IB_VAULT_WRITE_FAILED 4003",
        "#define IB_VAULT_NAME_REFUSED 4004",
        "#define IB_VAULT_READ_ONLY 4005",
        "#define IB_VAULT_NAME_BLOCKED 4006",
        "#define IB_PANIC 9001",
        "#define IB_INTERNAL 9002",
    ] {
        assert!(header.contains(name), "the header lacks {name}");
    }
}
