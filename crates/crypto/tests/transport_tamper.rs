//! Tampering: flipping any single bit of an AEAD-mode datagram (header, ciphertext, tag or
//! nonce suffix) makes decryption fail; in the secretbox modes, where the clear header is not
//! authenticated, any bit from the MAC on does. Truncated datagrams fail without panicking.
#![expect(deprecated, reason = "the deprecated modes are tested too")]

mod transport_support;

use proptest::prelude::*;
use transport_support::*;
use voxwire_crypto::Error;
use voxwire_crypto::transport::TransportMode;

/// Index of the first byte that every mode protects.
fn protected_from(mode: TransportMode, kind: Kind, plain: &[u8]) -> usize {
    if mode.authenticates_header() || mode == TransportMode::XSalsa20Poly1305 {
        // AAD, or (plain xsalsa20_poly1305) the header is the nonce.
        0
    } else {
        clear_len(mode, kind, plain)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn every_flipped_rtp_bit_fails(case in rtp_case(120), key: [u8; 32], n: u32) {
        for mode in MODES {
            for backend in backends() {
                let wire = seal_rtp(&mut cipher(mode, &key, backend, n), &case.bytes);
                let rx = cipher(mode, &key, backend, 0);
                prop_assert!(rx.decrypt_rtp(&mut wire.clone()).is_ok());
                for bit in protected_from(mode, Kind::Rtp, &case.bytes) * 8..wire.len() * 8 {
                    let mut t = wire.clone();
                    t[bit / 8] ^= 1 << (bit % 8);
                    prop_assert!(rx.decrypt_rtp(&mut t).is_err(), "{} {:?}: bit {} accepted", mode, backend, bit);
                }
            }
        }
    }

    #[test]
    fn every_flipped_rtcp_bit_fails(plain in rtcp_case(), key: [u8; 32], n: u32) {
        for mode in MODES {
            for backend in backends() {
                let wire = seal_rtcp(&mut cipher(mode, &key, backend, n), &plain);
                let rx = cipher(mode, &key, backend, 0);
                for bit in protected_from(mode, Kind::Rtcp, &plain) * 8..wire.len() * 8 {
                    let mut t = wire.clone();
                    t[bit / 8] ^= 1 << (bit % 8);
                    prop_assert!(rx.decrypt_rtcp(&mut t).is_err(), "{} {:?}: bit {} accepted", mode, backend, bit);
                }
            }
        }
    }

    #[test]
    fn every_truncation_fails(case in rtp_case(64), key: [u8; 32]) {
        for mode in MODES {
            let wire = seal_rtp(&mut cipher(mode, &key, backends()[0], 1), &case.bytes);
            let rx = cipher(mode, &key, backends()[0], 0);
            for cut in 0..wire.len() {
                prop_assert!(rx.decrypt_rtp(&mut wire[..cut].to_vec()).is_err());
                prop_assert!(rx.decrypt_rtcp(&mut wire[..cut].to_vec()).is_err());
            }
        }
    }
}

#[test]
fn wrong_key_is_an_authentication_error() {
    let case = build_rtp(0, None, b"opus", None, [1; 11]);
    for mode in MODES {
        for backend in backends() {
            let mut wire = seal_rtp(&mut cipher(mode, &[1; 32], backend, 5), &case.bytes);
            let rx = cipher(mode, &[2; 32], backend, 0);
            assert!(matches!(rx.decrypt_rtp(&mut wire), Err(Error::Authentication)), "{mode}");
        }
    }
}
