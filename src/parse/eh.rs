//! EtherHaul and classic MultiHaul (BU/TU) `show` outputs: flat `key : value` lines, the
//! `show sw` bank table and the logs, read into batchscanner's fields
//! (the column names of its `show_*` CSV files; samples in `tests/data/eh/`).
//!
//! batchscanner ran one regex search per field and crashed the whole run on an empty value,
//! two spaces after the colon or an uptime not in `DDDD:HH:MM:SS` form. Here every line is
//! split once into key words and value, a field matches the line whose key ends with the
//! field's words (so `chassis-id` never matches `chassis-id-subtype`), and whatever cannot be
//! read becomes null plus a warning.

use std::cell::OnceCell;
use std::sync::LazyLock;

use serde_json::Value;

use super::Parsed;
use super::text::{excerpt, xyz};
use crate::record::RadioType;

const EH_COMMANDS: [&str; 12] = [
    "show system",
    "show sw",
    "show inventory 1",
    "show rf",
    "show rf-debug",
    "show eth eth1",
    "show eth eth2",
    "show eth eth3",
    "show eth eth4",
    "show lldp-remote",
    "show log",
    "show user-activity-log",
];

const BU_COMMANDS: [&str; 11] = [
    "show system",
    "show sw",
    "show inventory 1",
    "show eth eth1",
    "show eth eth2",
    "show eth eth3",
    "show lldp-remote",
    "show log",
    "show user-activity-log",
    "show base-unit",
    "show remote-terminal-unit",
];

const TU_COMMANDS: [&str; 10] = [
    "show system",
    "show sw",
    "show inventory 1",
    "show eth eth1",
    "show eth eth2",
    "show eth eth3",
    "show lldp-remote",
    "show log",
    "show user-activity-log",
    "show terminal-unit",
];

const TG_COMMANDS: [&str; 1] = ["show"];

/// The log lines the reference keeps (`tail_length`).
const LOG_TAIL: usize = 2;

/// Terminal units a base unit reports (`show remote-terminal-unit` slots 1–8).
const RTU_SLOTS: u8 = 8;

/// The commands `--action show` sends to a radio of this type, in order, as batchscanner sent them: 12
/// for EH, 11 for BU, 10 for TU; TG: just "show".
pub fn show_commands(radio_type: RadioType) -> &'static [&'static str] {
    match radio_type {
        RadioType::Eh => &EH_COMMANDS,
        RadioType::Bu => &BU_COMMANDS,
        RadioType::Tu => &TU_COMMANDS,
        RadioType::Tg => &TG_COMMANDS,
    }
}

/// Parses the answers (command text, device output without echo/prompt, lines joined by
/// '\n') of an EH/BU/TU radio into the reference's fields, in the reference's column order.
///
/// Every field of the radio type is present: a value that is missing, empty or malformed is
/// null with a warning. The exception is a BU's terminal-unit slot that the output does not
/// mention at all: its fields are `""` without a warning (no TU there, as batchscanner
/// prints it). A TG's answer to `show` is handed to [`super::tg::parse`].
pub fn parse(radio_type: RadioType, answers: &[(&str, &str)]) -> Parsed {
    let fields: &[Field] = match radio_type {
        RadioType::Eh => &EH_FIELDS,
        RadioType::Bu => &BU_FIELDS,
        RadioType::Tu => &TU_FIELDS,
        RadioType::Tg => {
            let Some(dump) = answer(answers, "show") else {
                let mut parsed = super::tg::parse("");
                parsed
                    .warnings
                    .insert(0, "show: 'show' not answered".to_owned());
                return parsed;
            };
            return super::tg::parse(dump);
        }
    };
    let outputs: Vec<(&str, Output<'_>)> = answers
        .iter()
        .map(|(command, text)| (command.trim(), Output::new(text)))
        .collect();
    let mut parsed = Parsed::default();
    for field in fields {
        let output = outputs
            .iter()
            .find(|(command, _)| *command == field.command);
        let value = match output {
            None => Err(format!("'{}' not answered", field.command)),
            Some((_, output)) => field.read(output),
        };
        let value = match value {
            Ok(text) => Value::String(text),
            Err(problem) => {
                parsed.warnings.push(format!("{}: {problem}", field.name));
                Value::Null
            }
        };
        parsed.fields.insert(field.name.clone(), value);
    }
    parsed
}

/// The output of the first answer to `command`.
fn answer<'a>(answers: &[(&str, &'a str)], command: &str) -> Option<&'a str> {
    answers
        .iter()
        .find(|(sent, _)| sent.trim() == command)
        .map(|(_, output)| *output)
}

