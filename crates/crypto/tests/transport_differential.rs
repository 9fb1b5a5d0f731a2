//! Differential tests: every mode and backend against an independent reference built directly
//! on RustCrypto (`aes-gcm`, `chacha20poly1305`), ring, and a secretbox composed from `salsa20`
//! and `poly1305`, over random RTP packets (CSRCs, extensions, padding) and RTCP packets, in
//! both directions.
#![expect(deprecated, reason = "the deprecated modes are tested too")]

mod transport_support;

use proptest::prelude::*;
use transport_support::*;
use voxwire_crypto::transport::TransportMode;

fn wire_nonce(mode: TransportMode, n: u32, salt: [u8; 24]) -> WireNonce {
    match mode {
        TransportMode::XSalsa20Poly1305 => WireNonce::None,
        TransportMode::XSalsa20Poly1305Suffix => WireNonce::TwentyFour(salt),
        _ => WireNonce::Four(n.to_be_bytes()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Our encryption equals the reference byte for byte (the suffix mode's nonce is random per
    /// key, so there the reference decrypts ours instead), and the reference's packets decrypt
    /// with ours to the same plain packet and layout.
    #[test]
    fn rtp_matches_reference(case in rtp_case(1300), key: [u8; 32], n: u32, salt: [u8; 24]) {
        for mode in MODES {
            for backend in backends() {
                let mut tx = cipher(mode, &key, backend, n);
                let ours = seal_rtp(&mut tx, &case.bytes);
                let want = reference_seal(mode, Kind::Rtp, &key, &case.bytes, &wire_nonce(mode, n, [0; 24]));
                if mode == TransportMode::XSalsa20Poly1305Suffix {
                    prop_assert_eq!(ours.len(), want.len());
                    prop_assert_eq!(reference_open(mode, Kind::Rtp, &key, &ours), Some(case.bytes.clone()));
                } else {
                    prop_assert_eq!(&ours, &want, "{} {:?}", mode, backend);
                }

                let rx = cipher(mode, &key, backend, 0);
                let mut wire = reference_seal(mode, Kind::Rtp, &key, &case.bytes, &wire_nonce(mode, n, salt));
                let d = rx.decrypt_rtp(&mut wire).unwrap();
                prop_assert_eq!(&wire[..d.len], &case.bytes[..]);
                prop_assert_eq!(d.csrc_end, case.csrc_end);
                prop_assert_eq!(d.extension.map(|e| (e.profile, e.elements)), case.ext.clone());
                prop_assert_eq!(d.payload, case.payload.clone());
                prop_assert_eq!(d.padding, case.padding);
            }
        }
    }

    #[test]
    fn rtcp_matches_reference(plain in rtcp_case(), key: [u8; 32], n: u32, salt: [u8; 24]) {
        for mode in MODES {
            for backend in backends() {
                let mut tx = cipher(mode, &key, backend, n);
                let ours = seal_rtcp(&mut tx, &plain);
                if mode == TransportMode::XSalsa20Poly1305Suffix {
                    prop_assert_eq!(reference_open(mode, Kind::Rtcp, &key, &ours), Some(plain.clone()));
                } else {
                    let want = reference_seal(mode, Kind::Rtcp, &key, &plain, &wire_nonce(mode, n, [0; 24]));
                    prop_assert_eq!(&ours, &want, "{} {:?}", mode, backend);
                }
                let rx = cipher(mode, &key, backend, 0);
                let mut wire = reference_seal(mode, Kind::Rtcp, &key, &plain, &wire_nonce(mode, n, salt));
                let len = rx.decrypt_rtcp(&mut wire).unwrap();
                prop_assert_eq!(&wire[..len], &plain[..]);
            }
        }
    }

    /// ring's AES-256-GCM (a third implementation) agrees on the rtpsize AES layout.
    #[test]
    fn aes_rtpsize_matches_ring(case in rtp_case(300), key: [u8; 32], n: u32) {
        let mode = TransportMode::AeadAes256GcmRtpsize;
        let h = clear_len(mode, Kind::Rtp, &case.bytes);
        let mut want = case.bytes[..h].to_vec();
        want.extend(ring_aes_seal(&key, n.to_be_bytes(), &case.bytes[..h], &case.bytes[h..]));
        want.extend_from_slice(&n.to_be_bytes());
        for backend in backends() {
            prop_assert_eq!(&seal_rtp(&mut cipher(mode, &key, backend, n), &case.bytes), &want);
        }
    }

    /// Consecutive packets carry consecutive big-endian counters, shared by RTP and RTCP.
    #[test]
    fn counter_shared_by_rtp_and_rtcp(case in rtp_case(50), rtcp in rtcp_case(), key: [u8; 32], n: u32) {
        let mode = TransportMode::AeadXChaCha20Poly1305Rtpsize;
        for backend in backends() {
            let mut tx = cipher(mode, &key, backend, n);
            let a = seal_rtp(&mut tx, &case.bytes);
            let b = seal_rtcp(&mut tx, &rtcp);
            let c = seal_rtp(&mut tx, &case.bytes);
            prop_assert_eq!(&a[a.len() - 4..], &n.to_be_bytes()[..]);
            prop_assert_eq!(&b[b.len() - 4..], &n.wrapping_add(1).to_be_bytes()[..]);
            prop_assert_eq!(&c[c.len() - 4..], &n.wrapping_add(2).to_be_bytes()[..]);
            prop_assert_ne!(&a, &c, "same packet, new nonce, new ciphertext");
        }
    }
}

/// The backends agree with each other (meaningful when both are compiled in).
#[test]
fn backends_agree() {
    let case = build_rtp(
        2,
        Some((0xBEDE, vec![0x10, 0x7F, 0x32, 1, 2, 3])),
        &[0xAB; 333],
        Some(3),
        [7; 11],
    );
    let key = [0x33; 32];
    for mode in MODES.into_iter().filter(|m| *m != TransportMode::XSalsa20Poly1305Suffix) {
        let outs: Vec<_> = backends()
            .into_iter()
            .map(|b| seal_rtp(&mut cipher(mode, &key, b, 99), &case.bytes))
            .collect();
        assert!(outs.windows(2).all(|w| w[0] == w[1]), "{mode}");
    }
}
