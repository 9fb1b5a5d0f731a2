//! The video receive side: frame assembly, NACK, RTX repair and keyframe requests.
#![expect(
    clippy::cast_possible_wrap,
    reason = "ring sizes, window lengths and counts here are at most 2^16"
)]

use std::time::{Duration, Instant};

use voxwire_rtp::{ExtendedSeq, RtpTimestamp, SeqNo};

use crate::nack::{NackConfig, NackStats, NackTracker};
use crate::rtx::parse_rtx_payload;
use crate::{Error, PushOutcome};

/// One received video packet, as the caller hands it in (after transport decryption).
///
/// The codec hints come from the caller's depacketizer (for example H264 FU-A start bit and NAL
/// type, VP8 S bit and P bit), so this crate does not depend on the codecs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoPacket<'a> {
    /// RTP sequence number (for RTX: the RTX stream's own, ignored by
    /// [`VideoReceiver::push_rtx`]).
    pub seq: SeqNo,
    /// RTP timestamp: every packet of a frame has the same one.
    pub timestamp: RtpTimestamp,
    /// RTP marker bit: set on the last packet of a frame.
    pub marker: bool,
    /// The packet carries the start of a frame.
    pub frame_start: bool,
    /// The frame is a keyframe (decodable alone).
    pub keyframe: bool,
    /// The RTP payload.
    pub payload: &'a [u8],
}

/// Configuration of a [`VideoReceiver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoReceiverConfig {
    /// Packets held (rounded up to a power of two, 16..=32768).
    pub capacity: usize,
    /// Largest payload accepted.
    pub max_payload: usize,
    /// NACK schedule.
    pub nack: NackConfig,
    /// Shortest time between two keyframe requests.
    pub pli_interval: Duration,
}

impl Default for VideoReceiverConfig {
    fn default() -> Self {
        Self {
            capacity: 1024,
            max_payload: 1500,
            nack: NackConfig::default(),
            pli_interval: Duration::from_millis(500),
        }
    }
}

/// Feedback the receiver wants sent to the media sender (as RTCP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Feedback<'a> {
    /// Generic NACK (RFC 4585 section 6.2.1) for these sequence numbers, in increasing order.
    Nack(&'a [SeqNo]),
    /// Picture Loss Indication (RFC 4585 section 6.3.1): a frame cannot be completed.
    Pli,
}

/// Counters of a [`VideoReceiver`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VideoStats {
    /// Frames completed and returned.
    pub frames: u64,
    /// Of those, keyframes.
    pub keyframes: u64,
    /// Frames dropped because an earlier frame was lost (waiting for a keyframe).
    pub frames_dropped: u64,
    /// Keyframe requests made.
    pub plis: u64,
    /// Packets restored from RTX.
    pub rtx_restored: u64,
    /// Duplicate packets ignored.
    pub duplicates: u64,
    /// NACK counters.
    pub nack: NackStats,
}

#[derive(Clone, Debug)]
#[expect(clippy::struct_excessive_bools, reason = "the RTP marker and the codec hints of a packet")]
struct Slot {
    ext: i64,
    present: bool,
    ts: RtpTimestamp,
    marker: bool,
    frame_start: bool,
    keyframe: bool,
    payload: Vec<u8>,
}

/// A complete frame: its packets' payloads in order, ready for the codec's depacketizer.
#[derive(Clone, Copy, Debug)]
pub struct VideoFrame<'a> {
    /// RTP timestamp.
    pub timestamp: RtpTimestamp,
    /// Whether it is a keyframe.
    pub keyframe: bool,
    /// Sequence number of its first packet.
    pub first_seq: SeqNo,
    /// Number of packets.
    pub packet_count: usize,
    slots: &'a [Slot],
    first: i64,
}

impl<'a> VideoFrame<'a> {
    /// The packets' payloads, in sequence order.
    pub fn payloads(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (slots, first, n) = (self.slots, self.first, self.packet_count);
        (first..first + n as i64).map(move |e| slots[at(slots.len(), e)].payload.as_slice())
    }

    /// Total payload bytes.
    pub fn len(&self) -> usize {
        self.payloads().map(<[u8]>::len).sum()
    }

