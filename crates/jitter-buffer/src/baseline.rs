//! The sequence-number reordering sink of the receive extension described in seed 001, kept as a
//! baseline for the quality benches.
//!
//! It has no playout clock: a packet that is next in sequence goes out at once; any other packet
//! waits in a side buffer until the gap before it is filled or `timeout` has passed since the
//! buffer started filling; then the buffer is sorted, the gap is skipped, and its frames are
//! validated again. So it adds little delay, but passes network jitter straight to its output,
//! and drops every packet that comes after a later one was let through.
//!
//! # Deliberate differences from the seed
//!
//! - Wrap-around uses an RTP sequence unwrapper instead of the seed's "last >= 65000 and this
//!   <= 1000" rule, which mis-sorts a buffer that holds both sides of the wrap.
//! - A packet equal to the last one let through is dropped as a duplicate (the seed buffers it).
//! - The side buffer is bounded (`capacity`); when it is full it is flushed like on a timeout.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use voxwire_rtp::{ExtendedSeq, RtpTimestamp, SeqUnwrapper, Ssrc, TimestampUnwrapper};

use crate::audio::{AudioPacket, Frame, Playout, PushOutcome};

#[derive(Clone, Debug)]
struct Entry {
    ext: i64,
    ts: i64,
    wire_ts: RtpTimestamp,
    arrival: Instant,
    payload: Vec<u8>,
}

/// The seed-001 reordering baseline. Same `push`/`poll` shape as
/// [`AudioJitterBuffer`](crate::AudioJitterBuffer); `poll` never returns `Lost`.
#[derive(Clone, Debug)]
pub struct SeqReorder {
    timeout: Duration,
    capacity: usize,
    ssrc: Option<Ssrc>,
    seqs: SeqUnwrapper,
    stamps: TimestampUnwrapper,
    ts0: i64,
    last: Option<i64>,
    side: Vec<Entry>,
    side_since: Option<Instant>,
    out: VecDeque<Entry>,
    current: Option<Entry>,
    /// Packets dropped as older than the last one let through.
    pub dropped: u64,
}

impl SeqReorder {
    /// A reorderer that waits at most `timeout` for a gap and holds at most `capacity` frames.
    pub fn new(timeout: Duration, capacity: usize) -> Self {
        Self {
            timeout,
            capacity: capacity.max(1),
            ssrc: None,
            seqs: SeqUnwrapper::new(),
            stamps: TimestampUnwrapper::new(),
            ts0: 0,
            last: None,
            side: Vec::new(),
            side_since: None,
            out: VecDeque::new(),
            current: None,
            dropped: 0,
        }
    }

    /// Frames held (side buffer and ready queue).
    pub fn len(&self) -> usize {
        self.side.len() + self.out.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes in one packet.
    pub fn push(&mut self, pkt: &AudioPacket<'_>, now: Instant) -> PushOutcome {
        let mut restarted = false;
        if self.ssrc != Some(pkt.ssrc) {
            restarted = self.ssrc.is_some();
            *self = Self { dropped: self.dropped, ..Self::new(self.timeout, self.capacity) };
            self.ssrc = Some(pkt.ssrc);
        }
        let ext = self.seqs.unwrap(pkt.seq).get();
        let ts = self.stamps.unwrap(pkt.timestamp).get();
        if self.last.is_none() && self.out.is_empty() && self.side.is_empty() {
            self.ts0 = ts;
        }
        let entry =
            Entry { ext, ts, wire_ts: pkt.timestamp, arrival: now, payload: pkt.payload.to_vec() };
        let outcome = self.validate(entry, now);
        if restarted { PushOutcome::Restarted } else { outcome }
    }

    fn validate(&mut self, e: Entry, now: Instant) -> PushOutcome {
        match self.last {
            Some(last) if e.ext <= last => {
                self.dropped += 1;
                PushOutcome::Late
            }
            Some(last) if e.ext != last + 1 => {
                if self.side.iter().any(|s| s.ext == e.ext) {
                    return PushOutcome::Duplicate;
                }
                self.side.push(e);
                self.side_since.get_or_insert(now);
                if self.side.len() >= self.capacity {
                    self.flush(now);
                }
                PushOutcome::Buffered
            }
            _ => {
                self.last = Some(e.ext);
                self.out.push_back(e);
                if !self.side.is_empty() {
                    self.flush(now);
                }
                PushOutcome::Buffered
            }
        }
    }

    /// Sorts the side buffer, skips the gap before it, and validates its frames again.
    fn flush(&mut self, now: Instant) {
        let mut side = std::mem::take(&mut self.side);
        self.side_since = None;
        side.sort_by_key(|e| e.ext);
        if let Some(first) = side.first() {
            self.last = Some(first.ext - 1);
        }
        for e in side {
            self.validate(e, now);
        }
    }

    /// The next frame, the time the side buffer times out, or `Empty`.
    pub fn poll(&mut self, now: Instant) -> Playout<'_> {
        if self.out.is_empty()
            && let Some(since) = self.side_since
        {
            let due = since + self.timeout;
            if now < due {
                return Playout::Wait(due);
            }
            self.flush(now);
        }
        self.current = self.out.pop_front();
        let Some(e) = self.current.as_ref() else { return Playout::Empty };
        Playout::Ready(Frame {
            ssrc: self.ssrc.unwrap_or_default(),
            seq: ExtendedSeq(e.ext).wire(),
            timestamp: e.wire_ts,
            media_time: u64::try_from(e.ts - self.ts0).unwrap_or(0),
            payload: &e.payload,
            arrival: e.arrival,
            deadline: now,
        })
    }
}

#[cfg(test)]
#[expect(clippy::disallowed_methods, reason = "one real Instant as the epoch of a virtual clock")]
mod tests {
    use super::*;
    use voxwire_rtp::SeqNo;

    fn pkt(seq: u16) -> AudioPacket<'static> {
        AudioPacket {
            ssrc: Ssrc(1),
            seq: SeqNo(seq),
            timestamp: RtpTimestamp(u32::from(seq) * 960),
            payload: b"x",
        }
    }

    fn drain(r: &mut SeqReorder, now: Instant) -> Vec<u16> {
        let mut v = Vec::new();
        while let Playout::Ready(f) = r.poll(now) {
            v.push(f.seq.0);
        }
        v
    }

    #[test]
    fn reorders_a_swap_and_skips_a_gap_after_the_timeout() {
        let t = Instant::now();
        let mut r = SeqReorder::new(Duration::from_millis(60), 32);
        for s in [65_534, 0, 65_535, 1, 3] {
            let _ = r.push(&pkt(s), t);
        }
        assert_eq!(drain(&mut r, t), [65_534, 65_535, 0, 1]);
        assert_eq!(r.poll(t), Playout::Wait(t + Duration::from_millis(60)));
        assert_eq!(drain(&mut r, t + Duration::from_millis(60)), [3]);
        assert_eq!(r.push(&pkt(2), t), PushOutcome::Late);
        assert_eq!(r.dropped, 1);
    }
}
