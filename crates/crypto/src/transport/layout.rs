//! The few RTP header facts that transport encryption needs, read in one pass without
//! allocating.
//!
//! [`RtpHeader::read`] looks at the first byte and, with X=1, the 4-byte RFC 8285 extension
//! preamble: everything that lies in the clear in the rtpsize modes. [`RtpHeader::plain`] then
//! checks the extension and padding bounds against the plain packet (before encryption, or after
//! authentication), so that no later index can fail. Both are `#[inline]` and build their errors
//! in `#[cold]` functions, so the per-packet cost is a handful of compares.
//!
//! This is the same layout as `voxwire_rtp::RtpsizeLayout` (the workspace's definition of it,
//! with the same errors after mapping); a property test below holds the two together. It is read
//! here directly because the transport hot path wants one pass over the header per packet, not
//! a general parser's `Result` plumbing twice. `voxwire_rtp::RtpPacket::parse` is not used on
//! decrypted packets on purpose: it also validates every RFC 8285 element, and a transport layer
//! must hand over an authenticated packet whose elements a later layer may judge.

use std::ops::Range;

use crate::Error;

/// Bytes of the RFC 8285 extension preamble (profile u16, length u16 in words).
pub(crate) const EXT_PREAMBLE_LEN: usize = voxwire_rtp::EXTENSION_PREAMBLE_LEN;
const FIXED_LEN: usize = voxwire_rtp::FIXED_HEADER_LEN;

#[cold]
#[inline(never)]
fn truncated(expected: usize, actual: usize) -> Error {
    Error::Truncated { expected, actual }
}

#[cold]
#[inline(never)]
fn version(first: u8) -> Error {
    Error::Version { version: first >> 6 }
}

#[cold]
#[inline(never)]
fn extension_overrun(words: u16, available: usize) -> Error {
    Error::ExtensionOverrun { words, available }
}

#[cold]
#[inline(never)]
fn padding(count: u8, available: usize) -> Error {
    Error::Padding { count, available }
}

/// Checks the version bits of the first byte (RTP and RTCP share them).
#[inline]
pub(crate) fn check_version(buf: &[u8]) -> Result<(), Error> {
    let Some(&first) = buf.first() else { return Err(truncated(1, 0)) };
    if first >> 6 == 2 { Ok(()) } else { Err(version(first)) }
}

/// What the clear part of an RTP packet says: the first byte and the extension preamble.
///
/// Every field is a `usize`, on purpose: a struct of `u16`s and `bool`s is written with several
/// narrow stores and read back as one 8-byte load, which the CPU cannot forward from the store
/// buffer (a stall of about 15 cycles per packet, measured). The profile is read from the
/// buffer when the [`Extension`] is built: the preamble is clear and decryption leaves it alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RtpHeader {
    /// The first byte (V, P, X, CC).
    first: usize,
    /// End of the fixed header and CSRC list: `12 + 4·CC`.
    pub(crate) csrc_end: usize,
    /// The rtpsize clear header: `csrc_end`, plus the 4-byte preamble with X=1.
    pub(crate) rtpsize_len: usize,
    /// Bytes of extension elements: 4 × the preamble's length in words (0 without X).
    ext_len: usize,
}

impl RtpHeader {
    /// Reads the header of `buf`, which must hold at least the rtpsize clear header (fixed
    /// header, CSRCs and, with X=1, the preamble). Errors: `Truncated` (expected = that length),
    /// `Version`.
    #[inline]
    pub(crate) fn read(buf: &[u8]) -> Result<Self, Error> {
        let Some(&b0) = buf.first() else { return Err(truncated(FIXED_LEN, 0)) };
        if b0 >> 6 != 2 {
            return Err(version(b0));
        }
        let csrc_end = FIXED_LEN + 4 * usize::from(b0 & 0x0F);
        let rtpsize_len = csrc_end + if b0 & 0x10 != 0 { EXT_PREAMBLE_LEN } else { 0 };
        if buf.len() < rtpsize_len {
            return Err(truncated(rtpsize_len, buf.len()));
        }
        let ext_len = match buf.get(csrc_end..rtpsize_len) {
            Some(&[_, _, w0, w1]) => 4 * usize::from(u16::from_be_bytes([w0, w1])),
            _ => 0,
        };
        Ok(Self { first: usize::from(b0), csrc_end, rtpsize_len, ext_len })
    }

    /// The X bit.
    #[inline]
    pub(crate) fn has_extension(&self) -> bool {
        self.first & 0x10 != 0
    }

    /// The P bit.
    #[inline]
    pub(crate) fn has_padding(&self) -> bool {
        self.first & 0x20 != 0
    }

    /// Checks the plain packet `buf` whose header this is: the extension elements fit and, with
    /// P=1, the padding count is valid. Returns the end of the extension elements (the start of
    /// the payload) and the padding length.
    #[inline]
    pub(crate) fn check_plain(&self, buf: &[u8]) -> Result<(usize, usize), Error> {
        let body = self.rtpsize_len + self.ext_len;
        if body > buf.len() {
            let words = (self.ext_len / 4) as u16;
            return Err(extension_overrun(words, buf.len().saturating_sub(self.rtpsize_len)));
        }
        if !self.has_padding() {
            return Ok((body, 0));
        }
        let available = buf.len() - body;
        let count = buf.last().copied().unwrap_or_default();
        if count == 0 || usize::from(count) > available {
            return Err(padding(count, available));
        }
        Ok((body, usize::from(count)))
    }

