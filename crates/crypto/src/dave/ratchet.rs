//! The per-sender key ratchet (protocol.md 7.4): MLS `ExpandWithLabel` over HKDF-SHA256.
//!
//! DAVE's ratchet starts from a 16-byte base secret, which is shorter than the hash output.
//! HKDF libraries that check the PRK length (and `OpenMLS`) refuse it, so the expansion is written
//! here directly over HMAC-SHA256; no output longer than one hash block is ever needed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// AES-128 key size.
pub const KEY_LEN: usize = 16;

/// `ExpandWithLabel(secret, label, context, out.len())` for `out.len() <= 32` (RFC 9420 §8).
fn expand_with_label(secret: &[u8], label: &str, context: &[u8], out: &mut [u8]) {
    debug_assert!(out.len() <= 32 && label.len() + 8 < 64 && context.len() < 64);
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return;
    };
    // KDFLabel { uint16 length; opaque label<V> = "MLS 1.0 " + label; opaque context<V> }
    mac.update(&(out.len() as u16).to_be_bytes());
    mac.update(&[(8 + label.len()) as u8]);
    mac.update(b"MLS 1.0 ");
    mac.update(label.as_bytes());
    mac.update(&[context.len() as u8]);
    mac.update(context);
    mac.update(&[1]); // HKDF-Expand block counter T(1)
    let t1 = mac.finalize().into_bytes();
    out.copy_from_slice(&t1[..out.len()]);
}

/// A sender's hash ratchet: yields the AES key for generation 0, 1, 2, … in order.
#[derive(Clone)]
pub struct KeyRatchet {
    base: [u8; KEY_LEN],
    /// `secret_{next}`; the base secret has 16 bytes, later ones 32.
    secret: [u8; 32],
    secret_len: usize,
    next: u32,
}

impl core::fmt::Debug for KeyRatchet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyRatchet").field("next_generation", &self.next).finish_non_exhaustive()
    }
}

impl KeyRatchet {
    /// A ratchet from the 16-byte base secret that the MLS exporter gave for one sender.
    pub fn new(base_secret: &[u8; KEY_LEN]) -> Self {
        let mut secret = [0u8; 32];
        secret[..KEY_LEN].copy_from_slice(base_secret);
        Self { base: *base_secret, secret, secret_len: KEY_LEN, next: 0 }
    }

    /// The base secret this ratchet started from (its identity).
    pub fn base_secret(&self) -> [u8; KEY_LEN] {
        self.base
    }

    /// The next generation [`Self::advance`] yields.
    pub fn next_generation(&self) -> u32 {
        self.next
    }

    /// Key and (unused by DAVE) nonce of the current generation, then moves to the next one.
    pub fn advance(&mut self) -> ([u8; KEY_LEN], [u8; 12]) {
        let g = self.next.to_be_bytes();
        let cur = &self.secret[..self.secret_len];
        let mut key = [0u8; KEY_LEN];
        let mut nonce = [0u8; 12];
        let mut next = [0u8; 32];
        expand_with_label(cur, "key", &g, &mut key);
        expand_with_label(cur, "nonce", &g, &mut nonce);
        expand_with_label(cur, "secret", &g, &mut next);
        self.secret = next;
        self.secret_len = 32;
        self.next = self.next.wrapping_add(1);
        (key, nonce)
    }

    /// The key of `generation`, advancing past it. `None` if it was already passed.
    pub fn key(&mut self, generation: u32) -> Option<[u8; KEY_LEN]> {
        if generation < self.next {
            return None;
        }
        loop {
            let g = self.next;
            let (key, _) = self.advance();
            if g == generation {
                return Some(key);
            }
        }
    }
}

/// `wrapped(cur, g8)` of 7.4: the full generation for the 8-bit generation in a nonce, given the
/// current (sender) or oldest retained (receiver) generation.
pub fn wrapped_generation(current: u32, generation8: u32) -> u32 {
    let extra = u32::from(generation8 < current % 256);
    (current / 256 + extra).wrapping_mul(256).wrapping_add(generation8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// protocol.md 7.4 known-answer vector.
    #[test]
    fn ratchet_known_answer() {
        let base: [u8; 16] = hex("cedd61b1b8a1ca69046554282cf70b7b").try_into().unwrap();
        let mut r = KeyRatchet::new(&base);
        let (k0, n0) = r.advance();
        assert_eq!(k0.to_vec(), hex("7530f9a9945e2d2e06d0651f7b2a864b"));
        assert_eq!(n0.to_vec(), hex("301e5f4b74090f985e726bb2"));
        let (k1, _) = r.advance();
        assert_eq!(k1.to_vec(), hex("cddd06e0f3437596bacb9c06a0329c49"));
        let mut r2 = KeyRatchet::new(&base);
        assert_eq!(r2.key(1).unwrap(), k1);
        assert_eq!(r2.key(0), None);
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrapped_generation(0, 0), 0);
        assert_eq!(wrapped_generation(255, 0), 256);
        assert_eq!(wrapped_generation(256, 3), 259);
        assert_eq!(wrapped_generation(300, 10), 522);
        assert_eq!(wrapped_generation(300, 44), 300);
    }
}
