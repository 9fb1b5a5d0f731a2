//! DAVE's per-codec frame rules (protocol.md 7.6): which bytes of an encoded frame stay clear,
//! and how H264/H265/AV1 frames are rewritten before encryption so that the receiver's
//! depacketizer reproduces them byte for byte (protocol.md 7.7).
//!
//! The sender calls [`split_frame`] on each encoded frame, encrypts the bytes outside
//! [`DaveFrame::clear_ranges`] with the clear bytes as additional authenticated data, and for
//! H264/H265 checks the finished protocol frame with [`has_start_code_in_encrypted`] (retrying
//! with the next nonce while it returns `true`). Receivers are codec-agnostic: the ranges travel
//! in the protocol frame.
//!
//! # Rules
//!
//! | codec | output bytes | clear |
//! | --- | --- | --- |
//! | VP8 | unchanged | key frame (P bit of byte 0 is 0): bytes 0..10; inter frame: byte 0 |
//! | VP9 | unchanged | nothing |
//! | H264 | every NAL unit preceded by `00 00 00 01` | start codes; slices (types 1, 5): NAL header plus the bytes covering `first_mb_in_slice`, `slice_type`, `pic_parameter_set_id`; other NAL units entirely |
//! | H265 | every NAL unit preceded by `00 00 00 01` | start codes; VCL units (type < 32): the 2-byte NAL header; other NAL units entirely |
//! | AV1 | OBU types 2, 8, 15 removed; `obu_size` re-encoded minimally; the last OBU without `obu_size` (and `obu_has_size_field` cleared) | OBU header, extension byte, `obu_size` |
//!
//! # Fallback: the whole frame encrypted
//!
//! When a frame does not have the structure its codec implies, the output is the input
//! unchanged with no clear range, exactly when:
//!
//! - **VP8**: a key frame (P = 0) shorter than 10 bytes.
//! - **H264/H265**: the frame does not begin with a start code (`00 00 01` or `00 00 00 01`);
//!   a NAL unit is shorter than its header (1 byte H264, 2 bytes H265), which includes two start
//!   codes in a row and a start code at the very end; an H264 slice whose first three
//!   exp-Golomb values do not end inside the NAL unit, or one of them has 32 or more leading
//!   zero bits.
//! - **AV1**: an OBU has the forbidden bit set, its header, extension byte, `obu_size` or
//!   payload runs past the end of the frame, or `obu_size` is longer than 8 bytes or above
//!   2^32 − 1.
//!
//! An empty input frame is an error ([`Error::Empty`]) for every codec.
//!
//! # Deliberate differences from libdave
//!
//! - libdave drops bytes before the first start code and a 1-byte NAL unit at the very end of
//!   an H264/H265 frame; here such frames fall back to whole-frame encryption, because silently
//!   dropping media bytes changes what the receiver decodes.
//! - libdave bounds the H264 slice-header walk by the rest of the frame, not the NAL unit, so
//!   a truncated slice could make its clear range spill into the next unit; here it falls back.
//! - AV1: libdave drops the size field of the last OBU of the *input* frame, even when that
//!   OBU is a padding or tile-list OBU that it then removes, so the last *kept* OBU keeps its
//!   size and the receiver's depacketizer (which omits it) produces different bytes. Here the
//!   last kept OBU loses its size field.
//! - [`has_start_code_in_encrypted`] also reports a start code that ends on the last byte of a
//!   scan window, which libdave's loop bound skips; it can only cause one more retry.

use crate::nal::NalUnits;
use crate::{Codec, Error};

/// The 4-byte start code written before every H264/H265 NAL unit.
pub const LONG_START_CODE: [u8; 4] = [0, 0, 0, 1];

/// One run of bytes that stays unencrypted: `offset..offset + len` in [`DaveFrame::bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClearRange {
    /// Offset of the first clear byte.
    pub offset: usize,
    /// Number of clear bytes (never 0 in a [`DaveFrame`]).
    pub len: usize,
}

impl ClearRange {
    /// One past the last clear byte.
    pub const fn end(self) -> usize {
        self.offset + self.len
    }
}

