//! An incremental Ogg (RFC 3533) demuxer for Ogg Opus (RFC 7845) that splits FFmpeg's
//! `-f ogg`/`-f opus` output into Opus packets with their durations (RFC 6716 §3.1).
//!
//! Hand-written rather than taken from a general Ogg crate because the job is narrow and hot:
//! one logical stream, packets handed out as [`Bytes`] slices of the page they arrived in (no
//! copy unless a packet spans pages, which FFmpeg's Opus muxer does only for `OpusTags`), a CRC
//! check per page with a table, and no allocation per packet. The general crates copy each
//! packet into its own `Vec` and know nothing of Opus TOC bytes, which is where durations come
//! from.
//!
//! Call order: [`OggOpusDemuxer::push`] bytes as they arrive, then drain
//! [`OggOpusDemuxer::poll_packet`] until it returns `Ok(None)`; at end of input call
//! [`OggOpusDemuxer::finish`] to learn whether the stream ended cleanly.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result};

/// Opus samples per second: packet durations are counted at 48 kHz whatever the input rate.
pub const OPUS_RATE: u32 = 48_000;
/// Samples in one 20 ms Opus frame at 48 kHz.
pub const FRAME_SAMPLES: u32 = 960;

const HEADER_LEN: usize = 27;
const MAX_PAGE: usize = HEADER_LEN + 255 + 255 * 255;
const FLAG_CONTINUED: u8 = 0x01;
const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;

/// One Opus packet and its duration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpusPacket {
    /// The packet, TOC byte first.
    pub data: Bytes,
    /// Its duration in 48 kHz samples (960 for a 20 ms packet).
    pub samples: u32,
}

/// The identification header (`OpusHead`, RFC 7845 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channel count.
    pub channels: u8,
    /// Samples (at 48 kHz) to discard from the decoder output at the start.
    pub pre_skip: u16,
    /// Sample rate of the original input (informational).
    pub input_sample_rate: u32,
    /// Output gain in Q7.8 dB.
    pub output_gain: i16,
    /// Channel mapping family.
    pub mapping_family: u8,
}

impl OpusHead {
    /// Parses an `OpusHead` packet.
    pub fn parse(p: &[u8]) -> Result<Self> {
        if p.len() < 19 {
            return Err(Error::Truncated { expected: 19, actual: p.len() });
        }
        if p.get(..8) != Some(b"OpusHead") {
            return Err(Error::Opus { reason: "first packet is not OpusHead" });
        }
        let b = |i: usize| p.get(i).copied().unwrap_or(0);
        if b(8) >> 4 != 0 {
            return Err(Error::Opus { reason: "unsupported OpusHead major version" });
        }
        let channels = b(9);
        if channels == 0 {
            return Err(Error::Opus { reason: "OpusHead has zero channels" });
        }
        Ok(Self {
            channels,
            pre_skip: u16::from_le_bytes([b(10), b(11)]),
            input_sample_rate: u32::from_le_bytes([b(12), b(13), b(14), b(15)]),
            output_gain: i16::from_le_bytes([b(16), b(17)]),
            mapping_family: b(18),
        })
    }
}

/// Duration in 48 kHz samples of an Opus packet, from its TOC byte (and frame count byte for
/// code 3), RFC 6716 §3.1. Rejects empty packets and packets longer than 120 ms.
pub fn packet_samples(packet: &[u8]) -> Result<u32> {
    let &toc = packet.first().ok_or(Error::Opus { reason: "empty packet" })?;
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config & 3)],
        12..=15 => [480, 960][usize::from(config & 1)],
        _ => [120, 240, 480, 960][usize::from(config & 3)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => {
            let &m = packet.get(1).ok_or(Error::Opus { reason: "code 3 packet without count" })?;
            u32::from(m & 0x3f)
        }
    };
    let samples = frame * frames;
    if frames == 0 || samples > 5760 {
        return Err(Error::Opus { reason: "frame count out of range" });
    }
    Ok(samples)
}

