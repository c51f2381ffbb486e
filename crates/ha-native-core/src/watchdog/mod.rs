//! The watchdog device layer. [`WatchdogDevice`] is what a driver offers
//! (`/dev/watchdog` on a real node, [`FakeDevice`] in tests and benchmarks);
//! [`Watchdog`] is the policy on top: arm with a timeout, feed, and disarm
//! with the magic close only when a clean shutdown asks for it and the driver
//! honours it.

mod fake;
mod linux;
mod select;

pub use fake::{watch_expiry, DeviceOp, FakeDevice, FakeDeviceLog, FakeDeviceOptions};
pub use linux::LinuxWatchdog;
pub use select::{
    module_to_load, open_watchdog, parse_defaults_file, DeviceHost, DeviceSelection, Opened,
    SelectError, SystemHost, DEFAULT_DEFAULTS_FILE, DEFAULT_DEVICE_PATH, DEFAULT_MODULE,
};

use std::fmt;
use std::io;

/// `WDIOF_SETTIMEOUT`: the driver accepts WDIOC_SETTIMEOUT.
pub const WDIOF_SETTIMEOUT: u32 = 0x0080;
/// `WDIOF_MAGICCLOSE`: writing 'V' before close stops the timer.
pub const WDIOF_MAGICCLOSE: u32 = 0x0100;
/// `WDIOF_KEEPALIVEPING`: the driver accepts WDIOC_KEEPALIVE.
pub const WDIOF_KEEPALIVEPING: u32 = 0x8000;

/// What WDIOC_GETSUPPORT reports about a driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogInfo {
    pub identity: String,
    pub firmware_version: u32,
    pub options: u32,
}

impl WatchdogInfo {
    pub fn supports_magic_close(&self) -> bool {
        self.options & WDIOF_MAGICCLOSE != 0
    }
}

/// Whether a device can reset the machine. A simulated one only tells when a
/// real one would have; the mux reports which it feeds, so a daemon on a
/// scaled test clock may arm against a simulated device but never a real one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Real,
    Simulated,
}

/// Operations of an open watchdog device. Dropping a device closes it
/// without the magic character, which leaves the timer running.
pub trait WatchdogDevice: Send {
    /// Whether this device resets the machine or only simulates it.
    fn kind(&self) -> DeviceKind;
    /// WDIOC_SETTIMEOUT; returns the timeout the driver actually applied.
    fn set_timeout(&mut self, seconds: u32) -> io::Result<u32>;
    /// WDIOC_GETTIMEOUT.
    fn get_timeout(&mut self) -> io::Result<u32>;
    /// WDIOC_GETSUPPORT.
    fn get_support(&mut self) -> io::Result<WatchdogInfo>;
    /// WDIOC_KEEPALIVE.
    fn keepalive(&mut self) -> io::Result<()>;
    /// Writes the magic character 'V'; the close that follows then stops the
    /// timer on drivers with WDIOF_MAGICCLOSE.
    fn write_magic(&mut self) -> io::Result<()>;
}

impl<D: WatchdogDevice + ?Sized> WatchdogDevice for Box<D> {
    fn kind(&self) -> DeviceKind {
        (**self).kind()
    }
    fn set_timeout(&mut self, seconds: u32) -> io::Result<u32> {
        (**self).set_timeout(seconds)
    }
    fn get_timeout(&mut self) -> io::Result<u32> {
        (**self).get_timeout()
    }
    fn get_support(&mut self) -> io::Result<WatchdogInfo> {
        (**self).get_support()
    }
    fn keepalive(&mut self) -> io::Result<()> {
        (**self).keepalive()
    }
    fn write_magic(&mut self) -> io::Result<()> {
        (**self).write_magic()
    }
}

