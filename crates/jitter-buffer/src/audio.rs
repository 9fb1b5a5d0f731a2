//! The per-SSRC audio jitter buffer.

use std::time::{Duration, Instant};

use voxwire_rtp::{
    ExtendedSeq, ExtendedTimestamp, RtpTimestamp, SeqNo, SeqUnwrapper, Ssrc, TimestampUnwrapper,
};

use crate::delay::{AdaptiveConfig, DelayEstimator};

/// A relative-transit jump larger than this (a timestamp or clock discontinuity) restarts the
/// stream's timing.
const TIMING_JUMP_NS: u64 = 3_000_000_000;

/// One received audio packet, as the caller hands it in (after decryption). The payload is
/// copied into the buffer's own reusable storage, so it only needs to live for the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioPacket<'a> {
    /// RTP SSRC.
    pub ssrc: Ssrc,
    /// RTP sequence number.
    pub seq: SeqNo,
    /// RTP timestamp.
    pub timestamp: RtpTimestamp,
    /// The media payload (for Opus: one Opus packet).
    pub payload: &'a [u8],
}

/// How the playout delay is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlayoutDelay {
    /// Track the delay distribution ([`AdaptiveConfig`]).
    Adaptive(AdaptiveConfig),
    /// A fixed delay above the fastest recent packet.
    Fixed(Duration),
}

/// Configuration of an [`AudioJitterBuffer`]. Build with the `with_*` methods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JitterBufferConfig {
    /// RTP clock rate (48 000 for Opus).
    pub clock_rate: u32,
    /// RTP timestamp ticks per frame, used to place lost frames when nothing later is known
    /// (960 = 20 ms of Opus).
    pub frame_ticks: u32,
    /// Number of frames the buffer holds (rounded up to a power of two, 4..=4096). Packets more
    /// than this far ahead of the playout point restart the stream.
    pub capacity: usize,
    /// Largest payload accepted; larger ones are rejected. With `capacity`, this bounds memory.
    pub max_payload: usize,
    /// The delay policy.
    pub delay: PlayoutDelay,
    /// Smallest playout delay (above the fastest recent packet).
    pub min_delay: Duration,
    /// Largest playout delay.
    pub max_delay: Duration,
    /// Adaptive only: the delay a new stream starts with, before anything is known.
    pub start_delay: Duration,
}

impl Default for JitterBufferConfig {
    fn default() -> Self {
        Self {
            clock_rate: 48_000,
            frame_ticks: 960,
            capacity: 64,
            max_payload: 1500,
            delay: PlayoutDelay::Adaptive(AdaptiveConfig::default()),
            min_delay: Duration::ZERO,
            max_delay: Duration::from_millis(500),
            start_delay: Duration::from_millis(40),
        }
    }
}

impl JitterBufferConfig {
    /// Sets [`Self::clock_rate`] and [`Self::frame_ticks`].
    #[must_use]
    pub fn with_clock(mut self, clock_rate: u32, frame_ticks: u32) -> Self {
        self.clock_rate = clock_rate;
        self.frame_ticks = frame_ticks;
        self
    }

    /// Sets [`Self::capacity`].
    #[must_use]
    pub fn with_capacity(mut self, frames: usize) -> Self {
        self.capacity = frames;
        self
    }

    /// Sets [`Self::max_payload`].
    #[must_use]
    pub fn with_max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Sets [`Self::delay`].
    #[must_use]
    pub fn with_delay(mut self, delay: PlayoutDelay) -> Self {
        self.delay = delay;
        self
    }

    /// Sets [`Self::min_delay`] and [`Self::max_delay`].
    #[must_use]
    pub fn with_delay_range(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Sets [`Self::start_delay`].
    #[must_use]
    pub fn with_start_delay(mut self, delay: Duration) -> Self {
        self.start_delay = delay;
        self
    }
}

/// What [`AudioJitterBuffer::push`] did with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// Buffered for playout.
    Buffered,
    /// Already buffered or already played: ignored.
    Duplicate,
    /// Its frame was already played out or declared lost: too late, dropped.
    Late,
    /// A new SSRC, a sequence jump beyond the buffer or a timing discontinuity: the stream
    /// restarted at this packet (anything buffered was dropped). Output timestamps stay
    /// continuous through [`Frame::media_time`].
    Restarted,
    /// Larger than [`JitterBufferConfig::max_payload`]: dropped.
    Rejected,
}