    /// Whether the frame has no payload bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[expect(clippy::cast_sign_loss, reason = "masked to 0..len, so never negative")]
fn at(len: usize, ext: i64) -> usize {
    (ext & (len as i64 - 1)) as usize
}

/// Per-SSRC video receiver: assembles frames from packets (by timestamp and marker), NACKs
/// missing packets on a retry schedule, restores RTX packets (RFC 4588) to their original
/// sequence number, and asks for a keyframe when a frame cannot be completed.
///
/// Call order: [`Self::push`] / [`Self::push_rtx`] for each packet; then drain
/// [`Self::poll_frame`] and [`Self::poll_feedback`] until `None`; come back at
/// [`Self::poll_timeout`]. Frames come out complete and in order; after a loss that
/// retransmission could not repair, delta frames are dropped until the next keyframe.
#[derive(Clone, Debug)]
pub struct VideoReceiver {
    config: VideoReceiverConfig,
    slots: Box<[Slot]>,
    nack: NackTracker,
    /// First packet of the next frame to return; `None` while waiting for a keyframe start.
    next: Option<i64>,
    /// Lowest sequence number still held.
    low: Option<i64>,
    /// Everything before this was returned or dropped: later arrivals there are late.
    floor: Option<i64>,
    highest: Option<i64>,
    pli_pending: bool,
    last_pli: Option<Instant>,
    nack_buf: Vec<SeqNo>,
    stats: VideoStats,
}

impl VideoReceiver {
    /// A receiver with this configuration.
    pub fn new(config: VideoReceiverConfig) -> Self {
        let cap = config.capacity.clamp(16, 1 << 15).next_power_of_two();
        let slots = (0..cap)
            .map(|_| Slot {
                ext: i64::MIN,
                present: false,
                ts: RtpTimestamp(0),
                marker: false,
                frame_start: false,
                keyframe: false,
                payload: Vec::new(),
            })
            .collect();
        Self {
            config,
            slots,
            nack: NackTracker::new(config.nack),
            next: None,
            low: None,
            floor: None,
            highest: None,
            pli_pending: false,
            last_pli: None,
            nack_buf: Vec::with_capacity(config.nack.max_outstanding.min(1 << 15)),
            stats: VideoStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> VideoStats {
        VideoStats { nack: self.nack.stats(), ..self.stats }
    }

    /// Bytes of payload storage allocated (bounded by `capacity * max_payload`).
    pub fn payload_bytes_allocated(&self) -> usize {
        self.slots.iter().map(|s| s.payload.capacity()).sum()
    }

    /// Takes in an RTX packet whose payload is `OSN || original payload`: restores the
    /// original sequence number and handles it as the original. The timestamp and marker of an
    /// RTX packet are the original's; the codec hints describe the original payload.
    pub fn push_rtx(&mut self, rtx: &VideoPacket<'_>, now: Instant) -> Result<PushOutcome, Error> {
        let (osn, payload) = parse_rtx_payload(rtx.payload)?;
        let original = VideoPacket { seq: osn, payload, ..*rtx };
        let outcome = self.push(&original, now);
        if outcome == PushOutcome::Buffered {
            self.stats.rtx_restored += 1;
        }
        Ok(outcome)
    }

    /// Takes in one media packet that arrived at `now`.
    pub fn push(&mut self, pkt: &VideoPacket<'_>, now: Instant) -> PushOutcome {
        if pkt.payload.len() > self.config.max_payload {
            return PushOutcome::Rejected;
        }
        let ext = self.nack.unwrap(pkt.seq);
        let cap = self.slots.len() as i64;
        if self.floor.is_some_and(|floor| ext < floor) {
            return PushOutcome::Late;
        }
        let mut outcome = PushOutcome::Buffered;
        if let Some(low) = self.low
            && ext - low >= cap
        {
            // Too far ahead to hold with what is pending: give up on the oldest frames.
            self.drop_until(ext - cap + 1, now);
            outcome = PushOutcome::Restarted;
        }
        let i = at(self.slots.len(), ext);
        let slot = &mut self.slots[i];
        if slot.present && slot.ext == ext {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        slot.ext = ext;
        slot.present = true;
        slot.ts = pkt.timestamp;
        slot.marker = pkt.marker;
        slot.frame_start = pkt.frame_start;
        slot.keyframe = pkt.keyframe;
        crate::fill(&mut slot.payload, pkt.payload);
        self.low = Some(self.low.map_or(ext, |l| l.min(ext)));
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.nack.on_ext(ext, now);
        if self.nack.take_overflow() {
            self.request_keyframe(now);
        }
        if self.next.is_none() && pkt.frame_start && !pkt.keyframe {
            // Joined mid-stream or lost sync: a delta frame cannot be decoded.
            self.request_keyframe(now);
        }
        outcome
    }

    /// Releases everything before `until` and waits for a keyframe.
    fn drop_until(&mut self, until: i64, now: Instant) {
        if let Some(low) = self.low {
            for e in low..until.min(low + self.slots.len() as i64) {
                let i = at(self.slots.len(), e);
                if self.slots[i].ext == e {
                    self.slots[i].present = false;
                }
            }
        }
        self.low = Some(until);
        self.floor = Some(until);
        self.nack.forget_before(until);
        self.next = None;
        self.request_keyframe(now);
    }

    fn request_keyframe(&mut self, now: Instant) {
        self.next = None;
        if self
            .last_pli
            .is_none_or(|t| now.saturating_duration_since(t) >= self.config.pli_interval)
        {
            self.pli_pending = true;
        }
    }

    fn slot(&self, e: i64) -> Option<&Slot> {
        let s = &self.slots[at(self.slots.len(), e)];
        (s.present && s.ext == e).then_some(s)
    }

    /// The next complete frame, in order.
    pub fn poll_frame(&mut self, now: Instant) -> Option<VideoFrame<'_>> {
        loop {
            let (low, highest) = (self.low?, self.highest?);
            let start = if let Some(n) = self.next {
                n
            } else {
                // Waiting for a keyframe: find the start of one.
                let k = (low..=highest)
                    .find(|e| self.slot(*e).is_some_and(|s| s.keyframe && s.frame_start))?;
                if k > low {
                    self.release(low, k);
                }
                self.next = Some(k);
                k
            };
            // Walk the frame that starts at `start`.
            let first = self.slot(start).map(|s| s.ts);
            let mut e = start;
            let end = loop {
                if e > highest {
                    return None; // not complete yet
                }
                match self.slot(e) {
                    Some(s) if Some(s.ts) == first => {
                        if s.marker {
                            break Some(e);
                        }
                        e += 1;
                    }
                    // The next frame started without a marker on this one: it ended at e - 1.
                    Some(_) if e > start => break Some(e - 1),
                    _ => {
                        if self.nack.is_pending(e) {
                            return None; // still being repaired
                        }
                        break None;
                    }
                }
            };
            let Some(end) = end else {
                // A packet of this frame is lost for good.
                self.drop_until(e + 1, now);
                continue;
            };
            let first_slot = &self.slots[at(self.slots.len(), start)];
            let keyframe = first_slot.keyframe;
            let ts = first_slot.ts;
            let count = usize::try_from(end - start + 1).unwrap_or(0);
            self.next = Some(end + 1);
            self.low = Some(end + 1);
            self.floor = Some(end + 1);
            self.nack.forget_before(end + 1);
            for e in start..=end {
                let i = at(self.slots.len(), e);
                self.slots[i].present = false; // released; payload stays readable until reused
            }
            self.stats.frames += 1;
            self.stats.keyframes += u64::from(keyframe);
            return Some(VideoFrame {
                timestamp: ts,
                keyframe,
                first_seq: ExtendedSeq(start).wire(),
                packet_count: count,
                slots: &self.slots,
                first: start,
            });
        }
    }

    fn release(&mut self, from: i64, to: i64) {
        let mut dropped_ts = None;
        for e in from..to {
            let i = at(self.slots.len(), e);
            if self.slots[i].ext == e && self.slots[i].present {
                self.slots[i].present = false;
                if dropped_ts != Some(self.slots[i].ts) {
                    dropped_ts = Some(self.slots[i].ts);
                    self.stats.frames_dropped += 1;
                }
            }
        }
        self.low = Some(to);
        self.floor = Some(to);
        self.nack.forget_before(to);
    }

    /// Feedback to send now: a keyframe request, or a NACK batch.
    pub fn poll_feedback(&mut self, now: Instant) -> Option<Feedback<'_>> {
        if self.pli_pending {
            self.pli_pending = false;
            self.last_pli = Some(now);
            self.stats.plis += 1;
            return Some(Feedback::Pli);
        }
        self.nack_buf.clear();
        if self.nack.poll_nacks(now, &mut self.nack_buf) > 0 {
            return Some(Feedback::Nack(&self.nack_buf));
        }
        None
    }

    /// When to call [`Self::poll_feedback`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.nack.poll_timeout()
    }
}
