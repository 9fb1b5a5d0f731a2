//! The receiving half for one sender (protocol.md 7.4 retention, 7.8 passthrough).

use super::aead::FrameCipher;
use super::frame::ProtocolFrame;
use super::ratchet::{KeyRatchet, wrapped_generation};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long an older ratchet, or an older generation's key, stays usable after a newer one.
pub const KEY_RETENTION: Duration = Duration::from_secs(10);
/// Highest accepted distance to the newest generation seen.
pub const MAX_GENERATION_GAP: u32 = 250;
/// Largest number of tracked missing nonces for replay protection.
pub const MAX_MISSING_NONCES: usize = 1000;
/// Frames per second assumed when bounding generations by ratchet age.
pub const MAX_FRAMES_PER_SECOND: u64 = 170;
/// Most cryptor managers kept per sender (older ones expire anyway after 10 s).
const MAX_MANAGERS: usize = 8;

/// Why a well-formed protocol frame could not be decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenFailure {
    /// No ratchet accepts the generation, or the tag did not verify under any.
    NoKey,
    /// The nonce was already used (replay) in the ratchet whose key verifies.
    Replay,
}

struct GenKey {
    generation: u32,
    cipher: FrameCipher,
    expiry: Option<Instant>,
}

/// One installed ratchet and its replay window (libdave's cryptor manager).
struct Manager {
    id: [u8; 16],
    ratchet: KeyRatchet,
    keys: Vec<GenKey>,
    created: Instant,
    expiry: Option<Instant>,
    oldest: u32,
    newest: u32,
    newest_big_nonce: Option<u64>,
    missing: VecDeque<u64>,
}

fn big_nonce(generation: u32, nonce: u32) -> u64 {
    (u64::from(generation) << 24) | u64::from(nonce & 0x00FF_FFFF)
}

impl Manager {
    fn new(id: [u8; 16], now: Instant) -> Self {
        Self {
            id,
            ratchet: KeyRatchet::new(&id),
            keys: Vec::new(),
            created: now,
            expiry: None,
            oldest: 0,
            newest: 0,
            newest_big_nonce: None,
            missing: VecDeque::new(),
        }
    }

    fn can_process(&self, big: u64) -> bool {
        self.newest_big_nonce.is_none_or(|n| big > n) || self.missing.contains(&big)
    }

    fn cleanup(&mut self, now: Instant) {
        self.keys.retain(|k| k.expiry.is_none_or(|e| e >= now));
        while self.oldest < self.newest && !self.keys.iter().any(|k| k.generation == self.oldest) {
            self.oldest += 1;
        }
    }

    fn cipher(&mut self, generation: u32, now: Instant) -> Option<usize> {
        self.cleanup(now);
        if generation < self.oldest || generation > self.newest.saturating_add(MAX_GENERATION_GAP) {
            return None;
        }
        let age = now.saturating_duration_since(self.created).as_secs();
        let max_gen = (MAX_FRAMES_PER_SECOND * age) >> 24;
        if u64::from(generation) > max_gen {
            return None;
        }
        if let Some(i) = self.keys.iter().position(|k| k.generation == generation) {
            return Some(i);
        }
        // Keys of generations the ratchet already passed are gone unless cached; derive forward,
        // caching the skipped ones (at most MAX_GENERATION_GAP, and in practice never more than
        // one: a generation lasts 2^24 frames).
        while self.ratchet.next_generation() <= generation {
            let g = self.ratchet.next_generation();
            let (key, _) = self.ratchet.advance();
            let expiry = (g < self.newest).then_some(now + KEY_RETENTION);
            self.keys.push(GenKey { generation: g, cipher: FrameCipher::new(&key), expiry });
        }
        self.keys.iter().position(|k| k.generation == generation)
    }

    fn report_success(&mut self, generation: u32, nonce: u32, now: Instant) {
        let big = big_nonce(generation, nonce);
        match self.newest_big_nonce {
            Some(n) if big <= n => {
                if let Some(i) = self.missing.iter().rposition(|&x| x == big) {
                    self.missing.remove(i);
                }
            }
            prev => {
                let expected = prev.map_or(0, |n| n + 1);
                let gap = (big - expected).min(MAX_MISSING_NONCES as u64);
                while !self.missing.is_empty()
                    && self.missing.len() as u64 + gap > MAX_MISSING_NONCES as u64
                {
                    self.missing.pop_front();
                }
                for m in big - gap..big {
                    self.missing.push_back(m);
                }
                self.newest_big_nonce = Some(big);
            }
        }
        if generation > self.newest {
            self.newest = generation;
            let exp = now + KEY_RETENTION;
            for k in &mut self.keys {
                if k.generation < generation {
                    k.expiry = Some(k.expiry.map_or(exp, |e| e.min(exp)));
                }
            }
        }
    }
}

