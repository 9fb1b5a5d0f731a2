//! Differential tests against webrtc-rs `rtcp` 0.17, an independent implementation. Random
//! packets built by voxwire are parsed by both and the fields agree; webrtc-rs then re-marshals
//! what it parsed, and voxwire parses those bytes to the same fields again.

#![allow(
    clippy::cast_precision_loss,
    reason = "REMB bitrates are compared as floats, as webrtc-rs keeps them"
)]

use bytes::Bytes;
use proptest::prelude::*;
use rtcp::packet::Packet;
use voxwire_rtcp::twcc::TwccStatus;
use voxwire_rtcp::{
    ByeBuilder, Compound, FirBuilder, FirEntry, NackBuilder, Pli, ReceiverReportBuilder,
    RembBuilder, ReportBlock, RtcpPacket, SdesBuilder, SdesChunk, SdesItem, SenderInfo,
    SenderReportBuilder, TransportCcBuilder, WriteRtcp,
};
use voxwire_rtp::{SeqNo, Ssrc};

type Theirs = Box<dyn Packet + Send + Sync>;
type SdesList = Vec<(u32, Vec<(u8, Vec<u8>)>)>;

fn write(b: &dyn WriteRtcp) -> Vec<u8> {
    let mut buf = vec![0; b.calculate_size().unwrap()];
    b.write_into(&mut buf).unwrap();
    buf
}

fn theirs_parse(bytes: &[u8]) -> Theirs {
    let mut v = rtcp::packet::unmarshal(&mut Bytes::copy_from_slice(bytes)).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn get<T: 'static>(p: &Theirs) -> &T {
    p.as_any().downcast_ref::<T>().expect("webrtc-rs parsed a different packet type")
}

fn blocks_agree(ours: &[ReportBlock], theirs: &[rtcp::reception_report::ReceptionReport]) {
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(theirs) {
        assert_eq!(a.ssrc.get(), b.ssrc);
        assert_eq!(a.fraction_lost, b.fraction_lost);
        assert_eq!(a.cumulative_lost.cast_unsigned() & 0xFF_FFFF, b.total_lost);
        assert_eq!(a.extended_highest_seq, b.last_sequence_number);
        assert_eq!(a.jitter, b.jitter);
        assert_eq!(a.last_sr, b.last_sender_report);
        assert_eq!(a.delay_since_last_sr, b.delay);
    }
}

