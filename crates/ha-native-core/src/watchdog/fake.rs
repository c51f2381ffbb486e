//! A watchdog device that records what was done to it instead of resetting
//! anything: the injectable device for tests, and for benchmarks (which can
//! have each keep-alive appended to a file) on machines without a watchdog.
//! Its timer runs like a real one (from open, restarted by each keep-alive
//! and timeout change, stopped by a magic close), so [`watch_expiry`] can
//! tell the moment a real device would have reset the machine: the cluster
//! lab emulates the reset then.

use super::{
    DeviceKind, WatchdogDevice, WatchdogInfo, WDIOF_KEEPALIVEPING, WDIOF_MAGICCLOSE,
    WDIOF_SETTIMEOUT,
};
use crate::sys::monotonic_now_ns;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceOp {
    SetTimeout(u32),
    GetTimeout,
    GetSupport,
    KeepAlive,
    WriteMagic,
    Close { magic_written: bool },
}

#[derive(Clone, Debug)]
pub struct FakeDeviceOptions {
    pub magic_close_supported: bool,
    /// Largest timeout the "driver" accepts; larger requests are clamped.
    pub max_timeout: u32,
    pub refuse_set_timeout: bool,
    pub fail_keepalive: bool,
    /// Append `<CLOCK_MONOTONIC ns>` for every keep-alive to this file.
    pub record_keepalives_to: Option<PathBuf>,
}

impl Default for FakeDeviceOptions {
    fn default() -> Self {
        FakeDeviceOptions {
            magic_close_supported: true,
            max_timeout: u32::MAX,
            refuse_set_timeout: false,
            fail_keepalive: false,
            record_keepalives_to: None,
        }
    }
}

struct LogInner {
    ops: Vec<(Instant, DeviceOp)>,
    timer_running: bool,
    /// The last keep-alive (or the open, or a timeout change): the timer's start.
    last_ping: Instant,
    timeout: Duration,
    expired_at: Option<Instant>,
}

impl Default for LogInner {
    fn default() -> Self {
        LogInner {
            ops: Vec::new(),
            timer_running: false,
            last_ping: Instant::now(),
            timeout: Duration::from_secs(FAKE_DEFAULT_TIMEOUT_SECS.into()),
            expired_at: None,
        }
    }
}

/// The timeout a fake device starts with, before anyone sets one.
const FAKE_DEFAULT_TIMEOUT_SECS: u32 = 60;

/// Shared view of a [`FakeDevice`]'s history, readable while the device is
/// owned elsewhere (for example by a running mux).
#[derive(Clone, Default)]
pub struct FakeDeviceLog(Arc<Mutex<LogInner>>);

impl FakeDeviceLog {
    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, op: DeviceOp) {
        self.lock().ops.push((Instant::now(), op));
    }

    pub fn ops(&self) -> Vec<DeviceOp> {
        self.lock().ops.iter().map(|(_, op)| op.clone()).collect()
    }

    pub fn keepalives(&self) -> Vec<Instant> {
        self.lock()
            .ops
            .iter()
            .filter(|(_, op)| *op == DeviceOp::KeepAlive)
            .map(|(at, _)| *at)
            .collect()
    }

    /// Whether the simulated hardware timer would still reset the machine.
    pub fn timer_running(&self) -> bool {
        self.lock().timer_running
    }

    /// When the timer ran out, if it has (a real device would have reset the
    /// machine at that moment).
    pub fn expired_at(&self) -> Option<Instant> {
        self.lock().expired_at
    }

    /// The timer restarts, as the driver does on a keep-alive or a new timeout.
    fn ping(&self) {
        self.lock().last_ping = Instant::now();
    }

    /// Marks the timer expired when it ran out by `now`; otherwise returns
    /// how long it still runs (None once it was stopped or has expired).
    fn check_expiry(&self, now: Instant) -> Result<(), Option<Duration>> {
        let mut inner = self.lock();
        if !inner.timer_running || inner.expired_at.is_some() {
            return Err(None);
        }
        let deadline = inner.last_ping + inner.timeout;
        if now >= deadline {
            inner.expired_at = Some(deadline);
            return Ok(());
        }
        Err(Some(deadline - now))
    }
}

/// Watches the device's timer on a thread of its own and calls `on_expiry`
/// once, when it runs out: the moment a real device would reset the machine
/// (also after the device was closed without the magic character, as the
/// kernel keeps counting then). The thread ends after calling it, or when a
/// magic close stopped the timer.
pub fn watch_expiry(
    log: FakeDeviceLog,
    on_expiry: impl FnOnce() + Send + 'static,
) -> JoinHandle<()> {
    thread::spawn(move || loop {
        match log.check_expiry(Instant::now()) {
            Ok(()) => {
                on_expiry();
                return;
            }
            Err(None) => return,
            // A keep-alive only moves the deadline later, so sleeping until
            // the one known now never oversleeps an expiry; the cap bounds
            // how late a stopped timer is noticed.
            Err(Some(left)) => thread::sleep(left.min(Duration::from_millis(250))),
        }
    })
}

