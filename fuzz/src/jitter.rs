//! Fuzz targets for voxwire-jitter: arbitrary packet sequences (any sequence numbers,
//! timestamps, SSRCs, sizes and arrival times) into the audio jitter buffer and the video
//! receiver. They must never panic, must keep their memory bound, must output each sequence
//! number at most once and in order, and must never loop (every poll sequence ends).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use voxwire_jitter::{
    AudioJitterBuffer, AudioPacket, Feedback, JitterBufferConfig, Playout, PlayoutDelay,
    VideoPacket, VideoReceiver, VideoReceiverConfig,
};
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};

use crate::Target;

/// voxwire-jitter's targets.
pub const TARGETS: &[Target] =
    &[Target { name: "jitter_audio", run: audio }, Target { name: "jitter_video", run: video }];

#[derive(Arbitrary, Debug)]
enum AudioOp {
    Push {
        ssrc: u8,
        seq: u16,
        ts: u32,
        len: u16,
        advance_ms: u8,
    },
    /// A packet near the previous one (reordering, duplicates, small gaps).
    Near {
        seq_delta: i8,
        advance_ms: u8,
    },
    Poll {
        advance_ms: u16,
    },
    Clear,
}

const MAX_PAYLOAD: usize = 256;

/// Applies arbitrary operations to an [`AudioJitterBuffer`].
pub fn audio(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let fixed = u.arbitrary::<bool>().unwrap_or(false);
    let delay = if fixed {
        PlayoutDelay::Fixed(Duration::from_millis(60))
    } else {
        JitterBufferConfig::default().delay
    };
    let mut jb = AudioJitterBuffer::new(
        JitterBufferConfig::default()
            .with_capacity(16)
            .with_max_payload(MAX_PAYLOAD)
            .with_delay(delay),
    );
    let bound = jb.capacity() * MAX_PAYLOAD;
    let payload = [0xA5u8; 400];
    // A fixed epoch: the fuzz body must be deterministic.
    let t0 = epoch();
    let mut now = t0;
    let (mut last_seq, mut last_ts, mut last_ssrc) = (0u16, 0u32, 0u8);
    let mut out: HashSet<(u32, u64, u16)> = HashSet::new();
    let mut stream = 0u64;
    while !u.is_empty() {
        let Ok(op) = AudioOp::arbitrary(&mut u) else { break };
        let restarts = jb.stats().restarts;
        match op {
            AudioOp::Push { ssrc, seq, ts, len, advance_ms } => {
                now += Duration::from_millis(u64::from(advance_ms));
                (last_seq, last_ts, last_ssrc) = (seq, ts, ssrc % 3);
                let len = usize::from(len) % payload.len();
                let p = AudioPacket {
                    ssrc: Ssrc(u32::from(last_ssrc)),
                    seq: SeqNo(seq),
                    timestamp: RtpTimestamp(ts),
                    payload: &payload[..len],
                };
                let _ = jb.push(&p, now);
            }
            AudioOp::Near { seq_delta, advance_ms } => {
                now += Duration::from_millis(u64::from(advance_ms));
                last_seq = last_seq.wrapping_add_signed(i16::from(seq_delta));
                last_ts = last_ts.wrapping_add_signed(i32::from(seq_delta) * 960);
                let p = AudioPacket {
                    ssrc: Ssrc(u32::from(last_ssrc)),
                    seq: SeqNo(last_seq),
                    timestamp: RtpTimestamp(last_ts),
                    payload: &payload[..20],
                };
                let _ = jb.push(&p, now);
            }
            AudioOp::Poll { advance_ms } => now += Duration::from_millis(u64::from(advance_ms)),
            AudioOp::Clear => {
                jb.clear();
                stream += 1;
            }
        }
        if jb.stats().restarts != restarts {
            stream += 1;
        }
        assert!(jb.len() <= jb.capacity());
        assert!(jb.payload_bytes_allocated() <= bound);
        // Every poll sequence ends within two windows' worth of frames.
        let mut ended = false;
        for _ in 0..2 * jb.capacity() + 2 {
            let (ssrc, seq) = match jb.poll(now) {
                Playout::Ready(f) => (f.ssrc, f.seq),
                Playout::Lost(l) => (l.ssrc, l.seq),
                Playout::Wait(t) => {
                    assert!(t > now, "Wait must point to the future");
                    ended = true;
                    break;
                }
                Playout::Empty => {
                    ended = true;
                    break;
                }
            };
            assert!(
                out.insert((ssrc.0, stream, seq.0)) || out.len() > 60_000,
                "{seq:?} output twice"
            );
        }
        assert!(ended, "poll kept returning frames");
    }
}

#[derive(Arbitrary, Debug)]
#[expect(clippy::struct_excessive_bools, reason = "independent packet flags chosen by the fuzzer")]
struct VideoOp {
    seq_delta: i16,
    ts_step: u8,
    marker: bool,
    frame_start: bool,
    keyframe: bool,
    rtx: bool,
    len: u16,
    advance_ms: u8,
}

/// Applies arbitrary packets (media and RTX) to a [`VideoReceiver`] and drains its output.
pub fn video(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let config = VideoReceiverConfig {
        capacity: 64,
        max_payload: MAX_PAYLOAD,
        ..VideoReceiverConfig::default()
    };
    let mut rx = VideoReceiver::new(config);
    let bound = 64 * MAX_PAYLOAD;
    let payload = [0x3Cu8; 400];
    let t0 = epoch();
    let mut now = t0;
    let (mut seq, mut ts) = (SeqNo(0), RtpTimestamp(0));
    while !u.is_empty() {
        let Ok(op) = VideoOp::arbitrary(&mut u) else { break };
        now += Duration::from_millis(u64::from(op.advance_ms));
        seq = SeqNo(seq.0.wrapping_add_signed(op.seq_delta));
        ts = ts.wrapping_add(u32::from(op.ts_step) * 1500);
        let len = usize::from(op.len) % payload.len();
        let p = VideoPacket {
            seq,
            timestamp: ts,
            marker: op.marker,
            frame_start: op.frame_start,
            keyframe: op.keyframe,
            payload: &payload[..len],
        };
        if op.rtx {
            let _ = rx.push_rtx(&p, now);
        } else {
            let _ = rx.push(&p, now);
        }
        assert!(rx.payload_bytes_allocated() <= bound);
        let mut frames = 0;
        while let Some(f) = rx.poll_frame(now) {
            assert!(f.packet_count >= 1 && f.packet_count <= 64);
            assert_eq!(f.payloads().count(), f.packet_count);
            frames += 1;
            assert!(frames <= 64, "more frames than packets held");
        }
        let mut feedback = 0;
        while let Some(fb) = rx.poll_feedback(now) {
            if let Feedback::Nack(list) = fb {
                assert!(!list.is_empty() && list.len() <= 1000);
            }
            feedback += 1;
            assert!(feedback <= 2, "feedback kept coming");
        }
        if let Some(t) = rx.poll_timeout() {
            assert!(t > now);
        }
    }
}

/// A fixed point in time for all runs (one process-wide value, so runs are reproducible).
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}
