//! Sequence-number and timestamp arithmetic with wrap-around (RFC 3550 §A.1, RFC 1982).
//!
//! RTP sequence numbers (16 bits) and timestamps (32 bits) are *serial numbers*: they wrap, and
//! "a is after b" means "going forward from b reaches a in less than half the number space".
//! That relation is not transitive, so [`SeqNo`] and [`RtpTimestamp`] deliberately do **not**
//! implement `Ord`/`PartialOrd` (sorting by it would be wrong). Use [`SeqNo::is_newer_than`],
//! [`SeqNo::serial_cmp`] and [`SeqNo::diff`] instead, or unwrap into the totally ordered
//! [`ExtendedSeq`] / [`ExtendedTimestamp`] with a [`SeqUnwrapper`] / [`TimestampUnwrapper`].
//!
//! The half-way case (`diff == -2^15`), left undefined by RFC 1982, is resolved as in libwebrtc:
//! the numerically larger value is the newer one. So for `a != b` exactly one of
//! `a.is_newer_than(b)` and `b.is_newer_than(a)` holds.

use core::cmp::Ordering;
use core::fmt;

macro_rules! serial_type {
    (
        $(#[$meta:meta])*
        $name:ident, $int:ty, $sint:ty, $ext:ident, $unwrapper:ident, $what:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(pub $int);

        impl $name {
            /// Wraps a raw wire value.
            #[inline]
            pub const fn new(v: $int) -> Self {
                Self(v)
            }

            /// The raw wire value.
            #[inline]
            pub const fn get(self) -> $int {
                self.0
            }

            /// `self + n`, wrapping around.
            #[inline]
            #[must_use]
            pub const fn wrapping_add(self, n: $int) -> Self {
                Self(self.0.wrapping_add(n))
            }

            /// `self - n`, wrapping around.
            #[inline]
            #[must_use]
            pub const fn wrapping_sub(self, n: $int) -> Self {
                Self(self.0.wrapping_sub(n))
            }

            /// Signed shortest distance from `earlier` to `self`: positive when `self` is newer.
            ///
            /// The result lies in `MIN..=MAX` of the signed type of the same width; at exactly
            /// half the number space it is `MIN`.
            #[inline]
            pub const fn diff(self, earlier: Self) -> $sint {
                self.0.wrapping_sub(earlier.0).cast_signed()
            }

            /// How many steps forward from `self` reach `later` (always non-negative, wrapping).
            #[inline]
            pub const fn forward_distance(self, later: Self) -> $int {
                later.0.wrapping_sub(self.0)
            }

            /// RFC 1982 "greater than", with the half-way case resolved by numeric value.
            #[inline]
            pub const fn is_newer_than(self, other: Self) -> bool {
                let d = self.diff(other);
                if d == <$sint>::MIN { self.0 > other.0 } else { d > 0 }
            }

            /// Serial-number comparison: `Greater` when `self` is newer than `other`.
            ///
            /// This is antisymmetric but not transitive over the whole ring; do not use it as a
            /// sort key across more than half the number space.
            #[inline]
            pub fn serial_cmp(self, other: Self) -> Ordering {
                if self == other {
                    Ordering::Equal
                } else if self.is_newer_than(other) {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }

            /// The newer of two values by [`Self::is_newer_than`].
            #[inline]
            #[must_use]
            pub fn newest(self, other: Self) -> Self {
                if other.is_newer_than(self) { other } else { self }
            }
        }

        impl From<$int> for $name {
            #[inline]
            fn from(v: $int) -> Self {
                Self(v)
            }
        }

        impl From<$name> for $int {
            #[inline]
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        #[doc = concat!("An unwrapped (extended) ", $what, ": a 64-bit signed counter that keeps")]
        /// counting across wrap-arounds, totally ordered.
        ///
        /// The first value an unwrapper sees is placed in cycle 0; a value from before it across
        /// the wrap point (a late packet) gets a negative counter rather than a huge one.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
        #[repr(transparent)]
        pub struct $ext(pub i64);

        impl $ext {
            /// Number of bits in the wire value.
            pub const WIRE_BITS: u32 = <$int>::BITS;

            /// The extended counter.
            #[inline]
            pub const fn get(self) -> i64 {
                self.0
            }

            /// The wire value (the low bits).
            #[inline]
            pub const fn wire(self) -> $name {
                $name(self.0.cast_unsigned() as $int)
            }

            /// Number of completed wrap-arounds (the roll-over count), negative before cycle 0.
            #[inline]
            pub const fn cycles(self) -> i64 {
                self.0 >> Self::WIRE_BITS
            }

            /// `self + n`, saturating at the ends of `i64`.
            #[inline]
            #[must_use]
            pub const fn saturating_add(self, n: i64) -> Self {
                Self(self.0.saturating_add(n))
            }
        }

        #[doc = concat!("Turns a stream of wire ", $what, "s into [`", stringify!($ext), "`]s.")]
        ///
        /// Each value is placed at the extended position closest to the previously unwrapped
        /// one (so reordering within half the number space is handled, in both directions).
        /// State is one `Option<i64>`; it never allocates.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $unwrapper {
            last: Option<i64>,
        }

        impl $unwrapper {
            /// A fresh unwrapper: the first value becomes cycle 0.
            #[inline]
            pub const fn new() -> Self {
                Self { last: None }
            }

            /// Unwraps `v` and remembers it as the reference for the next call.
            #[inline]
            pub fn unwrap(&mut self, v: $name) -> $ext {
                let e = self.peek(v);
                self.last = Some(e.0);
                e
            }

            /// Unwraps `v` without updating the reference.
            #[inline]
            pub fn peek(&self, v: $name) -> $ext {
                match self.last {
                    None => $ext(i64::from(v.0)),
                    Some(last) => {
                        let d = i64::from(v.diff($name(last.cast_unsigned() as $int)));
                        // The half-way case goes forward when the value is numerically larger,
                        // matching `is_newer_than`.
                        let d = if d == i64::from(<$sint>::MIN) && v.is_newer_than($name(last.cast_unsigned() as $int)) {
                            -d
                        } else {
                            d
                        };
                        $ext(last.saturating_add(d))
                    }
                }
            }

            /// The last unwrapped value, if any.
            #[inline]
            pub const fn last(&self) -> Option<$ext> {
                match self.last {
                    Some(v) => Some($ext(v)),
                    None => None,
                }
            }

            /// Forgets the reference: the next value starts again at cycle 0.
            #[inline]
            pub fn reset(&mut self) {
                self.last = None;
            }
        }
    };
}

serial_type!(
    /// An RTP sequence number (16 bits, RFC 3550 §5.1), with wrap-around arithmetic.
    ///
    /// ```
    /// use voxwire_rtp::SeqNo;
    /// let a = SeqNo(65_535);
    /// let b = a.wrapping_add(2); // wraps to 1
    /// assert_eq!(b, SeqNo(1));
    /// assert!(b.is_newer_than(a));
    /// assert_eq!(b.diff(a), 2);
    /// assert_eq!(a.diff(b), -2);
    /// ```
    SeqNo, u16, i16, ExtendedSeq, SeqUnwrapper, "sequence number"
);

serial_type!(
    /// An RTP timestamp (32 bits, RFC 3550 §5.1) in the media clock, with wrap-around
    /// arithmetic.
    ///
    /// ```
    /// use voxwire_rtp::RtpTimestamp;
    /// let a = RtpTimestamp(u32::MAX - 479);
    /// let b = a.wrapping_add(960); // one 20 ms Opus frame at 48 kHz
    /// assert!(b.is_newer_than(a));
    /// assert_eq!(b.diff(a), 960);
    /// ```
    RtpTimestamp, u32, i32, ExtendedTimestamp, TimestampUnwrapper, "RTP timestamp"
);

impl SeqNo {
    /// The next sequence number (`self + 1`, wrapping).
    #[inline]
    #[must_use]
    pub const fn next(self) -> Self {
        self.wrapping_add(1)
    }
}

impl ExtendedSeq {
    /// The RTCP "extended highest sequence number received" field (RFC 3550 §6.4.1): the low
    /// 16 bits are the sequence number, the high 16 the cycle count (wrapping).
    #[inline]
    pub const fn to_rtcp_u32(self) -> u32 {
        self.0.cast_unsigned() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn halfway_is_antisymmetric() {
        let a = SeqNo(0);
        let b = SeqNo(0x8000);
        assert!(b.is_newer_than(a));
        assert!(!a.is_newer_than(b));
        assert_eq!(a.serial_cmp(b), Ordering::Less);
    }

    #[test]
    fn unwrap_across_wrap_forward_and_back() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(SeqNo(65_534)).get(), 65_534);
        assert_eq!(u.unwrap(SeqNo(65_535)).get(), 65_535);
        assert_eq!(u.unwrap(SeqNo(0)).get(), 65_536);
        assert_eq!(u.unwrap(SeqNo(65_535)).get(), 65_535); // reordered late packet
        assert_eq!(u.unwrap(SeqNo(1)).get(), 65_537);
        let e = u.unwrap(SeqNo(2));
        assert_eq!(e.cycles(), 1);
        assert_eq!(e.wire(), SeqNo(2));
        assert_eq!(e.to_rtcp_u32(), 0x0001_0002);
    }

    #[test]
    fn unwrap_before_first_goes_negative() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(SeqNo(2)).get(), 2);
        assert_eq!(u.unwrap(SeqNo(65_535)).get(), -1);
        assert_eq!(u.unwrap(SeqNo(3)).get(), 3);
    }

    #[test]
    fn timestamp_unwrap() {
        let mut u = TimestampUnwrapper::new();
        let start = RtpTimestamp(u32::MAX - 959);
        let mut ts = start;
        let mut prev = u.unwrap(ts);
        for _ in 0..10 {
            ts = ts.wrapping_add(960);
            let e = u.unwrap(ts);
            assert_eq!(e.get() - prev.get(), 960);
            prev = e;
        }
        assert_eq!(prev.cycles(), 1);
    }

    proptest! {
        #[test]
        fn seq_diff_inverts_add(a: u16, n in -32_767i16..=32_767) {
            let a = SeqNo(a);
            let b = SeqNo(a.0.wrapping_add_signed(n));
            prop_assert_eq!(b.diff(a), n);
            prop_assert_eq!(a.diff(b), -n);
            prop_assert_eq!(b.is_newer_than(a), n > 0);
            prop_assert_eq!(a.forward_distance(b), n.cast_unsigned());
        }

        #[test]
        fn seq_exactly_one_is_newer(a: u16, b: u16) {
            let (a, b) = (SeqNo(a), SeqNo(b));
            if a == b {
                prop_assert!(!a.is_newer_than(b) && !b.is_newer_than(a));
            } else {
                prop_assert!(a.is_newer_than(b) ^ b.is_newer_than(a));
                prop_assert_eq!(a.serial_cmp(b), b.serial_cmp(a).reverse());
            }
        }

        #[test]
        fn ts_diff_inverts_add(a: u32, n in -0x7FFF_FFFFi32..=0x7FFF_FFFF) {
            let a = RtpTimestamp(a);
            let b = RtpTimestamp(a.0.wrapping_add_signed(n));
            prop_assert_eq!(b.diff(a), n);
            prop_assert_eq!(b.is_newer_than(a), n > 0);
        }

        /// A random walk with steps smaller than half the space unwraps to the true counter.
        #[test]
        fn seq_unwrap_tracks_random_walk(start: u16, steps in prop::collection::vec(-32_767i64..=32_767, 1..200)) {
            let mut u = SeqUnwrapper::new();
            let mut truth = i64::from(start);
            prop_assert_eq!(u.unwrap(SeqNo(start)).get(), truth);
            for s in steps {
                truth += s;
                let wire = SeqNo(truth.rem_euclid(1 << 16) as u16);
                let e = u.unwrap(wire);
                prop_assert_eq!(e.get(), truth);
                prop_assert_eq!(e.wire(), wire);
            }
        }

        #[test]
        fn ts_unwrap_tracks_random_walk(start: u32, steps in prop::collection::vec(-0x7FFF_FFFFi64..=0x7FFF_FFFF, 1..200)) {
            let mut u = TimestampUnwrapper::new();
            let mut truth = i64::from(start);
            prop_assert_eq!(u.unwrap(RtpTimestamp(start)).get(), truth);
            for s in steps {
                truth += s;
                let wire = RtpTimestamp(truth.rem_euclid(1 << 32) as u32);
                prop_assert_eq!(u.unwrap(wire).get(), truth);
            }
        }

        /// Unwrapping is monotone for an in-order stream with arbitrary forward steps < 2^15.
        #[test]
        fn seq_unwrap_monotone(start: u16, steps in prop::collection::vec(1u16..0x8000, 1..300)) {
            let mut u = SeqUnwrapper::new();
            let mut s = SeqNo(start);
            let mut prev = u.unwrap(s);
            for step in steps {
                s = s.wrapping_add(step);
                let e = u.unwrap(s);
                prop_assert!(e > prev);
                prop_assert_eq!(e.get() - prev.get(), i64::from(step));
                prev = e;
            }
        }
    }
}
