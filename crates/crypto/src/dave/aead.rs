//! AES-128-GCM with the 8-byte truncated tag over DAVE's interleaved frame layout.
//!
//! The additional data is the concatenation of the clear ranges and the ciphertext the
//! concatenation of the gaps between them, so GHASH and CTR run in streaming form over the
//! segments of one buffer: no copy into contiguous scratch, no allocation per frame.
//! The tag is the leftmost 8 bytes of the full GCM tag (NIST SP 800-38D truncation).
//!
//! With the `ring` feature, the sending side ([`FrameCipher::new_sealing`]) seals frames without
//! clear ranges (every Opus frame) with ring's AES-128-GCM, whose AES-NI/VAES and carry-less
//! multiply code is several times faster on such short buffers than the portable streaming
//! form; the tag is truncated the same way. Opening stays on the streaming form: ring checks
//! only whole 16-byte tags.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, InnerIvInit, KeyInit, StreamCipher, StreamCipherCoreWrapper};
use core::ops::Range;
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use subtle::ConstantTimeEq;

/// Truncated tag size.
pub const TAG_LEN: usize = 8;

type Ctr = ctr::Ctr32BE<Aes128>;
type CtrCore = ctr::CtrCore<Aes128, ctr::flavors::Ctr32BE>;

/// GHASH fed byte strings of any length; pads only at [`Self::pad`].
struct GhashStream {
    g: GHash,
    buf: [u8; 16],
    n: usize,
}

impl GhashStream {
    fn update(&mut self, mut data: &[u8]) {
        if self.n > 0 {
            let take = (16 - self.n).min(data.len());
            self.buf[self.n..self.n + take].copy_from_slice(&data[..take]);
            self.n += take;
            data = &data[take..];
            if self.n < 16 {
                return;
            }
            self.g.update(&[self.buf.into()]);
            self.n = 0;
        }
        let whole = data.len() / 16 * 16;
        if whole > 0 {
            self.g.update_padded(&data[..whole]);
        }
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.n = rest.len();
    }

    fn pad(&mut self) {
        if self.n > 0 {
            self.buf[self.n..].fill(0);
            self.g.update(&[self.buf.into()]);
            self.n = 0;
        }
    }
}

/// Calls `f(is_clear, range)` for each segment of `0..len` in order, where `clear` lists the
/// clear ranges (ascending, disjoint, inside `0..len`) and the gaps are encrypted.
pub(crate) fn segments(
    clear: impl Iterator<Item = Range<usize>>,
    len: usize,
    mut f: impl FnMut(bool, Range<usize>),
) {
    let mut pos = 0;
    for r in clear {
        if r.start > pos {
            f(false, pos..r.start);
        }
        if r.end > r.start {
            f(true, r.clone());
        }
        pos = r.end;
    }
    if pos < len {
        f(false, pos..len);
    }
}

/// An AES-128-GCM key ready for DAVE frames (expanded AES key and GHASH key).
#[derive(Clone)]
pub struct FrameCipher {
    aes: Aes128,
    ghash: GHash,
    /// ring's key for frames without clear ranges ([`Self::new_sealing`]).
    #[cfg(feature = "ring")]
    sealer: Option<ring::aead::LessSafeKey>,
}

impl core::fmt::Debug for FrameCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FrameCipher")
    }
}

fn full_nonce(nonce: u32) -> [u8; 12] {
    // 0^8 || u32le(truncated nonce); the little-endian copy matches libdave.
    let mut iv = [0u8; 12];
    iv[8..].copy_from_slice(&nonce.to_le_bytes());
    iv
}

fn j0(iv: &[u8; 12]) -> [u8; 16] {
    let mut j0 = [0u8; 16];
    j0[..12].copy_from_slice(iv);
    j0[15] = 1;
    j0
}

impl FrameCipher {
    /// Expands `key`.
    pub fn new(key: &[u8; 16]) -> Self {
        let aes = Aes128::new(key.into());
        let mut h = [0u8; 16];
        aes.encrypt_block((&mut h).into());
        Self {
            aes,
            ghash: GHash::new(&h.into()),
            #[cfg(feature = "ring")]
            sealer: None,
        }
    }

