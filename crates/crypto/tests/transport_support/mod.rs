//! Shared by the `transport_*` tests: an independent reference implementation of the wire
//! layouts (built directly on RustCrypto's `aes-gcm` and `chacha20poly1305`, on ring, and on a
//! hand-composed XSalsa20 + Poly1305 secretbox), and random RTP packet generation.
#![allow(dead_code, reason = "each test file uses a different part of this module")]
#![allow(deprecated, reason = "the deprecated modes are tested too")]

use aes_gcm::aead::{AeadInPlace, KeyInit};
use proptest::prelude::*;
use salsa20::cipher::{KeyIvInit, StreamCipher};
use voxwire_crypto::transport::{Backend, TransportCipher, TransportConfig, TransportMode};

pub(crate) const MODES: [TransportMode; 7] = TransportMode::ALL;

pub(crate) fn backends() -> Vec<Backend> {
    [Backend::Ring, Backend::RustCrypto].into_iter().filter(|b| b.is_available()).collect()
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

pub(crate) fn to_hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

pub(crate) fn cipher(
    mode: TransportMode,
    key: &[u8; 32],
    backend: Backend,
    first_nonce: u32,
) -> TransportCipher {
    let cfg = TransportConfig::new().backend(backend).first_nonce(first_nonce);
    TransportCipher::with_config(mode, key, &cfg).unwrap()
}

/// Encrypts with `c` into a fresh buffer and returns the datagram.
pub(crate) fn seal_rtp(c: &mut TransportCipher, plain: &[u8]) -> Vec<u8> {
    let mut buf = vec![0xEE; plain.len() + c.overhead()];
    buf[..plain.len()].copy_from_slice(plain);
    let n = c.encrypt_rtp(&mut buf, plain.len()).unwrap();
    assert_eq!(n, buf.len());
    buf
}

pub(crate) fn seal_rtcp(c: &mut TransportCipher, plain: &[u8]) -> Vec<u8> {
    let mut buf = vec![0xEE; plain.len() + c.overhead()];
    buf[..plain.len()].copy_from_slice(plain);
    let n = c.encrypt_rtcp(&mut buf, plain.len()).unwrap();
    assert_eq!(n, buf.len());
    buf
}

/// Which packet kind the reference builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Rtp,
    Rtcp,
}

/// The clear header length, computed independently of the crate: protocol.md 5.1/5.3.
pub(crate) fn clear_len(mode: TransportMode, kind: Kind, plain: &[u8]) -> usize {
    match kind {
        Kind::Rtcp => 8,
        Kind::Rtp => {
            let rtpsize = mode.name().ends_with("_rtpsize");
            if rtpsize {
                let cc = (plain[0] & 0x0F) as usize;
                let x = (plain[0] >> 4) & 1 == 1;
                12 + cc * 4 + if x { 4 } else { 0 }
            } else {
                12
            }
        }
    }
}

/// The per-packet nonce material that appears on the wire, if any.
#[derive(Clone, Debug)]
pub(crate) enum WireNonce {
    Four([u8; 4]),
    TwentyFour([u8; 24]),
    None,
}