/// A borrowed, validated view of one Ogg page header plus its body length.
#[derive(Clone, Copy, Debug)]
struct PageHeader {
    flags: u8,
    granule: i64,
    serial: u32,
    crc: u32,
    segments: usize,
    body_len: usize,
}

impl PageHeader {
    /// Parses the header at the start of `b`. `Ok(None)` when more bytes are needed.
    fn parse(b: &[u8], offset: u64) -> Result<Option<Self>> {
        if b.len() < HEADER_LEN {
            return Ok(None);
        }
        let h = b
            .get(..HEADER_LEN)
            .ok_or(Error::Truncated { expected: HEADER_LEN, actual: b.len() })?;
        if h.get(..4) != Some(b"OggS") {
            return Err(Error::OggCapture { offset });
        }
        let at = |i: usize| h.get(i).copied().unwrap_or(0);
        let version = at(4);
        if version != 0 {
            return Err(Error::OggVersion { version });
        }
        let le32 = |i: usize| u32::from_le_bytes([at(i), at(i + 1), at(i + 2), at(i + 3)]);
        let segments = usize::from(at(26));
        let Some(table) = b.get(HEADER_LEN..HEADER_LEN + segments) else { return Ok(None) };
        Ok(Some(Self {
            flags: at(5),
            granule: i64::from(le32(6)) | (i64::from(le32(10)) << 32),
            serial: le32(14),
            crc: le32(22),
            segments,
            body_len: table.iter().map(|&l| usize::from(l)).sum(),
        }))
    }

    fn len(&self) -> usize {
        HEADER_LEN + self.segments + self.body_len
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for a BOS page with `OpusHead`.
    Head,
    /// Skipping the comment header (`OpusTags`).
    Tags,
    /// Audio packets.
    Audio,
    /// The stream's EOS page was seen; a new chained stream may begin.
    Ended,
}

/// Incremental Ogg Opus demuxer. See the [module docs](self) for the call order.
#[derive(Debug)]
pub struct OggOpusDemuxer {
    buf: BytesMut,
    offset: u64,
    serial: Option<u32>,
    state: State,
    head: Option<OpusHead>,
    partial: Vec<u8>,
    ready: VecDeque<OpusPacket>,
    last_granule: i64,
    verify_crc: bool,
    pages: u64,
}

impl Default for OggOpusDemuxer {
    fn default() -> Self {
        Self::new()
    }
}

impl OggOpusDemuxer {
    /// A demuxer that checks every page's CRC.
    pub fn new() -> Self {
        Self {
            buf: BytesMut::with_capacity(8192),
            offset: 0,
            serial: None,
            state: State::Head,
            head: None,
            partial: Vec::new(),
            ready: VecDeque::new(),
            last_granule: -1,
            verify_crc: true,
            pages: 0,
        }
    }

    /// Disables the CRC check (for input already known to be intact, such as a local pipe).
    #[must_use]
    pub fn without_crc_check(mut self) -> Self {
        self.verify_crc = false;
        self
    }

    /// Appends input bytes. Pages are parsed lazily by [`poll_packet`](Self::poll_packet).
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The stream's `OpusHead`, once seen.
    pub fn head(&self) -> Option<&OpusHead> {
        self.head.as_ref()
    }

    /// Granule position (48 kHz samples including pre-skip) of the last page read, or -1.
    pub fn last_granule(&self) -> i64 {
        self.last_granule
    }

    /// Pages parsed so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The next audio packet, `Ok(None)` when more input is needed.
    #[must_use = "packets must be drained until Ok(None)"]
    pub fn poll_packet(&mut self) -> Result<Option<OpusPacket>> {
        loop {
            if let Some(p) = self.ready.pop_front() {
                return Ok(Some(p));
            }
            if !self.read_page()? {
                return Ok(None);
            }
        }
    }

    /// Declares the end of input: fails if a page or packet was cut off.
    pub fn finish(&self) -> Result<()> {
        if !self.buf.is_empty() {
            let need = PageHeader::parse(&self.buf, self.offset)?.map_or(HEADER_LEN, |h| h.len());
            return Err(Error::Truncated { expected: need, actual: self.buf.len() });
        }
        if !self.partial.is_empty() {
            return Err(Error::Truncated {
                expected: self.partial.len() + 1,
                actual: self.partial.len(),
            });
        }
        if self.head.is_none() {
            return Err(Error::Opus { reason: "no OpusHead in stream" });
        }
        Ok(())
    }

