//! VP9 payload format (RFC 9628).
//!
//! The packetizer uses non-flexible mode with a 15-bit picture ID and no layer indices (one
//! spatial and temporal layer), `P` from the frame type, `B`/`E` on the first/last packet, and
//! on the first packet of a key frame the scalability structure Discord senders use (one
//! spatial layer with its resolution, one picture group entry: TID 0, U=1, one reference at
//! `P_DIFF` 1).
//!
//! DAVE encrypts the whole VP9 frame, so the sender reads the frame type and size from the
//! plaintext ([`Vp9FrameInfo::parse`]) before encryption and passes them to
//! [`Vp9Packetizer::packetize_with_info`].

use crate::payload::{
    Depacketize, DepacketizerConfig, Frame, FrameBuf, PacketizerConfig, Packets, Payload,
    even_fragment, write_parts,
};
use crate::{Codec, Error};

/// What the VP9 packetizer needs from the plaintext frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp9FrameInfo {
    /// The frame is a key frame (not inter-predicted).
    pub keyframe: bool,
    /// Frame width and height, known for key frames.
    pub size: Option<(u16, u16)>,
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }
}

impl Vp9FrameInfo {
    /// Reads the frame type and, for key frames, the frame size from the uncompressed header of
    /// a plaintext VP9 frame (the first frame of a superframe). `None` when the header is not
    /// VP9.
    pub fn parse(frame: &[u8]) -> Option<Self> {
        let mut b = Bits { data: frame, pos: 0 };
        if b.read(2)? != 2 {
            return None;
        }
        let low = b.read(1)?;
        let high = b.read(1)?;
        let profile = (high << 1) | low;
        if profile == 3 {
            b.read(1)?;
        }
        if b.read(1)? == 1 {
            // show_existing_frame: no new frame is coded.
            return Some(Self { keyframe: false, size: None });
        }
        let frame_type = b.read(1)?;
        b.read(2)?; // show_frame, error_resilient_mode
        if frame_type != 0 {
            return Some(Self { keyframe: false, size: None });
        }
        if b.read(24)? != 0x49_83_42 {
            return None;
        }
        if profile >= 2 {
            b.read(1)?; // ten_or_twelve_bit
        }
        let color_space = b.read(3)?;
        if color_space != 7 {
            b.read(1)?; // color_range
            if profile == 1 || profile == 3 {
                b.read(3)?; // subsampling_x, subsampling_y, reserved_zero
            }
        } else if profile == 1 || profile == 3 {
            b.read(1)?; // reserved_zero
        }
        let w = b.read(16)? + 1;
        let h = b.read(16)? + 1;
        Some(Self { keyframe: true, size: u16::try_from(w).ok().zip(u16::try_from(h).ok()) })
    }
}

/// `true` when the plaintext VP9 frame is a key frame.
pub fn is_keyframe(frame: &[u8]) -> bool {
    Vp9FrameInfo::parse(frame).is_some_and(|i| i.keyframe)
}

/// VP9 packetizer.
#[derive(Debug, Clone)]
pub struct Vp9Packetizer {
    mtu: usize,
    picture_id: u16,
}