    /// Expands `key` for the sending side: as [`Self::new`], and with the `ring` feature also
    /// ring's AES-128-GCM key, which seals frames without clear ranges.
    pub fn new_sealing(key: &[u8; 16]) -> Self {
        #[cfg_attr(not(feature = "ring"), allow(unused_mut))]
        let mut c = Self::new(key);
        #[cfg(feature = "ring")]
        {
            c.sealer = ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, key)
                .ok()
                .map(ring::aead::LessSafeKey::new);
        }
        c
    }

    fn ctr(&self, j0: &[u8; 16]) -> Ctr {
        let mut iv = *j0;
        iv[15] = 2;
        StreamCipherCoreWrapper::from_core(CtrCore::inner_iv_init(self.aes.clone(), (&iv).into()))
    }

    fn tag(
        &self,
        j0: &[u8; 16],
        buf: &[u8],
        clear: impl Iterator<Item = Range<usize>> + Clone,
    ) -> [u8; TAG_LEN] {
        let mut gs = GhashStream { g: self.ghash.clone(), buf: [0; 16], n: 0 };
        let mut aad_len = 0u64;
        segments(clear.clone(), buf.len(), |is_clear, r| {
            if is_clear {
                aad_len += r.len() as u64;
                gs.update(&buf[r]);
            }
        });
        gs.pad();
        let mut ct_len = 0u64;
        segments(clear, buf.len(), |is_clear, r| {
            if !is_clear {
                ct_len += r.len() as u64;
                gs.update(&buf[r]);
            }
        });
        gs.pad();
        let mut lens = [0u8; 16];
        lens[..8].copy_from_slice(&(aad_len * 8).to_be_bytes());
        lens[8..].copy_from_slice(&(ct_len * 8).to_be_bytes());
        gs.g.update(&[lens.into()]);
        let s = gs.g.finalize();
        let mut ek = *j0;
        self.aes.encrypt_block((&mut ek).into());
        let mut tag = [0u8; TAG_LEN];
        for (i, t) in tag.iter_mut().enumerate() {
            *t = s[i] ^ ek[i];
        }
        tag
    }

    /// Encrypts in place the bytes of `buf` outside `clear`, authenticating the clear ones, and
    /// returns the truncated tag.
    pub fn seal(
        &self,
        nonce: u32,
        buf: &mut [u8],
        clear: impl Iterator<Item = Range<usize>> + Clone,
    ) -> [u8; TAG_LEN] {
        self.seal_iv(&full_nonce(nonce), buf, clear)
    }

    fn seal_iv(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        clear: impl Iterator<Item = Range<usize>> + Clone,
    ) -> [u8; TAG_LEN] {
        #[cfg(feature = "ring")]
        if let Some(key) = &self.sealer
            && clear.clone().next().is_none()
        {
            let nonce = ring::aead::Nonce::assume_unique_for_key(*iv);
            // Sealing only fails for inputs over GCM's 64 GiB limit: those take the other path.
            if let Ok(tag) = key.seal_in_place_separate_tag(nonce, ring::aead::Aad::empty(), buf) {
                let mut t = [0u8; TAG_LEN];
                t.copy_from_slice(&tag.as_ref()[..TAG_LEN]);
                return t;
            }
        }
        self.seal_streaming(iv, buf, clear)
    }

    /// [`Self::seal_iv`] in the streaming form, whatever the clear ranges.
    fn seal_streaming(
        &self,
        iv: &[u8; 12],
        buf: &mut [u8],
        clear: impl Iterator<Item = Range<usize>> + Clone,
    ) -> [u8; TAG_LEN] {
        let j0 = j0(iv);
        let mut ctr = self.ctr(&j0);
        let len = buf.len();
        segments(clear.clone(), len, |is_clear, r| {
            if !is_clear {
                ctr.apply_keystream(&mut buf[r]);
            }
        });
        self.tag(&j0, buf, clear)
    }

    /// Verifies `tag` over `input` (interleaved clear and encrypted bytes) and, if it matches,
    /// writes the plaintext frame to `out[..input.len()]`. Returns `false` on a bad tag, leaving
    /// `out` untouched. `out` must be at least `input.len()` long.
    pub fn open(
        &self,
        nonce: u32,
        input: &[u8],
        clear: impl Iterator<Item = Range<usize>> + Clone,
        tag: &[u8; TAG_LEN],
        out: &mut [u8],
    ) -> bool {
        self.verify(nonce, input, clear.clone(), tag)
            && self.decrypt_verified(nonce, input, clear, out)
    }

    /// Whether `tag` authenticates `input` under `nonce`.
    pub fn verify(
        &self,
        nonce: u32,
        input: &[u8],
        clear: impl Iterator<Item = Range<usize>> + Clone,
        tag: &[u8; TAG_LEN],
    ) -> bool {
        let expected = self.tag(&j0(&full_nonce(nonce)), input, clear);
        bool::from(expected.ct_eq(tag))
    }

    /// CTR-decrypts `input` into `out`; call only after [`Self::verify`].
    pub(crate) fn decrypt_verified(
        &self,
        nonce: u32,
        input: &[u8],
        clear: impl Iterator<Item = Range<usize>>,
        out: &mut [u8],
    ) -> bool {
        let Some(out) = out.get_mut(..input.len()) else {
            return false;
        };
        out.copy_from_slice(input);
        let mut ctr = self.ctr(&j0(&full_nonce(nonce)));
        segments(clear, input.len(), |is_clear, r| {
            if !is_clear {
                ctr.apply_keystream(&mut out[r]);
            }
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NIST GCM test case 4 (AES-128, 60-byte plaintext, 20-byte AAD) recast with DAVE's nonce
    /// layout is not possible (its IV is arbitrary), so check instead against the contiguous
    /// layout: clear prefix as AAD, rest as plaintext, versus the segment-split form.
    #[test]
    fn segmented_equals_contiguous() {
        let c = FrameCipher::new(&[7; 16]);
        let frame: Vec<u8> = (0..100u8).collect();
        // contiguous: aad = 0..10, ct = 10..100
        let mut a = frame.clone();
        let tag_a = c.seal(5, &mut a, core::iter::once(0..10));
        // move the clear bytes around: the AAD is the concatenation, the CT the concatenation.
        let mut b = frame.clone();
        let tag_b = c.seal(5, &mut b, [0..3, 3..10].into_iter());
        assert_eq!(a, b);
        assert_eq!(tag_a, tag_b);
        let mut out = vec![0; 100];
        assert!(c.open(5, &a, core::iter::once(0..10), &tag_a, &mut out));
        assert_eq!(out, frame);
        let mut bad = tag_a;
        bad[0] ^= 1;
        assert!(!c.open(5, &a, core::iter::once(0..10), &bad, &mut out));
    }

    /// The sending side's fast path gives the same bytes and tag as the streaming form, for
    /// every length from empty to a large video frame, and what it seals opens.
    #[test]
    fn sealing_key_matches_the_streaming_form() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for len in (0..=64).chain([100, 159, 160, 161, 255, 256, 1000, 1500, 4096, 65_536]) {
            let key: [u8; 16] = core::array::from_fn(|_| next() as u8);
            let nonce = next() as u32;
            let frame: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let sealing = FrameCipher::new_sealing(&key);
            let plain = FrameCipher::new(&key);
            let mut a = frame.clone();
            let mut b = frame.clone();
            let tag_a = sealing.seal(nonce, &mut a, core::iter::empty());
            let tag_b = plain.seal_streaming(&full_nonce(nonce), &mut b, core::iter::empty());
            assert_eq!((&a, tag_a), (&b, tag_b), "length {len}");
            let mut out = vec![0; len];
            assert!(plain.open(nonce, &a, core::iter::empty(), &tag_a, &mut out), "length {len}");
            assert_eq!(out, frame);
            // With clear ranges the sending side takes the streaming form: same result too.
            if len >= 4 {
                let mut c = frame.clone();
                let mut d = frame.clone();
                let clear = [1..2, 2..3];
                assert_eq!(
                    sealing.seal(nonce, &mut c, clear.iter().cloned()),
                    plain.seal(nonce, &mut d, clear.iter().cloned())
                );
                assert_eq!(c, d);
            }
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// The GCM specification's test case 4 (AES-128, 60-byte plaintext, 20-byte AAD): the
    /// ciphertext, and the leftmost 8 bytes of the tag `5bc94fbc3221a5db94fae95ae7121a47`.
    #[test]
    fn gcm_spec_test_case_4() {
        let key: [u8; 16] = hex("feffe9928665731c6d6a8f9467308308").try_into().unwrap();
        let iv: [u8; 12] = hex("cafebabefacedbaddecaf888").try_into().unwrap();
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = hex(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let ct = hex(concat!(
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e",
            "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
        ));
        let c = FrameCipher::new(&key);
        // the AAD is split in two clear segments and the plaintext interleaved between them to
        // exercise the streaming GHASH: aad[..7] | pt[..13] | aad[7..] | pt[13..]
        let mut buf = Vec::new();
        buf.extend_from_slice(&aad[..7]);
        buf.extend_from_slice(&pt[..13]);
        buf.extend_from_slice(&aad[7..]);
        buf.extend_from_slice(&pt[13..]);
        let clear = [0..7, 20..33];
        let tag = c.seal_iv(&iv, &mut buf, clear.iter().cloned());
        assert_eq!(tag.to_vec(), hex("5bc94fbc3221a5db"));
        let mut got = buf[7..20].to_vec();
        got.extend_from_slice(&buf[33..]);
        assert_eq!(got, ct);
    }
}
