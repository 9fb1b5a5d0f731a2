//! A seeded, sans-IO network model: one-way delay, jitter, random and Gilbert-Elliott (bursty)
//! loss, reordering, duplication and a rate-limited bottleneck queue.
//!
//! One model serves the jitter buffer's tests and benches, the client's tests and the local
//! server's impairment option. It never reads a clock, sleeps or touches a socket: the caller
//! passes `now` and asks what has arrived.
//!
//! # Call order
//!
//! 1. [`Netsim::send`] (or [`Netsim::send_sized`]) each packet as it leaves the sender, with the
//!    time it leaves.
//! 2. [`Netsim::poll`] with the current time until it returns `None`: every packet whose arrival
//!    time is `<= now`, in arrival order (ties in send order).
//! 3. Sleep (or jump a virtual clock) until [`Netsim::poll_timeout`], then go to 2.
//!
//! Time must be monotonic across calls. A packet sent "in the past" is treated as sent at the
//! latest time seen, so the model never delivers before a packet was sent.
//!
//! # The model, per packet, in this order
//!
//! 1. **Loss**: [`Loss::Random`] drops each packet independently; [`Loss::GilbertElliott`] runs
//!    a two-state Markov chain (good/bad) stepped once per packet, with a loss probability per
//!    state (the classic bursty-loss model, as in netem's `loss gemodel`).
//! 2. **Bottleneck**: with a [`NetsimConfig::rate_bps`], the packet is serialised onto a link of
//!    that rate behind the packets before it; if the queue would hold it longer than
//!    [`NetsimConfig::queue_limit`], it is tail-dropped (counted in [`NetsimStats::queue_drops`]).
//! 3. **Delay and jitter**: the arrival is `departure + delay + |x|·jitter`, where `x` is a
//!    standard-normal AR(1) process with lag-one correlation [`NetsimConfig::jitter_correlation`]
//!    (0 = independent per packet; close to 1 = slowly wandering delay, like a queue building
//!    and draining). With [`NetsimConfig::bursts`], the jitter scale switches between a calm
//!    and a bursty value in episodes ([`JitterBursts`]). Independent jitter reorders packets, as on a real multipath network and as
//!    in netem; [`NetsimConfig::in_order`] keeps FIFO order instead (a packet never overtakes
//!    the one before it).
//! 4. **Reordering**: with probability [`NetsimConfig::reorder`] a packet is held back an extra
//!    [`NetsimConfig::reorder_delay`], so the packets after it overtake it.
//! 5. **Duplication**: with probability [`NetsimConfig::duplicate`] a second copy is delivered
//!    [`NetsimConfig::duplicate_delay`] later.
//!
//! # Determinism
//!
//! The random source is a `SplitMix64`-seeded xoshiro256\*\* generator written here, not a
//! `rand` generator: `rand` documents that its small generators may change output between
//! versions, and seeded trajectories in tests must stay the same forever. The same seed, config
//! and calls give the same deliveries on every platform.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voxwire_netsim::{Loss, Netsim, NetsimConfig};
//!
//! let config = NetsimConfig::default()
//!     .with_delay(Duration::from_millis(30))
//!     .with_jitter(Duration::from_millis(10))
//!     .with_loss(Loss::Random(0.05));
//! let mut net = Netsim::new(config, 42);
//! let t0 = Instant::now();
//! for i in 0..100u32 {
//!     net.send(i.to_be_bytes().to_vec(), t0 + Duration::from_millis(20 * u64::from(i)));
//! }
//! let mut now = t0;
//! let mut received = 0;
//! while let Some(deadline) = net.poll_timeout() {
//!     now = now.max(deadline);
//!     while let Some(d) = net.poll(now) {
//!         assert!(d.arrival >= d.sent + Duration::from_millis(30));
//!         received += 1;
//!     }
//! }
//! assert_eq!(received, net.stats().delivered);
//! assert!(received > 80 && received < 100);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod rng;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

pub use rng::Rng;

