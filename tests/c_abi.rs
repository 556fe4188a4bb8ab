//! Calls the built library through its C ABI, as the .NET module does: the
//! shared library is loaded with libloading and every export is called
//! through a raw function pointer, with the structs declared here as the
//! header declares them.

mod common;

use std::cell::RefCell;
use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::{ptr, slice};

use common::ConfigDir;
use libloading::Library;
use pretty_assertions::assert_eq;

const IB_OK: u32 = 0;
const IB_NULL_ARGUMENT: u32 = 1001;
const IB_INVALID_UTF8: u32 = 1002;
const IB_INVALID_ARGUMENT: u32 = 1003;
const IB_INVALID_HANDLE: u32 = 1004;
const IB_INVALID_VERSION: u32 = 1005;
const IB_RESERVED_NAME: u32 = 1006;
const IB_PROFILE_NOT_FOUND: u32 = 2001;
const IB_MISSING_FIELD: u32 = 2003;
const IB_READ_ONLY_STORE: u32 = 2004;
const IB_MIGRATION_CONFLICT: u32 = 2005;
const IB_VAULT_UNAVAILABLE: u32 = 4001;
const IB_VAULT_NAME_REFUSED: u32 = 4004;
const IB_VAULT_READ_ONLY: u32 = 4005;

#[repr(C)]
#[derive(Clone, Copy)]
struct IbStr {
    ptr: *const u8,
    len: usize,
}

const ABSENT: IbStr = IbStr {
    ptr: ptr::null(),
    len: 0,
};

fn s(text: &str) -> IbStr {
    bytes(text.as_bytes())
}

fn bytes(b: &[u8]) -> IbStr {
    IbStr {
        ptr: b.as_ptr(),
        len: b.len(),
    }
}

/// # Safety
///
/// `text` must be NULL or point at `len` bytes.
unsafe fn text(text: IbStr) -> Option<String> {
    if text.ptr.is_null() {
        return None;
    }
    let b = slice::from_raw_parts(text.ptr, text.len);
    Some(String::from_utf8(b.to_vec()).expect("the library writes UTF-8"))
}

#[repr(C)]
struct IbSetting {
    name: IbStr,
    value: IbStr,
}

type CollateFn = Option<unsafe extern "C" fn(*mut c_void, IbStr, IbStr) -> i32>;
type LogFn = Option<unsafe extern "C" fn(*mut c_void, u32, *const u8, usize)>;

#[repr(C)]
struct IbOpenOptions {
    settings: *const IbSetting,
    settings_len: usize,
    collate: CollateFn,
    collate_context: *mut c_void,
    host_vault: *const IbHostVault,
}

type Reply = c_void;
type HostFn = Option<unsafe extern "C" fn(*mut c_void, u32, IbStr, IbStr, IbStr, *mut Reply)>;

#[repr(C)]
struct IbHostVault {
    call: HostFn,
    context: *mut c_void,
}

#[repr(C)]
struct IbProfileEdit {
    profile_name: IbStr,
    wapi_host: IbStr,
    wapi_version: IbStr,
    username: IbStr,
    password: IbStr,
    skip_certificate_check: i8,
    no_session: i8,
    new_name: IbStr,
    no_switch_profile: u8,
}

impl IbProfileEdit {
    fn named(name: IbStr) -> IbProfileEdit {
        IbProfileEdit {
            profile_name: name,
            wapi_host: ABSENT,
            wapi_version: ABSENT,
            username: ABSENT,
            password: ABSENT,
            skip_certificate_check: -1,
            no_session: -1,
            new_name: ABSENT,
            no_switch_profile: 0,
        }
    }
}

#[repr(C)]
struct IbProfileView {
    profile_name: IbStr,
    wapi_host: IbStr,
    wapi_version: IbStr,
    username: IbStr,
    password: IbStr,
    skip_certificate_check: u8,
    no_session: u8,
    is_current: u8,
}

#[repr(C)]
struct IbMigration {
    destination: u32,
    names: *const IbStr,
    names_len: usize,
    r#move: u8,
    overwrite: u8,
    dry_run: u8,
}

impl IbMigration {
    fn to(destination: u32) -> IbMigration {
        IbMigration {
            destination,
            names: ptr::null(),
            names_len: 0,
            r#move: 0,
            overwrite: 0,
            dry_run: 0,
        }
    }
}

type Store = c_void;
type List = c_void;

/// The exports, as raw function pointers.
struct Api {
    set_log_callback: unsafe extern "C" fn(LogFn, *mut c_void, u32) -> u32,
    store_open: unsafe extern "C" fn(*const IbOpenOptions, *mut *mut Store) -> u32,
    store_free: unsafe extern "C" fn(*mut Store),
    store_kind: unsafe extern "C" fn(*const Store, *mut u32) -> u32,
    store_get: unsafe extern "C" fn(*mut Store, IbStr, *mut *mut List) -> u32,
    store_list: unsafe extern "C" fn(*mut Store, *mut *mut List) -> u32,
    store_set: unsafe extern "C" fn(*mut Store, *const IbProfileEdit) -> u32,
    store_remove: unsafe extern "C" fn(*mut Store, IbStr) -> u32,
    store_remove_all: unsafe extern "C" fn(*mut Store) -> u32,
    store_refresh: unsafe extern "C" fn(*mut Store, *mut u8) -> u32,
    store_migrate: unsafe extern "C" fn(*mut Store, *const IbMigration, *mut *mut List) -> u32,
    list_len: unsafe extern "C" fn(*const List) -> usize,
    list_entry: unsafe extern "C" fn(*const List, usize, *mut IbProfileView) -> u32,
    list_free: unsafe extern "C" fn(*mut List),
    last_error_message: unsafe extern "C" fn(*mut *const u8, *mut usize) -> u32,
    host_reply_add: unsafe extern "C" fn(*mut Reply, IbStr) -> u32,
    host_reply_fail: unsafe extern "C" fn(*mut Reply, u32, IbStr) -> u32,
}

