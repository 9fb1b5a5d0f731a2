//! VP8 payload format (RFC 7741).
//!
//! The packetizer writes the 4-byte descriptor Discord senders use: `X=1`, `S=1` on the first
//! packet of a frame, partition index 0, then `I=1` and a 15-bit picture ID (`M=1`) that is
//! incremented per frame. The depacketizer accepts every descriptor RFC 7741 defines.

use crate::payload::{
    Depacketize, DepacketizerConfig, Frame, FrameBuf, PacketizerConfig, Packets, Payload,
    even_fragment, write_parts,
};
use crate::{Codec, Error};

const DESCRIPTOR_LEN: usize = 4;

/// `true` when the VP8 frame is a key frame (P bit of the frame tag is 0).
pub fn is_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 0x01 == 0)
}

/// VP8 packetizer.
#[derive(Debug, Clone)]
pub struct Vp8Packetizer {
    mtu: usize,
    picture_id: u16,
}

impl Vp8Packetizer {
    /// A packetizer.
    pub fn new(config: PacketizerConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self { mtu: config.mtu, picture_id: config.initial_picture_id & 0x7FFF })
    }

    /// The picture ID the next frame gets.
    pub const fn next_picture_id(&self) -> u16 {
        self.picture_id
    }

    /// Starts packetizing one frame (plaintext or DAVE-encrypted: nothing is read from it).
    pub fn packetize<'a>(&mut self, frame: &'a [u8]) -> Result<Vp8Packets<'a>, Error> {
        if frame.is_empty() {
            return Err(Error::Empty { what: "VP8 frame" });
        }
        let picture_id = self.picture_id;
        self.picture_id = (self.picture_id + 1) & 0x7FFF;
        let count = frame.len().div_ceil(self.mtu - DESCRIPTOR_LEN);
        Ok(Vp8Packets { frame, mtu: self.mtu, picture_id, index: 0, count })
    }
}

/// The packets of one VP8 frame; see [`Packets`].
#[derive(Debug)]
pub struct Vp8Packets<'a> {
    frame: &'a [u8],
    mtu: usize,
    picture_id: u16,
    index: usize,
    count: usize,
}

impl Packets for Vp8Packets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Option<Result<Payload, Error>> {
        if self.index >= self.count {
            return None;
        }
        let (start, size) = even_fragment(self.frame.len(), self.count, self.index);
        let s = if self.index == 0 { 0x10 } else { 0 };
        let [hi, lo] = self.picture_id.to_be_bytes();
        let desc = [0x80 | s, 0x80, 0x80 | hi, lo];
        let body = self.frame.get(start..start + size).unwrap_or_default();
        Some(write_parts(out, &[&desc, body]).map(|len| {
            self.index += 1;
            Payload { len, marker: self.index == self.count }
        }))
    }

    fn max_payload_size(&self) -> usize {
        self.mtu
    }
}

/// The fields of a VP8 payload descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp8Descriptor {
    /// N: non-reference frame.
    pub non_reference: bool,
    /// S: start of a partition.
    pub start_of_partition: bool,
    /// PID: partition index.
    pub partition_index: u8,
    /// `PictureID` (7 or 15 bits), if present.
    pub picture_id: Option<u16>,
    /// TL0PICIDX, if present.
    pub tl0_pic_idx: Option<u8>,
    /// TID (2 bits) and Y, if T is set.
    pub tid: Option<(u8, bool)>,
    /// KEYIDX (5 bits), if K is set.
    pub key_idx: Option<u8>,
    /// Length of the descriptor in bytes.
    pub len: usize,
}

impl Vp8Descriptor {
    /// Parses the descriptor at the start of `payload`.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        let trunc = |expected| Error::Truncated {
            what: "VP8 payload descriptor",
            expected,
            actual: payload.len(),
        };
        let &b0 = payload.first().ok_or(Error::Empty { what: "VP8 payload" })?;
        let mut d = Self {
            non_reference: b0 & 0x20 != 0,
            start_of_partition: b0 & 0x10 != 0,
            partition_index: b0 & 0x07,
            ..Self::default()
        };
        let mut at = 1;
        if b0 & 0x80 != 0 {
            let &x = payload.get(at).ok_or(trunc(at + 1))?;
            at += 1;
            if x & 0x80 != 0 {
                let &p0 = payload.get(at).ok_or(trunc(at + 1))?;
                if p0 & 0x80 != 0 {
                    let &p1 = payload.get(at + 1).ok_or(trunc(at + 2))?;
                    d.picture_id = Some(u16::from_be_bytes([p0 & 0x7F, p1]));
                    at += 2;
                } else {
                    d.picture_id = Some(u16::from(p0));
                    at += 1;
                }
            }
            if x & 0x40 != 0 {
                d.tl0_pic_idx = Some(*payload.get(at).ok_or(trunc(at + 1))?);
                at += 1;
            }
            if x & 0x30 != 0 {
                let &t = payload.get(at).ok_or(trunc(at + 1))?;
                if x & 0x20 != 0 {
                    d.tid = Some((t >> 6, t & 0x20 != 0));
                }
                if x & 0x10 != 0 {
                    d.key_idx = Some(t & 0x1F);
                }
                at += 1;
            }
        }
        d.len = at;
        Ok(d)
    }
}

