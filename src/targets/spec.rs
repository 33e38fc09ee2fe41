//! One address specification: the tokens a network file or a command line may hold.
//!
//! The grammar is batchscanner's (single address, `a - b` inclusive range, CIDR with a prefix
//! length, netmask or hostmask) plus IPv6 and nmap-style octet patterns (`10.0.1-3.1-254`,
//! `192.168.0,2.*`). Parsing is strict where batchscanner was silent: a reversed range or a CIDR
//! with host bits set is an error that suggests the likely intent. Networks are `ipnetwork`'s;
//! the grammar around them (masks, messages, usable hosts) is this file's.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::{IpNetwork, ipv4_mask_to_prefix};

use super::set::{AddrRange, Family};

/// The most ranges one octet pattern may expand to (`*.*.*.1` would be 16.7 million).
pub const MAX_PATTERN_RANGES: u128 = 1 << 20;

/// A parsed address specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// One address.
    Single(IpAddr),
    /// A network, host bits clear.
    Cidr(IpNetwork),
    /// An inclusive range, start ≤ end, same family.
    Range(IpAddr, IpAddr),
    /// An IPv4 octet pattern: per octet, sorted disjoint inclusive value ranges.
    Octets(Box<[Vec<(u8, u8)>; 4]>),
}

/// Which addresses of a CIDR block a spec stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hosts {
    /// Usable hosts, as Python's `hosts()`: IPv4 drops network and broadcast (except /31, /32);
    /// IPv6 drops the subnet-router anycast address (except /127, /128).
    Usable,
    /// Every address of the block.
    All,
}

/// Why a token is not a valid specification. Messages name the fault and, where one is
/// likely, the intended spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Nothing but whitespace.
    #[error("empty address specification")]
    Empty,
    /// Not an address of either family.
    #[error("not an IPv4 or IPv6 address{}", hint_for_address(.0))]
    BadAddress(String),
    /// The prefix after `/` is neither a length nor a mask.
    #[error("'{prefix}' after '/' is not a prefix length (0-{max}) or a netmask")]
    BadPrefix {
        /// The text after the slash.
        prefix: String,
        /// 32 or 128.
        max: u8,
    },
    /// A CIDR whose address has bits set below the prefix.
    #[error("host bits set; did you mean {network} (the block) or {address} (one address)?")]
    HostBitsSet {
        /// The network the user probably meant.
        network: String,
        /// The address alone.
        address: String,
    },
    /// A range whose end precedes its start.
    #[error("range is reversed ({start} is after {end}); did you mean {end}-{start}?")]
    Reversed {
        /// The given start.
        start: String,
        /// The given end.
        end: String,
    },
    /// A token with `-` that is neither a range of two addresses nor an octet pattern.
    #[error("not a range of two addresses ('a-b' or 'a - b') nor an octet pattern ('10.0.1-3.*')")]
    BadRange,
    /// A range whose two ends are of different families.
    #[error("range mixes IPv4 and IPv6")]
    MixedFamilies,
    /// An octet pattern that does not parse.
    #[error("octet pattern: {0}")]
    BadOctet(String),
    /// An octet pattern that would expand to too many separate ranges.
    #[error(
        "octet pattern expands to {0} separate ranges (at most {MAX_PATTERN_RANGES}); use CIDR blocks or narrower octets"
    )]
    TooFragmented(u128),
}

fn hint_for_address(text: &str) -> &'static str {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .any(|p| p.len() > 1 && p.starts_with('0') && p.bytes().all(|b| b.is_ascii_digit()))
    {
        "; leading zeros are not allowed (they read as octal in some tools)"
    } else if text.contains(char::is_whitespace) {
        "; one specification per line"
    } else {
        ""
    }
}

