//! Parsing and building allocate nothing: a counting global allocator watches them.

#[path = "../../rtp-packet/tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

use voxwire_rtcp::twcc::TwccStatus;
use voxwire_rtcp::{
    Compound, NackBuilder, Pli, ReceiverReportBuilder, RembBuilder, ReportBlock, RtcpPacket,
    SdesBuilder, SdesChunk, SdesItem, SenderInfo, SenderReportBuilder, TransportCcBuilder,
    WriteRtcp, compound_size, write_compound,
};
use voxwire_rtp::{SeqNo, Ssrc};

#[test]
fn parse_and_build_allocate_nothing() {
    let blocks = [ReportBlock { ssrc: Ssrc(5), cumulative_lost: -3, ..ReportBlock::default() }; 3];
    let items = [SdesItem { kind: 1, value: b"user@host" }];
    let chunks = [SdesChunk { ssrc: Ssrc(1), items: &items }];
    let lost = [SeqNo(65_530), SeqNo(65_535), SeqNo(3), SeqNo(90)];
    let statuses = [
        TwccStatus::Small(4),
        TwccStatus::NotReceived,
        TwccStatus::Large(-20),
        TwccStatus::Small(0),
        TwccStatus::Small(9),
    ];
    let sr = SenderReportBuilder {
        sender_ssrc: Ssrc(1),
        info: SenderInfo::default(),
        report_blocks: &blocks,
    };
    let rr = ReceiverReportBuilder { sender_ssrc: Ssrc(1), report_blocks: &blocks };
    let sdes = SdesBuilder { chunks: &chunks };
    let nack = NackBuilder { sender_ssrc: Ssrc(1), media_ssrc: Ssrc(2), lost: &lost };
    let pli = Pli { sender_ssrc: Ssrc(1), media_ssrc: Ssrc(2) };
    let remb = RembBuilder { sender_ssrc: Ssrc(1), bitrate: 2_500_000, ssrcs: &[Ssrc(2)] };
    let twcc = TransportCcBuilder {
        sender_ssrc: Ssrc(1),
        media_ssrc: Ssrc(2),
        base_seq: SeqNo(65_534),
        reference_time: -5,
        fb_pkt_count: 1,
        statuses: &statuses,
    };
    let parts: [&dyn WriteRtcp; 7] = [&sr, &rr, &sdes, &nack, &pli, &remb, &twcc];
    let mut buf = [0u8; 1024];
    let mut sum = 0usize;

    let before = allocations();
    for _ in 0..50 {
        let n = write_compound(&parts, &mut buf).unwrap();
        sum += compound_size(&parts).unwrap();
        let c = Compound::parse(&buf[..n]).unwrap();
        sum += usize::from(c.is_rfc3550_compound());
        for p in c.packets() {
            sum += match p {
                RtcpPacket::SenderReport(s) => s.report_blocks().count(),
                RtcpPacket::ReceiverReport(r) => {
                    r.report_blocks().map(|b| b.cumulative_lost.unsigned_abs() as usize).sum()
                }
                RtcpPacket::Sdes(s) => s.chunks().map(|(_, i)| i.count()).sum(),
                RtcpPacket::Nack(n) => n.lost().count(),
                RtcpPacket::TransportCc(t) => {
                    t.packets().filter(|p| p.status.delta_us().is_some()).count()
                }
                RtcpPacket::Remb(r) => r.bitrate as usize,
                _ => 1,
            };
        }
    }
    let allocations = allocations() - before;
    assert!(sum > 0);
    assert_eq!(allocations, 0, "parsing and building allocated {allocations} times");
}