/// VP8 depacketizer: concatenates the payloads after their descriptors.
///
/// A packet with `S=1` and partition index 0 starts a frame; a partial frame still open then is
/// dropped (the caller saw the loss in the sequence numbers).
#[derive(Debug, Clone)]
pub struct Vp8Depacketizer {
    buf: FrameBuf,
    started: bool,
}

impl Vp8Depacketizer {
    /// A depacketizer.
    pub fn new(config: DepacketizerConfig) -> Self {
        Self { buf: FrameBuf::new(config), started: false }
    }

    fn parse(&mut self, payload: &[u8]) -> Result<(), Error> {
        let d = Vp8Descriptor::parse(payload)?;
        let body = payload.get(d.len..).unwrap_or_default();
        if body.is_empty() {
            return Err(Error::Malformed {
                codec: Codec::Vp8,
                reason: "descriptor without payload",
            });
        }
        if d.start_of_partition && d.partition_index == 0 {
            self.buf.reset();
            self.buf.keyframe = is_keyframe(body);
            self.started = true;
        } else if !self.started {
            return Err(Error::OutOfOrder {
                codec: Codec::Vp8,
                reason: "continuation without frame start",
            });
        }
        self.buf.extend(&[body])
    }
}

impl Depacketize for Vp8Depacketizer {
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

    #[test]
    fn descriptor_forms() {
        let d = Vp8Descriptor::parse(&[0x90, 0xF0, 0x81, 0x23, 0x07, 0xA5, 0xAA]).unwrap();
        assert_eq!(d.picture_id, Some(0x0123));
        assert_eq!(d.tl0_pic_idx, Some(7));
        assert_eq!(d.tid, Some((2, true)));
        assert_eq!(d.key_idx, Some(5));
        assert_eq!(d.len, 6);
        assert!(d.start_of_partition);
        let d = Vp8Descriptor::parse(&[0x10, 0xAA]).unwrap();
        assert_eq!((d.len, d.picture_id), (1, None));
        let d = Vp8Descriptor::parse(&[0x80, 0x80, 0x05, 1]).unwrap();
        assert_eq!(d.picture_id, Some(5));
        assert!(Vp8Descriptor::parse(&[0x80, 0x80, 0x81]).is_err());
        assert!(Vp8Descriptor::parse(&[0x80]).is_err());
    }

    #[test]
    fn round_trip_and_picture_id() {
        let mut p =
            Vp8Packetizer::new(PacketizerConfig { mtu: 50, initial_picture_id: 0x7FFF }).unwrap();
        let frame: Vec<u8> = (0..200u16).map(|i| (i * 2) as u8).collect();
        let mut d = Vp8Depacketizer::new(DepacketizerConfig::default());
        let mut buf = [0u8; 50];
        for expected_pid in [0x7FFF, 0] {
            let mut pk = p.packetize(&frame).unwrap();
            let mut n = 0;
            while let Some(r) = pk.next_into(&mut buf) {
                let pl = r.unwrap();
                let desc = Vp8Descriptor::parse(&buf[..pl.len]).unwrap();
                assert_eq!(desc.picture_id, Some(expected_pid));
                assert_eq!(desc.start_of_partition, n == 0);
                n += 1;
                if let Some(f) = d.push(&buf[..pl.len], pl.marker).unwrap() {
                    assert_eq!(f.data, &frame[..]);
                    assert!(f.keyframe);
                }
            }
            assert_eq!(n, 5);
        }
    }

    #[test]
    fn continuation_without_start() {
        let mut d = Vp8Depacketizer::new(DepacketizerConfig::default());
        assert!(d.push(&[0x80, 0x80, 0x80, 1, 9], true).is_err());
        assert!(d.push(&[0x90, 0x80, 0x80, 1], true).is_err());
        assert!(d.push(&[0x10, 0x01], false).unwrap().is_none());
        let f = d.push(&[0x00, 0x02], true).unwrap().unwrap();
        assert_eq!((f.data, f.keyframe), (&[1, 2][..], false));
    }
}
