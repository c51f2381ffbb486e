//! The timing profiles (share/timing-profiles.cfg), compiled in: the same
//! file the TypeScript code reads (src/config/timing-profiles.ts), parsed and
//! checked the same way, so both sides agree on every number. The watchdog
//! mux takes its defaults from the `default` profile, and the lease helpers
//! their fence window.

use crate::lease::FenceWindow;
use std::sync::OnceLock;
use std::time::Duration;

/// The shipped profiles file.
pub const PROFILES_TEXT: &str = include_str!("../../../share/timing-profiles.cfg");
const PROFILES_FILE: &str = "share/timing-profiles.cfg";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub lock_lifetime: Duration,
    pub client_timeout: Duration,
    pub mux_tick: Duration,
    pub device_timeout: Duration,
    pub margin: Duration,
    pub lrm_round: Duration,
    pub crm_round: Duration,
    pub lock_retry: Duration,
    pub store_timeout: Duration,
    pub heartbeat_timeout: Duration,
    pub fence_delay: Duration,
}

/// File key, whether it must be whole seconds.
const KEYS: [(&str, bool); 11] = [
    ("lock-lifetime", true),
    ("client-timeout", false),
    ("mux-tick", false),
    ("device-timeout", true),
    ("margin", false),
    ("lrm-round", true),
    ("crm-round", true),
    ("lock-retry", true),
    ("store-timeout", false),
    ("heartbeat-timeout", true),
    ("fence-delay", true),
];

impl Profile {
    pub fn fence_window(&self) -> FenceWindow {
        FenceWindow {
            client_timeout: self.client_timeout,
            mux_tick: self.mux_tick,
            device_timeout: self.device_timeout,
            margin: self.margin,
        }
    }

    /// The device timeout in the driver's unit.
    pub fn device_timeout_secs(&self) -> u32 {
        self.device_timeout.as_secs() as u32
    }

    fn from_values(name: String, v: &[Option<Duration>; 11]) -> Option<Profile> {
        Some(Profile {
            name,
            lock_lifetime: v[0]?,
            client_timeout: v[1]?,
            mux_tick: v[2]?,
            device_timeout: v[3]?,
            margin: v[4]?,
            lrm_round: v[5]?,
            crm_round: v[6]?,
            lock_retry: v[7]?,
            store_timeout: v[8]?,
            heartbeat_timeout: v[9]?,
            fence_delay: v[10]?,
        })
    }
}

/// `120s`, `250ms`, `1.5s`; None unless a positive whole number of milliseconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (number, seconds) = match text.strip_suffix("ms") {
        Some(n) => (n, false),
        None => (text.strip_suffix('s')?, true),
    };
    let valid = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.matches('.').count() <= 1;
    if !valid {
        return None;
    }
    let ms = if seconds {
        (number.parse::<f64>().ok()? * 1000.0).round()
    } else {
        number.parse::<f64>().ok()?
    };
    (ms > 0.0 && ms.fract() == 0.0 && ms < u64::MAX as f64)
        .then(|| Duration::from_millis(ms as u64))
}

struct Open {
    name: String,
    line: usize,
    values: [Option<Duration>; 11],
}

