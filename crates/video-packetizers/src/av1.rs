//! AV1 payload format (AOM "RTP Payload Format for AV1", v1.0.0).
//!
//! Packet layout: an aggregation header `Z|Y|W(2)|N|-(3)`, then OBU elements. The packetizer
//! drops temporal delimiter, tile list and padding OBUs, strips `obu_size` (clearing
//! `obu_has_size_field`), fills packets greedily, fragments OBUs across packets with Z/Y, uses
//! `W` = element count when a packet has at most 3 elements (the last without a length prefix)
//! and `W = 0` otherwise, and sets `N` on the first packet of a frame that carries a sequence
//! header.
//!
//! The depacketizer writes every OBU with `obu_has_size_field = 1` and a minimal LEB128
//! `obu_size`, **except the last OBU of the frame**, which has no size field (protocol.md 7.7,
//! the form DAVE authenticates; it is also a valid low-overhead bitstream for decoders).

use core::ops::Range;

use crate::dave::{Obus, av1_obu_dropped, leb128_len, read_leb128, write_leb128};
use crate::payload::{
    Depacketize, DepacketizerConfig, Frame, FrameBuf, PacketizerConfig, Packets, Payload,
};
use crate::{Codec, Error};

const OBU_SEQUENCE_HEADER: u8 = 1;

/// `true` when the low-overhead-format frame contains a sequence header OBU (how a key frame
/// starts in WebRTC AV1 streams; the OBU header stays clear under DAVE).
pub fn is_keyframe(frame: &[u8]) -> bool {
    Obus::new(frame).map_while(|o| o).any(|o| o.obu_type() == OBU_SEQUENCE_HEADER)
}

#[derive(Debug, Clone)]
struct ObuRef {
    header: u8,
    extension: Option<u8>,
    payload: Range<usize>,
}

impl ObuRef {
    fn len(&self) -> usize {
        1 + usize::from(self.extension.is_some()) + self.payload.len()
    }
}

#[derive(Debug, Clone, Copy)]
struct Element {
    obu: usize,
    offset: usize,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
struct PacketPlan {
    first: usize,
    end: usize,
    z: bool,
    y: bool,
}

/// AV1 packetizer.
#[derive(Debug, Clone)]
pub struct Av1Packetizer {
    mtu: usize,
    obus: Vec<ObuRef>,
    elements: Vec<Element>,
    packets: Vec<PacketPlan>,
}

impl Av1Packetizer {
    /// A packetizer.
    pub fn new(config: PacketizerConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self { mtu: config.mtu, obus: Vec::new(), elements: Vec::new(), packets: Vec::new() })
    }

    /// Starts packetizing one temporal unit in low-overhead bitstream format (OBUs with size
    /// fields; the last may lack one, as after [`crate::dave::split_frame`]).
    ///
    /// # Errors
    ///
    /// [`Error::Malformed`] when an OBU runs past the end or has the forbidden bit set;
    /// [`Error::Empty`] when no OBU remains after dropping temporal delimiters, tile lists and
    /// padding.
    pub fn packetize<'a>(&'a mut self, frame: &'a [u8]) -> Result<Av1Packets<'a>, Error> {
        self.obus.clear();
        self.elements.clear();
        self.packets.clear();
        let base = frame.as_ptr() as usize;
        for obu in Obus::new(frame) {
            let obu = obu
                .ok_or(Error::Malformed { codec: Codec::Av1, reason: "OBU overruns the frame" })?;
            if av1_obu_dropped(obu.obu_type()) {
                continue;
            }
            let start = obu.payload.as_ptr() as usize - base;
            self.obus.push(ObuRef {
                header: obu.header & !0x02,
                extension: obu.extension,
                payload: start..start + obu.payload.len(),
            });
        }
        if self.obus.is_empty() {
            return Err(Error::Empty { what: "AV1 temporal unit" });
        }
        self.plan();
        let n = self.obus.iter().any(|o| (o.header >> 3) & 0x0F == OBU_SEQUENCE_HEADER);
        Ok(Av1Packets { p: self, frame, index: 0, n })
    }

