//! A watchdog device that records what was done to it instead of resetting
//! anything: the injectable device for tests, and for benchmarks (which can
//! have each keep-alive appended to a file) on machines without a watchdog.

use super::{
    WatchdogDevice, WatchdogInfo, WDIOF_KEEPALIVEPING, WDIOF_MAGICCLOSE, WDIOF_SETTIMEOUT,
};
use crate::sys::monotonic_now_ns;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

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

#[derive(Default)]
struct LogInner {
    ops: Vec<(Instant, DeviceOp)>,
    timer_running: bool,
}

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
            timeout: 60,
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
    fn set_timeout(&mut self, seconds: u32) -> io::Result<u32> {
        self.log.push(DeviceOp::SetTimeout(seconds));
        if self.options.refuse_set_timeout {
            return Err(io::Error::from_raw_os_error(22));
        }
        self.timeout = seconds.min(self.options.max_timeout);
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