/// The library next to the test binary (`target/<profile>/deps`, rebuilt by
/// every `cargo test`), else the one `cargo build` put in `target/<profile>`.
fn library_path() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("target/<profile>/deps");
    let name = libloading::library_filename("ibwapi_config");

    let beside = deps.join(&name);
    if beside.exists() {
        return beside;
    }
    deps.parent().expect("target/<profile>").join(name)
}

fn api() -> &'static Api {
    static API: OnceLock<(Library, Api)> = OnceLock::new();

    &API.get_or_init(|| unsafe {
        let library = Library::new(library_path()).expect("the built library loads");
        let api = Api {
            set_log_callback: *library.get(b"ib_set_log_callback").unwrap(),
            store_open: *library.get(b"ib_store_open").unwrap(),
            store_free: *library.get(b"ib_store_free").unwrap(),
            store_kind: *library.get(b"ib_store_kind").unwrap(),
            store_get: *library.get(b"ib_store_get").unwrap(),
            store_list: *library.get(b"ib_store_list").unwrap(),
            store_set: *library.get(b"ib_store_set").unwrap(),
            store_remove: *library.get(b"ib_store_remove").unwrap(),
            store_remove_all: *library.get(b"ib_store_remove_all").unwrap(),
            store_refresh: *library.get(b"ib_store_refresh").unwrap(),
            store_migrate: *library.get(b"ib_store_migrate").unwrap(),
            list_len: *library.get(b"ib_profile_list_len").unwrap(),
            list_entry: *library.get(b"ib_profile_list_entry").unwrap(),
            list_free: *library.get(b"ib_profile_list_free").unwrap(),
            last_error_message: *library.get(b"ib_last_error_message").unwrap(),
            host_reply_add: *library.get(b"ib_host_reply_add").unwrap(),
            host_reply_fail: *library.get(b"ib_host_reply_fail").unwrap(),
        };
        (library, api)
    })
    .1
}

fn last_error() -> String {
    let (mut ptr, mut len) = (ptr::null(), 0);

    let status = unsafe { (api().last_error_message)(&mut ptr, &mut len) };

    assert_eq!(status, IB_OK);
    unsafe { text(IbStr { ptr, len }) }.unwrap()
}

fn options(settings: &[IbSetting]) -> IbOpenOptions {
    IbOpenOptions {
        settings: settings.as_ptr(),
        settings_len: settings.len(),
        collate: None,
        collate_context: ptr::null_mut(),
        host_vault: ptr::null(),
    }
}

fn open(options: &IbOpenOptions) -> *mut Store {
    let mut store = ptr::null_mut();

    let status = unsafe { (api().store_open)(options, &mut store) };

    assert_eq!(status, IB_OK, "{}", last_error());
    assert!(!store.is_null());
    store
}

fn open_file(config: &ConfigDir) -> *mut Store {
    let path = config.path.to_str().unwrap();
    let settings = [IbSetting {
        name: s("config_path"),
        value: s(path),
    }];
    open(&options(&settings))
}

fn set_full(store: *mut Store, name: &str, password: &str) -> u32 {
    let mut edit = IbProfileEdit::named(s(name));
    edit.wapi_host = s("gm.example.test");
    edit.wapi_version = s("2.12");
    edit.username = s("admin");
    edit.password = s(password);
    edit.no_session = 1;

    unsafe { (api().store_set)(store, &edit) }
}

/// Every profile of a list as (name, host, version, user, password, flags).
type Row = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    [u8; 3],
);

fn rows(list: *mut List) -> Vec<Row> {
    let len = unsafe { (api().list_len)(list) };

    (0..len)
        .map(|index| unsafe {
            let mut view: IbProfileView = std::mem::zeroed();
            assert_eq!((api().list_entry)(list, index, &mut view), IB_OK);
            (
                text(view.profile_name).unwrap(),
                text(view.wapi_host),
                text(view.wapi_version),
                text(view.username),
                text(view.password),
                [
                    view.skip_certificate_check,
                    view.no_session,
                    view.is_current,
                ],
            )
        })
        .collect()
}

fn get(store: *mut Store, name: IbStr) -> Vec<Row> {
    let mut list = ptr::null_mut();
    assert_eq!(unsafe { (api().store_get)(store, name, &mut list) }, IB_OK);

    let rows = rows(list);
    unsafe { (api().list_free)(list) };
    rows
}

fn list_names(store: *mut Store) -> Vec<String> {
    let mut list = ptr::null_mut();
    assert_eq!(unsafe { (api().store_list)(store, &mut list) }, IB_OK);

    let names = rows(list).into_iter().map(|row| row.0).collect();
    unsafe { (api().list_free)(list) };
    names
}

