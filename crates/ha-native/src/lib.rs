//! ha-native: the N-API addon of ha-manager. A thin layer: each module
//! converts JavaScript arguments, calls `ha-native-core`, and converts the
//! result back, all through the safe layer `ha-napi` (this crate has no
//! `unsafe`). The TypeScript side (src/native/) loads it and falls back to
//! TypeScript implementations where one exists.
//!
//! Adding a module: write `src/<name>.rs` with
//! `pub fn register(exports: &Exports) -> ha_napi::Result<()>`, add
//! `mod <name>;` below and its `register` to `MODULES`.
#![forbid(unsafe_code)]

mod info;
mod lease;
mod pool;
mod scheduling;
mod timing;
mod watchdog;

const MODULES: &[ha_napi::Register] = &[
    info::register,
    lease::register,
    pool::register,
    scheduling::register,
    timing::register,
    watchdog::register,
];

ha_napi::addon!(MODULES);