/// Packet loss model.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Loss {
    /// No loss.
    #[default]
    None,
    /// Each packet is lost independently with this probability (0..=1).
    Random(f64),
    /// Gilbert-Elliott two-state bursty loss. The chain steps once per packet, then the packet
    /// is lost with the loss probability of the state it is in.
    GilbertElliott {
        /// Probability of moving from the good to the bad state, per packet.
        p_good_to_bad: f64,
        /// Probability of moving from the bad to the good state, per packet (1 / mean burst
        /// length in packets).
        p_bad_to_good: f64,
        /// Loss probability in the good state (often 0).
        loss_good: f64,
        /// Loss probability in the bad state (often 1).
        loss_bad: f64,
    },
}

impl Loss {
    /// A Gilbert-Elliott model with lossless good state and fully lossy bad state that loses
    /// `rate` of all packets (long-run) in bursts of `mean_burst` packets on average.
    ///
    /// `rate` is clamped to `0..1` and `mean_burst` to at least 1.
    pub fn bursty(rate: f64, mean_burst: f64) -> Self {
        let rate = rate.clamp(0.0, 0.999);
        let r = 1.0 / mean_burst.max(1.0);
        // Stationary P(bad) = p / (p + r) = rate  =>  p = rate * r / (1 - rate).
        let p = rate * r / (1.0 - rate);
        Self::GilbertElliott {
            p_good_to_bad: p.min(1.0),
            p_bad_to_good: r,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }

    /// The long-run fraction of packets this model loses.
    pub fn mean_rate(&self) -> f64 {
        match *self {
            Self::None => 0.0,
            Self::Random(p) => p.clamp(0.0, 1.0),
            Self::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
                let total = p_good_to_bad + p_bad_to_good;
                if total <= 0.0 {
                    return loss_good.clamp(0.0, 1.0);
                }
                let bad = p_good_to_bad / total;
                (1.0 - bad) * loss_good.clamp(0.0, 1.0) + bad * loss_bad.clamp(0.0, 1.0)
            }
        }
    }
}

/// Jitter episodes: the link alternates between calm and bursty periods (a two-state Markov
/// chain in time with exponentially distributed dwell times), as on Wi-Fi under contention or a
/// link with bursty cross traffic. In a burst, [`Self::jitter`] replaces the calm
/// [`NetsimConfig::jitter`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JitterBursts {
    /// Jitter scale during a burst.
    pub jitter: Duration,
    /// Mean length of a calm period.
    pub mean_calm: Duration,
    /// Mean length of a burst.
    pub mean_burst: Duration,
}

/// How a [`Netsim`] impairs the packets sent through it. Build with the `with_*` methods.
///
/// Probabilities are clamped to `0..=1` when used; the default is a perfect, zero-delay link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetsimConfig {
    /// Fixed one-way propagation delay.
    pub delay: Duration,
    /// Scale of the random extra delay: each packet gets `|x| * jitter` with `x` standard
    /// normal (so the mean extra delay is about `0.8 * jitter`).
    pub jitter: Duration,
    /// Lag-one correlation of the jitter process, `0.0..1.0`.
    pub jitter_correlation: f64,
    /// Keep FIFO order: a packet never arrives before the one sent before it.
    pub in_order: bool,
    /// Optional jitter episodes.
    pub bursts: Option<JitterBursts>,
    /// Loss model.
    pub loss: Loss,
    /// Probability that a packet is held back by [`Self::reorder_delay`].
    pub reorder: f64,
    /// Extra delay of a reordered packet.
    pub reorder_delay: Duration,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// How long after the original the duplicate arrives.
    pub duplicate_delay: Duration,
    /// Bottleneck rate in bits per second (`None`: unlimited).
    pub rate_bps: Option<u64>,
    /// Longest time a packet may wait in the bottleneck queue before it is tail-dropped.
    pub queue_limit: Duration,
}

impl Default for NetsimConfig {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            jitter_correlation: 0.0,
            in_order: false,
            bursts: None,
            loss: Loss::None,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(40),
            duplicate: 0.0,
            duplicate_delay: Duration::from_millis(1),
            rate_bps: None,
            queue_limit: Duration::from_millis(500),
        }
    }
}