#[test]
fn open_set_get_list_remove_round_trip() {
    let config = ConfigDir::empty();
    let store = open_file(&config);
    let mut kind = 99;

    assert_eq!(unsafe { (api().store_kind)(store, &mut kind) }, IB_OK);
    assert_eq!(kind, 1);
    assert_eq!(set_full(store, "Lab", "Pä$$ \"x\" {}"), IB_OK);
    assert_eq!(set_full(store, "alpha", "p2"), IB_OK);

    let current = get(store, ABSENT);
    assert_eq!(current.len(), 1);
    let (name, host, version, user, password, flags) = current[0].clone();
    assert_eq!(name, "alpha");
    assert_eq!(host.as_deref(), Some("gm.example.test"));
    assert_eq!(version.as_deref(), Some("2.12"));
    assert_eq!(user.as_deref(), Some("admin"));
    assert_eq!(password.as_deref(), Some("p2"));
    assert_eq!(flags, [0, 1, 1]);

    assert_eq!(get(store, s("LAB"))[0].4.as_deref(), Some("Pä$$ \"x\" {}"));
    assert!(get(store, s("missing")).is_empty());
    assert_eq!(list_names(store), ["alpha", "Lab"]);

    assert_eq!(unsafe { (api().store_remove)(store, ABSENT) }, IB_OK);
    assert_eq!(
        get(store, ABSENT)[0].0,
        "Lab",
        "the first remaining becomes current"
    );
    assert_eq!(unsafe { (api().store_remove_all)(store) }, IB_OK);
    assert!(list_names(store).is_empty());
    assert!(!config.path.exists());

    unsafe { (api().store_free)(store) };
}

#[test]
fn null_pointers_give_null_argument() {
    let config = ConfigDir::empty();
    let store = open_file(&config);
    let mut out = ptr::null_mut();
    let mut kind = 0;
    let mut view: IbProfileView = unsafe { std::mem::zeroed() };
    let mut len = 0;
    let no_settings = options(&[]);

    unsafe {
        assert_eq!((api().store_open)(ptr::null(), &mut out), IB_NULL_ARGUMENT);
        assert_eq!(
            (api().store_open)(&no_settings, ptr::null_mut()),
            IB_NULL_ARGUMENT
        );
        assert_eq!((api().store_kind)(ptr::null(), &mut kind), IB_NULL_ARGUMENT);
        assert_eq!((api().store_kind)(store, ptr::null_mut()), IB_NULL_ARGUMENT);
        assert_eq!(
            (api().store_get)(store, ABSENT, ptr::null_mut()),
            IB_NULL_ARGUMENT
        );
        assert_eq!(
            (api().store_list)(ptr::null_mut(), &mut out),
            IB_NULL_ARGUMENT
        );
        assert_eq!((api().store_set)(store, ptr::null()), IB_NULL_ARGUMENT);
        assert_eq!((api().store_remove_all)(ptr::null_mut()), IB_NULL_ARGUMENT);
        assert_eq!(
            (api().list_entry)(ptr::null(), 0, &mut view),
            IB_NULL_ARGUMENT
        );
        assert_eq!(
            (api().last_error_message)(ptr::null_mut(), &mut len),
            IB_NULL_ARGUMENT
        );
        assert_eq!((api().list_len)(ptr::null()), 0);
        (api().store_free)(ptr::null_mut());
        (api().list_free)(ptr::null_mut());

        let settings = [IbSetting {
            name: ABSENT,
            value: s("x"),
        }];
        assert_eq!(
            (api().store_open)(&options(&settings), &mut out),
            IB_NULL_ARGUMENT
        );
        assert!(out.is_null(), "out-parameters are not written on error");
        (api().store_free)(store);
    }
    assert!(last_error().contains("must not be NULL"));
}

#[test]
fn invalid_utf8_gives_invalid_utf8() {
    let config = ConfigDir::empty();
    let store = open_file(&config);
    let bad = [b'a', 0xff, b'b'];
    let mut list = ptr::null_mut();

    let edit = IbProfileEdit::named(bytes(&bad));
    assert_eq!(unsafe { (api().store_set)(store, &edit) }, IB_INVALID_UTF8);
    assert!(last_error().contains("edit.profile_name is not valid UTF-8"));
    assert_eq!(
        unsafe { (api().store_get)(store, bytes(&bad), &mut list) },
        IB_INVALID_UTF8
    );

    let settings = [IbSetting {
        name: s("IBWAPI_PASSWORD"),
        value: bytes(&bad),
    }];
    let mut other = ptr::null_mut();
    let status = unsafe { (api().store_open)(&options(&settings), &mut other) };
    assert_eq!(status, IB_INVALID_UTF8);
    assert!(list.is_null() && other.is_null());

    unsafe { (api().store_free)(store) };
}

#[test]
fn freed_and_made_up_handles_give_invalid_handle() {
    let config = ConfigDir::empty();
    let store = open_file(&config);
    let mut list = ptr::null_mut();
    assert_eq!(unsafe { (api().store_list)(store, &mut list) }, IB_OK);
    let made_up = 0x1234_5678 as *mut c_void;
    let mut kind = 0;
    let mut view: IbProfileView = unsafe { std::mem::zeroed() };

    unsafe {
        (api().store_free)(store);
        (api().list_free)(list);
        assert_eq!((api().store_kind)(store, &mut kind), IB_INVALID_HANDLE);
        assert!(last_error().contains("not a live ib_store"));
        assert_eq!((api().store_kind)(made_up, &mut kind), IB_INVALID_HANDLE);
        assert_eq!((api().store_remove_all)(made_up), IB_INVALID_HANDLE);
        assert_eq!((api().list_entry)(list, 0, &mut view), IB_INVALID_HANDLE);
        assert_eq!((api().list_entry)(made_up, 0, &mut view), IB_INVALID_HANDLE);
        assert_eq!((api().list_len)(list), 0);
        assert_eq!((api().list_len)(made_up), 0);
    }
}

#[test]
fn double_free_and_freeing_unknown_handles_are_harmless() {
    let config = ConfigDir::empty();
    let store = open_file(&config);
    let mut list = ptr::null_mut();
    assert_eq!(unsafe { (api().store_list)(store, &mut list) }, IB_OK);

    unsafe {
        (api().list_free)(list);
        (api().list_free)(list);
        (api().store_free)(store);
        (api().store_free)(store);
        (api().store_free)(0x10 as *mut c_void);
        (api().list_free)(0x10 as *mut c_void);
    }
}

