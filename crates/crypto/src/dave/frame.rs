//! DAVE protocol frames (protocol.md 7.5): parsing, the supplemental data, and the sender side.

use super::aead::{FrameCipher, TAG_LEN};
use super::leb128;
use super::ratchet::{KeyRatchet, wrapped_generation};
use crate::Error;
use core::ops::Range;

/// The two bytes every DAVE protocol frame ends with.
pub const MAGIC_MARKER: [u8; 2] = [0xFA, 0xFA];
/// Tag, size byte and marker: the supplemental bytes that do not depend on the frame.
pub const FIXED_SUPPLEMENTAL_LEN: usize = TAG_LEN + 1 + 2;
/// The Opus frame the SFU synthesises for silence; always passed through on receive.
pub const OPUS_SILENCE: [u8; 3] = [0xF8, 0xFF, 0xFE];
/// Encryption attempts for H.264/H.265 before a frame whose ciphertext keeps containing a start
/// code is dropped.
pub const MAX_ENCRYPT_ATTEMPTS: usize = 10;

/// A parsed DAVE protocol frame: a view over the received bytes, validated once.
#[derive(Debug, Clone, Copy)]
pub struct ProtocolFrame<'a> {
    body: &'a [u8],
    tag: [u8; TAG_LEN],
    nonce: u32,
    ranges: &'a [u8],
}

impl<'a> ProtocolFrame<'a> {
    /// The protocol frame check of 7.5/7.8. `None` if `data` is not a well-formed DAVE frame
    /// (such data is either plain media, passed through when allowed, or garbage).
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let len = data.len();
        if len < FIXED_SUPPLEMENTAL_LEN || data[len - 2..] != MAGIC_MARKER {
            return None;
        }
        let supplemental = usize::from(data[len - 3]);
        if supplemental < FIXED_SUPPLEMENTAL_LEN || supplemental > len {
            return None;
        }
        let body_len = len - supplemental;
        let supp = &data[body_len..len - 3];
        let tag: [u8; TAG_LEN] = supp.get(..TAG_LEN)?.try_into().ok()?;
        let rest = &supp[TAG_LEN..];
        let (nonce, n) = leb128::read(rest)?;
        let nonce = u32::try_from(nonce).ok()?;
        let ranges = &rest[n..];
        // validate the ranges once, so iteration cannot fail
        let mut pos = 0usize;
        let mut r = ranges;
        while !r.is_empty() {
            let (off, a) = leb128::read(r)?;
            let (size, b) = leb128::read(r.get(a..)?)?;
            r = &r[a + b..];
            let off = usize::try_from(off).ok()?;
            let end = off.checked_add(usize::try_from(size).ok()?)?;
            if off < pos || end > body_len {
                return None;
            }
            pos = end;
        }
        Some(Self { body: &data[..body_len], tag, nonce, ranges })
    }

    /// The interleaved media bytes (clear ranges and ciphertext).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The 32-bit truncated nonce; its top byte is the 8-bit ratchet generation.
    pub fn nonce(&self) -> u32 {
        self.nonce
    }

    /// The truncated tag.
    pub fn tag(&self) -> &[u8; TAG_LEN] {
        &self.tag
    }

    /// The clear ranges, as offsets into [`Self::body`].
    pub fn clear_ranges(&self) -> ClearRanges<'a> {
        ClearRanges { data: self.ranges }
    }
}

/// Iterator over the validated clear ranges of a [`ProtocolFrame`].
#[derive(Debug, Clone)]
pub struct ClearRanges<'a> {
    data: &'a [u8],
}

impl Iterator for ClearRanges<'_> {
    type Item = Range<usize>;
    fn next(&mut self) -> Option<Range<usize>> {
        let (off, a) = leb128::read(self.data)?;
        let (size, b) = leb128::read(self.data.get(a..)?)?;
        self.data = self.data.get(a + b..)?;
        let off = off as usize;
        Some(off..off + size as usize)
    }
}

fn ranges_len(clear: &[Range<usize>]) -> usize {
    clear.iter().map(|r| leb128::size(r.start as u64) + leb128::size(r.len() as u64)).sum()
}

/// Size of the protocol frame for a `frame_len`-byte media frame with `clear` ranges, at the
/// largest nonce encoding (5 bytes): the buffer size [`FrameEncryptor::encrypt`] needs.
pub fn max_encrypted_len(frame_len: usize, clear: &[Range<usize>]) -> usize {
    frame_len + FIXED_SUPPLEMENTAL_LEN + 5 + ranges_len(clear)
}

fn contains_start_code(data: &[u8]) -> bool {
    data.windows(3).any(|w| w == [0, 0, 1])
}

/// The sending half: the local member's ratchet and the truncated-nonce counter.
#[derive(Debug, Default)]
pub struct FrameEncryptor {
    ratchet: Option<KeyRatchet>,
    /// Base secret of the installed ratchet: reinstalling the same one keeps the nonce sequence.
    domain: Option<[u8; 16]>,
    cipher: Option<(u32, FrameCipher)>,
    nonce: u32,
    generation: u32,
}

impl FrameEncryptor {
    /// An encryptor without a key: [`Self::encrypt`] fails until [`Self::set_ratchet`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs a new sender ratchet; the nonce counter restarts (the first frame uses 1).
    /// Reinstalling the ratchet already in use changes nothing: restarting its nonce sequence
    /// would reuse nonces.
    pub fn set_ratchet(&mut self, ratchet: KeyRatchet) {
        if self.domain == Some(ratchet.base_secret()) {
            return;
        }
        self.domain = Some(ratchet.base_secret());
        self.ratchet = Some(ratchet);
        self.cipher = None;
        self.nonce = 0;
        self.generation = 0;
    }

