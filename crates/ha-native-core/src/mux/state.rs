//! The mux's decisions, free of sockets and devices: which clients are
//! tracked, when one has expired, and whether the device may be fed. The
//! server feeds it the bytes it reads and the ticks of its clock.

use super::protocol::{MAGIC_CLOSE, STATUS_QUERY};
use crate::watchdog::DeviceKind;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

pub type ClientId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MuxSettings {
    /// A client that sent nothing for this long is dead.
    pub client_timeout: Duration,
    /// Warn (and flush the journal) this long before a client expires.
    pub warn_before: Duration,
    pub max_clients: usize,
}

impl Default for MuxSettings {
    fn default() -> Self {
        MuxSettings {
            client_timeout: crate::timing::default_profile().client_timeout,
            warn_before: super::DEFAULT_WARN_BEFORE,
            max_clients: super::MAX_CLIENTS,
        }
    }
}

/// Why the mux stopped feeding the device. Once stopped it never resumes:
/// the node is going to be reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    Expired {
        id: ClientId,
        pid: Option<u32>,
        silent_for: Duration,
    },
    DisconnectedWithoutMagicClose {
        id: ClientId,
        pid: Option<u32>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MuxEvent {
    ClientAdded {
        id: ClientId,
        pid: Option<u32>,
    },
    ClientReleased {
        id: ClientId,
        pid: Option<u32>,
    },
    ClientNearExpiry {
        id: ClientId,
        pid: Option<u32>,
        remaining: Duration,
    },
    ClientRecovered {
        id: ClientId,
        pid: Option<u32>,
    },
    FeedingStopped(StopReason),
    AllClientsClosed,
}

struct PidDisplay(Option<u32>);

impl fmt::Display for PidDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(pid) => write!(f, "client {pid}"),
            None => write!(f, "client (pid unknown)"),
        }
    }
}

impl fmt::Display for MuxEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MuxEvent::ClientAdded { pid, .. } => {
                write!(f, "{} connected, now watched", PidDisplay(*pid))
            }
            MuxEvent::ClientReleased { pid, .. } => {
                write!(f, "{} closed cleanly, no longer watched", PidDisplay(*pid))
            }
            MuxEvent::ClientNearExpiry { pid, remaining, .. } => write!(
                f,
                "{} sent no update; it expires in {:.1}s",
                PidDisplay(*pid),
                remaining.as_secs_f64()
            ),
            MuxEvent::ClientRecovered { pid, .. } => {
                write!(f, "{} updated again before expiring", PidDisplay(*pid))
            }
            MuxEvent::FeedingStopped(StopReason::Expired {
                pid, silent_for, ..
            }) => write!(
                f,
                "{} expired after {:.1}s without update: watchdog no longer fed, node will reset",
                PidDisplay(*pid),
                silent_for.as_secs_f64()
            ),
            MuxEvent::FeedingStopped(StopReason::DisconnectedWithoutMagicClose { pid, .. }) => {
                write!(
                    f,
                    "{} disconnected without magic close: watchdog no longer fed, node will reset",
                    PidDisplay(*pid)
                )
            }
            MuxEvent::AllClientsClosed => write!(f, "all clients closed their connections"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectRefused {
    TooManyClients(usize),
    FeedingStopped,
}

impl fmt::Display for ConnectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectRefused::TooManyClients(max) => {
                write!(f, "refused client: {max} clients already connected")
            }
            ConnectRefused::FeedingStopped => {
                write!(
                    f,
                    "refused client: the watchdog is no longer fed and the node will reset"
                )
            }
        }
    }
}

/// A client's view of its standing, answered to a status query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientStatus {
    pub remaining: Duration,
    /// The client timeout.
    pub timeout: Duration,
    pub feeding: bool,
    /// What the mux says about itself: the server adds it; a mux of an
    /// older version does not report it.
    pub mux: Option<MuxReport>,
}

/// The mux's keep-alive interval and the device's applied timeout, which
/// together with the client timeout make the fence window, and whether the
/// device is simulated (on real time, like any device: a daemon on a scaled
/// clock measures the window in its own time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MuxReport {
    pub tick: Duration,
    pub device_timeout: Duration,
    /// Absent from a mux that reports the timing but not the device kind
    /// (the version before): a reader must take it for a real device.
    pub device: Option<DeviceKind>,
}

