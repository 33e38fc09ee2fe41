//! Deterministic per-radio identity: everything a radio reports (serial, software, name,
//! link state, MACs, uptime, …) drawn from `--seed` and the radio's address, so two runs with
//! the same seed serve the same fleet and `--describe` can predict every value.

use std::net::Ipv4Addr;

use super::persona::{Persona, Profile, RadioType};

/// A small deterministic generator (SplitMix64) keyed by seed, address and a purpose label,
/// so adding a field never changes the values of the others.
#[derive(Debug, Clone)]
pub struct Draw {
    state: u64,
}

impl Draw {
    /// The generator for one purpose of one address.
    pub fn new(seed: u64, ip: Ipv4Addr, purpose: &str) -> Draw {
        let mut state = seed ^ (u64::from(u32::from(ip)) << 17);
        for byte in purpose.bytes() {
            state = mix(state ^ u64::from(byte));
        }
        Draw { state }
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1) as u64;
        lo + (self.next_u64() % span) as i64
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A Siklu MAC address (OUI 00:24:a4).
    pub fn mac(&mut self) -> String {
        let bits = self.next_u64();
        format!(
            "00:24:a4:{:02x}:{:02x}:{:02x}",
            (bits >> 16) as u8,
            (bits >> 8) as u8,
            bits as u8
        )
    }

    /// `n` hexadecimal digits, lower case.
    pub fn hex(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n);
        while out.len() < n {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(n);
        out
    }

