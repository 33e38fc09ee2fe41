//! The full comparison of two records of one radio: every compared field that differs, as
//! `name: [old, new]`, and the configuration texts that differ.
//!
//! - A member that is null or absent on either side is unknown there and not compared: a
//!   radio that failed to log in has lost no name, and a snapshot made without `-a backup`
//!   has no configuration to compare.
//! - Objects are compared member by member (`show.rf_mode`).
//! - A table (an array of objects, a TG `show` section) is compared row by row. A section of
//!   one row on both sides names its cells directly (`show.system.location`); otherwise a row
//!   is named by its first cell, when that is a text unique within the section on both sides
//!   (`show.links[cn1].rssi`, `show.ip[10.0.0.1].pref`), else by its position (`[#2]`). A row
//!   found on one side only is reported whole (`show.links[cn3]: [null, {...}]`).
//! - Other arrays, and scalars, are compared whole.
//!
//! The treatment of each field comes from [`Rules`], by its path with the rows left out.

use serde_json::{Map, Value};

use super::rules::{Rules, Treatment};

/// Which configuration text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigText {
    /// `config`: the running configuration (TG: `show startup`).
    Running,
    /// `startup_config`: the saved one.
    Startup,
}

impl ConfigText {
    /// The record's field for it.
    pub fn field(self) -> &'static str {
        match self {
            ConfigText::Running => "config",
            ConfigText::Startup => "startup_config",
        }
    }

    fn from_field(field: &str) -> Option<ConfigText> {
        match field {
            "config" => Some(ConfigText::Running),
            "startup_config" => Some(ConfigText::Startup),
            _ => None,
        }
    }
}

/// A configuration text as the two records have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPair {
    /// Which text.
    pub which: ConfigText,
    /// OLD's text, when it has one.
    pub old: Option<String>,
    /// NEW's text, when it has one.
    pub new: Option<String>,
}

/// What differs between two records of one radio.
#[derive(Debug, Default, PartialEq)]
pub struct Differences {
    /// Every compared field that differs: its name and `[old, new]`.
    pub fields: Map<String, Value>,
    /// The configuration texts that either record has and that are not equal (one side may
    /// lack it: then it could not be read there).
    pub configs: Vec<ConfigPair>,
}

/// Compares two records (JSON objects) of one radio under `rules`. Configuration texts are
/// handed over as they are; whether they differ is [`super::config`]'s to say.
pub fn compare(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    rules: &mut Rules,
) -> Differences {
    let mut differences = Differences::default();
    let mut walk = Walk {
        rules,
        rule_path: String::new(),
        shown: String::new(),
        out: &mut differences,
    };
    walk.objects(old, new);
    differences
}

struct Walk<'a> {
    rules: &'a mut Rules,
    /// The path the rules know (rows left out).
    rule_path: String,
    /// The path as events show it (rows named).
    shown: String,
    out: &'a mut Differences,
}

impl Walk<'_> {
    fn objects(&mut self, old: &Map<String, Value>, new: &Map<String, Value>) {
        let keys = old
            .keys()
            .chain(new.keys().filter(|key| !old.contains_key(*key)));
        for key in keys {
            let (rule_back, shown_back) = (self.rule_path.len(), self.shown.len());
            for path in [&mut self.rule_path, &mut self.shown] {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            let treatment = self.rules.at(&self.rule_path);
            let pair = (old.get(key), new.get(key));
            match (treatment, pair) {
                (Treatment::Ignored, _) => {}
                (Treatment::Config, (old, new)) => self.config(key, old, new),
                (_, (Some(old), Some(new))) if !old.is_null() && !new.is_null() => {
                    self.values(treatment, old, new);
                }
                _ => {}
            }
            self.rule_path.truncate(rule_back);
            self.shown.truncate(shown_back);
        }
    }

    fn config(&mut self, key: &str, old: Option<&Value>, new: Option<&Value>) {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let (old, new) = (text(old), text(new));
        if let Some(which) = ConfigText::from_field(key)
            && (old.is_some() || new.is_some())
            && old != new
        {
            self.out.configs.push(ConfigPair { which, old, new });
        }
    }

    fn values(&mut self, treatment: Treatment, old: &Value, new: &Value) {
        match (old, new) {
            (Value::Object(old), Value::Object(new)) => self.objects(old, new),
            (Value::Array(old), Value::Array(new)) if is_table(old) && is_table(new) => {
                self.tables(old, new);
            }
            _ => {
                let equal = match treatment {
                    Treatment::Tolerance(tolerance) => match (number(old), number(new)) {
                        (Some(a), Some(b)) => (a - b).abs() <= tolerance,
                        _ => old == new,
                    },
                    _ => old == new,
                };
                if !equal {
                    self.differs(Some(old), Some(new));
                }
            }
        }
    }

    fn differs(&mut self, old: Option<&Value>, new: Option<&Value>) {
        let side = |value: Option<&Value>| value.cloned().unwrap_or(Value::Null);
        self.out
            .fields
            .insert(self.shown.clone(), Value::Array(vec![side(old), side(new)]));
    }

    fn tables(&mut self, old: &[Value], new: &[Value]) {
        let rows = |table: &[Value]| -> Vec<Map<String, Value>> {
            table
                .iter()
                .filter_map(|row| row.as_object().cloned())
                .collect()
        };
        let (old, new) = (rows(old), rows(new));
        let treatment = self.rules.at(&self.rule_path);
        if old.len() == 1 && new.len() == 1 {
            self.objects(&old[0], &new[0]);
            return;
        }
        let (old_labels, new_labels) = match (labels(&old), labels(&new)) {
            (Some(old), Some(new)) => (old, new),
            _ => (positions(old.len()), positions(new.len())),
        };
        let back = self.shown.len();
        for (index, label) in old_labels.iter().enumerate() {
            self.shown.push_str(&format!("[{label}]"));
            match new_labels.iter().position(|other| other == label) {
                Some(other) => {
                    self.values(
                        treatment,
                        &Value::Object(old[index].clone()),
                        &Value::Object(new[other].clone()),
                    );
                }
                None => self.differs(Some(&Value::Object(old[index].clone())), None),
            }
            self.shown.truncate(back);
        }
        for (index, label) in new_labels.iter().enumerate() {
            if !old_labels.contains(label) {
                self.shown.push_str(&format!("[{label}]"));
                self.differs(None, Some(&Value::Object(new[index].clone())));
                self.shown.truncate(back);
            }
        }
    }
}

