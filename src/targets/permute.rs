//! A seeded pseudo-random permutation of `0..n` in O(1) memory.
//!
//! A balanced Feistel network over the smallest even number of bits that covers `n`, with
//! cycle-walking to stay inside `0..n` (the technique of format-preserving encryption; zmap and
//! masscan use related constructions). The domain is at most 4n, so a walk takes under four
//! steps on average. It shuffles scan order, it is not cryptography.

const ROUNDS: usize = 4;

/// A bijection of `0..n` onto itself, fixed by its seed.
#[derive(Debug, Clone)]
pub struct Permutation {
    n: u128,
    half_bits: u32,
    half_mask: u64,
    keys: [RoundKey; ROUNDS],
}

/// One round's key: an offset and an odd multiplier for the multiply-shift round function.
#[derive(Debug, Clone, Copy)]
struct RoundKey {
    offset: u64,
    multiplier: u64,
}

impl Permutation {
    /// The permutation of `0..n` chosen by `seed`.
    pub fn new(n: u128, seed: u64) -> Self {
        let bits = (128 - n.saturating_sub(1).leading_zeros()).max(2);
        let half_bits = bits.div_ceil(2);
        let half_mask = if half_bits >= 64 {
            u64::MAX
        } else {
            (1u64 << half_bits) - 1
        };
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            mix(state)
        };
        let keys = std::array::from_fn(|_| RoundKey {
            offset: next(),
            multiplier: next() | 1,
        });
        Permutation {
            n,
            half_bits,
            half_mask,
            keys,
        }
    }

    /// The image of `index`, which must be below `n`.
    pub fn apply(&self, index: u128) -> u128 {
        debug_assert!(index < self.n);
        if self.half_bits <= 32 {
            // Every value fits 64 bits: the same network without 128-bit arithmetic.
            return u128::from(self.apply_narrow(index as u64));
        }
        let mut value = index;
        loop {
            value = self.feistel(value);
            if value < self.n {
                return value;
            }
        }
    }

    fn apply_narrow(&self, index: u64) -> u64 {
        // n < 2^64 here because half_bits <= 32.
        let n = self.n as u64;
        let mut value = index;
        loop {
            let mut left = value >> self.half_bits;
            let mut right = value & self.half_mask;
            for key in self.keys {
                let next = left ^ self.round(right, key);
                left = right;
                right = next;
            }
            value = (left << self.half_bits) | right;
            if value < n {
                return value;
            }
        }
    }

    fn feistel(&self, value: u128) -> u128 {
        // The halves fit the mask by construction, so the narrowing casts keep every bit.
        let mut left = (value >> self.half_bits) as u64 & self.half_mask;
        let mut right = value as u64 & self.half_mask;
        for key in self.keys {
            let next = left ^ self.round(right, key);
            left = right;
            right = next;
        }
        (u128::from(left) << self.half_bits) | u128::from(right)
    }

    /// The round function: multiply-shift hashing, whose top bits are well mixed, taken as
    /// wide as a half. One multiplication keeps the per-address cost low.
    fn round(&self, half: u64, key: RoundKey) -> u64 {
        (half ^ key.offset).wrapping_mul(key.multiplier) >> (64 - self.half_bits)
    }
}

/// The 64-bit finaliser of MurmurHash3, to spread the seed into round keys.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn is_a_bijection_of_the_index_space(n in 1u128..5000, seed: u64) {
            let perm = Permutation::new(n, seed);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let image = perm.apply(i);
                prop_assert!(image < n);
                prop_assert!(!seen[image as usize], "{} hit twice", image);
                seen[image as usize] = true;
            }
        }
    }

    #[test]
    fn different_seeds_give_different_orders_and_huge_domains_work() {
        let a: Vec<u128> = (0..100)
            .map(|i| Permutation::new(100, 1).apply(i))
            .collect();
        let b: Vec<u128> = (0..100)
            .map(|i| Permutation::new(100, 2).apply(i))
            .collect();
        assert_ne!(a, b);
        let wide = Permutation::new(u128::MAX, 7);
        assert_ne!(wide.apply(0), wide.apply(1));
    }
}
