//! Feedback messages (RFC 4585): generic NACK, PLI; FIR (RFC 5104); REMB
//! (draft-alvestrand-rmcat-remb).

use voxwire_rtp::{SeqNo, Ssrc};

use crate::Error;
use crate::header::{
    PT_PSFB, PT_RTPFB, RawPacket, WriteRtcp, check_total_len, expect_type, write_header,
};
use crate::reader::{Reader, Writer};

/// FMT of generic NACK (RTPFB).
pub const FMT_NACK: u8 = 1;
/// FMT of transport-wide congestion control feedback (RTPFB).
pub const FMT_TWCC: u8 = 15;
/// FMT of PLI (PSFB).
pub const FMT_PLI: u8 = 1;
/// FMT of FIR (PSFB).
pub const FMT_FIR: u8 = 4;
/// FMT of application-layer feedback (PSFB), used by REMB.
pub const FMT_AFB: u8 = 15;

/// Reads the two SSRCs every feedback message starts with.
pub(crate) fn fb_common<'a>(
    raw: &RawPacket<'a>,
    pt: u8,
    what: &'static str,
) -> Result<(Ssrc, Ssrc, Reader<'a>), Error> {
    expect_type(raw, pt)?;
    let mut r = Reader::new(raw.body(), what);
    let sender = Ssrc(r.u32()?);
    let media = Ssrc(r.u32()?);
    Ok((sender, media, r))
}

/// One generic-NACK FCI entry: `pid` is lost, and bit `i` of `blp` says `pid + i + 1` is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NackPair {
    /// Packet ID: a lost sequence number.
    pub pid: SeqNo,
    /// Bitmask of following lost packets.
    pub blp: u16,
}

impl NackPair {
    /// The lost sequence numbers this entry names, in order.
    #[inline]
    pub fn lost(self) -> NackLost {
        NackLost { pid: self.pid, blp: self.blp, pid_done: false }
    }
}

/// Iterator over the sequence numbers one [`NackPair`] names: the PID, then one per set BLP bit.
#[derive(Clone, Debug)]
pub struct NackLost {
    pid: SeqNo,
    blp: u16,
    pid_done: bool,
}

impl Iterator for NackLost {
    type Item = SeqNo;

    #[inline]
    fn next(&mut self) -> Option<SeqNo> {
        if !self.pid_done {
            self.pid_done = true;
            return Some(self.pid);
        }
        if self.blp == 0 {
            return None;
        }
        let bit = self.blp.trailing_zeros() as u16;
        self.blp &= self.blp - 1;
        Some(self.pid.wrapping_add(bit + 1))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.blp.count_ones() as usize + usize::from(!self.pid_done);
        (n, Some(n))
    }
}

impl ExactSizeIterator for NackLost {}

/// Packs lost sequence numbers into NACK entries, without allocating.
///
/// Consecutive inputs within 16 after the current entry's PID join it; anything else starts a
/// new entry. For input sorted in sequence order this gives the fewest entries; any input gives
/// a correct set (duplicates merge).
///
/// ```
/// use voxwire_rtcp::nack_pairs;
/// use voxwire_rtp::SeqNo;
/// let lost = [SeqNo(65_535), SeqNo(0), SeqNo(2), SeqNo(40)];
/// let pairs: Vec<_> = nack_pairs(lost.iter().copied()).collect();
/// assert_eq!(pairs.len(), 2);
/// assert_eq!(pairs[0].pid, SeqNo(65_535));
/// assert_eq!(pairs[0].blp, 0b101);
/// let back: Vec<_> = pairs.iter().flat_map(|p| p.lost()).collect();
/// assert_eq!(back, lost);
/// ```
pub fn nack_pairs<I: Iterator<Item = SeqNo>>(lost: I) -> NackPairs<I> {
    NackPairs { lost: lost.peekable() }
}

/// Iterator returned by [`nack_pairs`].
#[derive(Clone, Debug)]
pub struct NackPairs<I: Iterator<Item = SeqNo>> {
    lost: core::iter::Peekable<I>,
}

impl<I: Iterator<Item = SeqNo>> Iterator for NackPairs<I> {
    type Item = NackPair;

