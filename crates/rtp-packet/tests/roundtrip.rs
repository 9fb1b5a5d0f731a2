//! Build then parse returns the same packet, for arbitrary packets.

mod common;

use common::{PacketSpec, packet_spec};
use proptest::prelude::*;
use voxwire_rtp::ext::{self, ExtensionElement, ExtensionElements, ExtensionForm};
use voxwire_rtp::{
    PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, RtpsizeLayout, SeqNo, Ssrc,
};

fn build(spec: &PacketSpec) -> Vec<u8> {
    let csrcs: Vec<Ssrc> = spec.csrcs.iter().copied().map(Ssrc).collect();
    let ext: Vec<ExtensionElement<'_>> =
        spec.ext.iter().map(|(id, d)| ExtensionElement::new(*id, d)).collect();
    let mut b = RtpPacketBuilder::new(
        PayloadType::new(spec.pt).unwrap(),
        SeqNo(spec.seq),
        RtpTimestamp(spec.ts),
        Ssrc(spec.ssrc),
    )
    .marker(spec.marker)
    .csrcs(&csrcs)
    .extensions(&ext)
    .payload(&spec.payload)
    .padding(spec.padding);
    if spec.two_byte {
        b = b.extension_form(ExtensionForm::TwoByte);
    }
    let size = b.calculate_size().unwrap();
    // Write into a larger, dirty buffer: the builder must write exactly `size` bytes.
    let mut buf = vec![0xA5; size + 7];
    assert_eq!(b.write_into(&mut buf).unwrap(), size);
    assert!(buf[size..].iter().all(|&x| x == 0xA5));
    assert!(matches!(
        b.write_into(&mut buf[..size - 1]),
        Err(voxwire_rtp::Error::BufferTooSmall { .. })
    ));
    buf.truncate(size);
    buf
}

proptest! {
    #[test]
    fn build_then_parse(spec in packet_spec()) {
        let bytes = build(&spec);
        let p = RtpPacket::parse(&bytes).unwrap();
        prop_assert_eq!(p.marker(), spec.marker);
        prop_assert_eq!(p.payload_type().get(), spec.pt);
        prop_assert_eq!(p.sequence_number(), SeqNo(spec.seq));
        prop_assert_eq!(p.timestamp(), RtpTimestamp(spec.ts));
        prop_assert_eq!(p.ssrc(), Ssrc(spec.ssrc));
        prop_assert_eq!(p.csrcs().map(Ssrc::get).collect::<Vec<_>>(), spec.csrcs);
        prop_assert_eq!(p.payload(), &spec.payload[..]);
        prop_assert_eq!(p.has_padding(), spec.padding > 0);
        prop_assert_eq!(p.padding_len(), spec.padding);
        prop_assert_eq!(p.has_extension(), !spec.ext.is_empty());
        let got: Vec<(u8, Vec<u8>)> = p.extensions().map(|e| (e.id, e.data.to_vec())).collect();
        prop_assert_eq!(&got, &spec.ext);
        for id in 0..=255u8 {
            let first = spec.ext.iter().find(|(i, _)| *i == id).map(|(_, d)| &d[..]);
            prop_assert_eq!(p.extension_by_id(id), first);
        }
        prop_assert_eq!(p.header_len() + p.payload().len() + usize::from(p.padding_len()), bytes.len());

        // The rtpsize layout agrees with the full parse.
        let l = RtpsizeLayout::parse(&bytes).unwrap();
        prop_assert_eq!(l.header_len, p.rtpsize_header_len());
        prop_assert_eq!(l.extension_body_len, p.extension_body_len());
        prop_assert_eq!(l.padding, p.has_padding());
        prop_assert_eq!(l.header_len + l.extension_body_len, p.header_len());
    }

    /// No prefix of a valid packet panics a parser; without payload and padding, every strict
    /// prefix is rejected.
    #[test]
    fn truncation_never_panics(spec in packet_spec()) {
        let bytes = build(&spec);
        for n in 0..bytes.len() {
            let _ = RtpPacket::parse(&bytes[..n]);
            let _ = RtpsizeLayout::parse(&bytes[..n]);
        }
        if !bytes.is_empty() && spec.padding == 0 && spec.payload.is_empty() {
            prop_assert!(RtpPacket::parse(&bytes[..bytes.len() - 1]).is_err());
        }
    }

    /// Elements written on their own parse back with `ExtensionElements::parse`.
    #[test]
    fn elements_round_trip(spec in packet_spec()) {
        let ext: Vec<ExtensionElement<'_>> =
            spec.ext.iter().map(|(id, d)| ExtensionElement::new(*id, d)).collect();
        let form = if spec.two_byte { ExtensionForm::TwoByte } else { ExtensionForm::for_elements(&ext).unwrap() };
        let mut buf = vec![0; ext::padded_elements_len(form, &ext)];
        let n = ext::write_elements(form, &ext, &mut buf).unwrap();
        prop_assert_eq!(n % 4, 0);
        let back: Vec<_> = ExtensionElements::parse(form.profile(), &buf).unwrap().collect();
        prop_assert_eq!(back, ext);
    }

    /// Arbitrary bytes never panic any parser.
    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::parse(&bytes) {
            prop_assert!(p.header_len() + p.payload().len() + usize::from(p.padding_len()) == bytes.len());
            let _ = p.extensions().count();
        }
        let _ = RtpsizeLayout::parse(&bytes);
        let _ = ExtensionElements::parse(0xBEDE, &bytes);
        let _ = ExtensionElements::parse(0x1000, &bytes);
        let _ = voxwire_rtp::discord::IpDiscovery::parse(&bytes);
        let _ = voxwire_rtp::demux::classify(&bytes);
    }
}

#[test]
fn rejects_bad_version_padding_and_csrc_overflow() {
    let mut p = [0x80u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3];
    p[0] = 0x40;
    assert_eq!(RtpPacket::parse(&p).unwrap_err(), voxwire_rtp::Error::BadVersion { version: 1 });
    p[0] = 0xA0; // padding
    p[14] = 4;
    assert_eq!(
        RtpPacket::parse(&p).unwrap_err(),
        voxwire_rtp::Error::BadPadding { padding: 4, available: 3 }
    );
    p[14] = 0;
    assert!(RtpPacket::parse(&p).is_err());
    p[14] = 3;
    assert_eq!(RtpPacket::parse(&p).unwrap().payload(), &[] as &[u8]);
    let csrcs = [Ssrc(0); 16];
    let b =
        RtpPacketBuilder::new(PayloadType::MAX, SeqNo(0), RtpTimestamp(0), Ssrc(0)).csrcs(&csrcs);
    assert_eq!(b.calculate_size().unwrap_err(), voxwire_rtp::Error::TooManyCsrcs { count: 16 });
}
