//! Packets that authenticate but are malformed inside (bad padding count, extension longer than
//! the packet) are errors, not out-of-range views; packets too short for their mode's layout
//! are `Truncated`; a foreign RTP version is `Version`.
#![expect(deprecated, reason = "the deprecated modes are tested too")]

mod transport_support;

use transport_support::*;
use voxwire_crypto::Error;
use voxwire_crypto::transport::TransportMode;

const KEY: [u8; 32] = [0x11; 32];

fn wire_for(mode: TransportMode, plain: &[u8]) -> Vec<u8> {
    let nonce = match mode {
        TransportMode::XSalsa20Poly1305 => WireNonce::None,
        TransportMode::XSalsa20Poly1305Suffix => WireNonce::TwentyFour([3; 24]),
        _ => WireNonce::Four([0, 0, 0, 9]),
    };
    reference_seal(mode, Kind::Rtp, &KEY, plain, &nonce)
}

#[test]
fn authenticated_bad_padding_is_rejected() {
    // P=1 with a zero count, then a count larger than the payload.
    for last in [0u8, 200] {
        let mut plain = hex("a0 78 00 01 00 00 00 01 00 00 00 01 aa bb cc");
        plain.push(last);
        for mode in MODES {
            for backend in backends() {
                let mut wire = wire_for(mode, &plain);
                let rx = cipher(mode, &KEY, backend, 0);
                assert!(
                    matches!(rx.decrypt_rtp(&mut wire), Err(Error::Padding { count, .. }) if count == last),
                    "{mode}"
                );
            }
        }
    }
}

#[test]
fn authenticated_extension_overrun_is_rejected() {
    // X=1, the preamble claims 5 words but only 1 word and a payload byte follow.
    let plain = hex("90 78 00 01 00 00 00 01 00 00 00 01 be de 00 05 10 01 00 00 ff");
    for mode in MODES {
        for backend in backends() {
            let mut wire = wire_for(mode, &plain);
            let rx = cipher(mode, &KEY, backend, 0);
            assert!(
                matches!(
                    rx.decrypt_rtp(&mut wire),
                    Err(Error::ExtensionOverrun { words: 5, available: 5 })
                ),
                "{mode}"
            );
        }
        // The sender refuses to encrypt it in the first place.
        let mut tx = cipher(mode, &KEY, backends()[0], 0);
        let mut buf = plain.clone();
        buf.resize(plain.len() + 64, 0);
        assert!(matches!(
            tx.encrypt_rtp(&mut buf, plain.len()),
            Err(Error::ExtensionOverrun { .. })
        ));
    }
}

#[test]
fn too_short_for_the_layout_is_truncated() {
    for mode in MODES {
        let rx = cipher(mode, &KEY, backends()[0], 0);
        // A full rtpsize header with X=1 and CC=2 but no room for tag and nonce.
        let mut short =
            hex("92 78 00 01 00 00 00 01 00 00 00 01 00 00 00 02 00 00 00 03 be de 00 00");
        let err = rx.decrypt_rtp(&mut short).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{mode}: {err}");
        let mut seven = hex("80 c9 00 01 00 00 00 01");
        seven.resize(64, 0);
        let mut tx = cipher(mode, &KEY, backends()[0], 0);
        assert!(matches!(
            tx.encrypt_rtcp(&mut seven, 7),
            Err(Error::Truncated { expected: 8, actual: 7 })
        ));
        let mut rtcp = hex("80 c9 00 01 00 00 00 01");
        assert!(
            matches!(rx.decrypt_rtcp(&mut rtcp), Err(Error::Truncated { expected, actual: 8 }) if expected == 8 + mode.overhead())
        );
    }
}

#[test]
fn foreign_version_is_rejected() {
    for mode in MODES {
        let mut tx = cipher(mode, &KEY, backends()[0], 0);
        let mut wire = seal_rtp(&mut tx, &hex("80 78 00 01 00 00 00 01 00 00 00 01 01 02 03"));
        wire[0] = 0x40 | (wire[0] & 0x3F);
        assert!(matches!(
            cipher(mode, &KEY, backends()[0], 0).decrypt_rtp(&mut wire),
            Err(Error::Version { version: 1 })
        ));
        let mut rtcp = [0u8; 64];
        assert!(matches!(tx.encrypt_rtcp(&mut rtcp, 8), Err(Error::Version { version: 0 })));
    }
}

#[test]
fn secretbox_modes_leave_a_plain_packet_in_place() {
    // The MAC sits before the ciphertext on the wire; after decryption the buffer starts with
    // the plain packet, CSRCs and extension parsed from the decrypted bytes.
    let case = build_rtp(1, Some((0xBEDE, vec![0x22, 1, 2, 3])), b"payload", Some(2), [5; 11]);
    for mode in [
        TransportMode::XSalsa20Poly1305,
        TransportMode::XSalsa20Poly1305Lite,
        TransportMode::XSalsa20Poly1305Suffix,
        TransportMode::AeadAes256Gcm,
    ] {
        let mut wire = seal_rtp(&mut cipher(mode, &KEY, backends()[0], 4), &case.bytes);
        let d = cipher(mode, &KEY, backends()[0], 0).decrypt_rtp(&mut wire).unwrap();
        assert_eq!(&wire[..d.len], &case.bytes[..], "{mode}");
        assert_eq!(d.csrc_end, 16);
        assert_eq!(&wire[d.payload], b"payload");
        assert_eq!(d.padding, 2);
    }
}