/// The output of [`split_frame`]: the frame as DAVE encrypts it, and its clear ranges.
///
/// Invariants: the ranges are ascending, non-empty, non-adjacent (consecutive clear bytes are
/// one range) and inside [`Self::bytes`]. Reuse one `DaveFrame` for every frame: its buffers
/// are cleared, not freed, so a steady stream allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaveFrame {
    bytes: Vec<u8>,
    clear: Vec<ClearRange>,
    fallback: bool,
}

impl DaveFrame {
    /// An empty frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty frame with room for `frame_bytes` bytes and `ranges` ranges.
    pub fn with_capacity(frame_bytes: usize, ranges: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(frame_bytes),
            clear: Vec::with_capacity(ranges),
            fallback: false,
        }
    }

    /// The (possibly rewritten) frame: what is encrypted and what the receiver's depacketizer
    /// reproduces.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The clear ranges, ascending and merged.
    pub fn clear_ranges(&self) -> &[ClearRange] {
        &self.clear
    }

    /// `true` when the codec rule did not apply and the whole frame is encrypted unchanged
    /// (see the module docs for when).
    pub const fn is_fallback(&self) -> bool {
        self.fallback
    }

    /// Number of clear bytes.
    pub fn clear_len(&self) -> usize {
        self.clear.iter().map(|r| r.len).sum()
    }

    /// The frame as alternating clear and encrypted segments, in order, none empty.
    pub fn segments(&self) -> Segments<'_> {
        Segments { frame: self, pos: 0, range: 0 }
    }

    /// Empties the frame, keeping its buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.clear.clear();
        self.fallback = false;
    }

    fn push_clear(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let offset = self.bytes.len();
        self.bytes.extend_from_slice(data);
        match self.clear.last_mut() {
            Some(last) if last.end() == offset => last.len += data.len(),
            _ => self.clear.push(ClearRange { offset, len: data.len() }),
        }
    }

    fn push_encrypted(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }

    fn set_fallback(&mut self, frame: &[u8]) {
        self.clear();
        self.bytes.extend_from_slice(frame);
        self.fallback = true;
    }
}

/// A segment of a [`DaveFrame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Bytes that stay clear (and are authenticated as AAD).
    Clear(&'a [u8]),
    /// Bytes that are encrypted.
    Encrypted(&'a [u8]),
}

/// Iterator returned by [`DaveFrame::segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    frame: &'a DaveFrame,
    pos: usize,
    range: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let bytes = self.frame.bytes.as_slice();
        if self.pos >= bytes.len() {
            return None;
        }
        match self.frame.clear.get(self.range) {
            Some(r) if r.offset == self.pos => {
                self.pos = r.end();
                self.range += 1;
                bytes.get(r.offset..r.end()).map(Segment::Clear)
            }
            Some(r) => {
                let s = bytes.get(self.pos..r.offset).map(Segment::Encrypted);
                self.pos = r.offset;
                s
            }
            None => {
                let s = bytes.get(self.pos..).map(Segment::Encrypted);
                self.pos = bytes.len();
                s
            }
        }
    }
}

/// Applies `codec`'s DAVE rule to one encoded `frame`, writing the result into `out` (which is
/// cleared first).
///
/// # Errors
///
/// [`Error::Empty`] for an empty frame. Malformed structure is not an error: it yields the
/// whole-frame fallback (module docs).
pub fn split_frame(codec: Codec, frame: &[u8], out: &mut DaveFrame) -> Result<(), Error> {
    out.clear();
    if frame.is_empty() {
        return Err(Error::Empty { what: "DAVE frame" });
    }
    let ok = match codec {
        Codec::Vp8 => split_vp8(frame, out),
        Codec::Vp9 => {
            out.push_encrypted(frame);
            true
        }
        Codec::H264 | Codec::H265 => split_h26x(codec, frame, out),
        Codec::Av1 => split_av1(frame, out),
    };
    if !ok {
        out.set_fallback(frame);
    }
    Ok(())
}

