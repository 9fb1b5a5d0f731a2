//! Receiver-side NACK scheduling (RFC 4585 generic NACK) with a retry schedule and limits.
#![expect(
    clippy::cast_possible_wrap,
    reason = "ring sizes, window lengths and counts here are at most 2^16"
)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use voxwire_rtp::{ExtendedSeq, SeqNo, SeqUnwrapper};

/// Retry schedule and limits of a [`NackTracker`].
///
/// Defaults: the first NACK once a gap is seen (after `initial_delay`, for reordering), then
/// every `retry_interval` (100 ms as in protocol.md section 10), at most `max_retries` NACKs per
/// packet, at most `max_outstanding` packets tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NackConfig {
    /// Wait this long after a gap is detected before the first NACK (a reordered packet usually
    /// arrives within a few milliseconds).
    pub initial_delay: Duration,
    /// Time between NACKs for the same packet.
    pub retry_interval: Duration,
    /// NACKs per packet before giving up on it.
    pub max_retries: u32,
    /// Packets tracked at once; beyond this the oldest are given up.
    pub max_outstanding: usize,
}

impl Default for NackConfig {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(5),
            retry_interval: Duration::from_millis(100),
            max_retries: 10,
            max_outstanding: 1000,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Missing {
    ext: i64,
    sent: u32,
    next_at: Instant,
}

/// Counters of a [`NackTracker`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NackStats {
    /// Packets found missing.
    pub missing: u64,
    /// Missing packets that arrived later (reordered or retransmitted).
    pub recovered: u64,
    /// NACK entries sent (one per sequence number per NACK round).
    pub nacks_sent: u64,
    /// Packets given up on (retries exhausted, or pushed out by `max_outstanding`).
    pub given_up: u64,
}

/// Tracks missing sequence numbers of one stream and says when to NACK them.
///
/// Call [`Self::on_packet`] for every received packet (original or restored from RTX),
/// [`Self::poll_nacks`] when [`Self::poll_timeout`] is reached. Storage is allocated once
/// (`max_outstanding` entries); nothing is allocated per packet.
#[derive(Clone, Debug)]
pub struct NackTracker {
    config: NackConfig,
    seqs: SeqUnwrapper,
    highest: Option<i64>,
    /// Lowest sequence number seen: a packet below it (the stream's first packets reordered)
    /// makes the ones between missing too.
    lowest: i64,
    /// Missing packets in increasing sequence order.
    missing: VecDeque<Missing>,
    stats: NackStats,
    overflowed: bool,
}

impl NackTracker {
    /// A tracker with this schedule.
    pub fn new(config: NackConfig) -> Self {
        let max = config.max_outstanding.clamp(1, 1 << 15);
        Self {
            config: NackConfig { max_outstanding: max, ..config },
            seqs: SeqUnwrapper::new(),
            highest: None,
            lowest: 0,
            missing: VecDeque::with_capacity(max),
            stats: NackStats::default(),
            overflowed: false,
        }
    }

    /// Counters.
    pub fn stats(&self) -> NackStats {
        self.stats
    }

    /// Packets currently missing and still being asked for.
    pub fn outstanding(&self) -> usize {
        self.missing.len()
    }

    /// Unwraps a sequence number in this stream's numbering.
    pub(crate) fn unwrap(&mut self, seq: SeqNo) -> i64 {
        self.seqs.unwrap(seq).get()
    }

    /// Whether `ext` is missing and still being asked for.
    pub(crate) fn is_pending(&self, ext: i64) -> bool {
        self.find(ext).is_ok()
    }

    /// Whether more packets went missing at once than can be tracked since the last call (the
    /// receiver should ask for a keyframe instead).
    pub(crate) fn take_overflow(&mut self) -> bool {
        std::mem::take(&mut self.overflowed)
    }

    fn find(&self, ext: i64) -> Result<usize, usize> {
        self.missing.binary_search_by_key(&ext, |m| m.ext)
    }

