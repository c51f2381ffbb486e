//! watchdog-mux: owns the node's watchdog device and feeds it while every
//! local HA daemon connected to its socket keeps proving it is alive. A
//! native binary, so no garbage-collection pause can delay a keep-alive.
//! The protocol and operation are described in docs/NATIVE.md.

use ha_native_core::mux::{
    Level, Logger, MuxServer, MuxSettings, ServerConfig, DEFAULT_ACTIVE_MARKER,
    DEFAULT_SOCKET_PATH, DEFAULT_WARN_BEFORE, MAX_CLIENTS,
};
use ha_native_core::timing::{self, Profile};
use ha_native_core::watchdog::{
    open_watchdog, watch_expiry, DeviceSelection, FakeDevice, FakeDeviceOptions, SystemHost,
    Watchdog, WatchdogDevice, DEFAULT_DEFAULTS_FILE, DEFAULT_DEVICE_PATH,
};
use ha_native_core::{install_termination_handlers, monotonic_now_ns, termination_signal};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "\
usage: watchdog-mux [options]

Owns the watchdog device and feeds it while all local clients are alive.

options:
  --socket PATH            client socket (default /run/watchdog-mux.sock)
  --active-marker PATH     directory kept while clients depend on the watchdog
                           (default /run/watchdog-mux.active); 'none' disables it
  --device PATH            watchdog device (default /dev/watchdog)
  --defaults-file PATH     file that may set WATCHDOG_MODULE
                           (default /etc/default/pve-ha-manager)
  --profile NAME           take the three timings below from this timing profile
                           (share/timing-profiles.cfg; default: 'default'); the
                           options below, given as well, override it
  --timeout SECS           hardware timeout (default 10)
  --client-timeout-ms MS   a client silent this long is dead (default 60000)
  --tick-ms MS             keep-alive interval (default 1000)
  --no-journal-sync        do not run `journalctl --sync` before a reset
  --fake-device            do not touch hardware: feed a simulated device
                           (tests and benchmarks only: this node is NOT protected)
  --record-keepalives FILE with --fake-device, append each keep-alive's
                           CLOCK_MONOTONIC time in ns to FILE
  --fake-device-expired FILE|exit:CODE
                           with --fake-device, when the simulated timer runs
                           out (where a real device would reset the node):
                           append its CLOCK_MONOTONIC time in ns to FILE, or
                           exit at once with status CODE (1-255)
  -h, --help               show this help
  -V, --version            print the version and where this binary is
";

/// The version, and the file that is running (the one systemd or a package points at).
fn version_text() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"));
    format!(
        "watchdog-mux {}\nnative: this binary, {exe}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// What to do when the simulated device's timer runs out.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ExpiryAction {
    AppendTo(PathBuf),
    Exit(u8),
}

impl ExpiryAction {
    fn parse(v: &str) -> Result<ExpiryAction, String> {
        match v.strip_prefix("exit:") {
            Some(code) => code
                .parse::<u8>()
                .ok()
                .filter(|c| *c > 0)
                .map(ExpiryAction::Exit)
                .ok_or_else(|| {
                    format!("--fake-device-expired exit:CODE expects a status from 1 to 255, got {code:?}")
                }),
            None if v.is_empty() => Err("--fake-device-expired needs a file or exit:CODE".into()),
            None => Ok(ExpiryAction::AppendTo(v.into())),
        }
    }

    /// Runs on the device's watcher thread, at the moment of expiry.
    fn fire(&self, log: &Logger) {
        log(
            Level::Error,
            "the simulated watchdog expired: a real device would reset the node now",
        );
        match self {
            ExpiryAction::Exit(code) => std::process::exit((*code).into()),
            ExpiryAction::AppendTo(path) => {
                let written = std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut f| writeln!(f, "{}", monotonic_now_ns()));
                if let Err(e) = written {
                    log(
                        Level::Error,
                        &format!(
                            "--fake-device-expired: cannot write {}: {e}",
                            path.display()
                        ),
                    );
                }
            }
        }
    }
}

struct Options {
    config: ServerConfig,
    selection: DeviceSelection,
    timeout_secs: u32,
    fake_device: bool,
    record: Option<PathBuf>,
    on_expiry: Option<ExpiryAction>,
}

