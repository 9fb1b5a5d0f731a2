//! Differential tests against webrtc-rs `rtp` 0.17, an independent implementation: random
//! packets are parsed by both and the fields agree; bytes built by either are accepted by the
//! other.

mod common;

use bytes::Bytes;
use common::{PacketSpec, packet_spec};
use proptest::prelude::*;
use voxwire_rtp::ext::{ExtensionElement, ExtensionForm};
use voxwire_rtp::{PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, SeqNo, Ssrc};
use webrtc_util::marshal::{Marshal, Unmarshal};

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
    let mut buf = vec![0; b.calculate_size().unwrap()];
    b.write_into(&mut buf).unwrap();
    buf
}

fn assert_same(ours: &RtpPacket<'_>, theirs: &rtp::packet::Packet) -> Result<(), TestCaseError> {
    let h = &theirs.header;
    prop_assert_eq!(h.version, 2);
    prop_assert_eq!(ours.marker(), h.marker);
    prop_assert_eq!(ours.payload_type().get(), h.payload_type);
    prop_assert_eq!(ours.sequence_number().get(), h.sequence_number);
    prop_assert_eq!(ours.timestamp().get(), h.timestamp);
    prop_assert_eq!(ours.ssrc().get(), h.ssrc);
    prop_assert_eq!(ours.csrcs().map(Ssrc::get).collect::<Vec<_>>(), h.csrc.clone());
    prop_assert_eq!(ours.has_padding(), h.padding);
    prop_assert_eq!(ours.has_extension(), h.extension);
    if h.extension {
        prop_assert_eq!(ours.extension().map(|e| e.profile()), Some(h.extension_profile));
    }
    let ours_ext: Vec<(u8, Vec<u8>)> = ours.extensions().map(|e| (e.id, e.data.to_vec())).collect();
    let theirs_ext: Vec<(u8, Vec<u8>)> =
        h.extensions.iter().map(|e| (e.id, e.payload.to_vec())).collect();
    prop_assert_eq!(ours_ext, theirs_ext);
    prop_assert_eq!(ours.payload(), &theirs.payload[..]);
    Ok(())
}

proptest! {
    /// Bytes built by voxwire are accepted by webrtc-rs with the same fields.
    #[test]
    fn voxwire_built_webrtc_parses(spec in packet_spec()) {
        let bytes = build(&spec);
        let ours = RtpPacket::parse(&bytes).unwrap();
        let theirs = rtp::packet::Packet::unmarshal(&mut Bytes::from(bytes.clone())).unwrap();
        assert_same(&ours, &theirs)?;
    }

    /// Bytes built by webrtc-rs are accepted by voxwire with the same fields.
    #[test]
    fn webrtc_built_voxwire_parses(spec in packet_spec()) {
        let mut header = rtp::header::Header {
            version: 2,
            padding: spec.padding > 0,
            marker: spec.marker,
            payload_type: spec.pt,
            sequence_number: spec.seq,
            timestamp: spec.ts,
            ssrc: spec.ssrc,
            csrc: spec.csrcs.clone(),
            ..Default::default()
        };
        let profile = if spec.two_byte { 0x1000 } else { 0xBEDE };
        for (id, data) in &spec.ext {
            header.extension = true;
            header.extension_profile = profile;
            header.extensions.push(rtp::header::Extension { id: *id, payload: Bytes::from(data.clone()) });
        }
        let pkt = rtp::packet::Packet { header, payload: Bytes::from(spec.payload.clone()) };
        let bytes = pkt.marshal().unwrap();
        let ours = RtpPacket::parse(&bytes).unwrap();
        // webrtc-rs adds its own padding (to a multiple of 4), so compare against its parse.
        let theirs = rtp::packet::Packet::unmarshal(&mut bytes.clone()).unwrap();
        assert_same(&ours, &theirs)?;
        prop_assert_eq!(ours.payload(), &spec.payload[..]);
    }

    /// Random, mostly-invalid bytes: whenever webrtc-rs accepts a packet that voxwire also
    /// accepts, they agree on every field. (webrtc-rs is skipped on inputs that make it panic:
    /// an RFC 8285 element overrunning its block.)
    #[test]
    fn random_bytes_agree(bytes in prop::collection::vec(any::<u8>(), 12..64)) {
        let mut bytes = bytes;
        bytes[0] = (bytes[0] & 0x3F) | 0x80;
        if let Ok(ours) = RtpPacket::parse(&bytes) {
            let theirs = rtp::packet::Packet::unmarshal(&mut Bytes::from(bytes.clone()));
            if let Ok(theirs) = theirs {
                // webrtc-rs treats only 0x00 as one-byte padding, and voxwire any id-0 byte
                // (as libwebrtc); 0x100X profiles other than 0x1000 are raw for webrtc-rs.
                let comparable = ours.extension().is_none_or(|e| {
                    (e.profile() == 0xBEDE && !e.body().iter().any(|&b| b >> 4 == 0 && b != 0))
                        || e.profile() == 0x1000
                });
                if comparable {
                    assert_same(&ours, &theirs)?;
                }
            }
        }
    }
}