/// A frame due for playout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// SSRC of the stream.
    pub ssrc: Ssrc,
    /// Sequence number.
    pub seq: SeqNo,
    /// RTP timestamp as sent.
    pub timestamp: RtpTimestamp,
    /// Position in the output in clock ticks, continuous across stream restarts (SSRC resets,
    /// sequence jumps): write frames at this position and recordings stay aligned.
    pub media_time: u64,
    /// The payload.
    pub payload: &'a [u8],
    /// When the packet arrived.
    pub arrival: Instant,
    /// When it was scheduled to play (`<=` the `now` it was returned at).
    pub deadline: Instant,
}

/// A frame that did not arrive in time: conceal it, or recover it from the next packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostFrame<'a> {
    /// SSRC of the stream.
    pub ssrc: Ssrc,
    /// Sequence number of the missing frame.
    pub seq: SeqNo,
    /// Its RTP timestamp, interpolated between its neighbours.
    pub timestamp: RtpTimestamp,
    /// Its position in the output (see [`Frame::media_time`]).
    pub media_time: u64,
    /// The payload of the *next* frame (`seq + 1`) when it is already buffered: an Opus decoder
    /// can rebuild the lost frame from its in-band FEC. The next frame is still returned as
    /// [`Playout::Ready`] afterwards.
    pub next_payload: Option<&'a [u8]>,
    /// When the frame was due.
    pub deadline: Instant,
}

/// The answer of [`AudioJitterBuffer::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Playout<'a> {
    /// The next frame, in order, due now.
    Ready(Frame<'a>),
    /// The next frame is missing and its time has come.
    Lost(LostFrame<'a>),
    /// Nothing is due yet: poll again at this time (or when a packet arrives).
    Wait(Instant),
    /// Nothing is buffered.
    Empty,
}

/// Counters and the current delay of an [`AudioJitterBuffer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets given to `push`.
    pub received: u64,
    /// Duplicates ignored.
    pub duplicates: u64,
    /// Packets that arrived after their frame was played or declared lost.
    pub late: u64,
    /// Frames returned as [`Playout::Ready`].
    pub played: u64,
    /// Of those, frames returned after their deadline (the packet itself came after its
    /// deadline while nothing later was buffered, so playout stalled for it).
    pub played_late: u64,
    /// Frames returned as [`Playout::Lost`].
    pub lost: u64,
    /// Stream restarts.
    pub restarts: u64,
    /// Buffered frames dropped by a restart.
    pub flushed: u64,
    /// Packets rejected for size.
    pub rejected: u64,
    /// The current playout delay above the fastest recent packet.
    pub playout_delay: Duration,
    /// The delay the adaptive estimator aims for.
    pub target_delay: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Empty,
    Buffered,
    Played,
    Lost,
}

#[derive(Clone, Debug)]
struct Slot {
    ext: i64,
    state: SlotState,
    /// Extended timestamp.
    ts: i64,
    wire_ts: RtpTimestamp,
    /// Send time: the timestamp in nanoseconds after the stream's epoch timestamp (computed
    /// once at push, so that `poll` only adds).
    send_ns: i64,
    /// Arrival (not before the stream's epoch).
    arrival: Option<Instant>,
    payload: Payload,
}

/// A slot's payload: storage that is reused and only ever grows, to exactly the largest
/// payload seen (so memory bounds hold), and the length of the payload in it. Storing a
/// payload of a size seen before is one comparison and one `memcpy`.
#[derive(Clone, Debug, Default)]
struct Payload {
    buf: Vec<u8>,
    len: usize,
}

impl Payload {
    #[inline]
    fn set(&mut self, data: &[u8]) {
        if self.buf.len() < data.len() {
            self.grow(data.len());
        }
        if let Some(dst) = self.buf.get_mut(..data.len()) {
            dst.copy_from_slice(data);
        }
        self.len = data.len();
    }

    #[cold]
    fn grow(&mut self, len: usize) {
        self.buf.reserve_exact(len - self.buf.len());
        self.buf.resize(len, 0);
    }

