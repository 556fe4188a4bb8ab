//! Generates `include/ibwapi_config.h` from `src/ffi` with cbindgen.
//!
//! The header is committed. It is rewritten only when its content changes,
//! so its timestamp stays put on ordinary builds. With `IBWAPI_HEADER=check`
//! (or `CI` set), the committed file is left alone; `tests/header.rs` then
//! fails if it differs from what cbindgen generates now. A copy always goes
//! to `$OUT_DIR/ibwapi_config.h` for that test.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const HEADER: &str = "include/ibwapi_config.h";

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed={HEADER}");
    println!("cargo:rerun-if-env-changed=IBWAPI_HEADER");
    println!("cargo:rerun-if-env-changed=CI");

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let header = generate(&crate_dir);

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    write_if_changed(&out_dir.join("ibwapi_config.h"), &header);

    if !check_only() {
        write_if_changed(&crate_dir.join(HEADER), &header);
    }
}

fn generate(crate_dir: &Path) -> String {
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml should be valid");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen should understand src/ffi");

    let mut bytes = Vec::new();
    bindings.write(&mut bytes);
    String::from_utf8(bytes).expect("cbindgen writes UTF-8")
}

fn check_only() -> bool {
    env::var("IBWAPI_HEADER").is_ok_and(|mode| mode == "check") || env::var_os("CI").is_some()
}

fn write_if_changed(path: &Path, content: &str) {
    if fs::read_to_string(path).is_ok_and(|old| old == content) {
        return;
    }

    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder).expect("the header folder should be creatable");
    }
    fs::write(path, content).expect("the header should be writable");
}
