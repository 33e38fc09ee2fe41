//! What sikdiff compares in a record, what it ignores as volatile, and the tolerances of the
//! signal readings.
//!
//! A field is named by its dotted path with the rows of a table left out: `show.rf_rssi` (EH,
//! BU, TU), `show.links.uptime` (every row of a TG's `links` section). The volatile fields come
//! from the names the parsers give (`crate::parse::eh`, `crate::parse::tg`): clocks, uptimes,
//! log tails (which hold the probe's own login), and the statistics of a radio link that follow
//! the weather. Signal readings are compared within a tolerance instead of exactly.

use std::collections::HashMap;

use foldhash::fast::RandomState;

/// How a field takes part in the comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Treatment {
    /// Compared exactly (objects member by member, tables row by row).
    Compared,
    /// Not compared.
    Ignored,
    /// A number compared within this tolerance (in the field's unit); a value that is not a
    /// number is compared exactly.
    Tolerance(f64),
    /// A configuration text: compared line by line, differences given as a unified diff.
    Config,
}

/// A volatile field: its path pattern (`*` stands for any characters within one name), how it
/// is treated by default, and why.
#[derive(Debug, Clone, Copy)]
pub struct Volatile {
    /// The path, `*` matching any run of characters other than `.`.
    pub pattern: &'static str,
    /// [`Treatment::Ignored`] or [`Treatment::Tolerance`].
    pub treatment: Treatment,
    /// Why it changes between two runs.
    pub why: &'static str,
}

/// Received signal strength, in dB: changes smaller than this are the usual fading.
pub const RSSI_TOLERANCE: f64 = 3.0;

/// Signal quality (CINR, SNR, MultiHaul signal quality), in dB.
pub const CINR_TOLERANCE: f64 = 3.0;

const fn ignored(pattern: &'static str, why: &'static str) -> Volatile {
    Volatile {
        pattern,
        treatment: Treatment::Ignored,
        why,
    }
}

const fn within(pattern: &'static str, tolerance: f64, why: &'static str) -> Volatile {
    Volatile {
        pattern,
        treatment: Treatment::Tolerance(tolerance),
        why,
    }
}

/// The fields ignored or compared within a tolerance unless `--all-fields` is given, in the
/// order `--help` lists them.
pub const VOLATILE: &[Volatile] = &[
    ignored("show.system_date", "clock"),
    ignored("show.system_time", "clock"),
    ignored("show.system_up_days", "uptime"),
    ignored(
        "show.eth*_last_change",
        "time since the port last changed state",
    ),
    ignored("show.events_log", "log tail"),
    ignored(
        "show.user_activity_log",
        "log tail (the probe's own login is in it)",
    ),
    ignored("show.rtu*_connect_days", "link uptime"),
    ignored("show.tu_connect_days", "link uptime"),
    ignored("show.rtu*_tx_msc", "adaptive modulation"),
    ignored("show.tu_tx_msc", "adaptive modulation"),
    ignored("show.clock_*", "clock (set-tod)"),
    ignored("show.system.uptime", "uptime (TG)"),
    ignored("show.system.datetime", "clock (TG)"),
    ignored("show.system.gps_sats", "satellites in view (TG)"),
    ignored("show.links.uptime", "link uptime (TG)"),
    ignored("show.links.mcs_*", "adaptive modulation (TG)"),
    ignored("show.links.per_*", "packet error rate counters (TG)"),
    ignored("show.links.tiles_*", "active antenna tiles (TG)"),
    ignored("show.links.beam_index_*", "beam steering (TG)"),
    ignored("show.sectors.Tmdm", "modem temperature (TG)"),
    ignored("show.sectors.Trf", "RF temperature (TG)"),
    within("show.rf_rssi", RSSI_TOLERANCE, "RSSI, dB"),
    within("show.rtu*_rssi", RSSI_TOLERANCE, "RSSI, dB"),
    within("show.tu_rssi", RSSI_TOLERANCE, "RSSI, dB"),
    within("show.links.rssi", RSSI_TOLERANCE, "RSSI, dB (TG)"),
    within("show.rf_cinr", CINR_TOLERANCE, "CINR, dB"),
    within(
        "show.rtu*_sig_quality",
        CINR_TOLERANCE,
        "signal quality, dB",
    ),
    within("show.tu_sig_quality", CINR_TOLERANCE, "signal quality, dB"),
    within("show.links.snr", CINR_TOLERANCE, "SNR, dB (TG)"),
];

/// The record's own fields compared by default: identity, status, where a client node is
/// reached (`route`), the parsed `show` fields and the configuration. `ip` and `port` are the
/// radio's address: a radio found at another one has moved.
const COMPARED: [&str; 11] = [
    "radio_type",
    "model",
    "name",
    "sw",
    "sn",
    "status",
    "route",
    "show",
    "config",
    "startup_config",
    "config_saved",
];

