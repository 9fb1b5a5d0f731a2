//! The few RTP header facts that transport encryption needs, read without allocating.
//!
//! The clear part of a packet (version, CC, X, P, the extension preamble) is read with
//! `voxwire_rtp::RtpsizeLayout`, the workspace's single definition of the rtpsize layout. The
//! rest (extension and padding bounds) is checked here against the slice, so that no later index
//! can fail. `voxwire_rtp::RtpPacket::parse` is not used on decrypted packets on purpose: it also
//! validates every RFC 8285 element, and a transport layer must hand over an authenticated
//! packet whose elements a later layer may judge.

use std::ops::Range;

use voxwire_rtp::RtpsizeLayout;

use crate::Error;

/// Bytes of the RFC 8285 extension preamble (profile u16, length u16 in words).
pub(crate) const EXT_PREAMBLE_LEN: usize = voxwire_rtp::EXTENSION_PREAMBLE_LEN;

/// Checks the version bits of the first byte (RTP and RTCP share them).
pub(crate) fn check_version(buf: &[u8]) -> Result<(), Error> {
    let first = *buf.first().ok_or(Error::Truncated { expected: 1, actual: 0 })?;
    match first >> 6 {
        2 => Ok(()),
        version => Err(Error::Version { version }),
    }
}

fn layout(buf: &[u8]) -> Result<RtpsizeLayout, Error> {
    RtpsizeLayout::parse(buf).map_err(|e| match e {
        voxwire_rtp::Error::BadVersion { version } => Error::Version { version },
        voxwire_rtp::Error::Truncated { expected, actual, .. } => {
            Error::Truncated { expected, actual }
        }
        other => Error::Rtp(other),
    })
}

/// The length of the clear header in the rtpsize modes: fixed header, CSRCs and, with X=1, the
/// 4-byte extension preamble. Only the first byte and the length are checked.
pub(crate) fn rtpsize_header_len(buf: &[u8]) -> Result<usize, Error> {
    Ok(layout(buf)?.header_len)
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
    let l = layout(buf)?;
    let (csrc_end, extension) = match l.extension_profile {
        None => (l.header_len, None),
        Some(profile) => {
            let end = l.header_len + l.extension_body_len;
            if end > buf.len() {
                return Err(Error::ExtensionOverrun {
                    words: (l.extension_body_len / 4) as u16,
                    available: buf.len() - l.header_len,
                });
            }
            (
                l.header_len - EXT_PREAMBLE_LEN,
                Some(Extension { profile, elements: l.header_len..end }),
            )
        }
    };
    let body = extension.as_ref().map_or(csrc_end, |e| e.elements.end);
    let mut padding = 0;
    if check_padding && l.padding {
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
