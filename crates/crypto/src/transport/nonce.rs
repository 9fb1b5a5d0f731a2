//! The per-key nonce counter.

use crate::Error;

/// Number of distinct 32-bit nonce suffixes: the most packets one key may encrypt.
pub const NONCE_SPACE: u64 = 1 << 32;

/// A 32-bit counter that hands out each value at most once per key.
///
/// It starts anywhere (a random value by default) and wraps from `u32::MAX` to 0, which is safe
/// because it counts how many values it has handed out: once `budget` (at most 2^32) values are
/// used, [`take`](Self::take) fails with [`Error::NonceExhausted`] instead of repeating one.
#[derive(Clone, Debug)]
pub(crate) struct NonceCounter {
    next: u32,
    used: u64,
    budget: u64,
}

impl NonceCounter {
    pub(crate) fn new(first: u32, budget: u64) -> Self {
        Self { next: first, used: 0, budget: budget.min(NONCE_SPACE) }
    }

    /// The next unused value.
    pub(crate) fn take(&mut self) -> Result<u32, Error> {
        if self.used >= self.budget {
            return Err(Error::NonceExhausted { used: self.used });
        }
        let n = self.next;
        self.next = self.next.wrapping_add(1);
        self.used += 1;
        Ok(n)
    }

    /// Values still available under this key.
    pub(crate) fn remaining(&self) -> u64 {
        self.budget - self.used
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn wraps_and_then_exhausts() {
        let mut c = NonceCounter::new(u32::MAX - 1, NONCE_SPACE);
        assert_eq!(c.take().unwrap(), u32::MAX - 1);
        assert_eq!(c.take().unwrap(), u32::MAX);
        assert_eq!(c.take().unwrap(), 0, "wraps to zero");
        assert_eq!(c.remaining(), NONCE_SPACE - 3);
    }

    #[test]
    fn full_space_is_one_lap() {
        // The budget can never exceed one lap of the counter.
        let c = NonceCounter::new(7, u64::MAX);
        assert_eq!(c.remaining(), NONCE_SPACE);
    }

    #[test]
    fn exhaustion_is_an_error_not_a_repeat() {
        let mut c = NonceCounter::new(5, 2);
        assert_eq!(c.take().unwrap(), 5);
        assert_eq!(c.take().unwrap(), 6);
        assert!(matches!(c.take(), Err(Error::NonceExhausted { used: 2 })));
        assert!(matches!(c.take(), Err(Error::NonceExhausted { used: 2 })), "stays exhausted");
    }

    proptest! {
        #[test]
        fn never_repeats_within_budget(first: u32, budget in 0u64..2000) {
            let mut c = NonceCounter::new(first, budget);
            let mut seen = HashSet::new();
            while let Ok(n) = c.take() {
                prop_assert!(seen.insert(n), "nonce {n:#x} repeated");
            }
            prop_assert_eq!(seen.len() as u64, budget);
            prop_assert_eq!(c.remaining(), 0);
        }

        #[test]
        fn wrap_region_is_distinct(offset in 0u32..1000, budget in 1u64..2000) {
            // Start just before the wrap so the run crosses u32::MAX -> 0.
            let mut c = NonceCounter::new(u32::MAX - offset, budget);
            let mut seen = HashSet::new();
            while let Ok(n) = c.take() {
                prop_assert!(seen.insert(n));
            }
            prop_assert_eq!(seen.len() as u64, budget);
        }
    }
}
