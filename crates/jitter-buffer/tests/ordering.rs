//! Any arrival order within the window plays out in order, each frame once.
#![expect(clippy::disallowed_methods, reason = "one real Instant as the epoch of a virtual clock")]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use voxwire_jitter::{
    AudioJitterBuffer, AudioPacket, JitterBufferConfig, Playout, PlayoutDelay, PushOutcome,
};
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};

fn pkt(seq: u16, ts: u32, payload: &[u8]) -> AudioPacket<'_> {
    AudioPacket { ssrc: Ssrc(9), seq: SeqNo(seq), timestamp: RtpTimestamp(ts), payload }
}

/// Drains everything due at `now`; returns (seq, payload) of played frames and lost seqs.
fn drain(
    b: &mut AudioJitterBuffer,
    now: Instant,
    played: &mut Vec<(u16, Vec<u8>)>,
    lost: &mut Vec<u16>,
) {
    loop {
        match b.poll(now) {
            Playout::Ready(f) => played.push((f.seq.0, f.payload.to_vec())),
            Playout::Lost(l) => lost.push(l.seq.0),
            Playout::Wait(_) | Playout::Empty => break,
        }
    }
}

proptest! {
    /// Packets sent every 20 ms with up to 150 ms of random network delay each arrive in any
    /// order; with a playout delay covering that, they play out complete and in order, across the
    /// sequence and timestamp wrap, with polls between arrivals. Polled only at the end, any
    /// policy plays them complete and in order.
    #[test]
    fn any_order_within_the_window_plays_in_order(
        start in any::<u16>(),
        ts_start in any::<u32>(),
        delays in prop::collection::vec(0u64..150, 48),
        poll_between in any::<bool>(),
    ) {
        let t0 = Instant::now();
        let delay = if poll_between { PlayoutDelay::Fixed(Duration::from_millis(160)) } else { JitterBufferConfig::default().delay };
        let mut b = AudioJitterBuffer::new(JitterBufferConfig::default().with_delay(delay));
        let mut arrivals: Vec<(u64, u16)> = (0u16..48).map(|i| (20 * u64::from(i) + delays[usize::from(i)], i)).collect();
        arrivals.sort_unstable();
        let (mut played, mut lost) = (Vec::new(), Vec::new());
        for (at, i) in arrivals {
            let now = t0 + Duration::from_millis(at);
            let payload = i.to_be_bytes();
            let seq = start.wrapping_add(i);
            let ts = ts_start.wrapping_add(u32::from(i) * 960);
            let _ = b.push(&pkt(seq, ts, &payload), now);
            if poll_between {
                drain(&mut b, now, &mut played, &mut lost);
            }
        }
        drain(&mut b, t0 + Duration::from_secs(10), &mut played, &mut lost);
        prop_assert!(lost.is_empty(), "lost {lost:?}");
        let want: Vec<(u16, Vec<u8>)> = (0u16..48).map(|i| (start.wrapping_add(i), i.to_be_bytes().to_vec())).collect();
        prop_assert_eq!(played, want);
        prop_assert_eq!(b.stats().late, 0);
    }

    /// Whatever arrives (duplicates, late, reordered, jumps), no sequence number is output twice
    /// and output never goes backwards within a stream (a restart begins a new one).
    #[test]
    fn nothing_is_output_twice(
        start in any::<u16>(),
        ops in prop::collection::vec((0u16..80, 0u64..100, any::<bool>()), 1..300),
    ) {
        let t0 = Instant::now();
        let mut b = AudioJitterBuffer::new(JitterBufferConfig::default().with_capacity(32));
        let mut now = t0;
        let mut seen = std::collections::HashSet::new();
        let mut last: Option<u16> = None;
        for (off, dt, poll) in ops {
            now += Duration::from_millis(dt);
            let seq = start.wrapping_add(off);
            if b.push(&pkt(seq, u32::from(off) * 960, b"p"), now) == PushOutcome::Restarted {
                // A jump beyond the buffer starts a new stream: numbering starts over.
                seen.clear();
                last = None;
            }
            if poll {
                loop {
                    let seq = match b.poll(now) {
                        Playout::Ready(f) => f.seq,
                        Playout::Lost(l) => l.seq,
                        Playout::Wait(_) | Playout::Empty => break,
                    };
                    prop_assert!(seen.insert(seq.0), "{seq:?} output twice");
                    if let Some(l) = last {
                        prop_assert!(seq.is_newer_than(SeqNo(l)));
                    }
                    last = Some(seq.0);
                }
            }
        }
    }
}

#[test]
fn duplicates_and_late_packets_are_reported() {
    let t0 = Instant::now();
    let mut b = AudioJitterBuffer::new(
        JitterBufferConfig::default().with_delay(PlayoutDelay::Fixed(Duration::from_millis(40))),
    );
    let ms = Duration::from_millis;
    assert_eq!(b.push(&pkt(10, 0, b"a"), t0), PushOutcome::Buffered);
    assert_eq!(b.push(&pkt(10, 0, b"a"), t0 + ms(1)), PushOutcome::Duplicate);
    assert_eq!(b.push(&pkt(12, 1920, b"c"), t0 + ms(40)), PushOutcome::Buffered);
    let (mut played, mut lost) = (Vec::new(), Vec::new());
    assert_eq!(b.poll(t0), Playout::Wait(t0 + ms(40)));
    drain(&mut b, t0 + ms(40), &mut played, &mut lost);
    assert_eq!(played.len(), 1);
    // 11 is due at 60 ms; 12 is buffered, so at 60 ms 11 is declared lost with 12's payload for FEC.
    match b.poll(t0 + ms(60)) {
        Playout::Lost(l) => {
            assert_eq!(l.seq, SeqNo(11));
            assert_eq!(l.timestamp, RtpTimestamp(960));
            assert_eq!(l.next_payload, Some(&b"c"[..]));
        }
        other => panic!("expected Lost, got {other:?}"),
    }
    assert_eq!(b.push(&pkt(11, 960, b"b"), t0 + ms(61)), PushOutcome::Late);
    assert_eq!(b.push(&pkt(10, 0, b"a"), t0 + ms(62)), PushOutcome::Duplicate);
    drain(&mut b, t0 + ms(80), &mut played, &mut lost);
    assert_eq!(played.iter().map(|p| p.0).collect::<Vec<_>>(), [10, 12]);
    let s = b.stats();
    assert_eq!((s.duplicates, s.late, s.lost, s.played), (2, 1, 1, 2));
}
