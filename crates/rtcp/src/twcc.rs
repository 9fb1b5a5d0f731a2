//! Transport-wide congestion control feedback (RTPFB, FMT 15;
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).

use voxwire_rtp::{SeqNo, Ssrc};

use crate::Error;
use crate::feedback::{FMT_TWCC, fb_common};
use crate::header::{PT_RTPFB, RawPacket, WriteRtcp, check_total_len, write_header};
use crate::reader::Writer;

/// Microseconds per receive-delta tick.
pub const DELTA_TICK_US: i64 = 250;
/// Microseconds per reference-time tick.
pub const REFERENCE_TICK_US: i64 = 64_000;
const MAX_RUN: usize = 0x1FFF;

/// The reception status of one packet, with its receive delta in 250 µs ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TwccStatus {
    /// Not received.
    NotReceived,
    /// Received, with a small delta (one byte, `0..=255` ticks).
    Small(u8),
    /// Received, with a large or negative delta (two bytes, signed).
    Large(i16),
}

impl TwccStatus {
    /// The 2-bit status symbol.
    const fn symbol(self) -> u16 {
        match self {
            Self::NotReceived => 0,
            Self::Small(_) => 1,
            Self::Large(_) => 2,
        }
    }

    /// The receive delta in microseconds, `None` when not received.
    pub const fn delta_us(self) -> Option<i64> {
        match self {
            Self::NotReceived => None,
            Self::Small(t) => Some(t as i64 * DELTA_TICK_US),
            Self::Large(t) => Some(t as i64 * DELTA_TICK_US),
        }
    }

    /// The status for a delta in 250 µs ticks: small when it fits a byte, large otherwise.
    pub fn from_ticks(ticks: i16) -> Self {
        u8::try_from(ticks).map_or(Self::Large(ticks), Self::Small)
    }
}

/// One packet's entry: its transport-wide sequence number and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TwccPacket {
    /// Transport-wide sequence number.
    pub seq: SeqNo,
    /// Status and delta.
    pub status: TwccStatus,
}

/// Symbol `i` of a chunk, and how many symbols the chunk holds.
fn chunk_symbol(chunk: u16, i: usize) -> (u16, usize) {
    if chunk & 0x8000 == 0 {
        ((chunk >> 13) & 3, usize::from(chunk & 0x1FFF))
    } else if chunk & 0x4000 == 0 {
        ((chunk >> (13 - i.min(13))) & 1, 14)
    } else {
        ((chunk >> (12 - 2 * i.min(6))) & 3, 7)
    }
}

/// A validated transport-cc feedback packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportCc<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source (often 0 or the first media SSRC).
    pub media_ssrc: Ssrc,
    /// First transport-wide sequence number described.
    pub base_seq: SeqNo,
    /// Number of packets described.
    pub status_count: u16,
    /// Reference time, signed 24 bits, in 64 ms ticks.
    pub reference_time: i32,
    /// Feedback packet counter.
    pub fb_pkt_count: u8,
    chunks: &'a [u8],
    deltas: &'a [u8],
}

impl<'a> TransportCc<'a> {
    /// Parses a transport-cc packet; walks every chunk and delta once.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        let (sender_ssrc, media_ssrc, mut r) = fb_common(raw, PT_RTPFB, "transport-cc")?;
        let base_seq = SeqNo(r.u16()?);
        let status_count = r.u16()?;
        let rt = r.array::<4>()?;
        let reference_time = i32::from_be_bytes([rt[0], rt[1], rt[2], 0]) >> 8;
        let fb_pkt_count = rt[3];
        let chunks_start = r.remaining();
        let mut left = usize::from(status_count);
        let mut delta_bytes = 0usize;
        while left > 0 {
            let chunk = r.u16()?;
            let (_, cap) = chunk_symbol(chunk, 0);
            if cap == 0 {
                return Err(Error::InvalidValue { what: "transport-cc run length", value: 0 });
            }
            let n = cap.min(left);
            if chunk & 0x8000 == 0 {
                delta_bytes += n * symbol_delta_len(chunk_symbol(chunk, 0).0)?;
            } else {
                for i in 0..n {
                    delta_bytes += symbol_delta_len(chunk_symbol(chunk, i).0)?;
                }
            }
            left -= n;
        }
        let chunks_len = chunks_start.len() - r.remaining().len();
        let chunks = chunks_start.get(..chunks_len).unwrap_or_default();
        let deltas = r.take(delta_bytes)?;
        if r.remaining().len() > 3 {
            return Err(Error::BadLength {
                what: "transport-cc",
                expected: raw.body().len() - r.remaining().len(),
                actual: raw.body().len(),
            });
        }
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            base_seq,
            status_count,
            reference_time,
            fb_pkt_count,
            chunks,
            deltas,
        })
    }

    /// The reference time in microseconds.
    pub const fn reference_time_us(&self) -> i64 {
        self.reference_time as i64 * REFERENCE_TICK_US
    }

    /// Every described packet, in sequence order.
    pub fn packets(&self) -> TwccPackets<'a> {
        TwccPackets {
            chunks: self.chunks,
            deltas: self.deltas,
            chunk: None,
            index: 0,
            left: self.status_count,
            seq: self.base_seq,
        }
    }
}

fn symbol_delta_len(symbol: u16) -> Result<usize, Error> {
    match symbol {
        0 => Ok(0),
        1 => Ok(1),
        2 => Ok(2),
        _ => Err(Error::InvalidValue { what: "transport-cc status symbol", value: 3 }),
    }
}

