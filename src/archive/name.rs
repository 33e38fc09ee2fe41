//! Which file holds a radio's configuration: the stable naming rule of the archive.
//!
//! A radio is named by where it is reached, because that is what an operator looks for and
//! what a run always knows (a serial is unknown when a login fails):
//!
//! - `10.0.0.6.cfg`: the address, when the port is 22 (or unknown);
//! - `10.0.0.6_2222.cfg`: the address and the port otherwise;
//! - `10.0.0.5@cn1.cfg`: a TG client node, by its DN's address (and port) and its own name,
//!   the part of `route` after ` -> ` (the DN's name, also in `route`, may change);
//! - IPv6 addresses are written with `-` for `:` (`2001-db8--6.cfg`), so that the names are
//!   valid on every file system a clone may land on.
//!
//! In a client node's name, bytes other than letters, digits, `_` and `-` are written `%XX`, so
//! no name can climb out of the archive or collide with another; a very long one is cut and
//! ended with a hash of the whole.

use std::fmt::Write as _;
use std::net::IpAddr;

/// The port a name leaves out.
const DEFAULT_PORT: u16 = 22;

/// Longest escaped client-node name kept whole (file names end at 255 bytes).
const NODE_MAX: usize = 160;

/// What identifies a radio in the archive: its address, port and, for a TG client node, its
/// name. Ordered by address (numerically), port, then node (the field order): the index's
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The address (a client node's: its DN's).
    pub ip: IpAddr,
    /// The SSH port.
    pub port: u16,
    /// A TG client node's name.
    pub node: Option<String>,
}

impl Key {
    /// The key of a record's radio: `route` names a client node.
    pub fn new(ip: IpAddr, port: Option<u16>, route: Option<&str>) -> Key {
        Key {
            ip,
            port: port.unwrap_or(DEFAULT_PORT),
            node: route.map(node_of_route),
        }
    }

    /// The file that holds this radio's configuration.
    pub fn file_name(&self) -> String {
        let mut name = match self.ip {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => ip.to_string().replace(':', "-"),
        };
        if self.port != DEFAULT_PORT {
            let _ = write!(name, "_{}", self.port);
        }
        if let Some(node) = &self.node {
            name.push('@');
            name.push_str(&node_label(node));
        }
        name.push_str(".cfg");
        name
    }
}

/// A client node's name in its `route` (`"<ip>: <dn> -> <cn>"`): what follows the last ` -> `.
pub fn node_of_route(route: &str) -> String {
    route
        .rsplit_once(" -> ")
        .map_or(route, |(_, node)| node)
        .to_owned()
}

fn node_label(node: &str) -> String {
    let mut label = String::with_capacity(node.len());
    for byte in node.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            label.push(char::from(byte));
        } else {
            let _ = write!(label, "%{byte:02X}");
        }
    }
    if label.len() > NODE_MAX {
        // git's own object hash: the same on every machine and in every version.
        let hash = git2::Oid::hash_object(git2::ObjectType::Blob, node.as_bytes())
            .map(|oid| oid.to_string())
            .unwrap_or_default();
        label.truncate(NODE_MAX - 17);
        label.push('~');
        label.push_str(hash.get(..16).unwrap_or(&hash));
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str, port: Option<u16>, route: Option<&str>) -> Key {
        Key::new(ip.parse().expect("an address"), port, route)
    }

    #[test]
    fn names_follow_the_documented_rule() {
        assert_eq!(key("10.0.0.6", Some(22), None).file_name(), "10.0.0.6.cfg");
        assert_eq!(key("10.0.0.6", None, None).file_name(), "10.0.0.6.cfg");
        assert_eq!(
            key("10.0.0.6", Some(2222), None).file_name(),
            "10.0.0.6_2222.cfg"
        );
        assert_eq!(
            key("10.0.0.5", Some(22), Some("10.0.0.5: dn-a -> cn1")).file_name(),
            "10.0.0.5@cn1.cfg"
        );
        assert_eq!(
            key("2001:db8::6", Some(22), None).file_name(),
            "2001-db8--6.cfg"
        );
        assert_eq!(
            key("10.0.0.5", Some(22), Some("10.0.0.5: dn -> ../x y")).file_name(),
            "10.0.0.5@%2E%2E%2Fx%20y.cfg"
        );
    }

    #[test]
    fn a_renamed_dn_keeps_its_client_nodes_files() {
        assert_eq!(
            key("10.0.0.5", Some(22), Some("10.0.0.5: old -> cn1")),
            key("10.0.0.5", Some(22), Some("10.0.0.5: new -> cn1"))
        );
    }

    #[test]
    fn a_long_node_name_is_cut_stably_and_distinctly() {
        let a = "n".repeat(400);
        let b = format!("{}m", "n".repeat(399));
        let name_a = key("10.0.0.5", None, Some(&a)).file_name();
        let name_b = key("10.0.0.5", None, Some(&b)).file_name();
        assert!(name_a.len() < 200, "{name_a}");
        assert_ne!(name_a, name_b);
        assert_eq!(name_a, key("10.0.0.5", None, Some(&a)).file_name());
    }

    #[test]
    fn keys_sort_by_address_numerically() {
        let mut keys = [
            key("10.0.0.10", None, None),
            key("10.0.0.9", Some(2222), None),
            key("10.0.0.9", None, Some("x -> cn2")),
            key("10.0.0.9", None, None),
        ];
        keys.sort();
        let names: Vec<String> = keys.iter().map(Key::file_name).collect();
        assert_eq!(
            names,
            [
                "10.0.0.9.cfg",
                "10.0.0.9@cn2.cfg",
                "10.0.0.9_2222.cfg",
                "10.0.0.10.cfg"
            ]
        );
    }
}