impl Vp9Packetizer {
    /// A packetizer.
    pub fn new(config: PacketizerConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self { mtu: config.mtu, picture_id: config.initial_picture_id & 0x7FFF })
    }

    /// Starts packetizing a **plaintext** frame, reading its type and size from it.
    ///
    /// # Errors
    ///
    /// [`Error::Malformed`] when the frame has no VP9 uncompressed header.
    pub fn packetize<'a>(&mut self, frame: &'a [u8]) -> Result<Vp9Packets<'a>, Error> {
        let info = Vp9FrameInfo::parse(frame)
            .ok_or(Error::Malformed { codec: Codec::Vp9, reason: "no uncompressed header" })?;
        self.packetize_with_info(frame, info)
    }

    /// Starts packetizing a frame (plaintext or DAVE-encrypted) described by `info`.
    pub fn packetize_with_info<'a>(
        &mut self,
        frame: &'a [u8],
        info: Vp9FrameInfo,
    ) -> Result<Vp9Packets<'a>, Error> {
        if frame.is_empty() {
            return Err(Error::Empty { what: "VP9 frame" });
        }
        let picture_id = self.picture_id;
        self.picture_id = (self.picture_id + 1) & 0x7FFF;
        let ss = if info.keyframe { info.size } else { None };
        let ss_len = if ss.is_some() { 8 } else { 0 };
        let count = (frame.len() + ss_len).div_ceil(self.mtu - 3);
        Ok(Vp9Packets {
            frame,
            mtu: self.mtu,
            picture_id,
            keyframe: info.keyframe,
            ss,
            index: 0,
            count,
        })
    }
}

/// The packets of one VP9 frame; see [`Packets`].
#[derive(Debug)]
pub struct Vp9Packets<'a> {
    frame: &'a [u8],
    mtu: usize,
    picture_id: u16,
    keyframe: bool,
    ss: Option<(u16, u16)>,
    index: usize,
    count: usize,
}

impl Packets for Vp9Packets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Option<Result<Payload, Error>> {
        if self.index >= self.count {
            return None;
        }
        let first = self.index == 0;
        let last = self.index + 1 == self.count;
        let ss_len = if self.ss.is_some() { 8 } else { 0 };
        let (mut start, mut size) =
            even_fragment(self.frame.len() + ss_len, self.count, self.index);
        if first {
            size -= ss_len;
        } else {
            start -= ss_len;
        }
        let mut desc = [0u8; 11];
        desc[0] = 0x80
            | if self.keyframe { 0 } else { 0x40 }
            | if first { 0x08 } else { 0 }
            | if last { 0x04 } else { 0 };
        let [hi, lo] = self.picture_id.to_be_bytes();
        desc[1] = 0x80 | hi;
        desc[2] = lo;
        let mut desc_len = 3;
        if let (true, Some((w, h))) = (first, self.ss) {
            desc[0] |= 0x02;
            let [w0, w1] = w.to_be_bytes();
            let [h0, h1] = h.to_be_bytes();
            desc[3..11].copy_from_slice(&[0x18, w0, w1, h0, h1, 0x01, 0x14, 0x01]);
            desc_len = 11;
        }
        let body = self.frame.get(start..start + size).unwrap_or_default();
        Some(write_parts(out, &[&desc[..desc_len], body]).map(|len| {
            self.index += 1;
            Payload { len, marker: last }
        }))
    }

    fn max_payload_size(&self) -> usize {
        self.mtu
    }
}

/// The fields of a VP9 payload descriptor that a receiver acts on.
#[expect(clippy::struct_excessive_bools, reason = "one field per descriptor flag bit")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp9Descriptor {
    /// P: inter-picture predicted.
    pub inter_predicted: bool,
    /// F: flexible mode.
    pub flexible: bool,
    /// B: start of a layer frame.
    pub begin: bool,
    /// E: end of a layer frame.
    pub end: bool,
    /// Z: not used for inter-layer prediction.
    pub z: bool,
    /// `PictureID` (7 or 15 bits), if present.
    pub picture_id: Option<u16>,
    /// (TID, U, SID, D) if layer indices are present.
    pub layer: Option<(u8, bool, u8, bool)>,
    /// TL0PICIDX (non-flexible mode with layer indices).
    pub tl0_pic_idx: Option<u8>,
    /// Resolutions from the scalability structure, if present, per spatial layer (up to 8).
    pub ss_first_size: Option<(u16, u16)>,
    /// Length of the descriptor in bytes.
    pub len: usize,
}

