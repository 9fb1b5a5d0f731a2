//! Helpers shared by the integration tests: deterministic frame generators and a loop that
//! packetizes and depacketizes.
#![allow(dead_code, unreachable_pub)]

use voxwire_video::{Depacketize, Packets};

/// xorshift64*: deterministic bytes from a seed (fast enough for 500 KB frames in debug builds).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn fill(&mut self, out: &mut Vec<u8>, n: usize) {
        out.reserve(n);
        for _ in 0..n {
            out.push(self.byte());
        }
    }

    /// `n` bytes that never contain `00 00` (so no start code or emulation issue) and do not end
    /// in a zero byte.
    pub fn nal_body(&mut self, out: &mut Vec<u8>, n: usize) {
        let mut prev_zero = false;
        for i in 0..n {
            let mut b = self.byte();
            if b == 0 && (prev_zero || i + 1 == n) {
                b = 0x5A;
            }
            prev_zero = b == 0;
            out.push(b);
        }
    }
}

/// An H264 (or H265) access unit of about `size` NAL bytes. Returns (input with mixed 3/4-byte
/// start codes, expected output with 4-byte start codes).
pub fn h26x_frame(h265: bool, size: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut input = Vec::new();
    let mut expected = Vec::new();
    let header = if h265 { 2 } else { 1 };
    let mut left = size.max(header);
    while left > 0 {
        // Mostly one big slice, sometimes several units of varied size.
        let n = if rng.below(3) == 0 { left } else { (1 + rng.below(left)).max(header) }.min(left);
        let n = if left - n < header { left } else { n };
        let mut nal = Vec::with_capacity(n);
        if h265 {
            let t = rng.below(48) as u8;
            nal.push(t << 1);
            nal.push(1 + (rng.below(7) as u8));
        } else {
            let t = 1 + rng.below(23) as u8;
            nal.push(0x60 | t);
        }
        rng.nal_body(&mut nal, n - header);
        if nal.last() == Some(&0) {
            *nal.last_mut().unwrap() = 0x11;
        }
        if rng.below(2) == 0 {
            input.extend_from_slice(&[0, 0, 1]);
        } else {
            input.extend_from_slice(&[0, 0, 0, 1]);
        }
        input.extend_from_slice(&nal);
        expected.extend_from_slice(&[0, 0, 0, 1]);
        expected.extend_from_slice(&nal);
        left -= n;
    }
    (input, expected)
}

fn leb(v: usize, out: &mut Vec<u8>) {
    let mut v = v;
    loop {
        if v < 0x80 {
            out.push(v as u8);
            return;
        }
        out.push(0x80 | (v & 0x7F) as u8);
        v >>= 7;
    }
}

/// An AV1 temporal unit of about `size` payload bytes in low-overhead format (every OBU with a
/// size field, some padded to 2 bytes, with temporal delimiter and padding OBUs). Returns
/// (input, expected protocol.md 7.7 output).
pub fn av1_frame(size: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut input = vec![0x12, 0x00];
    let mut kept: Vec<(u8, Option<u8>, Vec<u8>)> = Vec::new();
    let mut left = size.max(1);
    let mut first = true;
    while left > 0 {
        let n = if rng.below(3) == 0 { left } else { 1 + rng.below(left) }.min(left);
        let t = if first && rng.below(2) == 0 { 1 } else { [3, 4, 5, 6, 15][rng.below(5)] };
        first = false;
        let ext = (rng.below(4) == 0).then(|| rng.byte());
        let mut payload = Vec::with_capacity(n);
        rng.fill(&mut payload, n);
        input.push((t << 3) | if ext.is_some() { 4 } else { 0 } | 2);
        input.extend(ext);
        if rng.below(4) == 0 && n < 0x80 {
            input.extend_from_slice(&[0x80 | n as u8, 0x00]); // padded LEB128
        } else {
            leb(n, &mut input);
        }
        input.extend_from_slice(&payload);
        if t != 15 {
            kept.push((t, ext, payload));
        }
        left -= n;
    }
    if kept.is_empty() {
        kept.push((6, None, vec![0xAB]));
        input.extend_from_slice(&[0x32, 0x01, 0xAB]);
    }
    let mut expected = Vec::new();
    let count = kept.len();
    for (i, (t, ext, payload)) in kept.into_iter().enumerate() {
        let last = i + 1 == count;
        expected.push((t << 3) | if ext.is_some() { 4 } else { 0 } | if last { 0 } else { 2 });
        expected.extend(ext);
        if !last {
            leb(payload.len(), &mut expected);
        }
        expected.extend_from_slice(&payload);
    }
    (input, expected)
}

/// Packetizes with `packets`, checks sizes and marker placement, returns the payloads.
pub fn collect(mut packets: impl Packets, mtu: usize) -> Vec<(Vec<u8>, bool)> {
    let mut buf = vec![0u8; mtu];
    let mut out = Vec::new();
    while let Some(r) = packets.next_into(&mut buf) {
        let p = r.expect("packetize");
        assert!(p.len <= mtu, "payload {} > mtu {mtu}", p.len);
        assert!(p.len > 0);
        out.push((buf[..p.len].to_vec(), p.marker));
    }
    assert!(!out.is_empty());
    for (i, (_, m)) in out.iter().enumerate() {
        assert_eq!(*m, i + 1 == out.len(), "marker only on the last packet");
    }
    out
}

/// Feeds payloads to `d`; returns the frame and key-frame flag from the marker packet.
pub fn reassemble(d: &mut impl Depacketize, pkts: &[(Vec<u8>, bool)]) -> (Vec<u8>, bool) {
    let mut frame = None;
    for (p, m) in pkts {
        let got = d.push(p, *m).expect("depacketize");
        assert_eq!(got.is_some(), *m);
        if let Some(f) = got {
            frame = Some((f.data.to_vec(), f.keyframe));
        }
    }
    frame.expect("frame")
}
