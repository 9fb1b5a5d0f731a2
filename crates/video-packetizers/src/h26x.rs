//! H264 (RFC 6184, packetization-mode 1) and H265 (RFC 7798, no DONL) payload formats.
//!
//! Both formats share their shape: a NAL unit that fits the MTU is sent alone; runs of small
//! NAL units are aggregated (STAP-A, type 24 / AP, type 48); a NAL unit larger than the MTU is
//! fragmented (FU-A, type 28 / FU, type 49) into near-equal fragments. The depacketizer writes
//! a 4-byte start code before every NAL unit (protocol.md 7.7).

use core::ops::Range;

use crate::dave::LONG_START_CODE;
use crate::nal::NalUnits;
use crate::payload::{
    Depacketize, DepacketizerConfig, Frame, FrameBuf, PacketizerConfig, Packets, Payload,
    even_fragment, write_parts,
};
use crate::{Codec, Error};

const H264_STAP_A: u8 = 24;
const H264_FU_A: u8 = 28;
const H265_AP: u8 = 48;
const H265_FU: u8 = 49;

/// `true` for an H264 NAL unit type that starts a decodable sequence (IDR slice, 5).
pub const fn h264_is_keyframe_nal(nal_header: u8) -> bool {
    nal_header & 0x1F == 5
}

/// `true` for an H265 NAL unit type that starts a decodable sequence (IRAP, 16..=23).
pub const fn h265_is_keyframe_nal(nal_header0: u8) -> bool {
    matches!((nal_header0 >> 1) & 0x3F, 16..=23)
}

/// `true` when the Annex B access unit `frame` contains an H264 IDR slice (or, for H265, an
/// IRAP picture).
pub fn is_keyframe(codec: Codec, frame: &[u8]) -> bool {
    NalUnits::new(frame).any(|nal| match (codec, nal.first()) {
        (Codec::H264, Some(&b)) => h264_is_keyframe_nal(b),
        (Codec::H265, Some(&b)) => h265_is_keyframe_nal(b),
        _ => false,
    })
}

const fn header_len(codec: Codec) -> usize {
    if matches!(codec, Codec::H265) { 2 } else { 1 }
}

/// Packetizer for H264 or H265 Annex B access units.
///
/// The input is one access unit in Annex B form (3- or 4-byte start codes, as produced by an
/// encoder or by [`crate::dave::split_frame`] and DAVE encryption). Parameter sets are sent as
/// they appear in the access unit; use [`ParameterSetCache`] before DAVE encryption to repeat
/// them on key frames.
#[derive(Debug, Clone)]
pub struct H26xPacketizer {
    codec: Codec,
    mtu: usize,
    nals: Vec<Range<usize>>,
}

impl H26xPacketizer {
    /// An H264 packetizer.
    pub fn h264(config: PacketizerConfig) -> Result<Self, Error> {
        Self::new(Codec::H264, config)
    }

    /// An H265 packetizer.
    pub fn h265(config: PacketizerConfig) -> Result<Self, Error> {
        Self::new(Codec::H265, config)
    }

    /// A packetizer for `codec`, which must be H264 or H265.
    pub fn new(codec: Codec, config: PacketizerConfig) -> Result<Self, Error> {
        config.validate()?;
        if !codec.is_h26x() {
            return Err(Error::Malformed { codec, reason: "not an H26x codec" });
        }
        Ok(Self { codec, mtu: config.mtu, nals: Vec::new() })
    }

    /// The codec.
    pub const fn codec(&self) -> Codec {
        self.codec
    }