    #[inline]
    fn get(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

#[derive(Clone, Debug)]
struct Stream {
    ssrc: Ssrc,
    seqs: SeqUnwrapper,
    stamps: TimestampUnwrapper,
    /// The stream's epoch (its first arrival) and the time conversions.
    clock: Clock,
    /// Extended timestamp at the epoch.
    ts0: i64,
    /// Extended sequence number of the next frame to play.
    next: i64,
    highest: i64,
    buffered: usize,
    /// Extended timestamp of the last frame played or lost.
    last_ts: Option<i64>,
    /// `media_time = ext_ts - ts0 + media_base`.
    media_base: i64,
    /// Whether a frame was played or declared lost yet.
    output_started: bool,
    /// Last out-of-window packet behind the playout point (two in a row restart the stream).
    stray: Option<i64>,
}

impl Stream {
    /// Marks the next frame (extended timestamp `ts`) as done; returns its media time.
    #[inline]
    fn advance(&mut self, ts: i64) -> i64 {
        self.next += 1;
        self.output_started = true;
        self.last_ts = Some(ts);
        (ts - self.ts0).saturating_add(self.media_base)
    }
}

/// A per-SSRC audio jitter buffer with adaptive (or fixed) playout delay.
///
/// See the [crate docs](crate) for the call order. Storage is a ring of `capacity` slots, each
/// with a reusable payload buffer: after warm-up, `push` and `poll` allocate nothing.
#[derive(Clone, Debug)]
pub struct AudioJitterBuffer {
    config: JitterBufferConfig,
    slots: Box<[Slot]>,
    mask: i64,
    stream: Option<Stream>,
    est: DelayEstimator,
    /// Current playout offset above the reference transit, ns.
    offset_ns: i64,
    stats: JitterStats,
    /// For media-time continuity across restarts: end of the last output and when it was.
    last_media_end: Option<(i64, Instant)>,
    /// Playout delay range, ns: the configured one, capped by what the ring can hold.
    delay_range: (i64, i64),
    /// Longest shrink of the playout delay per played frame, ns.
    shrink_ns: i64,
    /// The fixed delay in ns, for [`PlayoutDelay::Fixed`].
    fixed_ns: Option<i64>,
}

/// When a frame sent at `send_ns` is due, in nanoseconds after the stream's epoch (never
/// before it): send time + reference transit + playout offset.
#[inline]
fn due(send_ns: i64, reference: Option<i64>, offset_ns: i64) -> i64 {
    send_ns.saturating_add(reference.unwrap_or(0)).saturating_add(offset_ns).max(0)
}

/// A frame played more than this after its deadline counts as played late.
const LATE_NS: i64 = 1_000_000;

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Ring index of an extended sequence number.
#[expect(clippy::cast_sign_loss, reason = "masked to 0..capacity, so never negative")]
fn at(mask: i64, ext: i64) -> usize {
    (ext & mask) as usize
}

/// Extended timestamp `ts` in nanoseconds after `ts0` at `clock_rate`.
fn ts_to_ns(ts: i64, ts0: i64, clock_rate: u32) -> i64 {
    let clock = i64::from(clock_rate.max(1));
    // Fast path in i64 (any realistic stream); i128 only for absurd timestamp distances.
    if let Some(v) = ts.checked_sub(ts0).and_then(|t| t.checked_mul(1_000_000_000)) {
        return v / clock;
    }
    let ns = (i128::from(ts) - i128::from(ts0)) * 1_000_000_000 / i128::from(clock);
    i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN / 4 } else { i64::MAX / 4 })
}

fn duration(ns: i64) -> Duration {
    Duration::from_nanos(u64::try_from(ns).unwrap_or(0))
}

/// A stream's time base: `Instant`s in and out, nanoseconds after the epoch inside.
///
/// Each `Instant` subtraction or addition is an out-of-line call with carries between seconds
/// and nanoseconds, and a push with its polls would need several. The clock remembers the last
/// `now` it converted and the last deadline it produced: the polls that follow a push at the
/// same `now`, the poll at a `Wait` deadline, and the frame played at that deadline then
/// convert nothing, and a packet costs about one conversion each way.
#[derive(Clone, Copy, Debug)]
struct Clock {
    epoch: Instant,
    /// The last `now` converted, with its nanoseconds.
    seen: (Instant, i64),
    /// The last deadline produced, with its nanoseconds.
    due: (Instant, i64),
}

impl Clock {
    fn new(epoch: Instant) -> Self {
        Self { epoch, seen: (epoch, 0), due: (epoch, 0) }
    }

    /// `t` in nanoseconds after the epoch, negative if before it.
    #[inline]
    fn ns(&mut self, t: Instant) -> i64 {
        if t == self.seen.0 {
            return self.seen.1;
        }
        if t == self.due.0 {
            return self.due.1;
        }
        let ns = match t.checked_duration_since(self.epoch) {
            Some(d) => nanos(d),
            None => nanos(self.epoch.duration_since(t)).saturating_neg(),
        };
        self.seen = (t, ns);
        ns
    }