impl Vp9Descriptor {
    /// Parses the descriptor at the start of `payload`, including a scalability structure.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], Error> {
            let s = payload.get(at..at + n).ok_or(Error::Truncated {
                what: "VP9 payload descriptor",
                expected: at + n,
                actual: payload.len(),
            })?;
            at += n;
            Ok(s)
        };
        let b0 = take(1)?[0];
        let mut d = Self {
            inter_predicted: b0 & 0x40 != 0,
            flexible: b0 & 0x10 != 0,
            begin: b0 & 0x08 != 0,
            end: b0 & 0x04 != 0,
            z: b0 & 0x01 != 0,
            ..Self::default()
        };
        if b0 & 0x80 != 0 {
            let p0 = take(1)?[0];
            d.picture_id = Some(if p0 & 0x80 != 0 {
                u16::from_be_bytes([p0 & 0x7F, take(1)?[0]])
            } else {
                u16::from(p0)
            });
        }
        if b0 & 0x20 != 0 {
            let l = take(1)?[0];
            d.layer = Some((l >> 5, l & 0x10 != 0, (l >> 1) & 0x07, l & 0x01 != 0));
            if !d.flexible {
                d.tl0_pic_idx = Some(take(1)?[0]);
            }
        }
        if d.flexible && d.inter_predicted {
            let mut n = 0;
            loop {
                let r = take(1)?[0];
                n += 1;
                if r & 0x01 == 0 {
                    break;
                }
                if n == 3 {
                    return Err(Error::Malformed {
                        codec: Codec::Vp9,
                        reason: "more than 3 reference indices",
                    });
                }
            }
        }
        if b0 & 0x02 != 0 {
            let s = take(1)?[0];
            let spatial_layers = usize::from(s >> 5) + 1;
            if s & 0x10 != 0 {
                let sizes = take(4 * spatial_layers)?;
                d.ss_first_size = Some((
                    u16::from_be_bytes([sizes[0], sizes[1]]),
                    u16::from_be_bytes([sizes[2], sizes[3]]),
                ));
            }
            if s & 0x08 != 0 {
                let groups = take(1)?[0];
                for _ in 0..groups {
                    let g = take(1)?[0];
                    take(usize::from((g >> 2) & 0x03))?;
                }
            }
        }
        d.len = at;
        Ok(d)
    }
}

/// VP9 depacketizer: concatenates the payloads after their descriptors, from the packet with
/// `B=1` to the packet with the marker bit (all spatial layers of the picture).
#[derive(Debug, Clone)]
pub struct Vp9Depacketizer {
    buf: FrameBuf,
    started: bool,
}

impl Vp9Depacketizer {
    /// A depacketizer.
    pub fn new(config: DepacketizerConfig) -> Self {
        Self { buf: FrameBuf::new(config), started: false }
    }

    fn parse(&mut self, payload: &[u8]) -> Result<(), Error> {
        let d = Vp9Descriptor::parse(payload)?;
        let body = payload.get(d.len..).unwrap_or_default();
        if body.is_empty() {
            return Err(Error::Malformed {
                codec: Codec::Vp9,
                reason: "descriptor without payload",
            });
        }
        if !self.started {
            if !d.begin {
                return Err(Error::OutOfOrder {
                    codec: Codec::Vp9,
                    reason: "continuation without frame start",
                });
            }
            self.started = true;
            self.buf.keyframe = !d.inter_predicted && d.layer.is_none_or(|(_, _, sid, _)| sid == 0);
        }
        self.buf.extend(&[body])
    }
}