    /// `n` decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next_u64() % 10) as u8))
            .collect()
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An uptime that reads the same in days (2 decimals) for the first 13 minutes of serving:
/// it starts just past a rounding boundary of the reference's `time_to_days`, so a test that
/// compares `system_up_days` with `--describe` cannot straddle a change.
pub fn stable_uptime_minutes(draw: &mut Draw, max_days: i64) -> u64 {
    let hundredths = draw.range(0, max_days * 100) as f64;
    // One rounding bucket of 0.01 day is 14.4 minutes; boundaries sit at (k + 0.5) * 14.4.
    ((hundredths + 0.5) * 14.4).floor() as u64 + 1
}

/// Formats minutes (plus seconds) as the CLI's `DDDD:HH:MM:SS`.
pub fn dhms(total_seconds: u64, day_width: usize) -> String {
    let days = total_seconds / 86_400;
    let hours = total_seconds / 3600 % 24;
    let minutes = total_seconds / 60 % 60;
    let seconds = total_seconds % 60;
    format!("{days:0day_width$}:{hours:02}:{minutes:02}:{seconds:02}")
}

/// The reference's `time_to_days` (`round(d + h/24 + m/1440, 2)`, seconds ignored), printed
/// as Python prints a float (`12.22`, `0.5`, `3.0`).
pub fn days_value(total_seconds: u64) -> String {
    let days = (total_seconds / 86_400) as f64;
    let hours = (total_seconds / 3600 % 24) as f64;
    let minutes = (total_seconds / 60 % 60) as f64;
    // Python's round(x, 2) rounds the exact binary value, ties to even, as `{:.2}` does;
    // scaling by 100 first would round some minutes the other way (3.125… → 3.13, not 3.12).
    let exact = days + hours / 24.0 + minutes / 1440.0;
    let value: f64 = format!("{exact:.2}").parse().unwrap_or(exact);
    let text = format!("{value}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// `x.y.z` of a software version (`7.7.10-13186-d2f25a6` → `7.7.10`).
pub fn xyz(version: &str) -> String {
    version.split('-').next().unwrap_or(version).to_owned()
}

/// An Ethernet port of an EH or classic radio.
#[derive(Debug, Clone)]
pub struct Eth {
    /// `eth1`…
    pub name: String,
    /// `up` or `down`.
    pub oper: &'static str,
    /// `1000xfd`, `100xfd`, or `unknown` when down.
    pub speed: &'static str,
    /// Last state change, `DDDD:HH:MM:SS`.
    pub last_change: String,
    /// Port MAC.
    pub mac: String,
}

/// A terminal unit associated with a base unit (`show remote-terminal-unit`).
#[derive(Debug, Clone)]
pub struct Rtu {
    /// TU MAC.
    pub mac: String,
    /// TU name.
    pub name: String,
    /// Modulation index.
    pub tx_mcs: i64,
    /// dBm.
    pub rssi: i64,
    /// Signal quality.
    pub quality: i64,
    /// Seconds since association.
    pub connect_seconds: u64,
}

/// The radio link of an EH (`show rf`, `show rf-debug`).
#[derive(Debug, Clone)]
pub struct Rf {
    /// `up`/`down`.
    pub oper: &'static str,
    /// dB.
    pub cinr: i64,
    /// dBm.
    pub rssi: i64,
    /// Transmit power.
    pub ptx: i64,
    /// MHz; E-band models report `tx-frequency`, the others `frequency`.
    pub tx_freq: i64,
    /// MHz.
    pub rx_freq: i64,
    /// `master`/`slave`.
    pub role: &'static str,
    /// Full mode text; the reference keeps only its first token.
    pub mode: String,
    /// Link length, m.
    pub distance: i64,
}

/// Identity and state of one EH or classic MultiHaul radio.
#[derive(Debug, Clone)]
pub struct Radio {
    /// Its address.
    pub ip: Ipv4Addr,
    /// EH, BU or TU.
    pub radio_type: RadioType,
    /// Model, e.g. `EH-710TX`.
    pub model: String,
    /// System name at start (the prompt shows it).
    pub name: String,
    /// System location at start.
    pub location: String,
    /// Serial number.
    pub sn: String,
    /// Running software.
    pub sw: String,
    /// Software in the other flash bank.
    pub sw_offline: String,
    /// The userauth banner, when the radio sends one.
    pub banner: Option<String>,
    /// Uptime when siksim started, in seconds.
    pub uptime_at_start: u64,
    /// The radio clock's offset from UTC, in seconds.
    pub clock_offset: i64,
    /// Chassis temperature, °C.
    pub temperature: i64,
    /// EH only: the radio link.
    pub rf: Option<Rf>,
    /// Ethernet ports (4 on EH, 3 on classic).
    pub eth: Vec<Eth>,
    /// Chassis id of the LLDP neighbour on eth0.
    pub lldp_chassis: String,
    /// LLDP neighbour name.
    pub lldp_name: String,
    /// Event log lines, oldest first.
    pub events: Vec<String>,
    /// User activity log lines, oldest first.
    pub activity: Vec<String>,
    /// Own MAC (classic base/terminal unit).
    pub self_mac: String,
    /// Classic channel, MHz.
    pub classic_freq: i64,
    /// BU: guest connection mode.
    pub guest: &'static str,
    /// BU: associated terminal units.
    pub rtus: Vec<Rtu>,
    /// TU: its link to the base unit.
    pub tu_link: Option<(String, Rtu)>,
    /// Hardware revision.
    pub hw_rev: &'static str,
    /// Management interface (`ip 1`): prefix length and VLAN; its address is the served one.
    pub mgmt: (u8, u16),
    /// EH: the licensed data rate, Mbps.
    pub data_rate: u32,
    /// The radio was changed after its configuration was last saved.
    pub unsaved_changes: bool,
}

const CITIES: &[&str] = &[
    "London", "Haifa", "Berlin", "Madrid", "Lisbon", "Oslo", "Dublin", "Prague", "Vienna",
    "Warsaw", "Athens", "Rome", "Paris", "Zurich", "Helsinki",
];

const EH_SW: &[(&str, &str)] = &[
    ("7.7.10-13186-d2f25a6", "7.4.3-10812-1b3dd8b"),
    ("7.7.12-13214-f614d18", "7.7.10-13186-d2f25a6"),
    ("7.4.3-10812-1b3dd8b", "7.2.1-9988-0a1b2c3"),
];

const CLASSIC_SW: &[(&str, &str)] = &[
    ("2.0.5-4321-aa11bb2", "1.9.2-3901-cc22dd3"),
    ("2.0.7-4410-ee33ff4", "2.0.5-4321-aa11bb2"),
];

/// Monthly log timestamps: `Aug 16 06:50:11`.
fn stamp(draw: &mut Draw, minute: i64) -> String {
    let hour = 6 + minute / 60;
    format!(
        "Aug 16 {:02}:{:02}:{:02}",
        hour % 24,
        minute % 60,
        draw.range(0, 59)
    )
}

impl Radio {
    /// Builds the radio at `ip` from the seed and its profile (EH, BU or TU).
    pub fn new(seed: u64, ip: Ipv4Addr, profile: &Profile, radio_type: RadioType) -> Radio {
        let mut d = Draw::new(seed, ip, "radio");
        // Values added for the configuration draw from their own stream, so the others keep
        // the values they had before it existed.
        let mut c = Draw::new(seed, ip, "config");
        // Failure personas built on an EH keep their banner (the banner-less EH-8010FX is an
        // identification case of its own), so they fail only in the way they are named for.
        let models = super::persona::default_models(radio_type);
        let models = if profile.persona == Persona::Eh {
            models
        } else {
            &models[..models.len().min(3)]
        };
        let model = profile
            .model
            .clone()
            .unwrap_or_else(|| d.pick(models).to_owned());
        let name = profile.name.clone().unwrap_or_else(|| model.clone());
        let location = profile
            .location
            .clone()
            .unwrap_or_else(|| (d.pick(CITIES)).to_owned());
        let sn = match radio_type {
            RadioType::Eh if model.starts_with("EH-1200") => format!("F{}", d.digits(9)),
            RadioType::Eh => format!(
                "T.BJF{}{}",
                d.digits(6),
                char::from(b'A' + d.range(0, 25) as u8)
            ),
            RadioType::Bu => format!("FB{}", d.digits(7)),
            _ => format!("FT{}", d.digits(7)),
        };
        let (sw, sw_offline) = if radio_type == RadioType::Eh {
            if model == "EH-8010FX" {
                ("10.6.2-18324-8f1e2d3", "10.5.1-17700-4c3b2a1")
            } else {
                d.pick(EH_SW)
            }
        } else {
            d.pick(CLASSIC_SW)
        };
        // EH-8010FX on 10.6.x lost its banner (the reason for the inventory fallback).
        let send_banner = profile.banner.unwrap_or(model != "EH-8010FX");
        let banner = send_banner.then(|| format!("{model}, S/N: {sn}, Ver: {sw}"));
        let uptime_at_start = stable_uptime_minutes(&mut d, 400) * 60 + d.range(0, 59) as u64;
        let clock_offset = d.range(-600, 600);
        let temperature = d.range(30, 60);
        let rf = (radio_type == RadioType::Eh).then(|| {
            let up = !d.chance(10);
            let e_band = !model.starts_with("EH-600");
            let tx_freq = if e_band {
                d.range(7100, 7600) * 10 + 5
            } else {
                d.range(5800, 6400) * 10
            };
            Rf {
                oper: if up { "up" } else { "down" },
                cinr: if up { d.range(8, 25) } else { -128 },
                rssi: if up { d.range(-70, -35) } else { -100 },
                ptx: d.range(0, 10),
                tx_freq,
                rx_freq: if e_band { tx_freq + 10_000 } else { tx_freq },
                role: d.pick(&["master", "slave"]),
                mode: (d.pick(&[
                    "adaptive qam64 500 1 0.5",
                    "adaptive qam128 500 2 0.75",
                    "static qpsk 250 1 0.5",
                ]))
                .to_owned(),
                distance: d.range(80, 4000),
            }
        });
        let ports = if radio_type == RadioType::Eh { 4 } else { 3 };
        let eth = (1..=ports)
            .map(|n| {
                let up = n == 1 || d.chance(30);
                Eth {
                    name: format!("eth{n}"),
                    oper: if up { "up" } else { "down" },
                    speed: if up {
                        d.pick(&["1000xfd", "1000xfd", "100xfd"])
                    } else {
                        "unknown"
                    },
                    last_change: if up {
                        dhms(d.range(10, 86_400 * 30) as u64, 4)
                    } else {
                        "0000:00:00:00".to_owned()
                    },
                    mac: d.mac(),
                }
            })
            .collect();
        let mut events = vec![format!(
            "{} sw bspd: *** Reset (cold start) ***",
            stamp(&mut d, 0)
        )];
        let count = d.range(2, 5);
        for i in 1..=count {
            let text = d.pick(&[
                "sw cad: link up eth eth1",
                "sw cad: link up eth eth0",
                "sw cad: modulation change qam64 to qam128",
                "sw cad: modulation change qam128 to qam64",
                "sw cad: link down eth eth2",
            ]);
            events.push(format!("{} {text}", stamp(&mut d, i * 7)));
        }
        let operator_ip = format!("192.168.{}.{}", d.range(0, 9), d.range(2, 250));
        let activity = vec![
            format!("{} admin ssh {operator_ip} login", stamp(&mut d, 5)),
            format!(
                "{} admin ssh {operator_ip} set system location {location}",
                stamp(&mut d, 20)
            ),
            format!("{} admin ssh {operator_ip} logout", stamp(&mut d, 25)),
        ];
        let rtu_count = if radio_type == RadioType::Bu {
            d.range(1, 4)
        } else {
            0
        };
        let rtus = (1..=rtu_count)
            .map(|i| Rtu {
                mac: d.mac(),
                name: format!("TU-{i}"),
                tx_mcs: d.range(3, 12),
                rssi: d.range(-75, -45),
                quality: d.range(5, 30),
                connect_seconds: stable_uptime_minutes(&mut d, 60) * 60,
            })
            .collect();
        let tu_link = (radio_type == RadioType::Tu).then(|| {
            (
                d.mac(),
                Rtu {
                    mac: String::new(),
                    name: String::new(),
                    tx_mcs: d.range(3, 12),
                    rssi: d.range(-75, -45),
                    quality: d.range(5, 30),
                    connect_seconds: stable_uptime_minutes(&mut d, 60) * 60,
                },
            )
        });
        Radio {
            ip,
            radio_type,
            model,
            name,
            location,
            sn,
            sw: sw.to_owned(),
            sw_offline: sw_offline.to_owned(),
            banner,
            uptime_at_start,
            clock_offset,
            temperature,
            rf,
            eth,
            lldp_chassis: d.mac(),
            lldp_name: format!("EH-{}", d.range(100, 999)),
            events,
            activity,
            self_mac: d.mac(),
            classic_freq: d.pick(&[58320, 60480, 62640, 64800]),
            guest: d.pick(&["disabled", "enabled"]),
            rtus,
            tu_link,
            hw_rev: d.pick(&["A1", "A2", "B0"]),
            mgmt: (c.pick(&[16, 24, 24, 28]), c.range(2, 4000) as u16),
            data_rate: c.pick(&[1000, 2000, 5000, 10000]),
            unsaved_changes: profile.unsaved_changes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::days_value;

    /// Values printed by Python's `round(d + h/24 + m/1440, 2)`, ties to even included.
    #[test]
    fn uptime_days_round_like_python() {
        let cases = [
            ((3, 3, 0), "3.12"),
            ((0, 3, 0), "0.12"),
            ((12, 5, 17), "12.22"),
            ((0, 12, 0), "0.5"),
            ((350, 23, 11), "350.97"),
            ((1, 9, 0), "1.38"),
            ((0, 0, 0), "0.0"),
        ];
        for ((days, hours, minutes), python) in cases {
            let seconds = days * 86_400 + hours * 3600 + minutes * 60 + 59;
            assert_eq!(days_value(seconds), python, "{days}:{hours}:{minutes}");
        }
    }

    use super::*;

    #[test]
    fn days_match_the_reference_samples() {
        // 0012:05:17:42 → 12.22, 0003:04:05:06 → 3.17, 0000:12:00:00 → 0.5 (reference §4.1).
        assert_eq!(days_value(12 * 86_400 + 5 * 3600 + 17 * 60 + 42), "12.22");
        assert_eq!(days_value(3 * 86_400 + 4 * 3600 + 5 * 60 + 6), "3.17");
        assert_eq!(days_value(12 * 3600), "0.5");
        assert_eq!(days_value(3 * 86_400), "3.0");
    }

    #[test]
    fn stable_uptimes_keep_their_day_value_for_thirteen_minutes() {
        for n in 0..500u32 {
            let mut draw = Draw::new(7, Ipv4Addr::from(n), "t");
            let start = stable_uptime_minutes(&mut draw, 400) * 60;
            assert_eq!(
                days_value(start),
                days_value(start + 13 * 60 + 59),
                "{start}"
            );
        }
    }

    #[test]
    fn draws_depend_on_seed_address_and_purpose() {
        let ip = Ipv4Addr::new(127, 0, 0, 1);
        let a = Draw::new(1, ip, "x").next_u64();
        assert_eq!(a, Draw::new(1, ip, "x").next_u64());
        assert_ne!(a, Draw::new(2, ip, "x").next_u64());
        assert_ne!(a, Draw::new(1, Ipv4Addr::new(127, 0, 0, 2), "x").next_u64());
        assert_ne!(a, Draw::new(1, ip, "y").next_u64());
    }
}