struct Client {
    pid: Option<u32>,
    last_update: Instant,
    magic_close: bool,
    warned: bool,
}

pub struct MuxState {
    settings: MuxSettings,
    clients: BTreeMap<ClientId, Client>,
    next_id: ClientId,
    stopped: Option<StopReason>,
}

impl MuxState {
    pub fn new(settings: MuxSettings) -> Self {
        MuxState {
            settings,
            clients: BTreeMap::new(),
            next_id: 1,
            stopped: None,
        }
    }

    pub fn settings(&self) -> &MuxSettings {
        &self.settings
    }

    /// A new connection counts as an update: its expiry starts now.
    pub fn connect(
        &mut self,
        pid: Option<u32>,
        now: Instant,
    ) -> Result<(ClientId, MuxEvent), ConnectRefused> {
        if self.stopped.is_some() {
            return Err(ConnectRefused::FeedingStopped);
        }
        if self.clients.len() >= self.settings.max_clients {
            return Err(ConnectRefused::TooManyClients(self.settings.max_clients));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.clients.insert(
            id,
            Client {
                pid,
                last_update: now,
                magic_close: false,
                warned: false,
            },
        );
        Ok((id, MuxEvent::ClientAdded { id, pid }))
    }

    /// A client silent for the client timeout or longer has expired, even
    /// if the tick has not noticed yet: feeding stops for good, whatever it
    /// sends next. Its next message (an update, a magic close) or its
    /// disconnect can arrive before the tick; without this check such a
    /// message would revive a client the node should be reset for.
    /// Returns whether it had expired, and the event if this stopped feeding.
    fn expire_if_silent(&mut self, id: ClientId, now: Instant) -> (bool, Option<MuxEvent>) {
        let Some(client) = self.clients.get(&id) else {
            return (false, None);
        };
        let silent_for = now.saturating_duration_since(client.last_update);
        if silent_for < self.settings.client_timeout {
            return (false, None);
        }
        if self.stopped.is_some() {
            return (true, None);
        }
        let reason = StopReason::Expired {
            id,
            pid: client.pid,
            silent_for,
        };
        self.stopped = Some(reason.clone());
        (true, Some(MuxEvent::FeedingStopped(reason)))
    }

    /// Applies bytes a client wrote. Every byte but a status query is an
    /// update; the magic close stays armed only while 'V' is the last of
    /// them. Returns how many status queries to answer. A client that had
    /// already expired is not revived: feeding stops (see expire_if_silent).
    pub fn receive(
        &mut self,
        id: ClientId,
        bytes: &[u8],
        now: Instant,
    ) -> (usize, Option<MuxEvent>) {
        if let (true, event) = self.expire_if_silent(id, now) {
            let queries = bytes.iter().filter(|&&b| b == STATUS_QUERY).count();
            return (queries, event);
        }
        let Some(client) = self.clients.get_mut(&id) else {
            return (0, None);
        };
        let mut queries = 0;
        let mut updated = false;
        for &b in bytes {
            if b == STATUS_QUERY {
                queries += 1;
            } else {
                updated = true;
                client.magic_close = b == MAGIC_CLOSE;
            }
        }
        let mut event = None;
        if updated {
            client.last_update = now;
            if client.warned {
                client.warned = false;
                event = Some(MuxEvent::ClientRecovered {
                    id,
                    pid: client.pid,
                });
            }
        }
        (queries, event)
    }

    /// A client's connection ended. A magic close releases it, unless it had
    /// expired before (see expire_if_silent): then feeding stops.
    pub fn disconnect(&mut self, id: ClientId, now: Instant) -> Vec<MuxEvent> {
        let (expired, event) = self.expire_if_silent(id, now);
        let mut events: Vec<MuxEvent> = event.into_iter().collect();
        let Some(client) = self.clients.remove(&id) else {
            return events;
        };
        if expired {
            // No clean release, whatever it sent last.
        } else if client.magic_close {
            events.push(MuxEvent::ClientReleased {
                id,
                pid: client.pid,
            });
        } else if self.stopped.is_none() {
            let reason = StopReason::DisconnectedWithoutMagicClose {
                id,
                pid: client.pid,
            };
            self.stopped = Some(reason.clone());
            events.push(MuxEvent::FeedingStopped(reason));
        }
        if self.clients.is_empty() {
            events.push(MuxEvent::AllClientsClosed);
        }
        events
    }

    /// Checks every client's expiry; returns whether the device may be fed
    /// now. A client whose last update is `client_timeout` old or older stops
    /// feeding for good.
    pub fn tick(&mut self, now: Instant) -> (bool, Vec<MuxEvent>) {
        let mut events = Vec::new();
        if self.stopped.is_some() {
            return (false, events);
        }
        let timeout = self.settings.client_timeout;
        let warn_at = timeout.saturating_sub(self.settings.warn_before);
        for (&id, client) in self.clients.iter_mut() {
            let silent_for = now.saturating_duration_since(client.last_update);
            if silent_for >= timeout {
                let reason = StopReason::Expired {
                    id,
                    pid: client.pid,
                    silent_for,
                };
                self.stopped = Some(reason.clone());
                events.push(MuxEvent::FeedingStopped(reason));
                return (false, events);
            }
            if silent_for >= warn_at && !client.warned {
                client.warned = true;
                events.push(MuxEvent::ClientNearExpiry {
                    id,
                    pid: client.pid,
                    remaining: timeout - silent_for,
                });
            }
        }
        (true, events)
    }

    pub fn status(&self, id: ClientId, now: Instant) -> Option<ClientStatus> {
        let client = self.clients.get(&id)?;
        let timeout = self.settings.client_timeout;
        Some(ClientStatus {
            remaining: timeout.saturating_sub(now.saturating_duration_since(client.last_update)),
            timeout,
            feeding: self.stopped.is_none(),
            mux: None,
        })
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stopped.as_ref()
    }

    /// Whether anything still depends on the watchdog firing or being fed:
    /// a connected client, or a stop that must end in a reset. Only without
    /// either may the device be disarmed.
    pub fn needs_watchdog(&self) -> bool {
        !self.clients.is_empty() || self.stopped.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(timeout_ms: u64, warn_ms: u64) -> MuxState {
        MuxState::new(MuxSettings {
            client_timeout: Duration::from_millis(timeout_ms),
            warn_before: Duration::from_millis(warn_ms),
            max_clients: 3,
        })
    }

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn feeds_without_clients() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        assert!(s.tick(ms(t0, 5000)).0);
        assert!(!s.needs_watchdog());
    }

    #[test]
    fn a_silent_client_stops_feeding_at_its_expiry_and_for_good() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (id, _) = s.connect(Some(42), t0).unwrap();
        assert!(s.tick(ms(t0, 999)).0);
        let (feed, events) = s.tick(ms(t0, 1000));
        assert!(!feed);
        assert!(matches!(
            events[..],
            [MuxEvent::FeedingStopped(StopReason::Expired {
                pid: Some(42),
                ..
            })]
        ));
        s.receive(id, b"\0", ms(t0, 1001));
        assert!(
            !s.tick(ms(t0, 1002)).0,
            "an update after expiry must not resume feeding"
        );
    }