    /// Greedy plan with every element length-prefixed; packets with at most 3 elements drop the
    /// last prefix when written, which only makes them smaller.
    fn plan(&mut self) {
        let cap = self.mtu - 1;
        let mut used = 0usize;
        let mut first_element = 0usize;
        let mut z = false;
        for (i, obu) in self.obus.iter().enumerate() {
            let total = obu.len();
            let mut offset = 0;
            while offset < total {
                let rem = total - offset;
                let space = cap - used;
                if leb128_len(rem as u32) + rem <= space {
                    self.elements.push(Element { obu: i, offset, len: rem });
                    used += leb128_len(rem as u32) + rem;
                    offset = total;
                    continue;
                }
                // Fragment: the largest piece whose prefixed size fits, if any byte fits.
                let mut piece = space.saturating_sub(leb128_len(space as u32));
                while piece > 0 && leb128_len(piece as u32) + piece > space {
                    piece -= 1;
                }
                let y = piece > 0;
                if y {
                    self.elements.push(Element { obu: i, offset, len: piece });
                    offset += piece;
                }
                if self.elements.len() > first_element {
                    self.packets.push(PacketPlan {
                        first: first_element,
                        end: self.elements.len(),
                        z,
                        y,
                    });
                }
                first_element = self.elements.len();
                used = 0;
                z = y;
            }
        }
        if self.elements.len() > first_element {
            self.packets.push(PacketPlan {
                first: first_element,
                end: self.elements.len(),
                z,
                y: false,
            });
        }
    }
}

/// The packets of one AV1 temporal unit; see [`Packets`].
#[derive(Debug)]
pub struct Av1Packets<'a> {
    p: &'a Av1Packetizer,
    frame: &'a [u8],
    index: usize,
    n: bool,
}

impl Av1Packets<'_> {
    fn write(&self, plan: PacketPlan, out: &mut [u8]) -> Result<usize, Error> {
        let elements = self.p.elements.get(plan.first..plan.end).unwrap_or_default();
        let count = elements.len();
        let w = if count <= 3 { count } else { 0 };
        let needed = 1 + elements
            .iter()
            .enumerate()
            .map(|(k, e)| {
                e.len + if w != 0 && k + 1 == count { 0 } else { leb128_len(e.len as u32) }
            })
            .sum::<usize>();
        if needed > out.len() {
            return Err(Error::BufferTooSmall { needed, available: out.len() });
        }
        out[0] = if plan.z { 0x80 } else { 0 }
            | if plan.y { 0x40 } else { 0 }
            | ((w as u8) << 4)
            | if self.n && self.index == 0 { 0x08 } else { 0 };
        let mut at = 1;
        for (k, e) in elements.iter().enumerate() {
            if !(w != 0 && k + 1 == count) {
                let mut leb = [0u8; 5];
                let n = write_leb128(e.len as u32, &mut leb);
                out[at..at + n].copy_from_slice(&leb[..n]);
                at += n;
            }
            // The element is bytes offset..offset+len of header ‖ extension ‖ payload.
            let Some(obu) = self.p.obus.get(e.obu) else { continue };
            let ext = obu.extension.as_slice();
            let head = [obu.header];
            let payload = self.frame.get(obu.payload.clone()).unwrap_or_default();
            let mut skip = e.offset;
            let mut left = e.len;
            for part in [&head[..], ext, payload] {
                if left == 0 {
                    break;
                }
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                let n = (part.len() - skip).min(left);
                out[at..at + n].copy_from_slice(&part[skip..skip + n]);
                at += n;
                left -= n;
                skip = 0;
            }
        }
        Ok(at)
    }
}

impl Packets for Av1Packets<'_> {
    fn next_into(&mut self, out: &mut [u8]) -> Option<Result<Payload, Error>> {
        let plan = *self.p.packets.get(self.index)?;
        Some(self.write(plan, out).map(|len| {
            self.index += 1;
            Payload { len, marker: self.index == self.p.packets.len() }
        }))
    }

    fn max_payload_size(&self) -> usize {
        self.p.mtu
    }
}

/// The aggregation header of an AV1 RTP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregationHeader {
    /// Z: the first element continues an OBU from the previous packet.
    pub continues: bool,
    /// Y: the last element continues in the next packet.
    pub continued: bool,
    /// W: element count (1–3, last without length), or 0 (every element length-prefixed).
    pub w: u8,
    /// N: first packet of a coded video sequence.
    pub new_sequence: bool,
}

impl AggregationHeader {
    /// Decodes the header byte.
    pub const fn from_byte(b: u8) -> Self {
        Self {
            continues: b & 0x80 != 0,
            continued: b & 0x40 != 0,
            w: (b >> 4) & 0x03,
            new_sequence: b & 0x08 != 0,
        }
    }
}

/// AV1 depacketizer producing the protocol.md 7.7 form (sizes on every OBU but the last).
#[derive(Debug, Clone)]
pub struct Av1Depacketizer {
    buf: FrameBuf,
    /// Offset in the frame of the OBU being reassembled from fragments, stored without size.
    open_obu: Option<usize>,
    /// An OBU was emitted without its size field and must get one if another OBU follows.
    unsized_tail: Option<usize>,
    started: bool,
}