#[test]
fn a_list_outlives_its_store() {
    let config = ConfigDir::empty();
    let store = open_file(&config);
    assert_eq!(set_full(store, "lab", "pw"), IB_OK);
    let mut list = ptr::null_mut();
    assert_eq!(unsafe { (api().store_list)(store, &mut list) }, IB_OK);

    unsafe { (api().store_free)(store) };

    assert_eq!(rows(list)[0].4.as_deref(), Some("pw"));
    unsafe { (api().list_free)(list) };
}

#[test]
fn failures_leave_a_message_and_the_right_status() {
    let config = ConfigDir::empty();
    let store = open_file(&config);
    let mut list = ptr::null_mut();
    let mut view: IbProfileView = unsafe { std::mem::zeroed() };

    assert_eq!(
        unsafe { (api().store_remove)(store, s("x")) },
        IB_PROFILE_NOT_FOUND
    );
    assert_eq!(
        last_error(),
        "Profile \"x\" was not found; nothing was removed."
    );
    assert_eq!(
        last_error(),
        "Profile \"x\" was not found; nothing was removed.",
        "stable"
    );

    assert_eq!(set_full(store, "env", "pw"), IB_RESERVED_NAME);
    assert_eq!(
        unsafe { (api().store_set)(store, &IbProfileEdit::named(s("new"))) },
        IB_MISSING_FIELD
    );
    assert_eq!(last_error(), "A new profile needs a WAPIHost (-WAPIHost).");

    let mut edit = IbProfileEdit::named(s("x"));
    edit.wapi_version = s("latest");
    assert_eq!(
        unsafe { (api().store_set)(store, &edit) },
        IB_INVALID_VERSION
    );
    assert!(last_error().contains("'latest' must be resolved"));

    let mut edit = IbProfileEdit::named(s("x"));
    edit.username = s("admin");
    assert_eq!(
        unsafe { (api().store_set)(store, &edit) },
        IB_INVALID_ARGUMENT
    );
    let mut edit = IbProfileEdit::named(s("x"));
    edit.no_session = 2;
    assert_eq!(
        unsafe { (api().store_set)(store, &edit) },
        IB_INVALID_ARGUMENT
    );
    let mut edit = IbProfileEdit::named(s("x"));
    edit.wapi_host = IbStr {
        ptr: ptr::null(),
        len: 3,
    };
    assert_eq!(
        unsafe { (api().store_set)(store, &edit) },
        IB_INVALID_ARGUMENT
    );

    assert_eq!(unsafe { (api().store_list)(store, &mut list) }, IB_OK);
    assert_eq!(last_error(), "", "a success clears the message");
    assert_eq!(
        unsafe { (api().list_entry)(list, 0, &mut view) },
        IB_INVALID_ARGUMENT
    );
    unsafe {
        (api().list_free)(list);
        (api().store_free)(store);
    }
}

#[test]
fn open_checks_its_options() {
    let mut store = ptr::null_mut();
    let config = ConfigDir::empty();
    let path = config.path.to_str().unwrap();
    let settings = [IbSetting {
        name: s("config_path"),
        value: s(path),
    }];
    let no_call = IbHostVault {
        call: None,
        context: ptr::null_mut(),
    };
    let mut with_vault = options(&settings);
    with_vault.host_vault = &no_call;
    let null_settings = IbOpenOptions {
        settings: ptr::null(),
        settings_len: 2,
        ..options(&[])
    };

    unsafe {
        assert_eq!(
            (api().store_open)(&options(&[]), &mut store),
            IB_INVALID_ARGUMENT
        );
        assert!(last_error().contains("config_path"));
        assert_eq!(
            (api().store_open)(&with_vault, &mut store),
            IB_NULL_ARGUMENT
        );
        assert!(last_error().contains("options.host_vault->call"));
        assert_eq!(
            (api().store_open)(&null_settings, &mut store),
            IB_NULL_ARGUMENT
        );
    }
    assert!(store.is_null());
}

#[test]
fn the_environment_store_is_read_only() {
    let settings = [
        ("IBWAPI_HOST", "gm.example.test"),
        ("IBWAPI_VERSION", "2.12"),
        ("IBWAPI_USERNAME", "admin"),
        ("IBWAPI_PASSWORD", "env-pass"),
        ("IBWAPI_NOSESSION", "1"),
    ]
    .map(|(name, value)| IbSetting {
        name: s(name),
        value: s(value),
    });
    let store = open(&options(&settings));
    let mut kind = 99;

    unsafe {
        assert_eq!((api().store_kind)(store, &mut kind), IB_OK);
        assert_eq!(set_full(store, "x", "y"), IB_READ_ONLY_STORE);
        assert!(last_error().contains("unset IBWAPI_HOST"));
        assert_eq!((api().store_remove)(store, ABSENT), IB_READ_ONLY_STORE);
        assert_eq!((api().store_remove_all)(store), IB_READ_ONLY_STORE);
    }
    assert_eq!(kind, 0);
    let env = get(store, ABSENT);
    assert_eq!(env[0].0, "ENV");
    assert_eq!(env[0].4.as_deref(), Some("env-pass"));
    assert_eq!(env[0].5, [0, 1, 1]);
    unsafe { (api().store_free)(store) };
}

unsafe extern "C" fn reverse(_: *mut c_void, a: IbStr, b: IbStr) -> i32 {
    let (a, b) = (text(a).unwrap(), text(b).unwrap());
    b.cmp(&a) as i32
}

