//! The real device: a Linux watchdog character device driven by ioctls.

use super::{DeviceKind, WatchdogDevice, WatchdogInfo};
use crate::sys;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::io::AsRawFd;
use std::path::Path;

pub struct LinuxWatchdog {
    file: File,
}

impl LinuxWatchdog {
    /// Opens the device write-only. Opening starts the hardware timer, so the
    /// caller must feed it from here on.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::options().write(true).open(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open watchdog device {}: {e}", path.display()),
            )
        })?;
        Ok(LinuxWatchdog { file })
    }
}

fn seconds(value: i32, what: &str) -> io::Result<u32> {
    u32::try_from(value).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("driver reported a {what} of {value}s"),
        )
    })
}

impl WatchdogDevice for LinuxWatchdog {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Real
    }

    fn set_timeout(&mut self, secs: u32) -> io::Result<u32> {
        let requested = i32::try_from(secs).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("timeout {secs}s is too large"),
            )
        })?;
        seconds(
            sys::wdioc_settimeout(self.file.as_raw_fd(), requested)?,
            "timeout",
        )
    }

    fn get_timeout(&mut self) -> io::Result<u32> {
        seconds(sys::wdioc_gettimeout(self.file.as_raw_fd())?, "timeout")
    }

    fn get_support(&mut self) -> io::Result<WatchdogInfo> {
        let raw = sys::wdioc_getsupport(self.file.as_raw_fd())?;
        let end = raw
            .identity
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw.identity.len());
        Ok(WatchdogInfo {
            identity: String::from_utf8_lossy(&raw.identity[..end]).into_owned(),
            firmware_version: raw.firmware_version,
            options: raw.options,
        })
    }

    fn keepalive(&mut self) -> io::Result<()> {
        sys::wdioc_keepalive(self.file.as_raw_fd())
    }

    fn write_magic(&mut self) -> io::Result<()> {
        self.file.write_all(b"V")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_missing_device_names_it() {
        let err = LinuxWatchdog::open(Path::new("/nonexistent/watchdog0"))
            .err()
            .unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/watchdog0"), "{err}");
    }

    #[test]
    fn a_file_that_is_no_watchdog_refuses_the_ioctls() {
        let path = std::env::temp_dir().join(format!("ha-native-notwd-{}", std::process::id()));
        std::fs::write(&path, b"").unwrap();
        let mut dev = LinuxWatchdog::open(&path).unwrap();
        assert!(dev.set_timeout(10).is_err());
        assert!(dev.get_support().is_err());
        assert!(dev.keepalive().is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
