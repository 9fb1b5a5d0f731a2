//! Parsing and building allocate nothing: a counting global allocator watches them.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations_during;

use voxwire_rtp::discord::{IpDiscovery, UdpPing};
use voxwire_rtp::ext::ExtensionElement;
use voxwire_rtp::{
    PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, RtpsizeLayout, SeqNo, SeqUnwrapper,
    Ssrc,
};

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
