//! Which watchdog device to open, loading a driver module first when no
//! device exists: the module named by `WATCHDOG_MODULE` (environment, else
//! the defaults file), else softdog.

use super::{LinuxWatchdog, WatchdogDevice};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const DEFAULT_DEVICE_PATH: &str = "/dev/watchdog";
pub const DEFAULT_DEFAULTS_FILE: &str = "/etc/default/pve-ha-manager";
pub const DEFAULT_MODULE: &str = "softdog";

/// Where to look for the device and its driver configuration.
#[derive(Clone, Debug)]
pub struct DeviceSelection {
    pub device_path: PathBuf,
    /// `WATCHDOG_MODULE` from the environment (systemd passes the defaults
    /// file this way); takes precedence over the file.
    pub module_env: Option<String>,
    pub defaults_file: PathBuf,
}

impl Default for DeviceSelection {
    fn default() -> Self {
        DeviceSelection {
            device_path: DEFAULT_DEVICE_PATH.into(),
            module_env: std::env::var("WATCHDOG_MODULE").ok(),
            defaults_file: DEFAULT_DEFAULTS_FILE.into(),
        }
    }
}

/// The machine the selection runs on; replaced by a fake in tests.
pub trait DeviceHost {
    type Device: WatchdogDevice;
    fn device_exists(&self, path: &Path) -> bool;
    /// The defaults file's contents, `None` when it does not exist.
    fn read_defaults(&self, path: &Path) -> io::Result<Option<String>>;
    /// Loads `module`; a description of the failure otherwise.
    fn load_module(&mut self, module: &str, device: &Path) -> Result<(), String>;
    fn open(&mut self, path: &Path) -> io::Result<Self::Device>;
}

