//! Hot path: one `push` plus the `poll`s it enables, per packet, in steady state.
//!
//! Times are per run of 1000 packets (criterion also prints packets per second): divide by
//! 1000 for the cost per packet. `fixed60/*` and `seed001/*` are the fixed-delay buffer and the
//! seed 001 reorderer in the same run, for comparison.
//!
//! - `audio_push_poll`: 120-byte payloads, in order or with 0..30 ms of arrival jitter (so some
//!   packets arrive out of order), polled at each arrival only.
//! - `audio_realistic`: what a receiver sees and does: 160-byte (Opus-sized) payloads, 0..30 ms
//!   of arrival jitter with reordering, 1% loss, 1% duplicates; the buffer is polled at each
//!   arrival and at each `Wait` deadline it returns (the call driver's cadence), so every frame
//!   is played at its deadline and losses are reported.
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

/// A small deterministic generator (xorshift32).
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// Arrival schedule: packet i sent at 20 ms * i, with a pseudo-random 0..30 ms delay (so some
/// arrive out of order).
fn schedule(jitter: bool) -> Vec<(u32, Duration)> {
    let mut rng = Rng(0x1234_5678);
    let mut v: Vec<(u32, Duration)> = (0..N)
        .map(|i| {
            let x = rng.next();
            let d = if jitter { u64::from(x % 30) } else { 0 };
            (i, Duration::from_millis(20 * u64::from(i) + d))
        })
        .collect();
    v.sort_by_key(|p| p.1);
    v
}

/// Realistic arrivals: 0..30 ms of jitter (with microsecond resolution), 1% of packets lost,
/// 1% duplicated (the copy 0..5 ms after the original).
fn realistic_schedule() -> Vec<(u32, Duration)> {
    let mut rng = Rng(0x9E37_79B9);
    let mut v = Vec::new();
    for i in 0..N {
        let roll = rng.next() % 100;
        let at = Duration::from_micros(20_000 * u64::from(i) + u64::from(rng.next() % 30_000));
        if roll == 0 {
            continue;
        }
        v.push((i, at));
        if roll == 1 {
            v.push((i, at + Duration::from_micros(u64::from(rng.next() % 5_000))));
        }
    }
    v.sort_by_key(|p| p.1);
    v
}

/// The push/poll surface both buffer versions share.
trait Buffer: Clone {
    fn push(&mut self, seq: u32, ssrc: u32, payload: &[u8], now: Instant);
    /// Polls until `Wait` or `Empty`; returns a checksum of what came out and the `Wait` time.
    fn drain(&mut self, now: Instant) -> (u32, Option<Instant>);
}

impl Buffer for AudioJitterBuffer {
    #[inline]
    fn push(&mut self, seq: u32, ssrc: u32, payload: &[u8], now: Instant) {
        let p = AudioPacket {
            ssrc: Ssrc(ssrc),
            seq: SeqNo(seq as u16),
            timestamp: RtpTimestamp(seq * 960),
            payload,
        };
        let _ = Self::push(self, &p, now);
    }

    #[inline]
    fn drain(&mut self, now: Instant) -> (u32, Option<Instant>) {
        let mut out = 0u32;
        loop {
            match self.poll(now) {
                Playout::Ready(f) => out = out.wrapping_add(u32::from(f.payload[0])),
                Playout::Lost(_) => out = out.wrapping_add(1),
                Playout::Wait(t) => return (out, Some(t)),
                Playout::Empty => return (out, None),
            }
        }
    }
}

/// Pushes the schedule, polling at each arrival only.
fn run<B: Buffer>(jb: &mut B, sched: &[(u32, Duration)], payload: &[u8], t0: Instant, ssrc: u32) {
    let mut out = 0u32;
    for (i, at) in sched {
        let now = t0 + *at;
        jb.push(*i, ssrc, payload, now);
        out = out.wrapping_add(jb.drain(now).0);
    }
    black_box(out);
}

/// Pushes the schedule (arrival times as the receive loop has them: `Instant`s), polling at
/// each arrival and at each `Wait` deadline before the next arrival, then plays out what is
/// left.
fn run_realistic<B: Buffer>(jb: &mut B, sched: &[(u32, Instant)], payload: &[u8], ssrc: u32) {
    let mut out = 0u32;
    let mut wake: Option<Instant> = None;
    for &(i, now) in sched {
        while let Some(w) = wake.filter(|w| *w <= now) {
            let (sum, next) = jb.drain(w);
            out = out.wrapping_add(sum);
            wake = next;
        }
        jb.push(i, ssrc, payload, now);
        let (sum, next) = jb.drain(now);
        out = out.wrapping_add(sum);
        wake = next;
    }
    while let Some(w) = wake {
        let (sum, next) = jb.drain(w);
        out = out.wrapping_add(sum);
        wake = next;
    }
    black_box(out);
}

/// Benchmarks `f` over fresh streams through a warmed-up buffer (slot buffers already
/// allocated): each iteration clones the warm buffer outside the timing and starts a new SSRC.
fn bench_warm<B: Buffer>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    warm: &B,
    f: impl Fn(&mut B, u32),
) {
    g.bench_function(name, |b| {
        let mut ssrc = 0;
        b.iter_batched_ref(
            || {
                ssrc += 1;
                (ssrc, warm.clone())
            },
            |(s, jb)| f(jb, *s),
            BatchSize::LargeInput,
        );
    });
}

fn audio(c: &mut Criterion) {
    let payload = [0x5Au8; 120];
    let mut g = c.benchmark_group("audio_push_poll");
    g.throughput(Throughput::Elements(u64::from(N)));
    for (name, jitter) in [("in_order", false), ("jitter_30ms", true)] {
        let sched = schedule(jitter);
        let t0 = Instant::now();
        for (policy, delay) in [
            ("adaptive", JitterBufferConfig::default().delay),
            ("fixed60", PlayoutDelay::Fixed(Duration::from_millis(60))),
        ] {
            let mut warm = AudioJitterBuffer::new(JitterBufferConfig::default().with_delay(delay));
            run(&mut warm, &sched, &payload, t0, 0);
            bench_warm(&mut g, &format!("{policy}/{name}"), &warm, |jb, s| {
                run(jb, &sched, &payload, t0, s);
            });
        }
        g.bench_function(format!("seed001/{name}"), |b| {
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

    let payload = [0x5Au8; 160];
    let t0 = Instant::now();
    let sched: Vec<(u32, Instant)> =
        realistic_schedule().into_iter().map(|(i, at)| (i, t0 + at)).collect();
    let mut g = c.benchmark_group("audio_realistic");
    g.throughput(Throughput::Elements(sched.len() as u64));
    let mut warm = AudioJitterBuffer::new(JitterBufferConfig::default());
    run_realistic(&mut warm, &sched, &payload, 0);
    bench_warm(&mut g, "adaptive", &warm, |jb, s| run_realistic(jb, &sched, &payload, s));
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
