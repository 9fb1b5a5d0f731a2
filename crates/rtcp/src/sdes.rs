//! Source description (RFC 3550 §6.5), goodbye (§6.6) and application-defined packets (§6.7).

use voxwire_rtp::Ssrc;

use crate::Error;
use crate::header::{
    PT_APP, PT_BYE, PT_SDES, RawPacket, WriteRtcp, check_count, check_total_len, expect_type,
    write_header,
};
use crate::reader::{Reader, Writer};

/// SDES item type CNAME.
pub const SDES_CNAME: u8 = 1;
/// SDES item type NAME.
pub const SDES_NAME: u8 = 2;
/// SDES item type TOOL.
pub const SDES_TOOL: u8 = 6;

/// One SDES item: type (1..=255) and value (at most 255 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SdesItem<'a> {
    /// Item type (CNAME = 1, ...).
    pub kind: u8,
    /// The value, usually UTF-8 text.
    pub value: &'a [u8],
}

/// One SDES chunk for the builder: an SSRC and its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: Ssrc,
    /// Its items.
    pub items: &'a [SdesItem<'a>],
}

impl SdesChunk<'_> {
    fn size(&self) -> usize {
        (4 + self.items.iter().map(|i| 2 + i.value.len()).sum::<usize>() + 1).next_multiple_of(4)
    }
}

/// Reads one chunk: returns its SSRC, its items area (without the END and padding), and the rest.
fn split_chunk(data: &[u8]) -> Result<(Ssrc, &[u8], &[u8]), Error> {
    let mut r = Reader::new(data, "SDES chunk");
    let ssrc = Ssrc(r.u32()?);
    let items_start = r.remaining();
    loop {
        let kind = r.u8()?;
        if kind == 0 {
            break;
        }
        let len = r.u8()?;
        r.take(usize::from(len))?;
    }
    let used = data.len() - r.remaining().len();
    let items_len = items_start.len() - r.remaining().len() - 1;
    let chunk_len = used.next_multiple_of(4);
    // RFC 3550 §6.5 asks for null octets up to the next 32-bit boundary; their values are not
    // checked, since some stacks (webrtc-rs) write an RTCP-style count into the last one.
    r.take(chunk_len - used)?;
    Ok((ssrc, items_start.get(..items_len).unwrap_or_default(), r.remaining()))
}

/// A validated SDES packet (PT 202).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    /// Parses SDES from a raw packet; every chunk and item is checked.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        expect_type(raw, PT_SDES)?;
        let mut rest = raw.body();
        for _ in 0..raw.count() {
            rest = split_chunk(rest)?.2;
        }
        if !rest.is_empty() {
            return Err(Error::BadLength {
                what: "SDES",
                expected: raw.body().len() - rest.len(),
                actual: raw.body().len(),
            });
        }
        Ok(Self { count: raw.count(), body: raw.body() })
    }

    /// The chunks.
    pub fn chunks(&self) -> SdesChunks<'a> {
        SdesChunks { left: self.count, data: self.body }
    }
}

/// Iterator over SDES chunks: `(ssrc, items)`.
#[derive(Clone, Debug)]
pub struct SdesChunks<'a> {
    left: u8,
    data: &'a [u8],
}

impl<'a> Iterator for SdesChunks<'a> {
    type Item = (Ssrc, SdesItems<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.left = self.left.checked_sub(1)?;
        let (ssrc, items, rest) = split_chunk(self.data).ok()?;
        self.data = rest;
        Some((ssrc, SdesItems { data: items }))
    }
}

/// Iterator over the items of one chunk.
#[derive(Clone, Debug)]
pub struct SdesItems<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for SdesItems<'a> {
    type Item = SdesItem<'a>;

    fn next(&mut self) -> Option<SdesItem<'a>> {
        let (&kind, rest) = self.data.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let (value, rest) = rest.split_at_checked(usize::from(len))?;
        self.data = rest;
        Some(SdesItem { kind, value })
    }
}

/// Builds an SDES packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdesBuilder<'a> {
    /// At most 31 chunks.
    pub chunks: &'a [SdesChunk<'a>],
}