/// Passthrough permission of a decryptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Passthrough {
    /// Plain frames are accepted without expiry (transport-only, or downgrade announced).
    Always,
    /// Plain frames are accepted until the instant (grace after an upgrade).
    Until(Instant),
    /// Plain frames are errors.
    Never,
}

/// All receive state for one sender.
pub(crate) struct UserDecryptor {
    managers: VecDeque<Manager>,
    pub(crate) passthrough: Passthrough,
}

impl UserDecryptor {
    pub(crate) fn new(passthrough: Passthrough) -> Self {
        Self { managers: VecDeque::new(), passthrough }
    }

    pub(crate) fn can_passthrough(&self, now: Instant) -> bool {
        match self.passthrough {
            Passthrough::Always => true,
            Passthrough::Until(t) => now < t,
            Passthrough::Never => false,
        }
    }

    /// Limits passthrough to `until` (keeps an earlier limit).
    pub(crate) fn limit_passthrough(&mut self, until: Instant) {
        self.passthrough = match self.passthrough {
            Passthrough::Until(t) => Passthrough::Until(t.min(until)),
            _ => Passthrough::Until(until),
        };
    }

    fn expire(&mut self, now: Instant) {
        self.managers.retain(|m| m.expiry.is_none_or(|e| e >= now));
    }

    /// Installs a new ratchet from its base secret; older ones expire [`KEY_RETENTION`] later.
    /// Reinstalling a live ratchet does nothing (it would reopen the replay window).
    pub(crate) fn install(&mut self, base_secret: [u8; 16], now: Instant) {
        self.expire(now);
        if self.managers.iter().any(|m| m.id == base_secret) {
            return;
        }
        self.expire_all(now);
        if self.managers.len() >= MAX_MANAGERS {
            self.managers.pop_front();
        }
        self.managers.push_back(Manager::new(base_secret, now));
    }

    /// Lets every installed ratchet expire [`KEY_RETENTION`] from now (downgrade).
    pub(crate) fn expire_all(&mut self, now: Instant) {
        let exp = now + KEY_RETENTION;
        for m in &mut self.managers {
            m.expiry = Some(m.expiry.map_or(exp, |e| e.min(exp)));
        }
    }

    /// Drops the ratchets and generation keys whose retention ended by `now`, so that
    /// [`next_expiry`](Self::next_expiry) moves on.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
        for m in &mut self.managers {
            m.cleanup(now);
        }
    }

    /// Earliest instant at which some retained key expires.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.managers
            .iter()
            .flat_map(|m| m.expiry.into_iter().chain(m.keys.iter().filter_map(|k| k.expiry)))
            .min()
    }

    /// Decrypts `frame` into `out`, newest ratchet first; returns the plaintext length.
    pub(crate) fn open(
        &mut self,
        frame: &ProtocolFrame<'_>,
        out: &mut [u8],
        now: Instant,
    ) -> Result<usize, OpenFailure> {
        self.expire(now);
        let mut failure = OpenFailure::NoKey;
        for m in self.managers.iter_mut().rev() {
            let generation = wrapped_generation(m.oldest, frame.nonce() >> 24);
            let Some(i) = m.cipher(generation, now) else { continue };
            let Some(k) = m.keys.get(i) else { continue };
            // Authenticate first: a frame under a key we do not hold says nothing about replay.
            if !k.cipher.verify(frame.nonce(), frame.body(), frame.clear_ranges(), frame.tag()) {
                continue;
            }
            if !m.can_process(big_nonce(generation, frame.nonce())) {
                failure = OpenFailure::Replay;
                continue;
            }
            if k.cipher.decrypt_verified(frame.nonce(), frame.body(), frame.clear_ranges(), out) {
                m.report_success(generation, frame.nonce(), now);
                return Ok(frame.body().len());
            }
        }
        Err(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(clippy::disallowed_methods, reason = "the test's origin; the code takes `now`")]
    fn a_timeout_drops_expired_ratchets_so_the_deadline_moves_on() {
        let t0 = Instant::now();
        let mut d = UserDecryptor::new(Passthrough::Never);
        d.install([1; 16], t0);
        assert_eq!(d.next_expiry(), None, "the live ratchet never expires by itself");
        d.install([2; 16], t0);
        let old = d.next_expiry().expect("the replaced ratchet expires");
        assert_eq!(old, t0 + KEY_RETENTION);
        d.handle_timeout(t0 + KEY_RETENTION.saturating_sub(Duration::from_millis(1)));
        assert_eq!(d.next_expiry(), Some(old), "nothing expires early");
        d.handle_timeout(old + Duration::from_millis(1));
        assert_eq!(d.next_expiry(), None, "an expired deadline is not reported again");
        assert_eq!(d.managers.len(), 1);
    }
}