#[test]
fn lists_are_sorted_with_the_collate_callback() {
    let config = ConfigDir::empty();
    let path = config.path.to_str().unwrap();
    let settings = [IbSetting {
        name: s("config_path"),
        value: s(path),
    }];
    let mut with_collate = options(&settings);
    with_collate.collate = Some(reverse);
    let store = open(&with_collate);

    for name in ["b", "c", "a"] {
        assert_eq!(set_full(store, name, "pw"), IB_OK);
    }

    assert_eq!(list_names(store), ["c", "b", "a"]);
    unsafe { (api().store_free)(store) };
}

thread_local! {
    static RECORDS: RefCell<Vec<(u32, String)>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn record(_: *mut c_void, level: u32, msg: *const u8, len: usize) {
    let message = text(IbStr { ptr: msg, len }).unwrap();
    RECORDS.with(|records| records.borrow_mut().push((level, message)));
}

#[test]
fn the_log_callback_receives_import_warnings() {
    let config = ConfigDir::with_fixture("posh-ibwapi.truncated.json");
    let status = unsafe { (api().set_log_callback)(Some(record), ptr::null_mut(), 3) };
    assert_eq!(status, IB_OK);
    assert_eq!(
        unsafe { (api().set_log_callback)(Some(record), ptr::null_mut(), 9) },
        IB_INVALID_ARGUMENT
    );

    let store = open_file(&config);

    let records = RECORDS.with(|records| records.take());
    let warnings: Vec<_> = records.iter().filter(|(level, _)| *level == 2).collect();
    assert_eq!(warnings.len(), 1, "{records:#?}");
    assert!(warnings[0].1.starts_with("could not parse config file"));
    assert!(records
        .iter()
        .any(|(level, text)| *level == 3 && text.contains("using the config file")));
    assert!(
        records.iter().all(|(level, _)| *level <= 3),
        "debug records are filtered out"
    );
    unsafe { (api().store_free)(store) };
}

/// An in-memory SecretManagement stand-in behind the C callback: the
/// context of `map_vault_call`.
#[derive(Default)]
struct MapVault {
    /// Name and value; names compare ignoring ASCII case.
    secrets: Mutex<Vec<(String, String)>>,
    ops: Mutex<Vec<u32>>,
    /// (op, kind, message): that operation fails like this.
    failures: Vec<(u32, u32, String)>,
    /// The answer to describe (op 8).
    facts: Vec<String>,
    /// The last reply handle, kept after the call to check it expires.
    last_reply: AtomicUsize,
    /// The status of an `ib_store_open` made from inside the callback.
    reentered: AtomicU32,
}

impl MapVault {
    fn with_fixture() -> MapVault {
        let vault = MapVault::default();
        let fixture = include_str!("fixtures/vault.4x-default-template.json");
        let serde_json_lenient::Value::Object(secrets) =
            serde_json_lenient::from_str(fixture).unwrap()
        else {
            panic!("the fixture is an object");
        };
        for (name, value) in secrets {
            let value = value.as_str().unwrap().to_owned();
            vault.secrets.lock().unwrap().push((name, value));
        }
        vault
    }

    fn get(&self, name: &str) -> Option<String> {
        let secrets = self.secrets.lock().unwrap();
        let found = secrets.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, value)| value.clone())
    }

    fn host(&self) -> IbHostVault {
        IbHostVault {
            call: Some(map_vault_call),
            context: self as *const MapVault as *mut c_void,
        }
    }
}

/// The host's side of `ib_host_vault`, as the .NET module implements it.
unsafe extern "C" fn map_vault_call(
    context: *mut c_void,
    op: u32,
    _vault: IbStr,
    arg1: IbStr,
    arg2: IbStr,
    reply: *mut Reply,
) {
    let vault = &*(context as *const MapVault);
    vault.ops.lock().unwrap().push(op);
    vault.last_reply.store(reply as usize, Ordering::SeqCst);

    if let Some((_, kind, message)) = vault.failures.iter().find(|(o, _, _)| *o == op) {
        (api().host_reply_fail)(reply, *kind, s(message));
        return;
    }

    let name = text(arg1).unwrap_or_default();
    let mut secrets = vault.secrets.lock().unwrap();
    let position = secrets
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case(&name));
    match op {
        4 => {
            // The default template's pattern: a prefix, then `*`.
            let prefix = name.trim_end_matches('*').to_lowercase();
            for (secret, _) in secrets.iter() {
                if secret.to_lowercase().starts_with(&prefix) {
                    (api().host_reply_add)(reply, s(secret));
                }
            }
        }
        5 => match position {
            Some(at) => {
                (api().host_reply_add)(reply, s(&secrets[at].1));
            }
            None => {
                (api().host_reply_fail)(reply, 3, s("not found"));
            }
        },
        6 => {
            let entry = (name, text(arg2).unwrap_or_default());
            match position {
                Some(at) => secrets[at] = entry,
                None => secrets.push(entry),
            }
        }
        7 => {
            if let Some(at) = position {
                secrets.remove(at);
            }
        }
        8 => {
            let mut store = ptr::null_mut();
            let status = (api().store_open)(ptr::null(), &mut store);
            vault.reentered.store(status, Ordering::SeqCst);
            for fact in &vault.facts {
                (api().host_reply_add)(reply, s(fact));
            }
        }
        _ => {}
    }
}