/// Compares one voxwire packet with one webrtc-rs packet, field by field.
fn agree(ours: &RtcpPacket<'_>, theirs: &Theirs) {
    match ours {
        RtcpPacket::SenderReport(sr) => {
            let t = get::<rtcp::sender_report::SenderReport>(theirs);
            assert_eq!(sr.sender_ssrc.get(), t.ssrc);
            assert_eq!(sr.info.ntp_timestamp, t.ntp_time);
            assert_eq!(sr.info.rtp_timestamp, t.rtp_time);
            assert_eq!(sr.info.packet_count, t.packet_count);
            assert_eq!(sr.info.octet_count, t.octet_count);
            blocks_agree(&sr.report_blocks().collect::<Vec<_>>(), &t.reports);
        }
        RtcpPacket::ReceiverReport(rr) => {
            let t = get::<rtcp::receiver_report::ReceiverReport>(theirs);
            assert_eq!(rr.sender_ssrc.get(), t.ssrc);
            blocks_agree(&rr.report_blocks().collect::<Vec<_>>(), &t.reports);
        }
        RtcpPacket::Sdes(s) => {
            let t = get::<rtcp::source_description::SourceDescription>(theirs);
            let ours: SdesList = s
                .chunks()
                .map(|(ssrc, items)| {
                    (ssrc.get(), items.map(|i| (i.kind, i.value.to_vec())).collect())
                })
                .collect();
            let theirs: SdesList = t
                .chunks
                .iter()
                .map(|c| {
                    (
                        c.source,
                        c.items.iter().map(|i| (i.sdes_type as u8, i.text.to_vec())).collect(),
                    )
                })
                .collect();
            assert_eq!(ours, theirs);
        }
        RtcpPacket::Bye(b) => {
            let t = get::<rtcp::goodbye::Goodbye>(theirs);
            assert_eq!(b.ssrcs().map(Ssrc::get).collect::<Vec<_>>(), t.sources);
            assert_eq!(b.reason.unwrap_or_default(), &t.reason[..]);
        }
        RtcpPacket::Nack(n) => {
            let t =
                get::<rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack>(theirs);
            assert_eq!((n.sender_ssrc.get(), n.media_ssrc.get()), (t.sender_ssrc, t.media_ssrc));
            let ours: Vec<(u16, u16)> = n.pairs().map(|p| (p.pid.get(), p.blp)).collect();
            let theirs: Vec<(u16, u16)> =
                t.nacks.iter().map(|p| (p.packet_id, p.lost_packets)).collect();
            assert_eq!(ours, theirs);
            let theirs_lost: Vec<u16> = t
                .nacks
                .iter()
                .flat_map(rtcp::transport_feedbacks::transport_layer_nack::NackPair::packet_list)
                .collect();
            assert_eq!(n.lost().map(SeqNo::get).collect::<Vec<_>>(), theirs_lost);
        }
        RtcpPacket::Pli(p) => {
            let t = get::<rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication>(
                theirs,
            );
            assert_eq!((p.sender_ssrc.get(), p.media_ssrc.get()), (t.sender_ssrc, t.media_ssrc));
        }
        RtcpPacket::Fir(f) => {
            let t = get::<rtcp::payload_feedbacks::full_intra_request::FullIntraRequest>(theirs);
            assert_eq!(f.sender_ssrc.get(), t.sender_ssrc);
            let ours: Vec<(u32, u8)> = f.entries().map(|e| (e.ssrc.get(), e.seq)).collect();
            let theirs: Vec<(u32, u8)> =
                t.fir.iter().map(|e| (e.ssrc, e.sequence_number)).collect();
            assert_eq!(ours, theirs);
        }
        RtcpPacket::Remb(r) => {
            let t = get::<rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate>(theirs);
            assert_eq!(r.sender_ssrc.get(), t.sender_ssrc);
            let (a, b) = (r.bitrate as f64, f64::from(t.bitrate));
            assert!((a - b).abs() <= a.max(b) * 1e-6 + 1.0, "REMB bitrate {a} vs {b}");
            assert_eq!(r.ssrcs().map(Ssrc::get).collect::<Vec<_>>(), t.ssrcs);
        }
        RtcpPacket::TransportCc(tc) => {
            let t = get::<rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc>(theirs);
            assert_eq!((tc.sender_ssrc.get(), tc.media_ssrc.get()), (t.sender_ssrc, t.media_ssrc));
            assert_eq!(tc.base_seq.get(), t.base_sequence_number);
            assert_eq!(tc.status_count, t.packet_status_count);
            assert_eq!(tc.reference_time.cast_unsigned() & 0xFF_FFFF, t.reference_time);
            assert_eq!(tc.fb_pkt_count, t.fb_pkt_count);
            let ours: Vec<i64> = tc.packets().filter_map(|p| p.status.delta_us()).collect();
            let theirs: Vec<i64> = t.recv_deltas.iter().map(|d| d.delta).collect();
            assert_eq!(ours, theirs);
        }
        other => panic!("no comparison for {other:?}"),
    }
}

/// Builds with voxwire, checks both parses agree, then lets webrtc-rs re-marshal and checks that
/// voxwire reads webrtc-rs's bytes to the same fields.
fn check(b: &dyn WriteRtcp) {
    let bytes = write(b);
    let theirs = theirs_parse(&bytes);
    let ours = Compound::parse(&bytes).unwrap();
    let ours = ours.packets().next().unwrap();
    agree(&ours, &theirs);
    let their_bytes = theirs.marshal().unwrap();
    let again = Compound::parse(&their_bytes).expect("voxwire rejects webrtc-rs's bytes");
    agree(&again.packets().next().unwrap(), &theirs);
}

