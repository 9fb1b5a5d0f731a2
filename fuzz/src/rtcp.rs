//! Fuzz targets for voxwire-rtcp: the compound parser and a parse/build round trip.

use voxwire_rtcp::twcc::TwccStatus;
use voxwire_rtcp::{
    AppBuilder, ByeBuilder, Compound, FirBuilder, FirEntry, NackBuilder, ReceiverReportBuilder,
    RembBuilder, ReportBlock, RtcpPacket, SdesBuilder, SdesChunk, SdesItem, SenderReportBuilder,
    TransportCcBuilder, WriteRtcp,
};
use voxwire_rtp::{SeqNo, Ssrc};

use crate::Target;

/// voxwire-rtcp's targets.
pub const TARGETS: &[Target] = &[
    Target { name: "rtcp_compound", run: compound },
    Target { name: "rtcp_round_trip", run: round_trip },
];

/// Parses any bytes as a compound packet and walks every view to the end.
pub fn compound(data: &[u8]) {
    let Ok(c) = Compound::parse(data) else { return };
    assert_eq!(c.raw_packets().count(), c.packets().count());
    let _ = c.is_rfc3550_compound();
    for p in c.packets() {
        match p {
            RtcpPacket::SenderReport(s) => {
                assert_eq!(s.report_blocks().count(), s.report_blocks().len());
            }
            RtcpPacket::ReceiverReport(r) => {
                assert_eq!(r.report_blocks().count(), r.report_blocks().len());
            }
            RtcpPacket::Sdes(s) => {
                let _ = s.chunks().map(|(_, items)| items.count()).sum::<usize>();
            }
            RtcpPacket::Bye(b) => {
                let _ = b.ssrcs().count();
            }
            RtcpPacket::Nack(n) => assert!(n.lost().count() >= n.pairs().len()),
            RtcpPacket::TransportCc(t) => {
                assert_eq!(t.packets().count(), usize::from(t.status_count));
            }
            RtcpPacket::Fir(f) => {
                let _ = f.entries().count();
            }
            RtcpPacket::Remb(r) => {
                let _ = r.ssrcs().count();
            }
            _ => {}
        }
    }
}

fn rebuild(b: &dyn WriteRtcp) -> Vec<u8> {
    let size = b.calculate_size().expect("fields from a parsed packet fit");
    let mut out = vec![0; size];
    assert_eq!(b.write_into(&mut out), Ok(size));
    out
}

fn reparse(bytes: &[u8]) -> RtcpPacket<'_> {
    Compound::parse(bytes).expect("own output parses").packets().next().expect("one packet")
}

