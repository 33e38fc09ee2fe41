//! Pairs the radios of OLD with those of NEW: by serial number where both records know it,
//! else by address (a TG client node by its DN's address and its name in `route`).
//!
//! OLD is held whole, as one [`Summary`] per radio. NEW is read once, record by record, and
//! never held: each record's summary goes into the slot of the OLD radio it matches, or, when
//! it matches none, into the list of radios that appeared.
//!
//! **The newest record counts.** A resumed run (`sikprobe --skip-done` retries appended to the
//! same file or directory) holds several records for one address, the later ones newer. In
//! OLD the later one replaces the earlier in place. In NEW a later record for an address
//! takes the place of the earlier one wherever that one went; to find it, the matcher keeps
//! the address of every NEW record that is not in the slot of the OLD radio at its own
//! address (a radio that moved or appeared), and finds the others through OLD's address
//! index. So memory grows with the radios of OLD and the changes, not with NEW: a NEW record
//! costs nothing once its summary is in its slot, and no NEW record is ever held whole. This
//! is also why no event is written before NEW has been read to its end: until then a later
//! record may still replace the one an event would describe.
//!
//! A serial match wins over an address match: a record matched by address gives up its slot
//! when the OLD radio's serial turns up at another address (the radio moved, and the record
//! at its old address is a radio that appeared there). Once NEW is read, a radio left in
//! "appeared" whose serial or address has a free OLD slot by then takes it.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::source::Location;
use super::summary::{Address, Summary};

/// What happened to a radio between the snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Only in NEW.
    Appeared,
    /// Only in OLD.
    Vanished,
    /// The same serial at another address.
    Moved,
    /// At the same address (or with the same serial), saying something else.
    Changed,
}

impl Change {
    /// The name events give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Appeared => "appeared",
            Change::Vanished => "vanished",
            Change::Moved => "moved",
            Change::Changed => "changed",
        }
    }
}

/// A radio that may differ: its records' locations in OLD and NEW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// How its summaries differ. `Changed` candidates may still turn out equal when their
    /// records are read in full.
    pub change: Change,
    /// Its record in OLD, unless it appeared.
    pub old: Option<Location>,
    /// Its record in NEW, unless it vanished.
    pub new: Option<Location>,
}

/// How many records and radios each side had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Radios (distinct addresses) in OLD.
    pub old_radios: u64,
    /// Radios (distinct addresses) in NEW.
    pub new_radios: u64,
    /// OLD records replaced by a newer record for the same address.
    pub old_superseded: u64,
    /// NEW records replaced by a newer record for the same address.
    pub new_superseded: u64,
}

/// An OLD radio and the NEW record matched to it.
#[derive(Debug)]
struct Slot {
    old: Summary,
    new: Option<Held>,
}

#[derive(Debug)]
struct Held {
    summary: Summary,
    by_serial: bool,
}

/// Where a NEW record that is not at its OLD radio's address went.
#[derive(Debug)]
enum Place {
    /// Into this OLD radio's slot, matched by serial.
    Slot(u32),
    /// Nowhere: a radio that appeared.
    Appeared(Summary),
}

/// OLD indexed, then NEW matched against it.
#[derive(Debug, Default)]
pub struct Matcher {
    slots: Vec<Slot>,
    by_address: HashMap<Address, u32, RandomState>,
    by_serial: HashMap<Box<str>, u32, RandomState>,
    elsewhere: HashMap<Address, Place, RandomState>,
    counts: Counts,
}

impl Matcher {
    /// An empty matcher.
    pub fn new() -> Self {
        Matcher::default()
    }

    /// Adds a record of OLD; a later record for the same address replaces the earlier.
    pub fn add_old(&mut self, summary: Summary) {
        match self.by_address.get(&summary.address) {
            Some(&index) => {
                self.slots[index as usize].old = summary;
                self.counts.old_superseded += 1;
            }
            None => {
                let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.by_address.insert(summary.address.clone(), index);
                self.slots.push(Slot {
                    old: summary,
                    new: None,
                });
            }
        }
    }

    /// Ends OLD: indexes its radios by serial (the first radio with a serial keeps it).
    pub fn old_done(&mut self) {
        self.counts.old_radios = self.slots.len() as u64;
        for (index, slot) in self.slots.iter().enumerate() {
            if let Some(sn) = &slot.old.sn {
                self.by_serial
                    .entry(sn.clone())
                    .or_insert(u32::try_from(index).unwrap_or(u32::MAX));
            }
        }
    }

