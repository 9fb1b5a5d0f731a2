//! Packetize and depacketize a 100 KB key frame and a 5 KB delta frame per codec at MTU 1,200,
//! voxwire against webrtc-rs (`rtp` 0.17) in the same group.
//!
//! `cargo bench -p voxwire-video --bench packetize -- --warm-up-time 1 --measurement-time 3`

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use bytes::Bytes;
use common::{Rng, av1_frame, h26x_frame};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtp::codecs::av1::Av1Payloader;
use rtp::codecs::h264::{H264Packet, H264Payloader};
use rtp::codecs::h265::{H265Packet, HevcPayloader};
use rtp::codecs::vp8::{Vp8Packet, Vp8Payloader};
use rtp::codecs::vp9::{Vp9Packet, Vp9Payloader};
use rtp::packetizer::{Depacketizer, Payloader};
use voxwire_video::{
    Av1Depacketizer, Av1Packetizer, Codec, Depacketize, DepacketizerConfig, H26xDepacketizer,
    H26xPacketizer, PacketizerConfig, Packets, Vp8Depacketizer, Vp8Packetizer, Vp9Depacketizer,
    Vp9FrameInfo, Vp9Packetizer,
};

const MTU: usize = 1200;

/// Frames per codec: (name, bytes).
fn frames(codec: Codec) -> [(&'static str, Vec<u8>); 2] {
    let make = |size: usize, seed: u64| -> Vec<u8> {
        match codec {
            Codec::H264 | Codec::H265 => {
                // One slice per frame, as encoders configured for RTP produce.
                let mut f = if codec == Codec::H264 {
                    vec![0, 0, 0, 1, 0x65]
                } else {
                    vec![0, 0, 0, 1, 0x26, 0x01]
                };
                Rng::new(seed).nal_body(&mut f, size);
                let _ = h26x_frame;
                f
            }
            Codec::Av1 => av1_frame(size, seed).0,
            _ => {
                let mut f = Vec::new();
                Rng::new(seed).fill(&mut f, size);
                f
            }
        }
    };
    [("keyframe_100k", make(100_000, 1)), ("delta_5k", make(5_000, 2))]
}

fn ours_packets(codec: Codec, frame: &[u8], buf: &mut [u8], out: &mut Vec<(Vec<u8>, bool)>) {
    let cfg = PacketizerConfig::with_mtu(MTU);
    let mut emit = |mut p: Box<dyn Packets + '_>| {
        while let Some(r) = p.next_into(buf) {
            let pl = r.unwrap();
            out.push((buf[..pl.len].to_vec(), pl.marker));
        }
    };
    match codec {
        Codec::H264 | Codec::H265 => {
            emit(Box::new(H26xPacketizer::new(codec, cfg).unwrap().packetize(frame).unwrap()));
        }
        Codec::Vp8 => emit(Box::new(Vp8Packetizer::new(cfg).unwrap().packetize(frame).unwrap())),
        Codec::Vp9 => emit(Box::new(
            Vp9Packetizer::new(cfg)
                .unwrap()
                .packetize_with_info(frame, Vp9FrameInfo::default())
                .unwrap(),
        )),
        Codec::Av1 => emit(Box::new(Av1Packetizer::new(cfg).unwrap().packetize(frame).unwrap())),
    }
}