/// Every packet of a parsed compound is rebuilt with its builder and parses back to the same
/// fields.
#[expect(clippy::too_many_lines, reason = "one arm per packet type, each a flat field comparison")]
pub fn round_trip(data: &[u8]) {
    let Ok(compound) = Compound::parse(data) else { return };
    for p in compound.packets() {
        match p {
            RtcpPacket::SenderReport(s) => {
                let blocks: Vec<ReportBlock> = s.report_blocks().collect();
                let out = rebuild(&SenderReportBuilder {
                    sender_ssrc: s.sender_ssrc,
                    info: s.info,
                    report_blocks: &blocks,
                });
                let RtcpPacket::SenderReport(q) = reparse(&out) else { panic!("type changed") };
                assert_eq!((q.sender_ssrc, q.info), (s.sender_ssrc, s.info));
                assert!(q.report_blocks().eq(s.report_blocks()));
            }
            RtcpPacket::ReceiverReport(r) => {
                let blocks: Vec<ReportBlock> = r.report_blocks().collect();
                let out = rebuild(&ReceiverReportBuilder {
                    sender_ssrc: r.sender_ssrc,
                    report_blocks: &blocks,
                });
                let RtcpPacket::ReceiverReport(q) = reparse(&out) else { panic!("type changed") };
                assert!(q.report_blocks().eq(r.report_blocks()));
            }
            RtcpPacket::Sdes(s) => {
                let items: Vec<(Ssrc, Vec<SdesItem<'_>>)> =
                    s.chunks().map(|(ssrc, i)| (ssrc, i.collect())).collect();
                let chunks: Vec<SdesChunk<'_>> =
                    items.iter().map(|(ssrc, i)| SdesChunk { ssrc: *ssrc, items: i }).collect();
                let out = rebuild(&SdesBuilder { chunks: &chunks });
                let RtcpPacket::Sdes(q) = reparse(&out) else { panic!("type changed") };
                let back: Vec<(Ssrc, Vec<SdesItem<'_>>)> =
                    q.chunks().map(|(ssrc, i)| (ssrc, i.collect())).collect();
                assert_eq!(back, items);
            }
            RtcpPacket::Bye(b) => {
                let ssrcs: Vec<Ssrc> = b.ssrcs().collect();
                let out = rebuild(&ByeBuilder { ssrcs: &ssrcs, reason: b.reason });
                let RtcpPacket::Bye(q) = reparse(&out) else { panic!("type changed") };
                assert!(q.ssrcs().eq(b.ssrcs()));
                assert_eq!(q.reason, b.reason);
            }
            RtcpPacket::App(a) if a.data.len().is_multiple_of(4) => {
                let out = rebuild(&AppBuilder {
                    subtype: a.subtype,
                    ssrc: a.ssrc,
                    name: a.name,
                    data: a.data,
                });
                assert_eq!(reparse(&out), RtcpPacket::App(a));
            }
            RtcpPacket::Nack(n) => {
                let lost: Vec<SeqNo> = n.lost().collect();
                let out = rebuild(&NackBuilder {
                    sender_ssrc: n.sender_ssrc,
                    media_ssrc: n.media_ssrc,
                    lost: &lost,
                });
                let RtcpPacket::Nack(q) = reparse(&out) else { panic!("type changed") };
                let mut got: Vec<u16> = q.lost().map(SeqNo::get).collect();
                let mut want: Vec<u16> = lost.iter().map(|s| s.get()).collect();
                got.sort_unstable();
                got.dedup();
                want.sort_unstable();
                want.dedup();
                assert_eq!(got, want);
            }
            RtcpPacket::Pli(pli) => assert_eq!(reparse(&rebuild(&pli)), RtcpPacket::Pli(pli)),
            RtcpPacket::Fir(f) => {
                let entries: Vec<FirEntry> = f.entries().collect();
                let out = rebuild(&FirBuilder { sender_ssrc: f.sender_ssrc, entries: &entries });
                let RtcpPacket::Fir(q) = reparse(&out) else { panic!("type changed") };
                assert!(q.entries().eq(f.entries()));
            }
            RtcpPacket::Remb(r) => {
                let ssrcs: Vec<Ssrc> = r.ssrcs().collect();
                if r.bitrate != u64::MAX {
                    let out = rebuild(&RembBuilder {
                        sender_ssrc: r.sender_ssrc,
                        bitrate: r.bitrate,
                        ssrcs: &ssrcs,
                    });
                    let RtcpPacket::Remb(q) = reparse(&out) else { panic!("type changed") };
                    assert_eq!(q.bitrate, r.bitrate);
                    assert!(q.ssrcs().eq(r.ssrcs()));
                }
            }
            RtcpPacket::TransportCc(t) => {
                let statuses: Vec<TwccStatus> = t.packets().map(|p| p.status).collect();
                if statuses.is_empty() {
                    continue;
                }
                let out = rebuild(&TransportCcBuilder {
                    sender_ssrc: t.sender_ssrc,
                    media_ssrc: t.media_ssrc,
                    base_seq: t.base_seq,
                    reference_time: t.reference_time,
                    fb_pkt_count: t.fb_pkt_count,
                    statuses: &statuses,
                });
                let RtcpPacket::TransportCc(q) = reparse(&out) else { panic!("type changed") };
                assert!(q.packets().eq(t.packets()));
                assert_eq!(
                    (q.base_seq, q.reference_time, q.fb_pkt_count),
                    (t.base_seq, t.reference_time, t.fb_pkt_count)
                );
            }
            _ => {}
        }
    }
}
