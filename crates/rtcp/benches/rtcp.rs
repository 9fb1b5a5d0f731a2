//! RTCP compound SR+RR+SDES parse and build, and NACK expansion, with voxwire-rtcp and with
//! webrtc-rs `rtcp` in the same group, so the ratio shows.
#![allow(missing_docs, reason = "criterion generates the entry point")]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use voxwire_rtcp::{
    Compound, NackBuilder, ReceiverReportBuilder, ReportBlock, RtcpPacket, SdesBuilder, SdesChunk,
    SdesItem, SenderInfo, SenderReportBuilder, WriteRtcp, compound_size, write_compound,
};
use voxwire_rtp::{SeqNo, Ssrc};

fn blocks() -> [ReportBlock; 2] {
    [
        ReportBlock {
            ssrc: Ssrc(0x1111),
            fraction_lost: 3,
            cumulative_lost: 120,
            extended_highest_seq: 0x0001_2345,
            jitter: 480,
            last_sr: 0xABCD_0000,
            delay_since_last_sr: 6554,
        },
        ReportBlock { ssrc: Ssrc(0x2222), ..ReportBlock::default() },
    ]
}

fn compound(cr: &mut Criterion) {
    let blocks = blocks();
    let info = SenderInfo {
        ntp_timestamp: 0xE8F1_2345_6789_ABCD,
        rtp_timestamp: 96_000,
        packet_count: 500,
        octet_count: 80_000,
    };
    let sr = SenderReportBuilder { sender_ssrc: Ssrc(0x4242), info, report_blocks: &blocks };
    let rr = ReceiverReportBuilder { sender_ssrc: Ssrc(0x4242), report_blocks: &blocks };
    let items = [SdesItem { kind: 1, value: b"voxwire-4242@example" }];
    let chunks = [SdesChunk { ssrc: Ssrc(0x4242), items: &items }];
    let sdes = SdesBuilder { chunks: &chunks };
    let parts: [&dyn WriteRtcp; 3] = [&sr, &rr, &sdes];
    let mut bytes = vec![0; compound_size(&parts).unwrap()];
    write_compound(&parts, &mut bytes).unwrap();
    let shared = Bytes::from(bytes.clone());
    let theirs = rtcp::packet::unmarshal(&mut shared.clone()).unwrap();

    let mut g = cr.benchmark_group("rtcp_parse/sr_rr_sdes");
    g.bench_function("voxwire", |b| {
        b.iter(|| {
            let c = Compound::parse(black_box(&bytes)).unwrap();
            let mut n = 0u32;
            for p in c.packets() {
                match p {
                    RtcpPacket::SenderReport(s) => {
                        n += s.report_blocks().map(|r| r.jitter).sum::<u32>();
                    }
                    RtcpPacket::ReceiverReport(r) => {
                        n += r.report_blocks().map(|r| r.jitter).sum::<u32>();
                    }
                    RtcpPacket::Sdes(s) => n += s.chunks().count() as u32,
                    _ => {}
                }
            }
            black_box(n);
        });
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let v = rtcp::packet::unmarshal(&mut black_box(&shared).clone()).unwrap();
            black_box(v.len());
        });
    });
    g.finish();

    let mut out = vec![0u8; 1500];
    let mut g = cr.benchmark_group("rtcp_build/sr_rr_sdes");
    g.bench_function("voxwire", |b| {
        b.iter(|| black_box(write_compound(black_box(&parts), &mut out).unwrap()));
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| black_box(rtcp::packet::marshal(black_box(&theirs)).unwrap().len()));
    });
    g.finish();
}

fn nack(cr: &mut Criterion) {
    // 64 losses in bursts: what a video receiver sends after a loss spike.
    let lost: Vec<SeqNo> =
        (0..64u16).map(|i| SeqNo(65_500u16.wrapping_add(i * 3 + (i / 8) * 20))).collect();
    let nb = NackBuilder { sender_ssrc: Ssrc(1), media_ssrc: Ssrc(2), lost: &lost };
    let mut bytes = vec![0; nb.calculate_size().unwrap()];
    nb.write_into(&mut bytes).unwrap();
    let shared = Bytes::from(bytes.clone());
    let mut g = cr.benchmark_group("rtcp_nack_expand/64_lost");
    g.bench_function("voxwire", |b| {
        b.iter(|| {
            let c = Compound::parse(black_box(&bytes)).unwrap();
            let mut sum = 0u32;
            if let Some(RtcpPacket::Nack(n)) = c.packets().next() {
                sum = n.lost().map(|s| u32::from(s.get())).sum();
            }
            black_box(sum);
        });
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let v = rtcp::packet::unmarshal(&mut black_box(&shared).clone()).unwrap();
            let n = v[0]
                .as_any()
                .downcast_ref::<rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack>()
                .unwrap();
            let sum: u32 = n.nacks.iter().flat_map(rtcp::transport_feedbacks::transport_layer_nack::NackPair::packet_list).map(u32::from).sum();
            black_box(sum);
        });
    });
    g.finish();
    let mut out = [0u8; 512];
    let mut g = cr.benchmark_group("rtcp_nack_build/64_lost");
    g.bench_function("voxwire", |b| {
        b.iter(|| black_box(black_box(&nb).write_into(&mut out).unwrap()));
    });
    g.bench_function("webrtc-rs", |b| {
        let seqs: Vec<u16> = lost.iter().map(|s| s.get()).collect();
        b.iter(|| {
            let pairs =
                rtcp::transport_feedbacks::transport_layer_nack::nack_pairs_from_sequence_numbers(
                    black_box(&seqs),
                );
            black_box(pairs.len());
        });
    });
    g.finish();
}

criterion_group!(benches, compound, nack);
criterion_main!(benches);
