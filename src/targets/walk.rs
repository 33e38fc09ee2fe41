//! Choosing and ordering the addresses of a set: ascending or shuffled, one shard of N, a limit.
//!
//! Every walk works on positions `0..size` of the set: position p is the p-th address in
//! ascending order, or the image of p under a seeded [`Permutation`] when shuffled. Shard K of N
//! takes the positions congruent to K-1 modulo N (masscan's `--shards`, 1-based), so the N
//! shards are disjoint and cover the set exactly once, shuffled or not.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::permute::Permutation;
use super::set::{AddrRange, AddrSet, Family, Size};

/// Shard K of N (1-based), parsed from `K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, 1..=count.
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

/// A malformed `K/N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a shard K/N with 1 <= K <= N (for example 2/4)")]
pub struct ShardError(String);

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = || ShardError(text.to_owned());
        let (k, n) = text.split_once('/').ok_or_else(fail)?;
        let index: u64 = k.trim().parse().map_err(|_| fail())?;
        let count: u64 = n.trim().parse().map_err(|_| fail())?;
        if index == 0 || index > count {
            return Err(fail());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Which addresses of a set to emit, and in what order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Order {
    /// Shuffle with this seed; ascending when `None`.
    pub seed: Option<u64>,
    /// Emit only this shard.
    pub shard: Option<Shard>,
    /// Emit at most this many addresses.
    pub limit: Option<u128>,
}

/// A set too large to enumerate position by position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the set holds {0} addresses, too many to shard, shuffle or list (at most 2^128 - 1)")]
pub struct TooLarge(pub Size);

/// How many addresses `order` selects from a set of `size` addresses.
pub fn selected_size(size: Size, order: &Order) -> Result<Size, TooLarge> {
    if order.shard.is_none() && order.limit.is_none() {
        return Ok(size);
    }
    let total = size.as_u128().ok_or(TooLarge(size))?;
    let mut selected = total;
    if let Some(shard) = order.shard {
        let offset = u128::from(shard.index - 1);
        selected = if total > offset {
            (total - offset - 1) / u128::from(shard.count) + 1
        } else {
            0
        };
    }
    if let Some(limit) = order.limit {
        selected = selected.min(limit);
    }
    Ok(Size::from_u128(selected))
}

/// An iterator over the selected addresses of a set.
pub struct Walk<'a> {
    ranges: &'a [AddrRange],
    remaining: u128,
    step: u128,
    mode: Mode,
}

enum Mode {
    /// Ascending: a cursor into the ranges, advanced by `step` positions each time.
    Ascending { range: usize, offset: u128 },
    /// Shuffled: the next position, mapped through the permutation and located by binary
    /// search over the count of addresses before each range.
    Shuffled {
        position: u128,
        permutation: Permutation,
        before: Vec<u128>,
    },
}

impl<'a> Walk<'a> {
    /// A walk over `set` as `order` says.
    pub fn new(set: &'a AddrSet, order: &Order) -> Result<Self, TooLarge> {
        let size = set.size();
        let total = size.as_u128().ok_or(TooLarge(size))?;
        let remaining = selected_size(size, order)?
            .as_u128()
            .ok_or(TooLarge(size))?;
        let first = order.shard.map_or(0, |s| u128::from(s.index - 1));
        let step = order.shard.map_or(1, |s| u128::from(s.count));
        let ranges = set.ranges();
        let mode = match order.seed {
            None => {
                let mut mode = Mode::Ascending {
                    range: 0,
                    offset: 0,
                };
                if remaining > 0 {
                    advance(ranges, &mut mode, first);
                }
                mode
            }
            Some(seed) => {
                let mut before = Vec::with_capacity(ranges.len());
                let mut count = 0u128;
                for range in ranges {
                    before.push(count);
                    // Every range fits because the whole set's size does.
                    count += range.end - range.start + 1;
                }
                Mode::Shuffled {
                    position: first,
                    permutation: Permutation::new(total, seed),
                    before,
                }
            }
        };
        Ok(Walk {
            ranges,
            remaining,
            step,
            mode,
        })
    }
}