    /// Starts packetizing one access unit.
    ///
    /// # Errors
    ///
    /// [`Error::Malformed`] when `frame` has non-zero bytes before its first start code, no
    /// NAL unit, a NAL unit shorter than its header, or a NAL unit type that RTP cannot carry
    /// (H264 0 and 24–31, H265 48–63: the payload format uses them for its own structures).
    pub fn packetize<'a>(&'a mut self, frame: &'a [u8]) -> Result<H26xPackets<'a>, Error> {
        let codec = self.codec;
        self.nals.clear();
        let units = NalUnits::new(frame);
        if frame.get(..units.leading()).is_some_and(|b| b.iter().any(|&x| x != 0)) {
            return Err(Error::Malformed { codec, reason: "bytes before the first start code" });
        }
        let base = frame.as_ptr() as usize;
        for nal in units {
            if nal.len() < header_len(codec) {
                return Err(Error::Malformed { codec, reason: "NAL unit shorter than its header" });
            }
            let reserved = match codec {
                Codec::H265 => (nal[0] >> 1) & 0x3F >= 48,
                _ => matches!(nal[0] & 0x1F, 0 | 24..=31),
            };
            if reserved {
                return Err(Error::Malformed {
                    codec,
                    reason: "NAL unit type is unspecified or used by the RTP payload format",
                });
            }
            let start = nal.as_ptr() as usize - base;
            self.nals.push(start..start + nal.len());
        }
        if self.nals.is_empty() {
            return Err(Error::Malformed { codec, reason: "no start code" });
        }
        Ok(H26xPackets { p: self, frame, index: 0, fu: None })
    }
}

#[derive(Debug, Clone, Copy)]
struct FuState {
    fragment: usize,
    count: usize,
}

/// The packets of one H264/H265 access unit; see [`Packets`].
#[derive(Debug)]
pub struct H26xPackets<'a> {
    p: &'a H26xPacketizer,
    frame: &'a [u8],
    index: usize,
    fu: Option<FuState>,
}

impl H26xPackets<'_> {
    fn nal(&self, i: usize) -> &[u8] {
        self.p.nals.get(i).and_then(|r| self.frame.get(r.clone())).unwrap_or_default()
    }

    fn write(&mut self, out: &mut [u8]) -> Result<Payload, Error> {
        let codec = self.p.codec;
        let mtu = self.p.mtu;
        let hl = header_len(codec);
        let nal = self.nal(self.index);
        let count = self.p.nals.len();
        if self.fu.is_some() || nal.len() > mtu {
            let body = nal.get(hl..).unwrap_or_default();
            let cap = mtu - hl - 1;
            let st = self.fu.unwrap_or(FuState { fragment: 0, count: body.len().div_ceil(cap) });
            let (start, size) = even_fragment(body.len(), st.count, st.fragment);
            let first = st.fragment == 0;
            let last = st.fragment + 1 == st.count;
            let flags = if first { 0x80 } else { 0 } | if last { 0x40 } else { 0 };
            let b0 = nal.first().copied().unwrap_or_default();
            let mut head = [0u8; 3];
            if codec == Codec::H265 {
                let b1 = nal.get(1).copied().unwrap_or_default();
                head = [(b0 & 0x81) | (H265_FU << 1), b1, flags | ((b0 >> 1) & 0x3F)];
            } else {
                head[0] = (b0 & 0xE0) | H264_FU_A;
                head[1] = flags | (b0 & 0x1F);
            }
            let frag = body.get(start..start + size).unwrap_or_default();
            let len = write_parts(out, &[&head[..=hl], frag])?;
            if last {
                self.fu = None;
                self.index += 1;
            } else {
                self.fu = Some(FuState { fragment: st.fragment + 1, ..st });
            }
            return Ok(Payload { len, marker: self.index == count });
        }
        // Aggregate following NAL units while they fit.
        let mut total = hl + 2 + nal.len();
        let mut end = self.index + 1;
        while end < count {
            let next = self.nal(end).len();
            if total + 2 + next > mtu {
                break;
            }
            total += 2 + next;
            end += 1;
        }
        if end - self.index < 2 {
            let len = write_parts(out, &[nal])?;
            self.index += 1;
            return Ok(Payload { len, marker: self.index == count });
        }
        if total > out.len() {
            return Err(Error::BufferTooSmall { needed: total, available: out.len() });
        }
        // Aggregation header: F = OR of F bits; H264 NRI = max; H265 LayerId and TID = min.
        let (mut f, mut nri, mut layer, mut tid) = (0u8, 0u8, u8::MAX, u8::MAX);
        for i in self.index..end {
            let n = self.nal(i);
            let b0 = n.first().copied().unwrap_or_default();
            f |= b0 & 0x80;
            nri = nri.max(b0 & 0x60);
            if let Some(&b1) = n.get(1) {
                layer = layer.min(((b0 & 1) << 5) | (b1 >> 3));
                tid = tid.min(b1 & 7);
            }
        }
        let mut at = hl;
        if codec == Codec::H265 {
            out[0] = f | (H265_AP << 1) | (layer >> 5);
            out[1] = ((layer & 0x1F) << 3) | tid;
        } else {
            out[0] = f | nri | H264_STAP_A;
        }
        for i in self.index..end {
            let n = self.nal(i);
            out[at..at + 2].copy_from_slice(&(n.len() as u16).to_be_bytes());
            out[at + 2..at + 2 + n.len()].copy_from_slice(n);
            at += 2 + n.len();
        }
        self.index = end;
        Ok(Payload { len: at, marker: self.index == count })
    }
}

