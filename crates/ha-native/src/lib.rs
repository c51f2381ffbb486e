//! ha-native: the N-API addon of ha-manager. A thin layer: each module
//! converts JavaScript arguments, calls `ha-native-core`, and converts the
//! result back. The TypeScript side (src/native/) loads it and falls back to
//! TypeScript implementations where one exists.
//!
//! Adding a module: write `src/<name>.rs` with
//! `pub fn register(exports: &Exports) -> napi::Result<()>`, add `mod <name>;`
//! below and its `register` to `MODULES`.

mod info;
mod lease;
mod napi;
mod pool;
mod scheduling;
mod timing;
mod watchdog;

use napi::sys::{napi_env, napi_value};

const MODULES: &[napi::Register] = &[
    info::register,
    lease::register,
    pool::register,
    scheduling::register,
    timing::register,
    watchdog::register,
];

/// Entry point node looks up when it loads the addon.
///
/// # Safety
/// Called by node with a live environment and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    napi::register_module(env, exports, MODULES)
}

/// The Node-API version this addon is written against (Node 12.22+/14.17+).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}