impl NetsimConfig {
    /// Sets [`Self::delay`].
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sets [`Self::jitter`].
    #[must_use]
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`Self::jitter_correlation`] (clamped to `0.0..=0.999`).
    #[must_use]
    pub fn with_jitter_correlation(mut self, correlation: f64) -> Self {
        self.jitter_correlation = correlation.clamp(0.0, 0.999);
        self
    }

    /// Sets [`Self::bursts`].
    #[must_use]
    pub fn with_bursts(mut self, bursts: JitterBursts) -> Self {
        self.bursts = Some(bursts);
        self
    }

    /// Sets [`Self::in_order`].
    #[must_use]
    pub fn with_in_order(mut self, in_order: bool) -> Self {
        self.in_order = in_order;
        self
    }

    /// Sets [`Self::loss`].
    #[must_use]
    pub fn with_loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets [`Self::reorder`] and [`Self::reorder_delay`].
    #[must_use]
    pub fn with_reorder(mut self, probability: f64, extra_delay: Duration) -> Self {
        self.reorder = probability;
        self.reorder_delay = extra_delay;
        self
    }

    /// Sets [`Self::duplicate`] and [`Self::duplicate_delay`].
    #[must_use]
    pub fn with_duplicate(mut self, probability: f64, after: Duration) -> Self {
        self.duplicate = probability;
        self.duplicate_delay = after;
        self
    }

    /// Sets [`Self::rate_bps`] and [`Self::queue_limit`].
    #[must_use]
    pub fn with_rate(mut self, bits_per_second: u64, queue_limit: Duration) -> Self {
        self.rate_bps = Some(bits_per_second);
        self.queue_limit = queue_limit;
        self
    }
}

/// The size of a packet on the wire, used by the rate limit.
///
/// Implemented for everything that is `AsRef<[u8]>` (`Vec<u8>`, `bytes::Bytes`, `&[u8]`, ...).
/// For other packet types, implement it or use [`Netsim::send_sized`].
pub trait WireSize {
    /// Bytes on the wire.
    fn wire_size(&self) -> usize;
}

impl<T: AsRef<[u8]> + ?Sized> WireSize for T {
    fn wire_size(&self) -> usize {
        self.as_ref().len()
    }
}

/// A packet that came out of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered<P> {
    /// The packet.
    pub packet: P,
    /// When it was sent.
    pub sent: Instant,
    /// When it arrived (`<=` the `now` it was polled with).
    pub arrival: Instant,
    /// Whether this is the extra copy made by duplication.
    pub duplicate: bool,
}

/// Counters of what the model did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetsimStats {
    /// Packets given to `send`.
    pub sent: u64,
    /// Packets dropped by the loss model.
    pub lost: u64,
    /// Packets tail-dropped by the bottleneck queue.
    pub queue_drops: u64,
    /// Extra copies made by duplication.
    pub duplicated: u64,
    /// Packets (copies included) returned by `poll`.
    pub delivered: u64,
    /// Packets held back by the reordering rule.
    pub reordered: u64,
}

#[derive(Debug)]
struct InFlight<P> {
    arrival: Instant,
    order: u64,
    sent: Instant,
    duplicate: bool,
    packet: P,
}

impl<P> PartialEq for InFlight<P> {
    fn eq(&self, other: &Self) -> bool {
        (self.arrival, self.order) == (other.arrival, other.order)
    }
}
impl<P> Eq for InFlight<P> {}
impl<P> PartialOrd for InFlight<P> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<P> Ord for InFlight<P> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.arrival, self.order).cmp(&(other.arrival, other.order))
    }
}

/// The network model. Generic over the packet type; `P: Clone` is needed only for duplication.
#[derive(Debug)]
pub struct Netsim<P> {
    config: NetsimConfig,
    rng: Rng,
    queue: BinaryHeap<Reverse<InFlight<P>>>,
    order: u64,
    latest: Option<Instant>,
    /// When the bottleneck link is free again.
    link_free: Option<Instant>,
    /// Gilbert-Elliott state: `true` when bad.
    ge_bad: bool,
    /// AR(1) jitter state (standard normal marginal).
    jitter_x: f64,
    /// Jitter-episode state: in a burst, and when the state was last stepped.
    in_burst: bool,
    burst_clock: Option<Instant>,
    /// Latest arrival handed out so far, for `in_order`.
    last_arrival: Option<Instant>,
    stats: NetsimStats,
}