/// Opens a store whose vault is `vault`, reached through the host
/// callback; returns the store and the log records of the open.
fn open_host_vault(
    config: &ConfigDir,
    vault: &MapVault,
    pass: Option<&str>,
) -> (*mut Store, Vec<(u32, String)>) {
    let path = config.path.to_str().unwrap();
    let mut settings = vec![
        IbSetting {
            name: s("config_path"),
            value: s(path),
        },
        IbSetting {
            name: s("IBWAPI_VAULT_NAME"),
            value: s("MyVault"),
        },
    ];
    if let Some(pass) = pass {
        settings.push(IbSetting {
            name: s("IBWAPI_VAULT_PASS"),
            value: s(pass),
        });
    }
    let host = vault.host();
    let mut with_host = options(&settings);
    with_host.host_vault = &host;
    let status = unsafe { (api().set_log_callback)(Some(record), ptr::null_mut(), 3) };
    assert_eq!(status, IB_OK);
    RECORDS.with(|records| records.take());

    let store = open(&with_host);

    (store, RECORDS.with(|records| records.take()))
}

fn kind_of(store: *mut Store) -> u32 {
    let mut kind = 99;
    assert_eq!(unsafe { (api().store_kind)(store, &mut kind) }, IB_OK);
    kind
}

#[test]
fn a_host_vault_serves_set_get_and_remove() {
    let config = ConfigDir::empty();
    let vault = MapVault::with_fixture();

    let (store, records) = open_host_vault(&config, &vault, Some("vault-pass"));

    assert_eq!(kind_of(store), 2, "{records:#?}");
    assert_eq!(vault.ops.lock().unwrap()[..5], [1, 2, 3, 8, 4]);
    assert!(records.iter().all(|(level, _)| *level > 1), "{records:#?}");
    assert!(records.iter().all(|(_, r)| !r.contains("vault-pass")));
    assert_eq!(list_names(store), ["lab", "old", "prod"]);
    let prod = get(store, ABSENT);
    assert_eq!(prod[0].0, "prod");
    assert_eq!(prod[0].4.as_deref(), Some("s3cr3t!"));

    assert_eq!(set_full(store, "new", "pä\"ss"), IB_OK);
    assert_eq!(
        vault.get("poshibwapi-new").as_deref(),
        Some(concat!(
            r#"{"WAPIHost":"gm.example.test","WAPIVersion":"2.12","#,
            r#""Credential":{"Username":"admin","Password":"pä\"ss"},"#,
            r#""SkipCertificateCheck":false,"NoSession":true,"Current":true}"#
        ))
    );
    assert!(vault
        .get("poshibwapi-prod")
        .unwrap()
        .ends_with("\"Current\":false}"));

    assert_eq!(unsafe { (api().store_remove)(store, s("lab")) }, IB_OK);
    assert!(vault.get("poshibwapi-lab").is_none());
    assert!(vault.get("unrelated-secret").is_some());
    assert!(!config.path.exists(), "the config file is never written");
    unsafe { (api().store_free)(store) };
}

#[test]
fn the_reply_is_valid_only_during_the_callback_and_reentry_is_refused() {
    let config = ConfigDir::empty();
    let vault = MapVault::with_fixture();

    let (store, _) = open_host_vault(&config, &vault, None);

    let kept = vault.last_reply.load(Ordering::SeqCst) as *mut Reply;
    assert!(!kept.is_null());
    unsafe {
        assert_eq!((api().host_reply_add)(kept, s("late")), IB_INVALID_HANDLE);
        assert_eq!(
            (api().host_reply_fail)(kept, 1, s("late")),
            IB_INVALID_HANDLE
        );
        assert_eq!(
            (api().host_reply_add)(ptr::null_mut(), s("x")),
            IB_NULL_ARGUMENT
        );
    }
    assert_eq!(vault.reentered.load(Ordering::SeqCst), IB_INVALID_ARGUMENT);
    assert_eq!(kind_of(store), 2);
    unsafe { (api().store_free)(store) };
}

/// Opens with `failures` and expects the config file plus one error record
/// that contains `expected`.
fn assert_host_fallback(failures: Vec<(u32, u32, String)>, expected: &[&str]) {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let vault = MapVault {
        failures,
        ..MapVault::with_fixture()
    };

    let (store, records) = open_host_vault(&config, &vault, Some("vault-pass"));

    assert_eq!(kind_of(store), 1, "{records:#?}");
    assert_eq!(list_names(store), ["lab", "prod"]);
    let errors: Vec<_> = records.iter().filter(|(level, _)| *level == 1).collect();
    assert_eq!(errors.len(), 1, "{records:#?}");
    for text in expected {
        assert!(errors[0].1.contains(text), "{:?} lacks {text}", errors[0]);
    }
    let tail = format!("config file {} instead", config.path.display());
    assert!(errors[0].1.ends_with(&tail), "{:?}", errors[0]);
    unsafe { (api().store_free)(store) };
}

#[test]
fn not_installed_unlock_and_test_failures_fall_back_to_the_file() {
    let cases = [
        (
            (1, 4, "Get-Secret is not recognized"),
            [
                "SecretManagement is not installed",
                "Get-Secret is not recognized",
            ],
        ),
        (
            (2, 1, "SecretStoreUnlockFailed"),
            [
                "could not unlock the vault 'MyVault'",
                "SecretStoreUnlockFailed",
            ],
        ),
        (
            (3, 1, "Test-SecretVault: False"),
            ["failed its test", "Test-SecretVault: False"],
        ),
        (
            (4, 9, "weird kind"),
            ["could not list", "the module's reply was invalid"],
        ),
    ];

    for ((op, kind, message), expected) in cases {
        assert_host_fallback(vec![(op, kind, message.to_owned())], &expected);
    }
}