impl Walk<'_> {
    /// The next stretch of consecutive addresses, as (family, first, last): whole ranges (cut
    /// by the limit) when the walk is ascending without shards, single addresses otherwise.
    /// Lets writers format runs without an iterator step per address.
    pub fn next_run(&mut self) -> Option<(Family, u128, u128)> {
        let cursor = match self.mode {
            Mode::Ascending { range, offset } if self.step == 1 => Some((range, offset)),
            _ => None,
        };
        let Some((range, offset)) = cursor else {
            return self.next().map(|ip| {
                let value = super::spec::to_u128(ip);
                (Family::of(&ip), value, value)
            });
        };
        if self.remaining == 0 {
            return None;
        }
        let current = self.ranges.get(range)?;
        let extra = (current.end - current.start - offset).min(self.remaining - 1);
        let start = current.start + offset;
        self.remaining -= extra + 1;
        if self.remaining > 0 {
            advance(self.ranges, &mut self.mode, extra + 1);
        }
        Some((current.family, start, start + extra))
    }
}

/// Moves an ascending cursor forward by `by` positions without overflowing.
fn advance(ranges: &[AddrRange], mode: &mut Mode, mut by: u128) {
    let Mode::Ascending { range, offset } = mode else {
        return;
    };
    while let Some(current) = ranges.get(*range) {
        let left_in_range = (current.end - current.start) - *offset;
        if by <= left_in_range {
            *offset += by;
            return;
        }
        by -= left_in_range + 1;
        *range += 1;
        *offset = 0;
    }
}

impl Iterator for Walk<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let ip = match &mut self.mode {
            Mode::Ascending { range, offset } => {
                let current = self.ranges.get(*range)?;
                current.family.address(current.start + *offset)
            }
            Mode::Shuffled {
                position,
                permutation,
                before,
            } => {
                let index = permutation.apply(*position);
                *position = position.saturating_add(self.step);
                let slot = before.partition_point(|&b| b <= index) - 1;
                let range = &self.ranges[slot];
                return Some(range.family.address(range.start + (index - before[slot])));
            }
        };
        if self.remaining > 0 {
            advance(self.ranges, &mut self.mode, self.step);
        }
        Some(ip)
    }
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

    fn walk(set: &AddrSet, order: Order) -> Vec<u128> {
        Walk::new(set, &order)
            .expect("small set")
            .map(crate::targets::spec::to_u128)
            .collect()
    }

    #[test]
    fn shards_partition_ascending_and_shuffled_walks() {
        let s = set(&[(0, 9), (20, 24), (100, 100)]);
        let all = walk(&s, Order::default());
        assert_eq!(all.len(), 16);
        for seed in [None, Some(42)] {
            let mut union = Vec::new();
            for index in 1..=3 {
                let order = Order {
                    seed,
                    shard: Some(Shard { index, count: 3 }),
                    limit: None,
                };
                let part = walk(&s, order);
                assert_eq!(
                    Size::from_u128(part.len() as u128),
                    selected_size(s.size(), &order).expect("fits")
                );
                union.extend(part);
            }
            union.sort_unstable();
            assert_eq!(union, all, "seed {seed:?}");
        }
    }

    #[test]
    fn runs_cover_the_same_addresses_as_single_steps() {
        let s = set(&[(0, 9), (20, 24), (100, 100)]);
        for limit in [None, Some(0), Some(3), Some(12), Some(100)] {
            let order = Order {
                limit,
                ..Order::default()
            };
            let mut runs = Walk::new(&s, &order).expect("small set");
            let mut from_runs = Vec::new();
            while let Some((_, start, end)) = runs.next_run() {
                from_runs.extend(start..=end);
            }
            assert_eq!(from_runs, walk(&s, order), "limit {limit:?}");
        }
    }

    #[test]
    fn shard_parsing_rejects_nonsense() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