impl WriteRtcp for SdesBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        check_count("SDES source count", self.chunks.len())?;
        for item in self.chunks.iter().flat_map(|c| c.items) {
            if item.kind == 0 {
                return Err(Error::InvalidValue { what: "SDES item type", value: 0 });
            }
            if item.value.len() > 255 {
                return Err(Error::FieldOverflow {
                    what: "SDES item length",
                    value: item.value.len() as u64,
                    max: 255,
                });
            }
        }
        check_total_len(4 + self.chunks.iter().map(SdesChunk::size).sum::<usize>())
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, self.chunks.len() as u8, PT_SDES, len);
        for c in self.chunks {
            let start = w.pos();
            w.u32(c.ssrc.get());
            for item in c.items {
                w.u8(item.kind);
                w.u8(item.value.len() as u8);
                w.bytes(item.value);
            }
            w.zeros(start + c.size() - w.pos());
        }
        Ok(len)
    }
}

/// A validated BYE packet (PT 203).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bye<'a> {
    ssrcs: &'a [u8],
    /// The reason for leaving, if given.
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// Parses BYE from a raw packet.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        expect_type(raw, PT_BYE)?;
        let mut r = Reader::new(raw.body(), "BYE");
        let ssrcs = r.take(4 * usize::from(raw.count()))?;
        let reason = if r.is_empty() {
            None
        } else {
            let len = r.u8()?;
            let reason = r.take(usize::from(len))?;
            if r.remaining().len() >= 4 || r.remaining().iter().any(|&b| b != 0) {
                return Err(Error::BadLength {
                    what: "BYE",
                    expected: (4 + 4 * usize::from(raw.count()) + 1 + usize::from(len))
                        .next_multiple_of(4),
                    actual: raw.body().len() + 4,
                });
            }
            Some(reason)
        };
        Ok(Self { ssrcs, reason })
    }

    /// The sources leaving.
    pub fn ssrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + Clone + 'a {
        self.ssrcs.chunks_exact(4).map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }
}

/// Builds a BYE packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByeBuilder<'a> {
    /// At most 31 sources.
    pub ssrcs: &'a [Ssrc],
    /// Optional reason, at most 255 bytes.
    pub reason: Option<&'a [u8]>,
}

impl WriteRtcp for ByeBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        check_count("BYE source count", self.ssrcs.len())?;
        let reason = match self.reason {
            None => 0,
            Some(r) if r.len() <= 255 => (1 + r.len()).next_multiple_of(4),
            Some(r) => {
                return Err(Error::FieldOverflow {
                    what: "BYE reason length",
                    value: r.len() as u64,
                    max: 255,
                });
            }
        };
        check_total_len(4 + 4 * self.ssrcs.len() + reason)
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, self.ssrcs.len() as u8, PT_BYE, len);
        self.ssrcs.iter().for_each(|s| w.u32(s.get()));
        if let Some(r) = self.reason {
            w.u8(r.len() as u8);
            w.bytes(r);
            w.zeros(len - w.pos());
        }
        Ok(len)
    }
}

/// A validated APP packet (PT 204).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct App<'a> {
    /// The 5-bit subtype.
    pub subtype: u8,
    /// SSRC of the sender.
    pub ssrc: Ssrc,
    /// The four-character name.
    pub name: [u8; 4],
    /// Application data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

impl<'a> App<'a> {
    /// Parses APP from a raw packet.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        expect_type(raw, PT_APP)?;
        let mut r = Reader::new(raw.body(), "APP");
        let ssrc = Ssrc(r.u32()?);
        let name = r.array::<4>()?;
        Ok(Self { subtype: raw.count(), ssrc, name, data: r.remaining() })
    }
}

/// Builds an APP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppBuilder<'a> {
    /// 5-bit subtype.
    pub subtype: u8,
    /// SSRC of the sender.
    pub ssrc: Ssrc,
    /// Four-character name.
    pub name: [u8; 4],
    /// Data; its length must be a multiple of 4.
    pub data: &'a [u8],
}

impl WriteRtcp for AppBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        check_count("APP subtype", usize::from(self.subtype))?;
        if !self.data.len().is_multiple_of(4) {
            return Err(Error::InvalidValue {
                what: "APP data length (must be a multiple of 4)",
                value: self.data.len() as u32,
            });
        }
        check_total_len(12 + self.data.len())
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, self.subtype, PT_APP, len);
        w.u32(self.ssrc.get());
        w.bytes(&self.name);
        w.bytes(self.data);
        Ok(len)
    }
}