impl Av1Depacketizer {
    /// A depacketizer.
    pub fn new(config: DepacketizerConfig) -> Self {
        Self { buf: FrameBuf::new(config), open_obu: None, unsized_tail: None, started: false }
    }

    /// Gives the OBU that starts at `start` (written without size field) its size field.
    fn add_size(&mut self, start: usize) -> Result<(), Error> {
        let data = &mut self.buf.data;
        let header =
            *data.get(start).ok_or(Error::Malformed { codec: Codec::Av1, reason: "internal" })?;
        let header_len = if header & 0x04 != 0 { 2 } else { 1 };
        let size = data.len() - start - header_len;
        let size32 = u32::try_from(size)
            .map_err(|_| Error::FrameTooLarge { size, limit: u32::MAX as usize })?;
        let mut leb = [0u8; 5];
        let n = write_leb128(size32, &mut leb);
        self.buf.reserve_check(n)?;
        let data = &mut self.buf.data;
        data[start] |= 0x02;
        let at = start + header_len;
        data.splice(at..at, leb[..n].iter().copied());
        Ok(())
    }

    /// Appends one complete OBU element (header ‖ ext ‖ payload, size field optional), without
    /// size field; the size is added when a later OBU follows.
    fn complete_element(&mut self, element: &[u8]) -> Result<(), Error> {
        let (header, ext, payload) = split_fragment(element)?;
        if av1_obu_dropped((header >> 3) & 0x0F) {
            return Ok(());
        }
        if let Some(t) = self.unsized_tail.take() {
            self.add_size(t)?;
        }
        if (header >> 3) & 0x0F == OBU_SEQUENCE_HEADER {
            self.buf.keyframe = true;
        }
        let start = self.buf.data.len();
        self.buf.extend(&[&[header & !0x02], ext, payload])?;
        self.unsized_tail = Some(start);
        Ok(())
    }

    fn parse(&mut self, payload: &[u8]) -> Result<(), Error> {
        let codec = Codec::Av1;
        let (&agg, mut rest) = payload.split_first().ok_or(Error::Empty { what: "AV1 payload" })?;
        let agg = AggregationHeader::from_byte(agg);
        if rest.is_empty() {
            return Err(Error::Malformed { codec, reason: "no OBU element" });
        }
        if agg.continues != self.open_obu.is_some() {
            return Err(Error::OutOfOrder {
                codec,
                reason: if agg.continues {
                    "Z set without an open fragment"
                } else {
                    "open fragment not continued"
                },
            });
        }
        self.started = true;
        let mut index = 0u8;
        while !rest.is_empty() {
            index += 1;
            let last_by_w = agg.w != 0 && index == agg.w;
            let element;
            if last_by_w {
                element = rest;
                rest = &[];
            } else {
                let (len, n) = read_leb128(rest)
                    .ok_or(Error::Malformed { codec, reason: "bad element length" })?;
                let r = rest.get(n..).unwrap_or_default();
                let (e, r) = r.split_at_checked(len as usize).ok_or(Error::Truncated {
                    what: "AV1 OBU element",
                    expected: len as usize,
                    actual: r.len(),
                })?;
                element = e;
                rest = r;
            }
            if element.is_empty() {
                return Err(Error::Malformed { codec, reason: "empty OBU element" });
            }
            let is_last = rest.is_empty();
            if agg.w != 0 && is_last && index != agg.w {
                return Err(Error::Malformed { codec, reason: "fewer elements than W" });
            }
            let first_continues = index == 1 && agg.continues;
            let continues_next = is_last && agg.continued;
            match (first_continues, continues_next) {
                (false, false) => self.complete_element(element)?,
                (true, _) => {
                    self.buf.extend(&[element])?;
                    if !continues_next {
                        let start = self.open_obu.take().unwrap_or_default();
                        self.finish_fragmented(start)?;
                    }
                }
                (false, true) => {
                    // First fragment: kept raw (it may end inside the OBU header) and
                    // normalised when the OBU completes.
                    let header = element[0];
                    if !av1_obu_dropped((header >> 3) & 0x0F)
                        && let Some(t) = self.unsized_tail.take()
                    {
                        self.add_size(t)?;
                    }
                    let start = self.buf.data.len();
                    self.buf.extend(&[element])?;
                    self.open_obu = Some(start);
                }
            }
        }
        Ok(())
    }

