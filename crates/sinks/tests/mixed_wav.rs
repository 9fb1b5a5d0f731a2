//! The mixed WAV places each user by RTP timestamp: two users line up within one 20 ms frame,
//! despite different timestamp bases (one wrapping), jitter and reordering.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test signal generation and analysis on small, known buffers"
)]
mod common;

use std::time::{Duration, Instant};

use common::{TempDir, goertzel, packet, tick};
use voxwire_sinks::{DecodeConfig, DecodeSink, MixedWavConfig, MixedWavSink, Sink, UserId};

/// Index of the first 10 ms window (from `from`) where `hz` is clearly present.
fn onset(pcm: &[i16], hz: f64) -> Option<usize> {
    pcm.chunks(960).position(|w| goertzel(w, hz) > 400.0)
}

#[test]
fn two_users_are_aligned_on_the_rtp_timeline() {
    require_ffmpeg!();
    let dir = TempDir::new("mixed");
    let a = common::opus_tone(&dir, 440, 1.0);
    let b = common::opus_tone(&dir, 1500, 1.0);
    let path = dir.join("mixed.wav");
    let mut root = DecodeSink::new(
        MixedWavSink::create(&path, MixedWavConfig::default()).unwrap(),
        DecodeConfig::default(),
    );

    // User A speaks from t0; user B from t0 + 500 ms. B's timestamps start just below the wrap.
    let t0 = Instant::now();
    let mut arrivals = Vec::new();
    for (i, p) in a.iter().enumerate() {
        let jitter = Duration::from_millis((i * 7 % 5) as u64 * 3);
        let pk = packet(1, i as u16, 123_456 + 960 * i as u32, tick(t0, i) + jitter, p.clone())
            .with_user(UserId(1));
        arrivals.push(pk);
    }
    for (i, p) in b.iter().enumerate() {
        let jitter = Duration::from_millis((i * 3 % 4) as u64 * 4);
        let pk = packet(
            2,
            60_000 + i as u16,
            0xFFFF_F000u32.wrapping_add(960 * i as u32),
            tick(t0, 25 + i) + jitter,
            p.clone(),
        )
        .with_user(UserId(2));
        arrivals.push(pk);
    }
    arrivals.sort_by_key(|p| p.received_at);
    // Reorder neighbours: the second of each pair of B's packets arrives first.
    for pair in arrivals.chunks_mut(2) {
        if pair.len() == 2 && pair[0].ssrc == pair[1].ssrc {
            pair.swap(0, 1);
        }
    }
    // The first packet of each stream must be its first in time for the anchor; keep A's and B's
    // first packets in place by feeding them before the rest.
    let firsts: Vec<_> =
        arrivals.iter().filter(|p| p.sequence.0 == 0 || p.sequence.0 == 60_000).cloned().collect();
    for p in &firsts {
        root.write(p).unwrap();
        root.tick(p.received_at).unwrap();
    }
    for p in arrivals.iter().filter(|p| p.sequence.0 != 0 && p.sequence.0 != 60_000) {
        root.write(p).unwrap();
        root.tick(p.received_at).unwrap();
    }
    root.cleanup().unwrap();

    let (secs, rate, channels, _) = common::probe(&path);
    assert_eq!((rate, channels), (48_000, 2));
    assert!((secs - 1.5).abs() < 0.03, "duration {secs}");
    let pcm = common::read_wav(&path);
    let a_on = onset(&pcm, 440.0).expect("A present");
    let b_on = onset(&pcm, 1500.0).expect("B present");
    // Windows are 10 ms; B started 500 ms after A: within one 20 ms frame.
    let offset_ms = (b_on as i64 - a_on as i64) * 10;
    assert!((offset_ms - 500).abs() <= 20, "B starts {offset_ms} ms after A");
    // In the overlap both are present.
    let overlap = &pcm[48_000 * 2 * 6 / 10..48_000 * 2 * 9 / 10];
    assert!(goertzel(overlap, 440.0) > 400.0 && goertzel(overlap, 1500.0) > 400.0);
}