    /// Removes the key (after a downgrade). The last key's identity is kept, so that installing
    /// it again cannot restart its nonce sequence.
    pub fn clear_ratchet(&mut self) {
        self.ratchet = None;
        self.cipher = None;
    }

    /// Whether a sender ratchet is installed.
    pub fn has_ratchet(&self) -> bool {
        self.ratchet.is_some()
    }

    fn cipher_for(&mut self, generation: u32) -> Result<&FrameCipher, Error> {
        if self.cipher.as_ref().is_none_or(|(g, _)| *g != generation) {
            let ratchet = self.ratchet.as_mut().ok_or(Error::DaveNotReady)?;
            let key = ratchet.key(generation).ok_or(Error::DaveGenerationExpired { generation })?;
            self.cipher = Some((generation, FrameCipher::new_sealing(&key)));
        }
        match &self.cipher {
            Some((_, c)) => Ok(c),
            None => Err(Error::DaveNotReady),
        }
    }

    /// Encrypts `frame` (already rewritten by the codec rules) whose `clear` ranges stay in the
    /// clear, into `out`; returns the protocol frame length. `clear` must be ascending and
    /// disjoint inside `frame`. `h26x` enables the start-code check and retries of 7.6.
    pub fn encrypt(
        &mut self,
        frame: &[u8],
        clear: &[Range<usize>],
        h26x: bool,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let mut pos = 0;
        for r in clear {
            if r.start < pos || r.end > frame.len() || r.start > r.end {
                return Err(Error::DaveBadClearRanges);
            }
            pos = r.end;
        }
        let rl = ranges_len(clear);
        if FIXED_SUPPLEMENTAL_LEN + 5 + rl > 255 {
            return Err(Error::DaveTooManyRanges { count: clear.len() });
        }
        let needed = max_encrypted_len(frame.len(), clear);
        if out.len() < needed {
            return Err(Error::DaveBufferTooSmall { needed, capacity: out.len() });
        }
        for _ in 0..MAX_ENCRYPT_ATTEMPTS {
            self.nonce = self.nonce.wrapping_add(1);
            let nonce = self.nonce;
            let generation = wrapped_generation(self.generation, nonce >> 24);
            self.generation = generation;
            let cipher = self.cipher_for(generation)?;
            let body = &mut out[..frame.len()];
            body.copy_from_slice(frame);
            let tag = cipher.seal(nonce, body, clear.iter().cloned());
            let mut p = frame.len();
            out[p..p + TAG_LEN].copy_from_slice(&tag);
            p += TAG_LEN;
            p += leb128::write(u64::from(nonce), &mut out[p..]);
            for r in clear {
                p += leb128::write(r.start as u64, &mut out[p..]);
                p += leb128::write(r.len() as u64, &mut out[p..]);
            }
            let s = p + 3 - frame.len();
            out[p] = s as u8;
            out[p + 1..p + 3].copy_from_slice(&MAGIC_MARKER);
            let total = p + 3;
            if !h26x || !start_code_in_encrypted(&out[..total], frame.len(), clear) {
                return Ok(total);
            }
        }
        Err(Error::DaveStartCodeCollision)
    }
}

/// libdave's check: each encrypted span extended by 2 bytes either side, and the supplemental
/// data from 2 bytes before it.
fn start_code_in_encrypted(out: &[u8], body_len: usize, clear: &[Range<usize>]) -> bool {
    let mut found = false;
    super::aead::segments(clear.iter().cloned(), body_len, |is_clear, r| {
        if !is_clear {
            let a = r.start.saturating_sub(2);
            let b = (r.end + 2).min(out.len());
            found |= contains_start_code(&out[a..b]);
        }
    });
    found || contains_start_code(&out[body_len.saturating_sub(2)..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_ranges() {
        let mut enc = FrameEncryptor::new();
        enc.set_ratchet(KeyRatchet::new(&[1; 16]));
        let frame: Vec<u8> = (0..200u8).collect();
        let clear = [0..10, 50..60];
        let mut out = vec![0; max_encrypted_len(frame.len(), &clear)];
        let n = enc.encrypt(&frame, &clear, false, &mut out).unwrap();
        let pf = ProtocolFrame::parse(&out[..n]).unwrap();
        assert_eq!(pf.nonce(), 1);
        assert_eq!(pf.clear_ranges().collect::<Vec<_>>(), clear.to_vec());
        assert_eq!(&pf.body()[..10], &frame[..10]);
        let mut r = KeyRatchet::new(&[1; 16]);
        let c = FrameCipher::new(&r.key(0).unwrap());
        let mut plain = vec![0; pf.body().len()];
        assert!(c.open(1, pf.body(), pf.clear_ranges(), pf.tag(), &mut plain));
        assert_eq!(plain, frame);
    }

    #[test]
    fn opus_overhead_and_rejects() {
        let mut enc = FrameEncryptor::new();
        let mut out = [0u8; 64];
        assert!(enc.encrypt(&[1, 2, 3], &[], false, &mut out).is_err());
        enc.set_ratchet(KeyRatchet::new(&[1; 16]));
        let n = enc.encrypt(&[1, 2, 3], &[], false, &mut out).unwrap();
        assert_eq!(n, 3 + 12);
        assert!(ProtocolFrame::parse(&out[..n]).is_some());
        assert!(ProtocolFrame::parse(&[0xFA, 0xFA]).is_none());
        let mut bad = out[..n].to_vec();
        bad[n - 3] = 200;
        assert!(ProtocolFrame::parse(&bad).is_none());
    }
}
