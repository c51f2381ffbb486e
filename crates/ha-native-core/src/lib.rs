//! The time-critical parts of ha-manager, kept out of the JavaScript event
//! loop: the watchdog device layer and the watchdog-mux, lock lease timing,
//! and the worker pool for resource commands. The N-API crate `ha-native`
//! and the `watchdog-mux` binary are thin layers over this crate.

mod arch;
mod ioctl;
pub mod lease;
pub mod mux;
pub mod pool;
mod sys;
pub mod timing;
pub mod watchdog;

pub use sys::{install_termination_handlers, monotonic_now_ns, termination_signal};