    fn next(&mut self) -> Option<NackPair> {
        let pid = self.lost.next()?;
        let mut blp = 0u16;
        while let Some(&s) = self.lost.peek() {
            match pid.forward_distance(s) {
                0 => {}
                d @ 1..=16 => blp |= 1 << (d - 1),
                _ => break,
            }
            self.lost.next();
        }
        Some(NackPair { pid, blp })
    }
}

/// A validated generic NACK (RTPFB, FMT 1; RFC 4585 §6.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nack<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source the NACK is about.
    pub media_ssrc: Ssrc,
    fci: &'a [u8],
}

impl<'a> Nack<'a> {
    /// Parses a generic NACK.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        let (sender_ssrc, media_ssrc, r) = fb_common(raw, PT_RTPFB, "generic NACK")?;
        let fci = r.remaining();
        if fci.is_empty() || !fci.len().is_multiple_of(4) {
            return Err(Error::BadLength {
                what: "generic NACK FCI",
                expected: fci.len().next_multiple_of(4).max(4),
                actual: fci.len(),
            });
        }
        Ok(Self { sender_ssrc, media_ssrc, fci })
    }

    /// The FCI entries.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = NackPair> + Clone + 'a {
        self.fci.chunks_exact(4).map(|c| NackPair {
            pid: SeqNo(u16::from_be_bytes([c[0], c[1]])),
            blp: u16::from_be_bytes([c[2], c[3]]),
        })
    }

    /// Every lost sequence number, expanded from the entries in order.
    pub fn lost(&self) -> impl Iterator<Item = SeqNo> + Clone + 'a {
        self.pairs().flat_map(NackPair::lost)
    }
}

/// Builds a generic NACK from a list of lost sequence numbers (see [`nack_pairs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NackBuilder<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
    /// Lost sequence numbers; at least one. Sorted input gives the smallest packet.
    pub lost: &'a [SeqNo],
}

impl WriteRtcp for NackBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        if self.lost.is_empty() {
            return Err(Error::InvalidValue { what: "NACK lost-packet count", value: 0 });
        }
        check_total_len(12 + 4 * nack_pairs(self.lost.iter().copied()).count())
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, FMT_NACK, PT_RTPFB, len);
        w.u32(self.sender_ssrc.get());
        w.u32(self.media_ssrc.get());
        for p in nack_pairs(self.lost.iter().copied()) {
            w.u16(p.pid.get());
            w.u16(p.blp);
        }
        Ok(len)
    }
}

/// A picture loss indication (PSFB, FMT 1; RFC 4585 §6.3.1), also its builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pli {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source that should send a keyframe.
    pub media_ssrc: Ssrc,
}

impl Pli {
    /// Parses a PLI. It has no FCI.
    pub fn parse(raw: &RawPacket<'_>) -> Result<Self, Error> {
        let (sender_ssrc, media_ssrc, r) = fb_common(raw, PT_PSFB, "PLI")?;
        if !r.is_empty() {
            return Err(Error::BadLength { what: "PLI", expected: 8, actual: raw.body().len() });
        }
        Ok(Self { sender_ssrc, media_ssrc })
    }
}

impl WriteRtcp for Pli {
    fn calculate_size(&self) -> Result<usize, Error> {
        Ok(12)
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::new(out, 12)?;
        write_header(&mut w, false, FMT_PLI, PT_PSFB, 12);
        w.u32(self.sender_ssrc.get());
        w.u32(self.media_ssrc.get());
        Ok(12)
    }
}

/// One FIR entry (RFC 5104 §4.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FirEntry {
    /// The media sender asked for a decoder refresh.
    pub ssrc: Ssrc,
    /// Command sequence number.
    pub seq: u8,
}

/// A validated full intra request (PSFB, FMT 4; RFC 5104 §4.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fir<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// The media-source field (0 by RFC 5104).
    pub media_ssrc: Ssrc,
    fci: &'a [u8],
}

impl<'a> Fir<'a> {
    /// Parses a FIR.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        let (sender_ssrc, media_ssrc, r) = fb_common(raw, PT_PSFB, "FIR")?;
        let fci = r.remaining();
        if fci.is_empty() || !fci.len().is_multiple_of(8) {
            return Err(Error::BadLength {
                what: "FIR FCI",
                expected: fci.len().next_multiple_of(8).max(8),
                actual: fci.len(),
            });
        }
        Ok(Self { sender_ssrc, media_ssrc, fci })
    }

    /// The entries.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = FirEntry> + Clone + 'a {
        self.fci.chunks_exact(8).map(|c| FirEntry {
            ssrc: Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
            seq: c[4],
        })
    }
}

