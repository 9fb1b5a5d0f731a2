//! The few RTP header facts that transport encryption needs, read without allocating.
//!
//! `voxwire-rtp` offers no packet view yet, so this private parser computes them. It reads only
//! what the modes need (version, CC, X, P, the extension preamble) and validates every length
//! against the slice, so that no later index can fail.

use std::ops::Range;

use super::mode::RTP_FIXED_LEN;
use crate::Error;

/// Bytes of the RFC 8285 extension preamble (profile u16, length u16 in words).
pub(crate) const EXT_PREAMBLE_LEN: usize = 4;

/// Checks the version bits of the first byte (RTP and RTCP share them).
pub(crate) fn check_version(buf: &[u8]) -> Result<(), Error> {
    let first = *buf.first().ok_or(Error::Truncated { expected: 1, actual: 0 })?;
    match first >> 6 {
        2 => Ok(()),
        version => Err(Error::Version { version }),
    }
}

/// The length of the clear header in the rtpsize modes: fixed header, CSRCs and, with X=1, the
/// 4-byte extension preamble. Only the first byte and the length are checked.
pub(crate) fn rtpsize_header_len(buf: &[u8]) -> Result<usize, Error> {
    check_version(buf)?;
    let first = buf.first().copied().unwrap_or_default();
    let cc = usize::from(first & 0x0F);
    let x = first & 0x10 != 0;
    let len = RTP_FIXED_LEN + 4 * cc + if x { EXT_PREAMBLE_LEN } else { 0 };
    if buf.len() < len {
        return Err(Error::Truncated { expected: len, actual: buf.len() });
    }
    Ok(len)
}

/// An RFC 8285 header extension block in a plain RTP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The preamble's profile: `0xBEDE` for one-byte elements, `0x100X` for two-byte elements.
    pub profile: u16,
    /// Where the extension elements lie (after the preamble; a multiple of 4 bytes long).
    pub elements: Range<usize>,
}

/// The layout of a plain (decrypted, or not yet encrypted) RTP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlainRtp {
    /// Fixed header plus CSRCs.
    pub(crate) csrc_end: usize,
    pub(crate) extension: Option<Extension>,
    pub(crate) payload: Range<usize>,
    pub(crate) padding: usize,
}

/// Parses a plain RTP packet. With `check_padding`, a set P bit must come with a valid count.
pub(crate) fn parse_plain(buf: &[u8], check_padding: bool) -> Result<PlainRtp, Error> {
    check_version(buf)?;
    let first = buf.first().copied().unwrap_or_default();
    let cc = usize::from(first & 0x0F);
    let csrc_end = RTP_FIXED_LEN + 4 * cc;
    if buf.len() < csrc_end {
        return Err(Error::Truncated { expected: csrc_end, actual: buf.len() });
    }
    let mut body = csrc_end;
    let extension = if first & 0x10 != 0 {
        let Some(pre) = buf.get(csrc_end..csrc_end + EXT_PREAMBLE_LEN) else {
            return Err(Error::Truncated {
                expected: csrc_end + EXT_PREAMBLE_LEN,
                actual: buf.len(),
            });
        };
        let profile = u16::from_be_bytes([pre[0], pre[1]]);
        let words = u16::from_be_bytes([pre[2], pre[3]]);
        let start = csrc_end + EXT_PREAMBLE_LEN;
        let end = start + 4 * usize::from(words);
        if end > buf.len() {
            return Err(Error::ExtensionOverrun { words, available: buf.len() - start });
        }
        body = end;
        Some(Extension { profile, elements: start..end })
    } else {
        None
    };
    let mut padding = 0;
    if check_padding && first & 0x20 != 0 {
        let available = buf.len() - body;
        let count = buf.last().copied().unwrap_or_default();
        if count == 0 || usize::from(count) > available {
            return Err(Error::Padding { count, available });
        }
        padding = usize::from(count);
    }
    Ok(PlainRtp { csrc_end, extension, payload: body..buf.len() - padding, padding })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lengths() {
        let mut p = vec![0x80u8; 40];
        assert_eq!(rtpsize_header_len(&p).unwrap(), 12);
        p[0] = 0x92; // X=1, CC=2
        assert_eq!(rtpsize_header_len(&p).unwrap(), 12 + 8 + 4);
        assert!(matches!(
            rtpsize_header_len(&p[..23]),
            Err(Error::Truncated { expected: 24, actual: 23 })
        ));
        p[0] = 0x40;
        assert!(matches!(rtpsize_header_len(&p), Err(Error::Version { version: 1 })));
        assert!(matches!(check_version(&[]), Err(Error::Truncated { .. })));
    }

    #[test]
    fn plain_layout_with_extension_and_padding() {
        let mut p = vec![0u8; 12];
        p[0] = 0xB1; // V=2, P=1, X=1, CC=1
        p.extend_from_slice(&[1, 2, 3, 4]); // CSRC
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0]); // one word of elements
        p.extend_from_slice(&[9, 9, 9, 0, 0, 3]); // payload 9 9 9, padding 3
        let l = parse_plain(&p, true).unwrap();
        assert_eq!(l.csrc_end, 16);
        assert_eq!(l.extension, Some(Extension { profile: 0xBEDE, elements: 20..24 }));
        assert_eq!(l.payload, 24..27);
        assert_eq!(l.padding, 3);
        let n = p.len();
        p[n - 1] = 7;
        assert!(matches!(parse_plain(&p, true), Err(Error::Padding { count: 7, available: 6 })));
        p[n - 1] = 0;
        assert!(matches!(parse_plain(&p, true), Err(Error::Padding { count: 0, .. })));
        assert!(parse_plain(&p, false).is_ok());
        p[19] = 9; // 9 words of extension
        assert!(matches!(
            parse_plain(&p, true),
            Err(Error::ExtensionOverrun { words: 9, available: 10 })
        ));
    }
}
