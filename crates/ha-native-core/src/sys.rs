//! The few Linux system calls std does not wrap: watchdog ioctls, peer
//! credentials, waiting for a child without reaping it, signalling a process
//! group, the raw monotonic clock and termination signals. Every `unsafe` of
//! this crate lives here; the rest of the crate only sees safe functions.

use std::io;
use std::os::raw::{c_int, c_long, c_uint, c_void};
use std::os::unix::io::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

#[cfg(target_env = "musl")]
type IoctlRequest = c_int;
#[cfg(not(target_env = "musl"))]
type IoctlRequest = std::os::raw::c_ulong;

#[repr(C)]
struct Timespec {
    tv_sec: c_long,
    tv_nsec: c_long,
}

#[repr(C)]
struct Ucred {
    pid: i32,
    uid: u32,
    gid: u32,
}

/// `siginfo_t` is 128 bytes on every Linux ABI; we never read it, only give
/// the kernel room to write it.
#[repr(C, align(8))]
struct SigInfo([u8; 128]);

extern "C" {
    fn ioctl(fd: c_int, request: IoctlRequest, ...) -> c_int;
    fn getsockopt(
        fd: c_int,
        level: c_int,
        name: c_int,
        value: *mut c_void,
        len: *mut c_uint,
    ) -> c_int;
    fn waitid(idtype: c_int, id: c_uint, info: *mut SigInfo, options: c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
    fn signal(signum: c_int, handler: usize) -> usize;
}

const CLOCK_MONOTONIC: c_int = 1;
const SOL_SOCKET: c_int = 1;
#[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
const SO_PEERCRED: c_int = 21;
#[cfg(not(any(target_arch = "powerpc", target_arch = "powerpc64")))]
const SO_PEERCRED: c_int = 17;
const P_PID: c_int = 1;
const WEXITED: c_int = 4;
const WNOWAIT: c_int = 0x0100_0000;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;
const SIG_IGN: usize = 1;

// ioctl numbers as <asm-generic/ioctl.h> builds them; powerpc uses a
// different direction encoding, so the layout is chosen per architecture.
#[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> IoctlRequest {
    let dir_bits = if dir == 2 {
        2
    } else if dir == 3 {
        6
    } else {
        dir
    };
    ((dir_bits << 29) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32) as IoctlRequest
}
#[cfg(not(any(target_arch = "powerpc", target_arch = "powerpc64")))]
const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> IoctlRequest {
    ((dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32) as IoctlRequest
}
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// `struct watchdog_info` from <linux/watchdog.h>.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawWatchdogInfo {
    pub options: u32,
    pub firmware_version: u32,
    pub identity: [u8; 32],
}

const WDIOC_GETSUPPORT: IoctlRequest =
    ioc(IOC_READ, b'W', 0, std::mem::size_of::<RawWatchdogInfo>());
const WDIOC_KEEPALIVE: IoctlRequest = ioc(IOC_READ, b'W', 5, std::mem::size_of::<c_int>());
const WDIOC_SETTIMEOUT: IoctlRequest =
    ioc(IOC_READ | IOC_WRITE, b'W', 6, std::mem::size_of::<c_int>());
const WDIOC_GETTIMEOUT: IoctlRequest = ioc(IOC_READ, b'W', 7, std::mem::size_of::<c_int>());

fn check(rc: c_int) -> io::Result<c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

pub fn wdioc_getsupport(fd: RawFd) -> io::Result<RawWatchdogInfo> {
    let mut info = RawWatchdogInfo {
        options: 0,
        firmware_version: 0,
        identity: [0; 32],
    };
    // Sound: the request's size field is size_of::<RawWatchdogInfo>(), which
    // has the kernel's layout, so the kernel writes only inside `info`.
    check(unsafe { ioctl(fd, WDIOC_GETSUPPORT, &mut info as *mut RawWatchdogInfo) })?;
    Ok(info)
}

pub fn wdioc_keepalive(fd: RawFd) -> io::Result<()> {
    let mut unused: c_int = 0;
    // Sound: KEEPALIVE is declared with an int argument; we pass a valid one.
    check(unsafe { ioctl(fd, WDIOC_KEEPALIVE, &mut unused as *mut c_int) })?;
    Ok(())
}