    /// Adds a record of NEW; a later record for the same address replaces the earlier.
    pub fn add_new(&mut self, summary: Summary) {
        if let Some(place) = self.elsewhere.remove(&summary.address) {
            if let Place::Slot(index) = place {
                self.slots[index as usize].new = None;
            }
            self.counts.new_superseded += 1;
        } else if let Some(&index) = self.by_address.get(&summary.address) {
            let slot = &mut self.slots[index as usize];
            if slot
                .new
                .as_ref()
                .is_some_and(|held| held.summary.address == summary.address)
            {
                slot.new = None;
                self.counts.new_superseded += 1;
            }
        }
        self.counts.new_radios += 1;
        self.place(summary);
    }

    /// Puts a NEW record into its OLD radio's slot, or among the radios that appeared.
    fn place(&mut self, summary: Summary) {
        let serial_slot = summary
            .sn
            .as_ref()
            .and_then(|sn| self.by_serial.get(sn))
            .copied();
        if let Some(index) = serial_slot {
            let held_by_serial = self.slots[index as usize]
                .new
                .as_ref()
                .map(|held| held.by_serial);
            if held_by_serial != Some(true) {
                if let Some(evicted) = self.take(index, summary, true) {
                    let address = evicted.summary.address.clone();
                    self.elsewhere
                        .insert(address, Place::Appeared(evicted.summary));
                }
                return;
            }
        }
        if let Some(&index) = self.by_address.get(&summary.address)
            && self.slots[index as usize].new.is_none()
        {
            self.take(index, summary, false);
            return;
        }
        self.elsewhere
            .insert(summary.address.clone(), Place::Appeared(summary));
    }

    /// Puts a record into a slot; returns the record it displaces.
    fn take(&mut self, index: u32, summary: Summary, by_serial: bool) -> Option<Held> {
        let slot = &mut self.slots[index as usize];
        if summary.address != slot.old.address {
            self.elsewhere
                .insert(summary.address.clone(), Place::Slot(index));
        }
        slot.new.replace(Held { summary, by_serial })
    }

    /// Ends NEW: lets the radios left in "appeared" take a slot freed since they were read.
    fn settle(&mut self) {
        let appeared: Vec<Address> = self
            .elsewhere
            .iter()
            .filter(|(_, place)| matches!(place, Place::Appeared(_)))
            .map(|(address, _)| address.clone())
            .collect();
        for address in appeared {
            let Some(Place::Appeared(summary)) = self.elsewhere.get(&address) else {
                continue;
            };
            let free = |index: &u32| self.slots[*index as usize].new.is_none();
            let serial_slot = summary
                .sn
                .as_ref()
                .and_then(|sn| self.by_serial.get(sn))
                .copied()
                .filter(free);
            let target = serial_slot.map(|index| (index, true)).or_else(|| {
                self.by_address
                    .get(&address)
                    .copied()
                    .filter(free)
                    .map(|index| (index, false))
            });
            if let Some((index, by_serial)) = target
                && let Some(Place::Appeared(summary)) = self.elsewhere.remove(&address)
            {
                self.take(index, summary, by_serial);
            }
        }
    }

