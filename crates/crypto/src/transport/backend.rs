//! The cipher implementations behind the modes: ring (fast, default) and RustCrypto (pure Rust).

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!(
    "voxwire-crypto needs a transport backend: enable the `ring` or the `rustcrypto` feature"
);

use crypto_secretbox::aead::{AeadInPlace, KeyInit};
#[cfg(feature = "ring")]
use zeroize::Zeroizing;

#[cfg(feature = "ring")]
use super::hchacha;
use super::mode::{Algorithm, KEY_LEN, NONCE_SUFFIX_LEN, TAG_LEN};
use crate::Error;

/// Which implementation runs the AES-256-GCM and XChaCha20-Poly1305 modes.
///
/// The deprecated XSalsa20-Poly1305 modes always run on RustCrypto's `crypto_secretbox`, since
/// ring has no XSalsa20.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// ring: assembly AES-GCM (AES-NI + PCLMULQDQ/AVX) and ChaCha20-Poly1305; XChaCha20 derives
    /// its per-packet subkey with this crate's HChaCha20. Cargo feature `ring` (default).
    Ring,
    /// RustCrypto `aes-gcm` and `chacha20poly1305`: pure Rust, key schedules zeroized on drop.
    /// Cargo feature `rustcrypto`.
    RustCrypto,
}

impl Backend {
    /// Whether this backend was compiled in.
    pub const fn is_available(self) -> bool {
        match self {
            Self::Ring => cfg!(feature = "ring"),
            Self::RustCrypto => cfg!(feature = "rustcrypto"),
        }
    }

    /// The fastest compiled-in backend: ring if available, else RustCrypto.
    pub const fn fastest() -> Self {
        if cfg!(feature = "ring") { Self::Ring } else { Self::RustCrypto }
    }
}

/// A keyed cipher. Every variant zeroizes the raw key it holds on drop, except ring's expanded
/// AES key schedule, which ring keeps privately (documented in the module docs).
pub(crate) enum Primitive {
    #[cfg(feature = "ring")]
    RingAes(Box<ring::aead::LessSafeKey>),
    /// The key as HChaCha20 state words ([`hchacha::key_words`]).
    #[cfg(feature = "ring")]
    RingXChaCha(Zeroizing<[u32; 8]>),
    #[cfg(feature = "rustcrypto")]
    RustAes(Box<aes_gcm::Aes256Gcm>),
    #[cfg(feature = "rustcrypto")]
    RustXChaCha(Box<chacha20poly1305::XChaCha20Poly1305>),
    SecretBox(Box<crypto_secretbox::XSalsa20Poly1305>),
}

/// The nonce of one packet, as the mode defines it.
///
/// The counter modes pass the 4 wire bytes and each cipher zero-pads them to its own nonce
/// length in registers: building a 24-byte buffer from parts and reading it back whole costs
/// store-forwarding stalls that show in a 120 ns packet.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PacketNonce {
    /// `n4 ‖ 0…`: the 4-byte suffix, then zeros to the cipher's nonce length.
    Suffix([u8; NONCE_SUFFIX_LEN]),
    /// All 24 bytes (`xsalsa20_poly1305`, `xsalsa20_poly1305_suffix`; AES-GCM takes the first
    /// 12).
    Full([u8; 24]),
}

impl PacketNonce {
    /// The first `N` bytes of the nonce (`N` ≤ 24).
    #[inline]
    fn bytes<const N: usize>(self) -> [u8; N] {
        let mut out = [0u8; N];
        match self {
            Self::Suffix(s) => out[..NONCE_SUFFIX_LEN].copy_from_slice(&s),
            Self::Full(f) => out.copy_from_slice(&f[..N]),
        }
        out
    }
}

