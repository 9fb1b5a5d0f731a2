//! Parse and build RTP packets of realistic sizes with voxwire-rtp and with webrtc-rs `rtp` in
//! the same group, so the ratio shows.
#![allow(missing_docs, reason = "criterion generates the entry point")]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voxwire_rtp::ext::ExtensionElement;
use voxwire_rtp::{PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, SeqNo, Ssrc};
use webrtc_util::marshal::{Marshal, Unmarshal};

struct Case {
    name: &'static str,
    pt: u8,
    payload: Vec<u8>,
    ext: Vec<(u8, Vec<u8>)>,
}

fn cases() -> [Case; 3] {
    [
        // discord.js sends bare 12-byte headers.
        Case { name: "audio_160_bare", pt: 120, payload: vec![0x5A; 160], ext: vec![] },
        // Discord audio as the native client sends it (protocol.md 4.5): level, abs-send-time,
        // speaking, mid; a 160-byte Opus frame.
        Case {
            name: "audio_160",
            pt: 120,
            payload: vec![0x5A; 160],
            ext: vec![(1, vec![0x9E]), (3, vec![1, 2, 3]), (9, vec![2]), (10, b"audio".to_vec())],
        },
        // Video: transport-cc, playout-delay, video-content-type, mid, rid; 1,200-byte payload.
        Case {
            name: "video_1200",
            pt: 105,
            payload: vec![0xA5; 1200],
            ext: vec![
                (5, vec![0, 42]),
                (6, vec![0, 0, 0]),
                (7, vec![0]),
                (10, b"video".to_vec()),
                (11, b"100".to_vec()),
            ],
        },
    ]
}

fn voxwire_bytes(c: &Case) -> Vec<u8> {
    let ext: Vec<_> = c.ext.iter().map(|(id, d)| ExtensionElement::new(*id, d)).collect();
    let b = RtpPacketBuilder::new(
        PayloadType::new(c.pt).unwrap(),
        SeqNo(4711),
        RtpTimestamp(96_000),
        Ssrc(0x1234_5678),
    )
    .marker(true)
    .extensions(&ext)
    .payload(&c.payload);
    let mut v = vec![0; b.calculate_size().unwrap()];
    b.write_into(&mut v).unwrap();
    v
}

fn parse(cr: &mut Criterion) {
    for c in cases() {
        let bytes = voxwire_bytes(&c);
        let shared = Bytes::from(bytes.clone());
        let mut g = cr.benchmark_group(format!("rtp_parse/{}", c.name));
        g.throughput(Throughput::Elements(1));
        g.bench_function("voxwire", |b| {
            b.iter(|| {
                let p = RtpPacket::parse(black_box(&bytes)).unwrap();
                black_box((p.sequence_number(), p.payload().len()));
            });
        });
        g.bench_function("webrtc-rs", |b| {
            b.iter(|| {
                // Parsing from `Bytes` is webrtc-rs's cheapest path: the payload is a
                // reference-counted slice rather than a copy.
                let p = rtp::packet::Packet::unmarshal(&mut black_box(&shared).clone()).unwrap();
                black_box((p.header.sequence_number, p.payload.len()));
            });
        });
        g.finish();
    }
}

fn build(cr: &mut Criterion) {
    for c in cases() {
        let ext: Vec<_> = c.ext.iter().map(|(id, d)| ExtensionElement::new(*id, d)).collect();
        let theirs = rtp::packet::Packet::unmarshal(&mut Bytes::from(voxwire_bytes(&c))).unwrap();
        let mut buf = vec![0u8; 1500];
        let mut g = cr.benchmark_group(format!("rtp_build/{}", c.name));
        g.throughput(Throughput::Elements(1));
        g.bench_function("voxwire", |b| {
            b.iter(|| {
                let n = RtpPacketBuilder::new(
                    PayloadType::new(c.pt).unwrap(),
                    SeqNo(black_box(4711)),
                    RtpTimestamp(96_000),
                    Ssrc(0x1234_5678),
                )
                .marker(true)
                .extensions(black_box(&ext))
                .payload(black_box(&c.payload))
                .write_into(&mut buf)
                .unwrap();
                black_box(&buf[..n]);
            });
        });
        g.bench_function("webrtc-rs", |b| {
            b.iter(|| {
                let n = black_box(&theirs).marshal_to(&mut buf).unwrap();
                black_box(&buf[..n]);
            });
        });
        // What a sender pays per packet with webrtc-rs: build the owned `Packet` (header
        // fields, extension list, payload handle), then marshal it.
        let payload = Bytes::from(c.payload.clone());
        g.bench_function("webrtc-rs+construct", |b| {
            b.iter(|| {
                let mut header = rtp::header::Header {
                    version: 2,
                    marker: true,
                    payload_type: c.pt,
                    sequence_number: black_box(4711),
                    timestamp: 96_000,
                    ssrc: 0x1234_5678,
                    ..Default::default()
                };
                for (id, d) in black_box(&c.ext) {
                    header.set_extension(*id, Bytes::copy_from_slice(d)).unwrap();
                }
                let p = rtp::packet::Packet { header, payload: black_box(&payload).clone() };
                let n = p.marshal_to(&mut buf).unwrap();
                black_box(&buf[..n]);
            });
        });
        g.finish();
    }
}

criterion_group!(benches, parse, build);
criterion_main!(benches);