fn bench_codec(c: &mut Criterion, codec: Codec) {
    let cfg = PacketizerConfig::with_mtu(MTU);
    for (name, frame) in frames(codec) {
        let mut g = c.benchmark_group(format!("{}/{name}", codec.name()));
        g.throughput(Throughput::Bytes(frame.len() as u64));
        let mut buf = vec![0u8; MTU];

        // Packetize: voxwire writes each payload into one reused buffer.
        macro_rules! ours {
            ($p:expr, $packets:ident => $call:expr) => {{
                let mut $packets = $p;
                g.bench_function("voxwire/packetize", |b| {
                    b.iter(|| {
                        let mut pk = $call;
                        let mut n = 0usize;
                        while let Some(r) = pk.next_into(&mut buf) {
                            n += r.unwrap().len;
                        }
                        black_box(n)
                    })
                });
            }};
        }
        match codec {
            Codec::H264 | Codec::H265 => {
                ours!(H26xPacketizer::new(codec, cfg).unwrap(), p => p.packetize(&frame).unwrap());
            }
            Codec::Vp8 => {
                ours!(Vp8Packetizer::new(cfg).unwrap(), p => p.packetize(&frame).unwrap());
            }
            Codec::Vp9 => ours!(Vp9Packetizer::new(cfg).unwrap(),
                p => p.packetize_with_info(&frame, Vp9FrameInfo::default()).unwrap()),
            Codec::Av1 => {
                ours!(Av1Packetizer::new(cfg).unwrap(), p => p.packetize(&frame).unwrap());
            }
        }
        let bytes = Bytes::from(frame.clone());
        let mut theirs: Box<dyn Payloader> = match codec {
            Codec::H264 => Box::new(H264Payloader::default()),
            Codec::H265 => Box::new(HevcPayloader::default()),
            Codec::Vp8 => Box::new({
                let mut v = Vp8Payloader::default();
                v.enable_picture_id = true;
                v
            }),
            Codec::Vp9 => Box::new(Vp9Payloader::default()),
            Codec::Av1 => Box::new(Av1Payloader::default()),
        };
        g.bench_function("webrtc-rs/packetize", |b| {
            b.iter(|| black_box(theirs.payload(MTU, &bytes).unwrap().len()));
        });

        // Depacketize the same packets (voxwire's for voxwire; webrtc-rs's for webrtc-rs).
        let mut pkts = Vec::new();
        ours_packets(codec, &frame, &mut buf, &mut pkts);
        macro_rules! ours_d {
            ($d:expr) => {{
                let mut d = $d;
                g.bench_function("voxwire/depacketize", |b| {
                    b.iter(|| {
                        let mut n = 0;
                        for (p, m) in &pkts {
                            if let Some(f) = d.push(p, *m).unwrap() {
                                n = f.data.len();
                            }
                        }
                        black_box(n)
                    })
                });
            }};
        }
        let dc = DepacketizerConfig::default();
        match codec {
            Codec::H264 => ours_d!(H26xDepacketizer::h264(dc)),
            Codec::H265 => ours_d!(H26xDepacketizer::h265(dc)),
            Codec::Vp8 => ours_d!(Vp8Depacketizer::new(dc)),
            Codec::Vp9 => ours_d!(Vp9Depacketizer::new(dc)),
            Codec::Av1 => ours_d!(Av1Depacketizer::new(dc)),
        }
        let their_pkts: Vec<Bytes> = theirs.payload(MTU, &bytes).unwrap();
        let mut their_d: Option<Box<dyn Depacketizer>> = match codec {
            Codec::H264 => Some(Box::new(H264Packet::default())),
            // webrtc-rs's H265 "depacketizer" parses one packet; it does not rebuild frames.
            Codec::H265 => Some(Box::new(H265Packet::default())),
            Codec::Vp8 => Some(Box::new(Vp8Packet::default())),
            Codec::Vp9 => Some(Box::new(Vp9Packet::default())),
            Codec::Av1 => None,
        };
        if let Some(d) = their_d.as_mut() {
            g.bench_function("webrtc-rs/depacketize", |b| {
                b.iter(|| {
                    // What a receiver does with webrtc-rs: depacketize each packet, append.
                    let mut frame = Vec::new();
                    for p in &their_pkts {
                        frame.extend_from_slice(&d.depacketize(p).unwrap());
                    }
                    black_box(frame.len())
                });
            });
        }
        g.finish();
    }
}

fn benches(c: &mut Criterion) {
    for codec in Codec::ALL {
        bench_codec(c, codec);
    }
}

criterion_group!(packetize, benches);
criterion_main!(packetize);