/// Warn this long before a client expires, at most a sixth of its timeout.
fn warn_before(client_timeout: Duration) -> Duration {
    DEFAULT_WARN_BEFORE.min(client_timeout / 6)
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let args: Vec<String> = args.collect();
    // The profile first, wherever it stands: the single options override it.
    let mut profile: &Profile = timing::default_profile();
    for pair in args.windows(2) {
        if pair[0] == "--profile" {
            profile = timing::profile(&pair[1]).ok_or_else(|| {
                let known: Vec<&str> = timing::profiles().iter().map(|p| p.name.as_str()).collect();
                format!(
                    "unknown timing profile {:?} (known: {})",
                    pair[1],
                    known.join(", ")
                )
            })?;
        }
    }
    let mut options = Options {
        config: ServerConfig {
            socket_path: DEFAULT_SOCKET_PATH.into(),
            active_marker: Some(DEFAULT_ACTIVE_MARKER.into()),
            settings: MuxSettings {
                client_timeout: profile.client_timeout,
                warn_before: warn_before(profile.client_timeout),
                max_clients: MAX_CLIENTS,
            },
            tick: profile.mux_tick,
            sync_journal: true,
        },
        selection: DeviceSelection {
            device_path: DEFAULT_DEVICE_PATH.into(),
            module_env: std::env::var("WATCHDOG_MODULE").ok(),
            defaults_file: DEFAULT_DEFAULTS_FILE.into(),
        },
        timeout_secs: profile.device_timeout_secs(),
        fake_device: false,
        record: None,
        on_expiry: None,
    };
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} expects a positive whole number, got {v:?}"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--profile" => {
                value(&arg)?;
            }
            "--socket" => options.config.socket_path = value(&arg)?.into(),
            "--active-marker" => {
                let v = value(&arg)?;
                options.config.active_marker = if v == "none" { None } else { Some(v.into()) };
            }
            "--device" => options.selection.device_path = value(&arg)?.into(),
            "--defaults-file" => options.selection.defaults_file = value(&arg)?.into(),
            "--timeout" => {
                let v = number(&arg, value(&arg)?)?;
                options.timeout_secs =
                    u32::try_from(v).map_err(|_| format!("--timeout {v} is too large"))?;
            }
            "--client-timeout-ms" => {
                let ms = number(&arg, value(&arg)?)?;
                options.config.settings.client_timeout = Duration::from_millis(ms);
                options.config.settings.warn_before = warn_before(Duration::from_millis(ms));
            }
            "--tick-ms" => options.config.tick = Duration::from_millis(number(&arg, value(&arg)?)?),
            "--no-journal-sync" => options.config.sync_journal = false,
            "--fake-device" => options.fake_device = true,
            "--record-keepalives" => options.record = Some(value(&arg)?.into()),
            "--fake-device-expired" => {
                options.on_expiry = Some(ExpiryAction::parse(&value(&arg)?)?)
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if options.record.is_some() && !options.fake_device {
        return Err("--record-keepalives only works with --fake-device".into());
    }
    if options.on_expiry.is_some() && !options.fake_device {
        return Err("--fake-device-expired only works with --fake-device".into());
    }
    Ok(Some(options))
}

fn logger() -> Logger {
    // Under systemd, a "<N>" prefix sets the journal priority of each line.
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    Arc::new(move |level, message: &str| {
        let (prefix, tag) = match level {
            Level::Info => ("<6>", ""),
            Level::Warning => ("<4>", "warning: "),
            Level::Error => ("<3>", "error: "),
        };
        if journal {
            eprintln!("{prefix}{message}");
        } else {
            eprintln!("watchdog-mux: {tag}{message}");
        }
    })
}