impl Primitive {
    pub(crate) fn new(
        algorithm: Algorithm,
        backend: Backend,
        key: &[u8; KEY_LEN],
    ) -> Result<Self, Error> {
        if !backend.is_available() {
            return Err(Error::BackendUnavailable { backend });
        }
        Ok(match (algorithm, backend) {
            (Algorithm::XSalsa20Poly1305, _) => {
                Self::SecretBox(Box::new(crypto_secretbox::XSalsa20Poly1305::new(key.into())))
            }
            #[cfg(feature = "ring")]
            (Algorithm::Aes256Gcm, Backend::Ring) => {
                let unbound = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key)
                    .map_err(|_| Error::KeyLength { actual: key.len() })?;
                Self::RingAes(Box::new(ring::aead::LessSafeKey::new(unbound)))
            }
            #[cfg(feature = "ring")]
            (Algorithm::XChaCha20Poly1305, Backend::Ring) => {
                Self::RingXChaCha(Zeroizing::new(hchacha::key_words(key)))
            }
            #[cfg(feature = "rustcrypto")]
            (Algorithm::Aes256Gcm, Backend::RustCrypto) => {
                Self::RustAes(Box::new(aes_gcm::Aes256Gcm::new(key.into())))
            }
            #[cfg(feature = "rustcrypto")]
            (Algorithm::XChaCha20Poly1305, Backend::RustCrypto) => {
                Self::RustXChaCha(Box::new(chacha20poly1305::XChaCha20Poly1305::new(key.into())))
            }
            #[allow(
                unreachable_patterns,
                reason = "reachable only when one backend is compiled out"
            )]
            _ => return Err(Error::BackendUnavailable { backend }),
        })
    }

    /// Encrypts `data` in place and writes the detached tag to `tag` (`TAG_LEN` bytes).
    #[inline]
    pub(crate) fn seal(
        &self,
        nonce: PacketNonce,
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), Error> {
        match self {
            #[cfg(feature = "ring")]
            Self::RingAes(key) => {
                let t = key
                    .seal_in_place_separate_tag(ring_nonce(nonce), ring::aead::Aad::from(aad), data)
                    .map_err(|_| too_long(data.len()))?;
                tag.copy_from_slice(t.as_ref());
            }
            #[cfg(feature = "ring")]
            Self::RingXChaCha(key) => {
                let len = data.len();
                let t = with_xchacha_subkey(key, nonce, |sub, n| {
                    sub.seal_in_place_separate_tag(n, ring::aead::Aad::from(aad), data)
                })?
                .map_err(|_| too_long(len))?;
                tag.copy_from_slice(t.as_ref());
            }
            #[cfg(feature = "rustcrypto")]
            Self::RustAes(c) => {
                let t = c
                    .encrypt_in_place_detached(&nonce.bytes::<12>().into(), aad, data)
                    .map_err(|_| too_long(data.len()))?;
                tag.copy_from_slice(&t);
            }
            #[cfg(feature = "rustcrypto")]
            Self::RustXChaCha(c) => {
                let t = c
                    .encrypt_in_place_detached(&nonce.bytes::<24>().into(), aad, data)
                    .map_err(|_| too_long(data.len()))?;
                tag.copy_from_slice(&t);
            }
            Self::SecretBox(c) => {
                let t = c
                    .encrypt_in_place_detached(&nonce.bytes::<24>().into(), aad, data)
                    .map_err(|_| too_long(data.len()))?;
                tag.copy_from_slice(&t);
            }
        }
        Ok(())
    }

    /// Decrypts `data` in place after checking `tag`. On failure `data` holds no plaintext that
    /// the caller may use (ring zeroes it; the others leave the ciphertext).
    #[inline]
    pub(crate) fn open(
        &self,
        nonce: PacketNonce,
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        let ok = match self {
            #[cfg(feature = "ring")]
            Self::RingAes(key) => key
                .open_in_place_separate_tag(
                    ring_nonce(nonce),
                    ring::aead::Aad::from(aad),
                    (*tag).into(),
                    data,
                    0..,
                )
                .is_ok(),
            #[cfg(feature = "ring")]
            Self::RingXChaCha(key) => with_xchacha_subkey(key, nonce, |sub, n| {
                sub.open_in_place_separate_tag(
                    n,
                    ring::aead::Aad::from(aad),
                    (*tag).into(),
                    data,
                    0..,
                )
                .is_ok()
            })
            .unwrap_or(false),
            #[cfg(feature = "rustcrypto")]
            Self::RustAes(c) => c
                .decrypt_in_place_detached(&nonce.bytes::<12>().into(), aad, data, tag.into())
                .is_ok(),
            #[cfg(feature = "rustcrypto")]
            Self::RustXChaCha(c) => c
                .decrypt_in_place_detached(&nonce.bytes::<24>().into(), aad, data, tag.into())
                .is_ok(),
            Self::SecretBox(c) => c
                .decrypt_in_place_detached(&nonce.bytes::<24>().into(), aad, data, tag.into())
                .is_ok(),
        };
        if ok { Ok(()) } else { Err(Error::Authentication) }
    }
}

#[cfg(feature = "ring")]
#[cold]
#[inline(never)]
fn key_length() -> Error {
    Error::KeyLength { actual: KEY_LEN }
}

#[cold]
#[inline(never)]
fn too_long(len: usize) -> Error {
    Error::PacketTooLong { len }
}

/// The 12-byte AES-GCM nonce.
#[cfg(feature = "ring")]
#[inline]
fn ring_nonce(n: PacketNonce) -> ring::aead::Nonce {
    ring::aead::Nonce::assume_unique_for_key(n.bytes())
}

