//! Targets for `voxwire-video`: every depacketizer, a packetize/depacketize round trip, the IVF
//! and Annex B readers, and DAVE's per-codec frame split.
//!
//! Depacketizer inputs are a sequence of packets, each `len: u16 LE` (bit 15 = RTP marker, low
//! 11 bits = length) followed by that many payload bytes.

use voxwire_video::dave::{self, DaveFrame};
use voxwire_video::nal::NalUnits;
use voxwire_video::{
    Av1Depacketizer, Av1Packetizer, Codec, Depacketize, DepacketizerConfig, H26xDepacketizer,
    H26xPacketizer, PacketizerConfig, Packets, Vp8Depacketizer, Vp8Packetizer, Vp9Depacketizer,
    Vp9FrameInfo, Vp9Packetizer,
};

use crate::Target;

/// The video targets.
pub const TARGETS: &[Target] = &[
    Target { name: "video_h264_depacketize", run: h264_depacketize },
    Target { name: "video_h265_depacketize", run: h265_depacketize },
    Target { name: "video_vp8_depacketize", run: vp8_depacketize },
    Target { name: "video_vp9_depacketize", run: vp9_depacketize },
    Target { name: "video_av1_depacketize", run: av1_depacketize },
    Target { name: "video_round_trip", run: round_trip },
    Target { name: "video_ivf_read", run: ivf_read },
    Target { name: "video_annexb_split", run: annexb_split },
    Target { name: "video_dave_split", run: dave_split },
];

fn config() -> DepacketizerConfig {
    DepacketizerConfig { max_frame_size: 1 << 20 }
}

/// Feeds the packets encoded in `data` to `d`; calls `check` on every frame.
fn feed(d: &mut impl Depacketize, mut data: &[u8], check: fn(&[u8])) {
    while let Some((h, rest)) = data.split_first_chunk::<2>() {
        let h = u16::from_le_bytes(*h);
        let len = usize::from(h & 0x07FF).min(rest.len());
        let (payload, rest) = rest.split_at(len);
        data = rest;
        if let Ok(Some(frame)) = d.push(payload, h & 0x8000 != 0) {
            check(frame.data);
        }
    }
}

fn h26x_frame_check(frame: &[u8]) {
    assert!(frame.starts_with(&[0, 0, 0, 1]), "H26x frame must start with a 4-byte start code");
}

/// H264 depacketizer: never panics; frames start with a 4-byte start code.
pub fn h264_depacketize(data: &[u8]) {
    feed(&mut H26xDepacketizer::h264(config()), data, h26x_frame_check);
}

/// H265 depacketizer: never panics; frames start with a 4-byte start code.
pub fn h265_depacketize(data: &[u8]) {
    feed(&mut H26xDepacketizer::h265(config()), data, h26x_frame_check);
}

/// VP8 depacketizer: never panics.
pub fn vp8_depacketize(data: &[u8]) {
    feed(&mut Vp8Depacketizer::new(config()), data, |f| assert!(!f.is_empty()));
}

/// VP9 depacketizer: never panics.
pub fn vp9_depacketize(data: &[u8]) {
    feed(&mut Vp9Depacketizer::new(config()), data, |f| assert!(!f.is_empty()));
}

/// AV1 depacketizer: never panics, and every frame is already in DAVE's form (splitting it
/// again changes nothing).
pub fn av1_depacketize(data: &[u8]) {
    feed(&mut Av1Depacketizer::new(config()), data, |frame| {
        let mut d = DaveFrame::new();
        dave::split_frame(Codec::Av1, frame, &mut d).expect("non-empty frame");
        assert!(!d.is_fallback(), "depacketizer output must be well-formed");
        assert_eq!(d.bytes(), frame, "depacketizer output must be a DAVE fixed point");
    });
}

fn packetize_all(mut p: impl Packets) -> Vec<(Vec<u8>, bool)> {
    let mut buf = vec![0u8; p.max_payload_size()];
    let mut out = Vec::new();
    while let Some(r) = p.next_into(&mut buf) {
        let pl = r.expect("buffer of max_payload_size suffices");
        assert!(pl.len <= buf.len());
        out.push((buf[..pl.len].to_vec(), pl.marker));
    }
    out
}

