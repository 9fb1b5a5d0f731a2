//! Delay estimation as it was before the integer-time hot path (frozen copy).
//!
//! Each packet gives one *relative transit* sample: `arrival - send time`, where the send time is
//! read from the RTP timestamp, so the unknown clock offset between sender and receiver cancels
//! out of every difference. The fastest recent packet (a windowed minimum, so that slow clock
//! drift and route changes are followed) is the reference; a packet's *jitter delay* is how much
//! later than that it arrived. The playout delay must cover the jitter delays that are likely.
//!
//! Two estimators track that distribution:
//! - a histogram of jitter delays with exponential forgetting (each new sample weighs a little
//!   more than the one before), read at a high quantile: the steady-state level;
//! - the maximum over a sliding window of recent packets (a monotonic queue, O(1) per
//!   packet): it jumps at once to a burst's delays, holds them while the burst lasts (so the
//!   regular outliers of a reordering link stay covered), and lets go one window after the
//!   network calms down, which a long-memory histogram alone would not.
//!
//! The target is the larger of the two, plus a margin, clamped to the configured range.
#![expect(
    clippy::cast_possible_wrap,
    reason = "ring sizes, window lengths and counts here are at most 2^16"
)]

use std::collections::VecDeque;
use std::time::Duration;

/// Width of one histogram bin.
const BIN_NS: i64 = 2_000_000;
/// Number of histogram bins (covers `BINS * BIN_NS` = 1.024 s).
const BINS: usize = 512;
/// Windowed minimum: this many buckets ...
const MIN_BUCKETS: usize = 8;
/// ... of this many nanoseconds of arrival time each.
const MIN_BUCKET_NS: i64 = 1_000_000_000;
/// The histogram quantile is recomputed every this many samples (it is an O(bins) scan).
const QUANTILE_EVERY: u32 = 8;

/// Tuning of the adaptive playout delay. The defaults suit 20 ms Opus over the internet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveConfig {
    /// The quantile of the jitter-delay distribution the histogram targets (`0.5..1.0`).
    pub quantile: f64,
    /// Per-sample forgetting factor of the histogram (`0.9..1.0`; 0.996 is a memory of about
    /// 250 packets, 5 s of 20 ms audio).
    pub forget: f64,
    /// Length of the sliding-maximum window, in packets (50 = 1 s of 20 ms audio).
    pub window: usize,
    /// Added on top of the estimate.
    pub margin: Duration,
    /// Longest the playout delay may shrink per played frame, as a fraction of the frame
    /// duration (0.1 = play at most 10% faster while shrinking).
    pub shrink_rate: f64,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            quantile: 0.95,
            forget: 0.99,
            window: 50,
            margin: Duration::from_millis(4),
            shrink_rate: 0.25,
        }
    }
}

/// The delay statistics of one stream. All times are nanoseconds relative to the stream's
/// epoch (its first arrival and first timestamp).
#[derive(Clone, Debug)]
pub(crate) struct DelayEstimator {
    config: AdaptiveConfig,
    /// Windowed minimum of relative transit.
    buckets: [i64; MIN_BUCKETS],
    bucket_index: i64,
    older_min: i64,
    min_transit: i64,
    hist: Box<[f64; BINS]>,
    weight: f64,
    total: f64,
    samples: u32,
    quantile_ns: i64,
    /// Monotonic queue for the sliding maximum: (sample index, jitter), jitter decreasing.
    window: VecDeque<(u64, i64)>,
    index: u64,
}

impl DelayEstimator {
    pub(crate) fn new(config: AdaptiveConfig) -> Self {
        let window = config.window.clamp(1, 4096);
        Self {
            config,
            buckets: [i64::MAX; MIN_BUCKETS],
            bucket_index: i64::MIN,
            older_min: i64::MAX,
            min_transit: i64::MAX,
            hist: Box::new([0.0; BINS]),
            weight: 1.0,
            total: 0.0,
            samples: 0,
            quantile_ns: 0,
            window: VecDeque::with_capacity(window),
            index: 0,
        }
    }

    /// Forgets everything (new stream), keeping the histogram's allocation.
    pub(crate) fn reset(&mut self) {
        self.buckets = [i64::MAX; MIN_BUCKETS];
        self.bucket_index = i64::MIN;
        self.older_min = i64::MAX;
        self.min_transit = i64::MAX;
        self.hist.fill(0.0);
        self.weight = 1.0;
        self.total = 0.0;
        self.samples = 0;
        self.quantile_ns = 0;
        self.window.clear();
        self.index = 0;
    }