/// Why a watchdog could not be armed.
#[derive(Debug)]
pub enum ArmError {
    SetTimeout {
        requested: u32,
        source: io::Error,
    },
    GetTimeout(io::Error),
    GetSupport(io::Error),
    /// The driver applied a timeout too short for the feeding interval.
    TimeoutTooShort {
        applied: u32,
        minimum: u32,
    },
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArmError::SetTimeout { requested, source } => write!(
                f,
                "the watchdog driver refused a timeout of {requested}s (WDIOC_SETTIMEOUT: {source})"
            ),
            ArmError::GetTimeout(e) => {
                write!(
                    f,
                    "could not read the watchdog timeout back (WDIOC_GETTIMEOUT: {e})"
                )
            }
            ArmError::GetSupport(e) => {
                write!(
                    f,
                    "could not read the watchdog driver identity (WDIOC_GETSUPPORT: {e})"
                )
            }
            ArmError::TimeoutTooShort { applied, minimum } => write!(
                f,
                "the watchdog driver applied a timeout of {applied}s, but at least {minimum}s \
                 are needed to feed it safely; choose a larger timeout"
            ),
        }
    }
}

impl std::error::Error for ArmError {}

/// How the watchdog is let go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// A requested shutdown with nothing left to protect: disarm if the
    /// driver supports the magic close.
    Clean,
    /// Anything else: close without the magic character, so the timer keeps
    /// running and resets the node unless someone else feeds it.
    KeepTimerRunning,
}

/// What [`Watchdog::release`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Released {
    /// 'V' was written and the device closed: the driver stops the timer.
    Disarmed,
    /// Closed without 'V': the timer is still running.
    LeftRunning,
    /// A clean release was asked for, but the driver lacks WDIOF_MAGICCLOSE,
    /// so 'V' was not written; what closing does is up to the driver.
    NoMagicCloseSupport,
}

/// An armed watchdog: the device is opened once and kept open until
/// [`Watchdog::release`]; dropping it equals `release(KeepTimerRunning)`.
pub struct Watchdog<D: WatchdogDevice> {
    device: D,
    info: WatchdogInfo,
    timeout_secs: u32,
}

impl<D: WatchdogDevice> Watchdog<D> {
    /// Sets the timeout, reads back what the driver applied and who it is.
    /// `minimum_secs` guards against drivers that round a timeout down below
    /// what the feeding cadence can sustain.
    ///
    /// On failure the device is closed with the magic character: nothing has
    /// relied on the watchdog yet, and the timer that opening started would
    /// otherwise reset a healthy node.
    pub fn arm(mut device: D, timeout_secs: u32, minimum_secs: u32) -> Result<Self, ArmError> {
        match Self::configure(&mut device, timeout_secs, minimum_secs) {
            Ok((info, applied)) => Ok(Watchdog {
                device,
                info,
                timeout_secs: applied,
            }),
            Err(e) => {
                let _ = device.write_magic();
                Err(e)
            }
        }
    }

    fn configure(
        device: &mut D,
        timeout_secs: u32,
        minimum_secs: u32,
    ) -> Result<(WatchdogInfo, u32), ArmError> {
        device
            .set_timeout(timeout_secs)
            .map_err(|source| ArmError::SetTimeout {
                requested: timeout_secs,
                source,
            })?;
        let applied = device.get_timeout().map_err(ArmError::GetTimeout)?;
        let info = device.get_support().map_err(ArmError::GetSupport)?;
        if applied < minimum_secs {
            return Err(ArmError::TimeoutTooShort {
                applied,
                minimum: minimum_secs,
            });
        }
        Ok((info, applied))
    }

    pub fn keepalive(&mut self) -> io::Result<()> {
        self.device.keepalive()
    }

    pub fn info(&self) -> &WatchdogInfo {
        &self.info
    }

    pub fn timeout_secs(&self) -> u32 {
        self.timeout_secs
    }

    pub fn kind(&self) -> DeviceKind {
        self.device.kind()
    }