pub struct FakeDevice {
    options: FakeDeviceOptions,
    timeout: u32,
    magic_written: bool,
    log: FakeDeviceLog,
    record: Option<File>,
}

impl FakeDevice {
    pub fn new(options: FakeDeviceOptions) -> Self {
        Self::try_new(options).expect("fake device without a record file cannot fail")
    }

    /// Like [`FakeDevice::new`], but opening the record file may fail.
    pub fn try_new(options: FakeDeviceOptions) -> io::Result<Self> {
        let record = match &options.record_keepalives_to {
            Some(path) => Some(
                File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| {
                        io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
                    })?,
            ),
            None => None,
        };
        let log = FakeDeviceLog::default();
        log.lock().timer_running = true;
        Ok(FakeDevice {
            options,
            timeout: FAKE_DEFAULT_TIMEOUT_SECS,
            magic_written: false,
            log,
            record,
        })
    }

    pub fn log(&self) -> FakeDeviceLog {
        self.log.clone()
    }
}

impl WatchdogDevice for FakeDevice {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Simulated
    }

    fn set_timeout(&mut self, seconds: u32) -> io::Result<u32> {
        self.log.push(DeviceOp::SetTimeout(seconds));
        if self.options.refuse_set_timeout {
            return Err(io::Error::from_raw_os_error(22));
        }
        self.timeout = seconds.min(self.options.max_timeout);
        self.log.lock().timeout = Duration::from_secs(self.timeout.into());
        self.log.ping();
        Ok(self.timeout)
    }

    fn get_timeout(&mut self) -> io::Result<u32> {
        self.log.push(DeviceOp::GetTimeout);
        Ok(self.timeout)
    }

    fn get_support(&mut self) -> io::Result<WatchdogInfo> {
        self.log.push(DeviceOp::GetSupport);
        let mut options = WDIOF_SETTIMEOUT | WDIOF_KEEPALIVEPING;
        if self.options.magic_close_supported {
            options |= WDIOF_MAGICCLOSE;
        }
        Ok(WatchdogInfo {
            identity: "fake watchdog".into(),
            firmware_version: 0,
            options,
        })
    }

    fn keepalive(&mut self) -> io::Result<()> {
        if self.options.fail_keepalive {
            return Err(io::Error::from_raw_os_error(5));
        }
        self.log.push(DeviceOp::KeepAlive);
        self.log.ping();
        if let Some(file) = &mut self.record {
            writeln!(file, "{}", monotonic_now_ns())?;
        }
        Ok(())
    }

    fn write_magic(&mut self) -> io::Result<()> {
        self.log.push(DeviceOp::WriteMagic);
        self.magic_written = true;
        Ok(())
    }
}

impl Drop for FakeDevice {
    fn drop(&mut self) {
        let magic_written = self.magic_written;
        self.log.push(DeviceOp::Close { magic_written });
        // The kernel stops the timer on close after a magic 'V', and on any
        // close for drivers without WDIOF_MAGICCLOSE (unless nowayout is set).
        if magic_written || !self.options.magic_close_supported {
            self.log.lock().timer_running = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn device_with_timeout(secs: u32) -> (FakeDevice, FakeDeviceLog, mpsc::Receiver<Instant>) {
        let mut device = FakeDevice::new(FakeDeviceOptions::default());
        device.set_timeout(secs).unwrap();
        let log = device.log();
        let (tx, rx) = mpsc::channel();
        watch_expiry(log.clone(), move || tx.send(Instant::now()).unwrap());
        (device, log, rx)
    }

    #[test]
    fn the_timer_expires_one_timeout_after_the_last_keepalive() {
        let (mut device, log, fired) = device_with_timeout(1);
        let mut last = Instant::now();
        for _ in 0..6 {
            thread::sleep(Duration::from_millis(200));
            device.keepalive().unwrap();
            last = Instant::now();
        }
        assert!(
            log.expired_at().is_none(),
            "fed within its timeout, it must not expire"
        );
        let at = fired
            .recv_timeout(Duration::from_secs(3))
            .expect("expiry not reported");
        let after = at - last;
        assert!(
            after >= Duration::from_millis(990),
            "expired too early: {after:?} after the last keep-alive"
        );
        assert!(
            after < Duration::from_millis(1500),
            "expired too late: {after:?} after the last keep-alive"
        );
        assert!(log.expired_at().is_some());
    }

    #[test]
    fn closing_without_magic_keeps_the_timer_running_to_expiry() {
        let (device, _log, fired) = device_with_timeout(1);
        let closed = Instant::now();
        drop(device);
        let at = fired
            .recv_timeout(Duration::from_secs(3))
            .expect("expiry not reported");
        assert!(at - closed >= Duration::from_millis(900));
    }

    #[test]
    fn a_magic_close_stops_the_timer_for_good() {
        let (mut device, log, fired) = device_with_timeout(1);
        device.write_magic().unwrap();
        drop(device);
        assert!(fired.recv_timeout(Duration::from_millis(1600)).is_err());
        assert!(log.expired_at().is_none());
    }
}
