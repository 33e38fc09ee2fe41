//! Address sets as sorted, disjoint, inclusive intervals: memory is O(number of ranges).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address family; IPv4 sorts before IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4, values below 2^32.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The address with this family and numeric value.
    pub fn address(self, value: u128) -> IpAddr {
        match self {
            // Values of the IPv4 family are built from u32 addresses only.
            Family::V4 => IpAddr::V4(Ipv4Addr::from(value as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(value)),
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    /// The family both ends belong to.
    pub family: Family,
    /// First address, as a number.
    pub start: u128,
    /// Last address, as a number (inclusive, ≥ start).
    pub end: u128,
}

impl AddrRange {
    /// A range; `start` must not exceed `end`.
    pub fn new(family: Family, start: u128, end: u128) -> Self {
        debug_assert!(start <= end);
        AddrRange { family, start, end }
    }

    /// The range holding one address.
    pub fn single(ip: IpAddr) -> Self {
        let value = super::spec::to_u128(ip);
        AddrRange::new(Family::of(&ip), value, value)
    }

    /// Number of addresses in the range.
    pub fn size(&self) -> Size {
        Size::from_span(self.end - self.start)
    }

    fn key(&self) -> (Family, u128) {
        (self.family, self.start)
    }
}

/// A count of addresses. Every address of both families (2^32 + 2^128) exceeds `u128`, so the
/// count keeps one carry bit beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Size {
    carry: bool,
    low: u128,
}

impl Size {
    /// The size of a range whose ends differ by `span`.
    pub fn from_span(span: u128) -> Self {
        match span.checked_add(1) {
            Some(low) => Size { carry: false, low },
            None => Size {
                carry: true,
                low: 0,
            },
        }
    }

    /// A size that fits in `u128`.
    pub fn from_u128(value: u128) -> Self {
        Size {
            carry: false,
            low: value,
        }
    }

    /// The size as a `u128`, or `None` when it is 2^128 or more.
    pub fn as_u128(self) -> Option<u128> {
        (!self.carry).then_some(self.low)
    }

    fn add(self, other: Size) -> Size {
        let (low, overflow) = self.low.overflowing_add(other.low);
        Size {
            carry: self.carry || other.carry || overflow,
            low,
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.carry {
            return write!(f, "{}", self.low);
        }
        // 2^128 + low, added digit by digit.
        const TWO_POW_128: &str = "340282366920938463463374607431768211456";
        let low = self.low.to_string();
        let mut digits = Vec::with_capacity(TWO_POW_128.len() + 1);
        let (mut a, mut b) = (TWO_POW_128.bytes().rev(), low.bytes().rev());
        let mut carry = 0;
        loop {
            let (x, y) = (a.next(), b.next());
            if x.is_none() && y.is_none() {
                break;
            }
            let sum = x.map_or(0, |d| d - b'0') + y.map_or(0, |d| d - b'0') + carry;
            digits.push(b'0' + sum % 10);
            carry = sum / 10;
        }
        if carry > 0 {
            digits.push(b'0' + carry);
        }
        let text: String = digits.iter().rev().map(|&d| char::from(d)).collect();
        f.write_str(&text)
    }
}

/// A set of addresses of both families as sorted, disjoint, non-adjacent ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrSet {
    ranges: Vec<AddrRange>,
}

impl AddrSet {
    /// Builds the set covering every given range (overlaps and adjacency merged).
    pub fn from_ranges(mut ranges: Vec<AddrRange>) -> Self {
        ranges.sort_unstable_by_key(AddrRange::key);
        let mut merged: Vec<AddrRange> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match merged.last_mut() {
                Some(last)
                    if last.family == range.family && range.start <= last.end.saturating_add(1) =>
                {
                    last.end = last.end.max(range.end);
                }
                _ => merged.push(range),
            }
        }
        merged.shrink_to_fit();
        AddrSet { ranges: merged }
    }

    /// The set minus every address of `other`.
    pub fn difference(&self, other: &AddrSet) -> AddrSet {
        let mut out = Vec::with_capacity(self.ranges.len());
        let mut cuts = other.ranges.iter().peekable();
        for &range in &self.ranges {
            let mut rest = Some(range);
            while let Some(current) = rest {
                // Skip exclusions entirely before the current range.
                while cuts.peek().is_some_and(|cut| cut_before(cut, &current)) {
                    cuts.next();
                }
                match cuts.peek() {
                    Some(cut) if overlaps(cut, &current) => {
                        if cut.start > current.start {
                            out.push(AddrRange::new(current.family, current.start, cut.start - 1));
                        }
                        rest = (cut.end < current.end)
                            .then(|| AddrRange::new(current.family, cut.end + 1, current.end));
                        if cut.end <= current.end {
                            cuts.next();
                        }
                    }
                    _ => {
                        out.push(current);
                        rest = None;
                    }
                }
            }
        }
        AddrSet { ranges: out }
    }

    /// The disjoint ranges in ascending order (IPv4 first).
    pub fn ranges(&self) -> &[AddrRange] {
        &self.ranges
    }

    /// Number of addresses in the set.
    pub fn size(&self) -> Size {
        self.ranges
            .iter()
            .fold(Size::default(), |total, range| total.add(range.size()))
    }

    /// True when the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// True when the set holds `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let probe = AddrRange::single(ip);
        let index = self.ranges.partition_point(|r| r.key() <= probe.key());
        index > 0 && {
            let candidate = &self.ranges[index - 1];
            candidate.family == probe.family && candidate.end >= probe.start
        }
    }
}

fn overlaps(a: &AddrRange, b: &AddrRange) -> bool {
    a.family == b.family && a.start <= b.end && b.start <= a.end
}

fn cut_before(cut: &AddrRange, range: &AddrRange) -> bool {
    cut.family < range.family || (cut.family == range.family && cut.end < range.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[(u128, u128)]) -> AddrSet {
        AddrSet::from_ranges(
            ranges
                .iter()
                .map(|&(a, b)| AddrRange::new(Family::V4, a, b))
                .collect(),
        )
    }

    fn spans(set: &AddrSet) -> Vec<(u128, u128)> {
        set.ranges().iter().map(|r| (r.start, r.end)).collect()
    }

    #[test]
    fn merges_overlapping_and_adjacent_ranges() {
        assert_eq!(
            spans(&set(&[(5, 9), (1, 3), (4, 4), (20, 30), (25, 26)])),
            [(1, 9), (20, 30)]
        );
    }

    #[test]
    fn difference_cuts_holes_and_edges() {
        let base = set(&[(0, 100), (200, 300)]);
        let cut = set(&[(0, 0), (50, 60), (100, 250), (299, 400)]);
        assert_eq!(
            spans(&base.difference(&cut)),
            [(1, 49), (61, 99), (251, 298)]
        );
        assert_eq!(spans(&base.difference(&AddrSet::default())), spans(&base));
    }

    #[test]
    fn sizes_beyond_u128_print_exactly() {
        let all_v6 = AddrRange::new(Family::V6, 0, u128::MAX).size();
        let all_v4 = AddrRange::new(Family::V4, 0, u32::MAX.into()).size();
        assert_eq!(
            all_v6.to_string(),
            "340282366920938463463374607431768211456"
        );
        assert_eq!(
            all_v6.add(all_v4).to_string(),
            "340282366920938463463374607436063178752"
        );
        assert_eq!(all_v6.as_u128(), None);
    }
}