/// Iterator over a validated transport-cc packet's entries.
#[derive(Clone, Debug)]
pub struct TwccPackets<'a> {
    chunks: &'a [u8],
    deltas: &'a [u8],
    chunk: Option<u16>,
    index: usize,
    left: u16,
    seq: SeqNo,
}

impl Iterator for TwccPackets<'_> {
    type Item = TwccPacket;

    fn next(&mut self) -> Option<TwccPacket> {
        self.left = self.left.checked_sub(1)?;
        let chunk = match self.chunk {
            Some(c) if self.index < chunk_symbol(c, 0).1 => c,
            _ => {
                let (c, rest) = self.chunks.split_first_chunk::<2>()?;
                self.chunks = rest;
                self.index = 0;
                let c = u16::from_be_bytes(*c);
                self.chunk = Some(c);
                c
            }
        };
        let (symbol, _) = chunk_symbol(chunk, self.index);
        self.index += 1;
        let status = match symbol {
            0 => TwccStatus::NotReceived,
            1 => {
                let (&d, rest) = self.deltas.split_first()?;
                self.deltas = rest;
                TwccStatus::Small(d)
            }
            _ => {
                let (d, rest) = self.deltas.split_first_chunk::<2>()?;
                self.deltas = rest;
                TwccStatus::Large(i16::from_be_bytes(*d))
            }
        };
        let seq = self.seq;
        self.seq = seq.next();
        Some(TwccPacket { seq, status })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.left)))
    }
}

/// Emits the packet-status chunks for `statuses`: run-length chunks for runs of 7 or more (or
/// an all-equal tail), else a 1-bit vector when the next 14 are "not received"/"small", else a
/// 2-bit vector. Vectors past the end are filled with "not received".
fn encode_chunks(statuses: &[TwccStatus], mut emit: impl FnMut(u16)) {
    let mut i = 0;
    while let Some(rest) = statuses.get(i..).filter(|r| !r.is_empty()) {
        let first = rest.first().map_or(0, |s| s.symbol());
        let run = rest.iter().take(MAX_RUN).take_while(|s| s.symbol() == first).count();
        if run >= 7 || run == rest.len() {
            emit((first << 13) | run as u16);
            i += run;
        } else if rest.iter().take(14).all(|s| s.symbol() <= 1) {
            let mut c = 0x8000u16;
            for (k, s) in rest.iter().take(14).enumerate() {
                c |= s.symbol() << (13 - k);
            }
            emit(c);
            i += 14;
        } else {
            let mut c = 0xC000u16;
            for (k, s) in rest.iter().take(7).enumerate() {
                c |= s.symbol() << (12 - 2 * k);
            }
            emit(c);
            i += 7;
        }
    }
}

/// Builds a transport-cc feedback packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportCcBuilder<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
    /// Sequence number of `statuses[0]`.
    pub base_seq: SeqNo,
    /// Reference time in 64 ms ticks (signed 24 bits).
    pub reference_time: i32,
    /// Feedback packet counter.
    pub fb_pkt_count: u8,
    /// One status per packet from `base_seq` on (at most 65,535).
    pub statuses: &'a [TwccStatus],
}

impl TransportCcBuilder<'_> {
    fn unpadded(&self) -> usize {
        let mut chunks = 0;
        encode_chunks(self.statuses, |_| chunks += 1);
        let deltas: usize = self
            .statuses
            .iter()
            .map(|s| match s {
                TwccStatus::NotReceived => 0,
                TwccStatus::Small(_) => 1,
                TwccStatus::Large(_) => 2,
            })
            .sum();
        20 + 2 * chunks + deltas
    }
}

impl WriteRtcp for TransportCcBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        if self.statuses.is_empty() || self.statuses.len() > usize::from(u16::MAX) {
            return Err(Error::FieldOverflow {
                what: "transport-cc status count",
                value: self.statuses.len() as u64,
                max: u64::from(u16::MAX),
            });
        }
        if !(-(1 << 23)..(1 << 23)).contains(&self.reference_time) {
            return Err(Error::FieldOverflow {
                what: "transport-cc reference time",
                value: u64::from(self.reference_time.unsigned_abs()),
                max: (1 << 23) - 1,
            });
        }
        check_total_len(self.unpadded().next_multiple_of(4))
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        let pad = len - self.unpadded();
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, pad > 0, FMT_TWCC, PT_RTPFB, len);
        w.u32(self.sender_ssrc.get());
        w.u32(self.media_ssrc.get());
        w.u16(self.base_seq.get());
        w.u16(self.statuses.len() as u16);
        w.u32((self.reference_time.cast_unsigned() << 8) | u32::from(self.fb_pkt_count));
        encode_chunks(self.statuses, |c| w.u16(c));
        for s in self.statuses {
            match *s {
                TwccStatus::NotReceived => {}
                TwccStatus::Small(d) => w.u8(d),
                TwccStatus::Large(d) => w.bytes(&d.to_be_bytes()),
            }
        }
        if pad > 0 {
            w.zeros(pad - 1);
            w.u8(pad as u8);
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Reader;

    #[test]
    fn chunk_kinds() {
        // Run of 20 small, then mixed.
        let mut s = vec![TwccStatus::Small(4); 20];
        s.extend([TwccStatus::NotReceived, TwccStatus::Large(-3), TwccStatus::Small(1)]);
        let mut chunks = Vec::new();
        encode_chunks(&s, |c| chunks.push(c));
        assert_eq!(chunks[0], (1 << 13) | 0x14);
        assert_eq!(chunks[1] & 0xC000, 0xC000);
        assert_eq!(chunks.len(), 2);
    }

    #[test]
    fn reader_reports_truncation() {
        let mut r = Reader::new(&[1, 2], "x");
        assert!(r.u32().is_err());
    }
}