    /// The instant `ns` (not negative) nanoseconds after the epoch.
    #[inline]
    fn at(&mut self, ns: i64) -> Instant {
        if ns == self.due.1 {
            return self.due.0;
        }
        if ns == self.seen.1 && ns < i64::MAX {
            return self.seen.0;
        }
        let t = self.epoch + duration(ns);
        self.due = (t, ns);
        t
    }
}

impl AudioJitterBuffer {
    /// A buffer with this configuration. Allocates the slot ring once.
    pub fn new(config: JitterBufferConfig) -> Self {
        let cap = config.capacity.clamp(4, 4096).next_power_of_two();
        let adaptive = match config.delay {
            PlayoutDelay::Adaptive(a) => a,
            PlayoutDelay::Fixed(_) => AdaptiveConfig::default(),
        };
        let slots = (0..cap)
            .map(|_| Slot {
                ext: i64::MIN,
                state: SlotState::Empty,
                ts: 0,
                wire_ts: RtpTimestamp(0),
                send_ns: 0,
                arrival: None,
                payload: Payload::default(),
            })
            .collect();
        let mut b = Self {
            config,
            slots,
            mask: i64::try_from(cap).unwrap_or(4096) - 1,
            stream: None,
            est: DelayEstimator::new(adaptive),
            offset_ns: 0,
            stats: JitterStats::default(),
            last_media_end: None,
            delay_range: (0, 0),
            shrink_ns: 0,
            fixed_ns: match config.delay {
                PlayoutDelay::Fixed(d) => Some(nanos(d)),
                PlayoutDelay::Adaptive(_) => None,
            },
        };
        let frame_ns = ts_to_ns(i64::from(config.frame_ticks), 0, config.clock_rate);
        let cap_ns = ts_to_ns(
            b.mask.saturating_add(1).saturating_mul(i64::from(config.frame_ticks)),
            0,
            config.clock_rate,
        );
        let max = nanos(config.max_delay).min(cap_ns);
        b.delay_range = (nanos(config.min_delay).min(max), max);
        b.shrink_ns = b.est.shrink_step(frame_ns);
        b.offset_ns = b.initial_offset();
        b
    }

    /// The configuration.
    pub fn config(&self) -> &JitterBufferConfig {
        &self.config
    }

