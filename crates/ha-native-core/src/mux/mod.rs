//! watchdog-mux: one process owns the watchdog device and feeds it only while
//! every local client (CRM, LRM) keeps proving it is alive.

mod client;
pub mod protocol;
mod server;
mod state;

pub use client::MuxClient;
pub use server::{Level, Logger, MuxServer, ServeError, ServerConfig, ServerExit, StopHandle};
pub use state::{
    ClientId, ClientStatus, ConnectRefused, MuxEvent, MuxSettings, MuxState, StopReason,
};

use std::time::Duration;

pub const DEFAULT_SOCKET_PATH: &str = "/run/watchdog-mux.sock";
pub const DEFAULT_ACTIVE_MARKER: &str = "/run/watchdog-mux.active";
/// A client silent this long is considered dead.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_WARN_BEFORE: Duration = Duration::from_secs(10);
/// Device keep-alive interval.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);
/// Hardware timeout: how long after the last keep-alive the node resets.
pub const DEFAULT_DEVICE_TIMEOUT_SECS: u32 = 10;
pub const MAX_CLIENTS: usize = 100;