impl<P: Clone> Netsim<P> {
    /// A model with this configuration and random seed.
    pub fn new(config: NetsimConfig, seed: u64) -> Self {
        Self {
            config,
            rng: Rng::new(seed),
            queue: BinaryHeap::new(),
            order: 0,
            latest: None,
            link_free: None,
            ge_bad: false,
            jitter_x: 0.0,
            in_burst: false,
            burst_clock: None,
            last_arrival: None,
            stats: NetsimStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NetsimConfig {
        &self.config
    }

    /// Replaces the configuration; packets in flight keep their arrival times.
    pub fn set_config(&mut self, config: NetsimConfig) {
        self.config = config;
    }

    /// What the model did so far.
    pub fn stats(&self) -> NetsimStats {
        self.stats
    }

    /// Packets in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Sends a packet at `now`; its size for the rate limit comes from [`WireSize`].
    pub fn send(&mut self, packet: P, now: Instant)
    where
        P: WireSize,
    {
        let size = packet.wire_size();
        self.send_sized(packet, size, now);
    }

    /// Sends a packet of `size` bytes on the wire at `now`.
    pub fn send_sized(&mut self, packet: P, size: usize, now: Instant) {
        let now = match self.latest {
            Some(l) if l > now => l,
            _ => now,
        };
        self.latest = Some(now);
        self.stats.sent += 1;

        if self.lose() {
            self.stats.lost += 1;
            return;
        }

        let departure = match self.config.rate_bps {
            Some(rate) if rate > 0 => {
                let start = self.link_free.map_or(now, |f| f.max(now));
                if start.saturating_duration_since(now) > self.config.queue_limit {
                    self.stats.queue_drops += 1;
                    return;
                }
                let bits = (size as u128) * 8;
                let nanos = bits * 1_000_000_000 / u128::from(rate);
                let done = start + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
                self.link_free = Some(done);
                done
            }
            _ => now,
        };

        let mut arrival = departure + self.config.delay + self.jitter(now);
        if self.config.in_order {
            if let Some(last) = self.last_arrival {
                arrival = arrival.max(last);
            }
            self.last_arrival = Some(arrival);
        }
        if self.chance(self.config.reorder) {
            self.stats.reordered += 1;
            arrival += self.config.reorder_delay;
        }
        let dup = self.chance(self.config.duplicate);
        if dup {
            self.stats.duplicated += 1;
            self.push(packet.clone(), now, arrival + self.config.duplicate_delay, true);
        }
        self.push(packet, now, arrival, false);
    }

    /// The next packet that has arrived by `now`, if any.
    #[must_use]
    pub fn poll(&mut self, now: Instant) -> Option<Delivered<P>> {
        if self.queue.peek().is_some_and(|Reverse(p)| p.arrival <= now) {
            let Reverse(p) = self.queue.pop()?;
            self.stats.delivered += 1;
            return Some(Delivered {
                packet: p.packet,
                sent: p.sent,
                arrival: p.arrival,
                duplicate: p.duplicate,
            });
        }
        None
    }

    /// When the next packet arrives (`None` when nothing is in flight).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(p)| p.arrival)
    }

    fn push(&mut self, packet: P, sent: Instant, arrival: Instant, duplicate: bool) {
        self.order += 1;
        self.queue.push(Reverse(InFlight { arrival, order: self.order, sent, duplicate, packet }));
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.next_f64() < p
    }

    fn lose(&mut self) -> bool {
        match self.config.loss {
            Loss::None => false,
            Loss::Random(p) => self.chance(p),
            Loss::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
                let flip = if self.ge_bad { p_bad_to_good } else { p_good_to_bad };
                if self.chance(flip) {
                    self.ge_bad = !self.ge_bad;
                }
                self.chance(if self.ge_bad { loss_bad } else { loss_good })
            }
        }
    }

    /// Whether the link was in a jitter burst when the last packet was sent.
    pub fn in_burst(&self) -> bool {
        self.in_burst
    }

    fn jitter(&mut self, now: Instant) -> Duration {
        let mut scale = self.config.jitter;
        if let Some(b) = self.config.bursts {
            let dt = self.burst_clock.map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
            self.burst_clock = Some(now);
            let mean = if self.in_burst { b.mean_burst } else { b.mean_calm };
            // P(leave within dt) for an exponential dwell time.
            let p = 1.0 - (-dt.as_secs_f64() / mean.as_secs_f64().max(1e-9)).exp();
            if self.chance(p) {
                self.in_burst = !self.in_burst;
            }
            if self.in_burst {
                scale = b.jitter;
            }
        }
        if scale.is_zero() {
            return Duration::ZERO;
        }
        let c = self.config.jitter_correlation.clamp(0.0, 0.999);
        let z = self.rng.next_normal();
        self.jitter_x = c * self.jitter_x + (1.0 - c * c).sqrt() * z;
        scale.mul_f64(self.jitter_x.abs().min(1e6))
    }
}