fn depacketize_all(d: &mut impl Depacketize, pkts: &[(Vec<u8>, bool)]) -> Vec<u8> {
    let mut frame = None;
    for (p, m) in pkts {
        if let Some(f) = d.push(p, *m).expect("own packets depacketize") {
            frame = Some(f.data.to_vec());
        }
    }
    frame.expect("marker on the last packet")
}

/// Packetize then depacketize an arbitrary frame: `data[0]` picks the codec, `data[1]` the MTU;
/// the result is the frame in its normal form.
pub fn round_trip(data: &[u8]) {
    let [sel, mtu_byte, frame @ ..] = data else { return };
    let mtu = 32 + usize::from(*mtu_byte) * 4;
    let cfg = PacketizerConfig::with_mtu(mtu);
    let d = DepacketizerConfig::default();
    match sel % 5 {
        0 | 1 => {
            let codec = if sel % 5 == 0 { Codec::H264 } else { Codec::H265 };
            let mut p = H26xPacketizer::new(codec, cfg).expect("valid config");
            let Ok(pk) = p.packetize(frame) else { return };
            let pkts = packetize_all(pk);
            let mut dp = if codec == Codec::H264 {
                H26xDepacketizer::h264(d)
            } else {
                H26xDepacketizer::h265(d)
            };
            let got = depacketize_all(&mut dp, &pkts);
            let mut expected = Vec::new();
            for nal in NalUnits::new(frame) {
                expected.extend_from_slice(&[0, 0, 0, 1]);
                expected.extend_from_slice(nal);
            }
            assert_eq!(got, expected);
        }
        2 => {
            let mut p = Vp8Packetizer::new(cfg).expect("valid config");
            let Ok(pk) = p.packetize(frame) else { return };
            let pkts = packetize_all(pk);
            assert_eq!(depacketize_all(&mut Vp8Depacketizer::new(d), &pkts), frame);
        }
        3 => {
            let info = Vp9FrameInfo { keyframe: sel & 0x80 != 0, size: Some((640, 360)) };
            let mut p = Vp9Packetizer::new(cfg).expect("valid config");
            let Ok(pk) = p.packetize_with_info(frame, info) else { return };
            let pkts = packetize_all(pk);
            assert_eq!(depacketize_all(&mut Vp9Depacketizer::new(d), &pkts), frame);
        }
        _ => {
            let mut p = Av1Packetizer::new(cfg).expect("valid config");
            let Ok(pk) = p.packetize(frame) else { return };
            let pkts = packetize_all(pk);
            let got = depacketize_all(&mut Av1Depacketizer::new(d), &pkts);
            let mut df = DaveFrame::new();
            dave::split_frame(Codec::Av1, frame, &mut df).expect("non-empty");
            assert_eq!(got, df.bytes());
        }
    }
}

/// IVF reader: never panics; frames lie inside the input.
pub fn ivf_read(data: &[u8]) {
    let Ok(r) = voxwire_video::ivf::IvfReader::new(data) else { return };
    let _ = r.header().codec();
    let mut total = 0usize;
    for f in r {
        let Ok(f) = f else { break };
        total += f.data.len();
    }
    assert!(total <= data.len());
}

/// Annex B access-unit splitter: never panics; the units are disjoint, ordered and cover the
/// stream from its first start code.
pub fn annexb_split(data: &[u8]) {
    for codec in [Codec::H264, Codec::H265] {
        let Ok(units) = voxwire_video::annexb::AccessUnits::new(codec, data) else { return };
        let lead = NalUnits::new(data).leading();
        let covered: usize = units.map(<[u8]>::len).sum();
        assert_eq!(covered, data.len() - lead);
    }
}

/// DAVE split for every codec: never panics; ranges are ascending, merged and inside the bytes;
/// the start-code check runs on the result.
pub fn dave_split(data: &[u8]) {
    let mut out = DaveFrame::new();
    for codec in Codec::ALL {
        if dave::split_frame(codec, data, &mut out).is_err() {
            assert!(data.is_empty());
            continue;
        }
        let mut prev_end = None;
        for r in out.clear_ranges() {
            assert!(r.len > 0 && r.end() <= out.bytes().len());
            if let Some(e) = prev_end {
                assert!(r.offset > e, "ranges must be ascending and merged");
            }
            prev_end = Some(r.end());
        }
        let _ = dave::has_start_code_in_encrypted(out.bytes(), out.clear_ranges());
    }
}