fn report_block() -> impl Strategy<Value = ReportBlock> {
    // webrtc-rs treats the cumulative count as unsigned 24 bits; use the non-negative half.
    (any::<u32>(), any::<u8>(), 0i32..(1 << 23), any::<[u32; 4]>()).prop_map(
        |(s, f, c, [a, b, d, e])| ReportBlock {
            ssrc: Ssrc(s),
            fraction_lost: f,
            cumulative_lost: c,
            extended_highest_seq: a,
            jitter: b,
            last_sr: d,
            delay_since_last_sr: e,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn sr_rr(s: u32, ntp: u64, rtp: u32, pc: u32, oc: u32, blocks in prop::collection::vec(report_block(), 0..=31)) {
        let info = SenderInfo { ntp_timestamp: ntp, rtp_timestamp: rtp, packet_count: pc, octet_count: oc };
        check(&SenderReportBuilder { sender_ssrc: Ssrc(s), info, report_blocks: &blocks });
        check(&ReceiverReportBuilder { sender_ssrc: Ssrc(s), report_blocks: &blocks });
    }

    #[test]
    fn sdes(chunks in prop::collection::vec((any::<u32>(), prop::collection::vec((1u8..=8, prop::collection::vec(any::<u8>(), 0..=40)), 1..4)), 1..=8)) {
        let items: Vec<Vec<SdesItem<'_>>> = chunks.iter().map(|(_, it)| it.iter().map(|(k, v)| SdesItem { kind: *k, value: v }).collect()).collect();
        let specs: Vec<SdesChunk<'_>> = chunks.iter().zip(&items).map(|((s, _), it)| SdesChunk { ssrc: Ssrc(*s), items: it }).collect();
        check(&SdesBuilder { chunks: &specs });
    }

    #[test]
    fn bye(ssrcs in prop::collection::vec(any::<u32>().prop_map(Ssrc), 0..=31), reason in prop::option::of(prop::collection::vec(any::<u8>(), 1..=255))) {
        check(&ByeBuilder { ssrcs: &ssrcs, reason: reason.as_deref() });
    }

    #[test]
    fn nack(s: u32, m: u32, lost in prop::collection::btree_set(any::<u16>(), 1..100)) {
        let lost: Vec<SeqNo> = lost.into_iter().map(SeqNo).collect();
        check(&NackBuilder { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(m), lost: &lost });
    }

    #[test]
    fn pli_fir(s: u32, m: u32, entries in prop::collection::vec((any::<u32>(), any::<u8>()), 1..10)) {
        check(&Pli { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(m) });
        let entries: Vec<FirEntry> = entries.into_iter().map(|(s, q)| FirEntry { ssrc: Ssrc(s), seq: q }).collect();
        check(&FirBuilder { sender_ssrc: Ssrc(s), entries: &entries });
    }

    #[test]
    fn remb(s: u32, bitrate in 0u64..(1 << 40), ssrcs in prop::collection::vec(any::<u32>().prop_map(Ssrc), 0..20)) {
        check(&RembBuilder { sender_ssrc: Ssrc(s), bitrate, ssrcs: &ssrcs });
    }

    #[test]
    fn transport_cc(s: u32, m: u32, base: u16, rt in 0i32..(1 << 23), count: u8,
                    runs in prop::collection::vec((0u8..3, any::<i16>(), 1usize..30), 1..20)) {
        let statuses: Vec<TwccStatus> = runs.into_iter().flat_map(|(k, d, n)| {
            let st = match k { 0 => TwccStatus::NotReceived, 1 => TwccStatus::Small(d.to_be_bytes()[1]), _ => TwccStatus::Large(d) };
            std::iter::repeat_n(st, if n > 20 { n } else { 1 })
        }).collect();
        // webrtc-rs re-encodes a large-symbol delta that fits a byte as a small one; give it
        // the canonical choice so its bytes describe the same statuses.
        let statuses: Vec<TwccStatus> = statuses.into_iter().map(|s| match s {
            TwccStatus::Large(d) => TwccStatus::from_ticks(d),
            other => other,
        }).collect();
        check(&TransportCcBuilder { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(m), base_seq: SeqNo(base),
            reference_time: rt, fb_pkt_count: count, statuses: &statuses });
    }
}