#[cfg(test)]
#[expect(
    clippy::disallowed_methods,
    reason = "tests take one real Instant as the epoch of a virtual clock"
)]
#[expect(clippy::cast_precision_loss, reason = "test statistics on small counts")]
mod tests {
    use super::*;

    fn run(config: NetsimConfig, seed: u64, n: u32) -> (Netsim<Vec<u8>>, Vec<Delivered<Vec<u8>>>) {
        let mut net = Netsim::new(config, seed);
        let t0 = Instant::now();
        for i in 0..n {
            net.send(i.to_be_bytes().to_vec(), t0 + Duration::from_millis(20 * u64::from(i)));
        }
        let mut out = Vec::new();
        let mut now = t0;
        while let Some(t) = net.poll_timeout() {
            now = now.max(t);
            while let Some(d) = net.poll(now) {
                out.push(d);
            }
        }
        (net, out)
    }

    fn seq(d: &Delivered<Vec<u8>>) -> u32 {
        u32::from_be_bytes(d.packet[..4].try_into().unwrap())
    }

    #[test]
    fn perfect_link_delivers_everything_in_order() {
        let (net, out) = run(NetsimConfig::default().with_delay(Duration::from_millis(25)), 1, 500);
        assert_eq!(out.len(), 500);
        assert!(out.windows(2).all(|w| seq(&w[0]) + 1 == seq(&w[1])));
        assert!(out.iter().all(|d| d.arrival - d.sent == Duration::from_millis(25)));
        assert_eq!(net.stats().delivered, 500);
    }

