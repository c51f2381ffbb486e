//! Lock lease timing on the monotonic clock.
//!
//! A cluster lock (the LRM's agent lock, the CRM's manager lock) is a lease:
//! held for a fixed lifetime after its last successful renewal, after which
//! another node may take it and recover this node's services. That is only
//! safe if this node is reset first, so a node may feed its watchdog only
//! while the time left on its lease exceeds the longest possible delay from
//! a feed to the reset (the fence window). Stop feeding earlier than that and
//! the watchdog fires while the lease is still ours.
//!
//! Timestamps are CLOCK_MONOTONIC nanoseconds, the clock Node's
//! `process.hrtime` reads, so leases can be passed between Rust and JS.

use std::time::Duration;

/// A point on CLOCK_MONOTONIC, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mono(pub u64);

impl Mono {
    pub fn now() -> Mono {
        Mono(crate::sys::monotonic_now_ns())
    }

    fn plus(self, d: Duration) -> Mono {
        Mono(
            self.0
                .saturating_add(d.as_nanos().min(u64::MAX as u128) as u64),
        )
    }

    fn minus(self, d: Duration) -> Mono {
        Mono(
            self.0
                .saturating_sub(d.as_nanos().min(u64::MAX as u128) as u64),
        )
    }
}

/// A held lease. `renewed_at` must be taken *before* the lock request was
/// sent: the lock's lifetime starts when the cluster processed the request,
/// which is never earlier, so the lease as computed here never outlives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub acquired_at: Mono,
    pub renewed_at: Mono,
    pub lifetime: Duration,
}

impl Lease {
    pub fn acquire(requested_at: Mono, lifetime: Duration) -> Lease {
        Lease {
            acquired_at: requested_at,
            renewed_at: requested_at,
            lifetime,
        }
    }

    /// The lease after a successful renewal requested at `requested_at`. A
    /// renewal older than the current one (a late answer) changes nothing.
    pub fn renew(&self, requested_at: Mono) -> Lease {
        Lease {
            renewed_at: self.renewed_at.max(requested_at),
            ..*self
        }
    }

    pub fn expires_at(&self) -> Mono {
        self.renewed_at.plus(self.lifetime)
    }

    /// Nanoseconds until expiry; negative once expired.
    pub fn expires_in_ns(&self, now: Mono) -> i128 {
        self.expires_at().0 as i128 - now.0 as i128
    }

    pub fn is_expired(&self, now: Mono) -> bool {
        self.expires_in_ns(now) <= 0
    }

    /// The last moment at which feeding the watchdog is still safe, given
    /// the fence window (see [`FenceWindow::total`]).
    pub fn feed_deadline(&self, fence_window: Duration) -> Mono {
        self.expires_at().minus(fence_window)
    }

    /// Whether a watchdog fed now would reset the node before the lease
    /// could expire.
    pub fn safe_to_feed(&self, now: Mono, fence_window: Duration) -> bool {
        now < self.feed_deadline(fence_window)
    }
}

/// The longest time from a watchdog feed by the daemon to the node's reset:
/// the mux declares the client dead after `client_timeout`, notices at its
/// next tick, then the device fires after `device_timeout`. `margin` covers
/// scheduling delays and clock differences between nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FenceWindow {
    pub client_timeout: Duration,
    pub mux_tick: Duration,
    pub device_timeout: Duration,
    pub margin: Duration,
}

impl Default for FenceWindow {
    /// The `default` timing profile's window.
    fn default() -> Self {
        crate::timing::default_profile().fence_window()
    }
}

impl FenceWindow {
    pub fn total(&self) -> Duration {
        self.client_timeout + self.mux_tick + self.device_timeout + self.margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn window(total_secs: u64) -> Duration {
        Duration::from_secs(total_secs)
    }

    #[test]
    fn expiry_counts_from_the_request_time() {
        let lease = Lease::acquire(Mono(100 * S), Duration::from_secs(120));
        assert_eq!(lease.expires_at(), Mono(220 * S));
        assert_eq!(lease.expires_in_ns(Mono(200 * S)), 20 * S as i128);
        assert_eq!(lease.expires_in_ns(Mono(230 * S)), -(10 * S as i128));
        assert!(!lease.is_expired(Mono(219 * S)));
        assert!(lease.is_expired(Mono(220 * S)));
    }

    #[test]
    fn renewal_moves_expiry_and_keeps_the_acquire_time() {
        let lease = Lease::acquire(Mono(100 * S), Duration::from_secs(120)).renew(Mono(150 * S));
        assert_eq!(lease.acquired_at, Mono(100 * S));
        assert_eq!(lease.expires_at(), Mono(270 * S));
    }

    #[test]
    fn a_late_renewal_answer_never_moves_expiry_back() {
        let lease = Lease::acquire(Mono(100 * S), Duration::from_secs(120))
            .renew(Mono(150 * S))
            .renew(Mono(140 * S));
        assert_eq!(lease.renewed_at, Mono(150 * S));
    }

    #[test]
    fn feeding_stops_one_fence_window_before_expiry() {
        let lease = Lease::acquire(Mono(0), Duration::from_secs(120));
        let w = window(76);
        assert_eq!(lease.feed_deadline(w), Mono(44 * S));
        assert!(lease.safe_to_feed(Mono(43 * S), w));
        assert!(!lease.safe_to_feed(Mono(44 * S), w));
        assert!(!lease.safe_to_feed(Mono(100 * S), w));
    }

    #[test]
    fn a_fence_window_longer_than_the_lease_never_allows_feeding() {
        let lease = Lease::acquire(Mono(5 * S), Duration::from_secs(60));
        assert!(!lease.safe_to_feed(Mono(5 * S), window(61)));
    }

    #[test]
    fn the_default_window_fits_the_default_lock_lifetime() {
        let w = FenceWindow::default();
        assert_eq!(w.total(), Duration::from_secs(76));
        assert!(w.total() < crate::timing::default_profile().lock_lifetime);
    }
}