impl Packets for H26xPackets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Option<Result<Payload, Error>> {
        if self.index >= self.p.nals.len() {
            return None;
        }
        Some(self.write(out))
    }

    fn max_payload_size(&self) -> usize {
        self.p.mtu
    }
}

/// Depacketizer for H264 or H265: rebuilds the access unit in Annex B form with a 4-byte start
/// code before every NAL unit.
///
/// Accepted: H264 single NAL unit (types 1–23), STAP-A, FU-A; H265 single NAL unit (types
/// 0–47), AP, FU (no DONL). STAP-B, MTAP, FU-B and PACI are rejected with [`Error::Malformed`].
#[derive(Debug, Clone)]
pub struct H26xDepacketizer {
    codec: Codec,
    buf: FrameBuf,
    in_fu: bool,
}

impl H26xDepacketizer {
    /// An H264 depacketizer.
    pub fn h264(config: DepacketizerConfig) -> Self {
        Self { codec: Codec::H264, buf: FrameBuf::new(config), in_fu: false }
    }

    /// An H265 depacketizer.
    pub fn h265(config: DepacketizerConfig) -> Self {
        Self { codec: Codec::H265, buf: FrameBuf::new(config), in_fu: false }
    }

    fn key(&self, nal: &[u8]) -> bool {
        match (self.codec, nal.first()) {
            (Codec::H265, Some(&b)) => h265_is_keyframe_nal(b),
            (_, Some(&b)) => h264_is_keyframe_nal(b),
            _ => false,
        }
    }

    fn single(&mut self, nal: &[u8]) -> Result<(), Error> {
        if self.in_fu {
            return Err(Error::OutOfOrder {
                codec: self.codec,
                reason: "NAL unit inside a fragmented unit",
            });
        }
        self.buf.keyframe |= self.key(nal);
        self.buf.extend(&[&LONG_START_CODE, nal])
    }

    fn aggregate(&mut self, mut rest: &[u8]) -> Result<(), Error> {
        let codec = self.codec;
        if rest.is_empty() {
            return Err(Error::Malformed { codec, reason: "empty aggregation packet" });
        }
        while !rest.is_empty() {
            let Some((size, r)) = rest.split_first_chunk::<2>() else {
                return Err(Error::Truncated {
                    what: "aggregation unit size",
                    expected: 2,
                    actual: rest.len(),
                });
            };
            let size = u16::from_be_bytes(*size) as usize;
            if size < header_len(codec) {
                return Err(Error::Malformed {
                    codec,
                    reason: "aggregated NAL unit shorter than its header",
                });
            }
            let Some((nal, r)) = r.split_at_checked(size) else {
                return Err(Error::Truncated {
                    what: "aggregated NAL unit",
                    expected: size,
                    actual: r.len(),
                });
            };
            self.single(nal)?;
            rest = r;
        }
        Ok(())
    }

    fn fragment(&mut self, header: &[u8], fu_header: u8, frag: &[u8]) -> Result<(), Error> {
        let codec = self.codec;
        let start = fu_header & 0x80 != 0;
        let end = fu_header & 0x40 != 0;
        if start && end {
            return Err(Error::Malformed { codec, reason: "FU with both start and end bits" });
        }
        if start {
            if self.in_fu {
                return Err(Error::OutOfOrder {
                    codec,
                    reason: "FU start inside a fragmented unit",
                });
            }
            let rebuilt: [u8; 2] = match (codec, header) {
                (Codec::H265, &[b0, b1, ..]) => [(b0 & 0x81) | ((fu_header & 0x3F) << 1), b1],
                (_, &[b0, ..]) => [(b0 & 0xE0) | (fu_header & 0x1F), 0],
                _ => [0, 0],
            };
            let rebuilt = &rebuilt[..header_len(codec)];
            self.buf.keyframe |= self.key(rebuilt);
            self.buf.extend(&[&LONG_START_CODE, rebuilt, frag])?;
            self.in_fu = true;
        } else {
            if !self.in_fu {
                return Err(Error::OutOfOrder {
                    codec,
                    reason: "FU continuation without its start",
                });
            }
            self.buf.extend(&[frag])?;
            self.in_fu = !end;
        }
        Ok(())
    }

