//! A record reduced, in one pass over its JSON text, to what matching and a quick comparison
//! need: the radio's address and serial, a 128-bit fingerprint of every compared field, the
//! signal readings compared within a tolerance, and where the record lies.
//!
//! Two records with the same fingerprint and agreeing readings say the same about their radio
//! (volatile fields left out, an unknown value counting as absent), so the whole records need
//! to be read again only for the radios that differ. The fingerprint follows the text's order:
//! records that differ only in the order of their members get different fingerprints, and the
//! full comparison (`super::compare`) then finds them equal, which costs time, never a wrong
//! event.

use std::fmt;
use std::net::IpAddr;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use xxhash_rust::xxh3::Xxh3Default;

use super::rules::{Rules, Treatment};
use super::source::Location;

/// Where a radio is: its address, or for a TG client node, its DN's address and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A radio reached directly.
    Host {
        /// The record's `ip`.
        ip: IpAddr,
        /// The record's `port`.
        port: Option<u16>,
    },
    /// A TG client node, reached through its DN (the record's `ip` and `port` are the DN's).
    ClientNode {
        /// The DN's address.
        ip: IpAddr,
        /// The DN's port.
        port: Option<u16>,
        /// The client node's name: what follows the last ` -> ` in `route`.
        node: Box<str>,
    },
}

impl Address {
    /// The record's `ip`.
    pub fn ip(&self) -> IpAddr {
        match self {
            Address::Host { ip, .. } | Address::ClientNode { ip, .. } => *ip,
        }
    }

    /// The record's `port`.
    pub fn port(&self) -> Option<u16> {
        match self {
            Address::Host { port, .. } | Address::ClientNode { port, .. } => *port,
        }
    }
}

/// A signal reading, compared within a tolerance when both sides are numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// A number and the tolerance of its field.
    Number {
        /// The reading.
        value: f64,
        /// The largest difference that does not count.
        tolerance: f64,
    },
    /// Anything else, by a hash of its text: compared exactly.
    Other(u64),
}

/// Whether two lists of readings (in the order of their records) agree.
pub fn readings_agree(old: &[Reading], new: &[Reading]) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|pair| match pair {
            (
                Reading::Number {
                    value: a,
                    tolerance,
                },
                Reading::Number { value: b, .. },
            ) => (a - b).abs() <= *tolerance,
            (a, b) => a == b,
        })
}

/// What a record says about its radio, in brief.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Where the radio is.
    pub address: Address,
    /// Its serial number, when the record knows it.
    pub sn: Option<Box<str>>,
    /// A hash of every compared field but the readings.
    pub fingerprint: u128,
    /// The fields compared within a tolerance, in the record's order.
    pub readings: Box<[Reading]>,
    /// Where the record lies in its snapshot.
    pub at: Location,
}

impl Summary {
    /// Whether two summaries say the same about their radio (the address aside).
    pub fn agrees_with(&self, other: &Summary) -> bool {
        self.fingerprint == other.fingerprint && readings_agree(&self.readings, &other.readings)
    }
}

/// What a line of a snapshot turned out to be.
#[derive(Debug)]
pub enum Line {
    /// A record about a radio.
    Radio(Summary),
    /// A record without an address (`invalid-input`): about no radio.
    NoAddress,
    /// Not a record; the reason.
    NotARecord(String),
}

/// Reduces records to summaries, remembering the treatment of each field between records.
#[derive(Debug)]
pub struct Summarizer {
    rules: Rules,
    readings: Vec<Reading>,
    path: String,
}

impl Summarizer {
    /// A summarizer comparing what `rules` say.
    pub fn new(rules: Rules) -> Self {
        Summarizer {
            rules,
            readings: Vec::new(),
            path: String::new(),
        }
    }

    /// Gives the rules back, for the full comparison of the radios that differ.
    pub fn into_rules(self) -> Rules {
        self.rules
    }

