//! Quality trajectories of the audio playout policies over seeded netsim impairment profiles.
//!
//! Shared by `tests/adaptive_vs_fixed.rs` (which asserts on it) and `examples/quality.rs`
//! (which `cargo xtask bench jitter` runs to write the table and the plot).
//!
//! A sender emits one 20 ms Opus-sized packet every 20 ms (sequence numbers start just below
//! the wrap) through the profile's network into the buffer, on a virtual clock that jumps from
//! event to event. Metrics, over all packets the network delivered (duplicates excluded):
//! - late rate: packets that missed their playout deadline: dropped as late, or (adaptive and
//!   fixed) played after their deadline because playout stalled for them;
//! - mean added delay: playout time minus arrival time, averaged over played frames.
#![allow(dead_code, unreachable_pub, clippy::cast_precision_loss, reason = "shared test support")]

use std::time::{Duration, Instant};

use voxwire_jitter::{
    AudioJitterBuffer, AudioPacket, JitterBufferConfig, Playout, PlayoutDelay, SeqReorder,
};
use voxwire_netsim::{JitterBursts, Loss, Netsim, NetsimConfig};
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};

/// One impairment profile.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    /// Short name (table row).
    pub name: &'static str,
    /// What it models.
    pub description: &'static str,
    /// The network.
    pub net: NetsimConfig,
}

const MS: Duration = Duration::from_millis(1);

/// The profiles of the quality table.
pub fn profiles() -> Vec<Profile> {
    let base = NetsimConfig::default().with_delay(30 * MS);
    vec![
        Profile {
            name: "clean",
            description: "30 ms delay, 1 ms jitter",
            net: base.with_jitter(MS),
        },
        Profile {
            name: "loss-5",
            description: "5% random loss, 5 ms jitter",
            net: base.with_jitter(5 * MS).with_loss(Loss::Random(0.05)),
        },
        Profile {
            name: "bursty-15",
            description: "15% Gilbert-Elliott loss, mean burst 3 packets, 5 ms jitter",
            net: base.with_jitter(5 * MS).with_loss(Loss::bursty(0.15, 3.0)),
        },
        Profile {
            name: "jitter-40",
            description: "jitter bursts: 2 ms jitter, with episodes (mean 2 s, one every ~20 s) of 40 ms jitter scale, AR(1) 0.9 per packet",
            net: bursts(base, 40, 18),
        },
        Profile {
            name: "jitter-120",
            description: "jitter bursts: as jitter-40 with a 120 ms jitter scale in the episodes",
            net: bursts(base, 120, 18),
        },
        Profile {
            name: "jitter-120-heavy",
            description: "as jitter-120 with an episode every ~10 s (20% of the time bursty)",
            net: bursts(base, 120, 8),
        },
        Profile {
            name: "reorder",
            description: "10% of packets held back 35 ms, 5 ms jitter, 1% duplicates",
            net: base.with_jitter(5 * MS).with_reorder(0.1, 35 * MS).with_duplicate(0.01, 2 * MS),
        },
    ]
}

/// Jitter episodes of `jitter_ms` scale, 2 s long on average, after `calm_s` of calm on average.
fn bursts(base: NetsimConfig, jitter_ms: u32, calm_s: u64) -> NetsimConfig {
    base.with_jitter(2 * MS).with_jitter_correlation(0.9).with_bursts(JitterBursts {
        jitter: jitter_ms * MS,
        mean_calm: Duration::from_secs(calm_s),
        mean_burst: Duration::from_secs(2),
    })
}

/// A playout policy under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// `AudioJitterBuffer` with the default adaptive delay.
    Adaptive,
    /// `AudioJitterBuffer` with a fixed 60 ms delay.
    Fixed60,
    /// The seed-001 reordering sink (60 ms gap timeout).
    Seed,
}

impl Policy {
    /// All policies, in table order.
    pub const ALL: [Self; 3] = [Self::Adaptive, Self::Fixed60, Self::Seed];

    /// Table name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Adaptive => "adaptive",
            Self::Fixed60 => "fixed 60 ms",
            Self::Seed => "seed-001",
        }
    }
}

/// The outcome of one run.
#[derive(Clone, Debug, Default)]
pub struct Quality {
    /// Packets the network delivered (duplicates excluded).
    pub received: u64,
    /// Packets the network lost.
    pub net_lost: u64,
    /// Packets that missed their deadline.
    pub late: u64,
    /// Frames played.
    pub played: u64,
    /// Frames reported lost (concealment events).
    pub concealed: u64,
    /// Sum of (playout - arrival) over played frames, seconds.
    pub added_delay_sum: f64,
    /// Sum of (playout - send - base network delay) over played frames, seconds.
    pub latency_sum: f64,
    /// (time s, playout delay ms) every 100 ms (adaptive and fixed only).
    pub trajectory: Vec<(f64, f64)>,
    /// (time s, network one-way delay ms) of each delivered packet.
    pub network: Vec<(f64, f64)>,
    /// Highest number of frames the buffer held.
    pub max_len: usize,
}

