//! Differential tests against webrtc-rs (`rtp` 0.17): its payloaders feed voxwire's
//! depacketizers, and voxwire's packets feed its depacketizers, for H264, H265, VP8, VP9 and
//! AV1 (webrtc-rs has an AV1 payloader only).

mod common;

use bytes::Bytes;
use common::{Rng, collect, h26x_frame, reassemble};
use rtp::codecs::av1::Av1Payloader;
use rtp::codecs::h264::{H264Packet, H264Payloader};
use rtp::codecs::h265::{H265Packet, H265Payload, HevcPayloader};
use rtp::codecs::vp8::{Vp8Packet, Vp8Payloader};
use rtp::codecs::vp9::{Vp9Packet, Vp9Payloader};
use rtp::packetizer::{Depacketizer, Payloader};
use voxwire_video::{
    Av1Depacketizer, Depacketize, DepacketizerConfig, H26xDepacketizer, H26xPacketizer,
    PacketizerConfig, Vp8Depacketizer, Vp8Packetizer, Vp9Depacketizer, Vp9FrameInfo, Vp9Packetizer,
};

const MTUS: [usize; 3] = [200, 1000, 1400];
const SIZES: [usize; 5] = [1, 150, 1199, 5_000, 100_000];

fn theirs(pkts: Vec<Bytes>) -> Vec<(Vec<u8>, bool)> {
    let n = pkts.len();
    pkts.into_iter().enumerate().map(|(i, p)| (p.to_vec(), i + 1 == n)).collect()
}

/// H264 slices only (webrtc-rs drops AUD and filler units and moves SPS/PPS).
fn h264_slices(size: usize, seed: u64) -> Vec<u8> {
    let (_, mut expected) = h26x_frame(false, size, seed);
    // Rewrite every NAL type to a non-IDR slice (1), keeping NRI.
    let mut i = 0;
    while i + 4 < expected.len() {
        if expected[i..i + 4] == [0, 0, 0, 1] {
            expected[i + 4] = (expected[i + 4] & 0x60) | 1;
            i += 5;
        } else {
            i += 1;
        }
    }
    expected
}

#[test]
fn h264_webrtc_payloader_to_voxwire() {
    for (k, &size) in SIZES.iter().enumerate() {
        for mtu in MTUS {
            // webrtc-rs needs NAL units of at least 2 bytes.
            let frame = h264_slices(size.max(2), k as u64 + 1);
            let pkts = H264Payloader::default().payload(mtu, &Bytes::from(frame.clone())).unwrap();
            let mut d = H26xDepacketizer::h264(DepacketizerConfig::default());
            let (got, key) = reassemble(&mut d, &theirs(pkts));
            assert!(!key);
            assert_eq!(got, frame, "size {size} mtu {mtu}");
        }
    }
    // SPS + PPS + IDR: webrtc-rs sends SPS/PPS as a STAP-A before the IDR.
    let mut frame = vec![0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F, 0, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80];
    frame.extend_from_slice(&[0, 0, 0, 1, 0x65]);
    Rng::new(9).nal_body(&mut frame, 3000);
    let pkts = H264Payloader::default().payload(1200, &Bytes::from(frame.clone())).unwrap();
    let mut d = H26xDepacketizer::h264(DepacketizerConfig::default());
    let (got, key) = reassemble(&mut d, &theirs(pkts));
    assert!(key);
    assert_eq!(got, frame);
}

#[test]
fn h264_voxwire_packets_to_webrtc_depacketizer() {
    for (k, &size) in SIZES.iter().enumerate() {
        for mtu in MTUS {
            let (input, expected) = h26x_frame(false, size.max(2), 100 + k as u64);
            let mut p = H26xPacketizer::h264(PacketizerConfig::with_mtu(mtu)).unwrap();
            let pkts = collect(p.packetize(&input).unwrap(), mtu);
            let mut d = H264Packet::default();
            let mut got = Vec::new();
            for (pk, _) in &pkts {
                // webrtc-rs rejects 1-byte packets, which voxwire sends only for 1-byte NALs.
                if let Ok(out) = d.depacketize(&Bytes::from(pk.clone())) {
                    got.extend_from_slice(&out);
                }
            }
            assert_eq!(got, expected, "size {size} mtu {mtu}");
        }
    }
}