    /// Parses one page if complete. Returns whether a page was consumed.
    fn read_page(&mut self) -> Result<bool> {
        let Some(h) = PageHeader::parse(&self.buf, self.offset)? else { return Ok(false) };
        let len = h.len();
        debug_assert!(len <= MAX_PAGE);
        if self.buf.len() < len {
            return Ok(false);
        }
        let page = self.buf.split_to(len).freeze();
        self.offset += len as u64;
        self.pages += 1;
        if self.verify_crc {
            let actual = crc32(&page);
            if actual != h.crc {
                return Err(Error::OggCrc { expected: h.crc, actual });
            }
        }
        self.handle_page(&h, &page)?;
        Ok(true)
    }

    fn handle_page(&mut self, h: &PageHeader, page: &Bytes) -> Result<()> {
        if h.flags & FLAG_BOS != 0 && matches!(self.state, State::Head | State::Ended) {
            self.serial = Some(h.serial);
            self.state = State::Head;
            self.partial.clear();
        }
        if self.serial != Some(h.serial) || self.state == State::Ended {
            return Ok(()); // another logical stream (or trailing data after EOS): not ours
        }
        let table = page.get(HEADER_LEN..HEADER_LEN + h.segments).unwrap_or_default();
        let mut start = HEADER_LEN + h.segments;
        let mut end = start;
        let continued = h.flags & FLAG_CONTINUED != 0;
        if !continued {
            // A packet left open by the previous page was lost with a missing page.
            self.partial.clear();
        }
        let mut first = true;
        for &lace in table {
            end += usize::from(lace);
            if lace == 255 {
                continue;
            }
            let slice = page.slice(start..end);
            let packet = if first && continued && !self.partial.is_empty() {
                self.partial.extend_from_slice(&slice);
                Bytes::from(std::mem::take(&mut self.partial))
            } else {
                slice
            };
            first = false;
            self.handle_packet(packet)?;
            start = end;
        }
        if start < end || table.last() == Some(&255) {
            // Packet continues on the next page.
            self.partial.extend_from_slice(page.get(start..end).unwrap_or_default());
        }
        if h.granule >= 0 {
            self.last_granule = h.granule;
        }
        if h.flags & FLAG_EOS != 0 {
            self.state = State::Ended;
        }
        Ok(())
    }

    fn handle_packet(&mut self, packet: Bytes) -> Result<()> {
        match self.state {
            State::Head => {
                self.head = Some(OpusHead::parse(&packet)?);
                self.state = State::Tags;
            }
            State::Tags => {
                if packet.get(..8) != Some(b"OpusTags") {
                    return Err(Error::Opus { reason: "second packet is not OpusTags" });
                }
                self.state = State::Audio;
            }
            State::Audio => {
                let samples = packet_samples(&packet)?;
                self.ready.push_back(OpusPacket { data: packet, samples });
            }
            State::Ended => {}
        }
        Ok(())
    }
}

/// Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, no final XOR, computed
/// over the page with the CRC field taken as zero.
pub fn crc32(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for (i, &b) in page.iter().enumerate() {
        let b = if (22..26).contains(&i) { 0 } else { b };
        crc = (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ b)];
    }
    crc
}

static CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut j = 0;
        while j < 8 {
            r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04c1_1db7 } else { r << 1 };
            j += 1;
        }
        t[i] = r;
        i += 1;
    }
    t
};

