//! The common RTCP header (RFC 3550 §6.4.1) and the raw packet split.

use crate::Error;
use crate::reader::Writer;

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of application-defined packets.
pub const PT_APP: u8 = 204;
/// Packet type of transport-layer feedback (RFC 4585 §6.2).
pub const PT_RTPFB: u8 = 205;
/// Packet type of payload-specific feedback (RFC 4585 §6.3).
pub const PT_PSFB: u8 = 206;
/// Packet type of extended reports (RFC 3611).
pub const PT_XR: u8 = 207;

/// Length of the common header.
pub const HEADER_LEN: usize = 4;

/// One RTCP packet, split off a compound datagram: its header fields and its body (the bytes
/// after the 4-byte header, with any padding removed). Typed views are built from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawPacket<'a> {
    data: &'a [u8],
    body: &'a [u8],
}

impl<'a> RawPacket<'a> {
    /// Splits one packet off the front of `data` by its length field; returns it and the rest.
    pub fn split(data: &'a [u8]) -> Result<(Self, &'a [u8]), Error> {
        let Some(h) = data.first_chunk::<HEADER_LEN>() else {
            return Err(Error::Truncated {
                what: "RTCP header",
                expected: HEADER_LEN,
                actual: data.len(),
            });
        };
        let version = h[0] >> 6;
        if version != 2 {
            return Err(Error::BadVersion { version });
        }
        let len = 4 * (usize::from(u16::from_be_bytes([h[2], h[3]])) + 1);
        let Some((packet, rest)) = data.split_at_checked(len) else {
            return Err(Error::Truncated {
                what: "RTCP packet",
                expected: len,
                actual: data.len(),
            });
        };
        let body = packet.get(HEADER_LEN..).unwrap_or_default();
        let body = if h[0] & 0x20 == 0 {
            body
        } else {
            let padding = body.last().copied().unwrap_or(0);
            match body.len().checked_sub(usize::from(padding)) {
                Some(n) if padding != 0 => body.get(..n).unwrap_or_default(),
                _ => return Err(Error::BadPadding { padding, available: body.len() }),
            }
        };
        Ok((Self { data: packet, body }, rest))
    }

    /// Parses `data` as exactly one packet (no trailing bytes).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let (p, rest) = Self::split(data)?;
        if rest.is_empty() {
            Ok(p)
        } else {
            Err(Error::BadLength {
                what: "RTCP packet",
                expected: p.data.len(),
                actual: data.len(),
            })
        }
    }

    /// The P bit.
    #[inline]
    pub fn has_padding(&self) -> bool {
        self.first() & 0x20 != 0
    }

    /// The 5-bit count field: report count (SR/RR), source count (SDES/BYE), subtype (APP) or
    /// feedback message type (FMT, RTPFB/PSFB).
    #[inline]
    pub fn count(&self) -> u8 {
        self.first() & 0x1F
    }

    /// The packet type.
    #[inline]
    pub fn packet_type(&self) -> u8 {
        self.data.get(1).copied().unwrap_or(0)
    }

    /// The whole packet, header and padding included.
    #[inline]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The body after the 4-byte header, padding removed.
    #[inline]
    pub const fn body(&self) -> &'a [u8] {
        self.body
    }

    fn first(&self) -> u8 {
        self.data.first().copied().unwrap_or(0)
    }
}

/// Writes a common header for a packet of `total_len` bytes (a multiple of 4).
pub(crate) fn write_header(w: &mut Writer<'_>, padding: bool, count: u8, pt: u8, total_len: usize) {
    w.u8(0x80 | if padding { 0x20 } else { 0 } | (count & 0x1F));
    w.u8(pt);
    w.u16((total_len / 4 - 1) as u16);
}

/// Checks that a packet of `total_len` bytes fits the 16-bit length field.
pub(crate) fn check_total_len(total_len: usize) -> Result<usize, Error> {
    let max = 4 * (usize::from(u16::MAX) + 1);
    if total_len > max {
        return Err(Error::FieldOverflow {
            what: "RTCP packet length",
            value: total_len as u64,
            max: max as u64,
        });
    }
    Ok(total_len)
}

/// Checks a count that goes into the 5-bit count field.
pub(crate) fn check_count(what: &'static str, n: usize) -> Result<u8, Error> {
    if n > 31 {
        return Err(Error::FieldOverflow { what, value: n as u64, max: 31 });
    }
    Ok(n as u8)
}

/// Requires a packet type.
pub(crate) fn expect_type(raw: &RawPacket<'_>, pt: u8) -> Result<(), Error> {
    if raw.packet_type() == pt {
        Ok(())
    } else {
        Err(Error::WrongPacketType { expected: pt, actual: raw.packet_type() })
    }
}

/// Something that can be written as one RTCP packet into a caller buffer. Every builder in this
/// crate implements it, so a compound packet can be built from `&[&dyn WriteRtcp]` without
/// allocating.
pub trait WriteRtcp {
    /// The exact number of bytes [`WriteRtcp::write_into`] writes.
    fn calculate_size(&self) -> Result<usize, Error>;

    /// Writes the packet into the front of `out`; returns the bytes written.
    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error>;
}