    /// Number of slots (the configured capacity rounded up to a power of two).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Frames buffered and not yet played.
    pub fn len(&self) -> usize {
        self.stream.as_ref().map_or(0, |s| s.buffered)
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of payload storage currently allocated. Never exceeds
    /// `capacity() * max_payload`, whatever the input.
    pub fn payload_bytes_allocated(&self) -> usize {
        self.slots.iter().map(|s| s.payload.buf.capacity()).sum()
    }

    /// Counters and the current delay.
    pub fn stats(&self) -> JitterStats {
        let mut s = self.stats;
        s.playout_delay = duration(self.offset_ns);
        s.target_delay = duration(self.target_ns());
        s
    }

    /// Takes in one packet that arrived at `now`.
    pub fn push(&mut self, pkt: &AudioPacket<'_>, now: Instant) -> PushOutcome {
        self.stats.received += 1;
        if pkt.payload.len() > self.config.max_payload {
            self.stats.rejected += 1;
            return PushOutcome::Rejected;
        }
        let Some(stream) = self.stream.as_mut() else {
            self.restart(pkt, now);
            return PushOutcome::Buffered;
        };
        if stream.ssrc != pkt.ssrc {
            self.restart(pkt, now);
            return PushOutcome::Restarted;
        }
        let ext = stream.seqs.unwrap(pkt.seq).get();
        let ts = stream.stamps.unwrap(pkt.timestamp).get();
        let arrival_ns = stream.clock.ns(now).max(0);
        let send_ns = ts_to_ns(ts, stream.ts0, self.config.clock_rate);
        let transit = arrival_ns.saturating_sub(send_ns);
        let cap = self.mask + 1;

        if ext < stream.next && !stream.output_started && stream.highest - ext < cap {
            // Nothing played yet and it still fits: the stream starts earlier than its first
            // packet said.
            stream.next = ext;
        }
        if ext < stream.next {
            if ext < stream.next - cap {
                // Far behind the window: a very late packet, or a stream that restarted with a
                // lower sequence number. Two consecutive ones mean the latter.
                if stream.stray == Some(ext - 1) {
                    self.restart(pkt, now);
                    return PushOutcome::Restarted;
                }
                stream.stray = Some(ext);
                self.stats.late += 1;
                return PushOutcome::Late;
            }
            let slot = &self.slots[at(self.mask, ext)];
            if slot.ext == ext && slot.state == SlotState::Played {
                self.stats.duplicates += 1;
                return PushOutcome::Duplicate;
            }
            self.stats.late += 1;
            self.est.add(transit, arrival_ns);
            self.grow();
            return PushOutcome::Late;
        }
        if ext - stream.next >= cap {
            self.restart(pkt, now);
            return PushOutcome::Restarted;
        }
        if self.est.min_transit().is_some_and(|m| transit.abs_diff(m) > TIMING_JUMP_NS) {
            self.restart(pkt, now);
            return PushOutcome::Restarted;
        }
        stream.stray = None;
        let slot = &mut self.slots[at(self.mask, ext)];
        if slot.ext == ext && slot.state == SlotState::Buffered {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        slot.ext = ext;
        slot.state = SlotState::Buffered;
        slot.ts = ts;
        slot.wire_ts = pkt.timestamp;
        slot.send_ns = send_ns;
        slot.arrival = Some(now.max(stream.clock.epoch));
        slot.payload.set(pkt.payload);
        stream.buffered += 1;
        stream.highest = stream.highest.max(ext);
        self.est.add(transit, arrival_ns);
        self.grow();
        PushOutcome::Buffered
    }

    /// What to do at `now`: play a frame, conceal a lost one, wait, or nothing buffered.
    ///
    /// Call it until it returns [`Playout::Wait`] or [`Playout::Empty`]; call it again at the
    /// `Wait` deadline or after the next `push`.
    pub fn poll(&mut self, now: Instant) -> Playout<'_> {
        let Some(stream) = self.stream.as_mut() else { return Playout::Empty };
        if stream.buffered == 0 {
            return Playout::Empty;
        }
        let next = stream.next;
        let idx = at(self.mask, next);
        let slot = &self.slots[idx];
        if slot.ext != next || slot.state != SlotState::Buffered {
            return self.poll_missing(now);
        }
        let now_ns = stream.clock.ns(now);
        let due_ns = due(slot.send_ns, self.est.min_transit(), self.offset_ns);
        let deadline = stream.clock.at(due_ns);
        if now_ns < due_ns {
            return Playout::Wait(deadline);
        }
        if now_ns - due_ns > LATE_NS {
            self.stats.played_late += 1;
        }
        self.stats.played += 1;
        stream.buffered -= 1;
        let (ssrc, epoch) = (stream.ssrc, stream.clock.epoch);
        let media = stream.advance(slot.ts);
        let media_time = self.played(media, now);
        let slot = &mut self.slots[idx];
        slot.state = SlotState::Played;
        Playout::Ready(Frame {
            ssrc,
            seq: ExtendedSeq(next).wire(),
            timestamp: slot.wire_ts,
            media_time,
            payload: slot.payload.get(),
            arrival: slot.arrival.unwrap_or(epoch),
            deadline,
        })
    }

    /// [`Self::poll`] when the next frame is not buffered (but something later is): wait for
    /// it until its interpolated deadline, then report it lost. Kept out of line so that the
    /// common path stays small.
    #[inline(never)]
    fn poll_missing(&mut self, now: Instant) -> Playout<'_> {
        let Some(stream) = self.stream.as_mut() else { return Playout::Empty };
        let next = stream.next;
        let idx = at(self.mask, next);
        // Find the next frame buffered (there is one: buffered > 0).
        let Some(later) = (next + 1..=stream.highest).find(|e| {
            let s = &self.slots[at(self.mask, *e)];
            s.ext == *e && s.state == SlotState::Buffered
        }) else {
            return Playout::Empty;
        };
        let later_ts = self.slots[at(self.mask, later)].ts;
        let ts = match stream.last_ts {
            // Interpolate between the last frame out and the next one in.
            Some(last) => last + (later_ts - last) / (later - next + 1),
            None => later_ts - (later - next) * i64::from(self.config.frame_ticks),
        };
        let now_ns = stream.clock.ns(now);
        let send_ns = ts_to_ns(ts, stream.ts0, self.config.clock_rate);
        let due_ns = due(send_ns, self.est.min_transit(), self.offset_ns);
        let deadline = stream.clock.at(due_ns);
        if now_ns < due_ns {
            return Playout::Wait(deadline);
        }
        let ssrc = stream.ssrc;
        let media = stream.advance(ts);
        self.stats.lost += 1;
        let media_time = self.played(media, now);
        let slot = &mut self.slots[idx];
        slot.ext = next;
        slot.state = SlotState::Lost;
        slot.ts = ts;
        let n = &self.slots[at(self.mask, next + 1)];
        let next_payload =
            (n.ext == next + 1 && n.state == SlotState::Buffered).then_some(n.payload.get());
        Playout::Lost(LostFrame {
            ssrc,
            seq: ExtendedSeq(next).wire(),
            timestamp: ExtendedTimestamp(ts).wire(),
            media_time,
            next_payload,
            deadline,
        })
    }