impl Quality {
    /// Late packets over received packets.
    pub fn late_rate(&self) -> f64 {
        self.late as f64 / self.received.max(1) as f64
    }

    /// Mean playout minus send time minus the path's base delay, milliseconds: the delay above
    /// the network's minimum that a listener hears.
    pub fn mean_latency_ms(&self) -> f64 {
        self.latency_sum * 1000.0 / self.played.max(1) as f64
    }

    /// Mean playout minus arrival, milliseconds.
    pub fn mean_added_delay_ms(&self) -> f64 {
        self.added_delay_sum * 1000.0 / self.played.max(1) as f64
    }
}

#[derive(Clone, Copy, Debug)]
struct Pkt {
    seq: SeqNo,
    ts: RtpTimestamp,
}

enum Buffer {
    Jb(Box<AudioJitterBuffer>),
    Seed(Box<SeqReorder>),
}

/// Runs `seconds` of audio through `profile` into `policy`.
pub fn run(profile: &Profile, policy: Policy, seed: u64, seconds: u32) -> Quality {
    #[expect(clippy::disallowed_methods, reason = "the epoch of the virtual clock")]
    let t0 = Instant::now();
    let mut net: Netsim<Pkt> = Netsim::new(profile.net, seed);
    let mut buf = match policy {
        Policy::Adaptive => {
            Buffer::Jb(Box::new(AudioJitterBuffer::new(JitterBufferConfig::default())))
        }
        Policy::Fixed60 => Buffer::Jb(Box::new(AudioJitterBuffer::new(
            JitterBufferConfig::default().with_delay(PlayoutDelay::Fixed(60 * MS)),
        ))),
        Policy::Seed => Buffer::Seed(Box::new(SeqReorder::new(60 * MS, 64))),
    };
    let payload = [0u8; 120];
    let frames = u64::from(seconds) * 50;
    let mut sent = 0u64;
    let mut now = t0;
    let mut q = Quality::default();
    let mut wait: Option<Instant>;
    let mut next_sample = t0;
    loop {
        // Send what is due.
        while sent < frames && t0 + 20 * MS * u32::try_from(sent).unwrap_or(u32::MAX) <= now {
            let seq = SeqNo(65_000u16.wrapping_add(sent as u16));
            let ts = RtpTimestamp(0xFFFF_0000u32.wrapping_add((sent as u32).wrapping_mul(960)));
            net.send_sized(Pkt { seq, ts }, 160, t0 + 20 * MS * sent as u32);
            sent += 1;
        }
        // Deliver what arrived.
        while let Some(d) = net.poll(now) {
            if !d.duplicate {
                q.received += 1;
                q.network.push((
                    (d.arrival - t0).as_secs_f64(),
                    (d.arrival - d.sent).as_secs_f64() * 1000.0,
                ));
            }
            let p = AudioPacket {
                ssrc: Ssrc(7),
                seq: d.packet.seq,
                timestamp: d.packet.ts,
                payload: &payload,
            };
            let _ = match &mut buf {
                Buffer::Jb(b) => b.push(&p, now),
                Buffer::Seed(b) => b.push(&p, now),
            };
        }
        // Play what is due.
        wait = None;
        loop {
            let out = match &mut buf {
                Buffer::Jb(b) => b.poll(now),
                Buffer::Seed(b) => b.poll(now),
            };
            match out {
                Playout::Ready(f) => {
                    q.played += 1;
                    q.added_delay_sum += (now - f.arrival).as_secs_f64();
                    let index = f.seq.0.wrapping_sub(65_000);
                    let sent_at = t0 + 20 * MS * u32::from(index);
                    q.latency_sum +=
                        (now - sent_at).as_secs_f64() - profile.net.delay.as_secs_f64();
                }
                Playout::Lost(_) => q.concealed += 1,
                Playout::Wait(t) => {
                    wait = Some(t);
                    break;
                }
                Playout::Empty => break,
            }
        }
        let len = match &buf {
            Buffer::Jb(b) => b.len(),
            Buffer::Seed(b) => b.len(),
        };
        q.max_len = q.max_len.max(len);
        if let Buffer::Jb(b) = &buf {
            while next_sample <= now {
                q.trajectory.push((
                    (next_sample - t0).as_secs_f64(),
                    b.stats().playout_delay.as_secs_f64() * 1000.0,
                ));
                next_sample += 100 * MS;
            }
        }
        // Jump to the next event.
        let next_send = (sent < frames).then(|| t0 + 20 * MS * sent as u32);
        let next_event = [next_send, net.poll_timeout(), wait].into_iter().flatten().min();
        match next_event {
            Some(t) => now = now.max(t),
            None => break,
        }
    }
    let s = net.stats();
    q.net_lost = s.lost + s.queue_drops;
    q.late = match &buf {
        Buffer::Jb(b) => b.stats().late + b.stats().played_late,
        Buffer::Seed(b) => b.dropped,
    };
    q
}