fn split_vp8(frame: &[u8], out: &mut DaveFrame) -> bool {
    let key_frame = frame.first().is_some_and(|b| b & 0x01 == 0);
    let clear = if key_frame { 10 } else { 1 };
    let Some((head, rest)) = frame.split_at_checked(clear) else {
        return false;
    };
    out.push_clear(head);
    out.push_encrypted(rest);
    true
}

fn split_h26x(codec: Codec, frame: &[u8], out: &mut DaveFrame) -> bool {
    let header_len = if codec == Codec::H264 { 1 } else { 2 };
    let units = NalUnits::new(frame);
    if units.leading() != 0 {
        return false;
    }
    for nal in units {
        if nal.len() < header_len {
            return false;
        }
        out.push_clear(&LONG_START_CODE);
        let clear = if codec == Codec::H264 {
            let nal_type = nal[0] & 0x1F;
            if nal_type == 1 || nal_type == 5 {
                match h264_slice_clear_len(&nal[1..]) {
                    Some(n) if n < nal.len() => 1 + n,
                    _ => return false,
                }
            } else {
                nal.len()
            }
        } else if (nal[0] & 0x7E) >> 1 < 32 {
            2
        } else {
            nal.len()
        };
        let (head, rest) = nal.split_at(clear);
        out.push_clear(head);
        out.push_encrypted(rest);
    }
    true
}

/// Bytes after an H264 slice's NAL header that cover its first three exp-Golomb values
/// (`first_mb_in_slice`, `slice_type`, `pic_parameter_set_id`), counted as libdave counts them:
/// an emulation-prevention byte (`03` after `00 00`, at a byte boundary) is stepped over, and
/// the result is `floor(bit_position_after_third_value / 8) + 1`. `None` when the values do not
/// fit in `payload` or one has 32 or more leading zeros.
fn h264_slice_clear_len(payload: &[u8]) -> Option<usize> {
    let total_bits = payload.len() * 8;
    let mut bit = 0usize;
    let mut zeros = 0usize;
    let mut parsed = 0;
    while bit < total_bits && parsed < 3 {
        let byte_index = bit / 8;
        let bit_index = bit % 8;
        let byte = *payload.get(byte_index)?;
        if bit_index == 0
            && byte_index >= 2
            && byte == 0x03
            && payload.get(byte_index - 2..byte_index) == Some(&[0, 0][..])
        {
            bit += 8;
            continue;
        }
        if byte & (0x80 >> bit_index) == 0 {
            zeros += 1;
            bit += 1;
            if zeros >= 32 {
                return None;
            }
        } else {
            parsed += 1;
            bit += 1 + zeros;
            zeros = 0;
        }
    }
    if parsed < 3 || bit > total_bits {
        return None;
    }
    Some(bit / 8 + 1)
}

/// AV1 OBU types that DAVE and the RTP packetizer drop: temporal delimiter, tile list, padding.
pub(crate) const fn av1_obu_dropped(obu_type: u8) -> bool {
    matches!(obu_type, 2 | 8 | 15)
}

/// One OBU of a frame in low-overhead bitstream format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Obu<'a> {
    /// The header byte as found.
    pub(crate) header: u8,
    /// The extension byte, if `obu_extension_flag` is set.
    pub(crate) extension: Option<u8>,
    /// The payload (after `obu_size`, if any).
    pub(crate) payload: &'a [u8],
}

impl Obu<'_> {
    pub(crate) const fn obu_type(&self) -> u8 {
        (self.header >> 3) & 0x0F
    }
}

/// Reads an unsigned LEB128 of at most 8 bytes whose value fits in 32 bits (AV1 `leb128()`).
/// Returns the value and its length.
pub(crate) fn read_leb128(buf: &[u8]) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in buf.iter().take(8).enumerate() {
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}

/// Length of the minimal LEB128 encoding of `v`.
pub(crate) const fn leb128_len(mut v: u32) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Writes the minimal LEB128 encoding of `v` into `out` and returns its length (at most 5).
pub(crate) fn write_leb128(mut v: u32, out: &mut [u8; 5]) -> usize {
    let mut n = 0;
    for slot in out.iter_mut() {
        n += 1;
        if v < 0x80 {
            *slot = v as u8;
            break;
        }
        *slot = 0x80 | (v & 0x7F) as u8;
        v >>= 7;
    }
    n
}