#[test]
fn h265_voxwire_packets_parse_in_webrtc() {
    for (k, &size) in SIZES.iter().enumerate() {
        for mtu in MTUS {
            let (input, expected) = h26x_frame(true, size.max(3), 200 + k as u64);
            let mut p = H26xPacketizer::h265(PacketizerConfig::with_mtu(mtu)).unwrap();
            let pkts = collect(p.packetize(&input).unwrap(), mtu);
            let mut got = Vec::new();
            for (pk, _) in &pkts {
                let mut d = H265Packet::default();
                if pk.len() <= 2 {
                    // A 2-byte NAL unit alone: webrtc-rs rejects it as short; copy it.
                    got.extend_from_slice(&[0, 0, 0, 1]);
                    got.extend_from_slice(pk);
                    continue;
                }
                d.depacketize(&Bytes::from(pk.clone())).unwrap();
                match d.payload() {
                    H265Payload::H265SingleNALUnitPacket(s) => {
                        got.extend_from_slice(&[0, 0, 0, 1]);
                        got.extend_from_slice(&s.payload_header().0.to_be_bytes());
                        got.extend_from_slice(&s.payload());
                    }
                    H265Payload::H265AggregationPacket(a) => {
                        let first = a.first_unit().unwrap();
                        for nal in std::iter::once(first.nal_unit()).chain(
                            a.other_units()
                                .iter()
                                .map(rtp::codecs::h265::H265AggregationUnit::nal_unit),
                        ) {
                            got.extend_from_slice(&[0, 0, 0, 1]);
                            got.extend_from_slice(&nal);
                        }
                    }
                    H265Payload::H265FragmentationUnitPacket(f) => {
                        let fu = f.fu_header();
                        if fu.s() {
                            let [b0, b1] = f.payload_header().0.to_be_bytes();
                            got.extend_from_slice(&[
                                0,
                                0,
                                0,
                                1,
                                (b0 & 0x81) | (fu.fu_type() << 1),
                                b1,
                            ]);
                        }
                        got.extend_from_slice(&f.payload());
                    }
                    H265Payload::H265PACIPacket(_) => panic!("voxwire never sends PACI"),
                }
            }
            assert_eq!(got, expected, "size {size} mtu {mtu}");
        }
    }
}

#[test]
fn h265_webrtc_payloader_to_voxwire() {
    // webrtc-rs fragments only IDR_W_RADL, TRAIL_R and TRAIL_N units, and marks the end
    // fragment only when it is shorter than the others: sizes avoid an exact multiple.
    for (t, len) in [(19u8, 5_000usize), (1, 1_000), (0, 40_001), (19, 50)] {
        let mut frame = vec![0, 0, 0, 1, t << 1, 0x01];
        Rng::new(len as u64).nal_body(&mut frame, len);
        let pkts = HevcPayloader::default().payload(1200, &Bytes::from(frame.clone())).unwrap();
        let mut d = H26xDepacketizer::h265(DepacketizerConfig::default());
        let (got, key) = reassemble(&mut d, &theirs(pkts));
        assert_eq!(key, t == 19);
        assert_eq!(got, frame);
    }
}

#[test]
fn vp8_both_directions() {
    for &size in &SIZES {
        for mtu in MTUS {
            let mut frame = Vec::new();
            Rng::new(size as u64).fill(&mut frame, size);
            let mut theirs_p = {
                let mut v = Vp8Payloader::default();
                v.enable_picture_id = true;
                v
            };
            let pkts = theirs_p.payload(mtu, &Bytes::from(frame.clone())).unwrap();
            let mut d = Vp8Depacketizer::new(DepacketizerConfig::default());
            assert_eq!(reassemble(&mut d, &theirs(pkts)).0, frame, "theirs -> ours {size} {mtu}");

            let mut p = Vp8Packetizer::new(PacketizerConfig::with_mtu(mtu)).unwrap();
            let pkts = collect(p.packetize(&frame).unwrap(), mtu);
            let mut got = Vec::new();
            for (i, (pk, _)) in pkts.iter().enumerate() {
                let mut d = Vp8Packet::default();
                got.extend_from_slice(&d.depacketize(&Bytes::from(pk.clone())).unwrap());
                assert_eq!(d.s, u8::from(i == 0));
                assert_eq!(d.picture_id, 0);
            }
            assert_eq!(got, frame, "ours -> theirs {size} {mtu}");
        }
    }
}