    pub fn release(mut self, how: Release) -> io::Result<Released> {
        match how {
            Release::KeepTimerRunning => Ok(Released::LeftRunning),
            Release::Clean if !self.info.supports_magic_close() => {
                Ok(Released::NoMagicCloseSupport)
            }
            Release::Clean => {
                self.device.write_magic()?;
                Ok(Released::Disarmed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(options: FakeDeviceOptions) -> (FakeDevice, FakeDeviceLog) {
        let device = FakeDevice::new(options);
        let log = device.log();
        (device, log)
    }

    #[test]
    fn arm_sets_then_reads_the_timeout_and_identity() {
        let (device, log) = fake(FakeDeviceOptions::default());
        let wd = Watchdog::arm(device, 10, 2).unwrap();
        assert_eq!(wd.timeout_secs(), 10);
        assert_eq!(wd.info().identity, "fake watchdog");
        assert_eq!(
            log.ops(),
            vec![
                DeviceOp::SetTimeout(10),
                DeviceOp::GetTimeout,
                DeviceOp::GetSupport
            ]
        );
    }

    #[test]
    fn arm_reports_the_timeout_the_driver_applied() {
        let (device, _) = fake(FakeDeviceOptions {
            max_timeout: 8,
            ..Default::default()
        });
        let wd = Watchdog::arm(device, 10, 2).unwrap();
        assert_eq!(wd.timeout_secs(), 8);
    }

    #[test]
    fn arm_refuses_a_timeout_rounded_below_the_minimum() {
        let (device, _) = fake(FakeDeviceOptions {
            max_timeout: 1,
            ..Default::default()
        });
        let err = Watchdog::arm(device, 10, 3).err().unwrap();
        assert!(matches!(
            err,
            ArmError::TimeoutTooShort {
                applied: 1,
                minimum: 3
            }
        ));
        assert!(err.to_string().contains("at least 3s"));
    }

    #[test]
    fn arm_fails_when_the_driver_refuses_the_timeout() {
        let (device, log) = fake(FakeDeviceOptions {
            refuse_set_timeout: true,
            ..Default::default()
        });
        let err = Watchdog::arm(device, 10, 2).err().unwrap();
        assert!(
            err.to_string().contains("refused a timeout of 10s"),
            "{err}"
        );
        assert_eq!(
            log.ops().last(),
            Some(&DeviceOp::Close {
                magic_written: true
            })
        );
        assert!(
            !log.timer_running(),
            "a watchdog that could not be armed must not reset the node"
        );
    }

    #[test]
    fn clean_release_writes_magic_when_supported() {
        let (device, log) = fake(FakeDeviceOptions::default());
        let wd = Watchdog::arm(device, 10, 2).unwrap();
        assert_eq!(wd.release(Release::Clean).unwrap(), Released::Disarmed);
        assert_eq!(
            log.ops().last(),
            Some(&DeviceOp::Close {
                magic_written: true
            })
        );
        assert!(!log.timer_running());
    }

    #[test]
    fn clean_release_skips_magic_without_driver_support() {
        let (device, log) = fake(FakeDeviceOptions {
            magic_close_supported: false,
            ..Default::default()
        });
        let wd = Watchdog::arm(device, 10, 2).unwrap();
        assert_eq!(
            wd.release(Release::Clean).unwrap(),
            Released::NoMagicCloseSupport
        );
        assert!(!log.ops().contains(&DeviceOp::WriteMagic));
    }

    #[test]
    fn unclean_release_and_drop_leave_the_timer_running() {
        let (device, log) = fake(FakeDeviceOptions::default());
        let wd = Watchdog::arm(device, 10, 2).unwrap();
        assert_eq!(
            wd.release(Release::KeepTimerRunning).unwrap(),
            Released::LeftRunning
        );
        assert_eq!(
            log.ops().last(),
            Some(&DeviceOp::Close {
                magic_written: false
            })
        );
        assert!(log.timer_running());

        let (device, log) = fake(FakeDeviceOptions::default());
        drop(Watchdog::arm(device, 10, 2).unwrap());
        assert!(!log.ops().contains(&DeviceOp::WriteMagic));
        assert!(log.timer_running());
    }

    #[test]
    fn keepalive_reaches_the_device() {
        let (device, log) = fake(FakeDeviceOptions::default());
        let mut wd = Watchdog::arm(device, 10, 2).unwrap();
        wd.keepalive().unwrap();
        wd.keepalive().unwrap();
        assert_eq!(log.keepalives().len(), 2);
    }
}
