//! Nonce counter behaviour through the public API: it wraps from `u32::MAX` to 0 without
//! repeating, it runs out with `NonceExhausted` (never a silent reuse), and a failed call
//! consumes nothing.
#![expect(deprecated, reason = "the deprecated modes are tested too")]

mod transport_support;

use std::collections::HashSet;

use proptest::prelude::*;
use transport_support::*;
use voxwire_crypto::Error;
use voxwire_crypto::transport::{NONCE_SPACE, TransportCipher, TransportConfig, TransportMode};

fn suffix(wire: &[u8]) -> [u8; 4] {
    wire[wire.len() - 4..].try_into().unwrap()
}

#[test]
fn wraps_through_zero_then_continues() {
    let case = build_rtp(0, None, b"x", None, [0; 11]);
    let mut c = cipher(TransportMode::AeadAes256GcmRtpsize, &[9; 32], backends()[0], u32::MAX - 1);
    let got: Vec<_> = (0..4).map(|_| suffix(&seal_rtp(&mut c, &case.bytes))).collect();
    assert_eq!(got, [[0xFF, 0xFF, 0xFF, 0xFE], [0xFF; 4], [0; 4], [0, 0, 0, 1]]);
    assert_eq!(c.nonces_remaining(), NONCE_SPACE - 4);
}

#[test]
fn exhaustion_is_an_error_for_every_counter_mode() {
    let case = build_rtp(0, None, b"x", None, [0; 11]);
    for mode in MODES.into_iter().filter(|m| *m != TransportMode::XSalsa20Poly1305) {
        let cfg = TransportConfig::new().first_nonce(u32::MAX).nonce_budget(3);
        let mut c = TransportCipher::with_config(mode, &[9; 32], &cfg).unwrap();
        let mut buf = vec![0; 200];
        for _ in 0..3 {
            buf[..case.bytes.len()].copy_from_slice(&case.bytes);
            c.encrypt_rtp(&mut buf, case.bytes.len()).unwrap();
        }
        assert_eq!(c.nonces_remaining(), 0);
        buf[..case.bytes.len()].copy_from_slice(&case.bytes);
        let before = buf.clone();
        assert!(
            matches!(
                c.encrypt_rtp(&mut buf, case.bytes.len()),
                Err(Error::NonceExhausted { used: 3 })
            ),
            "{mode}"
        );
        assert!(
            matches!(c.encrypt_rtcp(&mut buf, 8), Err(Error::NonceExhausted { used: 3 })),
            "{mode}"
        );
        assert_eq!(buf, before, "{mode}: buffer untouched when exhausted");
        // Receiving still works after the sending side ran out.
        let mut rx_wire = seal_rtp(&mut cipher(mode, &[9; 32], backends()[0], 0), &case.bytes);
        assert!(c.decrypt_rtp(&mut rx_wire).is_ok());
    }
}

#[test]
fn budget_is_clamped_to_the_nonce_space() {
    let cfg = TransportConfig::new().nonce_budget(u64::MAX);
    let c =
        TransportCipher::with_config(TransportMode::AeadXChaCha20Poly1305Rtpsize, &[0; 32], &cfg)
            .unwrap();
    assert_eq!(c.nonces_remaining(), NONCE_SPACE);
}

#[test]
fn failed_encryption_consumes_no_nonce() {
    let mut c = cipher(TransportMode::AeadAes256GcmRtpsize, &[9; 32], backends()[0], 10);
    let mut short = [0x80u8; 11];
    assert!(c.encrypt_rtp(&mut short, 11).is_err());
    let mut bad_version = [0u8; 64];
    assert!(matches!(c.encrypt_rtp(&mut bad_version, 12), Err(Error::Version { version: 0 })));
    assert_eq!(c.nonces_remaining(), NONCE_SPACE);
    let wire = seal_rtp(&mut c, &build_rtp(0, None, b"y", None, [0; 11]).bytes);
    assert_eq!(suffix(&wire), 10u32.to_be_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Across the wrap, every packet of a key gets a distinct suffix until the budget is spent.
    #[test]
    fn suffixes_unique_across_wrap(back in 0u32..64, budget in 1u64..128) {
        let case = build_rtp(0, None, b"z", None, [0; 11]);
        let cfg = TransportConfig::new().first_nonce(u32::MAX - back).nonce_budget(budget);
        let mut c = TransportCipher::with_config(TransportMode::AeadAes256GcmRtpsize, &[3; 32], &cfg).unwrap();
        let mut seen = HashSet::new();
        let mut buf = vec![0; 64];
        loop {
            buf[..case.bytes.len()].copy_from_slice(&case.bytes);
            match c.encrypt_rtp(&mut buf, case.bytes.len()) {
                Ok(n) => prop_assert!(seen.insert(suffix(&buf[..n]))),
                Err(Error::NonceExhausted { used }) => { prop_assert_eq!(used, budget); break; }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        prop_assert_eq!(seen.len() as u64, budget);
    }
}
