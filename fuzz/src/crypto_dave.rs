//! DAVE targets: protocol-frame parsing and decryption, and a DAVE session fed arbitrary
//! gateway opcode sequences.

use crate::Target;
use std::time::{Duration, Instant};
use voxwire_crypto::dave::{
    DaveSession, DaveSessionConfig, FrameCipher, KeyRatchet, MediaKind, ProtocolFrame,
};

/// The DAVE targets.
pub const TARGETS: &[Target] = &[
    Target { name: "crypto_dave_frame", run: frame },
    Target { name: "crypto_dave_session", run: session },
];

/// Parses `data` as a protocol frame; if it parses, its ranges must lie inside the body in
/// ascending order, and decryption under a fixed key must not panic (and almost never succeed).
///
/// # Panics
///
/// When a parsed frame's clear ranges are not ascending inside its body (a parser bug).
pub fn frame(data: &[u8]) {
    let Some(pf) = ProtocolFrame::parse(data) else { return };
    let mut pos = 0;
    for r in pf.clear_ranges() {
        assert!(r.start >= pos && r.end <= pf.body().len());
        pos = r.end;
    }
    let key = KeyRatchet::new(&[7; 16]).advance().0;
    let mut out = vec![0u8; pf.body().len()];
    let _ =
        FrameCipher::new(&key).open(pf.nonce(), pf.body(), pf.clear_ranges(), pf.tag(), &mut out);
    // and through a session's receive path, which must classify it without panicking
    let now = base_instant();
    let mut s = DaveSession::new(DaveSessionConfig::new(1, 2));
    s.map_ssrc(5, 3);
    let mut out = vec![0u8; data.len()];
    let _ = s.decrypt(5, MediaKind::Video, data, &mut out, now);
    let _ = s.poll_frame(&mut out, now + Duration::from_secs(5));
}

fn base_instant() -> Instant {
    // Fuzz bodies are replayed without a clock: one fixed instant per process is enough.
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Feeds a session a sequence of gateway messages built from `data`: each step takes an opcode
/// selector byte, a length byte and that many payload bytes. Nothing may panic.
pub fn session(data: &[u8]) {
    let mut now = base_instant();
    let mut s = DaveSession::new(DaveSessionConfig::new(11, 22));
    let _ = s.handle_session_description(1, now);
    let mut rest = data;
    let mut out = vec![0u8; 512];
    while let [sel, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(n);
        rest = next;
        let tid = payload.first().map_or(0, |&b| u16::from(b));
        let _ = match sel % 11 {
            0 => s.handle_binary(25, payload, now),
            1 => s.handle_binary(27, payload, now),
            2 => s.handle_binary(29, payload, now),
            3 => s.handle_binary(30, payload, now),
            4 => s.handle_prepare_transition(u16::from(*len & 1), tid, now),
            5 => s.handle_execute_transition(tid, now),
            6 => s.handle_prepare_epoch(1, u64::from(*len % 3), now),
            7 => s.decrypt(u32::from(*len), MediaKind::Audio, payload, &mut out, now).map(|_| ()),
            8 => s.encrypt_opus(payload, &mut out).map(|_| ()),
            9 => {
                s.map_ssrc(u32::from(*len), tid.into());
                Ok(())
            }
            _ => {
                now += Duration::from_millis(u64::from(*len) * 10);
                s.handle_timeout(now);
                Ok(())
            }
        };
        while s.poll_transmit().is_some() {}
        while s.poll_event().is_some() {}
        while s.poll_frame(&mut out, now).is_some() {}
    }
}