/// XChaCha20-Poly1305 = ChaCha20-Poly1305 (RFC 8439) under the HChaCha20 subkey of the first 16
/// nonce bytes, with the IETF nonce `0^4 || nonce[16..24]` (draft-irtf-cfrg-xchacha, section 2.3).
/// For the counter modes that is HChaCha20 of `n4 ‖ 0^12` and the all-zero IETF nonce. Runs `f`
/// with ring's key for the subkey and the IETF nonce.
///
/// Runs per packet, since the nonce (and so the subkey) changes with every packet. ring's key
/// object is several hundred bytes (it has room for an AES-GCM key schedule), so it is built
/// and used in one frame (`inline(always)`, a closure rather than a returned key): every move
/// of it is a `memcpy` that showed as 10 % of a packet's time. Our 32-byte copy of the subkey
/// is zeroized; ring's copy inside its key is not (ring's design, as for its AES key schedule).
/// A subkey opens only the one packet it was derived for: HChaCha20 cannot be inverted to the
/// transport key.
#[cfg(feature = "ring")]
#[expect(clippy::inline_always, reason = "ring's key object must stay in the caller's frame")]
#[inline(always)]
fn with_xchacha_subkey<R>(
    key: &[u32; 8],
    nonce: PacketNonce,
    f: impl FnOnce(&ring::aead::LessSafeKey, ring::aead::Nonce) -> R,
) -> Result<R, Error> {
    let mut ietf = [0u8; ring::aead::NONCE_LEN];
    let input = match nonce {
        PacketNonce::Suffix(s) => [u32::from_le_bytes(s), 0, 0, 0],
        PacketNonce::Full(f) => {
            ietf[4..].copy_from_slice(&f[16..]);
            let w = |i: usize| u32::from_le_bytes([f[i], f[i + 1], f[i + 2], f[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
    };
    let subkey = Zeroizing::new(hchacha::hchacha20_words(key, input));
    // ChaCha20-Poly1305 takes any 32-byte key: ring's only failure, a wrong key length, cannot
    // happen.
    let Ok(unbound) = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &subkey[..])
    else {
        return Err(key_length());
    };
    drop(subkey);
    let sub = ring::aead::LessSafeKey::new(unbound);
    Ok(f(&sub, ring::aead::Nonce::assume_unique_for_key(ietf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn backends() -> impl Iterator<Item = Backend> {
        [Backend::Ring, Backend::RustCrypto].into_iter().filter(|b| b.is_available())
    }

    #[expect(clippy::too_many_arguments, reason = "one argument per field of a published vector")]
    fn check(
        alg: Algorithm,
        backend: Backend,
        key: &str,
        nonce: &str,
        aad: &str,
        pt: &[u8],
        ct: &str,
        tag: &str,
    ) {
        let key: [u8; 32] = hex(key).try_into().unwrap();
        let mut full = [0u8; 24];
        let nb = hex(nonce);
        full[..nb.len()].copy_from_slice(&nb);
        let n = PacketNonce::Full(full);
        let p = Primitive::new(alg, backend, &key).unwrap();
        let mut data = pt.to_vec();
        let mut t = [0u8; TAG_LEN];
        p.seal(n, &hex(aad), &mut data, &mut t).unwrap();
        assert_eq!(data, hex(ct), "{alg:?} {backend:?} ciphertext");
        assert_eq!(t.to_vec(), hex(tag), "{alg:?} {backend:?} tag");
        p.open(n, &hex(aad), &mut data, &t).unwrap();
        assert_eq!(data, pt);
        let mut bad = t;
        bad[15] ^= 1;
        assert!(matches!(p.open(n, &hex(aad), &mut data, &bad), Err(Error::Authentication)));
    }

    /// NIST CAVS `gcmEncryptExtIV256.rsp` (Count 0 with 128-bit plaintext and AAD).
    #[test]
    fn aes256gcm_nist_cavs() {
        for b in backends() {
            check(
                Algorithm::Aes256Gcm,
                b,
                "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b",
                "ac93a1a6145299bde902f21a",
                "1e0889016f67601c8ebea4943bc23ad6",
                &hex("2d71bcfa914e4ac045b2aa60955fad24"),
                "8995ae2e6df3dbf96fac7b7137bae67f",
                "eca5aa77d51d4a0a14d9c51e1da474ab",
            );
        }
    }

    /// draft-irtf-cfrg-xchacha-03, appendix A.3.1 (`AEAD_XChaCha20_Poly1305`).
    #[test]
    fn xchacha20poly1305_draft_vector() {
        for b in backends() {
            check(
                Algorithm::XChaCha20Poly1305,
                b,
                "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
                "404142434445464748494a4b4c4d4e4f5051525354555657",
                "50515253c0c1c2c3c4c5c6c7",
                b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
                "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e",
                "c0875924c1c7987947deafd8780acf49",
            );
        }
    }

    /// NaCl `tests/secretbox.c` / `secretbox.out` (MAC first, as secretbox puts it on the wire).
    #[test]
    fn xsalsa20poly1305_nacl_vector() {
        let pt = hex(concat!(
            "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a",
            "1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057",
            "e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040",
            "e082f937763848645e0705"
        ));
        let boxed = concat!(
            "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4",
            "476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738",
            "b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de",
            "56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5"
        );
        check(
            Algorithm::XSalsa20Poly1305,
            Backend::fastest(),
            "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389",
            "69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37",
            "",
            &pt,
            &boxed[32..],
            &boxed[..32],
        );
    }

    #[test]
    fn unavailable_backend_is_an_error() {
        for b in [Backend::Ring, Backend::RustCrypto].into_iter().filter(|b| !b.is_available()) {
            assert!(matches!(
                Primitive::new(Algorithm::Aes256Gcm, b, &[0; 32]),
                Err(Error::BackendUnavailable { .. })
            ));
        }
        assert!(Backend::fastest().is_available());
    }
}
