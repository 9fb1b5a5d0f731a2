//! ULEB128, as DAVE's supplemental data uses it (7.5).

/// Number of bytes `value` takes as ULEB128.
pub(crate) const fn size(mut value: u64) -> usize {
    let mut n = 1;
    while value >= 0x80 {
        value >>= 7;
        n += 1;
    }
    n
}

/// Writes `value` at the start of `out` and returns the number of bytes written.
///
/// The caller guarantees `out.len() >= size(value)`; the frame writer sizes its buffer first.
pub(crate) fn write(mut value: u64, out: &mut [u8]) -> usize {
    let mut i = 0;
    for slot in out.iter_mut() {
        if value < 0x80 {
            *slot = value as u8;
            return i + 1;
        }
        *slot = 0x80 | (value & 0x7F) as u8;
        value >>= 7;
        i += 1;
    }
    i
}

/// Reads one ULEB128 value from the start of `data`: `(value, bytes read)`.
///
/// Gives up after 10 bytes, and the 10th byte may only be 0 or 1 (libdave's rule), so the value
/// always fits a `u64`.
pub(crate) fn read(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in data.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return None;
        }
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        let mut buf = [0u8; 10];
        assert_eq!(write(0, &mut buf), 1);
        assert_eq!(buf[0], 0);
        assert_eq!(write(300, &mut buf), 2);
        assert_eq!(&buf[..2], &[0xAC, 0x02]);
        assert_eq!(read(&[0xAC, 0x02, 0xFF]), Some((300, 2)));
        assert_eq!(read(&[0x80]), None);
        assert_eq!(read(&[0xFF; 9]), None);
        assert_eq!(read(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]), None);
        assert_eq!(
            read(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            Some((u64::MAX, 10))
        );
    }

    proptest! {
        #[test]
        fn round_trip(v: u64) {
            let mut buf = [0u8; 10];
            let n = write(v, &mut buf);
            prop_assert_eq!(n, size(v));
            prop_assert_eq!(read(&buf[..n]), Some((v, n)));
        }
    }
}
