//! What CLI sessions change on a radio (clock, name, location, contact, management address,
//! transmit power, the saved configuration; and its [`Life`]: rollback timer, RF link, boots),
//! kept for the life of the siksim process and shared by every session to that radio.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};

use super::config::Settings;
use super::life::Life;

/// Settings a session changed on one node (a radio, or a TG client node).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Clock offset from UTC in seconds, once `set … time/date` ran.
    pub clock_offset: Option<i64>,
    /// `set system name`.
    pub name: Option<String>,
    /// `set system location`.
    pub location: Option<String>,
    /// `set system contact`.
    pub contact: Option<String>,
    /// `set ip 1 ip-addr …` (`static A.B.C.D` or `dhcp`).
    pub ip_addr: Option<String>,
    /// `set ip 1 prefix-len …`.
    pub prefix_len: Option<u8>,
    /// `set ip 1 vlan …`.
    pub vlan: Option<u16>,
    /// `set rf tx-power …`.
    pub tx_power: Option<i64>,
    /// The startup configuration's settings once `copy running-configuration
    /// startup-configuration` saved them (before that, the ones the radio started with).
    pub saved: Option<Settings>,
}

impl Changes {
    /// The changes after a reboot: the running settings are the `startup` ones. The clock
    /// (the radio's real-time clock keeps it) and the saved configuration stay.
    pub fn rebooted(&self, startup: &Settings) -> Changes {
        Changes {
            clock_offset: self.clock_offset,
            name: Some(startup.name.clone()),
            location: Some(startup.location.clone()),
            contact: Some(startup.contact.clone()),
            ip_addr: Some(startup.ip_addr.clone()),
            prefix_len: Some(startup.prefix_len),
            vlan: Some(startup.vlan),
            tx_power: startup.tx_power,
            saved: self.saved.clone(),
        }
    }
}

/// Identifies a node: the address, and for a TG client node its name.
pub type NodeKey = (Ipv4Addr, Option<String>);

/// The changes of every node, the life of every radio, and when the simulator started
/// (uptimes advance from it).
#[derive(Debug, Clone)]
pub struct Registry {
    changes: Arc<Mutex<HashMap<NodeKey, Changes>>>,
    lives: Arc<Mutex<HashMap<Ipv4Addr, Arc<Life>>>>,
    started: Instant,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// An empty registry; uptimes count from now.
    pub fn new() -> Registry {
        Registry {
            changes: Arc::new(Mutex::new(HashMap::new())),
            lives: Arc::new(Mutex::new(HashMap::new())),
            started: Instant::now(),
        }
    }

    /// Seconds since the simulator started.
    pub fn elapsed(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Locks the map; a session that panicked while holding it left plain data, so the
    /// poison flag is ignored.
    fn lock(&self) -> MutexGuard<'_, HashMap<NodeKey, Changes>> {
        self.changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The changes made to a node so far.
    pub fn get(&self, key: &NodeKey) -> Changes {
        self.lock().get(key).cloned().unwrap_or_default()
    }

    /// Applies a change to a node.
    pub fn update(&self, key: NodeKey, change: impl FnOnce(&mut Changes)) {
        change(self.lock().entry(key).or_default());
    }

    /// The life of the radio at `ip`, the same for every session and its listener.
    pub fn life(&self, ip: Ipv4Addr) -> Arc<Life> {
        self.lives
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(ip)
            .or_default()
            .clone()
    }
}

/// Now, in UNIX seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A radio's clock: UTC plus an offset.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Seconds ahead of UTC (negative: behind).
    pub offset: i64,
}

impl Clock {
    /// The radio's current time in UNIX seconds.
    pub fn now(self) -> i64 {
        unix_now() + self.offset
    }

    /// The radio's current time (the epoch if its offset put it beyond chrono's range, which
    /// [`Clock::with_date`]'s years 1970-2099 never do).
    fn now_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.now(), 0).unwrap_or_default()
    }

    /// Date with a separator: `2023.08.16` (EH) or `2023-08-16` (TG).
    pub fn date(self, separator: char) -> String {
        self.now_utc()
            .format(&format!("%Y{separator}%m{separator}%d"))
            .to_string()
    }

    /// `HH:MM:SS`.
    pub fn time(self) -> String {
        self.now_utc().format("%H:%M:%S").to_string()
    }

    /// The offset after setting the time of day to `hh:mm:ss`, keeping the date.
    pub fn with_time(self, text: &str) -> Option<i64> {
        // Two digits each, and no leap second (which chrono would read from `:60`).
        if text.len() != 8 || text.ends_with(":60") {
            return None;
        }
        let time = NaiveTime::parse_from_str(text, "%H:%M:%S").ok()?;
        let target = self.now_utc().date_naive().and_time(time).and_utc();
        Some(target.timestamp() - unix_now())
    }

    /// The offset after setting the date to `text` (`YYYY<sep>MM<sep>DD`), keeping the time.
    pub fn with_date(self, text: &str, separator: char) -> Option<i64> {
        if text.len() != 10 {
            return None;
        }
        let format = format!("%Y{separator}%m{separator}%d");
        // chrono rejects 31 February and friends.
        let date = NaiveDate::parse_from_str(text, &format).ok()?;
        if !(1970..=2099).contains(&date.year()) {
            return None;
        }
        let target = date.and_time(self.now_utc().time()).and_utc();
        Some(target.timestamp() - unix_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_time_and_date_moves_the_clock() {
        let clock = Clock { offset: 0 };
        let offset = clock.with_time("07:38:19").expect("valid time");
        let moved = Clock { offset };
        let time = moved.time();
        assert!(
            time.as_str() >= "07:38:19" && time.as_str() <= "07:38:21",
            "{time}"
        );
        let offset = moved.with_date("2026.11.21", '.').expect("valid date");
        let moved = Clock { offset };
        assert_eq!(moved.date('.'), "2026.11.21");
        assert!(clock.with_time("7:38:19").is_none());
        assert!(clock.with_time("24:00:00").is_none());
        assert!(clock.with_date("2026-02-30", '-').is_none());
        assert!(clock.with_date("2026-11-21", '.').is_none());
        assert!(clock.with_date("2000-02-29", '-').is_some());
        assert!(clock.with_date("1969-12-31", '-').is_none());
        assert!(clock.with_time("23:59:60").is_none());
    }

    #[test]
    fn changes_are_shared_between_handles() {
        let registry = Registry::new();
        let key = (Ipv4Addr::new(127, 0, 0, 1), None);
        registry
            .clone()
            .update(key.clone(), |c| c.location = Some("Oslo".into()));
        assert_eq!(registry.get(&key).location.as_deref(), Some("Oslo"));
    }
}