#[test]
fn vault_failures_have_their_own_statuses() {
    let config = ConfigDir::empty();
    let vault = MapVault {
        facts: vec!["module=Az.KeyVault".to_owned()],
        ..MapVault::with_fixture()
    };
    let (store, _) = open_host_vault(&config, &vault, None);

    assert_eq!(set_full(store, "my_lab", "pw"), IB_VAULT_NAME_REFUSED);
    assert!(last_error().contains("Azure Key Vault"), "{}", last_error());
    assert!(vault.get("poshibwapi-my_lab").is_none());
    unsafe { (api().store_free)(store) };

    let read_only = MapVault {
        failures: vec![(6, 1, "The vault is read-only".to_owned())],
        ..MapVault::with_fixture()
    };
    let (store, _) = open_host_vault(&config, &read_only, None);

    assert_eq!(set_full(store, "lab2", "pw"), IB_VAULT_READ_ONLY);
    assert!(last_error().contains("choose a writable vault or unset IBWAPI_VAULT_NAME"));
    assert_eq!(list_names(store), ["lab", "old", "prod"], "nothing changed");
    unsafe { (api().store_free)(store) };
}

fn refresh(store: *mut Store) -> u8 {
    let mut reloaded = 9;
    assert_eq!(
        unsafe { (api().store_refresh)(store, &mut reloaded) },
        IB_OK
    );
    reloaded
}

#[test]
fn refresh_reloads_what_another_handle_saved_once() {
    let config = ConfigDir::empty();
    let mine = open_file(&config);
    let other = open_file(&config);
    let mut reloaded = 9;

    assert_eq!(refresh(mine), 0);
    assert_eq!(set_full(other, "lab", "pw"), IB_OK);
    assert_eq!(refresh(mine), 1);
    assert_eq!(refresh(mine), 0);
    assert_eq!(list_names(mine), ["lab"]);

    unsafe {
        assert_eq!(
            (api().store_refresh)(mine, ptr::null_mut()),
            IB_NULL_ARGUMENT
        );
        assert_eq!(
            (api().store_refresh)(ptr::null_mut(), &mut reloaded),
            IB_NULL_ARGUMENT
        );
        (api().store_free)(other);
        assert_eq!(
            (api().store_refresh)(other, &mut reloaded),
            IB_INVALID_HANDLE
        );
        (api().store_free)(mine);
    }
    assert_eq!(reloaded, 9, "not written on error");
}

#[test]
fn refresh_with_sync_off_does_nothing() {
    let config = ConfigDir::empty();
    let path = config.path.to_str().unwrap();
    let settings = [
        IbSetting {
            name: s("config_path"),
            value: s(path),
        },
        IbSetting {
            name: s("IBWAPI_CONFIG_SYNC"),
            value: s("Off"),
        },
    ];
    let mine = open(&options(&settings));
    let other = open_file(&config);

    assert_eq!(set_full(other, "lab", "pw"), IB_OK);

    assert_eq!(refresh(mine), 0);
    assert!(list_names(mine).is_empty());
    unsafe {
        (api().store_free)(mine);
        (api().store_free)(other);
    }
}

fn open_file_vault(config: &ConfigDir) -> *mut Store {
    let path = config.path.to_str().unwrap();
    let settings = [
        ("config_path", path),
        ("IBWAPI_VAULT_NAME", "[file]"),
        ("IBWAPI_VAULT_PASS", "abi vault pass"),
    ]
    .map(|(name, value)| IbSetting {
        name: s(name),
        value: s(value),
    });
    open(&options(&settings))
}

/// Migrates and returns the status and, on success, the list's rows.
fn migrate(store: *mut Store, migration: &IbMigration) -> (u32, Vec<Row>) {
    let mut list = ptr::null_mut();

    let status = unsafe { (api().store_migrate)(store, migration, &mut list) };

    if status != IB_OK {
        assert!(list.is_null(), "not written on error");
        return (status, Vec::new());
    }
    let rows = rows(list);
    unsafe { (api().list_free)(list) };
    (status, rows)
}

fn names_and_current(rows: &[Row]) -> Vec<(String, u8)> {
    rows.iter().map(|row| (row.0.clone(), row.5[2])).collect()
}

#[test]
fn migrate_moves_profiles_to_the_vault_and_back() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let original = std::fs::read(&config.path).unwrap();
    let store = open_file_vault(&config);
    assert_eq!(kind_of(store), 2);

    let dry = IbMigration {
        dry_run: 1,
        ..IbMigration::to(2)
    };
    let (status, rows) = migrate(store, &dry);
    assert_eq!(status, IB_OK, "{}", last_error());
    assert_eq!(
        names_and_current(&rows),
        [("lab".into(), 1), ("prod".into(), 0)]
    );
    assert!(list_names(store).is_empty(), "a dry run changes nothing");

    let moving = IbMigration {
        r#move: 1,
        ..IbMigration::to(2)
    };
    let (status, rows) = migrate(store, &moving);
    assert_eq!(status, IB_OK, "{}", last_error());
    assert_eq!(rows[1].4.as_deref(), Some("Pä$$ wörd ✓ \"quoted\""));
    assert_eq!(list_names(store), ["lab", "prod"]);
    assert!(!config.path.exists());

    let back = IbMigration {
        r#move: 1,
        ..IbMigration::to(1)
    };
    let (status, _) = migrate(store, &back);
    assert_eq!(status, IB_OK, "{}", last_error());
    assert!(list_names(store).is_empty());
    assert_eq!(std::fs::read(&config.path).unwrap(), original);
    unsafe { (api().store_free)(store) };
}