impl Depacketize for Vp9Depacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Frame<'_>>, Error> {
        self.buf.begin_packet();
        if let Err(e) = self.parse(payload) {
            self.reset();
            return Err(e);
        }
        if !marker {
            return Ok(None);
        }
        self.started = false;
        Ok(Some(self.buf.finish()))
    }

    fn reset(&mut self) {
        self.buf.reset();
        self.started = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Profile 0 key frame header: frame_marker 10, profile 00, show_existing 0, frame_type 0,
    // show_frame 1, error_res 0 -> 1000_0010 = 0x82; sync 49 83 42; color_space 000 + range 0
    // then width-1 = 319 and height-1 = 179 as 16 bits each, starting at bit 36.
    fn key_header(w: u32, h: u32) -> Vec<u8> {
        let mut bits: Vec<u8> = Vec::new();
        let mut push = |v: u32, n: u32| {
            for i in (0..n).rev() {
                bits.push(((v >> i) & 1) as u8);
            }
        };
        push(0b1000_0010, 8);
        push(0x49_83_42, 24);
        push(0, 4);
        push(w - 1, 16);
        push(h - 1, 16);
        push(0, 4);
        bits.chunks(8).map(|c| c.iter().fold(0, |a, &b| (a << 1) | b)).collect()
    }

    #[test]
    fn frame_info() {
        let k = key_header(320, 180);
        assert_eq!(
            Vp9FrameInfo::parse(&k),
            Some(Vp9FrameInfo { keyframe: true, size: Some((320, 180)) })
        );
        // Inter frame: frame_type 1.
        assert_eq!(
            Vp9FrameInfo::parse(&[0x86, 0]),
            Some(Vp9FrameInfo { keyframe: false, size: None })
        );
        assert_eq!(Vp9FrameInfo::parse(&[0x00]), None);
        assert_eq!(Vp9FrameInfo::parse(&[0x82, 0x49, 0x83, 0x43, 0, 0, 0, 0, 0]), None);
    }

    #[test]
    fn keyframe_round_trip_with_ss() {
        let mut frame = key_header(64, 48);
        frame.extend((0..300u16).map(|i| i as u8));
        let mut p = Vp9Packetizer::new(PacketizerConfig::with_mtu(100)).unwrap();
        let mut pk = p.packetize(&frame).unwrap();
        let mut d = Vp9Depacketizer::new(DepacketizerConfig::default());
        let mut buf = [0u8; 100];
        let mut first = true;
        let mut got = None;
        while let Some(r) = pk.next_into(&mut buf) {
            let pl = r.unwrap();
            assert!(pl.len <= 100);
            let desc = Vp9Descriptor::parse(&buf[..pl.len]).unwrap();
            assert_eq!(desc.begin, first);
            assert_eq!(desc.end, pl.marker);
            assert!(!desc.inter_predicted);
            if first {
                assert_eq!(&buf[..11], [0x8A, 0x80, 0x00, 0x18, 0, 64, 0, 48, 1, 0x14, 1]);
                assert_eq!(desc.ss_first_size, Some((64, 48)));
            }
            first = false;
            if let Some(f) = d.push(&buf[..pl.len], pl.marker).unwrap() {
                got = Some((f.data.to_vec(), f.keyframe));
            }
        }
        assert_eq!(got, Some((frame, true)));
    }

    #[test]
    fn descriptor_variants_and_errors() {
        // Flexible, inter, layer indices, two P_DIFFs.
        let d = Vp9Descriptor::parse(&[0xFC, 0x05, 0x22, 0x03, 0x04, 0xAA]).unwrap();
        assert_eq!(d.picture_id, Some(5));
        assert_eq!(d.layer, Some((1, false, 1, false)));
        assert_eq!(d.len, 5);
        assert!(Vp9Descriptor::parse(&[0x50, 0x01, 0x01, 0x01]).is_err()); // 3+ P_DIFF
        assert!(Vp9Descriptor::parse(&[0x8A, 0x80]).is_err());
        assert!(Vp9Descriptor::parse(&[0x0A, 0xF0, 0, 0]).is_err()); // SS sizes truncated
        let mut d = Vp9Depacketizer::new(DepacketizerConfig::default());
        assert!(d.push(&[0x84, 0x01, 0xAA], true).is_err()); // no B
        assert!(d.push(&[0x0C], true).is_err()); // no payload
        let f = d.push(&[0x4C, 0xAA], true).unwrap().unwrap();
        assert_eq!((f.data, f.keyframe), (&[0xAA][..], false));
    }
}