/// A command's output, split into `key : value` lines once, when a field first needs them
/// (a BU reads 56 fields from `show remote-terminal-unit`).
struct Output<'a> {
    text: &'a str,
    pairs: OnceCell<Vec<Pair<'a>>>,
}

/// A `key : value` line: the key's words and the text after the colon.
type Pair<'a> = (Vec<&'a str>, &'a str);

impl<'a> Output<'a> {
    fn new(text: &'a str) -> Output<'a> {
        Output {
            text,
            pairs: OnceCell::new(),
        }
    }

    fn pairs(&self) -> &[Pair<'a>] {
        self.pairs.get_or_init(|| {
            self.text
                .lines()
                .filter_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    Some((key.split_whitespace().collect(), value))
                })
                .collect()
        })
    }

    /// The value of the first line whose key ends with one of `keys`.
    fn value(&self, keys: &[&str]) -> Option<&'a str> {
        self.pairs()
            .iter()
            .find(|(key, _)| keys.iter().any(|k| key_ends_with(key, k)))
            .map(|(_, value)| token(value))
    }

    /// Whether any key names terminal-unit slot `slot` (`remote-terminal-unit 3 …`).
    fn mentions_slot(&self, slot: u8) -> bool {
        let slot = slot.to_string();
        self.pairs()
            .iter()
            .any(|(key, _)| key.len() >= 2 && key[key.len() - 2] == slot)
    }
}

/// One field batchscanner read: its column name and where the value is.
struct Field {
    /// The column name (`rf_cinr`).
    name: String,
    /// The command whose output holds it.
    command: &'static str,
    read: Read,
}