/// Writes one Ogg page holding `packets` (each must be under 255 * 255 bytes in total); used
/// by tests, benches and fuzz seeds to build streams.
pub fn write_page(
    out: &mut Vec<u8>,
    flags: u8,
    granule: i64,
    serial: u32,
    seq: u32,
    packets: &[&[u8]],
) {
    let start = out.len();
    out.extend_from_slice(b"OggS");
    out.push(0);
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let mut lacing = Vec::new();
    for p in packets {
        let mut n = p.len();
        while n >= 255 {
            lacing.push(255u8);
            n -= 255;
        }
        lacing.push(n as u8);
    }
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    for p in packets {
        out.extend_from_slice(p);
    }
    let crc = crc32(out.get(start..).unwrap_or_default());
    if let Some(f) = out.get_mut(start + 22..start + 26) {
        f.copy_from_slice(&crc.to_le_bytes());
    }
}

/// An `OpusHead` packet for `channels` with `pre_skip` (for tests and fuzz seeds).
pub fn opus_head(channels: u8, pre_skip: u16) -> Vec<u8> {
    let mut v = b"OpusHead".to_vec();
    v.push(1);
    v.push(channels);
    v.extend_from_slice(&pre_skip.to_le_bytes());
    v.extend_from_slice(&48_000u32.to_le_bytes());
    v.extend_from_slice(&0i16.to_le_bytes());
    v.push(0);
    v
}

/// Page flags for [`write_page`].
pub mod flags {
    /// The page continues a packet from the previous page.
    pub const CONTINUED: u8 = super::FLAG_CONTINUED;
    /// First page of a logical stream.
    pub const BOS: u8 = super::FLAG_BOS;
    /// Last page of a logical stream.
    pub const EOS: u8 = super::FLAG_EOS;
}

/// Splits a multiplexed Ogg stream (several logical streams, as FFmpeg writes when it encodes
/// several inputs into one output) into whole pages, each tagged with its logical stream's
/// index: the order of its beginning-of-stream page, which RFC 3533 requires before any data
/// page. Used to route each stream's pages to its own [`OggOpusDemuxer`]. At most
/// [`OggPageSplitter::MAX_STREAMS`] logical streams are followed; the input buffer holds at most
/// one page beyond what was pushed last.
///
/// ```
/// use voxwire_ffmpeg::ogg::{OggPageSplitter, flags, write_page};
/// let mut bytes = Vec::new();
/// write_page(&mut bytes, flags::BOS, 0, 7, 0, &[b"first"]);
/// write_page(&mut bytes, flags::BOS, 0, 9, 0, &[b"second"]);
/// write_page(&mut bytes, 0, 960, 7, 1, &[b"more of the first"]);
/// let mut split = OggPageSplitter::default();
/// split.push(&bytes);
/// let mut streams = Vec::new();
/// while let Some((stream, _page)) = split.poll_page()? {
///     streams.push(stream);
/// }
/// assert_eq!(streams, [0, 1, 0]);
/// # Ok::<(), voxwire_ffmpeg::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct OggPageSplitter {
    buf: BytesMut,
    offset: u64,
    serials: Vec<u32>,
}

impl OggPageSplitter {
    /// The most logical streams one splitter follows (FFmpeg writes one per input it encodes).
    pub const MAX_STREAMS: usize = 256;

    /// Appends input bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole page and the index of its logical stream; `Ok(None)` when more input is
    /// needed. A page of a serial number never introduced by a BOS page is skipped.
    ///
    /// # Errors
    ///
    /// A malformed page header ([`Error::OggCapture`], [`Error::OggVersion`]), or a
    /// beginning-of-stream page past [`OggPageSplitter::MAX_STREAMS`] ([`Error::OggStreams`]).
    pub fn poll_page(&mut self) -> Result<Option<(usize, Bytes)>> {
        loop {
            let Some(h) = PageHeader::parse(&self.buf, self.offset)? else { return Ok(None) };
            let len = h.len();
            if self.buf.len() < len {
                return Ok(None);
            }
            let page = self.buf.split_to(len).freeze();
            self.offset += len as u64;
            if h.flags & FLAG_BOS != 0 && !self.serials.contains(&h.serial) {
                if self.serials.len() == Self::MAX_STREAMS {
                    return Err(Error::OggStreams { max: Self::MAX_STREAMS });
                }
                self.serials.push(h.serial);
            }
            if let Some(i) = self.serials.iter().position(|&s| s == h.serial) {
                return Ok(Some((i, page)));
            }
        }
    }

