//! The few Linux system calls std does not wrap: watchdog ioctls, peer
//! credentials, waiting for a child without reaping it, signalling a process
//! group, the raw monotonic clock and termination signals. Every `unsafe` of
//! this crate lives here; the rest of the crate only sees safe functions.

use std::io;
use std::os::raw::{c_int, c_uint, c_void};
use std::os::unix::io::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::arch;

#[cfg(target_env = "musl")]
type IoctlRequest = c_int;
#[cfg(not(target_env = "musl"))]
type IoctlRequest = std::os::raw::c_ulong;

/// `time_t` and the `long` of `tv_nsec` as the `clock_gettime` symbol
/// takes them: C `long` everywhere (on 32-bit glibc and musl the plain symbol
/// keeps the 32-bit `time_t` ABI), except on x32, where both are 64-bit.
#[cfg(all(target_arch = "x86_64", target_pointer_width = "32"))]
type TimespecField = i64;
#[cfg(not(all(target_arch = "x86_64", target_pointer_width = "32")))]
type TimespecField = std::os::raw::c_long;

#[repr(C)]
struct Timespec {
    tv_sec: TimespecField,
    tv_nsec: TimespecField,
}

/// `struct ucred`: pid_t, uid_t and gid_t are 32-bit on every Linux ABI.
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
    /// `sighandler_t signal(int, sighandler_t)`; a handler is one pointer.
    fn signal(signum: c_int, handler: usize) -> usize;
}

// The same on every Linux architecture (unlike the socket option numbers
// and ioctl encoding in arch.rs).
const CLOCK_MONOTONIC: c_int = 1;
const P_PID: c_int = 1;
const WEXITED: c_int = 4;
const WNOWAIT: c_int = 0x0100_0000;
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;
const SIG_IGN: usize = 1;

/// `struct watchdog_info` from <linux/watchdog.h>.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawWatchdogInfo {
    pub options: u32,
    pub firmware_version: u32,
    pub identity: [u8; 32],
}

const WATCHDOG_IOCTL_BASE: u8 = b'W';
const INT: usize = std::mem::size_of::<c_int>();
const WDIOC_GETSUPPORT: u32 = arch::IOC.ior(
    WATCHDOG_IOCTL_BASE,
    0,
    std::mem::size_of::<RawWatchdogInfo>(),
);
const WDIOC_KEEPALIVE: u32 = arch::IOC.ior(WATCHDOG_IOCTL_BASE, 5, INT);
const WDIOC_SETTIMEOUT: u32 = arch::IOC.iowr(WATCHDOG_IOCTL_BASE, 6, INT);
const WDIOC_GETTIMEOUT: u32 = arch::IOC.ior(WATCHDOG_IOCTL_BASE, 7, INT);

/// The request as this libc's `ioctl` takes it: `unsigned long` on glibc,
/// `int` on musl (the same 32 bits, as the C macros' value converts).
#[allow(clippy::unnecessary_cast)]
const fn request(number: u32) -> IoctlRequest {
    number as IoctlRequest
}

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
    // SAFETY: GETSUPPORT writes one struct watchdog_info, whose layout
    // RawWatchdogInfo has, into `info`; a non-watchdog fd fails with ENOTTY
    // without touching it (the request number is checked per arch).
    let rc = unsafe {
        ioctl(
            fd,
            request(WDIOC_GETSUPPORT),
            &mut info as *mut RawWatchdogInfo,
        )
    };
    check(rc)?;
    Ok(info)
}

pub fn wdioc_keepalive(fd: RawFd) -> io::Result<()> {
    let mut unused: c_int = 0;
    // SAFETY: KEEPALIVE is declared with an int argument (drivers ignore
    // it); we pass a valid, writable one.
    let rc = unsafe { ioctl(fd, request(WDIOC_KEEPALIVE), &mut unused as *mut c_int) };
    check(rc)?;
    Ok(())
}

