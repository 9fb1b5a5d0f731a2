//! Packetize then depacketize returns the frame (H26x: 4-byte start codes; AV1: protocol.md 7.7
//! form), and that form is exactly what DAVE's split produces, for frames from 1 byte to 500 KB
//! and MTUs from 200 to 1,400.

mod common;

use common::{Rng, av1_frame, collect, h26x_frame, reassemble};
use proptest::prelude::*;
use voxwire_video::dave::{DaveFrame, split_frame};
use voxwire_video::{
    Av1Depacketizer, Av1Packetizer, Codec, DepacketizerConfig, H26xDepacketizer, H26xPacketizer,
    PacketizerConfig, Vp8Depacketizer, Vp8Packetizer, Vp9Depacketizer, Vp9FrameInfo, Vp9Packetizer,
};

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..3_000, 1usize..=500_000]
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 24, ..ProptestConfig::default() }
}

fn dave_bytes(codec: Codec, frame: &[u8]) -> Vec<u8> {
    let mut d = DaveFrame::new();
    split_frame(codec, frame, &mut d).unwrap();
    d.bytes().to_vec()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn h264(size in size(), mtu in 200usize..=1400, seed in any::<u64>()) {
        let (input, expected) = h26x_frame(false, size, seed);
        let mut p = H26xPacketizer::h264(PacketizerConfig::with_mtu(mtu)).unwrap();
        let pkts = collect(p.packetize(&input).unwrap(), mtu);
        let mut d = H26xDepacketizer::h264(DepacketizerConfig::default());
        let (frame, _) = reassemble(&mut d, &pkts);
        prop_assert_eq!(&frame, &expected);
        // Packetizing the normalised form gives the same bytes again.
        let pkts2 = collect(p.packetize(&expected).unwrap(), mtu);
        prop_assert_eq!(reassemble(&mut d, &pkts2).0, expected);
    }

    #[test]
    fn h265(size in size(), mtu in 200usize..=1400, seed in any::<u64>()) {
        let (input, expected) = h26x_frame(true, size, seed);
        let mut p = H26xPacketizer::h265(PacketizerConfig::with_mtu(mtu)).unwrap();
        let pkts = collect(p.packetize(&input).unwrap(), mtu);
        let mut d = H26xDepacketizer::h265(DepacketizerConfig::default());
        prop_assert_eq!(reassemble(&mut d, &pkts).0, expected);
    }

    #[test]
    fn vp8(size in size(), mtu in 200usize..=1400, seed in any::<u64>()) {
        let mut frame = Vec::new();
        Rng::new(seed).fill(&mut frame, size);
        let mut p = Vp8Packetizer::new(PacketizerConfig::with_mtu(mtu)).unwrap();
        let pkts = collect(p.packetize(&frame).unwrap(), mtu);
        let mut d = Vp8Depacketizer::new(DepacketizerConfig::default());
        let (got, key) = reassemble(&mut d, &pkts);
        prop_assert_eq!(key, frame[0] & 1 == 0);
        prop_assert_eq!(&got, &frame);
        prop_assert_eq!(dave_bytes(Codec::Vp8, &frame), got);
    }

    #[test]
    fn vp9(size in size(), mtu in 200usize..=1400, seed in any::<u64>(), key in any::<bool>()) {
        let mut frame = Vec::new();
        Rng::new(seed).fill(&mut frame, size);
        let info = Vp9FrameInfo { keyframe: key, size: key.then_some((1920, 1080)) };
        let mut p = Vp9Packetizer::new(PacketizerConfig::with_mtu(mtu)).unwrap();
        let pkts = collect(p.packetize_with_info(&frame, info).unwrap(), mtu);
        let mut d = Vp9Depacketizer::new(DepacketizerConfig::default());
        let (got, k) = reassemble(&mut d, &pkts);
        prop_assert_eq!(k, key);
        prop_assert_eq!(got, frame);
    }

    #[test]
    fn av1(size in size(), mtu in 200usize..=1400, seed in any::<u64>()) {
        let (input, expected) = av1_frame(size, seed);
        let mut p = Av1Packetizer::new(PacketizerConfig::with_mtu(mtu)).unwrap();
        let pkts = collect(p.packetize(&input).unwrap(), mtu);
        let mut d = Av1Depacketizer::new(DepacketizerConfig::default());
        let (got, _) = reassemble(&mut d, &pkts);
        prop_assert_eq!(&got, &expected);
        // DAVE's rewrite is the same form, and packetizing it again is a fixed point.
        prop_assert_eq!(&dave_bytes(Codec::Av1, &input), &expected);
        let pkts2 = collect(p.packetize(&expected).unwrap(), mtu);
        prop_assert_eq!(reassemble(&mut d, &pkts2).0, expected);
    }

    #[test]
    fn h26x_dave_form_is_depacketizer_form(size in 1usize..20_000, seed in any::<u64>(), h265 in any::<bool>()) {
        let codec = if h265 { Codec::H265 } else { Codec::H264 };
        let (input, expected) = h26x_frame(h265, size, seed);
        let mut df = DaveFrame::new();
        split_frame(codec, &input, &mut df).unwrap();
        if !df.is_fallback() {
            prop_assert_eq!(df.bytes(), &expected[..]);
        }
    }
}