/// Builds the encrypted datagram for `plain` with the reference ciphers.
pub(crate) fn reference_seal(
    mode: TransportMode,
    kind: Kind,
    key: &[u8; 32],
    plain: &[u8],
    wire: &WireNonce,
) -> Vec<u8> {
    let h = clear_len(mode, kind, plain);
    let (hdr, body) = plain.split_at(h);
    let mut out = hdr.to_vec();
    let mut body = body.to_vec();
    match mode {
        TransportMode::AeadAes256GcmRtpsize | TransportMode::AeadAes256Gcm => {
            let WireNonce::Four(n) = wire else { panic!("AES-GCM takes a 4-byte suffix") };
            let mut iv = [0u8; 12];
            iv[..4].copy_from_slice(n);
            let c = aes_gcm::Aes256Gcm::new(key.into());
            let tag = c.encrypt_in_place_detached((&iv).into(), hdr, &mut body).unwrap();
            out.extend_from_slice(&body);
            out.extend_from_slice(&tag);
            out.extend_from_slice(n);
        }
        TransportMode::AeadXChaCha20Poly1305Rtpsize => {
            let WireNonce::Four(n) = wire else { panic!("XChaCha takes a 4-byte suffix") };
            let mut iv = [0u8; 24];
            iv[..4].copy_from_slice(n);
            let c = chacha20poly1305::XChaCha20Poly1305::new(key.into());
            let tag = c.encrypt_in_place_detached((&iv).into(), hdr, &mut body).unwrap();
            out.extend_from_slice(&body);
            out.extend_from_slice(&tag);
            out.extend_from_slice(n);
        }
        _ => {
            let mut nonce = [0u8; 24];
            match (mode, wire) {
                (TransportMode::XSalsa20Poly1305, WireNonce::None) => {
                    nonce[..h].copy_from_slice(hdr);
                }
                (TransportMode::XSalsa20Poly1305Suffix, WireNonce::TwentyFour(n)) => nonce = *n,
                (_, WireNonce::Four(n)) => nonce[..4].copy_from_slice(n),
                _ => panic!("wrong nonce kind for {mode}"),
            }
            let mac = secretbox_seal(key, &nonce, &mut body);
            out.extend_from_slice(&mac);
            out.extend_from_slice(&body);
            match wire {
                WireNonce::Four(n) => out.extend_from_slice(n),
                WireNonce::TwentyFour(n) => out.extend_from_slice(n),
                WireNonce::None => {}
            }
        }
    }
    out
}

/// Reads the datagram with the reference ciphers; `None` if it does not authenticate.
pub(crate) fn reference_open(
    mode: TransportMode,
    kind: Kind,
    key: &[u8; 32],
    wire: &[u8],
) -> Option<Vec<u8>> {
    let h = clear_len(mode, kind, wire);
    let (suffix, nonce_len) = match mode {
        TransportMode::XSalsa20Poly1305 => (0, 0),
        TransportMode::XSalsa20Poly1305Suffix => (24, 24),
        _ => (4, 4),
    };
    let end = wire.len().checked_sub(suffix)?;
    let hdr = &wire[..h];
    let mut nonce = [0u8; 24];
    if nonce_len == 0 {
        nonce[..h].copy_from_slice(hdr);
    } else {
        nonce[..nonce_len].copy_from_slice(&wire[end..]);
    }
    let mut plain = hdr.to_vec();
    match mode {
        TransportMode::AeadAes256GcmRtpsize
        | TransportMode::AeadAes256Gcm
        | TransportMode::AeadXChaCha20Poly1305Rtpsize => {
            let mut ct = wire.get(h..end.checked_sub(16)?)?.to_vec();
            let tag = &wire[end - 16..end];
            let ok = if mode == TransportMode::AeadXChaCha20Poly1305Rtpsize {
                chacha20poly1305::XChaCha20Poly1305::new(key.into())
                    .decrypt_in_place_detached((&nonce).into(), hdr, &mut ct, tag.into())
                    .is_ok()
            } else {
                aes_gcm::Aes256Gcm::new(key.into())
                    .decrypt_in_place_detached((&nonce[..12]).into(), hdr, &mut ct, tag.into())
                    .is_ok()
            };
            if !ok {
                return None;
            }
            plain.extend_from_slice(&ct);
        }
        _ => {
            let mac = wire.get(h..h + 16)?;
            let mut ct = wire.get(h + 16..end)?.to_vec();
            if secretbox_open(key, &nonce, &mut ct, mac) {
                plain.extend_from_slice(&ct);
            } else {
                return None;
            }
        }
    }
    Some(plain)
}

/// ring's AES-256-GCM as a third implementation for the rtpsize AES mode.
pub(crate) fn ring_aes_seal(key: &[u8; 32], n: [u8; 4], aad: &[u8], body: &[u8]) -> Vec<u8> {
    let k = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key).unwrap(),
    );
    let mut iv = [0u8; 12];
    iv[..4].copy_from_slice(&n);
    let mut out = body.to_vec();
    k.seal_in_place_append_tag(
        ring::aead::Nonce::assume_unique_for_key(iv),
        ring::aead::Aad::from(aad),
        &mut out,
    )
    .unwrap();
    out
}