    /// Bytes left that do not form a whole page.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn stream(packets: &[Vec<u8>], per_page: usize) -> Vec<u8> {
        let mut out = Vec::new();
        write_page(&mut out, flags::BOS, 0, 7, 0, &[&opus_head(2, 312)]);
        write_page(&mut out, 0, 0, 7, 1, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
        let chunks: Vec<_> = packets.chunks(per_page.max(1)).collect();
        for (i, c) in chunks.iter().enumerate() {
            let refs: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            let f = if i + 1 == chunks.len() { flags::EOS } else { 0 };
            let i = u32::try_from(i).unwrap();
            write_page(&mut out, f, 960 * (i64::from(i) + 1), 7, 2 + i, &refs);
        }
        out
    }

    fn drain(d: &mut OggOpusDemuxer) -> Vec<OpusPacket> {
        let mut v = Vec::new();
        while let Some(p) = d.poll_packet().unwrap() {
            v.push(p);
        }
        v
    }

    #[test]
    fn splitter_follows_at_most_max_streams() {
        let mut bytes = Vec::new();
        for serial in 0..=u32::try_from(OggPageSplitter::MAX_STREAMS).unwrap() {
            write_page(&mut bytes, flags::BOS, 0, serial, 0, &[b"x"]);
        }
        let mut split = OggPageSplitter::default();
        split.push(&bytes);
        for i in 0..OggPageSplitter::MAX_STREAMS {
            assert_eq!(split.poll_page().unwrap().map(|(s, _)| s), Some(i));
        }
        assert!(matches!(split.poll_page(), Err(Error::OggStreams { max: 256 })));
    }

