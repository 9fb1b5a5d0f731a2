//! Silence for gaps, so PCM consumers see a continuous timeline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use voxwire_rtp::{RtpTimestamp, Ssrc};

use crate::error::Errors;
use crate::sink::forward;
use crate::{Codec, Concealment, Error, MediaPacket, Sink};

const FRAME: u32 = 960;

/// Settings of a [`SilenceFill`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SilenceFillConfig {
    /// How long after a stream's last packet [`Sink::tick`] starts emitting silence. Default 60 ms.
    pub silence_after: Duration,
    /// Most silence emitted for one gap. Default 1 s, so a speaker who stops does not produce
    /// endless output; longer pauses are shortened to this.
    pub max_silence: Duration,
}

impl Default for SilenceFillConfig {
    fn default() -> Self {
        Self { silence_after: Duration::from_millis(60), max_silence: Duration::from_secs(1) }
    }
}

#[derive(Debug)]
struct Track {
    template: MediaPacket,
    next_ts: RtpTimestamp,
    last_at: Instant,
    emitted: u32,
}

/// Inserts 20 ms PCM silence packets ([`Concealment::Silence`], `lost = true`) into gaps of each
/// audio stream, bounded per gap by [`SilenceFillConfig::max_silence`].
///
/// Gaps are filled in two ways: when a packet arrives whose RTP timestamp jumps past the end of
/// the previous one, the gap is filled before it is forwarded (deterministic, from the RTP
/// timeline); and while a stream is quiet, [`Sink::tick`] emits silence as time passes, so a
/// live consumer does not stall. Silence emitted by ticks counts toward the gap, so the two never
/// double-fill.
#[derive(Debug)]
pub struct SilenceFill<S> {
    child: S,
    config: SilenceFillConfig,
    tracks: HashMap<Ssrc, Track>,
    silence: Arc<[i16]>,
    closed: bool,
}

impl<S: Sink> SilenceFill<S> {
    /// Fills gaps for `child`.
    pub fn new(child: S, config: SilenceFillConfig) -> Self {
        Self {
            child,
            config,
            tracks: HashMap::new(),
            silence: Arc::from(vec![0i16; FRAME as usize * 2]),
            closed: false,
        }
    }

    fn max_frames(&self) -> u32 {
        u32::try_from(self.config.max_silence.as_millis() * 48).unwrap_or(u32::MAX)
    }

    fn fill(&mut self, ssrc: Ssrc, up_to: u32, at: Instant) -> Result<(), Error> {
        let max = self.max_frames();
        let Self { tracks, child, silence, .. } = self;
        let Some(t) = tracks.get_mut(&ssrc) else { return Ok(()) };
        let mut errors = Errors::default();
        while t.emitted + FRAME <= up_to.min(max) {
            let p = MediaPacket {
                timestamp: t.next_ts,
                received_at: at,
                pcm: Some(silence.clone()),
                lost: true,
                concealment: Some(Concealment::Silence),
                ..t.template.clone()
            };
            errors.push(forward(child, &p));
            t.next_ts = t.next_ts.wrapping_add(FRAME);
            t.emitted += FRAME;
        }
        errors.into_result()
    }
}

impl<S: Sink> Sink for SilenceFill<S> {
    fn name(&self) -> &'static str {
        "silence-fill"
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("silence-fill"));
        }
        if packet.codec != Codec::Pcm {
            return forward(&mut self.child, packet);
        }
        let mut errors = Errors::default();
        if let Some(t) = self.tracks.get(&packet.ssrc) {
            let gap = packet.timestamp.diff(t.next_ts);
            if gap > 0 {
                let up_to = t.emitted + gap.unsigned_abs();
                errors.push(self.fill(packet.ssrc, up_to, packet.received_at));
            }
        }
        let frames = u32::try_from(packet.pcm_frames()).unwrap_or(u32::MAX);
        let template = MediaPacket { payload: bytes::Bytes::new(), pcm: None, ..packet.clone() };
        self.tracks.insert(
            packet.ssrc,
            Track {
                template,
                next_ts: packet.timestamp.wrapping_add(frames),
                last_at: packet.received_at,
                emitted: 0,
            },
        );
        errors.push(forward(&mut self.child, packet));
        errors.into_result()
    }
    fn tick(&mut self, now: Instant) -> Result<(), Error> {
        let after = self.config.silence_after;
        let due: Vec<(Ssrc, u32)> = self
            .tracks
            .iter()
            .filter_map(|(s, t)| {
                let quiet = now.saturating_duration_since(t.last_at);
                (quiet >= after)
                    .then(|| (*s, u32::try_from(quiet.as_millis() * 48).unwrap_or(u32::MAX)))
            })
            .collect();
        let mut errors = Errors::default();
        for (ssrc, up_to) in due {
            errors.push(self.fill(ssrc, up_to, now));
        }
        errors.push(self.child.tick(now));
        errors.into_result()
    }
    fn for_each_child(&self, f: &mut dyn FnMut(&dyn Sink)) {
        f(&self.child);
    }
    fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut dyn Sink)) {
        f(&mut self.child);
    }
    fn finish(&mut self) -> Result<(), Error> {
        self.closed = true;
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.closed
    }
}