/// A non-empty array of objects only: a table of rows.
fn is_table(values: &[Value]) -> bool {
    !values.is_empty() && values.iter().all(Value::is_object)
}

/// Each row's first cell, when every one is a non-empty text and no two are equal.
fn labels(rows: &[Map<String, Value>]) -> Option<Vec<String>> {
    let labels: Vec<String> = rows
        .iter()
        .map(|row| {
            row.values()
                .next()
                .and_then(Value::as_str)
                .filter(|label| !label.is_empty())
                .map(str::to_owned)
        })
        .collect::<Option<_>>()?;
    let unique = labels
        .iter()
        .enumerate()
        .all(|(i, label)| !labels[..i].contains(label));
    unique.then_some(labels)
}

/// `#1`, `#2`, …: rows named by their position.
fn positions(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("#{n}")).collect()
}

/// A reading as a number: a JSON number, or a text holding one.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(old: Value, new: Value, all_fields: bool) -> Differences {
        let (Value::Object(old), Value::Object(new)) = (old, new) else {
            panic!("objects");
        };
        compare(&old, &new, &mut Rules::new(all_fields))
    }

    #[test]
    fn identity_status_and_show_fields_are_compared_volatile_ones_are_not() {
        let old = json!({"ip": "127.219.0.1", "status": "ok", "sw": "7.7.10", "name": "a",
            "started": "t1", "show": {"rf_mode": "adaptive", "rf_rssi": "-43", "rf_cinr": "18",
            "system_up_days": "1.0"}});
        let new = json!({"ip": "127.219.0.1", "status": "auth-failed", "sw": "7.7.12",
            "name": null, "started": "t2", "show": {"rf_mode": "static", "rf_rssi": "-50",
            "rf_cinr": "17", "system_up_days": "2.0"}});
        let got = diff(old.clone(), new.clone(), false);
        assert_eq!(
            Value::Object(got.fields),
            json!({"status": ["ok", "auth-failed"], "sw": ["7.7.10", "7.7.12"],
                "show.rf_mode": ["adaptive", "static"], "show.rf_rssi": ["-43", "-50"]})
        );
        let all = diff(old, new, true);
        assert!(all.fields.contains_key("show.system_up_days"));
        assert!(all.fields.contains_key("show.rf_cinr"));
        assert!(!all.fields.contains_key("started"));
    }

    #[test]
    fn tables_are_compared_row_by_row_named_by_their_first_cell() {
        let old = json!({"status": "ok", "show": {
            "system": [{"product": "MH-N366", "uptime": "1", "location": "roof"}],
            "links": [{"remote": "cn1", "status": "active", "rssi": "-50", "uptime": "5"},
                      {"remote": "cn2", "status": "active", "rssi": "-60", "uptime": "5"}]}});
        let new = json!({"status": "ok", "show": {
            "system": [{"product": "MH-N366", "uptime": "2", "location": "mast"}],
            "links": [{"remote": "cn2", "status": "down", "rssi": "-61", "uptime": "0"},
                      {"remote": "cn3", "status": "active", "rssi": "-55", "uptime": "1"}]}});
        let got = diff(old, new, false);
        let keys: Vec<&str> = got.fields.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "show.system.location",
                "show.links[cn1]",
                "show.links[cn2].status",
                "show.links[cn3]"
            ]
        );
        assert_eq!(got.fields["show.links[cn1]"][1], Value::Null);
        assert_eq!(got.fields["show.links[cn3]"][1]["remote"], "cn3");
    }

    #[test]
    fn configs_are_handed_over_when_they_differ_or_one_side_lacks_them() {
        let got = diff(
            json!({"status": "ok", "config": "a\n", "startup_config": "a\n"}),
            json!({"status": "ok", "config": "b\n", "startup_config": "a\n"}),
            false,
        );
        assert_eq!(
            got.configs,
            [ConfigPair {
                which: ConfigText::Running,
                old: Some("a\n".into()),
                new: Some("b\n".into())
            }]
        );
        let lost = diff(
            json!({"status": "ok", "config": "a\n"}),
            json!({"status": "io-error", "config": null}),
            false,
        );
        assert_eq!(lost.configs[0].new, None);
        assert!(
            diff(json!({"status": "ok"}), json!({"status": "ok"}), false)
                .configs
                .is_empty()
        );
    }
}
