//! The wire protocol between watchdog clients and the mux (see
//! docs/NATIVE.md). Compatible with the original watchdog-mux: a client
//! writes any byte to prove it is alive and 'V' as its last byte before a
//! clean close. The status query is our addition; the original mux would
//! take it for an update and never answer.

use super::state::{ClientStatus, MuxReport};
use crate::watchdog::DeviceKind;
use std::time::Duration;

/// Written as the last byte before disconnecting: release me cleanly.
pub const MAGIC_CLOSE: u8 = b'V';
/// What our client writes as an update (any other byte works as well).
pub const UPDATE: u8 = 0;
/// Asks for one status line; does not count as an update.
pub const STATUS_QUERY: u8 = b'?';

/// `ok <remaining_ms> <timeout_ms> <tick_ms> <device_timeout_ms> <device>\n`,
/// or `stopped ...` once the mux no longer feeds the device; `<device>` is
/// `real` or `simulated`. The fields after the first three came later, the
/// device last: a reader takes the fields it knows and ignores the rest, so
/// older clients read newer lines and the other way round.
pub fn format_status(status: &ClientStatus) -> String {
    let mut line = format!(
        "{} {} {}",
        if status.feeding { "ok" } else { "stopped" },
        status.remaining.as_millis(),
        status.timeout.as_millis()
    );
    if let Some(mux) = status.mux {
        line += &format!(
            " {} {}",
            mux.tick.as_millis(),
            mux.device_timeout.as_millis()
        );
        if let Some(device) = mux.device {
            line += match device {
                DeviceKind::Real => " real",
                DeviceKind::Simulated => " simulated",
            };
        }
    }
    line + "\n"
}

pub fn parse_status(line: &str) -> Result<ClientStatus, String> {
    let bad = || {
        format!(
            "unexpected status line from watchdog-mux: {:?}",
            line.trim_end()
        )
    };
    let mut parts = line.trim_end().split(' ');
    let feeding = match parts.next() {
        Some("ok") => true,
        Some("stopped") => false,
        _ => return Err(bad()),
    };
    let mut number = || {
        parts
            .next()
            .and_then(|p| p.parse::<u64>().ok())
            .ok_or_else(bad)
    };
    let remaining = Duration::from_millis(number()?);
    let timeout = Duration::from_millis(number()?);
    let mux = match parts.next() {
        None => None,
        Some(tick) => {
            let tick = tick.parse::<u64>().map_err(|_| bad())?;
            let device_timeout = parts
                .next()
                .and_then(|p| p.parse::<u64>().ok())
                .ok_or_else(bad)?;
            let device = match parts.next() {
                None => None,
                Some("real") => Some(DeviceKind::Real),
                Some("simulated") => Some(DeviceKind::Simulated),
                Some(_) => return Err(bad()),
            };
            Some(MuxReport {
                tick: Duration::from_millis(tick),
                device_timeout: Duration::from_millis(device_timeout),
                device,
            })
        }
    };
    Ok(ClientStatus {
        remaining,
        timeout,
        feeding,
        mux,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_round_trip() {
        let old = ClientStatus {
            remaining: Duration::from_millis(59_250),
            timeout: Duration::from_secs(60),
            feeding: true,
            mux: None,
        };
        assert_eq!(format_status(&old), "ok 59250 60000\n");
        assert_eq!(parse_status("ok 59250 60000\n").unwrap(), old);
        let timing_only = ClientStatus {
            mux: Some(MuxReport {
                tick: Duration::from_millis(250),
                device_timeout: Duration::from_secs(2),
                device: None,
            }),
            ..old
        };
        assert_eq!(format_status(&timing_only), "ok 59250 60000 250 2000\n");
        assert_eq!(
            parse_status("ok 59250 60000 250 2000\n").unwrap(),
            timing_only
        );
        for (kind, word) in [
            (DeviceKind::Real, "real"),
            (DeviceKind::Simulated, "simulated"),
        ] {
            let s = ClientStatus {
                mux: Some(MuxReport {
                    device: Some(kind),
                    ..timing_only.mux.unwrap()
                }),
                ..old
            };
            let line = format!("ok 59250 60000 250 2000 {word}\n");
            assert_eq!(format_status(&s), line);
            assert_eq!(parse_status(&line).unwrap(), s);
        }
        assert!(parse_status("ok 59250 60000 250\n").is_err());
        assert!(parse_status("ok 59250 60000 250 2000 maybe\n").is_err());
        assert!(!parse_status("stopped 0 60000\n").unwrap().feeding);
        assert!(parse_status("hello\n").unwrap_err().contains("hello"));
        assert!(parse_status("ok 1\n").is_err());
    }

    #[test]
    fn readers_ignore_fields_that_came_after_them() {
        // A reader of the first version took three fields; this one takes
        // six and must likewise ignore what a later mux may add.
        let line = "ok 100 60000 1000 10000 simulated whatever 7\n";
        let s = parse_status(line).unwrap();
        assert_eq!(s.timeout, Duration::from_secs(60));
        assert_eq!(s.mux.unwrap().device, Some(DeviceKind::Simulated));
    }
}