#[derive(Debug)]
pub enum SelectError {
    InvalidModule {
        module: String,
        origin: String,
    },
    DefaultsUnreadable {
        path: PathBuf,
        source: io::Error,
    },
    NoDevice {
        device: PathBuf,
        module: String,
        load_error: Option<String>,
    },
    Open {
        device: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectError::InvalidModule { module, origin } => write!(
                f,
                "WATCHDOG_MODULE={module:?} from {origin} is not a kernel module name \
                 (expected letters, digits, '_' or '-', e.g. softdog, iTCO_wdt, ipmi_watchdog)"
            ),
            SelectError::DefaultsUnreadable { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            SelectError::NoDevice {
                device,
                module,
                load_error,
            } => {
                write!(
                    f,
                    "no watchdog device at {} after loading module '{module}'",
                    device.display()
                )?;
                if let Some(e) = load_error {
                    write!(f, " ({e})")?;
                }
                write!(
                    f,
                    "; check that the module exists for this kernel (`modinfo {module}`), or set \
                     WATCHDOG_MODULE in {DEFAULT_DEFAULTS_FILE} to this board's watchdog driver"
                )
            }
            SelectError::Open { device, source } => {
                write!(
                    f,
                    "cannot open watchdog device {}: {source}",
                    device.display()
                )?;
                if source.raw_os_error() == Some(16) {
                    write!(
                        f,
                        " (another process, e.g. a `watchdog` daemon, holds it open)"
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SelectError {}

/// The value of the last `WATCHDOG_MODULE=` assignment in a shell-style
/// defaults file, quotes removed; `None` when absent or empty.
pub fn parse_defaults_file(contents: &str) -> Option<String> {
    let mut found = None;
    for line in contents.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some(value) = line.strip_prefix("WATCHDOG_MODULE=") else {
            continue;
        };
        let value = value.split(" #").next().unwrap_or("").trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        found = Some(unquoted.to_string());
    }
    found.filter(|m| !m.is_empty())
}

fn valid_module_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The module to load when no device exists, and where that choice came from.
pub fn module_to_load(
    env: Option<&str>,
    defaults: Option<&str>,
    defaults_path: &Path,
) -> Result<(String, String), SelectError> {
    let chosen = match (
        env.filter(|m| !m.trim().is_empty()),
        defaults.and_then(parse_defaults_file),
    ) {
        (Some(m), _) => (m.trim().to_string(), "the environment".to_string()),
        (None, Some(m)) => (m, defaults_path.display().to_string()),
        (None, None) => return Ok((DEFAULT_MODULE.into(), "the built-in default".into())),
    };
    if !valid_module_name(&chosen.0) {
        return Err(SelectError::InvalidModule {
            module: chosen.0,
            origin: chosen.1,
        });
    }
    Ok(chosen)
}

/// What was opened and which module had to be loaded for it, if any.
pub struct Opened<D> {
    pub device: D,
    pub loaded_module: Option<String>,
}

/// Opens the watchdog device, loading its driver first if it does not exist.
pub fn open_watchdog<H: DeviceHost>(
    selection: &DeviceSelection,
    host: &mut H,
) -> Result<Opened<H::Device>, SelectError> {
    let device_path = &selection.device_path;
    let mut loaded_module = None;
    if !host.device_exists(device_path) {
        let defaults = host
            .read_defaults(&selection.defaults_file)
            .map_err(|source| SelectError::DefaultsUnreadable {
                path: selection.defaults_file.clone(),
                source,
            })?;
        let (module, _) = module_to_load(
            selection.module_env.as_deref(),
            defaults.as_deref(),
            &selection.defaults_file,
        )?;
        let load_error = host.load_module(&module, device_path).err();
        if !host.device_exists(device_path) {
            return Err(SelectError::NoDevice {
                device: device_path.clone(),
                module,
                load_error,
            });
        }
        loaded_module = Some(module);
    }
    let device = host.open(device_path).map_err(|source| SelectError::Open {
        device: device_path.clone(),
        source,
    })?;
    Ok(Opened {
        device,
        loaded_module,
    })
}

/// The real machine: `modprobe` and `/dev`.
pub struct SystemHost;

impl DeviceHost for SystemHost {
    type Device = LinuxWatchdog;

    fn device_exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn read_defaults(&self, path: &Path) -> io::Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn load_module(&mut self, module: &str, device: &Path) -> Result<(), String> {
        let status = Command::new("modprobe")
            .args(["-q", module])
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run modprobe: {e}"))?;
        if !status.success() {
            return Err(format!("`modprobe -q {module}` failed with {status}"));
        }
        // udev may create the device node a moment after the module is in.
        let deadline = Instant::now() + Duration::from_secs(2);
        while !device.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn open(&mut self, path: &Path) -> io::Result<LinuxWatchdog> {
        LinuxWatchdog::open(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watchdog::{FakeDevice, FakeDeviceOptions};

    #[derive(Default)]
    struct FakeHost {
        device_present: bool,
        module_creates_device: bool,
        defaults: Option<String>,
        loaded: Vec<String>,
        opened: usize,
    }

    impl DeviceHost for FakeHost {
        type Device = FakeDevice;
        fn device_exists(&self, _: &Path) -> bool {
            self.device_present
        }
        fn read_defaults(&self, _: &Path) -> io::Result<Option<String>> {
            Ok(self.defaults.clone())
        }
        fn load_module(&mut self, module: &str, _: &Path) -> Result<(), String> {
            self.loaded.push(module.to_string());
            if self.module_creates_device {
                self.device_present = true;
                Ok(())
            } else {
                Err(format!("`modprobe -q {module}` failed with exit status: 1"))
            }
        }
        fn open(&mut self, _: &Path) -> io::Result<FakeDevice> {
            self.opened += 1;
            Ok(FakeDevice::new(FakeDeviceOptions::default()))
        }
    }

    fn selection(env: Option<&str>) -> DeviceSelection {
        DeviceSelection {
            device_path: "/dev/watchdog".into(),
            module_env: env.map(String::from),
            defaults_file: DEFAULT_DEFAULTS_FILE.into(),
        }
    }

    #[test]
    fn an_existing_device_is_opened_without_loading_anything() {
        let mut host = FakeHost {
            device_present: true,
            ..Default::default()
        };
        let opened = open_watchdog(&selection(Some("iTCO_wdt")), &mut host).unwrap();
        assert_eq!(opened.loaded_module, None);
        assert!(host.loaded.is_empty());
        assert_eq!(host.opened, 1);
    }

    #[test]
    fn softdog_is_loaded_when_nothing_is_configured() {
        let mut host = FakeHost {
            module_creates_device: true,
            ..Default::default()
        };
        let opened = open_watchdog(&selection(None), &mut host).unwrap();
        assert_eq!(opened.loaded_module.as_deref(), Some("softdog"));
        assert_eq!(host.loaded, vec!["softdog"]);
    }

    #[test]
    fn the_defaults_file_names_the_module() {
        let mut host = FakeHost {
            module_creates_device: true,
            defaults: Some("# select watchdog module\nWATCHDOG_MODULE=ipmi_watchdog\n".into()),
            ..Default::default()
        };
        open_watchdog(&selection(None), &mut host).unwrap();
        assert_eq!(host.loaded, vec!["ipmi_watchdog"]);
    }

    #[test]
    fn the_environment_overrides_the_defaults_file() {
        let mut host = FakeHost {
            module_creates_device: true,
            defaults: Some("WATCHDOG_MODULE=ipmi_watchdog\n".into()),
            ..Default::default()
        };
        open_watchdog(&selection(Some("iTCO_wdt")), &mut host).unwrap();
        assert_eq!(host.loaded, vec!["iTCO_wdt"]);
    }

    #[test]
    fn no_device_after_loading_is_a_clear_refusal() {
        let mut host = FakeHost::default();
        let err = open_watchdog(&selection(None), &mut host).err().unwrap();
        assert_eq!(host.opened, 0, "must not open a device that does not exist");
        let msg = err.to_string();
        assert!(msg.contains("no watchdog device at /dev/watchdog"), "{msg}");
        assert!(msg.contains("'softdog'"), "{msg}");
        assert!(msg.contains("modprobe -q softdog"), "{msg}");
    }

    #[test]
    fn a_module_name_that_is_no_name_is_refused_before_modprobe() {
        let mut host = FakeHost::default();
        let err = open_watchdog(&selection(Some("softdog; reboot")), &mut host)
            .err()
            .unwrap();
        assert!(host.loaded.is_empty());
        assert!(
            err.to_string().contains("is not a kernel module name"),
            "{err}"
        );
    }

    #[test]
    fn defaults_file_parsing_follows_shell_assignment() {
        assert_eq!(
            parse_defaults_file("WATCHDOG_MODULE=softdog"),
            Some("softdog".into())
        );
        assert_eq!(
            parse_defaults_file("export WATCHDOG_MODULE=\"iTCO_wdt\""),
            Some("iTCO_wdt".into())
        );
        assert_eq!(
            parse_defaults_file("WATCHDOG_MODULE='a'\nWATCHDOG_MODULE=b"),
            Some("b".into())
        );
        assert_eq!(parse_defaults_file("#WATCHDOG_MODULE=softdog"), None);
        assert_eq!(parse_defaults_file("WATCHDOG_MODULE="), None);
        assert_eq!(
            parse_defaults_file("WATCHDOG_MODULE=x # comment"),
            Some("x".into())
        );
    }
}
