//! Address sets: the grammar of network files and arguments, interval-set algebra, seeded
//! permutation and sharding. Used by `ipgen`, and by `sikprobe --credentials` and `siksim
//! --fleet` for the same grammar.

pub mod format;
pub mod permute;
pub mod set;
pub mod source;
pub mod spec;
pub mod walk;

pub use set::{AddrRange, AddrSet, Family, Size};
pub use source::{Collector, LineKind, LocatedError, Origin, classify_line};
pub use spec::{Hosts, Spec, SpecError};
pub use walk::{Order, Shard, Walk};