#[test]
fn migrate_names_conflicts_and_overwrites_on_request() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let store = open_file_vault(&config);
    let mut edit = IbProfileEdit::named(s("LAB"));
    edit.wapi_host = s("elsewhere.example.test");
    edit.wapi_version = s("2.12");
    edit.username = s("admin");
    edit.password = s("pw");
    assert_eq!(unsafe { (api().store_set)(store, &edit) }, IB_OK);
    let names = [s("prod"), s("Lab")];
    let both = IbMigration {
        names: names.as_ptr(),
        names_len: names.len(),
        ..IbMigration::to(2)
    };

    let (status, _) = migrate(store, &both);
    assert_eq!(status, IB_MIGRATION_CONFLICT);
    assert!(
        last_error().contains("a different profile named 'lab'"),
        "{}",
        last_error()
    );
    assert_eq!(list_names(store), ["LAB"], "nothing was migrated");

    let (status, rows) = migrate(
        store,
        &IbMigration {
            overwrite: 1,
            ..both
        },
    );
    assert_eq!(status, IB_OK, "{}", last_error());
    assert_eq!(
        names_and_current(&rows),
        [("lab".into(), 1), ("prod".into(), 0)]
    );
    assert_eq!(
        get(store, s("lab"))[0].1.as_deref(),
        Some("gm-lab.example.test")
    );
    unsafe { (api().store_free)(store) };
}

#[test]
fn migrate_checks_its_arguments() {
    let config = ConfigDir::with_fixture("posh-ibwapi.ps7-linux.json");
    let store = open_file_vault(&config);
    let file_only = open_file(&config);
    let mut list = ptr::null_mut();
    let missing = [s("nope")];
    let null_name = [ABSENT];

    let cases: [(IbMigration, u32, &str); 7] = [
        (
            IbMigration::to(3),
            IB_INVALID_ARGUMENT,
            "migration.destination",
        ),
        (
            IbMigration {
                r#move: 2,
                ..IbMigration::to(2)
            },
            IB_INVALID_ARGUMENT,
            "migration.move",
        ),
        (
            IbMigration {
                dry_run: 7,
                ..IbMigration::to(2)
            },
            IB_INVALID_ARGUMENT,
            "migration.dry_run",
        ),
        (
            IbMigration {
                names_len: 1,
                ..IbMigration::to(2)
            },
            IB_NULL_ARGUMENT,
            "migration.names",
        ),
        (
            IbMigration {
                names: null_name.as_ptr(),
                names_len: 1,
                ..IbMigration::to(2)
            },
            IB_NULL_ARGUMENT,
            "migration.names[0]",
        ),
        (
            IbMigration {
                names: missing.as_ptr(),
                names_len: 1,
                ..IbMigration::to(2)
            },
            IB_PROFILE_NOT_FOUND,
            "\"nope\" was not found in the config file",
        ),
        (IbMigration::to(2), IB_OK, ""),
    ];
    for (migration, expected, message) in cases {
        let (status, _) = migrate(store, &migration);
        assert_eq!(status, expected, "{message}: {}", last_error());
        assert!(last_error().contains(message), "{}", last_error());
    }

    unsafe {
        let to_vault = IbMigration::to(2);
        assert_eq!(
            (api().store_migrate)(store, ptr::null(), &mut list),
            IB_NULL_ARGUMENT
        );
        assert_eq!(
            (api().store_migrate)(store, &to_vault, ptr::null_mut()),
            IB_NULL_ARGUMENT
        );
        assert_eq!(
            (api().store_migrate)(ptr::null_mut(), &to_vault, &mut list),
            IB_NULL_ARGUMENT
        );
        assert_eq!(
            (api().store_migrate)(file_only, &to_vault, &mut list),
            IB_VAULT_UNAVAILABLE
        );
        assert!(last_error().contains("set IBWAPI_VAULT_NAME"));
        (api().store_free)(store);
        (api().store_free)(file_only);
        assert_eq!(
            (api().store_migrate)(store, &to_vault, &mut list),
            IB_INVALID_HANDLE
        );
    }
    assert!(list.is_null());
}

#[test]
fn the_environment_store_cannot_migrate() {
    let settings = [
        ("IBWAPI_HOST", "gm.example.test"),
        ("IBWAPI_VERSION", "2.12"),
        ("IBWAPI_USERNAME", "admin"),
        ("IBWAPI_PASSWORD", "env-pass"),
        ("IBWAPI_VAULT_NAME", "[file]"),
    ]
    .map(|(name, value)| IbSetting {
        name: s(name),
        value: s(value),
    });
    let store = open(&options(&settings));

    let (status, _) = migrate(store, &IbMigration::to(2));

    assert_eq!(status, IB_READ_ONLY_STORE);
    assert_eq!(refresh(store), 0);
    unsafe { (api().store_free)(store) };
}

#[test]
fn migrate_from_a_host_vault_calls_back_and_writes_the_file() {
    let config = ConfigDir::empty();
    let vault = MapVault::with_fixture();
    let (store, _) = open_host_vault(&config, &vault, None);
    vault.ops.lock().unwrap().clear();

    let (status, rows) = migrate(store, &IbMigration::to(1));

    assert_eq!(status, IB_OK, "{}", last_error());
    assert_eq!(
        names_and_current(&rows),
        [("lab".into(), 0), ("old".into(), 0), ("prod".into(), 1)]
    );
    assert_eq!(
        vault.ops.lock().unwrap()[..],
        [4],
        "one listing to check for changes"
    );
    let file = open_file(&config);
    assert_eq!(list_names(file), ["lab", "old", "prod"]);
    assert_eq!(get(file, ABSENT)[0].0, "prod");
    unsafe {
        (api().store_free)(file);
        (api().store_free)(store);
    }
}
