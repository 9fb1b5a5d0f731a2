//! Delay estimation for the adaptive playout delay.
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
///
/// Per sample, [`Self::add`] does a constant amount of integer work plus one histogram update,
/// and every [`QUANTILE_EVERY`] samples a scan of the histogram's lower bins; the target that
/// the buffer reads per frame is kept up to date there, so reading it costs a load.
#[derive(Clone, Debug)]
pub(crate) struct DelayEstimator {
    config: AdaptiveConfig,
    /// Windowed minimum of relative transit: one minimum per bucket of arrival time.
    buckets: [i64; MIN_BUCKETS],
    bucket_index: i64,
    /// Arrival times `start..end` fall into the current bucket (empty before the first
    /// sample), so that only a sample in a new bucket divides.
    bucket_span: (i64, i64),
    /// The current bucket's slot in `buckets`.
    current: usize,
    older_min: i64,
    min_transit: i64,
    hist: Box<[f64; BINS]>,
    weight: f64,
    total: f64,
    samples: u32,
    quantile_ns: i64,
    /// Monotonic queue for the sliding maximum: (sample index, jitter), jitter decreasing,
    /// in a ring of a power-of-two size of at least `span`. Entries `head..tail` (counters,
    /// masked to index the ring).
    window: Box<[(u64, i64)]>,
    head: usize,
    tail: usize,
    index: u64,
    /// The target jitter delay, kept up to date by `add` and `reset`.
    target_ns: i64,
    /// The configuration, range-checked once: window span in samples, forgetting divisor,
    /// quantile, margin in ns.
    span: u64,
    forget: f64,
    quantile: f64,
    margin_ns: i64,
}

impl DelayEstimator {
    pub(crate) fn new(config: AdaptiveConfig) -> Self {
        let window = config.window.clamp(1, 4096);
        let margin_ns = i64::try_from(config.margin.as_nanos()).unwrap_or(i64::MAX);
        Self {
            config,
            buckets: [i64::MAX; MIN_BUCKETS],
            bucket_index: i64::MIN,
            bucket_span: (0, 0),
            current: 0,
            older_min: i64::MAX,
            min_transit: i64::MAX,
            hist: Box::new([0.0; BINS]),
            weight: 1.0,
            total: 0.0,
            samples: 0,
            quantile_ns: 0,
            window: vec![(0, 0); window.next_power_of_two()].into_boxed_slice(),
            head: 0,
            tail: 0,
            index: 0,
            target_ns: margin_ns,
            span: window as u64,
            forget: config.forget.clamp(0.5, 1.0),
            quantile: config.quantile.clamp(0.0, 1.0),
            margin_ns,
        }
    }

    /// Forgets everything (new stream), keeping the histogram's allocation.
    pub(crate) fn reset(&mut self) {
        self.buckets = [i64::MAX; MIN_BUCKETS];
        self.bucket_index = i64::MIN;
        self.bucket_span = (0, 0);
        self.current = 0;
        self.older_min = i64::MAX;
        self.min_transit = i64::MAX;
        self.hist.fill(0.0);
        self.weight = 1.0;
        self.total = 0.0;
        self.samples = 0;
        self.quantile_ns = 0;
        self.head = 0;
        self.tail = 0;
        self.index = 0;
        self.target_ns = self.margin_ns;
    }

    /// The reference (fastest recent) relative transit, if any sample was seen.
    #[inline]
    pub(crate) fn min_transit(&self) -> Option<i64> {
        (self.min_transit != i64::MAX).then_some(self.min_transit)
    }

