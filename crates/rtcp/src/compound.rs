//! Typed packets, compound packets (RFC 3550 §6.1) and reduced-size RTCP (RFC 5506).

use crate::Error;
use crate::feedback::{FMT_FIR, FMT_NACK, FMT_PLI, FMT_TWCC, Fir, Nack, Pli, Remb};
use crate::header::{
    PT_APP, PT_BYE, PT_PSFB, PT_RR, PT_RTPFB, PT_SDES, PT_SR, RawPacket, WriteRtcp,
};
use crate::report::{ReceiverReport, SenderReport};
use crate::sdes::{App, Bye, Sdes};
use crate::twcc::TransportCc;

/// One validated RTCP packet of any supported type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// SR (200).
    SenderReport(SenderReport<'a>),
    /// RR (201).
    ReceiverReport(ReceiverReport<'a>),
    /// SDES (202).
    Sdes(Sdes<'a>),
    /// BYE (203).
    Bye(Bye<'a>),
    /// APP (204).
    App(App<'a>),
    /// RTPFB generic NACK (205/1).
    Nack(Nack<'a>),
    /// RTPFB transport-cc (205/15).
    TransportCc(TransportCc<'a>),
    /// PSFB PLI (206/1).
    Pli(Pli),
    /// PSFB FIR (206/4).
    Fir(Fir<'a>),
    /// PSFB REMB (206/15 with `"REMB"`).
    Remb(Remb<'a>),
    /// Any other type or feedback format (XR, SLI, RPSI, TMMBR, ...), framed but not decoded.
    Other(RawPacket<'a>),
}

impl<'a> RtcpPacket<'a> {
    /// Decodes a framed packet by its type (and FMT for feedback).
    pub fn from_raw(raw: RawPacket<'a>) -> Result<Self, Error> {
        Ok(match (raw.packet_type(), raw.count()) {
            (PT_SR, _) => Self::SenderReport(SenderReport::parse(&raw)?),
            (PT_RR, _) => Self::ReceiverReport(ReceiverReport::parse(&raw)?),
            (PT_SDES, _) => Self::Sdes(Sdes::parse(&raw)?),
            (PT_BYE, _) => Self::Bye(Bye::parse(&raw)?),
            (PT_APP, _) => Self::App(App::parse(&raw)?),
            (PT_RTPFB, FMT_NACK) => Self::Nack(Nack::parse(&raw)?),
            (PT_RTPFB, FMT_TWCC) => Self::TransportCc(TransportCc::parse(&raw)?),
            (PT_PSFB, FMT_PLI) => Self::Pli(Pli::parse(&raw)?),
            (PT_PSFB, FMT_FIR) => Self::Fir(Fir::parse(&raw)?),
            _ if Remb::is_remb(&raw) => Self::Remb(Remb::parse(&raw)?),
            _ => Self::Other(raw),
        })
    }

    /// Parses exactly one packet.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::from_raw(RawPacket::parse(data)?)
    }
}

/// A validated compound RTCP datagram: one or more packets back to back.
///
/// [`Compound::parse`] frames and decodes every packet once, so [`Compound::packets`] cannot
/// fail. It accepts reduced-size RTCP (RFC 5506: a lone feedback packet, no SR/RR first);
/// [`Compound::is_rfc3550_compound`] tells whether the datagram also meets RFC 3550's stricter
/// rules.
///
/// ```
/// use voxwire_rtcp::{Compound, Pli, ReceiverReportBuilder, RtcpPacket, write_compound, compound_size};
/// use voxwire_rtp::Ssrc;
/// let rr = ReceiverReportBuilder { sender_ssrc: Ssrc(1), report_blocks: &[] };
/// let pli = Pli { sender_ssrc: Ssrc(1), media_ssrc: Ssrc(2) };
/// let mut buf = [0u8; 64];
/// let n = write_compound(&[&rr, &pli], &mut buf)?;
/// assert_eq!(n, compound_size(&[&rr, &pli])?);
/// let c = Compound::parse(&buf[..n])?;
/// let kinds: Vec<_> = c.packets().collect();
/// assert!(matches!(kinds[1], RtcpPacket::Pli(p) if p.media_ssrc == Ssrc(2)));
/// # Ok::<(), voxwire_rtcp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compound<'a> {
    data: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Frames and decodes every packet. Fails on an empty datagram, on any malformed packet,
    /// and on padding anywhere but in the last packet (RFC 3550 §6.4.1).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let mut rest = data;
        if rest.is_empty() {
            return Err(Error::Truncated { what: "RTCP compound packet", expected: 4, actual: 0 });
        }
        while !rest.is_empty() {
            let (raw, tail) = RawPacket::split(rest)?;
            if raw.has_padding() && !tail.is_empty() {
                return Err(Error::InvalidValue {
                    what: "padding bit on a packet that is not the last of the compound",
                    value: u32::from(raw.packet_type()),
                });
            }
            RtcpPacket::from_raw(raw)?;
            rest = tail;
        }
        Ok(Self { data })
    }

    /// The packets, in order.
    pub fn packets(&self) -> impl Iterator<Item = RtcpPacket<'a>> + Clone + 'a {
        RawPackets { rest: self.data }.filter_map(|r| RtcpPacket::from_raw(r).ok())
    }

    /// The framed packets, in order (cheaper when only some are decoded).
    pub fn raw_packets(&self) -> impl Iterator<Item = RawPacket<'a>> + Clone + 'a {
        RawPackets { rest: self.data }
    }

    /// The whole datagram.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Whether this meets RFC 3550 §6.1: starts with SR or RR and carries an SDES with a
    /// CNAME. A datagram that fails this is reduced-size RTCP (RFC 5506).
    pub fn is_rfc3550_compound(&self) -> bool {
        let mut raws = self.raw_packets();
        let first_ok = raws.next().is_some_and(|r| matches!(r.packet_type(), PT_SR | PT_RR));
        first_ok
            && self.packets().any(|p| match p {
                RtcpPacket::Sdes(s) => s
                    .chunks()
                    .any(|(_, mut items)| items.any(|i| i.kind == crate::sdes::SDES_CNAME)),
                _ => false,
            })
    }
}

#[derive(Clone, Debug)]
struct RawPackets<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RawPackets<'a> {
    type Item = RawPacket<'a>;

    fn next(&mut self) -> Option<RawPacket<'a>> {
        let (raw, rest) = RawPacket::split(self.rest).ok()?;
        self.rest = rest;
        Some(raw)
    }
}

/// Bytes a compound packet of `packets` takes.
pub fn compound_size(packets: &[&dyn WriteRtcp]) -> Result<usize, Error> {
    packets.iter().try_fold(0usize, |acc, p| Ok(acc + p.calculate_size()?))
}

/// Writes `packets` back to back into `out`, returns the bytes written. Nothing is allocated.
/// Only the last packet may carry padding (transport-cc pads itself when needed).
pub fn write_compound(packets: &[&dyn WriteRtcp], out: &mut [u8]) -> Result<usize, Error> {
    let needed = compound_size(packets)?;
    if out.len() < needed {
        return Err(Error::BufferTooSmall { needed, available: out.len() });
    }
    let mut pos = 0;
    for p in packets {
        let dst = out.get_mut(pos..).unwrap_or_default();
        pos += p.write_into(dst)?;
    }
    Ok(pos)
}
