//! Sender and receiver reports (RFC 3550 §6.4).

use voxwire_rtp::Ssrc;

use crate::Error;
use crate::header::{
    PT_RR, PT_SR, RawPacket, WriteRtcp, check_count, check_total_len, expect_type, write_header,
};
use crate::reader::{Reader, Writer};

/// Bytes of one report block.
pub const REPORT_BLOCK_LEN: usize = 24;

/// A reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: Ssrc,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost: a signed 24-bit value (`-2^23..2^23`).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | highest seq).
    pub extended_highest_seq: u32,
    /// Interarrival jitter in RTP timestamp units.
    pub jitter: u32,
    /// LSR: the middle 32 bits of the NTP timestamp of the last SR received.
    pub last_sr: u32,
    /// DLSR: delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let ssrc = Ssrc(r.u32()?);
        let lost = r.u32()?;
        let fraction_lost = (lost >> 24) as u8;
        // Sign-extend the 24-bit cumulative count.
        let cumulative_lost = ((lost << 8).cast_signed()) >> 8;
        Ok(Self {
            ssrc,
            fraction_lost,
            cumulative_lost,
            extended_highest_seq: r.u32()?,
            jitter: r.u32()?,
            last_sr: r.u32()?,
            delay_since_last_sr: r.u32()?,
        })
    }

    fn check(&self) -> Result<(), Error> {
        if !(-(1 << 23)..(1 << 23)).contains(&self.cumulative_lost) {
            return Err(Error::FieldOverflow {
                what: "cumulative packets lost",
                value: u64::from(self.cumulative_lost.unsigned_abs()),
                max: (1 << 23) - 1,
            });
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.u32(self.ssrc.get());
        w.u32(
            u32::from(self.fraction_lost) << 24
                | (self.cumulative_lost.cast_unsigned() & 0x00FF_FFFF),
        );
        w.u32(self.extended_highest_seq);
        w.u32(self.jitter);
        w.u32(self.last_sr);
        w.u32(self.delay_since_last_sr);
    }
}

/// Iterator over validated report blocks.
#[derive(Clone, Debug)]
pub struct ReportBlocks<'a> {
    data: &'a [u8],
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;

    fn next(&mut self) -> Option<ReportBlock> {
        let (block, rest) = self.data.split_at_checked(REPORT_BLOCK_LEN)?;
        self.data = rest;
        ReportBlock::read(&mut Reader::new(block, "report block")).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.data.len() / REPORT_BLOCK_LEN;
        (n, Some(n))
    }
}

impl ExactSizeIterator for ReportBlocks<'_> {}

/// The sender-info part of an SR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SenderInfo {
    /// NTP timestamp (64-bit fixed point, seconds since 1900).
    pub ntp_timestamp: u64,
    /// The RTP timestamp that corresponds to the NTP timestamp.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
}

/// A validated sender report (PT 200).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// SSRC of the sender.
    pub sender_ssrc: Ssrc,
    /// The sender info.
    pub info: SenderInfo,
    blocks: &'a [u8],
    /// Profile-specific extension after the report blocks (usually empty).
    pub profile_extension: &'a [u8],
}

impl<'a> SenderReport<'a> {
    /// Parses an SR from a raw packet.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        expect_type(raw, PT_SR)?;
        let mut r = Reader::new(raw.body(), "sender report");
        let sender_ssrc = Ssrc(r.u32()?);
        let info = SenderInfo {
            ntp_timestamp: u64::from(r.u32()?) << 32 | u64::from(r.u32()?),
            rtp_timestamp: r.u32()?,
            packet_count: r.u32()?,
            octet_count: r.u32()?,
        };
        let blocks = r.take(REPORT_BLOCK_LEN * usize::from(raw.count()))?;
        Ok(Self { sender_ssrc, info, blocks, profile_extension: r.remaining() })
    }

    /// The report blocks.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        ReportBlocks { data: self.blocks }
    }
}

/// A validated receiver report (PT 201).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// SSRC of the packet's sender.
    pub sender_ssrc: Ssrc,
    blocks: &'a [u8],
    /// Profile-specific extension after the report blocks (usually empty).
    pub profile_extension: &'a [u8],
}

impl<'a> ReceiverReport<'a> {
    /// Parses an RR from a raw packet.
    pub fn parse(raw: &RawPacket<'a>) -> Result<Self, Error> {
        expect_type(raw, PT_RR)?;
        let mut r = Reader::new(raw.body(), "receiver report");
        let sender_ssrc = Ssrc(r.u32()?);
        let blocks = r.take(REPORT_BLOCK_LEN * usize::from(raw.count()))?;
        Ok(Self { sender_ssrc, blocks, profile_extension: r.remaining() })
    }

    /// The report blocks.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        ReportBlocks { data: self.blocks }
    }
}

/// Builds a sender report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderReportBuilder<'a> {
    /// SSRC of the sender.
    pub sender_ssrc: Ssrc,
    /// The sender info.
    pub info: SenderInfo,
    /// At most 31 report blocks.
    pub report_blocks: &'a [ReportBlock],
}

impl WriteRtcp for SenderReportBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        check_count("SR report count", self.report_blocks.len())?;
        check_total_len(28 + REPORT_BLOCK_LEN * self.report_blocks.len())
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        self.report_blocks.iter().try_for_each(ReportBlock::check)?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, self.report_blocks.len() as u8, PT_SR, len);
        w.u32(self.sender_ssrc.get());
        w.u32((self.info.ntp_timestamp >> 32) as u32);
        w.u32(self.info.ntp_timestamp as u32);
        w.u32(self.info.rtp_timestamp);
        w.u32(self.info.packet_count);
        w.u32(self.info.octet_count);
        self.report_blocks.iter().for_each(|b| b.write(&mut w));
        Ok(len)
    }
}

/// Builds a receiver report. With no blocks it is the header-only RR Discord clients send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiverReportBuilder<'a> {
    /// SSRC of the packet's sender.
    pub sender_ssrc: Ssrc,
    /// At most 31 report blocks.
    pub report_blocks: &'a [ReportBlock],
}

impl WriteRtcp for ReceiverReportBuilder<'_> {
    fn calculate_size(&self) -> Result<usize, Error> {
        check_count("RR report count", self.report_blocks.len())?;
        check_total_len(8 + REPORT_BLOCK_LEN * self.report_blocks.len())
    }

    fn write_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.calculate_size()?;
        self.report_blocks.iter().try_for_each(ReportBlock::check)?;
        let mut w = Writer::new(out, len)?;
        write_header(&mut w, false, self.report_blocks.len() as u8, PT_RR, len);
        w.u32(self.sender_ssrc.get());
        self.report_blocks.iter().for_each(|b| b.write(&mut w));
        Ok(len)
    }
}
