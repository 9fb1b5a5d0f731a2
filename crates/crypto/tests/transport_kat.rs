//! Known-answer tests at the packet level. Inputs follow docs/protocol.md: the native client's
//! audio packet of section 4.5 (X=1, elements `[1: level][3: abs-send-time][9: speaking]
//! [10: "audio"]` padded to 4 words, Opus silence `F8 FF FE`) and a header-only RR (section
//! 5.3: 8 + 16 + 4 bytes). Key `00 01 .. 1f`. The expected datagrams were produced by the
//! independent reference in `transport_support` (RustCrypto `aes-gcm`/`chacha20poly1305`, and a
//! secretbox composed from `salsa20` + `poly1305`); every backend must reproduce them exactly
//! and decrypt them back. Primitive-level vectors (NIST CAVS, draft-irtf-cfrg-xchacha, NaCl) are
//! unit tests in `src/transport/backend.rs`.
#![expect(deprecated, reason = "the deprecated modes are tested too")]

mod transport_support;

use transport_support::*;
use voxwire_crypto::transport::TransportMode as M;

fn key() -> [u8; 32] {
    core::array::from_fn(|i| i as u8)
}

fn audio() -> Vec<u8> {
    hex("90 78 00 2a 00 00 03 c0 00 01 e2 40  be de 00 04
         10 ff  32 12 34 56  90 02  a4 61 75 64 69 6f  00 00
         f8 ff fe")
}

fn rr() -> Vec<u8> {
    hex("80 c9 00 01 00 01 e2 40")
}

fn legacy_audio() -> Vec<u8> {
    hex("80 78 00 2a 00 00 03 c0 00 01 e2 40 f8 ff fe")
}

fn check_rtp(mode: M, first: u32, plain: &[u8], want: &str) {
    let want = hex(want);
    for backend in backends() {
        let got = seal_rtp(&mut cipher(mode, &key(), backend, first), plain);
        assert_eq!(to_hex(&got), to_hex(&want), "{mode} {backend:?}");
        let mut wire = want.clone();
        let d = cipher(mode, &key(), backend, 0).decrypt_rtp(&mut wire).unwrap();
        assert_eq!(&wire[..d.len], plain, "{mode} {backend:?}");
    }
}

fn check_rtcp(mode: M, first: u32, plain: &[u8], want: &str) {
    let want = hex(want);
    for backend in backends() {
        let got = seal_rtcp(&mut cipher(mode, &key(), backend, first), plain);
        assert_eq!(to_hex(&got), to_hex(&want), "{mode} {backend:?}");
        let mut wire = want.clone();
        let n = cipher(mode, &key(), backend, 0).decrypt_rtcp(&mut wire).unwrap();
        assert_eq!(&wire[..n], plain);
    }
}

#[test]
fn aes256gcm_rtpsize_audio_packet() {
    // AAD = the 16 bytes up to and including `be de 00 04`; 19 bytes encrypted; tag; nonce 1.
    check_rtp(
        M::AeadAes256GcmRtpsize,
        1,
        &audio(),
        "9078002a000003c00001e240bede0004 54c9ffb8380c64aafb5d10f4c0d235809fc037
         f4c41a988b6dd6102b7a55d1d51c3b0f 00000001",
    );
}

#[test]
fn xchacha20poly1305_rtpsize_audio_packet() {
    check_rtp(
        M::AeadXChaCha20Poly1305Rtpsize,
        1,
        &audio(),
        "9078002a000003c00001e240bede0004 195863325b5601dd6a86d2f0ad5fae13d8e439
         228bfaa7ed9c0a11a7e93666494bde63 00000001",
    );
}

#[test]
fn decrypted_audio_packet_exposes_extension_elements_and_payload() {
    let mut wire = hex("9078002a000003c00001e240bede000454c9ffb8380c64aafb5d10f4c0d235809fc037
         f4c41a988b6dd6102b7a55d1d51c3b0f00000001");
    let d =
        cipher(M::AeadAes256GcmRtpsize, &key(), backends()[0], 0).decrypt_rtp(&mut wire).unwrap();
    let ext = d.extension.unwrap();
    assert_eq!(ext.profile, 0xBEDE);
    assert_eq!(ext.elements, 16..32);
    assert_eq!(&wire[ext.elements], &hex("10ff 32123456 9002 a4617564696f 0000")[..]);
    assert_eq!(d.payload, 32..35);
    assert_eq!(&wire[d.payload], &[0xF8, 0xFF, 0xFE]);
    assert_eq!((d.csrc_end, d.padding, d.len), (12, 0, 35));
}

#[test]
fn aes256gcm_rtpsize_header_only_rr() {
    check_rtcp(
        M::AeadAes256GcmRtpsize,
        2,
        &rr(),
        "80c900010001e240 4e9c34bd6f5103e707b1083b6841d92e 00000002",
    );
}

#[test]
fn xchacha20poly1305_rtpsize_header_only_rr() {
    check_rtcp(
        M::AeadXChaCha20Poly1305Rtpsize,
        2,
        &rr(),
        "80c900010001e240 dd04e74f3c5b328978fe5edf9948fa23 00000002",
    );
}

#[test]
fn deprecated_modes() {
    check_rtp(
        M::XSalsa20Poly1305Lite,
        7,
        &legacy_audio(),
        "8078002a000003c00001e240 bff00585cef9870c659e228523c53601 8e9667 00000007",
    );
    check_rtp(
        M::XSalsa20Poly1305LiteRtpsize,
        7,
        &audio(),
        "9078002a000003c00001e240bede0004 f1a44e040c8c033994e7e66233b33a77
         6696aba1e83c468a7ec0d622dbf0cdeab2a3fe 00000007",
    );
    check_rtp(
        M::XSalsa20Poly1305,
        0,
        &legacy_audio(),
        "8078002a000003c00001e240 401d77e0de050f92eb36e4bba18b5b41 cd5687",
    );
    // Non-rtpsize AES-GCM: the extension preamble is encrypted too (clear header = 12 bytes).
    check_rtp(
        M::AeadAes256Gcm,
        3,
        &audio(),
        "9078002a000003c00001e240 00781598ab64183a041e5d62881fbdbf273a6d3499a2d4
         bef06b1f9fd7df8afcaa16c0ef1766ab 00000003",
    );
}
