//! The mux server against real Unix-socket clients and a fake device.

use ha_native_core::mux::{
    Level, Logger, MuxClient, MuxServer, MuxSettings, ServerConfig, ServerExit, StopHandle,
};
use ha_native_core::watchdog::{
    DeviceKind, DeviceOp, FakeDevice, FakeDeviceLog, FakeDeviceOptions, Released, Watchdog,
};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(20);
const CLIENT_TIMEOUT: Duration = Duration::from_millis(400);
/// Between the mux deciding to feed and the fake device recording it.
const RECORD_SLACK: Duration = Duration::from_millis(5);

fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "not within 5s: {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

struct Harness {
    dir: PathBuf,
    socket: PathBuf,
    marker: PathBuf,
    device: FakeDeviceLog,
    messages: Arc<Mutex<Vec<(Level, String)>>>,
    stop: StopHandle,
    server: Option<JoinHandle<ServerExit>>,
}

impl Harness {
    fn start(name: &str, device_options: FakeDeviceOptions) -> Harness {
        let dir = std::env::temp_dir().join(format!("ha-mux-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("mux.sock");
        let marker = dir.join("mux.active");
        let device = FakeDevice::new(device_options);
        let log = device.log();
        let watchdog = Watchdog::arm(device, 10, 1).unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        let logger: Logger =
            Arc::new(move |level, msg: &str| sink.lock().unwrap().push((level, msg.to_string())));
        let config = ServerConfig {
            socket_path: socket.clone(),
            active_marker: Some(marker.clone()),
            settings: MuxSettings {
                client_timeout: CLIENT_TIMEOUT,
                warn_before: Duration::from_millis(100),
                max_clients: 100,
            },
            tick: TICK,
            sync_journal: false,
        };
        let server = MuxServer::bind(config, logger).unwrap();
        let stop = server.stop_handle();
        let handle = thread::spawn(move || server.run(watchdog, &|| false));
        Harness {
            dir,
            socket,
            marker,
            device: log,
            messages,
            stop,
            server: Some(handle),
        }
    }

    fn connect(&self) -> MuxClient {
        MuxClient::connect(&self.socket).unwrap()
    }

    fn wait_for_clients(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self
            .messages
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m.contains("now watched"))
            .count()
            < n
        {
            assert!(
                Instant::now() < deadline,
                "mux did not register {n} clients"
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    fn keepalives_after(&self, t: Instant) -> Vec<Instant> {
        self.device
            .keepalives()
            .into_iter()
            .filter(|k| *k > t)
            .collect()
    }

    fn stop(&mut self) -> ServerExit {
        self.stop.stop();
        self.server.take().unwrap().join().unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if self.server.is_some() {
            self.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn feeds_on_a_steady_cadence_without_clients() {
    let h = Harness::start("cadence", FakeDeviceOptions::default());
    let t0 = Instant::now();
    thread::sleep(Duration::from_millis(300));
    let t1 = Instant::now();
    let feeds = h
        .keepalives_after(t0)
        .into_iter()
        .filter(|k| *k <= t1)
        .count();
    // A fixed-rate schedule: never more than one feed per tick (no bunching
    // or busy loop), and late ticks are not dropped wholesale.
    let ticks = ((t1 - t0).as_millis() / TICK.as_millis()) as usize;
    assert!(feeds <= ticks + 1, "{feeds} keep-alives in {ticks} ticks");
    assert!(
        feeds >= ticks / 3,
        "only {feeds} keep-alives in {ticks} ticks"
    );
}

#[test]
fn a_client_that_stops_updating_stops_feeding_within_its_expiry() {
    let h = Harness::start("expiry", FakeDeviceOptions::default());
    let mut client = h.connect();
    h.wait_for_clients(1);
    for _ in 0..10 {
        client.update().unwrap();
        thread::sleep(Duration::from_millis(30));
    }
    client.update().unwrap();
    // The answer to a query comes after the mux applied the update before it.
    client.status().unwrap();
    let last_update = Instant::now();
    thread::sleep(CLIENT_TIMEOUT + Duration::from_millis(300));

    let feeds = h.keepalives_after(last_update);
    assert!(
        !feeds.is_empty(),
        "the mux should keep feeding while the client is within its expiry"
    );
    let last_feed = *feeds.last().unwrap();
    assert!(
        last_feed < last_update + CLIENT_TIMEOUT + RECORD_SLACK,
        "fed {:?} after the client's last update, beyond its {CLIENT_TIMEOUT:?} expiry",
        last_feed - last_update
    );
    let status = client.status().unwrap();
    assert!(!status.feeding);
    assert_eq!(status.remaining, Duration::ZERO);
    assert!(h
        .messages
        .lock()
        .unwrap()
        .iter()
        .any(|(l, m)| *l == Level::Error && m.contains("expired")));
}

#[test]
fn a_second_client_is_tracked_alongside_the_first() {
    let h = Harness::start("two", FakeDeviceOptions::default());
    let mut first = h.connect();
    h.wait_for_clients(1);
    let mut second = h.connect();
    h.wait_for_clients(2);
    // Only the first keeps updating: the silent second must still stop feeding.
    let t0 = Instant::now();
    while t0.elapsed() < CLIENT_TIMEOUT + Duration::from_millis(200) {
        first.update().unwrap();
        thread::sleep(Duration::from_millis(30));
    }
    let first_status = first.status().unwrap();
    assert!(
        !first_status.feeding,
        "the silent second client must stop feeding for everyone"
    );
    assert!(first_status.remaining > Duration::ZERO);
    assert!(
        second.status().is_ok(),
        "the second client is still connected and answered"
    );
    let feeds = h.keepalives_after(t0);
    assert!(feeds
        .iter()
        .all(|f| *f < t0 + CLIENT_TIMEOUT + RECORD_SLACK));
}

#[test]
fn both_clients_updating_keeps_the_device_fed() {
    let h = Harness::start("both", FakeDeviceOptions::default());
    let mut a = h.connect();
    let mut b = h.connect();
    h.wait_for_clients(2);
    let t0 = Instant::now();
    while t0.elapsed() < CLIENT_TIMEOUT * 2 {
        a.update().unwrap();
        b.update().unwrap();
        thread::sleep(Duration::from_millis(40));
    }
    let late = h.keepalives_after(t0 + CLIENT_TIMEOUT + TICK * 2);
    assert!(
        !late.is_empty(),
        "feeding must go on past one client timeout while both update"
    );
    assert!(a.status().unwrap().feeding);
}

#[test]
fn a_disconnect_without_magic_close_stops_feeding() {
    let h = Harness::start("unclean", FakeDeviceOptions::default());
    let mut watcher = h.connect();
    let client = h.connect();
    h.wait_for_clients(2);
    client.close(false).unwrap();
    eventually("the mux notices the unclean disconnect", || {
        !watcher.status().unwrap().feeding
    });
    let stopped_at = Instant::now();
    thread::sleep(TICK * 5);
    assert!(h.keepalives_after(stopped_at + RECORD_SLACK).is_empty());
}

#[test]
fn magic_close_releases_a_client_and_a_clean_stop_disarms() {
    let mut h = Harness::start("clean", FakeDeviceOptions::default());
    let mut watcher = h.connect();
    let client = h.connect();
    h.wait_for_clients(2);
    assert!(
        h.marker.exists(),
        "the active marker must exist while clients are connected"
    );
    client.close(true).unwrap();
    eventually("the mux releases the client", || {
        h.messages
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m.contains("closed cleanly"))
    });
    let t = Instant::now();
    thread::sleep(TICK * 5);
    assert!(
        !h.keepalives_after(t).is_empty(),
        "a clean close must not stop feeding"
    );
    assert!(watcher.status().unwrap().feeding);
    watcher.close(true).unwrap();
    eventually(
        "the marker goes once no client depends on the watchdog",
        || !h.marker.exists(),
    );

    let exit = h.stop();
    assert_eq!(exit.released.unwrap(), Released::Disarmed);
    assert_eq!(
        h.device.ops().last(),
        Some(&DeviceOp::Close {
            magic_written: true
        })
    );
    assert!(!h.device.timer_running());
    assert!(!h.socket.exists());
}

#[test]
fn a_stop_with_clients_connected_leaves_the_watchdog_armed() {
    let mut h = Harness::start("armed", FakeDeviceOptions::default());
    let _client = h.connect();
    h.wait_for_clients(1);
    let exit = h.stop();
    assert_eq!(exit.released.unwrap(), Released::LeftRunning);
    assert_eq!(exit.clients_left, 1);
    assert!(!h.device.ops().contains(&DeviceOp::WriteMagic));
    assert!(h.device.timer_running());
    assert!(
        h.marker.exists(),
        "the marker must stay so a restarted mux refuses to take over"
    );
}

#[test]
fn a_clean_stop_without_driver_magic_close_support_writes_no_magic() {
    let mut h = Harness::start(
        "nomagic",
        FakeDeviceOptions {
            magic_close_supported: false,
            ..Default::default()
        },
    );
    let exit = h.stop();
    assert_eq!(exit.released.unwrap(), Released::NoMagicCloseSupport);
    assert!(!h.device.ops().contains(&DeviceOp::WriteMagic));
}

#[test]
fn the_original_protocol_works_byte_for_byte() {
    let h = Harness::start("compat", FakeDeviceOptions::default());
    let mut raw = UnixStream::connect(&h.socket).unwrap();
    h.wait_for_clients(1);
    raw.write_all(b"\0").unwrap();
    raw.write_all(b"V").unwrap();
    drop(raw);
    eventually("the mux releases the client", || {
        h.messages
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m.contains("closed cleanly"))
    });
    let t = Instant::now();
    thread::sleep(TICK * 4);
    assert!(
        !h.keepalives_after(t).is_empty(),
        "'V' then close is a clean release"
    );

    let mut query = UnixStream::connect(&h.socket).unwrap();
    query.write_all(b"?").unwrap();
    let mut answer = [0u8; 64];
    let n = query.read(&mut answer).unwrap();
    let line = std::str::from_utf8(&answer[..n]).unwrap();
    // ok <remaining> <client timeout> <tick> <device timeout> <device>: a
    // reader of an earlier version takes the fields it knows and ignores the rest.
    assert!(
        line.starts_with("ok ") && line.ends_with(" 400 20 10000 simulated\n"),
        "{line:?}"
    );
}

#[test]
fn the_status_reports_the_settings_that_make_the_fence_window() {
    let h = Harness::start("settings", FakeDeviceOptions::default());
    let mut client = h.connect();
    let status = client.status().unwrap();
    assert_eq!(status.timeout, CLIENT_TIMEOUT);
    let mux = status
        .mux
        .expect("the mux reports its tick and device timeout");
    assert_eq!(mux.tick, TICK);
    assert_eq!(mux.device_timeout, Duration::from_secs(10));
    assert_eq!(
        mux.device,
        Some(DeviceKind::Simulated),
        "a fake device says so"
    );
    client.close(true).unwrap();
}

/// A fake device that claims to be real, as a driver would.
struct ClaimsReal(FakeDevice);

impl ha_native_core::watchdog::WatchdogDevice for ClaimsReal {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Real
    }
    fn set_timeout(&mut self, seconds: u32) -> std::io::Result<u32> {
        self.0.set_timeout(seconds)
    }
    fn get_timeout(&mut self) -> std::io::Result<u32> {
        self.0.get_timeout()
    }
    fn get_support(&mut self) -> std::io::Result<ha_native_core::watchdog::WatchdogInfo> {
        self.0.get_support()
    }
    fn keepalive(&mut self) -> std::io::Result<()> {
        self.0.keepalive()
    }
    fn write_magic(&mut self) -> std::io::Result<()> {
        self.0.write_magic()
    }
}

#[test]
fn the_status_says_whether_the_device_is_real() {
    let dir = std::env::temp_dir().join(format!("ha-mux-kind-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = ServerConfig {
        socket_path: dir.join("mux.sock"),
        active_marker: None,
        settings: MuxSettings::default(),
        tick: TICK,
        sync_journal: false,
    };
    let server = MuxServer::bind(config, Arc::new(|_, _: &str| {})).unwrap();
    let stop = server.stop_handle();
    let watchdog = Watchdog::arm(ClaimsReal(FakeDevice::new(Default::default())), 10, 1).unwrap();
    let handle = thread::spawn(move || server.run(watchdog, &|| false));
    let mut client = MuxClient::connect(&dir.join("mux.sock")).unwrap();
    let mux = client.status().unwrap().mux.unwrap();
    assert_eq!(mux.device, Some(DeviceKind::Real));
    client.close(true).unwrap();
    stop.stop();
    handle.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_restart_is_refused_while_the_active_marker_exists() {
    let dir = std::env::temp_dir().join(format!("ha-mux-marker-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("mux.active")).unwrap();
    let config = ServerConfig {
        socket_path: dir.join("mux.sock"),
        active_marker: Some(dir.join("mux.active")),
        settings: MuxSettings::default(),
        tick: TICK,
        sync_journal: false,
    };
    let err = MuxServer::bind(config, Arc::new(|_, _: &str| {}))
        .err()
        .unwrap();
    assert!(err.to_string().contains("refusing to start"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn connecting_without_a_mux_is_a_clear_error() {
    let err = MuxClient::connect(std::path::Path::new("/nonexistent/watchdog-mux.sock"))
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("is watchdog-mux running?"),
        "{err}"
    );
}