pub fn wdioc_settimeout(fd: RawFd, seconds: i32) -> io::Result<i32> {
    let mut value: c_int = seconds;
    // SAFETY: SETTIMEOUT reads and writes back one int, which `value` is.
    let rc = unsafe { ioctl(fd, request(WDIOC_SETTIMEOUT), &mut value as *mut c_int) };
    check(rc)?;
    Ok(value)
}

pub fn wdioc_gettimeout(fd: RawFd) -> io::Result<i32> {
    let mut value: c_int = 0;
    // SAFETY: GETTIMEOUT writes one int into `value`.
    let rc = unsafe { ioctl(fd, request(WDIOC_GETTIMEOUT), &mut value as *mut c_int) };
    check(rc)?;
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
    // SAFETY: `cred` and `len` describe a writable buffer of exactly struct
    // ucred's size; the level and option numbers are this arch's.
    let rc = unsafe {
        getsockopt(
            fd,
            arch::SOL_SOCKET,
            arch::SO_PEERCRED,
            &mut cred as *mut Ucred as *mut c_void,
            &mut len,
        )
    };
    check(rc)?;
    Ok(cred.pid as u32)
}

/// Blocks until child `pid` has exited, leaving it unreaped. While a child is
/// an unreaped zombie its pid (and process group id) cannot be reused, which
/// is what makes signalling it from another thread safe until it is reaped.
pub fn wait_exited_without_reaping(pid: u32) -> io::Result<()> {
    let mut info = SigInfo([0; 128]);
    loop {
        // SAFETY: `info` is a writable buffer of siginfo_t's size; waitid
        // has no other memory arguments.
        let rc = unsafe { waitid(P_PID, pid, &mut info, WEXITED | WNOWAIT) };
        match check(rc) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Sends `sig` to every process of process group `pgid`. Refuses the ids
/// that would make `kill` mean something else: 0 (the caller's own group),
/// 1 (`kill(-1)`: every process the caller may signal) and ids beyond
/// `pid_t`, which would wrap to a single process or a broadcast.
pub fn kill_process_group(pgid: u32, sig: i32) -> io::Result<()> {
    let group = match c_int::try_from(pgid) {
        Ok(group) if group > 1 => group,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{pgid} is not a process group that may be signalled"),
            ))
        }
    };
    // SAFETY: kill has no memory arguments; `-group` is negative and not -1,
    // so it selects exactly that process group.
    let rc = unsafe { kill(-group, sig) };
    check(rc)?;
    Ok(())
}

/// CLOCK_MONOTONIC in nanoseconds: the clock Rust's `Instant` and Node's
/// `process.hrtime` read on Linux, so timestamps can cross the FFI boundary.
pub fn monotonic_now_ns() -> u64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a writable timespec of the layout the symbol takes;
    // CLOCK_MONOTONIC always exists on Linux.
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
    // SAFETY: the handler is an extern "C" fn(c_int) that only performs an
    // atomic store, which is async-signal-safe and cannot panic; SIG_IGN
    // is a valid disposition.
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
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn this_machines_watchdog_requests_match_linux_headers() {
        assert_eq!(WDIOC_GETSUPPORT, 0x8028_5700);
        assert_eq!(WDIOC_KEEPALIVE, 0x8004_5705);
        assert_eq!(WDIOC_SETTIMEOUT, 0xC004_5706);
        assert_eq!(WDIOC_GETTIMEOUT, 0x8004_5707);
    }

    #[test]
    fn process_groups_that_would_mean_something_else_are_refused() {
        for pgid in [0, 1, u32::MAX, i32::MAX as u32 + 1] {
            let err = kill_process_group(pgid, 0).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{pgid}");
        }
    }

    #[test]
    fn peer_credentials_name_the_connected_process() {
        use std::os::unix::io::AsRawFd;
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(peer_pid(a.as_raw_fd()).unwrap(), std::process::id());
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
