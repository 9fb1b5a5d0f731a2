//! Transport encryption targets: decryption of arbitrary datagrams under arbitrary keys and
//! modes, and the encrypt/decrypt round trip of arbitrary plain packets.
//!
//! Input layout for both: byte 0 picks the mode and backend, bytes 1..33 are the key, bytes
//! 33..37 the first nonce, and the rest is the packet.

use voxwire_crypto::transport::{Backend, TransportCipher, TransportConfig, TransportMode};

use crate::Target;

/// The transport targets.
pub const TARGETS: &[Target] = &[
    Target { name: "crypto_transport_decrypt", run: decrypt },
    Target { name: "crypto_transport_round_trip", run: round_trip },
];

struct Input<'a> {
    cipher: TransportCipher,
    packet: &'a [u8],
}

fn input(data: &[u8]) -> Option<Input<'_>> {
    let (&sel, rest) = data.split_first()?;
    let key = rest.get(..32)?;
    let first = u32::from_be_bytes(rest.get(32..36)?.try_into().ok()?);
    let packet = rest.get(36..)?;
    let modes = TransportMode::ALL;
    let mode = modes[usize::from(sel & 0x0F) % modes.len()];
    let backend = if sel & 0x10 != 0 && Backend::RustCrypto.is_available() {
        Backend::RustCrypto
    } else {
        Backend::fastest()
    };
    let cfg = TransportConfig::new().backend(backend).first_nonce(first);
    let cipher = TransportCipher::with_config(mode, key, &cfg).ok()?;
    Some(Input { cipher, packet })
}

/// Decrypts `data`'s packet as RTP and as RTCP. Must not panic; whatever decrypts must report
/// ranges inside the buffer.
pub fn decrypt(data: &[u8]) {
    let Some(Input { cipher, packet }) = input(data) else { return };
    let mut buf = packet.to_vec();
    if let Ok(d) = cipher.decrypt_rtp(&mut buf) {
        assert!(
            d.len <= buf.len()
                && d.payload.end + d.padding == d.len
                && d.csrc_end <= d.payload.start
        );
        if let Some(e) = d.extension {
            assert!(e.elements.end <= d.payload.start);
        }
    }
    let mut buf = packet.to_vec();
    if let Ok(n) = cipher.decrypt_rtcp(&mut buf) {
        assert!(n <= buf.len());
    }
}

/// Encrypts `data`'s packet as RTP (if it is a well-formed plain packet) and as RTCP, then
/// decrypts: the plain packet must come back unchanged.
pub fn round_trip(data: &[u8]) {
    let Some(Input { mut cipher, packet }) = input(data) else { return };
    let overhead = cipher.overhead();
    let mut buf = vec![0u8; packet.len() + overhead];
    buf[..packet.len()].copy_from_slice(packet);
    if let Ok(n) = cipher.encrypt_rtp(&mut buf, packet.len()) {
        assert_eq!(n, packet.len() + overhead);
        let d = cipher.decrypt_rtp(&mut buf[..n]).expect("own RTP packet decrypts");
        assert_eq!(&buf[..d.len], packet);
    }
    buf[..packet.len()].copy_from_slice(packet);
    if let Ok(n) = cipher.encrypt_rtcp(&mut buf, packet.len()) {
        let len = cipher.decrypt_rtcp(&mut buf[..n]).expect("own RTCP packet decrypts");
        assert_eq!(&buf[..len], packet);
    }
}