    fn parse(&mut self, payload: &[u8]) -> Result<(), Error> {
        let codec = self.codec;
        if codec == Codec::H265 {
            let Some((hdr, rest)) = payload.split_first_chunk::<2>() else {
                return Err(Error::Truncated {
                    what: "H265 payload header",
                    expected: 2,
                    actual: payload.len(),
                });
            };
            match (hdr[0] >> 1) & 0x3F {
                0..=47 => self.single(payload),
                H265_AP => self.aggregate(rest),
                H265_FU => {
                    let Some((&fu, frag)) = rest.split_first() else {
                        return Err(Error::Truncated {
                            what: "H265 FU header",
                            expected: 1,
                            actual: 0,
                        });
                    };
                    self.fragment(hdr, fu, frag)
                }
                _ => Err(Error::Malformed {
                    codec,
                    reason: "unsupported payload type (PACI or reserved)",
                }),
            }
        } else {
            let Some((&b0, rest)) = payload.split_first() else {
                return Err(Error::Empty { what: "H264 payload" });
            };
            match b0 & 0x1F {
                1..=23 => self.single(payload),
                H264_STAP_A => self.aggregate(rest),
                H264_FU_A => {
                    let Some((&fu, frag)) = rest.split_first() else {
                        return Err(Error::Truncated {
                            what: "H264 FU header",
                            expected: 1,
                            actual: 0,
                        });
                    };
                    self.fragment(&[b0], fu, frag)
                }
                _ => Err(Error::Malformed {
                    codec,
                    reason: "unsupported NAL unit type (STAP-B, MTAP, FU-B or reserved)",
                }),
            }
        }
    }
}

impl Depacketize for H26xDepacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Frame<'_>>, Error> {
        self.buf.begin_packet();
        if let Err(e) = self.parse(payload) {
            self.reset();
            return Err(e);
        }
        if !marker {
            return Ok(None);
        }
        if self.in_fu {
            self.reset();
            return Err(Error::OutOfOrder {
                codec: self.codec,
                reason: "marker inside a fragmented unit",
            });
        }
        Ok(Some(self.buf.finish()))
    }

    fn reset(&mut self) {
        self.buf.reset();
        self.in_fu = false;
    }
}

/// Remembers the latest parameter sets (H264 SPS/PPS; H265 VPS/SPS/PPS) and puts them in front
/// of key frames that lack them, so that a receiver joining mid-stream can decode.
///
/// Apply it to the plaintext access unit **before** DAVE encryption: the depacketizer returns
/// exactly what was packetized, so parameter sets added after encryption would break the frame's
/// authentication. Memory grows only when a parameter set changes.
#[derive(Debug, Clone)]
pub struct ParameterSetCache {
    codec: Codec,
    sets: Vec<(u8, Vec<u8>)>,
}

impl ParameterSetCache {
    /// An empty cache for `codec` (H264 or H265).
    pub const fn new(codec: Codec) -> Self {
        Self { codec, sets: Vec::new() }
    }

    fn set_type(&self, nal: &[u8]) -> Option<u8> {
        let b0 = *nal.first()?;
        match self.codec {
            Codec::H265 => Some((b0 >> 1) & 0x3F).filter(|t| (32..=34).contains(t)),
            _ => Some(b0 & 0x1F).filter(|t| (7..=8).contains(t)),
        }
    }

