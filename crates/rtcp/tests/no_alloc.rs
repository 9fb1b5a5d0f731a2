//! Parsing and building allocate nothing: a counting global allocator watches them.
//!
//! Only the test's own thread is counted: the test harness allocates on its other threads
//! whenever it likes (progress output, timers), which made a process-wide count fail now and
//! then.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use voxwire_rtcp::twcc::TwccStatus;
use voxwire_rtcp::{
    Compound, NackBuilder, Pli, ReceiverReportBuilder, RembBuilder, ReportBlock, RtcpPacket,
    SdesBuilder, SdesChunk, SdesItem, SenderInfo, SenderReportBuilder, TransportCcBuilder,
    WriteRtcp, compound_size, write_compound,
};
use voxwire_rtp::{SeqNo, Ssrc};

struct Counting;

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Allocations made so far on this thread.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn count() {
    // `try_with`: a thread being torn down may still allocate.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments; counting is the only
// addition, so `System`'s guarantees carry over.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