    /// Drops everything buffered and forgets the stream (the next packet starts a new one).
    /// Media time stays continuous.
    pub fn clear(&mut self) {
        if let Some(s) = self.stream.take() {
            self.stats.flushed += s.buffered as u64;
        }
        for s in &mut *self.slots {
            s.ext = i64::MIN;
            s.state = SlotState::Empty;
        }
        self.est.reset();
        self.offset_ns = self.initial_offset();
    }

    fn restart(&mut self, pkt: &AudioPacket<'_>, now: Instant) {
        if self.stream.is_some() {
            self.stats.restarts += 1;
        }
        self.clear();
        let mut seqs = SeqUnwrapper::new();
        let mut stamps = TimestampUnwrapper::new();
        let ext = seqs.unwrap(pkt.seq).get();
        let ts = stamps.unwrap(pkt.timestamp).get();
        // Continue the output timeline from where it was, plus the wall time since, rounded
        // to whole frames.
        let media_base = match self.last_media_end {
            Some((end, at)) => {
                let gap = i128::from(nanos(now.saturating_duration_since(at)))
                    * i128::from(self.config.clock_rate)
                    / 1_000_000_000;
                let frame = i64::from(self.config.frame_ticks.max(1));
                let gap = i64::try_from(gap).unwrap_or(i64::MAX / 4) / frame * frame;
                end.saturating_add(gap)
            }
            None => 0,
        };
        self.stream = Some(Stream {
            ssrc: pkt.ssrc,
            seqs,
            stamps,
            clock: Clock::new(now),
            ts0: ts,
            next: ext,
            highest: ext,
            buffered: 1,
            last_ts: None,
            media_base,
            stray: None,
            output_started: false,
        });
        let slot = &mut self.slots[at(self.mask, ext)];
        slot.ext = ext;
        slot.state = SlotState::Buffered;
        slot.ts = ts;
        slot.wire_ts = pkt.timestamp;
        slot.send_ns = 0;
        slot.arrival = Some(now);
        slot.payload.set(pkt.payload);
        self.est.add(0, 0);
        self.grow();
    }

    /// A frame with media time `media` went out (played or lost) at `now`: remembers the end
    /// of the output and shrinks the delay towards the target, no faster than the configured
    /// rate. Returns the media time.
    #[inline]
    fn played(&mut self, media: i64, now: Instant) -> u64 {
        self.last_media_end = Some((media.saturating_add(i64::from(self.config.frame_ticks)), now));
        let target = self.target_ns();
        if target < self.offset_ns {
            self.offset_ns = (self.offset_ns - self.shrink_ns).max(target);
        }
        u64::try_from(media).unwrap_or(0)
    }

    /// Grows the playout delay to the target at once.
    #[inline]
    fn grow(&mut self) {
        self.offset_ns = self.offset_ns.max(self.target_ns());
    }

    fn initial_offset(&self) -> i64 {
        match self.config.delay {
            PlayoutDelay::Fixed(d) => nanos(d),
            PlayoutDelay::Adaptive(_) => self.clamp_delay(nanos(self.config.start_delay)),
        }
    }

    #[inline]
    fn target_ns(&self) -> i64 {
        match self.fixed_ns {
            Some(d) => d,
            None => self.clamp_delay(self.est.target_ns()),
        }
    }

    /// `ns` within the delay range (`delay_range.0 <= delay_range.1` by construction; unlike
    /// `Ord::clamp`, this has no assertion to check it on every frame).
    #[inline]
    fn clamp_delay(&self, ns: i64) -> i64 {
        ns.max(self.delay_range.0).min(self.delay_range.1)
    }
}
