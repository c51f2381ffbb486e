//! The mux daemon's socket server: one thread accepts clients, one thread
//! per client reads its bytes, and the calling thread feeds the device on a
//! fixed cadence. Feeding has a thread of its own so that no client, however
//! slow, can delay a keep-alive.

use super::protocol::format_status;
use super::state::{
    ClientId, ClientStatus, MuxEvent, MuxReport, MuxSettings, MuxState, StopReason,
};
use crate::sys;
use crate::watchdog::{Release, Released, Watchdog, WatchdogDevice};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

pub type Logger = Arc<dyn Fn(Level, &str) + Send + Sync>;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub socket_path: PathBuf,
    /// Directory that exists while clients depend on the watchdog; a mux
    /// refuses to start while it exists.
    pub active_marker: Option<PathBuf>,
    pub settings: MuxSettings,
    /// Interval between device keep-alives.
    pub tick: Duration,
    /// Run `journalctl --sync` when a client is about to expire, so its logs
    /// survive the reset.
    pub sync_journal: bool,
}

#[derive(Debug)]
pub enum ServeError {
    ActiveMarker(PathBuf),
    Bind { path: PathBuf, source: io::Error },
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::ActiveMarker(path) => write!(
                f,
                "{} exists: a previous watchdog-mux exited while clients depended on the watchdog, \
                 so this node may be about to reset; refusing to start (remove it only once no HA \
                 service runs on this node)",
                path.display()
            ),
            ServeError::Bind { path, source } => {
                write!(f, "cannot listen on {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for ServeError {}

/// How the server ended.
#[derive(Debug)]
pub struct ServerExit {
    pub released: io::Result<Released>,
    pub clients_left: usize,
    pub stop_reason: Option<StopReason>,
}

struct Inner {
    mux: MuxState,
    streams: HashMap<ClientId, UnixStream>,
    closing: bool,
    /// Reported to status queries, known once the device is armed.
    report: Option<MuxReport>,
}

struct Shared {
    inner: Mutex<Inner>,
    wake: Condvar,
    stop: AtomicBool,
    log: Logger,
    config: ServerConfig,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn report(&self, inner: &Inner, events: &[MuxEvent]) {
        for event in events {
            let level = match event {
                MuxEvent::FeedingStopped(_) => Level::Error,
                MuxEvent::ClientNearExpiry { .. } => Level::Warning,
                _ => Level::Info,
            };
            (self.log)(level, &event.to_string());
            match event {
                MuxEvent::ClientNearExpiry { .. } | MuxEvent::FeedingStopped(_)
                    if self.config.sync_journal =>
                {
                    sync_journal()
                }
                MuxEvent::ClientAdded { .. } => self.set_marker(true),
                MuxEvent::AllClientsClosed if !inner.mux.needs_watchdog() => self.set_marker(false),
                _ => {}
            }
        }
    }

    fn set_marker(&self, present: bool) {
        let Some(marker) = &self.config.active_marker else {
            return;
        };
        let result = if present {
            std::fs::create_dir(marker)
        } else {
            std::fs::remove_dir(marker)
        };
        match result {
            Err(e)
                if e.kind() != io::ErrorKind::AlreadyExists
                    && e.kind() != io::ErrorKind::NotFound =>
            {
                (self.log)(
                    Level::Warning,
                    &format!("cannot update {}: {e}", marker.display()),
                )
            }
            _ => {}
        }
    }
}

/// Flushes the journal in the background; the reap happens on a thread so no
/// zombie is left and the feeding loop never waits for it.
fn sync_journal() {
    if let Ok(mut child) = Command::new("journalctl")
        .arg("--sync")
        .stdin(Stdio::null())
        .spawn()
    {
        thread::spawn(move || child.wait());
    }
}

/// Asks a running [`MuxServer::run`] to shut down at once.
#[derive(Clone)]
pub struct StopHandle(Arc<Shared>);

impl StopHandle {
    pub fn stop(&self) {
        self.0.stop.store(true, Ordering::SeqCst);
        self.0.wake.notify_all();
    }
}

pub struct MuxServer {
    listener: UnixListener,
    shared: Arc<Shared>,
}

impl MuxServer {
    /// Refuses to start while the active marker exists, then listens on the
    /// socket path, replacing a stale socket file.
    pub fn bind(config: ServerConfig, log: Logger) -> Result<MuxServer, ServeError> {
        if let Some(marker) = &config.active_marker {
            if marker.exists() {
                return Err(ServeError::ActiveMarker(marker.clone()));
            }
        }
        let path = config.socket_path.clone();
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(ServeError::Bind { path, source: e });
            }
            _ => {}
        }
        let listener =
            UnixListener::bind(&path).map_err(|source| ServeError::Bind { path, source })?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                mux: MuxState::new(config.settings),
                streams: HashMap::new(),
                closing: false,
                report: None,
            }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            log,
            config,
        });
        Ok(MuxServer { listener, shared })
    }

    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.shared.clone())
    }

    /// Serves clients and feeds the device until stopped through a
    /// [`StopHandle`] or until `stop_requested` returns true (checked every
    /// tick). On the way out the device is disarmed only if nothing depends
    /// on it; otherwise it is closed with its timer running.
    pub fn run<D: WatchdogDevice>(
        self,
        mut watchdog: Watchdog<D>,
        stop_requested: &dyn Fn() -> bool,
    ) -> ServerExit {
        let shared = self.shared;
        // Before the first client is accepted: every status answer carries it.
        shared.lock().report = Some(MuxReport {
            tick: shared.config.tick,
            device_timeout: Duration::from_secs(watchdog.timeout_secs().into()),
            device: Some(watchdog.kind()),
        });
        let accept_shared = shared.clone();
        let listener = self.listener;
        let acceptor = thread::spawn(move || accept_loop(listener, accept_shared));

        let tick = shared.config.tick;
        let mut next = Instant::now();
        loop {
            let mut inner = shared.lock();
            let now = loop {
                if shared.stop.load(Ordering::SeqCst) || stop_requested() {
                    break None;
                }
                let now = Instant::now();
                if now >= next {
                    break Some(now);
                }
                inner = shared
                    .wake
                    .wait_timeout(inner, next - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            };
            let Some(now) = now else { break };
            let (feed, events) = inner.mux.tick(now);
            shared.report(&inner, &events);
            drop(inner);
            if feed {
                if let Err(e) = watchdog.keepalive() {
                    (shared.log)(Level::Error, &format!("watchdog keep-alive failed: {e}"));
                }
            }
            next += tick;
            if next < now {
                next = now + tick;
            }
        }

        let mut inner = shared.lock();
        inner.closing = true;
        let needs_watchdog = inner.mux.needs_watchdog();
        let clients_left = inner.mux.client_count();
        let stop_reason = inner.mux.stop_reason().cloned();
        for (_, stream) in inner.streams.drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        drop(inner);
        shared.stop.store(true, Ordering::SeqCst);
        // accept() has no timeout: a connection of our own wakes it.
        let _ = UnixStream::connect(&shared.config.socket_path);
        let _ = acceptor.join();

        let released = if needs_watchdog {
            (shared.log)(Level::Warning, &format!("exiting with {clients_left} client(s) depending on the watchdog: leaving it armed"));
            watchdog.release(Release::KeepTimerRunning)
        } else {
            let released = watchdog.release(Release::Clean);
            (shared.log)(
                Level::Info,
                &match &released {
                    Ok(Released::Disarmed) => "clean exit: watchdog disarmed".to_string(),
                    Ok(Released::NoMagicCloseSupport) => {
                        "clean exit: driver has no magic close, device closed".to_string()
                    }
                    Ok(Released::LeftRunning) => "clean exit: watchdog left running".to_string(),
                    Err(e) => format!("clean exit, but disarming the watchdog failed: {e}"),
                },
            );
            shared.set_marker(false);
            released
        };
        let _ = std::fs::remove_file(&shared.config.socket_path);
        ServerExit {
            released,
            clients_left,
            stop_reason,
        }
    }
}