/// NaCl secretbox composed from the primitives: XSalsa20 keystream block 0 bytes 0..32 are the
/// one-time Poly1305 key; the message is combined (XOR) with the keystream from byte 32.
pub(crate) fn secretbox_seal(key: &[u8; 32], nonce: &[u8; 24], msg: &mut [u8]) -> [u8; 16] {
    let mut s = salsa20::XSalsa20::new(key.into(), nonce.into());
    let mut otk = [0u8; 32];
    s.apply_keystream(&mut otk);
    s.apply_keystream(msg);
    poly1305_tag(&otk, msg)
}

pub(crate) fn secretbox_open(key: &[u8; 32], nonce: &[u8; 24], ct: &mut [u8], mac: &[u8]) -> bool {
    let mut s = salsa20::XSalsa20::new(key.into(), nonce.into());
    let mut otk = [0u8; 32];
    s.apply_keystream(&mut otk);
    if poly1305_tag(&otk, ct)[..] != *mac {
        return false;
    }
    s.apply_keystream(ct);
    true
}

fn poly1305_tag(otk: &[u8; 32], msg: &[u8]) -> [u8; 16] {
    use poly1305::universal_hash::KeyInit as _;
    poly1305::Poly1305::new(otk.into()).compute_unpadded(msg).into()
}

/// A random plain RTP packet and the facts the decryptor must report about it.
#[derive(Clone, Debug)]
pub(crate) struct RtpCase {
    pub(crate) bytes: Vec<u8>,
    pub(crate) csrc_end: usize,
    pub(crate) ext: Option<(u16, std::ops::Range<usize>)>,
    pub(crate) payload: std::ops::Range<usize>,
    pub(crate) padding: usize,
}

/// Random RTP packets: 0..=15 CSRCs, an optional one- or two-byte-profile extension with
/// 0..=8 words of elements, 0..max payload bytes and optional padding.
pub(crate) fn rtp_case(max_payload: usize) -> impl Strategy<Value = RtpCase> {
    (
        0usize..=15,
        proptest::option::of((
            prop_oneof![Just(0xBEDEu16), Just(0x1000u16)],
            proptest::collection::vec(any::<u8>(), 0..=32),
        )),
        proptest::collection::vec(any::<u8>(), 0..=max_payload),
        proptest::option::of(1u8..=255),
        any::<[u8; 11]>(),
    )
        .prop_map(|(cc, ext, payload, padding, hdr)| build_rtp(cc, ext, &payload, padding, hdr))
}

pub(crate) fn build_rtp(
    cc: usize,
    ext: Option<(u16, Vec<u8>)>,
    payload: &[u8],
    padding: Option<u8>,
    hdr: [u8; 11],
) -> RtpCase {
    let mut b = Vec::new();
    let first = 0x80
        | (cc as u8)
        | if ext.is_some() { 0x10 } else { 0 }
        | if padding.is_some() { 0x20 } else { 0 };
    b.push(first);
    b.extend_from_slice(&hdr); // M/PT, seq, ts, ssrc
    for i in 0..cc {
        b.extend_from_slice(&(0x0100_0000u32 + i as u32).to_be_bytes());
    }
    let csrc_end = b.len();
    let mut ext_range = None;
    if let Some((profile, mut elems)) = ext {
        while elems.len() % 4 != 0 {
            elems.push(0);
        }
        b.extend_from_slice(&profile.to_be_bytes());
        b.extend_from_slice(&((elems.len() / 4) as u16).to_be_bytes());
        let start = b.len();
        b.extend_from_slice(&elems);
        ext_range = Some((profile, start..b.len()));
    }
    let p0 = b.len();
    b.extend_from_slice(payload);
    let p1 = b.len();
    let mut pad = 0;
    if let Some(n) = padding {
        pad = n as usize;
        b.extend(std::iter::repeat_n(0, pad - 1));
        b.push(n);
    }
    RtpCase { bytes: b, csrc_end, ext: ext_range, payload: p0..p1, padding: pad }
}

/// A random plain compound RTCP packet: an 8-byte header (V=2) and 0..=200 more bytes.
pub(crate) fn rtcp_case() -> impl Strategy<Value = Vec<u8>> {
    (any::<[u8; 8]>(), proptest::collection::vec(any::<u8>(), 0..=200)).prop_map(|(h, rest)| {
        let mut b = vec![0x80 | (h[0] & 0x1F)];
        b.extend_from_slice(&h[1..]);
        b.extend_from_slice(&rest);
        b
    })
}