#[test]
fn vp9_both_directions() {
    for &size in &SIZES {
        for mtu in MTUS {
            let mut frame = Vec::new();
            Rng::new(size as u64 + 7).fill(&mut frame, size);
            let pkts = Vp9Payloader::default().payload(mtu, &Bytes::from(frame.clone())).unwrap();
            let mut d = Vp9Depacketizer::new(DepacketizerConfig::default());
            assert_eq!(reassemble(&mut d, &theirs(pkts)).0, frame, "theirs -> ours {size} {mtu}");

            for key in [true, false] {
                let info = Vp9FrameInfo { keyframe: key, size: Some((1280, 720)) };
                let mut p = Vp9Packetizer::new(PacketizerConfig::with_mtu(mtu)).unwrap();
                let pkts = collect(p.packetize_with_info(&frame, info).unwrap(), mtu);
                let mut got = Vec::new();
                for (i, (pk, _)) in pkts.iter().enumerate() {
                    let mut d = Vp9Packet::default();
                    got.extend_from_slice(&d.depacketize(&Bytes::from(pk.clone())).unwrap());
                    assert_eq!(d.b, i == 0);
                    assert_eq!(d.e, i + 1 == pkts.len());
                    assert_eq!(d.p, !key);
                    if key && i == 0 {
                        assert!(d.v);
                        assert_eq!((d.width[0], d.height[0]), (1280, 720));
                    }
                }
                assert_eq!(got, frame, "ours -> theirs {size} {mtu}");
            }
        }
    }
}

/// An AV1 temporal unit of OBUs of at most 100 bytes each (see the test below for why).
fn av1_small_obus(total: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let (mut input, mut expected) = (vec![0x12, 0x00], Vec::new());
    let mut left = total;
    while left > 0 {
        let n = (1 + rng.below(100)).min(left);
        left -= n;
        let t = [1u8, 3, 4, 5, 6][rng.below(5)];
        let mut payload = Vec::new();
        rng.fill(&mut payload, n);
        input.extend_from_slice(&[(t << 3) | 2, n as u8]);
        input.extend_from_slice(&payload);
        expected.push((t << 3) | if left > 0 { 2 } else { 0 });
        if left > 0 {
            expected.push(n as u8);
        }
        expected.extend_from_slice(&payload);
    }
    (input, expected)
}

#[test]
fn av1_webrtc_payloader_to_voxwire() {
    for total in [1usize, 150, 1_199, 5_000, 20_000] {
        for mtu in MTUS {
            let (input, expected) = av1_small_obus(total, total as u64 + 3);
            let pkts = Av1Payloader::default().payload(mtu, &Bytes::from(input)).unwrap();
            let mut d = Av1Depacketizer::new(DepacketizerConfig::default());
            assert_eq!(reassemble(&mut d, &theirs(pkts)).0, expected, "size {total} mtu {mtu}");
        }
    }
}

/// webrtc-rs `rtp` 0.17 writes element lengths of 128 bytes or more wrongly (its
/// `put_leb128` shifts the pre-encoded value by 7 bits instead of 8: 872 becomes
/// `86 D0 03` instead of `E8 06`). voxwire must reject such packets with an error, never
/// mis-assemble them.
#[test]
fn av1_webrtc_multibyte_length_bug_is_rejected() {
    let mut input = vec![0x12, 0x00, 0x0A, 0xE7, 0x06];
    input.extend(std::iter::repeat_n(0x5A, 871));
    input.extend_from_slice(&[0x32, 0x05, 1, 2, 3, 4, 5]);
    let pkts = Av1Payloader::default().payload(1400, &Bytes::from(input)).unwrap();
    assert_eq!(pkts.len(), 1);
    assert_eq!(
        pkts[0][1..4],
        [0x86, 0xD0, 0x03],
        "webrtc-rs fixed its LEB128 writer: drop this test"
    );
    let mut d = Av1Depacketizer::new(DepacketizerConfig::default());
    assert!(d.push(&pkts[0], true).is_err());
}