    /// Records a received packet (extended sequence number from this tracker's unwrapper).
    pub(crate) fn on_ext(&mut self, ext: i64, now: Instant) {
        let Some(highest) = self.highest else {
            self.highest = Some(ext);
            self.lowest = ext;
            return;
        };
        if ext < self.lowest {
            let at = now + self.config.initial_delay;
            let room = self.config.max_outstanding.saturating_sub(self.missing.len()) as i64;
            for e in ((ext + 1).max(self.lowest - room)..self.lowest).rev() {
                self.missing.push_front(Missing { ext: e, sent: 0, next_at: at });
                self.stats.missing += 1;
            }
            self.lowest = ext;
            return;
        }
        if ext <= highest {
            if let Ok(i) = self.find(ext) {
                self.missing.remove(i);
                self.stats.recovered += 1;
            }
            return;
        }
        self.highest = Some(ext);
        let gap = ext - highest - 1;
        let max = self.config.max_outstanding as i64;
        if gap > max {
            // Too many at once to recover by retransmission.
            self.stats.given_up += self.missing.len() as u64 + gap.unsigned_abs();
            self.missing.clear();
            self.overflowed = true;
            return;
        }
        let at = now + self.config.initial_delay;
        for e in highest + 1..ext {
            if self.missing.len() == self.config.max_outstanding {
                self.missing.pop_front();
                self.stats.given_up += 1;
                self.overflowed = true;
            }
            self.missing.push_back(Missing { ext: e, sent: 0, next_at: at });
            self.stats.missing += 1;
        }
    }

    /// Records a received packet.
    pub fn on_packet(&mut self, seq: SeqNo, now: Instant) {
        let ext = self.unwrap(seq);
        self.on_ext(ext, now);
    }

    /// Stops asking for everything before `ext` (the receiver has moved past it).
    pub(crate) fn forget_before(&mut self, ext: i64) {
        while self.missing.front().is_some_and(|m| m.ext < ext) {
            self.missing.pop_front();
        }
    }

    /// Appends to `out` the sequence numbers to NACK now, and gives up on those that used all
    /// their retries. Returns how many were appended.
    pub fn poll_nacks(&mut self, now: Instant, out: &mut Vec<SeqNo>) -> usize {
        let before = out.len();
        let (max_retries, interval) = (self.config.max_retries, self.config.retry_interval);
        let mut given_up = 0;
        self.missing.retain_mut(|m| {
            if m.next_at > now {
                return true;
            }
            if m.sent >= max_retries {
                given_up += 1;
                return false;
            }
            m.sent += 1;
            m.next_at = now + interval;
            out.push(ExtendedSeq(m.ext).wire());
            true
        });
        self.stats.given_up += given_up;
        let n = out.len() - before;
        self.stats.nacks_sent += n as u64;
        n
    }

    /// When [`Self::poll_nacks`] has something to do next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.missing.iter().map(|m| m.next_at).min()
    }
}

#[cfg(test)]
#[expect(clippy::disallowed_methods, reason = "one real Instant as the epoch of a virtual clock")]
mod tests {
    use super::*;

    #[test]
    fn schedule_retries_and_gives_up() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut n = NackTracker::new(NackConfig { max_retries: 3, ..NackConfig::default() });
        n.on_packet(SeqNo(65_534), t);
        n.on_packet(SeqNo(1), t); // 65535 and 0 missing, across the wrap
        let mut out = Vec::new();
        assert_eq!(n.poll_timeout(), Some(t + ms(5)));
        assert_eq!(n.poll_nacks(t, &mut out), 0);
        assert_eq!(n.poll_nacks(t + ms(5), &mut out), 2);
        assert_eq!(out, [SeqNo(65_535), SeqNo(0)]);
        n.on_packet(SeqNo(0), t + ms(50));
        assert_eq!(n.poll_nacks(t + ms(60), &mut out), 0);
        assert_eq!(n.poll_nacks(t + ms(105), &mut out), 1);
        assert_eq!(n.poll_nacks(t + ms(205), &mut out), 1);
        assert_eq!(n.poll_nacks(t + ms(305), &mut out), 0); // third retry was the last
        assert_eq!(n.outstanding(), 0);
        assert_eq!(n.stats(), NackStats { missing: 2, recovered: 1, nacks_sent: 4, given_up: 1 });
    }

    #[test]
    fn outstanding_is_bounded() {
        let t = Instant::now();
        let mut n = NackTracker::new(NackConfig { max_outstanding: 10, ..NackConfig::default() });
        n.on_packet(SeqNo(0), t);
        n.on_packet(SeqNo(8), t);
        n.on_packet(SeqNo(16), t);
        assert_eq!(n.outstanding(), 10);
        assert!(n.take_overflow());
        n.on_packet(SeqNo(100), t);
        assert_eq!(n.outstanding(), 0);
        assert!(n.take_overflow());
    }
}