    /// Records the parameter sets in `frame`, and when `frame` is a key frame missing any of
    /// the recorded types, writes the access unit with them prepended into `out` and returns
    /// `true`. Otherwise returns `false` and leaves `out` empty (send `frame` as is).
    pub fn apply(&mut self, frame: &[u8], out: &mut Vec<u8>) -> bool {
        out.clear();
        let mut present = [false; 64];
        for nal in NalUnits::new(frame) {
            if let Some(t) = self.set_type(nal) {
                present[t as usize] = true;
                match self.sets.iter_mut().find(|(st, _)| *st == t) {
                    Some((_, v)) if v.as_slice() == nal => {}
                    Some((_, v)) => {
                        v.clear();
                        v.extend_from_slice(nal);
                    }
                    None => self.sets.push((t, nal.to_vec())),
                }
            }
        }
        if !is_keyframe(self.codec, frame) || self.sets.iter().all(|(t, _)| present[*t as usize]) {
            return false;
        }
        self.sets.sort_by_key(|(t, _)| *t);
        for (t, set) in &self.sets {
            if !present[*t as usize] {
                out.extend_from_slice(&LONG_START_CODE);
                out.extend_from_slice(set);
            }
        }
        out.extend_from_slice(frame);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packetize(p: &mut H26xPacketizer, frame: &[u8]) -> Vec<(Vec<u8>, bool)> {
        let mut pk = p.packetize(frame).unwrap();
        let mut buf = vec![0u8; pk.max_payload_size()];
        let mut v = Vec::new();
        while let Some(r) = pk.next_into(&mut buf) {
            let pl = r.unwrap();
            v.push((buf[..pl.len].to_vec(), pl.marker));
        }
        v
    }

    fn depacketize(d: &mut H26xDepacketizer, pkts: &[(Vec<u8>, bool)]) -> (Vec<u8>, bool) {
        let mut out = None;
        for (p, m) in pkts {
            if let Some(f) = d.push(p, *m).unwrap() {
                out = Some((f.data.to_vec(), f.keyframe));
            }
        }
        out.unwrap()
    }

    #[test]
    fn h264_stap_a_and_single() {
        let mut p = H26xPacketizer::h264(PacketizerConfig::with_mtu(100)).unwrap();
        let idr: Vec<u8> = [0x65].into_iter().chain(1..=95).collect();
        let mut frame = vec![0, 0, 1, 0x67, 0x42, 0, 0x1F, 0, 0, 0, 1, 0x68, 0xCE];
        frame.extend_from_slice(&[0, 0, 1]);
        frame.extend_from_slice(&idr);
        let pkts = packetize(&mut p, &frame);
        // SPS+PPS aggregate; the IDR would not fit with them.
        assert_eq!(pkts.len(), 2);
        assert_eq!(pkts[0].0, [0x78, 0, 4, 0x67, 0x42, 0, 0x1F, 0, 2, 0x68, 0xCE]);
        assert!(!pkts[0].1);
        assert_eq!(pkts[1].0, idr);
        assert!(pkts[1].1);
        let mut d = H26xDepacketizer::h264(DepacketizerConfig::default());
        let (f, key) = depacketize(&mut d, &pkts);
        assert!(key);
        let mut expected =
            vec![0, 0, 0, 1, 0x67, 0x42, 0, 0x1F, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0, 1];
        expected.extend_from_slice(&idr);
        assert_eq!(f, expected);
    }

    #[test]
    fn h264_fu_a_even_fragments() {
        let mut p = H26xPacketizer::h264(PacketizerConfig::with_mtu(40)).unwrap();
        let nal: Vec<u8> = [0x41].into_iter().chain((0..100u8).map(|i| i | 0x80)).collect();
        let mut frame = vec![0, 0, 0, 1];
        frame.extend_from_slice(&nal);
        let pkts = packetize(&mut p, &frame);
        // 100 payload bytes, 38 per fragment -> 3 fragments of 34/33/33.
        assert_eq!(pkts.iter().map(|p| p.0.len()).collect::<Vec<_>>(), [36, 35, 35]);
        assert_eq!(&pkts[0].0[..2], [0x5C, 0x81]);
        assert_eq!(&pkts[1].0[..2], [0x5C, 0x01]);
        assert_eq!(&pkts[2].0[..2], [0x5C, 0x41]);
        let mut d = H26xDepacketizer::h264(DepacketizerConfig::default());
        let (f, key) = depacketize(&mut d, &pkts);
        assert!(!key);
        assert_eq!(f, frame);
    }

    #[test]
    fn h265_ap_and_fu() {
        let mut p = H26xPacketizer::h265(PacketizerConfig::with_mtu(64)).unwrap();
        let vps = [0x40, 0x01, 0x0C];
        let idr: Vec<u8> = [0x26, 0x01].into_iter().chain(0..120).collect();
        let mut frame = vec![0, 0, 0, 1];
        frame.extend_from_slice(&vps);
        frame.extend_from_slice(&[0, 0, 0, 1, 0x42, 0x01, 0x01]);
        frame.extend_from_slice(&[0, 0, 0, 1]);
        frame.extend_from_slice(&idr);
        let pkts = packetize(&mut p, &frame);
        assert_eq!(&pkts[0].0[..2], [0x60, 0x01]); // AP, layer 0, TID 1
        assert_eq!(&pkts[1].0[..3], [0x62, 0x01, 0x80 | 0x13]);
        assert_eq!(&pkts.last().unwrap().0[2], &(0x40 | 0x13));
        let mut d = H26xDepacketizer::h265(DepacketizerConfig::default());
        let (f, key) = depacketize(&mut d, &pkts);
        assert!(key);
        assert_eq!(f, frame);
    }

    #[test]
    fn malformed_payloads_are_errors() {
        let mut d = H26xDepacketizer::h264(DepacketizerConfig::default());
        assert!(d.push(&[], true).is_err());
        assert!(d.push(&[0x7C, 0x05], false).is_err()); // FU-A continuation without start
        assert!(d.push(&[0x7C, 0xC5, 1], false).is_err()); // S and E
        assert!(d.push(&[0x78, 0x00, 0x05, 0x65], true).is_err()); // STAP-A truncated
        assert!(d.push(&[0x78, 0x00], true).is_err()); // STAP-A size truncated
        assert!(d.push(&[0x78, 0x00, 0x00], true).is_err()); // STAP-A zero size
        assert!(d.push(&[0x79, 0x00], true).is_err()); // STAP-B
        assert!(d.push(&[0x7C, 0x85, 1], false).unwrap().is_none());
        assert!(d.push(&[0x7C, 0x05, 2], true).is_err()); // marker inside FU
        let mut d = H26xDepacketizer::h265(DepacketizerConfig::default());
        assert!(d.push(&[0x26], true).is_err());
        assert!(d.push(&[0x64, 0x01], true).is_err()); // PACI
        assert!(d.push(&[0x62, 0x01], true).is_err()); // FU without FU header
        let mut d = H26xDepacketizer::h264(DepacketizerConfig { max_frame_size: 10 });
        assert!(matches!(d.push(&[0x41; 20], true), Err(Error::FrameTooLarge { .. })));
        assert_eq!(d.push(&[0x41, 1], true).unwrap().unwrap().data, [0, 0, 0, 1, 0x41, 1]);
    }

    #[test]
    fn packetizer_rejects_junk() {
        let mut p = H26xPacketizer::h264(PacketizerConfig::default()).unwrap();
        assert!(p.packetize(&[1, 2, 3]).is_err());
        assert!(p.packetize(&[7, 0, 0, 1, 0x41]).is_err());
        assert!(p.packetize(&[0, 0, 1, 0, 0, 1, 0x41]).is_err());
        assert!(p.packetize(&[0, 0, 0, 0, 1, 0x41]).is_ok());
        assert!(p.packetize(&[0, 0, 1, 0x40, 1]).is_err()); // type 0
        assert!(p.packetize(&[0, 0, 1, 0x5C, 1]).is_err()); // type 28
        let mut p = H26xPacketizer::h265(PacketizerConfig::default()).unwrap();
        assert!(p.packetize(&[0, 0, 1, 0x62, 1, 5]).is_err()); // type 49
        assert!(H26xPacketizer::h264(PacketizerConfig::with_mtu(10)).is_err());
        assert!(H26xPacketizer::new(Codec::Vp8, PacketizerConfig::default()).is_err());
    }

    #[test]
    fn parameter_sets_repeat_on_keyframes() {
        let mut c = ParameterSetCache::new(Codec::H264);
        let mut out = Vec::new();
        let first = [0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 0x88];
        assert!(!c.apply(&first, &mut out));
        assert!(!c.apply(&[0, 0, 0, 1, 0x41, 0x9A], &mut out));
        assert!(c.apply(&[0, 0, 0, 1, 0x65, 0x88], &mut out));
        assert_eq!(out, first);
    }
}
