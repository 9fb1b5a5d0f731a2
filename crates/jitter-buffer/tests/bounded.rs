//! Memory stays bounded whatever arrives.
#![expect(clippy::disallowed_methods, reason = "one real Instant as the epoch of a virtual clock")]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use voxwire_jitter::{AudioJitterBuffer, AudioPacket, JitterBufferConfig, Playout};
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};

proptest! {
    #[test]
    fn memory_is_bounded_under_any_input(
        ops in prop::collection::vec((any::<u16>(), any::<u32>(), 0u32..3, 0usize..3000, 0u64..50, any::<bool>()), 1..400),
    ) {
        let t0 = Instant::now();
        let config = JitterBufferConfig::default().with_capacity(16).with_max_payload(1000);
        let mut b = AudioJitterBuffer::new(config);
        let bound = b.capacity() * 1000;
        let payload = vec![7u8; 3000];
        let mut now = t0;
        for (seq, ts, ssrc, len, dt, poll) in ops {
            now += Duration::from_millis(dt);
            let p = AudioPacket { ssrc: Ssrc(ssrc), seq: SeqNo(seq), timestamp: RtpTimestamp(ts), payload: &payload[..len] };
            let _ = b.push(&p, now);
            prop_assert!(b.len() <= b.capacity());
            prop_assert!(b.payload_bytes_allocated() <= bound);
            if poll {
                for _ in 0..100 {
                    if matches!(b.poll(now), Playout::Wait(_) | Playout::Empty) {
                        break;
                    }
                }
            }
        }
    }
}

#[test]
fn steady_state_does_not_allocate_payload_storage() {
    let t0 = Instant::now();
    let mut b = AudioJitterBuffer::new(JitterBufferConfig::default());
    let payload = [1u8; 200];
    let mut after_warmup = 0;
    for i in 0..5000u32 {
        let now = t0 + Duration::from_millis(20 * u64::from(i));
        let p = AudioPacket {
            ssrc: Ssrc(1),
            seq: SeqNo(i as u16),
            timestamp: RtpTimestamp(i * 960),
            payload: &payload,
        };
        let _ = b.push(&p, now);
        while let Playout::Ready(_) | Playout::Lost(_) = b.poll(now + Duration::from_millis(100)) {}
        if i == 200 {
            after_warmup = b.payload_bytes_allocated();
        }
    }
    assert_eq!(b.payload_bytes_allocated(), after_warmup);
}
