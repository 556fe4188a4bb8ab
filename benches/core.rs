//! Criterion benchmarks of the Rust core, below PowerShell: the config file
//! with 10,000 profiles, the secret-name template over 10,000 names, and one
//! round trip through the C ABI. The end-to-end figures (import, cmdlets,
//! vaults) come from `scripts/bench.sh`; see docs/benchmark/README.md.
//!
//! ```sh
//! cargo bench --bench core              # full run
//! cargo bench --bench core -- --quick   # a quick look (works offline)
//! ```

use std::hint::black_box;
use std::path::Path;
use std::ptr;

use criterion::{criterion_group, criterion_main, Criterion};
use ibwapi_config::config_file::document;
use ibwapi_config::ffi::{
    ib_profile_list_free, ib_profile_list_len, ib_store_free, ib_store_get, ib_store_open,
    ib_store_set, IbOpenOptions, IbProfileEdit, IbProfileList, IbSetting, IbStore, IbStr, IB_OK,
};
use ibwapi_config::vault::template::SecretTemplate;

/// Profiles in the large file and secret names in the template benchmarks.
const PROFILES: usize = 10_000;

/// `bench-password` as Posh-IBWAPI 4.x stores it on Linux: UTF-16LE, Base64.
const PASSWORD_BASE64: &str = "YgBlAG4AYwBoAC0AcABhAHMAcwB3AG8AcgBkAA==";

/// A config file with `count` profiles `p1`..`pN`, laid out as PowerShell 7
/// writes it for 4.x (the same file `pwsh/bench` seeds).
fn config_file_text(count: usize) -> String {
    let mut text = String::with_capacity(320 * count + 64);
    text.push_str("{\n  \"CurrentProfile\": \"p1\",\n  \"Profiles\": {");
    for i in 1..=count {
        if i > 1 {
            text.push(',');
        }
        text.push_str(&format!(
            "\n    \"p{i}\": {{\n      \"WAPIHost\": \"gm{i}.example.test\",\n      \
             \"WAPIVersion\": \"2.12\",\n      \"Credential\": {{\n        \
             \"Username\": \"admin\",\n        \"Password\": \"{PASSWORD_BASE64}\",\n        \
             \"IsBase64\": true\n      }},\n      \"SkipCertificateCheck\": false,\n      \
             \"NoSession\": false\n    }}"
        ));
    }
    text.push_str("\n  }\n}");
    text
}

fn config_file(c: &mut Criterion) {
    let text = config_file_text(PROFILES);
    let parsed = document::parse(text.as_bytes()).expect("the generated file parses");
    assert_eq!(parsed.profiles.len(), PROFILES);

    let mut group = c.benchmark_group("config_file");
    group.sample_size(20);
    group.bench_function("parse 10000 profiles", |b| {
        b.iter(|| document::parse(black_box(text.as_bytes())).expect("parses"))
    });
    group.bench_function("render 10000 profiles", |b| {
        b.iter(|| document::render(black_box(&parsed.profiles)).expect("renders"))
    });
    group.finish();
}

fn secret_names(c: &mut Criterion) {
    let templates = [
        ("default", SecretTemplate::from_setting(None)),
        (
            "two placeholders",
            SecretTemplate::new("ib[{0}]*-{0}.secret"),
        ),
    ];
    let profiles: Vec<String> = (1..=PROFILES).map(|i| format!("profile-{i}")).collect();

    let mut group = c.benchmark_group("template");
    for (label, template) in &templates {
        let secrets: Vec<String> = profiles.iter().map(|p| template.secret_name(p)).collect();
        assert_eq!(
            template.profile_name(&secrets[0]).as_deref(),
            Some("profile-1")
        );

        group.bench_function(format!("expand 10000 names, {label}"), |b| {
            b.iter(|| {
                profiles
                    .iter()
                    .map(|p| template.secret_name(black_box(p)).len())
                    .sum::<usize>()
            })
        });
        group.bench_function(format!("recover 10000 names, {label}"), |b| {
            b.iter(|| {
                secrets
                    .iter()
                    .filter(|s| template.matches(black_box(s)))
                    .filter_map(|s| template.profile_name(black_box(s)))
                    .count()
            })
        });
    }
    group.finish();
}