    /// Reads one line.
    pub fn summarize(&mut self, bytes: &[u8], at: Location) -> Line {
        self.readings.clear();
        self.path.clear();
        let mut walk = Walk {
            rules: &mut self.rules,
            path: &mut self.path,
            hasher: Xxh3Default::new(),
            readings: &mut self.readings,
        };
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let top = match deserializer.deserialize_any(TopVisitor { walk: &mut walk }) {
            Ok(top) => top,
            Err(err) => return Line::NotARecord(err.to_string()),
        };
        if let Err(err) = deserializer.end() {
            return Line::NotARecord(err.to_string());
        }
        let fingerprint = walk.hasher.digest128();
        if top.status.is_none() {
            return Line::NotARecord("no 'status' (not a sikprobe record)".to_owned());
        }
        let Some(ip) = top.ip else {
            return Line::NoAddress;
        };
        let Ok(ip) = ip.as_str().parse::<IpAddr>() else {
            return Line::NotARecord(format!("'ip' {:?} is not an address", ip.as_str()));
        };
        let address = match top.route {
            Some(route) => Address::ClientNode {
                ip,
                port: top.port,
                node: route
                    .as_str()
                    .rsplit_once(" -> ")
                    .map_or(route.as_str(), |(_, node)| node)
                    .into(),
            },
            None => Address::Host { ip, port: top.port },
        };
        Line::Radio(Summary {
            address,
            sn: top.sn.map(|sn| sn.as_str().into()),
            fingerprint,
            readings: self.readings.as_slice().into(),
            at,
        })
    }
}

/// A string from the JSON text: borrowed when it holds no escape, else unescaped.
enum Text<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(text) => text,
            Text::Owned(text) => text,
        }
    }
}

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text::Owned(v))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// The state of one record's walk: the path of the member being read, the fingerprint so far
/// and the readings.
struct Walk<'w> {
    rules: &'w mut Rules,
    path: &'w mut String,
    hasher: Xxh3Default,
    readings: &'w mut Vec<Reading>,
}

impl Walk<'_> {
    /// Feeds a tagged, length-prefixed piece to the fingerprint, so that no two sequences of
    /// pieces feed the same bytes.
    fn feed(&mut self, tag: u8, bytes: &[u8]) {
        self.hasher.update(&[tag]);
        self.hasher.update(&(bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    /// Extends the path by a member's name; returns what to truncate it back to.
    fn enter(&mut self, key: &str) -> usize {
        let len = self.path.len();
        if len > 0 {
            self.path.push('.');
        }
        self.path.push_str(key);
        len
    }

    fn scalar(&mut self, key: Option<&str>, treatment: Treatment, scalar: Scalar<'_>) {
        if let Treatment::Tolerance(tolerance) = treatment {
            if let Some(key) = key {
                self.feed(b't', key.as_bytes());
            }
            let value = match scalar {
                Scalar::Int(n) => Some(n as f64),
                Scalar::Uint(n) => Some(n as f64),
                Scalar::Float(n) => Some(n),
                Scalar::Str(text) => text.trim().parse::<f64>().ok(),
                Scalar::Bool(_) => None,
            };
            let reading = match value.filter(|v| v.is_finite()) {
                Some(value) => Reading::Number { value, tolerance },
                None => Reading::Other(xxhash_rust::xxh3::xxh3_64(&scalar.bytes())),
            };
            self.readings.push(reading);
            return;
        }
        if let Some(key) = key {
            self.feed(b'k', key.as_bytes());
        }
        match scalar {
            Scalar::Bool(b) => self.feed(b'b', &[u8::from(b)]),
            Scalar::Int(n) => self.feed(b'i', &n.to_le_bytes()),
            Scalar::Uint(n) => self.feed(b'u', &n.to_le_bytes()),
            Scalar::Float(n) => self.feed(b'f', &n.to_bits().to_le_bytes()),
            Scalar::Str(text) => self.feed(b's', text.as_bytes()),
        }
    }

    /// Reads the value of the member `key` of an object whose path is `self.path`.
    fn member<'de, A: MapAccess<'de>>(&mut self, map: &mut A, key: &str) -> Result<(), A::Error> {
        let back = self.enter(key);
        let treatment = self.rules.at(self.path);
        let result = match treatment {
            Treatment::Ignored => map.next_value::<IgnoredAny>().map(drop),
            Treatment::Config => map.next_value::<&'de RawValue>().map(|raw| {
                if raw.get() != "null" {
                    self.feed(b'k', key.as_bytes());
                    self.feed(b'c', raw.get().as_bytes());
                }
            }),
            Treatment::Compared | Treatment::Tolerance(_) => map.next_value_seed(Value {
                walk: self,
                key: Some(key),
                treatment,
            }),
        };
        self.path.truncate(back);
        result
    }
}

