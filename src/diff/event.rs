//! The change event: one per radio that differs, built from its two records.
//!
//! `ip`, `port` and `route` are where the radio is now: NEW's record, or OLD's for a radio
//! that vanished (a moved radio's old address is in `fields.ip`). `sn` and `name` are NEW's
//! when NEW knows them, else OLD's, so that a radio that stopped answering is still named.
//! `fields` holds `name: [old, new]` for every compared field that differs; for a radio that
//! appeared or vanished, its identity and status with null on the side it is missing from.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::{Map, Value};

use super::compare::{self, ConfigText};
use super::config::config_diff;
use super::matcher::Change;
use super::rules::Rules;

/// The fields an appeared or vanished radio is described by.
const IDENTITY: [&str; 6] = ["radio_type", "model", "name", "sw", "sn", "status"];

/// One radio that differs between the snapshots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// `appeared`, `vanished`, `moved` or `changed`.
    pub change: Change,
    /// The radio's address (OLD's for a vanished radio).
    pub ip: Option<IpAddr>,
    /// The radio's port (OLD's for a vanished radio).
    pub port: Option<u16>,
    /// For a TG client node: the route to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The serial number: NEW's, else OLD's.
    pub sn: Option<String>,
    /// The system name: NEW's, else OLD's.
    pub name: Option<String>,
    /// Every compared field that differs, as `[old, new]`.
    pub fields: Map<String, Value>,
    /// The unified diff of the running configuration, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_diff: Option<String>,
    /// The unified diff of the startup configuration, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_config_diff: Option<String>,
    /// The configuration texts one side has and the other could not read: the text's field
    /// and the side without it (`{"config": "new"}`); those texts are not compared.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub config_missing: Map<String, Value>,
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The snapshots' names, for the labels of configuration diffs.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    /// OLD, as named on the command line.
    pub old: &'a str,
    /// NEW, as named on the command line.
    pub new: &'a str,
}