fn accept_loop(listener: UnixListener, shared: Arc<Shared>) {
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match conn {
            Ok(stream) => stream,
            Err(e) => {
                (shared.log)(Level::Error, &format!("accepting a client failed: {e}"));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        // The clone lets shutdown wake the reader; a client without one
        // could block shutdown, so it is turned away before it counts.
        let wake_handle = match stream.try_clone() {
            Ok(clone) => clone,
            Err(e) => {
                (shared.log)(
                    Level::Error,
                    &format!("refused client: cannot duplicate its socket: {e}"),
                );
                continue;
            }
        };
        let pid = sys::peer_pid(stream.as_raw_fd()).ok();
        let mut inner = shared.lock();
        if inner.closing {
            break;
        }
        let id = match inner.mux.connect(pid, Instant::now()) {
            Ok((id, event)) => {
                shared.report(&inner, &[event]);
                id
            }
            Err(refused) => {
                (shared.log)(Level::Warning, &refused.to_string());
                continue;
            }
        };
        inner.streams.insert(id, wake_handle);
        drop(inner);
        let reader_shared = shared.clone();
        readers.push(thread::spawn(move || {
            read_client(id, stream, reader_shared)
        }));
        readers.retain(|r| !r.is_finished());
    }
    for reader in readers {
        let _ = reader.join();
    }
}

fn read_client(id: ClientId, mut stream: UnixStream, shared: Arc<Shared>) {
    let mut buf = [0u8; 512];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => 0,
        };
        let mut inner = shared.lock();
        if inner.closing {
            return;
        }
        if n == 0 {
            let events = inner.mux.disconnect(id, Instant::now());
            inner.streams.remove(&id);
            shared.report(&inner, &events);
            return;
        }
        let now = Instant::now();
        let (queries, event) = inner.mux.receive(id, &buf[..n], now);
        shared.report(&inner, event.as_slice());
        let status = inner.mux.status(id, now).map(|s| ClientStatus {
            mux: inner.report,
            ..s
        });
        drop(inner);
        if let Some(status) = status {
            for _ in 0..queries {
                if stream.write_all(format_status(&status).as_bytes()).is_err() {
                    break;
                }
            }
        }
    }
}