/// A JSON scalar, as the fingerprint and the readings take it.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'a str),
}

impl Scalar<'_> {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Scalar::Bool(b) => vec![u8::from(*b)],
            Scalar::Int(n) => n.to_string().into_bytes(),
            Scalar::Uint(n) => n.to_string().into_bytes(),
            Scalar::Float(n) => n.to_string().into_bytes(),
            Scalar::Str(text) => text.as_bytes().to_vec(),
        }
    }
}

/// The fields of the record itself that matching needs.
#[derive(Default)]
struct Top<'de> {
    ip: Option<Text<'de>>,
    port: Option<u16>,
    status: Option<Text<'de>>,
    sn: Option<Text<'de>>,
    route: Option<Text<'de>>,
}

/// Reads the record object: the matching fields, and every other member through [`Walk`].
struct TopVisitor<'a, 'w> {
    walk: &'a mut Walk<'w>,
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (a sikprobe record)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut top = Top::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let key = key.as_str();
            let slot = match key {
                "ip" => {
                    top.ip = map.next_value()?;
                    continue;
                }
                "port" => {
                    top.port = map.next_value()?;
                    continue;
                }
                "status" => {
                    top.status = Some(map.next_value()?);
                    &mut top.status
                }
                "sn" => {
                    top.sn = map.next_value()?;
                    &mut top.sn
                }
                "route" => {
                    top.route = map.next_value()?;
                    &mut top.route
                }
                _ => {
                    self.walk.member(&mut map, key)?;
                    continue;
                }
            };
            let treatment = self.walk.rules.at(key);
            if let (Some(text), Treatment::Compared) = (slot.as_ref(), treatment) {
                self.walk
                    .scalar(Some(key), treatment, Scalar::Str(text.as_str()));
            }
        }
        Ok(top)
    }
}

/// Reads one value (an object's member, or an array's element when `key` is `None`) into the
/// fingerprint. A null member is an unknown value and leaves no trace; a null element keeps
/// its place in the array.
struct Value<'a, 'w> {
    walk: &'a mut Walk<'w>,
    key: Option<&'a str>,
    treatment: Treatment,
}