fn text(value: &str) -> IbStr {
    IbStr {
        ptr: value.as_ptr(),
        len: value.len(),
    }
}

const ABSENT: IbStr = IbStr {
    ptr: ptr::null(),
    len: 0,
};

/// Opens the file store at `path` through `ib_store_open`, as the module does.
fn open_store(path: &Path) -> *mut IbStore {
    let path = path.to_str().expect("a UTF-8 temporary path");
    let settings = [IbSetting {
        name: text("config_path"),
        value: text(path),
    }];
    let options = IbOpenOptions {
        settings: settings.as_ptr(),
        settings_len: settings.len(),
        collate: None,
        collate_context: ptr::null_mut(),
        host_vault: ptr::null(),
    };
    let mut store: *mut IbStore = ptr::null_mut();

    // SAFETY: options and its settings outlive the call; store is writable.
    let status = unsafe { ib_store_open(&options, &mut store) };
    assert_eq!(status, IB_OK, "ib_store_open");
    store
}

/// Set-IBConfig of `name` with `host` (a new profile needs the rest too).
fn set_profile(store: *mut IbStore, name: &str, host: &str) {
    let edit = IbProfileEdit {
        profile_name: text(name),
        wapi_host: text(host),
        wapi_version: text("2.12"),
        username: text("admin"),
        password: text("bench-password"),
        skip_certificate_check: -1,
        no_session: -1,
        new_name: ABSENT,
        no_switch_profile: 0,
    };

    // SAFETY: store is a live handle; edit and its strings outlive the call.
    let status = unsafe { ib_store_set(store, &edit) };
    assert_eq!(status, IB_OK, "ib_store_set");
}

/// Get-IBConfig -ProfileName `name`: the number of profiles returned.
fn get_profile(store: *mut IbStore, name: &str) -> usize {
    let mut list: *mut IbProfileList = ptr::null_mut();

    // SAFETY: store is a live handle, name outlives the call, list is
    // writable; the list is freed before returning.
    unsafe {
        assert_eq!(
            ib_store_get(store, text(name), &mut list),
            IB_OK,
            "ib_store_get"
        );
        let found = ib_profile_list_len(list);
        ib_profile_list_free(list);
        found
    }
}

fn c_abi(c: &mut Criterion) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let small = folder.path().join("small/posh-ibwapi.json");
    let large = folder.path().join("large/posh-ibwapi.json");
    std::fs::create_dir_all(large.parent().expect("has a parent")).expect("folder");
    std::fs::write(&large, config_file_text(PROFILES)).expect("seed file");

    let mut group = c.benchmark_group("c_abi");
    group.sample_size(20);
    let mut turn = 0_u32;
    group.bench_function("open + set + get + free, 1 profile", |b| {
        b.iter(|| {
            turn += 1;
            let store = open_store(&small);
            set_profile(store, "lab", &format!("gm{}.example.test", turn % 2));
            let found = get_profile(store, "lab");
            // SAFETY: a live handle, freed once.
            unsafe { ib_store_free(store) };
            found
        })
    });
    group.bench_function("open (parse) 10000 profiles", |b| {
        b.iter(|| {
            let store = open_store(&large);
            // SAFETY: a live handle, freed once.
            unsafe { ib_store_free(store) };
        })
    });
    let store = open_store(&large);
    group.bench_function("set (save) with 10000 profiles", |b| {
        b.iter(|| {
            turn += 1;
            set_profile(store, "p2", &format!("gm{}.example.test", turn % 2));
        })
    });
    group.bench_function("get by name with 10000 profiles", |b| {
        b.iter(|| get_profile(store, black_box("p9999")))
    });
    // SAFETY: a live handle, freed once.
    unsafe { ib_store_free(store) };
    group.finish();
}

criterion_group!(benches, config_file, secret_names, c_abi);
criterion_main!(benches);
