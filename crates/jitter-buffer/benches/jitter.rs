//! Hot path: one `push` plus the `poll`s it enables, per packet, in steady state.
#![expect(clippy::disallowed_methods, reason = "one real Instant as the epoch of a virtual clock")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use voxwire_jitter::{
    AudioJitterBuffer, AudioPacket, JitterBufferConfig, Playout, PlayoutDelay, SeqReorder,
    VideoPacket, VideoReceiver, VideoReceiverConfig,
};
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};

const N: u32 = 1000;

/// Arrival schedule: packet i sent at 20 ms * i, with a pseudo-random 0..30 ms delay (so some
/// arrive out of order).
fn schedule(jitter: bool) -> Vec<(u32, Duration)> {
    let mut x = 0x1234_5678u32;
    let mut v: Vec<(u32, Duration)> = (0..N)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let d = if jitter { u64::from(x % 30) } else { 0 };
            (i, Duration::from_millis(20 * u64::from(i) + d))
        })
        .collect();
    v.sort_by_key(|p| p.1);
    v
}

fn audio(c: &mut Criterion) {
    let payload = [0x5Au8; 120];
    let mut g = c.benchmark_group("audio_push_poll");
    g.throughput(Throughput::Elements(u64::from(N)));
    for (name, jitter) in [("in_order", false), ("jitter_30ms", true)] {
        let sched = schedule(jitter);
        for (policy, delay) in [
            ("adaptive", JitterBufferConfig::default().delay),
            ("fixed60", PlayoutDelay::Fixed(Duration::from_millis(60))),
        ] {
            let t0 = Instant::now();
            // Warm the slot buffers once; each iteration then runs a fresh stream through it.
            let mut warm = AudioJitterBuffer::new(JitterBufferConfig::default().with_delay(delay));
            run(&mut warm, &sched, &payload, t0, 0);
            g.bench_function(format!("{policy}/{name}"), |b| {
                let mut ssrc = 0;
                b.iter_batched_ref(
                    || {
                        ssrc += 1;
                        (ssrc, warm.clone())
                    },
                    |(s, jb)| run(jb, &sched, &payload, t0, *s),
                    BatchSize::LargeInput,
                );
            });
        }
        g.bench_function(format!("seed001/{name}"), |b| {
            let t0 = Instant::now();
            b.iter(|| {
                let mut r = SeqReorder::new(Duration::from_millis(60), 64);
                let mut out = 0u32;
                for (i, at) in &sched {
                    let now = t0 + *at;
                    let p = pkt(*i, 1, &payload);
                    let _ = r.push(&p, now);
                    while let Playout::Ready(f) = r.poll(now) {
                        out += u32::from(f.payload[0]);
                    }
                }
                black_box(out)
            });
        });
    }
    g.finish();
}

fn pkt(i: u32, ssrc: u32, payload: &[u8]) -> AudioPacket<'_> {
    AudioPacket {
        ssrc: Ssrc(ssrc),
        seq: SeqNo(i as u16),
        timestamp: RtpTimestamp(i * 960),
        payload,
    }
}

fn run(
    jb: &mut AudioJitterBuffer,
    sched: &[(u32, Duration)],
    payload: &[u8],
    t0: Instant,
    ssrc: u32,
) -> u32 {
    let mut out = 0u32;
    for (i, at) in sched {
        let now = t0 + *at;
        let _ = jb.push(&pkt(*i, ssrc, payload), now);
        loop {
            match jb.poll(now) {
                Playout::Ready(f) => out = out.wrapping_add(u32::from(f.payload[0])),
                Playout::Lost(_) => out = out.wrapping_add(1),
                Playout::Wait(_) | Playout::Empty => break,
            }
        }
    }
    black_box(out)
}

fn video(c: &mut Criterion) {
    let payload = [0x33u8; 1100];
    let mut g = c.benchmark_group("video_push_poll");
    g.throughput(Throughput::Elements(u64::from(N)));
    g.bench_function("frames_of_5_packets", |b| {
        let t0 = Instant::now();
        b.iter(|| {
            let mut rx = VideoReceiver::new(VideoReceiverConfig::default());
            let mut bytes = 0usize;
            for i in 0..N {
                let now = t0 + Duration::from_millis(u64::from(i));
                let frame = i / 5;
                let p = VideoPacket {
                    seq: SeqNo(i as u16),
                    timestamp: RtpTimestamp(frame * 3000),
                    marker: i % 5 == 4,
                    frame_start: i % 5 == 0,
                    keyframe: frame % 30 == 0,
                    payload: &payload,
                };
                let _ = rx.push(&p, now);
                while let Some(f) = rx.poll_frame(now) {
                    bytes += f.packet_count;
                }
            }
            black_box(bytes)
        });
    });
    g.finish();
}

criterion_group!(benches, audio, video);
criterion_main!(benches);