/// Iterator over the OBUs of a low-overhead bitstream frame; yields `None` (then stops) on
/// malformed structure.
#[derive(Debug, Clone)]
pub(crate) struct Obus<'a> {
    rest: &'a [u8],
}

impl<'a> Obus<'a> {
    pub(crate) const fn new(frame: &'a [u8]) -> Self {
        Self { rest: frame }
    }

    fn parse_one(&mut self) -> Option<Obu<'a>> {
        let (&header, mut rest) = self.rest.split_first()?;
        if header & 0x80 != 0 {
            return None;
        }
        let mut extension = None;
        if header & 0x04 != 0 {
            let (&e, r) = rest.split_first()?;
            extension = Some(e);
            rest = r;
        }
        let payload;
        if header & 0x02 != 0 {
            let (size, n) = read_leb128(rest)?;
            let r = rest.get(n..)?;
            let (p, r) = r.split_at_checked(size as usize)?;
            payload = p;
            rest = r;
        } else {
            payload = rest;
            rest = &[];
        }
        self.rest = rest;
        Some(Obu { header, extension, payload })
    }
}

impl<'a> Iterator for Obus<'a> {
    type Item = Option<Obu<'a>>;

    fn next(&mut self) -> Option<Option<Obu<'a>>> {
        if self.rest.is_empty() {
            return None;
        }
        let obu = self.parse_one();
        if obu.is_none() {
            self.rest = &[];
        }
        Some(obu)
    }
}

fn split_av1(frame: &[u8], out: &mut DaveFrame) -> bool {
    // Pass 1: validate, and count the OBUs that stay.
    let mut kept = 0usize;
    for obu in Obus::new(frame) {
        let Some(obu) = obu else { return false };
        if !av1_obu_dropped(obu.obu_type()) {
            kept += 1;
        }
    }
    // Pass 2: write.
    let mut index = 0usize;
    for obu in Obus::new(frame).flatten() {
        if av1_obu_dropped(obu.obu_type()) {
            continue;
        }
        index += 1;
        let last = index == kept;
        let Ok(size) = u32::try_from(obu.payload.len()) else { return false };
        let header = if last { obu.header & !0x02 } else { obu.header | 0x02 };
        // Only OBUs that had a size field can be non-last; a size-less OBU ends the frame.
        out.push_clear(&[header]);
        if let Some(e) = obu.extension {
            out.push_clear(&[e]);
        }
        if !last {
            let mut leb = [0u8; 5];
            let n = write_leb128(size, &mut leb);
            out.push_clear(&leb[..n]);
        }
        out.push_encrypted(obu.payload);
    }
    true
}