    /// The reference (fastest recent) relative transit, if any sample was seen.
    pub(crate) fn min_transit(&self) -> Option<i64> {
        (self.min_transit != i64::MAX).then_some(self.min_transit)
    }

    /// Adds one sample: `transit` = arrival minus send time (both relative to the epoch),
    /// `arrival` = arrival relative to the epoch. Returns the sample's jitter delay.
    pub(crate) fn add(&mut self, transit: i64, arrival: i64) -> i64 {
        self.update_min(transit, arrival);
        let jitter = transit.saturating_sub(self.min_transit).max(0);

        // Histogram with lazy exponential forgetting: instead of scaling every bin down, the
        // weight of new samples grows, and everything is renormalised when it gets large.
        let bin = usize::try_from(jitter / BIN_NS).unwrap_or(BINS - 1).min(BINS - 1);
        self.hist[bin] += self.weight;
        self.total += self.weight;
        self.weight /= self.config.forget.clamp(0.5, 1.0);
        if self.weight > 1e200 {
            let scale = 1.0 / self.weight;
            self.hist.iter_mut().for_each(|b| *b *= scale);
            self.total *= scale;
            self.weight = 1.0;
        }
        self.samples = self.samples.wrapping_add(1);
        if self.samples % QUANTILE_EVERY == 1 {
            self.quantile_ns = self.read_quantile();
        }

        // Sliding maximum: drop smaller samples from the back, expired ones from the front.
        self.index += 1;
        while self.window.back().is_some_and(|(_, v)| *v <= jitter) {
            self.window.pop_back();
        }
        let span = self.config.window.clamp(1, 4096) as u64;
        while self.window.front().is_some_and(|(i, _)| *i + span <= self.index) {
            self.window.pop_front();
        }
        if self.window.len() == self.window.capacity() {
            self.window.pop_front();
        }
        self.window.push_back((self.index, jitter));
        jitter
    }

    /// The target jitter delay in nanoseconds (before clamping by the caller).
    pub(crate) fn target_ns(&self) -> i64 {
        let peak = self.window.front().map_or(0, |(_, v)| *v);
        let margin = i64::try_from(self.config.margin.as_nanos()).unwrap_or(i64::MAX);
        self.quantile_ns.max(peak).saturating_add(margin)
    }

    /// Longest shrink per frame of `frame_ns`.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "frame durations are small"
    )]
    pub(crate) fn shrink_step(&self, frame_ns: i64) -> i64 {
        (frame_ns as f64 * self.config.shrink_rate.clamp(0.0, 1.0)) as i64
    }

    fn read_quantile(&self) -> i64 {
        // Walk up from the bottom (where the mass is) until q of it is covered.
        let want = self.total * self.config.quantile.clamp(0.0, 1.0);
        let mut below = 0.0;
        for (i, w) in self.hist.iter().enumerate() {
            below += *w;
            if below >= want {
                return (i as i64 + 1) * BIN_NS;
            }
        }
        BINS as i64 * BIN_NS
    }

    fn update_min(&mut self, transit: i64, arrival: i64) {
        let index = arrival.div_euclid(MIN_BUCKET_NS);
        if index != self.bucket_index {
            // Moving forward: clear the buckets that fell out of the window.
            let steps = if self.bucket_index == i64::MIN {
                MIN_BUCKETS as i64
            } else {
                index - self.bucket_index
            };
            if steps > 0 {
                for k in 0..steps.min(MIN_BUCKETS as i64) {
                    let slot = (index - k).rem_euclid(MIN_BUCKETS as i64) as usize;
                    self.buckets[slot] = i64::MAX;
                }
                self.bucket_index = index;
                let current = index.rem_euclid(MIN_BUCKETS as i64) as usize;
                self.older_min = self
                    .buckets
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != current)
                    .map(|(_, v)| *v)
                    .min()
                    .unwrap_or(i64::MAX);
            }
        }
        let current = self.bucket_index.rem_euclid(MIN_BUCKETS as i64) as usize;
        self.buckets[current] = self.buckets[current].min(transit);
        self.min_transit = self.older_min.min(self.buckets[current]);
    }
}