    /// A fragmented OBU is complete in `data[start..]`: validate its header, strip a size field
    /// if the sender left one, drop it if it is a dropped type, else keep it as the tail.
    fn finish_fragmented(&mut self, start: usize) -> Result<(), Error> {
        let data = &mut self.buf.data;
        let (header, ext, body) = split_fragment(data.get(start..).unwrap_or_default())?;
        let t = (header >> 3) & 0x0F;
        if av1_obu_dropped(t) {
            data.truncate(start);
            return Ok(());
        }
        if header & 0x02 != 0 {
            // Rare: rebuild header ‖ extension ‖ payload without the size field.
            let body_start = body.as_ptr() as usize - data.as_ptr() as usize;
            let body_end = body_start + body.len();
            let head_len = 1 + ext.len();
            data.truncate(body_end);
            data.drain(start + head_len..body_start);
            data[start] = header & !0x02;
        }
        if t == OBU_SEQUENCE_HEADER {
            self.buf.keyframe = true;
        }
        self.unsized_tail = Some(start);
        Ok(())
    }
}

/// Splits an OBU element into header, extension and payload, stepping over a size field if the
/// sender left one (the payload then ends where the size says, if that is inside the element).
fn split_fragment(e: &[u8]) -> Result<(u8, &[u8], &[u8]), Error> {
    let codec = Codec::Av1;
    let (&header, mut rest) = e.split_first().ok_or(Error::Empty { what: "AV1 OBU element" })?;
    if header & 0x80 != 0 {
        return Err(Error::Malformed { codec, reason: "OBU forbidden bit set" });
    }
    let mut ext: &[u8] = &[];
    if header & 0x04 != 0 {
        let (x, r) = rest.split_at_checked(1).ok_or(Error::Truncated {
            what: "OBU extension",
            expected: 1,
            actual: 0,
        })?;
        ext = x;
        rest = r;
    }
    if header & 0x02 != 0 {
        let (size, n) =
            read_leb128(rest).ok_or(Error::Malformed { codec, reason: "bad obu_size" })?;
        let r = rest.get(n..).unwrap_or_default();
        rest = r.get(..size as usize).unwrap_or(r);
    }
    Ok((header, ext, rest))
}