/// `true` when a finished H264/H265 protocol frame must be re-encrypted: `00 00 01` occurs in
/// an encrypted span of `protocol_frame` (the interleaved frame followed by DAVE's supplemental
/// data), scanned as libdave scans it.
///
/// Each encrypted span between clear ranges is scanned widened by 2 bytes into its neighbours;
/// the span after the last clear range is scanned through the end of `protocol_frame`, so the
/// tag, nonce, ranges and trailer are covered. `clear` are the ranges from
/// [`DaveFrame::clear_ranges`]. Ranges that do not fit inside `protocol_frame` also give `true`
/// (the frame must not be sent). Other codecs need no such check.
pub fn has_start_code_in_encrypted(protocol_frame: &[u8], clear: &[ClearRange]) -> bool {
    const PAD: usize = 2;
    let len = protocol_frame.len();
    let mut enc_start = 0usize;
    for r in clear {
        if r.offset < enc_start || r.end() > len {
            return true;
        }
        if r.offset > enc_start {
            let start = enc_start.saturating_sub(PAD);
            let end = (r.offset + PAD).min(len);
            if protocol_frame.get(start..end).is_none_or(crate::nal::contains_start_code) {
                return true;
            }
        }
        enc_start = r.end();
    }
    if enc_start == len {
        return false;
    }
    protocol_frame.get(enc_start.saturating_sub(PAD)..).is_none_or(crate::nal::contains_start_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(codec: Codec, frame: &[u8]) -> DaveFrame {
        let mut out = DaveFrame::new();
        split_frame(codec, frame, &mut out).unwrap();
        out
    }

    fn ranges(f: &DaveFrame) -> Vec<(usize, usize)> {
        f.clear_ranges().iter().map(|r| (r.offset, r.len)).collect()
    }

    #[test]
    fn empty_is_an_error() {
        for c in Codec::ALL {
            assert!(matches!(split_frame(c, &[], &mut DaveFrame::new()), Err(Error::Empty { .. })));
        }
    }

    #[test]
    fn vp8_key_and_inter() {
        let key: Vec<u8> = (0..20u8).map(|i| i << 1).collect(); // byte 0 = 0: P = 0
        let f = split(Codec::Vp8, &key);
        assert_eq!(f.bytes(), &key[..]);
        assert_eq!(ranges(&f), [(0, 10)]);
        let inter = [0x01, 9, 9, 9];
        let f = split(Codec::Vp8, &inter);
        assert_eq!(ranges(&f), [(0, 1)]);
        assert!(!f.is_fallback());
        // A key frame shorter than 10 bytes: everything encrypted.
        let f = split(Codec::Vp8, &[0x10, 1, 2]);
        assert!(f.is_fallback() && f.clear_ranges().is_empty());
        assert_eq!(f.bytes(), [0x10, 1, 2]);
        // Exactly 10 bytes: all clear.
        assert_eq!(ranges(&split(Codec::Vp8, &[0u8; 10])), [(0, 10)]);
    }

    #[test]
    fn vp9_all_encrypted() {
        let f = split(Codec::Vp9, &[0x82, 0x49, 0x83]);
        assert_eq!(f.bytes(), [0x82, 0x49, 0x83]);
        assert!(f.clear_ranges().is_empty() && !f.is_fallback());
        assert_eq!(f.segments().collect::<Vec<_>>(), [Segment::Encrypted(&[0x82, 0x49, 0x83])]);
    }

    #[test]
    fn h264_start_codes_become_long_and_non_slices_stay_clear() {
        // SPS (3-byte code), PPS (4-byte code), IDR slice (3-byte code).
        // IDR payload: first_mb=0 ('1'), slice_type=7 ('0001000'), pps_id=0 ('1') -> 9 bits,
        // then data. bits: 1 0001000 1 -> 0b1000_1000, 0b1xxx_xxxx.
        let frame = [
            0, 0, 1, 0x67, 0x42, 0x00, 0x1F, // SPS
            0, 0, 0, 1, 0x68, 0xCE, 0x38, // PPS
            0, 0, 1, 0x65, 0x88, 0x84, 0xAA, 0xBB, 0xCC, // IDR
        ];
        let f = split(Codec::H264, &frame);
        let expected = [
            0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1F, 0, 0, 0, 1, 0x68, 0xCE, 0x38, 0, 0, 0, 1, 0x65,
            0x88, 0x84, 0xAA, 0xBB, 0xCC,
        ];
        assert_eq!(f.bytes(), expected);
        // After the third value the bit position is 9 -> 9/8+1 = 2 bytes after the header.
        assert_eq!(ranges(&f), [(0, 22)]);
        assert_eq!(f.segments().count(), 2);
    }

    #[test]
    fn h264_slice_header_walk() {
        // Non-IDR slice: first_mb = 3 ('00100'), slice_type = 0 ('1'), pps_id = 1 ('010')
        // bits: 00100 1 01 | 0 ... -> 0b0010_0101, 0b0xxx_xxxx: position after = 9 -> 2 bytes.
        assert_eq!(h264_slice_clear_len(&[0x25, 0x00, 0xFF]), Some(2));
        // Values ending exactly at a byte boundary still take one more byte: '1' '1' '010 0 0 ..'
        // first=0 '1', type=0 '1', pps=0 '1' -> 3 bits -> 1 byte.
        assert_eq!(h264_slice_clear_len(&[0xE0]), Some(1));
        // Emulation prevention: 00 00 03 is stepped over; first_mb has 16+ leading zeros.
        // bits: 0000_0000 0000_0000 [03 skipped] 0000_0001 0000_0000 0000_0000 0 -> long value.
        let p = [0x00, 0x00, 0x03, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0];
        // 23 zeros (bytes 0,1,3 minus the final 1 bit), then '1' + 23 value bits.
        let got = h264_slice_clear_len(&p).unwrap();
        // Leading zeros: 16 (bytes 0-1) + 7 (byte 3) = 23; the '1' is bit 7 of byte 3 (index 31
        // counting the skipped byte), then 23 value bits -> bit 55, then two '1' values: 57.
        assert_eq!(got, 57 / 8 + 1);
        // Truncated: fewer than three values.
        assert_eq!(h264_slice_clear_len(&[0x00]), None);
        assert_eq!(h264_slice_clear_len(&[0x80]), None);
        // 32 leading zeros.
        assert_eq!(h264_slice_clear_len(&[0, 0, 0, 0, 0xFF]), None);
    }

    #[test]
    fn h264_fallbacks() {
        for frame in [
            &[9, 0, 0, 1, 0x67, 1][..],       // bytes before the first start code
            &[0, 0, 1, 0x67, 1, 0, 0, 1][..], // start code at the very end
            &[0, 0, 1, 0, 0, 1, 0x67][..],    // empty NAL unit
            &[0, 0, 1, 0x65, 0x00][..],       // slice header truncated
            &[0x12, 0x34, 0x56, 0x78][..],    // no start code
        ] {
            let f = split(Codec::H264, frame);
            assert!(f.is_fallback(), "{frame:?}");
            assert_eq!(f.bytes(), frame);
            assert!(f.clear_ranges().is_empty());
        }
    }

    #[test]
    fn h265_vcl_header_only() {
        let frame = [
            0, 0, 0, 1, 0x40, 0x01, 0x0C, 0x01, // VPS (type 32): clear
            0, 0, 1, 0x26, 0x01, 0xAF, 0x00, 0x11, // IDR_W_RADL (type 19): header clear
            0, 0, 1, 0x02, 0x01, 0xD0, // TRAIL_R (type 1)
        ];
        let f = split(Codec::H265, &frame);
        let mut expected = frame[..8].to_vec();
        expected.extend_from_slice(&[
            0, 0, 0, 1, 0x26, 0x01, 0xAF, 0x00, 0x11, 0, 0, 0, 1, 0x02, 0x01, 0xD0,
        ]);
        assert_eq!(f.bytes(), expected);
        assert_eq!(ranges(&f), [(0, 14), (17, 6)]);
        // A 1-byte NAL unit is not H265.
        assert!(split(Codec::H265, &[0, 0, 1, 0x26, 0, 0, 1, 0x02, 0x01]).is_fallback());
    }

    #[test]
    fn av1_drops_and_rewrites() {
        let frame = [
            0x12, 0x00, // temporal delimiter, size 0: dropped
            0x0A, 0x83, 0x00, 0xAA, 0xBB, 0xCC, // sequence header, size 3 padded to 2 bytes
            0x7A, 0x01, 0xEE, // padding OBU: dropped
            0x36, 0x05, 0x02, 0x11, 0x22, // frame OBU with extension byte 0x05, size 2
            0x7A, 0x00, // padding at the very end: dropped
        ];
        let f = split(Codec::Av1, &frame);
        // Sequence header keeps a minimal size; the last kept OBU loses size and has_size bit.
        assert_eq!(f.bytes(), [0x0A, 0x03, 0xAA, 0xBB, 0xCC, 0x34, 0x05, 0x11, 0x22]);
        assert_eq!(ranges(&f), [(0, 2), (5, 2)]);
        assert!(!f.is_fallback());
    }

    #[test]
    fn av1_last_obu_without_size_and_single_obu() {
        // A frame whose last OBU already has no size field.
        let f = split(Codec::Av1, &[0x32, 0x01, 0x99, 0x30, 0x55, 0x66]);
        assert_eq!(f.bytes(), [0x32, 0x01, 0x99, 0x30, 0x55, 0x66]);
        assert_eq!(ranges(&f), [(0, 2), (3, 1)]);
        // Only a temporal delimiter: nothing left.
        let f = split(Codec::Av1, &[0x12, 0x00]);
        assert!(f.bytes().is_empty() && !f.is_fallback());
    }

    #[test]
    fn av1_fallbacks() {
        for frame in [
            &[0x32, 0x05, 0x01][..], // payload past the end
            &[0x36][..],             // extension byte missing
            &[0x32, 0x80][..],       // obu_size unterminated
            &[0xB2, 0x00][..],       // forbidden bit
            &[0x32, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00][..], // 9-byte leb128
            &[0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0x10][..], // above 2^32 - 1
        ] {
            let f = split(Codec::Av1, frame);
            assert!(f.is_fallback(), "{frame:?}");
            assert_eq!(f.bytes(), frame);
        }
    }

    #[test]
    fn reuse_does_not_reallocate() {
        let mut out = DaveFrame::with_capacity(64, 8);
        let frame = [0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x65, 0x88, 0x84, 0xAA];
        split_frame(Codec::H264, &frame, &mut out).unwrap();
        let ptr = out.bytes().as_ptr();
        for _ in 0..10 {
            split_frame(Codec::H264, &frame, &mut out).unwrap();
        }
        assert_eq!(out.bytes().as_ptr(), ptr);
        split_frame(Codec::Vp8, &[1, 2], &mut out).unwrap();
        assert_eq!(out.bytes(), [1, 2]);
        assert_eq!(ranges(&out), [(0, 1)]);
    }

    #[test]
    fn leb128_round_trip() {
        for v in [0u32, 1, 127, 128, 16_383, 16_384, u32::MAX] {
            let mut b = [0u8; 5];
            let n = write_leb128(v, &mut b);
            assert_eq!(n, leb128_len(v));
            assert_eq!(read_leb128(&b[..n]), Some((v, n)));
        }
        // Padded encodings are read.
        assert_eq!(read_leb128(&[0x81, 0x80, 0x00]), Some((1, 3)));
    }

    #[test]
    fn start_code_check() {
        let clear = [ClearRange { offset: 0, len: 5 }, ClearRange { offset: 8, len: 5 }];
        //            clear------------  enc---------  clear-----------------  enc + trailer
        let ok = [0, 0, 0, 1, 0x65, 7, 7, 7, 0, 0, 0, 1, 0x41, 9, 9, 0xFA, 0xFA];
        assert!(!has_start_code_in_encrypted(&ok, &clear));
        // 00 00 01 inside the first encrypted span.
        let mut bad = ok;
        bad[5..8].copy_from_slice(&[0, 0, 1]);
        assert!(has_start_code_in_encrypted(&bad, &clear));
        // Straddling into the clear range before it: the last clear byte 0x65 -> 00, then 00 01.
        let mut bad = ok;
        bad[4] = 0;
        bad[5..7].copy_from_slice(&[0, 1]);
        assert!(has_start_code_in_encrypted(&bad, &clear));
        // In the trailing span (supplemental data).
        let mut bad = ok;
        bad[13..16].copy_from_slice(&[0, 0, 1]);
        assert!(has_start_code_in_encrypted(&bad, &clear));
        // In a clear range, beyond the 2-byte widening: allowed.
        let mut fine = ok;
        fine[0..3].copy_from_slice(&[0, 0, 1]);
        assert!(!has_start_code_in_encrypted(&fine, &clear));
        // Ranges outside the frame.
        assert!(has_start_code_in_encrypted(&ok[..4], &clear));
        // No ranges: the whole frame is one span.
        assert!(has_start_code_in_encrypted(&[5, 0, 0, 1], &[]));
        assert!(!has_start_code_in_encrypted(&[5, 0, 0, 2], &[]));
    }
}