    #[test]
    fn updates_push_expiry_out() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (id, _) = s.connect(None, t0).unwrap();
        s.receive(id, b"\0", ms(t0, 800));
        assert!(s.tick(ms(t0, 1500)).0);
        assert_eq!(
            s.status(id, ms(t0, 1500)).unwrap().remaining,
            Duration::from_millis(300)
        );
    }

    #[test]
    fn a_status_query_is_not_an_update() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (id, _) = s.connect(None, t0).unwrap();
        assert_eq!(s.receive(id, b"??", ms(t0, 900)).0, 2);
        assert!(!s.tick(ms(t0, 1000)).0);
    }

    #[test]
    fn every_client_must_be_alive_for_feeding() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (a, _) = s.connect(Some(1), t0).unwrap();
        let (b, _) = s.connect(Some(2), ms(t0, 500)).unwrap();
        assert_eq!(s.client_count(), 2);
        s.receive(a, b"\0", ms(t0, 900));
        assert!(s.tick(ms(t0, 1400)).0);
        let (feed, events) = s.tick(ms(t0, 1500));
        assert!(!feed);
        assert!(
            matches!(&events[..], [MuxEvent::FeedingStopped(StopReason::Expired { id, .. })] if *id == b)
        );
    }

    #[test]
    fn magic_close_releases_only_if_v_was_the_last_byte() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (a, _) = s.connect(Some(1), t0).unwrap();
        let (b, _) = s.connect(Some(2), t0).unwrap();
        s.receive(a, b"\0V", t0);
        assert_eq!(
            s.disconnect(a, t0),
            vec![MuxEvent::ClientReleased {
                id: a,
                pid: Some(1)
            }]
        );
        assert!(s.tick(t0).0);

        s.receive(b, b"V\0", t0);
        let events = s.disconnect(b, t0);
        assert!(matches!(
            events[0],
            MuxEvent::FeedingStopped(StopReason::DisconnectedWithoutMagicClose { .. })
        ));
        assert_eq!(events[1], MuxEvent::AllClientsClosed);
        assert!(!s.tick(t0).0);
        assert!(
            s.needs_watchdog(),
            "a pending reset must keep the watchdog armed"
        );
    }

    #[test]
    fn an_update_after_silent_expiry_stops_feeding_before_the_tick_notices() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (id, _) = s.connect(Some(5), t0).unwrap();
        assert!(s.tick(ms(t0, 900)).0);
        // Silent for 1.2 s; its update arrives before the next tick.
        let (_, event) = s.receive(id, b"\0", ms(t0, 1200));
        assert!(matches!(
            event,
            Some(MuxEvent::FeedingStopped(StopReason::Expired {
                pid: Some(5),
                ..
            }))
        ));
        assert!(!s.tick(ms(t0, 1201)).0, "a late update must not revive it");
        assert_eq!(s.status(id, ms(t0, 1201)).map(|st| st.feeding), Some(false));
    }

    #[test]
    fn a_magic_close_after_silent_expiry_does_not_release_cleanly() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (id, _) = s.connect(Some(6), t0).unwrap();
        assert!(s.tick(ms(t0, 900)).0);
        s.receive(id, b"V", ms(t0, 1500));
        let events = s.disconnect(id, ms(t0, 1500));
        assert!(!events.contains(&MuxEvent::ClientReleased { id, pid: Some(6) }));
        assert!(!s.tick(ms(t0, 1501)).0);
        assert!(
            s.needs_watchdog(),
            "the pending reset keeps the watchdog armed"
        );
    }

    #[test]
    fn a_disconnect_after_silent_expiry_stops_feeding_as_expired() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (a, _) = s.connect(Some(1), t0).unwrap();
        s.receive(a, b"\0V", ms(t0, 100));
        let events = s.disconnect(a, ms(t0, 1100));
        assert!(matches!(
            events[0],
            MuxEvent::FeedingStopped(StopReason::Expired { pid: Some(1), .. })
        ));
        assert!(!s.tick(ms(t0, 1101)).0);
    }

    #[test]
    fn a_magic_close_in_time_still_releases() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        let (a, _) = s.connect(Some(1), t0).unwrap();
        s.receive(a, b"V", ms(t0, 999));
        assert_eq!(
            s.disconnect(a, ms(t0, 1500)),
            vec![
                MuxEvent::ClientReleased {
                    id: a,
                    pid: Some(1)
                },
                MuxEvent::AllClientsClosed
            ]
        );
        assert!(s.tick(ms(t0, 1500)).0);
    }

    #[test]
    fn warns_before_expiry_and_notes_recovery() {
        let mut s = state(1000, 300);
        let t0 = Instant::now();
        let (id, _) = s.connect(Some(7), t0).unwrap();
        assert!(s.tick(ms(t0, 699)).1.is_empty());
        let (_, events) = s.tick(ms(t0, 700));
        assert!(
            matches!(events[..], [MuxEvent::ClientNearExpiry { remaining, .. }] if remaining == Duration::from_millis(300))
        );
        assert!(s.tick(ms(t0, 800)).1.is_empty(), "warn once");
        let (_, recovered) = s.receive(id, b"\0", ms(t0, 900));
        assert_eq!(
            recovered,
            Some(MuxEvent::ClientRecovered { id, pid: Some(7) })
        );
    }

    #[test]
    fn refuses_clients_beyond_the_limit_and_after_a_stop() {
        let mut s = state(1000, 100);
        let t0 = Instant::now();
        for _ in 0..3 {
            s.connect(None, t0).unwrap();
        }
        assert_eq!(
            s.connect(None, t0).err(),
            Some(ConnectRefused::TooManyClients(3))
        );
        s.tick(ms(t0, 2000));
        s.disconnect(1, ms(t0, 2000));
        assert_eq!(
            s.connect(None, ms(t0, 2000)).err(),
            Some(ConnectRefused::FeedingStopped)
        );
    }
}