impl Depacketize for Av1Depacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Frame<'_>>, Error> {
        self.buf.begin_packet();
        if let Err(e) = self.parse(payload) {
            self.reset();
            return Err(e);
        }
        if !marker {
            return Ok(None);
        }
        if self.open_obu.is_some() {
            self.reset();
            return Err(Error::OutOfOrder {
                codec: Codec::Av1,
                reason: "marker inside a fragmented OBU",
            });
        }
        self.unsized_tail = None;
        self.started = false;
        if self.buf.data.is_empty() {
            self.reset();
            return Err(Error::Empty { what: "AV1 temporal unit" });
        }
        Ok(Some(self.buf.finish()))
    }

    fn reset(&mut self) {
        self.buf.reset();
        self.open_obu = None;
        self.unsized_tail = None;
        self.started = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obu(t: u8, ext: Option<u8>, payload: &[u8], sized: bool) -> Vec<u8> {
        let mut v = vec![(t << 3) | if ext.is_some() { 4 } else { 0 } | if sized { 2 } else { 0 }];
        v.extend(ext);
        if sized {
            let mut leb = [0u8; 5];
            let n = write_leb128(payload.len() as u32, &mut leb);
            v.extend_from_slice(&leb[..n]);
        }
        v.extend_from_slice(payload);
        v
    }

    fn round_trip(frame: &[u8], mtu: usize) -> (Vec<Vec<u8>>, Vec<u8>, bool) {
        let mut p = Av1Packetizer::new(PacketizerConfig::with_mtu(mtu)).unwrap();
        let mut pk = p.packetize(frame).unwrap();
        let mut d = Av1Depacketizer::new(DepacketizerConfig::default());
        let mut buf = vec![0u8; mtu];
        let mut pkts = Vec::new();
        let mut out = None;
        while let Some(r) = pk.next_into(&mut buf) {
            let pl = r.unwrap();
            assert!(pl.len <= mtu);
            pkts.push(buf[..pl.len].to_vec());
            if let Some(f) = d.push(&buf[..pl.len], pl.marker).unwrap() {
                out = Some((f.data.to_vec(), f.keyframe));
            }
        }
        let (f, k) = out.unwrap();
        (pkts, f, k)
    }

    #[test]
    fn aggregates_small_obus_with_w() {
        let mut frame = obu(2, None, &[], true);
        frame.extend(obu(1, None, &[1, 2, 3], true));
        frame.extend(obu(6, Some(0x28), &[9; 10], true));
        let (pkts, f, key) = round_trip(&frame, 100);
        assert_eq!(pkts.len(), 1);
        // W=2, N=1; first element length-prefixed, last not; has_size cleared.
        assert_eq!(pkts[0][..6], [0x28, 4, 0x08, 1, 2, 3]);
        assert_eq!(pkts[0][6..8], [0x34, 0x28]);
        assert!(key);
        let mut expected = obu(1, None, &[1, 2, 3], true);
        expected.extend(obu(6, Some(0x28), &[9; 10], false));
        assert_eq!(f, expected);
    }

    #[test]
    fn fragments_large_obu() {
        let payload: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut frame = obu(1, None, &[7; 5], true);
        frame.extend(obu(6, None, &payload, true));
        frame.extend(obu(15, None, &[0; 4], true)); // padding: dropped
        let (pkts, f, _) = round_trip(&frame, 64);
        assert!(pkts.len() > 15);
        assert_eq!(pkts[0][0] & 0xC0, 0x40); // Y
        assert_eq!(pkts[1][0] & 0xC0, 0xC0); // Z and Y
        assert_eq!(pkts.last().unwrap()[0] & 0xC0, 0x80); // Z
        let mut expected = obu(1, None, &[7; 5], true);
        expected.extend(obu(6, None, &payload, false));
        assert_eq!(f, expected);
    }

    #[test]
    fn received_padding_after_last_obu_is_dropped() {
        // A sender that forwards a padding OBU: the frame OBU must stay the size-less last one.
        let mut d = Av1Depacketizer::new(DepacketizerConfig::default());
        let f = d.push(&[0x20, 0x02, 0x30, 0xAB, 0x78, 0x00], true).unwrap().unwrap();
        assert_eq!(f.data, [0x30, 0xAB]);
        // Fragmented padding too.
        assert!(d.push(&[0x60, 0x02, 0x30, 0xAB, 0x78, 0x00], false).unwrap().is_none());
        let f = d.push(&[0x90, 0x00], true).unwrap().unwrap();
        assert_eq!(f.data, [0x30, 0xAB]);
    }

    #[test]
    fn fragment_boundary_inside_obu_header() {
        // The first fragment is only the header byte of an OBU with an extension; the extension
        // byte and payload follow in the next packet. A size field left by the sender is removed.
        let mut d = Av1Depacketizer::new(DepacketizerConfig::default());
        assert!(d.push(&[0x60, 0x01, 0x08, 0x36], false).unwrap().is_none());
        let f = d.push(&[0x90, 0x05, 0x02, 0x11, 0x22], true).unwrap().unwrap();
        assert_eq!(f.data, [0x0A, 0x00, 0x34, 0x05, 0x11, 0x22]);
        assert!(f.keyframe);
        assert!(d.push(&[0x50, 0x36], false).unwrap().is_none());
        assert!(d.push(&[0x80], true).is_err()); // extension byte never came
    }

    #[test]
    fn many_elements_use_w0() {
        let mut frame = Vec::new();
        for i in 0..6 {
            frame.extend(obu(5, None, &[i; 3], true));
        }
        let (pkts, f, key) = round_trip(&frame, 200);
        assert_eq!(pkts.len(), 1);
        assert_eq!(pkts[0][0] & 0x30, 0);
        assert!(!key);
        let mut expected = Vec::new();
        for i in 0..6 {
            expected.extend(obu(5, None, &[i; 3], i != 5));
        }
        assert_eq!(f, expected);
    }

    #[test]
    fn malformed() {
        let mut d = Av1Depacketizer::new(DepacketizerConfig::default());
        assert!(d.push(&[], true).is_err());
        assert!(d.push(&[0x10], true).is_err()); // no element
        assert!(d.push(&[0x90, 0x30], true).is_err()); // Z without open fragment
        assert!(d.push(&[0x00, 0x05, 0x30], true).is_err()); // length past end
        assert!(d.push(&[0x20, 0x01, 0x30], true).is_err()); // W=2, one element
        assert!(d.push(&[0x10, 0xB0], true).is_err()); // forbidden bit
        assert!(d.push(&[0x50, 0x30, 1], true).is_err()); // marker with open fragment
        assert!(d.push(&[0x10, 0x10], true).is_err()); // only a temporal delimiter
        let f = d.push(&[0x10, 0x30, 0xAB], true).unwrap().unwrap();
        assert_eq!(f.data, [0x30, 0xAB]);
    }
}
