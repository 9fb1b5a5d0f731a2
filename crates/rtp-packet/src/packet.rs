//! The zero-copy RTP packet view.

use crate::ext::{ExtensionElements, HeaderExtension};
use crate::{Error, PayloadType, RtpTimestamp, SeqNo, Ssrc};

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub const FIXED_HEADER_LEN: usize = 12;
/// Length of the header-extension preamble (profile u16, length u16 in 32-bit words).
pub const EXTENSION_PREAMBLE_LEN: usize = 4;
/// The only RTP version there is.
pub const RTP_VERSION: u8 = 2;

/// A validated, zero-copy view of one RTP packet (RFC 3550 §5.1).
///
/// [`RtpPacket::parse`] checks every length once: version 2, the CSRC list, the extension block
/// (and, for RFC 8285 profiles, every element), and the padding count. After that no accessor
/// can fail. Padding is stripped from [`RtpPacket::payload`].
///
/// Unlike a bare `#[repr(transparent)]` wrapper around `&[u8]`, the view keeps the slices that
/// `parse` already split (fixed header as `&[u8; 12]`, CSRCs, extension, payload): accessors are
/// then plain loads with no offset arithmetic and no fallible indexing. It is still `Copy` and
/// borrows the input; nothing is copied.
///
/// ```
/// use voxwire_rtp::{RtpPacket, SeqNo, Ssrc};
/// let bytes = [
///     0x80, 0x78, 0x12, 0x34, // V=2, PT=120, seq 0x1234
///     0, 0, 0x03, 0xC0,       // timestamp 960
///     0xDE, 0xAD, 0xBE, 0xEF, // SSRC
///     0xF8, 0xFF, 0xFE,       // Opus silence
/// ];
/// let p = RtpPacket::parse(&bytes)?;
/// assert_eq!(p.payload_type().get(), 120);
/// assert_eq!(p.sequence_number(), SeqNo(0x1234));
/// assert_eq!(p.ssrc(), Ssrc(0xDEAD_BEEF));
/// assert_eq!(p.payload(), &[0xF8, 0xFF, 0xFE]);
/// # Ok::<(), voxwire_rtp::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    fixed: &'a [u8; FIXED_HEADER_LEN],
    data: &'a [u8],
    csrc: &'a [u8],
    extension: Option<HeaderExtension<'a>>,
    payload: &'a [u8],
    padding: u8,
}

impl<'a> RtpPacket<'a> {
    /// Parses and validates `data` as one RTP packet. The whole slice is the packet.
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let (fixed, rest) =
            data.split_first_chunk::<FIXED_HEADER_LEN>().ok_or(Error::Truncated {
                what: "RTP fixed header",
                expected: FIXED_HEADER_LEN,
                actual: data.len(),
            })?;
        let b0 = fixed[0];
        let version = b0 >> 6;
        if version != RTP_VERSION {
            return Err(Error::BadVersion { version });
        }
        let csrc_len = 4 * usize::from(b0 & 0x0F);
        let (csrc, rest) = rest.split_at_checked(csrc_len).ok_or(Error::Truncated {
            what: "RTP CSRC list",
            expected: FIXED_HEADER_LEN + csrc_len,
            actual: data.len(),
        })?;
        let (extension, rest) = if b0 & 0x10 == 0 {
            (None, rest)
        } else {
            let (ext, rest) = HeaderExtension::split(rest, FIXED_HEADER_LEN + csrc_len)?;
            (Some(ext), rest)
        };
        let (payload, padding) = if b0 & 0x20 == 0 {
            (rest, 0)
        } else {
            let padding = rest.last().copied().unwrap_or(0);
            match rest.len().checked_sub(usize::from(padding)) {
                Some(n) if padding != 0 => (rest.get(..n).unwrap_or_default(), padding),
                _ => return Err(Error::BadPadding { padding, available: rest.len() }),
            }
        };
        Ok(Self { fixed, data, csrc, extension, payload, padding })
    }

    /// The whole packet as given to [`Self::parse`].
    #[inline]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The P bit: the packet carries padding (already stripped from the payload).
    #[inline]
    pub const fn has_padding(&self) -> bool {
        self.fixed[0] & 0x20 != 0
    }

    /// Number of padding bytes at the end, including the count byte (0 without padding).
    #[inline]
    pub const fn padding_len(&self) -> u8 {
        self.padding
    }

    /// The X bit: a header extension follows the CSRCs.
    #[inline]
    pub const fn has_extension(&self) -> bool {
        self.fixed[0] & 0x10 != 0
    }

    /// The CSRC count (CC), `0..=15`.
    #[inline]
    pub const fn csrc_count(&self) -> u8 {
        self.fixed[0] & 0x0F
    }

    /// The M bit.
    #[inline]
    pub const fn marker(&self) -> bool {
        self.fixed[1] & 0x80 != 0
    }

    /// The payload type (7 bits).
    #[inline]
    pub const fn payload_type(&self) -> PayloadType {
        PayloadType::from_masked(self.fixed[1])
    }

    /// The sequence number.
    #[inline]
    pub const fn sequence_number(&self) -> SeqNo {
        SeqNo(u16::from_be_bytes([self.fixed[2], self.fixed[3]]))
    }

    /// The timestamp.
    #[inline]
    pub const fn timestamp(&self) -> RtpTimestamp {
        RtpTimestamp(u32::from_be_bytes([
            self.fixed[4],
            self.fixed[5],
            self.fixed[6],
            self.fixed[7],
        ]))
    }

    /// The SSRC.
    #[inline]
    pub const fn ssrc(&self) -> Ssrc {
        Ssrc(u32::from_be_bytes([self.fixed[8], self.fixed[9], self.fixed[10], self.fixed[11]]))
    }

    /// The contributing sources, in order.
    #[inline]
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + Clone + 'a {
        self.csrc.chunks_exact(4).map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }

    /// The raw header extension block (RFC 3550 §5.3.1), when X=1.
    #[inline]
    pub const fn extension(&self) -> Option<HeaderExtension<'a>> {
        self.extension
    }

    /// The RFC 8285 extension elements. Empty when X=0 or the profile is not an RFC 8285 one.
    #[inline]
    pub fn extensions(&self) -> ExtensionElements<'a> {
        match self.extension {
            Some(e) => e.elements(),
            None => ExtensionElements::empty(),
        }
    }

    /// The data of the first RFC 8285 element with `id`, if any.
    #[inline]
    pub fn extension_by_id(&self, id: u8) -> Option<&'a [u8]> {
        self.extensions().get(id)
    }

    /// The payload, without padding.
    #[inline]
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Length of the header: fixed part, CSRCs and the whole extension block.
    #[inline]
    pub const fn header_len(&self) -> usize {
        FIXED_HEADER_LEN + self.csrc.len() + self.extension_block_len()
    }

    /// Length of the extension block including its 4-byte preamble (0 when X=0).
    #[inline]
    pub const fn extension_block_len(&self) -> usize {
        match self.extension {
            Some(e) => EXTENSION_PREAMBLE_LEN + e.body().len(),
            None => 0,
        }
    }

    /// Length of the clear, authenticated header of Discord's rtpsize modes (protocol.md 5.2):
    /// `12 + 4*CC`, plus the 4-byte extension preamble when X=1. This is the AAD length.
    #[inline]
    pub const fn rtpsize_header_len(&self) -> usize {
        FIXED_HEADER_LEN
            + self.csrc.len()
            + if self.has_extension() { EXTENSION_PREAMBLE_LEN } else { 0 }
    }

    /// Length of the extension body (the elements, after the preamble), `4 * length` words.
    #[inline]
    pub const fn extension_body_len(&self) -> usize {
        match self.extension {
            Some(e) => e.body().len(),
            None => 0,
        }
    }
}