pub fn wdioc_settimeout(fd: RawFd, seconds: i32) -> io::Result<i32> {
    let mut value: c_int = seconds;
    // Sound: SETTIMEOUT reads and writes back one int, which `value` is.
    check(unsafe { ioctl(fd, WDIOC_SETTIMEOUT, &mut value as *mut c_int) })?;
    Ok(value)
}

pub fn wdioc_gettimeout(fd: RawFd) -> io::Result<i32> {
    let mut value: c_int = 0;
    // Sound: GETTIMEOUT writes one int into `value`.
    check(unsafe { ioctl(fd, WDIOC_GETTIMEOUT, &mut value as *mut c_int) })?;
    Ok(value)
}

/// The pid of the process at the other end of a Unix stream socket.
pub fn peer_pid(fd: RawFd) -> io::Result<u32> {
    let mut cred = Ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<Ucred>() as c_uint;
    // Sound: `cred` and `len` describe a buffer of exactly struct ucred's size.
    check(unsafe {
        getsockopt(
            fd,
            SOL_SOCKET,
            SO_PEERCRED,
            &mut cred as *mut Ucred as *mut c_void,
            &mut len,
        )
    })?;
    Ok(cred.pid as u32)
}

/// Blocks until child `pid` has exited, leaving it unreaped. While a child is
/// an unreaped zombie its pid (and process group id) cannot be reused, which
/// is what makes signalling it from another thread safe until it is reaped.
pub fn wait_exited_without_reaping(pid: u32) -> io::Result<()> {
    let mut info = SigInfo([0; 128]);
    loop {
        // Sound: `info` is a writable buffer of siginfo_t's size.
        let rc = unsafe { waitid(P_PID, pid, &mut info, WEXITED | WNOWAIT) };
        match check(rc) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Sends `sig` to every process of process group `pgid`.
pub fn kill_process_group(pgid: u32, sig: i32) -> io::Result<()> {
    // Sound: kill has no memory arguments; a negative pid selects the group.
    check(unsafe { kill(-(pgid as c_int), sig) })?;
    Ok(())
}

/// CLOCK_MONOTONIC in nanoseconds: the clock Rust's `Instant` and Node's
/// `process.hrtime` read on Linux, so timestamps can cross the FFI boundary.
pub fn monotonic_now_ns() -> u64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // Sound: `ts` is a valid timespec; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

static TERMINATION_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn record_termination(sig: c_int) {
    TERMINATION_SIGNAL.store(sig, Ordering::SeqCst);
}

/// Makes SIGINT and SIGTERM set a flag read by [`termination_signal`] instead
/// of killing the process, and ignores SIGHUP, as the daemon's shutdown must
/// decide whether the watchdog may be disarmed.
pub fn install_termination_handlers() {
    let handler = record_termination as extern "C" fn(c_int) as usize;
    // Sound: the handler only performs an atomic store, which is
    // async-signal-safe; SIG_IGN is a valid disposition.
    unsafe {
        signal(SIGINT, handler);
        signal(SIGTERM, handler);
        signal(SIGHUP, SIG_IGN);
    }
}

/// The termination signal received so far, if any.
pub fn termination_signal() -> Option<i32> {
    match TERMINATION_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unnecessary_cast)] // the request type is c_int on musl
    fn ioctl_numbers_match_linux_headers() {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            assert_eq!(WDIOC_GETSUPPORT as u64, 0x8028_5700);
            assert_eq!(WDIOC_KEEPALIVE as u64, 0x8004_5705);
            assert_eq!(WDIOC_SETTIMEOUT as u64, 0xC004_5706);
            assert_eq!(WDIOC_GETTIMEOUT as u64, 0x8004_5707);
        }
    }

    #[test]
    fn monotonic_clock_advances_with_instant() {
        let a = monotonic_now_ns();
        let start = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = monotonic_now_ns();
        let elapsed = start.elapsed().as_nanos() as u64;
        assert!(b - a >= 20_000_000);
        assert!(b - a >= elapsed.saturating_sub(1_000_000));
    }

    #[test]
    fn watchdog_ioctl_on_a_regular_file_is_refused() {
        use std::os::unix::io::AsRawFd;
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        let err = wdioc_keepalive(file.as_raw_fd()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(25), "expected ENOTTY, got {err}");
    }
}
