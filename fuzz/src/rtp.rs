//! Fuzz targets for voxwire-rtp: the RTP packet parser, header-extension elements, Discord's
//! UDP control packets, and a build/parse round trip.

use voxwire_rtp::demux::classify;
use voxwire_rtp::discord::{IpDiscovery, UdpPing};
use voxwire_rtp::ext::{self, ExtensionElement, ExtensionElements, ExtensionForm};
use voxwire_rtp::{RtpPacket, RtpPacketBuilder, RtpsizeLayout, Ssrc};

use crate::Target;

/// voxwire-rtp's targets.
pub const TARGETS: &[Target] = &[
    Target { name: "rtp_packet", run: packet },
    Target { name: "rtp_header_extensions", run: header_extensions },
    Target { name: "rtp_ip_discovery", run: ip_discovery },
    Target { name: "rtp_round_trip", run: round_trip },
];

/// Parses any bytes as RTP; on success every length adds up, and the rtpsize layout agrees.
pub fn packet(data: &[u8]) {
    let _ = classify(data);
    let layout = RtpsizeLayout::parse(data);
    let Ok(p) = RtpPacket::parse(data) else { return };
    assert_eq!(p.header_len() + p.payload().len() + usize::from(p.padding_len()), data.len());
    assert_eq!(p.csrcs().count(), usize::from(p.csrc_count()));
    let layout = layout.expect("a parsed packet has a readable rtpsize layout");
    assert_eq!(layout.header_len, p.rtpsize_header_len());
    assert_eq!(layout.header_len + layout.extension_body_len, p.header_len());
    for e in p.extensions() {
        assert_eq!(p.extensions().find(|x| x.id == e.id).map(|x| x.data), p.extension_by_id(e.id));
    }
}

/// First two bytes: the profile; the rest: an element area. Valid areas are rewritten in the
/// same form and must parse back to the same elements.
pub fn header_extensions(data: &[u8]) {
    let Some((profile, body)) = data.split_first_chunk::<2>() else { return };
    let Ok(els) = ExtensionElements::parse(u16::from_be_bytes(*profile), body) else { return };
    let form = els.form();
    let mut list = [ExtensionElement::new(0, &[]); 64];
    let mut n = 0;
    for e in els.clone() {
        let Some(slot) = list.get_mut(n) else { return };
        *slot = e;
        n += 1;
    }
    let list = &list[..n];
    if list.iter().any(|e| !form.can_encode(e.id, e.data.len())) {
        return;
    }
    let mut out = [0u8; 2048];
    let Ok(len) = ext::write_elements(form, list, &mut out) else { return };
    let back = ExtensionElements::parse(form.profile(), &out[..len]).expect("own output parses");
    assert!(back.eq(list.iter().copied()));
    let _ = ExtensionForm::for_elements(list);
}

/// IP discovery, UDP ping and classification; anything accepted re-encodes to the same bytes.
pub fn ip_discovery(data: &[u8]) {
    if let Ok(d) = IpDiscovery::parse(data) {
        assert_eq!(&d.to_bytes().expect("a parsed packet re-encodes")[..], data);
    }
    if let Ok(p) = UdpPing::parse(data) {
        assert_eq!(&p.to_bytes()[..], data);
    }
    let _ = classify(data);
}

/// Any packet that parses is rebuilt with the builder and parses back to the same fields.
pub fn round_trip(data: &[u8]) {
    let Ok(p) = RtpPacket::parse(data) else { return };
    let mut csrcs = [Ssrc(0); 15];
    for (slot, c) in csrcs.iter_mut().zip(p.csrcs()) {
        *slot = c;
    }
    let csrcs = &csrcs[..usize::from(p.csrc_count())];
    let mut list = [ExtensionElement::new(0, &[]); 64];
    let mut n = 0;
    for e in p.extensions() {
        let Some(slot) = list.get_mut(n) else { return };
        *slot = e;
        n += 1;
    }
    let list = &list[..n];
    let mut b =
        RtpPacketBuilder::new(p.payload_type(), p.sequence_number(), p.timestamp(), p.ssrc())
            .marker(p.marker())
            .csrcs(csrcs)
            .extensions(list)
            .payload(p.payload())
            .padding(p.padding_len());
    if let Some(form) = p.extension().and_then(|e| e.form()) {
        b = b.extension_form(form);
    }
    let Ok(size) = b.calculate_size() else { return };
    let mut out = vec![0u8; size];
    assert_eq!(b.write_into(&mut out), Ok(size));
    let q = RtpPacket::parse(&out).expect("own output parses");
    assert_eq!(
        (q.marker(), q.payload_type(), q.sequence_number(), q.timestamp(), q.ssrc()),
        (p.marker(), p.payload_type(), p.sequence_number(), p.timestamp(), p.ssrc())
    );
    assert!(q.csrcs().eq(p.csrcs()));
    assert!(q.extensions().eq(p.extensions()));
    assert_eq!(q.payload(), p.payload());
    assert_eq!(q.padding_len(), p.padding_len());
}