/// How a field's value is read from its command's output.
enum Read {
    /// The value of the first `key : value` line whose key ends with one of these
    /// space-separated word sequences: its first token, or a quoted string with its quotes.
    Value(&'static [&'static str]),
    /// Like `Value`, for a BU terminal-unit slot (`1 mac`): an unmentioned slot is `""`.
    Slot(u8, &'static str),
    /// Like `Value`, in days (`0012:05:17:42` → `12.22`).
    Days(&'static str),
    /// Like `Slot`, in days.
    SlotDays(u8, &'static str),
    /// The last lines of the output, joined by `; `.
    Tail,
    /// `x.y.z` of the running bank in `show sw`.
    SwActive,
    /// `x.y.z` of the first bank that is not running.
    SwOffline,
}

impl Field {
    fn new(name: impl Into<String>, command: &'static str, read: Read) -> Field {
        Field {
            name: name.into(),
            command,
            read,
        }
    }

    fn read(&self, output: &Output<'_>) -> Result<String, String> {
        let cmd = self.command;
        let value = |keys: &[&str]| match output.value(keys) {
            Some(v) if !v.is_empty() => Ok(v.to_owned()),
            Some(_) => Err(format!("empty value in '{cmd}'")),
            None => Err(format!("no value in '{cmd}'")),
        };
        let slot_value = |slot: u8, key: &str| {
            let words = format!("{slot} {key}");
            if output.mentions_slot(slot) {
                value(&[words.as_str()]).map(Some)
            } else {
                Ok(None)
            }
        };
        let days = |text: String| {
            time_to_days(&text).ok_or_else(|| {
                format!(
                    "malformed time {} in '{cmd}' (want DDDD:HH:MM:SS)",
                    excerpt(&text)
                )
            })
        };
        match &self.read {
            Read::Value(keys) => value(keys),
            Read::Days(key) => value(&[*key]).and_then(days),
            Read::Slot(slot, key) => Ok(slot_value(*slot, key)?.unwrap_or_default()),
            Read::SlotDays(slot, key) => match slot_value(*slot, key)? {
                Some(text) => days(text),
                None => Ok(String::new()),
            },
            Read::Tail => tail(output.text).ok_or_else(|| format!("no lines in '{cmd}'")),
            Read::SwActive => bank(output.text, true)
                .map(str::to_owned)
                .ok_or_else(|| format!("no running bank in '{cmd}'")),
            Read::SwOffline => bank(output.text, false)
                .map(str::to_owned)
                .ok_or_else(|| format!("no bank that is not running in '{cmd}'")),
        }
    }
}

/// The Ethernet ports: field prefix, command, and the key words of `_oper`, `_speed` and
/// `_last_change` (EH has four, BU and TU the first three).
static PORTS: [(&str, &str, [&str; 3]); 4] = [
    (
        "eth1",
        "show eth eth1",
        ["eth1 operational", "eth1 eth-act-type", "eth1 last-change"],
    ),
    (
        "eth2",
        "show eth eth2",
        ["eth2 operational", "eth2 eth-act-type", "eth2 last-change"],
    ),
    (
        "eth3",
        "show eth eth3",
        ["eth3 operational", "eth3 eth-act-type", "eth3 last-change"],
    ),
    (
        "eth4",
        "show eth eth4",
        ["eth4 operational", "eth4 eth-act-type", "eth4 last-change"],
    ),
];

static EH_FIELDS: LazyLock<Vec<Field>> = LazyLock::new(|| fields(RadioType::Eh));
static BU_FIELDS: LazyLock<Vec<Field>> = LazyLock::new(|| fields(RadioType::Bu));
static TU_FIELDS: LazyLock<Vec<Field>> = LazyLock::new(|| fields(RadioType::Tu));

/// The reference's fields for a radio type, in its column order.
fn fields(radio_type: RadioType) -> Vec<Field> {
    use Read::{Days, Slot, SlotDays, SwActive, SwOffline, Tail, Value as V};
    let mut f = vec![
        Field::new("system_descrip", "show system", V(&["system description"])),
        Field::new("system_name", "show system", V(&["system name"])),
        Field::new("system_location", "show system", V(&["system location"])),
        Field::new("system_date", "show system", V(&["system date"])),
        Field::new("system_time", "show system", V(&["system time"])),
        Field::new("system_up_days", "show system", Days("system uptime")),
        Field::new("sw_active", "show sw", SwActive),
        Field::new("sw_offline", "show sw", SwOffline),
        Field::new(
            "inventory_sn",
            "show inventory 1",
            V(&["inventory 1 serial"]),
        ),
    ];
    if radio_type == RadioType::Eh {
        f.extend([
            Field::new("rf_oper", "show rf", V(&["rf operational"])),
            Field::new("rf_cinr", "show rf", V(&["rf cinr"])),
            Field::new("rf_rssi", "show rf", V(&["rf rssi"])),
            // E-band radios show `tx-frequency`, the others `frequency`.
            Field::new(
                "rf_freq",
                "show rf",
                V(&["rf tx-frequency", "rf frequency"]),
            ),
            Field::new("rf_mode", "show rf", V(&["rf mode"])),
            Field::new("rfdebug_ptx", "show rf-debug", V(&["rf-debug tx-power"])),
            Field::new(
                "rfdebug_distance",
                "show rf-debug",
                V(&["rf-debug link-length"]),
            ),
        ]);
    }
    let port_count = if radio_type == RadioType::Eh { 4 } else { 3 };
    for (port, command, [oper, speed, change]) in &PORTS[..port_count] {
        f.extend([
            Field::new(
                format!("{port}_oper"),
                command,
                V(std::slice::from_ref(oper)),
            ),
            Field::new(
                format!("{port}_speed"),
                command,
                V(std::slice::from_ref(speed)),
            ),
            Field::new(
                format!("{port}_last_change"),
                command,
                V(std::slice::from_ref(change)),
            ),
        ]);
    }
    f.extend([
        Field::new(
            "lldp_remote",
            "show lldp-remote",
            V(&["lldp-remote eth0 0 chassis-id"]),
        ),
        Field::new("events_log", "show log", Tail),
        Field::new("user_activity_log", "show user-activity-log", Tail),
    ]);
    match radio_type {
        RadioType::Bu => {
            f.extend([
                Field::new("bu_mac", "show base-unit", V(&["self-mac"])),
                Field::new("bu_freq", "show base-unit", V(&["frequency"])),
                Field::new("bu_guest", "show base-unit", V(&["guest-connection"])),
            ]);
            let rtu = "show remote-terminal-unit";
            for i in 1..=RTU_SLOTS {
                f.extend([
                    Field::new(format!("rtu{i}_mac"), rtu, Slot(i, "mac")),
                    Field::new(format!("rtu{i}_status"), rtu, Slot(i, "status")),
                    Field::new(format!("rtu{i}_assoc"), rtu, Slot(i, "association")),
                    // The reference's spelling: `tx_msc`.
                    Field::new(format!("rtu{i}_tx_msc"), rtu, Slot(i, "tx-mcs")),
                    Field::new(format!("rtu{i}_rssi"), rtu, Slot(i, "rssi")),
                    Field::new(
                        format!("rtu{i}_sig_quality"),
                        rtu,
                        Slot(i, "signal-quality"),
                    ),
                    Field::new(
                        format!("rtu{i}_connect_days"),
                        rtu,
                        SlotDays(i, "connect-time"),
                    ),
                ]);
            }
        }
        RadioType::Tu => {
            let tu = "show terminal-unit";
            f.extend([
                Field::new("tu_mac", tu, V(&["self-mac"])),
                Field::new("tu_status", tu, V(&["status"])),
                Field::new("tu_bu_mac", tu, V(&["base-unit-mac"])),
                Field::new("tu_tx_msc", tu, V(&["tx-mcs"])),
                Field::new("tu_rssi", tu, V(&["rssi"])),
                Field::new("tu_sig_quality", tu, V(&["signal-quality"])),
                Field::new("tu_connect_days", tu, Days("connect-time")),
            ]);
        }
        RadioType::Eh | RadioType::Tg => {}
    }
    f
}

/// Whether the key ends with the words of `pattern`.
fn key_ends_with(key: &[&str], pattern: &str) -> bool {
    let mut key = key.iter().rev();
    pattern
        .rsplit(' ')
        .all(|word| key.next().is_some_and(|k| *k == word))
}

/// A value's text: a quoted string with its quotes (`"Roof North"`, as batchscanner keeps
/// it), else the first token (`adaptive` of `adaptive qam64 500 1 0.5`). Any padding after
/// the colon is accepted (batchscanner wanted exactly one space and crashed otherwise).
fn token(value: &str) -> &str {
    let value = value.trim();
    if value.starts_with('"')
        && let Some(end) = value.rfind('"').filter(|&end| end > 0)
    {
        return &value[..=end];
    }
    value.split_whitespace().next().unwrap_or_default()
}

/// The last non-blank lines of a log, trimmed and joined by `; ` (read from the end: a
/// log can be megabytes long).
fn tail(output: &str) -> Option<String> {
    let mut lines: Vec<&str> = output
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(LOG_TAIL)
        .collect();
    lines.reverse();
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// `x.y.z` of the first bank row of `show sw` that is running (`running`) or not.
///
/// A bank row starts with its number, then the version; the flags (`yes`, `no`,
/// `wait-accept`) end the row and the first of them is "Running". Reading the flag by column
/// fixes batchscanner's pitfall: its `no\s+no` regex took a running bank with a third flag
/// column (`yes no no`) for the offline one.
fn bank(output: &str, running: bool) -> Option<&str> {
    output.lines().find_map(|line| {
        let line = line.trim_start();
        if !line.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        // batchscanner's `^\d\s*\S*?(x.y.z)`: the version is in the token after the bank digit.
        let version = xyz(line[1..].split_whitespace().next()?)?;
        let flags: Vec<&str> = line
            .split_whitespace()
            .rev()
            .take_while(|t| matches!(*t, "yes" | "no" | "wait-accept"))
            .collect();
        let is_running = matches!(*flags.last()?, "yes" | "wait-accept");
        (is_running == running).then_some(version)
    })
}

/// batchscanner's `time_to_days`: `DDDD:HH:MM:SS` → days rounded to 2 places, printed like a
/// Python float (`12.22`, `0.5`, `3.0`); seconds are ignored. `None` unless there are exactly
/// four all-digit parts (batchscanner crashed there).
fn time_to_days(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [d, h, m, s] = parts[..] else {
        return None;
    };
    let number = |p: &str| {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse::<u32>().ok()
    };
    let (d, h, m) = (number(d)?, number(h)?, number(m)?);
    number(s)?;
    // The same float operations as Python's `d + h/24 + m/1440`, then Python's `round(x, 2)`,
    // which rounds the exact binary value half to even, as Rust's `{:.2}` does.
    let days = f64::from(d) + f64::from(h) / 24.0 + f64::from(m) / 1440.0;
    let rounded: f64 = format!("{days:.2}").parse().ok()?;
    // Python's repr: the shortest round-trip digits, always with a decimal point.
    let mut out = rounded.to_string();
    if !out.contains('.') {
        out.push_str(".0");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_python_floats() {
        assert_eq!(time_to_days("0012:05:17:42").as_deref(), Some("12.22"));
        assert_eq!(time_to_days("0000:12:00:00").as_deref(), Some("0.5"));
        assert_eq!(time_to_days("0003:04:05:06").as_deref(), Some("3.17"));
        assert_eq!(time_to_days("0003:00:00:59").as_deref(), Some("3.0"));
        // 0.125 is exact in binary: Python rounds the tie to even.
        assert_eq!(time_to_days("0000:03:00:00").as_deref(), Some("0.12"));
        assert_eq!(time_to_days("0000:09:00:00").as_deref(), Some("0.38"));
        assert_eq!(time_to_days("12:00:00"), None);
        assert_eq!(time_to_days("0012:05:17:4x"), None);
        assert_eq!(time_to_days("0012:-5:17:42"), None);
        assert_eq!(time_to_days("99999999999:00:00:00"), None);
        assert_eq!(time_to_days(""), None);
    }

    #[test]
    fn values_take_any_padding_and_keep_quoted_strings() {
        assert_eq!(token(" London\r"), "London");
        assert_eq!(token("  London"), "London");
        assert_eq!(token(" \"Roof North\" "), "\"Roof North\"");
        assert_eq!(token(" \"unclosed x"), "\"unclosed");
        assert_eq!(token(" "), "");
    }

    #[test]
    fn keys_match_whole_words_at_the_end() {
        let out = "lldp-remote eth0 0 chassis-id-subtype : mac-address\n\
                   lldp-remote eth0 0 chassis-id         : 00:24:a4:05:cd:20";
        let out = Output::new(out);
        assert_eq!(
            out.value(&["lldp-remote eth0 0 chassis-id"]),
            Some("00:24:a4:05:cd:20")
        );
        assert_eq!(out.value(&["chassis"]), None);
        assert_eq!(out.value(&["0 chassis-id"]), Some("00:24:a4:05:cd:20"));
    }

    #[test]
    fn a_third_flag_column_does_not_fool_the_bank_reader() {
        let out = "Bank Version Running Scheduled Startup\n\
                   1 7.7.10-1 yes no no\n\
                   2 7.4.3-1 no no no";
        assert_eq!(bank(out, true), Some("7.7.10"));
        assert_eq!(bank(out, false), Some("7.4.3"));
        let waiting = "1 v7.7.11 wait-accept yes\n2 7.7.10 no no";
        assert_eq!(bank(waiting, true), Some("7.7.11"));
    }

    #[test]
    fn tails_skip_blank_lines() {
        assert_eq!(tail("a\n b \n\n c\n\n").as_deref(), Some("b; c"));
        assert_eq!(tail("only").as_deref(), Some("only"));
        assert_eq!(tail(" \n"), None);
    }

    #[test]
    fn command_counts_follow_the_reference() {
        assert_eq!(show_commands(RadioType::Eh).len(), 12);
        assert_eq!(show_commands(RadioType::Bu).len(), 11);
        assert_eq!(show_commands(RadioType::Tu).len(), 10);
        assert_eq!(show_commands(RadioType::Tg), ["show"]);
    }
}