/// Builds a FIR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirBuilder<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// At least one entry.
    pub entries: &'a [FirEntry],
}

impl WriteRtcp for FirBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        if self.entries.is_empty() {
            return Err(Error::InvalidValue { what: "FIR entry count", value: 0 });
        }
        check_total_len(12 + 8 * self.entries.len())
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, FMT_FIR, PT_PSFB, len);
        w.u32(self.sender_ssrc.get());
        w.u32(0);
        for e in self.entries {
            w.u32(e.ssrc.get());
            w.u8(e.seq);
            w.zeros(3);
        }
        Ok(len)
    }
}

/// A validated receiver estimated maximum bitrate (PSFB, FMT 15, `"REMB"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remb<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// Estimated bitrate in bits per second (`mantissa << exp`).
    pub bitrate: u64,
    ssrcs: &'a [u8],
}

/// REMB's unique identifier.
pub const REMB_ID: [u8; 4] = *b"REMB";

impl<'a> Remb<'a> {
    /// Whether an AFB packet is REMB (by its identifier).
    pub fn is_remb(raw: &RawPacket<'_>) -> bool {
        raw.packet_type() == PT_PSFB
            && raw.count() == FMT_AFB
            && raw.body().get(8..12) == Some(&REMB_ID[..])
    }

    /// Parses a REMB.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        let (sender_ssrc, _media, mut r) = fb_common(raw, PT_PSFB, "REMB")?;
        let id = r.array::<4>()?;
        if id != REMB_ID {
            return Err(Error::InvalidValue {
                what: "REMB identifier",
                value: u32::from_be_bytes(id),
            });
        }
        let v = r.u32()?;
        let num = (v >> 24) as usize;
        let exp = (v >> 18) & 0x3F;
        let mantissa = u64::from(v & 0x3_FFFF);
        // exp <= 63 and mantissa < 2^18: saturate rather than overflow for absurd exponents.
        let bitrate =
            mantissa.checked_shl(exp).filter(|b| b >> exp == mantissa).unwrap_or(u64::MAX);
        let ssrcs = r.take(4 * num)?;
        if !r.is_empty() {
            return Err(Error::BadLength {
                what: "REMB",
                expected: 16 + 4 * num,
                actual: raw.body().len(),
            });
        }
        Ok(Self { sender_ssrc, bitrate, ssrcs })
    }

    /// The SSRCs the estimate applies to.
    pub fn ssrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + Clone + 'a {
        self.ssrcs.chunks_exact(4).map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }
}

/// Builds a REMB. The bitrate is encoded as an 18-bit mantissa and 6-bit exponent, rounding
/// down: [`RembBuilder::encoded_bitrate`] is what a parser will read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RembBuilder<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// Bitrate in bits per second.
    pub bitrate: u64,
    /// At most 255 SSRCs.
    pub ssrcs: &'a [Ssrc],
}

impl RembBuilder<'_> {
    fn exp_mantissa(&self) -> (u32, u64) {
        let exp = (64 - self.bitrate.leading_zeros()).saturating_sub(18);
        (exp, self.bitrate >> exp)
    }

    /// The bitrate after the lossy wire encoding.
    pub fn encoded_bitrate(&self) -> u64 {
        let (exp, m) = self.exp_mantissa();
        m << exp
    }
}

impl WriteRtcp for RembBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        if self.ssrcs.len() > 255 {
            return Err(Error::FieldOverflow {
                what: "REMB SSRC count",
                value: self.ssrcs.len() as u64,
                max: 255,
            });
        }
        check_total_len(20 + 4 * self.ssrcs.len())
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, FMT_AFB, PT_PSFB, len);
        w.u32(self.sender_ssrc.get());
        w.u32(0);
        w.bytes(&REMB_ID);
        let (exp, m) = self.exp_mantissa();
        w.u32((self.ssrcs.len() as u32) << 24 | exp << 18 | m as u32);
        self.ssrcs.iter().for_each(|s| w.u32(s.get()));
        Ok(len)
    }
}
