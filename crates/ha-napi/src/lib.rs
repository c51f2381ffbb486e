//! ha-napi: a small safe layer over hand-declared Node-API functions, for
//! the addons of ha-manager. It converts values with errors that name the
//! argument, hands Rust data to JavaScript as type-tagged externals, and
//! settles promises from other threads. Addon code uses only this layer: all
//! `unsafe` is here, each block with a `SAFETY:` comment (clippy's
//! `undocumented_unsafe_blocks` is denied for the workspace).
//!
//! What the layer guarantees, and how:
//!
//! - **Values cannot outlive their call.** [`Env`] and [`Value`] carry the
//!   lifetime of the JavaScript call (or module load, or promise settlement)
//!   that made them; each entry point creates them inside a closure that is
//!   generic over that lifetime, so a value cannot be stored for a later
//!   call. Neither is `Send`, so neither leaves the JavaScript thread.
//! - **No panic crosses into C.** Every `extern "C"` function of the layer
//!   catches panics and turns them into a JavaScript error, a rejection or a
//!   line on stderr; should anything still unwind, it aborts the process
//!   instead of unwinding into node (undefined behaviour before Rust 1.81).
//! - **Externals are checked by provenance, then by type.** An external made
//!   by another addon, or by another loaded copy of this one, is refused
//!   with a TypeError before its data is touched (Node-API type tags).
//! - **Every promise settles**, with a fallback rejection when the intended
//!   error cannot be created, and a rejection when its [`Completer`] is
//!   dropped unused. Only an environment that is shutting down, which no
//!   JavaScript can observe any more, leaves a promise pending.
//!
//! An addon declares its entry points with [`addon!`] and registers its
//! functions through [`Exports`]:
//!
//! ```no_run
//! use ha_napi::{Args, Env, Exports, Result, Value};
//!
//! fn register(exports: &Exports) -> Result<()> {
//!     exports.function("twice", twice)
//! }
//!
//! fn twice<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
//!     env.number(2.0 * env.to_f64(args.get(0), "n")?)
//! }
//!
//! ha_napi::addon!(&[register]);
//! # fn main() {}
//! ```
//!
//! The compiler refuses to keep a value for a later call:
//!
//! ```compile_fail
//! use ha_napi::{Args, Env, Result, Value};
//! use std::cell::Cell;
//!
//! thread_local!(static KEPT: Cell<Option<Value<'static>>> = Cell::new(None));
//!
//! fn keep<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
//!     KEPT.with(|kept| kept.set(Some(args.get(0)))); // error: 'e must outlive 'static
//!     Ok(env.undefined())
//! }
//! # fn main() {}
//! ```
//!
//! or to send the environment to another thread:
//!
//! ```compile_fail
//! use ha_napi::{Args, Env, Result, Value};
//!
//! fn must_be_send<T: Send>(_: T) {}
//!
//! fn escape<'e>(env: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
//!     must_be_send(env); // error: Env is not Send
//!     Ok(env.undefined())
//! }
//! # fn main() {}
//! ```

mod boundary;
mod env;
mod error;
mod external;
#[cfg(test)]
mod fake;
mod promise;
pub mod sys;

pub use boundary::{register_module, Args, Callback, Exports, Register};
pub use env::{Env, TypedArrayElement, Value};
pub use error::{Error, Result};
pub use promise::{Completer, ToJs};

/// The Node-API version the layer is written against: type tags need 8
/// (Node 12.22+/14.17+; the project requires Node 20).
pub const NAPI_VERSION: i32 = 8;

/// Defines the two entry points node looks up in an addon:
/// `napi_register_module_v1`, which fills the exports from `$modules` (a
/// `&[Register]`), and `node_api_module_get_api_version_v1`.
#[macro_export]
macro_rules! addon {
    ($modules:expr) => {
        /// Called by node when it loads the addon.
        ///
        /// # Safety
        /// Only node calls this, with a live environment and exports object.
        #[no_mangle]
        pub unsafe extern "C" fn napi_register_module_v1(
            env: $crate::sys::napi_env,
            exports: $crate::sys::napi_value,
        ) -> $crate::sys::napi_value {
            // SAFETY: node passes the environment and exports object of the
            // module being loaded, on the JavaScript thread.
            unsafe { $crate::register_module(env, exports, $modules) }
        }

        /// The Node-API version this addon is written against.
        #[no_mangle]
        pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
            $crate::NAPI_VERSION
        }
    };
}
