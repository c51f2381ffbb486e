//! watchdog-mux: one process owns the watchdog device and feeds it only while
//! every local client (CRM, LRM) keeps proving it is alive.

mod client;
pub mod protocol;
mod server;
mod state;

pub use client::MuxClient;
pub use server::{Level, Logger, MuxServer, ServeError, ServerConfig, ServerExit, StopHandle};
pub use state::{
    ClientId, ClientStatus, ConnectRefused, MuxEvent, MuxReport, MuxSettings, MuxState, StopReason,
};

use std::time::Duration;

pub const DEFAULT_SOCKET_PATH: &str = "/run/watchdog-mux.sock";
pub const DEFAULT_ACTIVE_MARKER: &str = "/run/watchdog-mux.active";
// The client timeout, tick and device timeout default to the `default`
// timing profile's (crate::timing).
pub const DEFAULT_WARN_BEFORE: Duration = Duration::from_secs(10);
pub const MAX_CLIENTS: usize = 100;