/// Parses the profiles file; every problem is reported as
/// `<file> line <n>[, field '<key>']: <message>`, one per line.
pub fn parse(text: &str, file: &str) -> Result<Vec<Profile>, String> {
    let mut issues: Vec<String> = Vec::new();
    let mut profiles: Vec<Profile> = Vec::new();
    let mut current: Option<Open> = None;

    let finish = |open: Option<Open>, profiles: &mut Vec<Profile>, issues: &mut Vec<String>| {
        let Some(open) = open else { return };
        let missing: Vec<&str> = KEYS
            .iter()
            .zip(open.values.iter())
            .filter(|(_, v)| v.is_none())
            .map(|((k, _), _)| *k)
            .collect();
        if !missing.is_empty() {
            issues.push(format!(
                "{file} line {}: profile '{}' lacks {}",
                open.line,
                open.name,
                missing.join(", ")
            ));
            return;
        }
        let line = open.line;
        let profile = Profile::from_values(open.name, &open.values).expect("all values present");
        let window = profile.fence_window().total();
        if window >= profile.lock_lifetime {
            issues.push(format!(
                "{file} line {line}: profile '{}' is unsafe: fence window {:?} is not shorter than the lock lifetime {:?}",
                profile.name, window, profile.lock_lifetime
            ));
            return;
        }
        profiles.push(profile);
    };

    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = raw.strip_prefix("profile:") {
            finish(current.take(), &mut profiles, &mut issues);
            let name = rest.trim().to_string();
            let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                issues.push(format!("{file} line {line}: invalid profile name '{name}' (lower-case letters, digits, '-')"));
            }
            if profiles.iter().any(|p| p.name == name) {
                issues.push(format!(
                    "{file} line {line}: profile '{name}' is defined twice"
                ));
            }
            current = Some(Open {
                name,
                line,
                values: [None; 11],
            });
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        let parts: Vec<&str> = trimmed.split_whitespace().collect();
        let Some(open) = current.as_mut().filter(|_| indented && parts.len() == 2) else {
            issues.push(format!(
                "{file} line {line}: expected 'profile: <name>' or an indented '<key> <duration>', got '{trimmed}'"
            ));
            continue;
        };
        let (key, value) = (parts[0], parts[1]);
        let Some(slot) = KEYS.iter().position(|(k, _)| *k == key) else {
            issues.push(format!("{file} line {line}, field '{key}': unknown key"));
            continue;
        };
        if open.values[slot].is_some() {
            issues.push(format!(
                "{file} line {line}, field '{key}': set twice in profile '{}'",
                open.name
            ));
            continue;
        }
        let Some(duration) = parse_duration(value) else {
            issues.push(format!(
                "{file} line {line}, field '{key}': '{value}' is not a positive duration (e.g. 120s or 250ms)"
            ));
            continue;
        };
        if KEYS[slot].1 && duration.subsec_nanos() != 0 {
            issues.push(format!(
                "{file} line {line}, field '{key}': '{value}' must be whole seconds"
            ));
            continue;
        }
        open.values[slot] = Some(duration);
    }
    finish(current.take(), &mut profiles, &mut issues);
    if issues.is_empty() && !profiles.iter().any(|p| p.name == "default") {
        issues.push(format!("{file}: no 'default' profile"));
    }
    if issues.is_empty() {
        Ok(profiles)
    } else {
        Err(issues.join("\n"))
    }
}

/// The shipped profiles. The file is checked by this crate's tests, so a
/// broken one never gets past `cargo test`.
pub fn profiles() -> &'static [Profile] {
    static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| parse(PROFILES_TEXT, PROFILES_FILE).unwrap_or_else(|e| panic!("{e}")))
}

pub fn profile(name: &str) -> Option<&'static Profile> {
    profiles().iter().find(|p| p.name == name)
}

/// The reference's timing.
pub fn default_profile() -> &'static Profile {
    profile("default").expect("the profiles file defines 'default'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_and_every_profile_is_safe() {
        let all = parse(PROFILES_TEXT, PROFILES_FILE).unwrap();
        assert!(all.len() >= 2);
        for p in &all {
            assert!(p.fence_window().total() < p.lock_lifetime, "{}", p.name);
        }
    }

    #[test]
    fn the_default_profile_has_the_reference_numbers() {
        let p = default_profile();
        assert_eq!(p.lock_lifetime, Duration::from_secs(120));
        assert_eq!(p.client_timeout, Duration::from_secs(60));
        assert_eq!(p.mux_tick, Duration::from_secs(1));
        assert_eq!(p.device_timeout_secs(), 10);
        assert_eq!(p.fence_window().total(), Duration::from_secs(76));
        assert_eq!(p.fence_delay, Duration::from_secs(60));
    }

    #[test]
    fn durations_need_a_unit_and_a_positive_value() {
        assert_eq!(parse_duration("120s"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        for bad in ["120", "0s", "-1s", "1.5ms", "s", ".5s", "1e3ms", "1..2s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    const ALL: &str = "\tclient-timeout 60s\n\tmux-tick 1s\n\tdevice-timeout 10s\n\tmargin 5s\n\tlrm-round 10s\n\tcrm-round 10s\n\tlock-retry 5s\n\tstore-timeout 5s\n\theartbeat-timeout 30s\n\tfence-delay 60s\n";

    #[test]
    fn an_unsafe_profile_is_refused_with_its_line() {
        let text = format!("profile: default\n\tlock-lifetime 70s\n{ALL}");
        let err = parse(&text, "t.cfg").unwrap_err();
        assert!(
            err.contains("t.cfg line 1: profile 'default' is unsafe"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let text = format!("profile: default\n\tlock-lifetime 120.5s\n{ALL}\tbogus 1s\n");
        let err = parse(&text, "t.cfg").unwrap_err();
        assert!(
            err.contains("t.cfg line 2, field 'lock-lifetime': '120.5s' must be whole seconds"),
            "{err}"
        );
        assert!(
            err.contains("t.cfg line 13, field 'bogus': unknown key"),
            "{err}"
        );
        assert!(
            err.contains("t.cfg line 1: profile 'default' lacks lock-lifetime"),
            "{err}"
        );
    }
}
