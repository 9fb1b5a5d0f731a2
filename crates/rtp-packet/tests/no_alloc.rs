//! Parsing and building allocate nothing: a counting global allocator watches them.
//!
//! Only the test's own thread is counted: the test harness allocates on its other threads
//! whenever it likes (progress output, timers), which made a process-wide count fail now and
//! then.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use voxwire_rtp::discord::{IpDiscovery, UdpPing};
use voxwire_rtp::ext::ExtensionElement;
use voxwire_rtp::{
    PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, RtpsizeLayout, SeqNo, SeqUnwrapper,
    Ssrc,
};

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

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = allocations();
    f();
    allocations() - before
}

#[test]
fn parse_and_build_allocate_nothing() {
    let payload = [0x55u8; 1200];
    let csrcs = [Ssrc(1), Ssrc(2)];
    let ext = [
        ExtensionElement::new(1, &[0x9F]),
        ExtensionElement::new(3, &[1, 2, 3]),
        ExtensionElement::new(9, &[2]),
        ExtensionElement::new(10, b"audio"),
    ];
    let mut buf = [0u8; 1500];
    let mut disc = [0u8; 74];
    let mut sum = 0usize;
    let n = allocations_during(|| {
        for i in 0..100u16 {
            let b = RtpPacketBuilder::new(
                PayloadType::DISCORD_OPUS,
                SeqNo(i),
                RtpTimestamp(960),
                Ssrc(7),
            )
            .marker(i % 2 == 0)
            .csrcs(&csrcs)
            .extensions(&ext)
            .payload(&payload)
            .padding(3);
            let len = b.write_into(&mut buf).unwrap();
            let p = RtpPacket::parse(&buf[..len]).unwrap();
            sum += p.payload().len() + p.csrcs().count() + p.extensions().count();
            sum += p.extension_by_id(10).map_or(0, <[u8]>::len);
            sum += RtpsizeLayout::parse(&buf[..len]).unwrap().header_len;
            let mut u = SeqUnwrapper::new();
            sum += usize::from(u.unwrap(p.sequence_number()).get() > 0);
            IpDiscovery::response(Ssrc(7), "127.0.0.1", 4000).write_into(&mut disc).unwrap();
            sum += IpDiscovery::parse(&disc).unwrap().address.len();
            sum += UdpPing::parse(&UdpPing::Request(1).to_bytes()).is_ok() as usize;
        }
    });
    assert!(sum > 0);
    assert_eq!(n, 0, "parsing and building allocated {n} times");
}