    #[test]
    fn same_seed_same_trajectory_and_different_seed_differs() {
        let cfg = NetsimConfig::default()
            .with_jitter(Duration::from_millis(30))
            .with_loss(Loss::bursty(0.1, 3.0))
            .with_duplicate(0.05, Duration::from_millis(2));
        let a: Vec<_> = run(cfg, 7, 2000).1.iter().map(|d| (seq(d), d.arrival - d.sent)).collect();
        let b: Vec<_> = run(cfg, 7, 2000).1.iter().map(|d| (seq(d), d.arrival - d.sent)).collect();
        let c: Vec<_> = run(cfg, 8, 2000).1.iter().map(|d| (seq(d), d.arrival - d.sent)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn random_loss_rate_is_close_to_configured() {
        let (net, _) = run(NetsimConfig::default().with_loss(Loss::Random(0.05)), 3, 20_000);
        let rate = net.stats().lost as f64 / 20_000.0;
        assert!((rate - 0.05).abs() < 0.006, "rate {rate}");
    }

    #[test]
    fn gilbert_elliott_loses_in_bursts_at_the_configured_rate() {
        let loss = Loss::bursty(0.15, 4.0);
        assert!((loss.mean_rate() - 0.15).abs() < 1e-9);
        let (net, out) = run(NetsimConfig::default().with_loss(loss), 11, 40_000);
        let rate = net.stats().lost as f64 / 40_000.0;
        assert!((rate - 0.15).abs() < 0.02, "rate {rate}");
        // Mean length of a run of consecutive losses is close to 4 (random loss would give ~1.18).
        let got: Vec<u32> = out.iter().map(seq).collect();
        let mut runs = Vec::new();
        for w in got.windows(2) {
            if w[1] > w[0] + 1 {
                runs.push(f64::from(w[1] - w[0] - 1));
            }
        }
        let mean = runs.iter().sum::<f64>() / runs.len() as f64;
        assert!((3.0..5.0).contains(&mean), "mean burst {mean}");
    }

    #[test]
    fn jitter_reorders_unless_in_order() {
        let cfg = NetsimConfig::default()
            .with_delay(Duration::from_millis(10))
            .with_jitter(Duration::from_millis(40));
        let (_, out) = run(cfg, 5, 1000);
        assert_eq!(out.len(), 1000);
        assert!(out.windows(2).any(|w| seq(&w[1]) < seq(&w[0])));
        let mean_extra =
            out.iter().map(|d| (d.arrival - d.sent).as_secs_f64() - 0.010).sum::<f64>() / 1000.0;
        // E|N(0,1)| = 0.798
        assert!((mean_extra - 0.032).abs() < 0.004, "mean extra {mean_extra}");
        let (_, out) = run(cfg.with_in_order(true), 5, 1000);
        assert!(out.windows(2).all(|w| seq(&w[1]) > seq(&w[0])));
    }

    #[test]
    fn jitter_bursts_alternate_calm_and_bursty_periods() {
        let bursts = JitterBursts {
            jitter: Duration::from_millis(100),
            mean_calm: Duration::from_secs(4),
            mean_burst: Duration::from_secs(1),
        };
        let cfg = NetsimConfig::default().with_jitter(Duration::from_millis(1)).with_bursts(bursts);
        let (_, out) = run(cfg, 21, 15_000);
        let extra: Vec<f64> = out.iter().map(|d| (d.arrival - d.sent).as_secs_f64()).collect();
        // Calm most of the time (about 80%), bursty about 20%.
        let calm = extra.iter().filter(|e| **e < 0.005).count() as f64 / extra.len() as f64;
        assert!((0.65..0.92).contains(&calm), "calm fraction {calm}");
        assert!(extra.iter().any(|e| *e > 0.150));
        // Episodes, not isolated spikes: a large delay is usually followed by another.
        let big: Vec<usize> = (0..extra.len()).filter(|i| extra[*i] > 0.03).collect();
        let follow =
            big.iter().filter(|i| extra.get(**i + 1).is_some_and(|e| *e > 0.01)).count() as f64;
        assert!(follow / big.len() as f64 > 0.7);
    }

    #[test]
    fn reorder_and_duplicate() {
        let cfg = NetsimConfig::default()
            .with_reorder(0.1, Duration::from_millis(50))
            .with_duplicate(0.1, Duration::from_millis(3));
        let (net, out) = run(cfg, 9, 5000);
        let s = net.stats();
        assert_eq!(out.len() as u64, 5000 + s.duplicated);
        assert!(s.reordered > 350 && s.reordered < 650);
        assert_eq!(out.iter().filter(|d| d.duplicate).count() as u64, s.duplicated);
        assert!(out.windows(2).any(|w| seq(&w[1]) < seq(&w[0])));
    }

    #[test]
    fn rate_limit_serialises_and_tail_drops() {
        // 1000-byte packets every 20 ms = 400 kbit/s into a 200 kbit/s link with a 100 ms queue.
        let mut net =
            Netsim::new(NetsimConfig::default().with_rate(200_000, Duration::from_millis(100)), 1);
        let t0 = Instant::now();
        for i in 0..100u64 {
            net.send(vec![0u8; 1000], t0 + Duration::from_millis(20 * i));
        }
        let s = net.stats();
        assert!(s.queue_drops > 40 && s.queue_drops < 60, "{s:?}");
        let mut last = t0;
        let mut now = t0;
        while let Some(t) = net.poll_timeout() {
            now = now.max(t);
            while let Some(d) = net.poll(now) {
                // 40 ms of serialisation per packet.
                assert!(d.arrival >= last + Duration::from_millis(40) || last == t0);
                assert!(d.arrival - d.sent <= Duration::from_millis(140));
                last = d.arrival;
            }
        }
    }

    #[test]
    fn poll_respects_now_and_time_going_backwards_is_clamped() {
        let mut net = Netsim::new(NetsimConfig::default().with_delay(Duration::from_millis(10)), 1);
        let t0 = Instant::now();
        net.send(vec![1], t0 + Duration::from_millis(100));
        net.send(vec![2], t0);
        assert!(net.poll(t0 + Duration::from_millis(109)).is_none());
        assert_eq!(net.poll_timeout(), Some(t0 + Duration::from_millis(110)));
        let a = net.poll(t0 + Duration::from_millis(110)).unwrap();
        let b = net.poll(t0 + Duration::from_millis(110)).unwrap();
        assert_eq!((a.packet, b.packet), (vec![1], vec![2]));
        assert!(net.poll(t0 + Duration::from_secs(1)).is_none());
        assert_eq!(net.poll_timeout(), None);
    }
}