/// The fields not compared even with `--all-fields`: the address (matching handles it) and
/// the timing of the run, which describes the run rather than the radio and differs every time.
const NEVER: [&str; 5] = ["ip", "port", "started", "elapsed_ms", "commands.elapsed_ms"];

/// The configuration texts.
const CONFIGS: [&str; 2] = ["config", "startup_config"];

/// The treatment of every path, remembered per path once decided (records repeat the same
/// few hundred paths).
#[derive(Debug)]
pub struct Rules {
    all_fields: bool,
    decided: HashMap<Box<str>, Treatment, RandomState>,
}

impl Rules {
    /// The default rules, or with `all_fields` every field compared exactly (but [`NEVER`]).
    pub fn new(all_fields: bool) -> Self {
        Rules {
            all_fields,
            decided: HashMap::default(),
        }
    }

    /// Whether `--all-fields` is in force.
    pub fn all_fields(&self) -> bool {
        self.all_fields
    }

    /// The treatment of a path (dotted, rows left out).
    pub fn at(&mut self, path: &str) -> Treatment {
        if let Some(treatment) = self.decided.get(path) {
            return *treatment;
        }
        let treatment = self.decide(path);
        self.decided.insert(path.into(), treatment);
        treatment
    }

    fn decide(&self, path: &str) -> Treatment {
        let top = path.split('.').next().unwrap_or(path);
        if NEVER.contains(&path) {
            return Treatment::Ignored;
        }
        if CONFIGS.contains(&path) {
            return Treatment::Config;
        }
        if !self.all_fields && !COMPARED.contains(&top) {
            return Treatment::Ignored;
        }
        if self.all_fields {
            return Treatment::Compared;
        }
        VOLATILE
            .iter()
            .find(|volatile| glob(volatile.pattern, path))
            .map_or(Treatment::Compared, |volatile| volatile.treatment)
    }
}

/// Whether `path` matches `pattern`, where `*` matches any run of characters but `.`.
fn glob(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((head, rest)) => {
            let Some(tail) = path.strip_prefix(head) else {
                return false;
            };
            let name_end = tail.find('.').unwrap_or(tail.len());
            tail.char_indices()
                .map(|(at, _)| at)
                .chain([tail.len()])
                .take_while(|&at| at <= name_end)
                .any(|at| glob(rest, &tail[at..]))
        }
    }
}

/// The volatile fields as `--help` lists them, one line each.
pub fn volatile_help() -> String {
    let mut text = String::new();
    for volatile in VOLATILE {
        let treatment = match volatile.treatment {
            Treatment::Tolerance(tolerance) => format!("within ±{tolerance}"),
            _ => "ignored".to_owned(),
        };
        text.push_str(&format!(
            "  {:<24} {:<11} {}\n",
            volatile.pattern, treatment, volatile.why
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_match_within_one_name() {
        assert!(glob("show.eth*_last_change", "show.eth1_last_change"));
        assert!(glob("show.rtu*_rssi", "show.rtu12_rssi"));
        assert!(glob("show.clock_*", "show.clock_before"));
        assert!(!glob("show.clock_*", "show.clock_x.y"));
        assert!(!glob("show.rtu*_rssi", "show.rtu1_rssi_max"));
        assert!(!glob("show.rf_rssi", "show.rf_rssi2"));
        assert!(glob("a*b*c", "aXbYc"));
    }

    #[test]
    fn defaults_compare_identity_show_and_config_and_skip_the_volatile() {
        let mut rules = Rules::new(false);
        for path in ["sw", "status", "sn", "show.rf_mode", "show.links.remote"] {
            assert_eq!(rules.at(path), Treatment::Compared, "{path}");
        }
        for path in [
            "started",
            "banner",
            "commands",
            "show.system_up_days",
            "show.links.uptime",
            "show.eth3_last_change",
            "ip",
        ] {
            assert_eq!(rules.at(path), Treatment::Ignored, "{path}");
        }
        assert_eq!(
            rules.at("show.rf_rssi"),
            Treatment::Tolerance(RSSI_TOLERANCE)
        );
        assert_eq!(
            rules.at("show.links.snr"),
            Treatment::Tolerance(CINR_TOLERANCE)
        );
        assert_eq!(rules.at("config"), Treatment::Config);
    }

    #[test]
    fn all_fields_compares_everything_but_the_address_and_the_timing() {
        let mut rules = Rules::new(true);
        for path in [
            "banner",
            "show.system_up_days",
            "show.rf_rssi",
            "commands.output",
        ] {
            assert_eq!(rules.at(path), Treatment::Compared, "{path}");
        }
        for path in ["started", "elapsed_ms", "commands.elapsed_ms", "port"] {
            assert_eq!(rules.at(path), Treatment::Ignored, "{path}");
        }
        assert_eq!(rules.at("startup_config"), Treatment::Config);
    }

    #[test]
    fn every_volatile_pattern_names_a_show_field() {
        assert!(VOLATILE.iter().all(|v| v.pattern.starts_with("show.")));
        assert_eq!(volatile_help().lines().count(), VOLATILE.len());
    }
}