impl core::fmt::Debug for RtpPacket<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RtpPacket")
            .field("marker", &self.marker())
            .field("payload_type", &self.payload_type())
            .field("sequence_number", &self.sequence_number())
            .field("timestamp", &self.timestamp())
            .field("ssrc", &self.ssrc())
            .field("csrc_count", &self.csrc_count())
            .field("extension", &self.extension)
            .field("payload_len", &self.payload.len())
            .field("padding", &self.padding)
            .finish()
    }
}

/// The rtpsize layout of a datagram whose body may be encrypted (protocol.md 5.2).
///
/// Unlike [`RtpPacket::parse`] this reads only the clear part: the first byte, the CSRC count
/// and the extension preamble. It does not look at padding or extension elements, which lie
/// inside the ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpsizeLayout {
    /// Bytes of clear header: `12 + 4*CC + (X ? 4 : 0)`. The AAD is `packet[..header_len]`.
    pub header_len: usize,
    /// Bytes of extension elements at the start of the plaintext (`4 * words`; 0 when X=0).
    pub extension_body_len: usize,
    /// The extension profile from the preamble, when X=1.
    pub extension_profile: Option<u16>,
    /// The P bit (the padding count sits at the end of the plaintext).
    pub padding: bool,
}

impl RtpsizeLayout {
    /// Reads the clear header of an rtpsize packet.
    ///
    /// ```
    /// use voxwire_rtp::RtpsizeLayout;
    /// let mut pkt = [0u8; 40];
    /// pkt[0] = 0x90; // V=2, X=1
    /// pkt[12..16].copy_from_slice(&[0xBE, 0xDE, 0, 2]);
    /// let l = RtpsizeLayout::parse(&pkt)?;
    /// assert_eq!((l.header_len, l.extension_body_len), (16, 8));
    /// # Ok::<(), voxwire_rtp::Error>(())
    /// ```
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let b0 = *data.first().ok_or(Error::Truncated {
            what: "RTP fixed header",
            expected: FIXED_HEADER_LEN,
            actual: 0,
        })?;
        let version = b0 >> 6;
        if version != RTP_VERSION {
            return Err(Error::BadVersion { version });
        }
        let csrc_end = FIXED_HEADER_LEN + 4 * usize::from(b0 & 0x0F);
        let (header_len, extension_body_len, extension_profile) = if b0 & 0x10 == 0 {
            (csrc_end, 0, None)
        } else {
            let pre = data
                .get(csrc_end..csrc_end + EXTENSION_PREAMBLE_LEN)
                .and_then(|p| p.first_chunk::<4>())
                .ok_or(Error::Truncated {
                    what: "RTP extension preamble",
                    expected: csrc_end + EXTENSION_PREAMBLE_LEN,
                    actual: data.len(),
                })?;
            let profile = u16::from_be_bytes([pre[0], pre[1]]);
            let words = u16::from_be_bytes([pre[2], pre[3]]);
            (csrc_end + EXTENSION_PREAMBLE_LEN, 4 * usize::from(words), Some(profile))
        };
        if data.len() < header_len {
            return Err(Error::Truncated {
                what: "RTP header",
                expected: header_len,
                actual: data.len(),
            });
        }
        Ok(Self { header_len, extension_body_len, extension_profile, padding: b0 & 0x20 != 0 })
    }
}