/// The event for a radio, or `None` when its records, compared in full, do not differ.
/// `old` is missing for a radio that appeared, `new` for one that vanished.
pub fn build(
    change: Change,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    labels: Labels<'_>,
    rules: &mut Rules,
) -> Option<Event> {
    let now = new.or(old)?;
    let text = |field: &str| {
        let known = |record: Option<&Map<String, Value>>| {
            record
                .and_then(|record| record.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        known(new).or_else(|| known(old))
    };
    let mut event = Event {
        change,
        ip: now
            .get("ip")
            .and_then(Value::as_str)
            .and_then(|ip| ip.parse().ok()),
        port: now
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|port| u16::try_from(port).ok()),
        route: now.get("route").and_then(Value::as_str).map(str::to_owned),
        sn: text("sn"),
        name: text("name"),
        fields: Map::new(),
        config_diff: None,
        startup_config_diff: None,
        config_missing: Map::new(),
    };
    let (old, new) = match (old, new) {
        (Some(old), Some(new)) => (old, new),
        (one_side, _) => {
            for field in IDENTITY {
                if let Some(value) = now.get(field).filter(|v| !v.is_null()) {
                    let pair = if one_side.is_some() {
                        [value.clone(), Value::Null]
                    } else {
                        [Value::Null, value.clone()]
                    };
                    event
                        .fields
                        .insert(field.to_owned(), Value::from(pair.to_vec()));
                }
            }
            return Some(event);
        }
    };
    if change == Change::Moved {
        for field in ["ip", "port"] {
            let (was, is) = (old.get(field), new.get(field));
            if was != is {
                let side = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
                event
                    .fields
                    .insert(field.to_owned(), Value::from(vec![side(was), side(is)]));
            }
        }
    }
    let differences = compare::compare(old, new, rules);
    event.fields.extend(differences.fields);
    for pair in differences.configs {
        let field = pair.which.field();
        match (&pair.old, &pair.new) {
            (Some(was), Some(is)) => {
                let diff = config_diff(
                    was,
                    is,
                    &label(labels.old, old, pair.which),
                    &label(labels.new, new, pair.which),
                );
                match pair.which {
                    ConfigText::Running => event.config_diff = diff,
                    ConfigText::Startup => event.startup_config_diff = diff,
                }
            }
            (Some(_), None) => {
                event.config_missing.insert(field.to_owned(), "new".into());
            }
            (None, _) => {
                event.config_missing.insert(field.to_owned(), "old".into());
            }
        }
    }
    let differs = change == Change::Moved
        || !event.fields.is_empty()
        || event.config_diff.is_some()
        || event.startup_config_diff.is_some();
    differs.then_some(event)
}

/// `SNAPSHOT<TAB>RADIO TEXT`: which snapshot, which radio, which configuration (a tab ends
/// the file name in a unified diff header, as diff(1) puts a date there).
fn label(snapshot: &str, record: &Map<String, Value>, which: ConfigText) -> String {
    let get = |field: &str| record.get(field).and_then(Value::as_str);
    let radio = match (get("route"), get("ip")) {
        (Some(route), _) => route.to_owned(),
        (None, Some(ip)) => match get("name") {
            Some(name) => format!("{ip} {name}"),
            None => ip.to_owned(),
        },
        (None, None) => "?".to_owned(),
    };
    format!("{snapshot}\t{radio} {}", which.field())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    const LABELS: Labels<'static> = Labels {
        old: "old.ndjson",
        new: "new",
    };

    #[test]
    fn a_moved_radio_lists_its_address_and_config_diffs_are_labelled() {
        let old = object(
            json!({"ip": "127.219.0.1", "port": 22, "status": "ok", "sn": "F1",
            "name": "a", "config": "x 1\n"}),
        );
        let new = object(
            json!({"ip": "127.219.0.9", "port": 22, "status": "ok", "sn": "F1",
            "name": "a", "config": "x 2\n"}),
        );
        let event = build(
            Change::Moved,
            Some(&old),
            Some(&new),
            LABELS,
            &mut Rules::new(false),
        )
        .expect("an event");
        let json = serde_json::to_value(&event).expect("serialises");
        assert_eq!(json["change"], "moved");
        assert_eq!(json["ip"], "127.219.0.9");
        assert_eq!(
            json["fields"],
            json!({"ip": ["127.219.0.1", "127.219.0.9"]})
        );
        let diff = event.config_diff.expect("a diff");
        assert!(
            diff.starts_with(
                "--- old.ndjson\t127.219.0.1 a config\n+++ new\t127.219.0.9 a config\n"
            )
        );
    }

    #[test]
    fn a_config_one_side_could_not_read_is_named_but_is_no_difference_alone() {
        let old = object(json!({"ip": "127.219.0.1", "status": "ok", "config": "x\n"}));
        let unread = object(json!({"ip": "127.219.0.1", "status": "ok"}));
        assert_eq!(
            build(
                Change::Changed,
                Some(&old),
                Some(&unread),
                LABELS,
                &mut Rules::new(false)
            ),
            None
        );
        let failed = object(json!({"ip": "127.219.0.1", "status": "io-error"}));
        let event = build(
            Change::Changed,
            Some(&old),
            Some(&failed),
            LABELS,
            &mut Rules::new(false),
        )
        .expect("the status changed");
        assert_eq!(
            Value::Object(event.config_missing),
            json!({"config": "new"})
        );
        assert_eq!(event.config_diff, None);
    }

    #[test]
    fn appeared_and_vanished_radios_are_described_by_their_one_side() {
        let one = object(json!({"ip": "127.219.0.1", "status": "ok", "sw": "7.7.10",
            "name": "a", "model": null}));
        let appeared = build(
            Change::Appeared,
            None,
            Some(&one),
            LABELS,
            &mut Rules::new(false),
        )
        .expect("an event");
        assert_eq!(
            Value::Object(appeared.fields),
            json!({"name": [null, "a"], "sw": [null, "7.7.10"], "status": [null, "ok"]})
        );
        let vanished = build(
            Change::Vanished,
            Some(&one),
            None,
            LABELS,
            &mut Rules::new(false),
        )
        .expect("an event");
        assert_eq!(vanished.fields["status"], json!(["ok", null]));
        assert_eq!(vanished.name.as_deref(), Some("a"));
    }
}