    /// Adds one sample: `transit` = arrival minus send time (both relative to the epoch),
    /// `arrival` = arrival relative to the epoch. Returns the sample's jitter delay.
    #[expect(
        clippy::inline_always,
        reason = "the per-packet hot path of `push`: saves a call and its register spills"
    )]
    #[inline(always)]
    pub(crate) fn add(&mut self, transit: i64, arrival: i64) -> i64 {
        self.update_min(transit, arrival);
        let jitter = transit.saturating_sub(self.min_transit).max(0);

        // Histogram with lazy exponential forgetting: instead of scaling every bin down, the
        // weight of new samples grows, and everything is renormalised when it gets large.
        let bin = usize::try_from(jitter / BIN_NS).unwrap_or(BINS - 1).min(BINS - 1);
        self.hist[bin] += self.weight;
        self.total += self.weight;
        self.weight /= self.forget;
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
        let mask = self.window.len() - 1;
        while self.tail != self.head && self.window[(self.tail - 1) & mask].1 <= jitter {
            self.tail -= 1;
        }
        while self.tail != self.head && self.window[self.head & mask].0 + self.span <= self.index {
            self.head += 1;
        }
        if self.tail - self.head == self.window.len() {
            self.head += 1;
        }
        self.window[self.tail & mask] = (self.index, jitter);
        self.tail += 1;

        let peak = self.window[self.head & mask].1;
        self.target_ns = self.quantile_ns.max(peak).saturating_add(self.margin_ns);
        jitter
    }

    /// The target jitter delay in nanoseconds (before clamping by the caller): the larger of
    /// the histogram quantile and the window's peak, plus the margin.
    #[inline]
    pub(crate) fn target_ns(&self) -> i64 {
        self.target_ns
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
        let want = self.total * self.quantile;
        let mut below = 0.0;
        for (i, w) in self.hist.iter().enumerate() {
            below += *w;
            if below >= want {
                return (i as i64 + 1) * BIN_NS;
            }
        }
        BINS as i64 * BIN_NS
    }

    #[expect(clippy::inline_always, reason = "a few instructions, once per packet")]
    #[inline(always)]
    fn update_min(&mut self, transit: i64, arrival: i64) {
        if !(self.bucket_span.0..self.bucket_span.1).contains(&arrival) {
            self.enter_bucket(arrival);
        }
        let current = &mut self.buckets[self.current];
        *current = (*current).min(transit);
        self.min_transit = self.older_min.min(*current);
    }

    /// The sample at `arrival` is outside the current bucket.
    #[cold]
    fn enter_bucket(&mut self, arrival: i64) {
        let index = arrival.div_euclid(MIN_BUCKET_NS);
        if index == self.bucket_index {
            return;
        }
        // Moving forward: clear the buckets that fell out of the window.
        let steps = if self.bucket_index == i64::MIN {
            MIN_BUCKETS as i64
        } else {
            index - self.bucket_index
        };
        if steps <= 0 {
            // Arrival went backwards: the sample counts in the current bucket.
            return;
        }
        for k in 0..steps.min(MIN_BUCKETS as i64) {
            let slot = (index - k).rem_euclid(MIN_BUCKETS as i64) as usize;
            self.buckets[slot] = i64::MAX;
        }
        self.bucket_index = index;
        let start = index.saturating_mul(MIN_BUCKET_NS);
        self.bucket_span = (start, start.saturating_add(MIN_BUCKET_NS));
        let current = index.rem_euclid(MIN_BUCKETS as i64) as usize;
        self.current = current;
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

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn calm_stream_targets_little_more_than_the_margin() {
        let mut e = DelayEstimator::new(AdaptiveConfig::default());
        for i in 0..500 {
            e.add(30 * MS + (i % 3) * MS, i * 20 * MS);
        }
        assert_eq!(e.min_transit(), Some(30 * MS));
        let t = e.target_ns();
        assert!((4 * MS..=10 * MS).contains(&t), "{t}");
    }

    #[test]
    fn burst_raises_at_once_and_calm_lowers_again() {
        let mut e = DelayEstimator::new(AdaptiveConfig::default());
        let mut t = 0;
        for _ in 0..300 {
            e.add(30 * MS, t);
            t += 20 * MS;
        }
        let calm = e.target_ns();
        e.add(130 * MS, t);
        assert!(e.target_ns() >= 100 * MS);
        for _ in 0..1000 {
            t += 20 * MS;
            e.add(30 * MS, t);
        }
        assert!(e.target_ns() <= calm + 2 * MS, "{} vs {calm}", e.target_ns());
    }

    #[test]
    fn windowed_minimum_follows_a_route_change_up() {
        let mut e = DelayEstimator::new(AdaptiveConfig::default());
        let mut t = 0;
        for _ in 0..100 {
            e.add(10 * MS, t);
            t += 20 * MS;
        }
        for _ in 0..1000 {
            e.add(50 * MS, t);
            t += 20 * MS;
        }
        assert_eq!(e.min_transit(), Some(50 * MS));
    }

    #[test]
    fn reset_keeps_the_histogram_allocation() {
        let mut e = DelayEstimator::new(AdaptiveConfig::default());
        e.add(5 * MS, 0);
        let p = std::ptr::from_ref::<[f64; BINS]>(&e.hist);
        e.reset();
        assert_eq!(p, std::ptr::from_ref::<[f64; BINS]>(&e.hist));
        assert_eq!(e.min_transit(), None);
        assert!(e.hist.iter().all(|w| *w == 0.0));
    }
}
