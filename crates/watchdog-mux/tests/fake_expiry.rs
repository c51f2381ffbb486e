//! The watchdog-mux binary with a simulated device tells when that device
//! would have reset the node (`--fake-device-expired`): the cluster lab
//! emulates the reset at that moment.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const DEVICE_TIMEOUT: Duration = Duration::from_secs(2);

struct Mux {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Drop for Mux {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(name: &str, on_expiry: &str) -> Mux {
    let dir = std::env::temp_dir().join(format!("ha-mux-expiry-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("mux.sock");
    let on_expiry = on_expiry.replace("DIR", dir.to_str().unwrap());
    let child = Command::new(env!("CARGO_BIN_EXE_watchdog-mux"))
        .args([
            "--socket",
            socket.to_str().unwrap(),
            "--active-marker",
            "none",
        ])
        .args(["--fake-device", "--timeout", "2", "--tick-ms", "100"])
        .args(["--client-timeout-ms", "300", "--no-journal-sync"])
        .args(["--fake-device-expired", &on_expiry])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "watchdog-mux did not create its socket"
        );
        thread::sleep(Duration::from_millis(5));
    }
    Mux { child, dir, socket }
}

/// Waits for the mux to exit; None when it still runs after `within`.
fn exit_status(mux: &mut Mux, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = mux.child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_client_that_vanishes_lets_the_device_expire_and_the_mux_exit() {
    let mut mux = start("exit", "exit:42");
    let mut client = UnixStream::connect(&mux.socket).unwrap();
    client.write_all(&[0]).unwrap();
    // Disconnecting without the magic close stops the feeding at once; the
    // device then runs out one timeout after its last keep-alive.
    drop(client);
    let gone = Instant::now();
    assert_eq!(exit_status(&mut mux, Duration::from_secs(5)), Some(42));
    let took = gone.elapsed();
    assert!(
        took >= DEVICE_TIMEOUT - Duration::from_millis(150),
        "expired after {took:?}"
    );
}

#[test]
fn a_fed_device_never_expires_and_a_silent_one_is_recorded() {
    let mut mux = start("file", "DIR/expired");
    let record = mux.dir.join("expired");
    let mut client = UnixStream::connect(&mux.socket).unwrap();
    let until = Instant::now() + DEVICE_TIMEOUT + Duration::from_millis(500);
    while Instant::now() < until {
        client.write_all(&[0]).unwrap();
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(lines(&record), 0, "a device fed in time expired");
    // Silent now: the client expires after 300 ms, the device 2 s later.
    let silent = Instant::now();
    let deadline = silent + Duration::from_secs(5);
    while lines(&record) == 0 {
        assert!(Instant::now() < deadline, "the expiry was not recorded");
        thread::sleep(Duration::from_millis(10));
    }
    assert!(silent.elapsed() >= DEVICE_TIMEOUT);
    // Recording does not end the mux; only the exit form does.
    assert_eq!(exit_status(&mut mux, Duration::from_millis(100)), None);
    drop(client);
}

#[test]
fn a_clean_shutdown_disarms_and_nothing_expires() {
    let mut mux = start("clean", "exit:42");
    let mut client = UnixStream::connect(&mux.socket).unwrap();
    client.write_all(b"V").unwrap();
    drop(client);
    thread::sleep(Duration::from_millis(200));
    // SIGTERM: with no client depending on it, the mux disarms and exits 0.
    assert!(Command::new("kill")
        .arg(mux.child.id().to_string())
        .status()
        .unwrap()
        .success());
    assert_eq!(
        exit_status(&mut mux, DEVICE_TIMEOUT + Duration::from_secs(1)),
        Some(0)
    );
}