impl Spec {
    /// Parses one token (already stripped of comments).
    pub fn parse(token: &str) -> Result<Spec, SpecError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(SpecError::Empty);
        }
        if let Some((address, prefix)) = token.split_once('/') {
            return parse_cidr(address.trim(), prefix.trim());
        }
        if token.contains('-') {
            if let Some(range) = parse_range(token)? {
                return Ok(range);
            }
            if is_octet_pattern(token) {
                return parse_octets(token);
            }
            return Err(SpecError::BadRange);
        }
        if is_octet_pattern(token) && (token.contains(',') || token.contains('*')) {
            return parse_octets(token);
        }
        parse_address(token).map(Spec::Single)
    }

    /// The ranges this spec stands for, appended to `out`.
    pub fn ranges(&self, hosts: Hosts, out: &mut Vec<AddrRange>) {
        match self {
            Spec::Single(ip) => out.push(AddrRange::single(*ip)),
            Spec::Range(start, end) => out.push(AddrRange::new(
                Family::of(start),
                to_u128(*start),
                to_u128(*end),
            )),
            Spec::Cidr(network) => out.push(cidr_range(*network, hosts)),
            Spec::Octets(octets) => expand_octets(octets, out),
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spec::Single(ip) => write!(f, "{ip}"),
            Spec::Cidr(network) => write!(f, "{network}"),
            Spec::Range(start, end) => write!(f, "{start}-{end}"),
            Spec::Octets(octets) => {
                for (i, octet) in octets.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    for (j, (lo, hi)) in octet.iter().enumerate() {
                        if j > 0 {
                            f.write_str(",")?;
                        }
                        if lo == hi {
                            write!(f, "{lo}")?;
                        } else {
                            write!(f, "{lo}-{hi}")?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// An address as a number in its family's space.
pub fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn parse_address(text: &str) -> Result<IpAddr, SpecError> {
    text.parse::<IpAddr>()
        .map_err(|_| SpecError::BadAddress(text.to_owned()))
}

fn parse_range(token: &str) -> Result<Option<Spec>, SpecError> {
    let mut parts = token.split('-');
    let (Some(first), Some(second), None) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (Ok(start), Ok(end)) = (
        first.trim().parse::<IpAddr>(),
        second.trim().parse::<IpAddr>(),
    ) else {
        return Ok(None);
    };
    if start.is_ipv4() != end.is_ipv4() {
        return Err(SpecError::MixedFamilies);
    }
    if to_u128(start) > to_u128(end) {
        return Err(SpecError::Reversed {
            start: start.to_string(),
            end: end.to_string(),
        });
    }
    Ok(Some(Spec::Range(start, end)))
}

fn parse_cidr(address: &str, prefix: &str) -> Result<Spec, SpecError> {
    let ip = parse_address(address)?;
    let max = max_prefix(ip);
    let length = match prefix.parse::<u8>() {
        Ok(length) if length <= max && !prefix.starts_with('+') => length,
        _ => match (ip, prefix.parse::<Ipv4Addr>()) {
            (IpAddr::V4(_), Ok(mask)) => {
                mask_to_prefix(mask).ok_or_else(|| SpecError::BadPrefix {
                    prefix: prefix.to_owned(),
                    max,
                })?
            }
            _ => {
                return Err(SpecError::BadPrefix {
                    prefix: prefix.to_owned(),
                    max,
                });
            }
        },
    };
    let network = IpNetwork::new(ip, length).map_err(|_| SpecError::BadPrefix {
        prefix: prefix.to_owned(),
        max,
    })?;
    if network.network() != ip {
        return Err(SpecError::HostBitsSet {
            network: format!("{}/{length}", network.network()),
            address: ip.to_string(),
        });
    }
    Ok(Spec::Cidr(network))
}

/// A netmask (`255.255.255.0`) or hostmask (`0.0.0.255`) as a prefix length, as Python accepts.
fn mask_to_prefix(mask: Ipv4Addr) -> Option<u8> {
    ipv4_mask_to_prefix(mask)
        .or_else(|_| ipv4_mask_to_prefix(!mask))
        .ok()
}

fn max_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn cidr_range(network: IpNetwork, hosts: Hosts) -> AddrRange {
    let family = Family::of(&network.ip());
    let first = to_u128(network.network());
    let last = to_u128(network.broadcast());
    if hosts == Hosts::All || network.prefix() + 1 >= max_prefix(network.ip()) {
        return AddrRange::new(family, first, last);
    }
    match network {
        IpNetwork::V4(_) => AddrRange::new(family, first + 1, last - 1),
        IpNetwork::V6(_) => AddrRange::new(family, first + 1, last),
    }
}

fn is_octet_pattern(token: &str) -> bool {
    token.split('.').count() == 4
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'-' | b'*'))
}

fn parse_octets(token: &str) -> Result<Spec, SpecError> {
    let mut octets: [Vec<(u8, u8)>; 4] = Default::default();
    for (slot, part) in octets.iter_mut().zip(token.split('.')) {
        *slot = parse_octet(part)?;
    }
    Ok(Spec::Octets(Box::new(octets)))
}

fn parse_octet(part: &str) -> Result<Vec<(u8, u8)>, SpecError> {
    if part.is_empty() {
        return Err(SpecError::BadOctet("empty octet".into()));
    }
    let mut items = Vec::new();
    for item in part.split(',') {
        let (lo, hi) = match item {
            "*" | "-" => (0, 255),
            _ => match item.split_once('-') {
                None => {
                    let value = octet_value(item)?;
                    (value, value)
                }
                Some((lo, hi)) => {
                    let lo = if lo.is_empty() { 0 } else { octet_value(lo)? };
                    let hi = if hi.is_empty() { 255 } else { octet_value(hi)? };
                    if lo > hi {
                        return Err(SpecError::BadOctet(format!(
                            "'{item}' is reversed; did you mean {hi}-{lo}?"
                        )));
                    }
                    (lo, hi)
                }
            },
        };
        items.push((lo, hi));
    }
    items.sort_unstable();
    let mut merged: Vec<(u8, u8)> = Vec::with_capacity(items.len());
    for (lo, hi) in items {
        match merged.last_mut() {
            Some(last) if u16::from(lo) <= u16::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    Ok(merged)
}

fn octet_value(text: &str) -> Result<u8, SpecError> {
    if text.len() > 1 && text.starts_with('0') {
        return Err(SpecError::BadOctet(format!("'{text}' has a leading zero")));
    }
    text.parse::<u8>()
        .map_err(|_| SpecError::BadOctet(format!("'{text}' is not a value 0-255")))
}

/// How many ranges an octet pattern expands to: every value of the octets before the last
/// partial one, times that octet's ranges.
fn pattern_range_count(octets: &[Vec<(u8, u8)>; 4]) -> u128 {
    let split = partial_octet_index(octets);
    let values: u128 = octets[..split]
        .iter()
        .map(|octet| {
            octet
                .iter()
                .map(|(lo, hi)| u128::from(hi - lo) + 1)
                .sum::<u128>()
        })
        .product();
    values * octets[split].len() as u128
}

/// The last octet that is not the full 0-255 (or 0 when all are full).
fn partial_octet_index(octets: &[Vec<(u8, u8)>; 4]) -> usize {
    octets
        .iter()
        .rposition(|octet| octet.as_slice() != [(0, 255)])
        .unwrap_or(0)
}

fn expand_octets(octets: &[Vec<(u8, u8)>; 4], out: &mut Vec<AddrRange>) {
    let split = partial_octet_index(octets);
    let low_bits = 8 * (3 - split as u32);
    let mut prefixes: Vec<u32> = vec![0];
    for octet in &octets[..split] {
        prefixes = prefixes
            .iter()
            .flat_map(|&prefix| {
                octet
                    .iter()
                    .flat_map(|&(lo, hi)| lo..=hi)
                    .map(move |value| (prefix << 8) | u32::from(value))
            })
            .collect();
    }
    let fill = (1u32 << low_bits) - 1;
    for prefix in prefixes {
        for &(lo, hi) in &octets[split] {
            let start = ((prefix << 8 | u32::from(lo)) << low_bits) as u128;
            let end = (((prefix << 8 | u32::from(hi)) << low_bits) | fill) as u128;
            out.push(AddrRange::new(Family::V4, start, end));
        }
    }
}

/// Parses a token and checks it can be expanded within the limits.
pub fn parse_checked(token: &str) -> Result<Spec, SpecError> {
    let spec = Spec::parse(token)?;
    if let Spec::Octets(octets) = &spec {
        let count = pattern_range_count(octets);
        if count > MAX_PATTERN_RANGES {
            return Err(SpecError::TooFragmented(count));
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text either parses into well-formed ranges or is refused; nothing panics.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,40}", shaped in "[0-9./:*,a-f -]{0,40}") {
            for token in [text, shaped] {
                if let Ok(spec) = parse_checked(&token) {
                    let mut out = Vec::new();
                    spec.ranges(Hosts::Usable, &mut out);
                    prop_assert!(out.iter().all(|r| r.start <= r.end), "{token:?}");
                }
            }
        }
    }

    fn expand(token: &str, hosts: Hosts) -> Vec<(u128, u128)> {
        let mut out = Vec::new();
        parse_checked(token)
            .unwrap_or_else(|e| panic!("{token}: {e}"))
            .ranges(hosts, &mut out);
        out.iter().map(|r| (r.start, r.end)).collect()
    }

    fn v4(text: &str) -> u128 {
        to_u128(text.parse().expect("test address"))
    }

    #[test]
    fn cidr_usable_hosts_follow_python() {
        assert_eq!(
            expand("10.0.0.0/24", Hosts::Usable),
            [(v4("10.0.0.1"), v4("10.0.0.254"))]
        );
        assert_eq!(
            expand("10.0.0.0/31", Hosts::Usable),
            [(v4("10.0.0.0"), v4("10.0.0.1"))]
        );
        assert_eq!(
            expand("10.0.0.7/32", Hosts::Usable),
            [(v4("10.0.0.7"), v4("10.0.0.7"))]
        );
        assert_eq!(
            expand("10.0.0.0/24", Hosts::All),
            [(v4("10.0.0.0"), v4("10.0.0.255"))]
        );
        assert_eq!(expand("2001:db8::/126", Hosts::Usable).len(), 1);
        let (lo, hi) = expand("2001:db8::/126", Hosts::Usable)[0];
        assert_eq!(hi - lo + 1, 3);
    }

    #[test]
    fn masks_are_accepted_like_python() {
        assert_eq!(
            expand("10.0.0.0/255.255.255.252", Hosts::Usable),
            [(v4("10.0.0.1"), v4("10.0.0.2"))]
        );
        assert_eq!(
            expand("10.0.0.0/0.0.0.3", Hosts::Usable),
            [(v4("10.0.0.1"), v4("10.0.0.2"))]
        );
        assert!(matches!(
            Spec::parse("10.0.0.0/255.0.255.0"),
            Err(SpecError::BadPrefix { .. })
        ));
    }

    #[test]
    fn octet_patterns_expand_to_blocks() {
        assert_eq!(
            expand("10.0.1-3.1-254", Hosts::Usable),
            [
                (v4("10.0.1.1"), v4("10.0.1.254")),
                (v4("10.0.2.1"), v4("10.0.2.254")),
                (v4("10.0.3.1"), v4("10.0.3.254"))
            ]
        );
        assert_eq!(
            expand("192.168.0,2.*", Hosts::Usable),
            [
                (v4("192.168.0.0"), v4("192.168.0.255")),
                (v4("192.168.2.0"), v4("192.168.2.255"))
            ]
        );
        assert_eq!(
            expand("10.*.*.*", Hosts::Usable),
            [(v4("10.0.0.0"), v4("10.255.255.255"))]
        );
        assert!(matches!(
            parse_checked("*.*.*.1"),
            Err(SpecError::TooFragmented(16_777_216))
        ));
    }

    #[test]
    fn errors_suggest_the_intent() {
        assert_eq!(
            Spec::parse("10.0.0.1/24").unwrap_err().to_string(),
            "host bits set; did you mean 10.0.0.0/24 (the block) or 10.0.0.1 (one address)?"
        );
        assert_eq!(
            Spec::parse("10.0.0.9 - 10.0.0.1").unwrap_err().to_string(),
            "range is reversed (10.0.0.9 is after 10.0.0.1); did you mean 10.0.0.1-10.0.0.9?"
        );
        assert!(
            Spec::parse("192.168.001.1")
                .unwrap_err()
                .to_string()
                .contains("leading zeros")
        );
        assert_eq!(
            Spec::parse("10.0.0.1-::1").unwrap_err(),
            SpecError::MixedFamilies
        );
    }
}