    /// The header extension of the packet `buf` whose header this is, its elements ending at
    /// `body` (from [`check_plain`](Self::check_plain)).
    #[inline]
    pub(crate) fn extension(&self, buf: &[u8], body: usize) -> Option<Extension> {
        if !self.has_extension() {
            return None;
        }
        let profile = match buf.get(self.csrc_end..self.csrc_end + 2) {
            Some(&[p0, p1]) => u16::from_be_bytes([p0, p1]),
            _ => 0,
        };
        Some(Extension { profile, elements: self.rtpsize_len..body })
    }
}

/// An RFC 8285 header extension block in a plain RTP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The preamble's profile: `0xBEDE` for one-byte elements, `0x100X` for two-byte elements.
    pub profile: u16,
    /// Where the extension elements lie (after the preamble; a multiple of 4 bytes long).
    pub elements: Range<usize>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `(csrc_end, extension, payload, padding)` of a plain packet.
    fn parse_plain(buf: &[u8]) -> Result<(usize, Option<Extension>, Range<usize>, usize), Error> {
        let h = RtpHeader::read(buf)?;
        let (body, pad) = h.check_plain(buf)?;
        Ok((h.csrc_end, h.extension(buf, body), body..buf.len() - pad, pad))
    }

    fn rtpsize_header_len(buf: &[u8]) -> Result<usize, Error> {
        RtpHeader::read(buf).map(|h| h.rtpsize_len)
    }

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
        p[0] = 0x82; // X=0, CC=2
        assert!(matches!(
            rtpsize_header_len(&p[..19]),
            Err(Error::Truncated { expected: 20, actual: 19 })
        ));
        assert!(matches!(
            rtpsize_header_len(&[]),
            Err(Error::Truncated { expected: 12, actual: 0 })
        ));
        p[0] = 0x40;
        assert!(matches!(rtpsize_header_len(&p), Err(Error::Version { version: 1 })));
        assert!(matches!(check_version(&[]), Err(Error::Truncated { .. })));
        assert!(matches!(check_version(&[0xC0]), Err(Error::Version { version: 3 })));
    }

    #[test]
    fn plain_layout_with_extension_and_padding() {
        let mut p = vec![0u8; 12];
        p[0] = 0xB1; // V=2, P=1, X=1, CC=1
        p.extend_from_slice(&[1, 2, 3, 4]); // CSRC
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0]); // one word of elements
        p.extend_from_slice(&[9, 9, 9, 0, 0, 3]); // payload 9 9 9, padding 3
        let (csrc_end, extension, payload, padding) = parse_plain(&p).unwrap();
        assert_eq!(csrc_end, 16);
        assert_eq!(extension, Some(Extension { profile: 0xBEDE, elements: 20..24 }));
        assert_eq!(payload, 24..27);
        assert_eq!(padding, 3);
        let n = p.len();
        p[n - 1] = 7;
        assert!(matches!(parse_plain(&p), Err(Error::Padding { count: 7, available: 6 })));
        p[n - 1] = 0;
        assert!(matches!(parse_plain(&p), Err(Error::Padding { count: 0, .. })));
        p[0] = 0x91; // P=0: the last byte is payload
        assert_eq!(parse_plain(&p).unwrap().2, 24..30);
        p[19] = 9; // 9 words of extension
        assert!(matches!(
            parse_plain(&p),
            Err(Error::ExtensionOverrun { words: 9, available: 10 })
        ));
    }

    proptest! {
        /// The one-pass reader agrees with `voxwire_rtp::RtpsizeLayout`, the workspace's
        /// definition of the rtpsize clear header, on every input: same lengths, same profile,
        /// same P bit, and the same errors after mapping.
        #[test]
        fn agrees_with_rtpsize_layout(
            first in any::<u8>(),
            rest in proptest::collection::vec(any::<u8>(), 0..96),
            cut in any::<bool>(),
        ) {
            let mut buf = vec![first];
            buf.extend_from_slice(&rest);
            if cut {
                buf.truncate(1 + rest.len() / 4);
            }
            let ours = RtpHeader::read(&buf);
            match voxwire_rtp::RtpsizeLayout::parse(&buf) {
                Ok(l) => {
                    let h = ours.unwrap();
                    prop_assert_eq!(h.rtpsize_len, l.header_len);
                    let body = h.rtpsize_len + h.ext_len;
                    prop_assert_eq!(h.extension(&buf, body).map(|e| e.profile), l.extension_profile);
                    prop_assert_eq!(h.ext_len, l.extension_body_len);
                    prop_assert_eq!(h.has_padding(), l.padding);
                }
                Err(voxwire_rtp::Error::BadVersion { version: v }) => {
                    let same = matches!(ours, Err(Error::Version { version }) if version == v);
                    prop_assert!(same, "{:?}", ours);
                }
                Err(voxwire_rtp::Error::Truncated { expected: e, actual: a, .. }) => {
                    let same = matches!(
                        ours,
                        Err(Error::Truncated { expected, actual }) if expected == e && actual == a
                    );
                    prop_assert!(same, "{:?}", ours);
                }
                Err(other) => prop_assert!(false, "unexpected layout error {other}"),
            }
        }
    }
}
