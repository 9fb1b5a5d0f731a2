//! Annex B start-code scanning shared by the H264/H265 packetizers, the Annex B reader and DAVE.
//!
//! One scanner defines where a NAL unit ends for every user in this crate, so the bytes DAVE
//! authenticates, the NAL units the packetizer sends and the units the depacketizer rebuilds
//! agree: a start code is `00 00 01`, and one zero byte directly before it (not before the
//! search origin) makes it a 4-byte code. Any further zero bytes stay at the end of the previous
//! NAL unit (as `trailing_zero_8bits`), exactly as libdave splits frames.

/// A start code found by [`find_start_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartCode {
    /// Offset of the start code's first byte (the extra zero of a 4-byte code, if any).
    pub code_start: usize,
    /// Offset of the NAL unit's first byte, directly after `00 00 01`.
    pub nal_start: usize,
}

impl StartCode {
    /// 3 or 4.
    pub const fn len(self) -> usize {
        self.nal_start - self.code_start
    }

    /// Never true: a start code has 3 or 4 bytes.
    pub const fn is_empty(self) -> bool {
        false
    }
}

/// Finds the first `00 00 01` that starts at or after `from` (SIMD search via `memchr`).
pub fn find_start_code(buf: &[u8], from: usize) -> Option<StartCode> {
    let i = from + memchr::memmem::find(buf.get(from..)?, &[0, 0, 1])?;
    let code_start = if i > from && buf[i - 1] == 0 { i - 1 } else { i };
    Some(StartCode { code_start, nal_start: i + 3 })
}

/// `true` when `00 00 01` occurs anywhere in `buf`.
pub fn contains_start_code(buf: &[u8]) -> bool {
    find_start_code(buf, 0).is_some()
}

/// Iterator over the NAL units of an Annex B byte string (without their start codes).
///
/// Bytes before the first start code are not yielded; [`NalUnits::leading`] tells how many there
/// were. A NAL unit may be empty (two start codes in a row); callers decide whether that is an
/// error.
#[derive(Debug, Clone)]
pub struct NalUnits<'a> {
    buf: &'a [u8],
    next: Option<StartCode>,
    leading: usize,
}

impl<'a> NalUnits<'a> {
    /// Splits `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        let next = find_start_code(buf, 0);
        let leading = next.map_or(buf.len(), |s| s.code_start);
        Self { buf, next, leading }
    }

    /// Bytes before the first start code (the whole input when it has none).
    pub const fn leading(&self) -> usize {
        self.leading
    }
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let cur = self.next?;
        self.next = find_start_code(self.buf, cur.nal_start);
        let end = self.next.map_or(self.buf.len(), |s| s.code_start);
        self.buf.get(cur.nal_start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_three_and_four_byte_codes() {
        let b = [0, 0, 1, 0x65, 0, 0, 0, 1, 0x41, 0xAA];
        assert_eq!(find_start_code(&b, 0), Some(StartCode { code_start: 0, nal_start: 3 }));
        let s = find_start_code(&b, 3).unwrap();
        assert_eq!((s.code_start, s.nal_start, s.len()), (4, 8, 4));
        let nals: Vec<&[u8]> = NalUnits::new(&b).collect();
        assert_eq!(nals, [&[0x65][..], &[0x41, 0xAA][..]]);
    }

    #[test]
    fn extra_zeros_stay_with_previous_unit() {
        let b = [0, 0, 0, 1, 0x67, 0, 0, 0, 0, 1, 0x68];
        let nals: Vec<&[u8]> = NalUnits::new(&b).collect();
        assert_eq!(nals, [&[0x67, 0][..], &[0x68][..]]);
    }

    #[test]
    fn leading_bytes_and_no_code() {
        let u = NalUnits::new(&[9, 9, 0, 0, 1, 5]);
        assert_eq!(u.leading(), 2);
        assert_eq!(u.collect::<Vec<_>>(), [&[5][..]]);
        assert_eq!(NalUnits::new(&[0, 0, 2, 0, 0]).count(), 0);
        assert!(contains_start_code(&[7, 0, 0, 1]));
        assert!(!contains_start_code(&[0, 0, 0, 2, 0, 1]));
    }

    #[test]
    fn matches_naive_scan() {
        // Every 6-byte string over {0, 1, 2}: the fast scan finds the same first code as a naive one.
        for n in 0..3u32.pow(6) {
            let mut b = [0u8; 6];
            let mut v = n;
            for x in &mut b {
                *x = (v % 3) as u8;
                v /= 3;
            }
            let naive = b.windows(3).position(|w| w == [0, 0, 1]);
            assert_eq!(find_start_code(&b, 0).map(|s| s.nal_start - 3), naive, "{b:?}");
        }
    }
}