impl<'de> DeserializeSeed<'de> for Value<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.walk.scalar(self.key, self.treatment, Scalar::Bool(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.walk.scalar(self.key, self.treatment, Scalar::Int(v));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.walk.scalar(self.key, self.treatment, Scalar::Uint(v));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.walk.scalar(self.key, self.treatment, Scalar::Float(v));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.walk.scalar(self.key, self.treatment, Scalar::Str(v));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        if self.key.is_none() {
            self.walk.feed(b'z', &[]);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if let Some(key) = self.key {
            self.walk.feed(b'k', key.as_bytes());
        }
        self.walk.feed(b'{', &[]);
        while let Some(key) = map.next_key::<Text<'de>>()? {
            self.walk.member(&mut map, key.as_str())?;
        }
        self.walk.feed(b'}', &[]);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(key) = self.key {
            self.walk.feed(b'k', key.as_bytes());
        }
        self.walk.feed(b'[', &[]);
        while seq
            .next_element_seed(Value {
                walk: &mut *self.walk,
                key: None,
                treatment: self.treatment,
            })?
            .is_some()
        {}
        self.walk.feed(b']', &[]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Location = Location {
        file: 0,
        offset: 0,
        len: 0,
    };

    fn summary(line: &str, all_fields: bool) -> Summary {
        match Summarizer::new(Rules::new(all_fields)).summarize(line.as_bytes(), AT) {
            Line::Radio(summary) => summary,
            other => panic!("not a radio: {other:?}"),
        }
    }

    fn same(a: &str, b: &str) -> bool {
        summary(a, false).agrees_with(&summary(b, false))
    }

    const BASE: &str = r#"{"ip":"127.219.0.1","port":22,"status":"ok","sw":"7.7.10","sn":"F1","started":"x","show":{"rf_mode":"adaptive","rf_rssi":"-43","system_up_days":"1.5"},"config":"a\nb\n"}"#;

    #[test]
    fn compared_fields_change_the_fingerprint_and_volatile_ones_do_not() {
        assert!(same(
            BASE,
            &BASE.replace("\"started\":\"x\"", "\"started\":\"y\"")
        ));
        assert!(same(BASE, &BASE.replace("1.5", "9.25")));
        assert!(
            same(BASE, &BASE.replace("-43", "-45")),
            "within the RSSI tolerance"
        );
        assert!(!same(BASE, &BASE.replace("-43", "-47")), "beyond it");
        assert!(!same(BASE, &BASE.replace("7.7.10", "7.7.12")));
        assert!(!same(BASE, &BASE.replace("adaptive", "static")));
        assert!(!same(BASE, &BASE.replace("a\\nb\\n", "a\\nc\\n")));
        assert!(!same(BASE, &BASE.replace("\"ok\"", "\"auth-failed\"")));
        assert!(
            same(
                BASE,
                &BASE.replace("\"sw\":\"7.7.10\",", "\"model\":null,\"sw\":\"7.7.10\",")
            ),
            "a null member leaves no trace"
        );
    }

    #[test]
    fn all_fields_compares_the_volatile_ones_too() {
        let up = BASE.replace("1.5", "9.25");
        assert!(!summary(BASE, true).agrees_with(&summary(&up, true)));
        let started = BASE.replace("\"started\":\"x\"", "\"started\":\"y\"");
        assert!(summary(BASE, true).agrees_with(&summary(&started, true)));
    }

    #[test]
    fn addresses_and_client_nodes() {
        let host = summary(BASE, false);
        assert_eq!(
            host.address,
            Address::Host {
                ip: "127.219.0.1".parse().expect("ip"),
                port: Some(22)
            }
        );
        assert_eq!(host.sn.as_deref(), Some("F1"));
        let cn = summary(
            r#"{"ip":"127.219.0.2","port":22,"status":"ok","route":"127.219.0.2: dn -> x -> cn1"}"#,
            false,
        );
        assert!(matches!(cn.address, Address::ClientNode { ref node, .. } if &**node == "cn1"));
    }

    #[test]
    fn lines_that_are_not_records_say_why() {
        let mut summarizer = Summarizer::new(Rules::new(false));
        for line in [
            "not json",
            "[1,2]",
            r#"{"ip":"127.0.0.1"}"#,
            r#"{"ip":"nowhere","status":"ok"}"#,
            r#"{"ip":"127.0.0.1","status":"ok"} trailing"#,
        ] {
            assert!(
                matches!(
                    summarizer.summarize(line.as_bytes(), AT),
                    Line::NotARecord(_)
                ),
                "{line}"
            );
        }
        assert!(matches!(
            summarizer.summarize(br#"{"ip":null,"status":"invalid-input","input":"x"}"#, AT),
            Line::NoAddress
        ));
    }
}