    /// Ends the comparison: the radios that may differ, in NEW's order, then those that
    /// vanished in OLD's order; and the counts.
    pub fn finish(mut self) -> (Vec<Candidate>, Counts) {
        self.settle();
        let mut found = Vec::new();
        let mut vanished = Vec::new();
        for slot in &self.slots {
            match &slot.new {
                None => vanished.push(Candidate {
                    change: Change::Vanished,
                    old: Some(slot.old.at),
                    new: None,
                }),
                Some(held) => {
                    let change = if held.summary.address != slot.old.address {
                        Change::Moved
                    } else if !slot.old.agrees_with(&held.summary) {
                        Change::Changed
                    } else {
                        continue;
                    };
                    found.push(Candidate {
                        change,
                        old: Some(slot.old.at),
                        new: Some(held.summary.at),
                    });
                }
            }
        }
        for place in self.elsewhere.values() {
            if let Place::Appeared(summary) = place {
                found.push(Candidate {
                    change: Change::Appeared,
                    old: None,
                    new: Some(summary.at),
                });
            }
        }
        found.sort_by_key(|candidate| candidate.new);
        vanished.sort_by_key(|candidate| candidate.old);
        found.extend(vanished);
        let mut counts = self.counts;
        counts.new_radios -= counts.new_superseded;
        (found, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radio(ip: u8, sn: Option<&str>, fingerprint: u128, line: u64) -> Summary {
        Summary {
            address: Address::Host {
                ip: [127, 219, 0, ip].into(),
                port: Some(22),
            },
            sn: sn.map(Into::into),
            fingerprint,
            readings: Box::new([]),
            at: Location {
                file: 0,
                offset: line,
                len: 1,
            },
        }
    }

    fn changes(old: Vec<Summary>, new: Vec<Summary>) -> Vec<(Change, Option<u64>, Option<u64>)> {
        let mut matcher = Matcher::new();
        old.into_iter().for_each(|s| matcher.add_old(s));
        matcher.old_done();
        new.into_iter().for_each(|s| matcher.add_new(s));
        let (found, _) = matcher.finish();
        found
            .into_iter()
            .map(|c| (c.change, c.old.map(|l| l.offset), c.new.map(|l| l.offset)))
            .collect()
    }

    #[test]
    fn serial_beats_address_and_finds_a_moved_radio_whatever_the_order() {
        let old = || vec![radio(1, Some("A"), 1, 0), radio(2, Some("B"), 2, 1)];
        // A moved from .1 to .3; a new radio C is at .1. Read C first, then A, and the reverse.
        for new in [
            vec![
                radio(1, Some("C"), 9, 10),
                radio(3, Some("A"), 1, 11),
                radio(2, Some("B"), 2, 12),
            ],
            vec![
                radio(3, Some("A"), 1, 10),
                radio(1, Some("C"), 9, 11),
                radio(2, Some("B"), 2, 12),
            ],
        ] {
            let mut got = changes(old(), new);
            got.sort();
            let c_at = got
                .iter()
                .find(|c| c.0 == Change::Appeared)
                .and_then(|c| c.2);
            let a_at = got.iter().find(|c| c.0 == Change::Moved).and_then(|c| c.2);
            assert_eq!(got.len(), 2, "{got:?}");
            assert!(c_at.is_some() && a_at.is_some(), "{got:?}");
            assert_eq!(
                got.iter().find(|c| c.0 == Change::Moved).and_then(|c| c.1),
                Some(0)
            );
        }
    }

    #[test]
    fn an_address_match_reports_a_replaced_radio_as_changed() {
        let got = changes(
            vec![radio(1, Some("A"), 1, 0)],
            vec![radio(1, Some("Z"), 5, 7)],
        );
        assert_eq!(got, [(Change::Changed, Some(0), Some(7))]);
    }

    #[test]
    fn the_newest_record_of_an_address_counts_on_both_sides() {
        let got = changes(
            vec![radio(1, None, 0, 0), radio(1, Some("A"), 1, 1)],
            vec![
                radio(1, None, 3, 5),
                radio(2, None, 4, 6),
                radio(1, Some("A"), 1, 7),
            ],
        );
        assert_eq!(got, [(Change::Appeared, None, Some(6))]);
        let mut matcher = Matcher::new();
        matcher.add_old(radio(1, None, 0, 0));
        matcher.add_old(radio(1, Some("A"), 1, 1));
        matcher.old_done();
        matcher.add_new(radio(3, Some("A"), 1, 5));
        matcher.add_new(radio(3, Some("A"), 2, 6));
        let (found, counts) = matcher.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].change, found[0].new.map(|l| l.offset)),
            (Change::Moved, Some(6))
        );
        assert_eq!(
            counts,
            Counts {
                old_radios: 1,
                new_radios: 1,
                old_superseded: 1,
                new_superseded: 1
            }
        );
    }

    #[test]
    fn equal_radios_give_nothing_and_lost_ones_vanish() {
        let got = changes(
            vec![radio(1, Some("A"), 1, 0), radio(2, None, 2, 1)],
            vec![radio(1, Some("A"), 1, 0)],
        );
        assert_eq!(got, [(Change::Vanished, Some(1), None)]);
    }
}