    #[test]
    fn splitter_routes_interleaved_streams_by_bos_order() {
        // Two logical streams (serials 9 and 4, BOS pages in that order), pages interleaved and
        // fed one byte at a time.
        let mut a = Vec::new();
        write_page(&mut a, flags::BOS, 0, 9, 0, &[&opus_head(2, 312)]);
        write_page(&mut a, flags::BOS, 0, 4, 0, &[&opus_head(1, 312)]);
        write_page(&mut a, 0, 0, 9, 1, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
        write_page(&mut a, 0, 0, 4, 1, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
        write_page(&mut a, 0, 960, 4, 2, &[&[0xfc, 1]]);
        write_page(&mut a, 0, 0, 77, 0, &[&[0xfc, 9]]); // never introduced: skipped
        write_page(&mut a, flags::EOS, 1920, 9, 2, &[&[0xfc, 2], &[0xfc, 3]]);
        let mut split = OggPageSplitter::default();
        let mut demux = [OggOpusDemuxer::new(), OggOpusDemuxer::new()];
        let mut got: [Vec<OpusPacket>; 2] = [Vec::new(), Vec::new()];
        for b in &a {
            split.push(std::slice::from_ref(b));
            while let Some((i, page)) = split.poll_page().unwrap() {
                demux[i].push(&page);
                got[i].extend(drain(&mut demux[i]));
            }
        }
        assert_eq!(split.pending(), 0);
        let data = |v: &[OpusPacket]| v.iter().map(|p| p.data.to_vec()).collect::<Vec<_>>();
        assert_eq!(data(&got[0]), vec![vec![0xfc, 2], vec![0xfc, 3]]);
        assert_eq!(data(&got[1]), vec![vec![0xfc, 1]]);
        assert_eq!(demux[0].head().unwrap().channels, 2);
        assert_eq!(demux[1].head().unwrap().channels, 1);
    }

    #[test]
    fn toc_durations() {
        assert_eq!(packet_samples(&[0xfc]).unwrap(), 960); // CELT FB 20 ms, code 0
        assert_eq!(packet_samples(&[0x0b << 3]).unwrap(), 2880); // SILK 60 ms
        assert_eq!(packet_samples(&[(16 << 3) | 1]).unwrap(), 240); // CELT 2.5 ms x2
        assert_eq!(packet_samples(&[0xfb, 3]).unwrap(), 2880); // code 3, 3 frames of 20 ms
        assert!(packet_samples(&[0xfb, 7]).is_err()); // 140 ms
        assert!(packet_samples(&[0xfb, 0]).is_err());
        assert!(packet_samples(&[0xfb]).is_err());
        assert!(packet_samples(&[]).is_err());
    }

    #[test]
    fn crc_of_known_page() {
        // A page whose CRC field is filled by write_page must verify.
        let mut out = Vec::new();
        write_page(&mut out, flags::BOS, 0, 1, 0, &[&opus_head(1, 0)]);
        let stored = u32::from_le_bytes(out[22..26].try_into().unwrap());
        assert_eq!(crc32(&out), stored);
        assert_ne!(stored, 0);
    }

    #[test]
    fn corrupted_page_fails_crc() {
        let mut s = stream(&[vec![0xfc, 1, 2, 3]], 1);
        let n = s.len();
        s[n - 1] ^= 0xff;
        let mut d = OggOpusDemuxer::new();
        d.push(&s);
        let err = (0..4).find_map(|_| d.poll_packet().err()).unwrap();
        assert!(matches!(err, Error::OggCrc { .. }), "{err}");
    }

    #[test]
    fn garbage_is_capture_error() {
        let mut d = OggOpusDemuxer::new();
        d.push(&[0u8; 40]);
        assert!(matches!(d.poll_packet(), Err(Error::OggCapture { offset: 0 })));
    }

    #[test]
    fn packets_spanning_pages() {
        let big = {
            let mut v = vec![0xfc];
            v.extend(std::iter::repeat_n(9u8, 600));
            v
        };
        let mut out = Vec::new();
        write_page(&mut out, flags::BOS, 0, 7, 0, &[&opus_head(2, 312)]);
        write_page(&mut out, 0, 0, 7, 1, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
        // Split `big` by hand: first 510 bytes with lacing 255,255 (open), rest on next page.
        let mut p = Vec::new();
        p.extend_from_slice(b"OggS\0\0");
        p.extend_from_slice(&0i64.to_le_bytes());
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(&2u32.to_le_bytes());
        p.extend_from_slice(&[0; 4]);
        p.push(2);
        p.extend_from_slice(&[255, 255]);
        p.extend_from_slice(&big[..510]);
        let c = crc32(&p);
        p[22..26].copy_from_slice(&c.to_le_bytes());
        out.extend_from_slice(&p);
        let mut q = Vec::new();
        q.extend_from_slice(b"OggS\0");
        q.push(flags::CONTINUED | flags::EOS);
        q.extend_from_slice(&960i64.to_le_bytes());
        q.extend_from_slice(&7u32.to_le_bytes());
        q.extend_from_slice(&3u32.to_le_bytes());
        q.extend_from_slice(&[0; 4]);
        q.push(1);
        q.push(91);
        q.extend_from_slice(&big[510..]);
        let c = crc32(&q);
        q[22..26].copy_from_slice(&c.to_le_bytes());
        out.extend_from_slice(&q);
        let mut d = OggOpusDemuxer::new();
        d.push(&out);
        let got = drain(&mut d);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data.as_ref(), big.as_slice());
        d.finish().unwrap();
        assert_eq!(d.last_granule(), 960);
    }

    #[test]
    fn truncated_stream_is_reported() {
        let s = stream(&[vec![0xfc; 10], vec![0xfc; 20]], 1);
        let mut d = OggOpusDemuxer::new();
        d.push(&s[..s.len() - 3]);
        let got = drain(&mut d);
        assert_eq!(got.len(), 1);
        assert!(matches!(d.finish(), Err(Error::Truncated { .. })));
    }

    #[test]
    fn demuxes_ffmpeg_output() {
        // `ffmpeg -f lavfi -i sine=f=440:d=0.2 -ac 2 -c:a libopus -b:a 32k -f ogg`
        let file = include_bytes!("../tests/data/sine_440hz_200ms.opus.ogg");
        let mut d = OggOpusDemuxer::new();
        d.push(file);
        let got = drain(&mut d);
        d.finish().unwrap();
        let head = d.head().unwrap();
        assert_eq!((head.channels, head.pre_skip), (2, 312));
        assert_eq!(got.len(), 11); // ceil((9600 + 312) / 960)
        assert!(got.iter().all(|p| p.samples == FRAME_SAMPLES));
        assert_eq!(d.last_granule(), 9600 + 312);
    }

    proptest! {
        #[test]
        fn round_trip_in_any_chunking(
            sizes in proptest::collection::vec(1usize..700, 0..40),
            per_page in 1usize..8,
            cut in 1usize..300,
        ) {
            let packets: Vec<Vec<u8>> = sizes.iter().enumerate()
                .map(|(i, &n)| { let mut v = vec![0xfc]; v.extend(std::iter::repeat_n(i as u8, n - 1)); v })
                .collect();
            let s = stream(&packets, per_page);
            let mut d = OggOpusDemuxer::new();
            let mut got = Vec::new();
            for chunk in s.chunks(cut) {
                d.push(chunk);
                got.extend(drain(&mut d));
            }
            d.finish().unwrap();
            prop_assert_eq!(d.head().unwrap().pre_skip, 312);
            prop_assert_eq!(got.len(), packets.len());
            for (g, p) in got.iter().zip(&packets) {
                prop_assert_eq!(g.data.as_ref(), p.as_slice());
                prop_assert_eq!(g.samples, 960);
            }
        }

        #[test]
        fn splitter_separates_interleaved_streams_in_any_chunking(
            counts in proptest::collection::vec(0usize..30, 1..5),
            serial_base in any::<u32>(),
            cut in 1usize..300,
        ) {
            // Stream k: `counts[k]` one-packet pages of a payload naming (k, i); BOS pages of
            // all streams first, then the rest round-robin, as FFmpeg interleaves them.
            let serial = |k: usize| serial_base.wrapping_add(u32::try_from(k).unwrap() * 7919);
            let mut pages: Vec<Vec<Vec<u8>>> = Vec::new();
            for (k, &n) in counts.iter().enumerate() {
                let mut v = Vec::new();
                let mut head = Vec::new();
                write_page(&mut head, flags::BOS, 0, serial(k), 0, &[&opus_head(2, 312)]);
                v.push(head);
                let mut tags = Vec::new();
                write_page(&mut tags, 0, 0, serial(k), 1, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
                v.push(tags);
                for i in 0..n {
                    let mut page = Vec::new();
                    let g = 960 * (i64::try_from(i).unwrap() + 1);
                    let seq = u32::try_from(i).unwrap() + 2;
                    write_page(&mut page, 0, g, serial(k), seq, &[&[0xfc, k as u8, i as u8]]);
                    v.push(page);
                }
                pages.push(v);
            }
            let mut all = Vec::new();
            for v in &pages {
                all.extend_from_slice(&v[0]);
            }
            let longest = pages.iter().map(Vec::len).max().unwrap_or(0);
            for j in 1..longest {
                for v in &pages {
                    if let Some(p) = v.get(j) {
                        all.extend_from_slice(p);
                    }
                }
            }
            let mut split = OggPageSplitter::default();
            let mut demux: Vec<OggOpusDemuxer> = counts.iter().map(|_| OggOpusDemuxer::new()).collect();
            let mut got: Vec<Vec<OpusPacket>> = counts.iter().map(|_| Vec::new()).collect();
            for chunk in all.chunks(cut) {
                split.push(chunk);
                while let Some((k, page)) = split.poll_page().unwrap() {
                    demux[k].push(&page);
                    got[k].extend(drain(&mut demux[k]));
                }
            }
            prop_assert_eq!(split.pending(), 0);
            for (k, (g, &n)) in got.iter().zip(&counts).enumerate() {
                let want: Vec<Vec<u8>> = (0..n).map(|i| vec![0xfc, k as u8, i as u8]).collect();
                let have: Vec<Vec<u8>> = g.iter().map(|p| p.data.to_vec()).collect();
                prop_assert_eq!(have, want);
            }
        }
    }
}