fn serve<D: WatchdogDevice>(
    server: MuxServer,
    device: D,
    options: &Options,
    log: &Logger,
) -> ExitCode {
    // The device must outlast at least two missed ticks.
    let minimum = (options.config.tick.as_secs_f64() * 2.0).ceil().max(2.0) as u32;
    let watchdog = match Watchdog::arm(device, options.timeout_secs, minimum) {
        Ok(w) => w,
        Err(e) => {
            log(Level::Error, &e.to_string());
            let _ = std::fs::remove_file(&options.config.socket_path);
            return ExitCode::FAILURE;
        }
    };
    let info = watchdog.info().clone();
    log(
        Level::Info,
        &format!(
            "watchdog driver '{}' (firmware {:x}), timeout {}s, listening on {}",
            info.identity,
            info.firmware_version,
            watchdog.timeout_secs(),
            options.config.socket_path.display()
        ),
    );
    if !info.supports_magic_close() {
        log(
            Level::Warning,
            "the driver has no magic close: closing the device stops it, so if watchdog-mux dies \
             the node is not fenced; load the driver with nowayout=1",
        );
    }
    let exit = server.run(watchdog, &|| termination_signal().is_some());
    if let Some(sig) = termination_signal() {
        log(Level::Info, &format!("stopped by signal {sig}"));
    }
    match exit.released {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            log(Level::Error, &format!("releasing the watchdog failed: {e}"));
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    if std::env::args()
        .skip(1)
        .any(|a| a == "--version" || a == "-V")
    {
        print!("{}", version_text());
        return ExitCode::SUCCESS;
    }
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("watchdog-mux: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let log = logger();
    install_termination_handlers();

    // Bind first: opening the device starts its timer, so nothing that can
    // still fail for unrelated reasons may come after it.
    let server = match MuxServer::bind(options.config.clone(), log.clone()) {
        Ok(server) => server,
        Err(e) => {
            log(Level::Error, &e.to_string());
            return ExitCode::FAILURE;
        }
    };
    if options.fake_device {
        log(
            Level::Warning,
            "using a simulated watchdog device: this node is NOT protected by a watchdog",
        );
        let fake = FakeDeviceOptions {
            record_keepalives_to: options.record.clone(),
            ..Default::default()
        };
        return match FakeDevice::try_new(fake) {
            Ok(device) => {
                let timer = device.log();
                let watcher = options.on_expiry.clone().map(|action| {
                    let log = log.clone();
                    watch_expiry(timer.clone(), move || action.fire(&log))
                });
                let code = serve(server, device, &options, &log);
                // Closed without the magic character, a real device still
                // resets the node: keep the emulation alive until it would.
                if let Some(watcher) = watcher {
                    if timer.timer_running() {
                        let _ = watcher.join();
                    }
                }
                code
            }
            Err(e) => {
                log(Level::Error, &format!("--record-keepalives: {e}"));
                ExitCode::FAILURE
            }
        };
    }
    match open_watchdog(&options.selection, &mut SystemHost) {
        Ok(opened) => {
            if let Some(module) = &opened.loaded_module {
                log(Level::Info, &format!("loaded watchdog module '{module}'"));
            }
            serve(server, opened.device, &options, &log)
        }
        Err(e) => {
            log(Level::Error, &e.to_string());
            let _ = std::fs::remove_file(&options.config.socket_path);
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_match_the_reference_daemon() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!(
            o.config.socket_path,
            PathBuf::from("/run/watchdog-mux.sock")
        );
        assert_eq!(o.config.settings.client_timeout, Duration::from_secs(60));
        assert_eq!(o.config.tick, Duration::from_secs(1));
        assert_eq!(o.timeout_secs, 10);
        assert!(!o.fake_device);
    }

    #[test]
    fn options_are_applied() {
        let o = parse(&[
            "--socket",
            "/tmp/s",
            "--tick-ms",
            "50",
            "--client-timeout-ms",
            "600",
            "--fake-device",
            "--active-marker",
            "none",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.config.socket_path, PathBuf::from("/tmp/s"));
        assert_eq!(o.config.tick, Duration::from_millis(50));
        assert_eq!(o.config.settings.client_timeout, Duration::from_millis(600));
        assert_eq!(o.config.settings.warn_before, Duration::from_millis(100));
        assert!(o.fake_device && o.config.active_marker.is_none());
    }

    #[test]
    fn a_profile_sets_the_three_timings_and_single_options_override_it() {
        let fast = timing::profile("fast").unwrap();
        let o = parse(&["--profile", "fast"]).unwrap().unwrap();
        assert_eq!(o.config.settings.client_timeout, fast.client_timeout);
        assert_eq!(o.config.tick, fast.mux_tick);
        assert_eq!(o.timeout_secs, fast.device_timeout_secs());
        let o = parse(&["--tick-ms", "100", "--profile", "fast"])
            .unwrap()
            .unwrap();
        assert_eq!(o.config.tick, Duration::from_millis(100));
        assert_eq!(o.config.settings.client_timeout, fast.client_timeout);
        assert!(parse(&["--profile", "slow"])
            .err()
            .unwrap()
            .contains("unknown timing profile \"slow\" (known: default, fast)"));
        assert!(parse(&["--profile"])
            .err()
            .unwrap()
            .contains("needs a value"));
    }

    #[test]
    fn bad_options_say_what_was_wrong() {
        assert!(parse(&["--tick-ms", "soon"])
            .err()
            .unwrap()
            .contains("positive whole number"));
        assert!(parse(&["--bogus"]).err().unwrap().contains("--bogus"));
        assert!(parse(&["--socket"])
            .err()
            .unwrap()
            .contains("needs a value"));
        assert!(parse(&["--record-keepalives", "/tmp/x"])
            .err()
            .unwrap()
            .contains("--fake-device"));
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--fake-device-expired", "/tmp/x"])
            .err()
            .unwrap()
            .contains("--fake-device"));
        assert!(parse(&["--fake-device", "--fake-device-expired", "exit:0"])
            .err()
            .unwrap()
            .contains("1 to 255"));
        assert!(parse(&["--fake-device", "--fake-device-expired", "exit:300"]).is_err());
    }

    #[test]
    fn fake_expiry_is_a_file_or_an_exit_status() {
        let o = parse(&["--fake-device", "--fake-device-expired", "exit:42"])
            .unwrap()
            .unwrap();
        assert_eq!(o.on_expiry, Some(ExpiryAction::Exit(42)));
        let o = parse(&["--fake-device", "--fake-device-expired", "/run/expired"])
            .unwrap()
            .unwrap();
        assert_eq!(
            o.on_expiry,
            Some(ExpiryAction::AppendTo("/run/expired".into()))
        );
    }
}
