//! Opus to PCM, with loss concealment and one-packet FEC recovery.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::{Duration, Instant};

use audiopus::coder::Decoder;
use audiopus::packet::Packet;
use audiopus::{Channels, MutSignals, SampleRate};
use voxwire_rtp::{SeqNo, Ssrc};

use crate::error::Errors;
use crate::sink::forward;
use crate::{Codec, Concealment, Error, MediaPacket, MediaType, Sink};

/// Samples per channel of the 20 ms frames Discord sends.
const FRAME: usize = 960;
/// Most samples per channel one Opus packet can decode to (120 ms).
const MAX_FRAME: usize = 5760;
/// Longest run of missing packets concealed from a sequence gap; longer gaps are left to
/// [`SilenceFill`](crate::SilenceFill).
const MAX_CONCEALED: u16 = 5;

/// Settings of a [`DecodeSink`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeConfig {
    /// Recover a single lost packet from the in-band FEC of the next one (delays output of a lost
    /// frame until the next packet arrives, at most `fec_wait`). Default on.
    pub fec: bool,
    /// How long a lost frame waits for its successor before it is concealed with PLC instead.
    /// Default 60 ms.
    pub fec_wait: Duration,
    /// Conceal short sequence gaps (up to 5 packets) that arrive without explicit lost markers.
    /// Default on.
    pub conceal_gaps: bool,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self { fec: true, fec_wait: Duration::from_millis(60), conceal_gaps: true }
    }
}

struct Stream {
    decoder: Decoder,
    last_seq: Option<SeqNo>,
    pending_lost: Option<MediaPacket>,
}

/// Decodes Opus packets to PCM (one libopus decoder per SSRC) and forwards [`Codec::Pcm`]
/// packets to its child; Opus packets are also forwarded as they are to a child that wants Opus.
///
/// Loss handling, for packets marked [`MediaPacket::lost`] (from the jitter buffer) or, with
/// [`DecodeConfig::conceal_gaps`], for short sequence gaps:
/// - with FEC on, a single lost packet is held until the next packet arrives; if that is its
///   immediate successor, the lost frame is decoded from the successor's in-band FEC data
///   ([`Concealment::Fec`]), else (or after [`DecodeConfig::fec_wait`]) concealed by PLC;
/// - otherwise each lost frame is concealed by PLC ([`Concealment::Plc`]).
///
/// Concealed packets keep `lost = true`, carry PCM, and keep their sequence and timestamp, so the
/// timeline stays continuous.
pub struct DecodeSink {
    child: Box<dyn Sink>,
    config: DecodeConfig,
    streams: HashMap<Ssrc, Stream>,
    pcm: Box<[i16]>,
    closed: bool,
}

impl std::fmt::Debug for DecodeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeSink")
            .field("config", &self.config)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl DecodeSink {
    /// Decodes for `child`.
    pub fn new(child: impl Sink + 'static, config: DecodeConfig) -> Self {
        Self {
            child: Box::new(child),
            config,
            streams: HashMap::new(),
            pcm: vec![0; MAX_FRAME * 2].into_boxed_slice(),
            closed: false,
        }
    }

    fn stream(&mut self, ssrc: Ssrc) -> Result<&mut Stream, Error> {
        match self.streams.entry(ssrc) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => {
                let decoder = Decoder::new(SampleRate::Hz48000, Channels::Stereo)
                    .map_err(|source| Error::Opus { ssrc: ssrc.0, source })?;
                Ok(v.insert(Stream { decoder, last_seq: None, pending_lost: None }))
            }
        }
    }

    /// Decodes `input` (None: PLC) into a PCM packet modelled on `template` and forwards it.
    fn emit(
        &mut self,
        template: &MediaPacket,
        input: Option<&[u8]>,
        fec: bool,
        concealment: Option<Concealment>,
    ) -> Result<(), Error> {
        let ssrc = template.ssrc;
        let frame = if input.is_none() || fec { FRAME * 2 } else { MAX_FRAME * 2 };
        let Self { streams, pcm, child, .. } = self;
        let Some(stream) = streams.get_mut(&ssrc) else { return Ok(()) };
        let packet = match input {
            Some(bytes) => Some(
                Packet::try_from(bytes).map_err(|source| Error::Opus { ssrc: ssrc.0, source })?,
            ),
            None => None,
        };
        let out = MutSignals::try_from(&mut pcm[..frame])
            .map_err(|source| Error::Opus { ssrc: ssrc.0, source })?;
        let n = match stream.decoder.decode(packet, out, fec) {
            Ok(n) => n,
            // A corrupt packet from the network is concealed, not fatal.
            Err(_) if input.is_some() && !fec => {
                let out = MutSignals::try_from(&mut pcm[..FRAME * 2])
                    .map_err(|source| Error::Opus { ssrc: ssrc.0, source })?;
                stream
                    .decoder
                    .decode(None, out, false)
                    .map_err(|source| Error::Opus { ssrc: ssrc.0, source })?
            }
            Err(source) => return Err(Error::Opus { ssrc: ssrc.0, source }),
        };
        let samples: Arc<[i16]> = Arc::from(pcm.get(..n * 2).unwrap_or_default());
        let out =
            MediaPacket { codec: Codec::Pcm, pcm: Some(samples), concealment, ..template.clone() };
        forward(child.as_mut(), &out)
    }

    fn conceal_pending(&mut self, ssrc: Ssrc) -> Result<(), Error> {
        let pending = self.streams.get_mut(&ssrc).and_then(|s| s.pending_lost.take());
        match pending {
            Some(p) => self.emit(&p, None, false, Some(Concealment::Plc)),
            None => Ok(()),
        }
    }

    fn decode(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        let fec = self.config.fec;
        let ssrc = packet.ssrc;
        let stream = self.stream(ssrc)?;
        let last = stream.last_seq.replace(packet.sequence);
        let pending = stream.pending_lost.take();
        if packet.lost {
            if let Some(p) = pending {
                self.emit(&p, None, false, Some(Concealment::Plc))?;
            }
            if fec {
                if let Some(s) = self.streams.get_mut(&ssrc) {
                    s.pending_lost = Some(packet.clone());
                }
                return Ok(());
            }
            return self.emit(packet, None, false, Some(Concealment::Plc));
        }
        if let Some(p) = pending {
            if fec && packet.sequence == p.sequence.wrapping_add(1) {
                self.emit(&p, Some(&packet.payload), true, Some(Concealment::Fec))?;
            } else {
                self.emit(&p, None, false, Some(Concealment::Plc))?;
            }
        } else if let Some(last) = last.filter(|_| self.config.conceal_gaps) {
            let gap = last.forward_distance(packet.sequence);
            if (2..=MAX_CONCEALED + 1).contains(&gap) {
                for k in 1..gap {
                    let seq = last.wrapping_add(k);
                    let ts = packet.timestamp.wrapping_sub(u32::from(gap - k) * FRAME as u32);
                    let missing = MediaPacket {
                        sequence: seq,
                        timestamp: ts,
                        payload: bytes::Bytes::new(),
                        lost: true,
                        ..packet.clone()
                    };
                    if fec && k == gap - 1 {
                        self.emit(&missing, Some(&packet.payload), true, Some(Concealment::Fec))?;
                    } else {
                        self.emit(&missing, None, false, Some(Concealment::Plc))?;
                    }
                }
            }
        }
        self.emit(packet, Some(&packet.payload), false, None)
    }
}

impl Sink for DecodeSink {
    fn name(&self) -> &'static str {
        "opus-decode"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        if self.closed {
            return false;
        }
        match codec {
            Codec::Opus => {
                self.child.wants(media, Codec::Pcm) || self.child.wants(media, Codec::Opus)
            }
            other => self.child.wants(media, other),
        }
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed("opus-decode"));
        }
        if packet.codec != Codec::Opus {
            return forward(self.child.as_mut(), packet);
        }
        let opus = forward(self.child.as_mut(), packet);
        if self.child.wants(MediaType::Audio, Codec::Pcm) {
            self.decode(packet)?;
        }
        opus
    }
    fn tick(&mut self, now: Instant) -> Result<(), Error> {
        let wait = self.config.fec_wait;
        let overdue: Vec<Ssrc> = self
            .streams
            .iter()
            .filter(|(_, s)| {
                s.pending_lost
                    .as_ref()
                    .is_some_and(|p| now.saturating_duration_since(p.received_at) >= wait)
            })
            .map(|(k, _)| *k)
            .collect();
        let mut errors = Errors::default();
        for ssrc in overdue {
            errors.push(self.conceal_pending(ssrc));
        }
        errors.push(self.child.tick(now));
        errors.into_result()
    }
    fn for_each_child(&self, f: &mut dyn FnMut(&dyn Sink)) {
        f(self.child.as_ref());
    }
    fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut dyn Sink)) {
        f(self.child.as_mut());
    }
    fn finish(&mut self) -> Result<(), Error> {
        let mut errors = Errors::default();
        if !self.closed {
            let ssrcs: Vec<Ssrc> = self.streams.keys().copied().collect();
            for ssrc in ssrcs {
                errors.push(self.conceal_pending(ssrc));
            }
        }
        self.closed = true;
        errors.into_result()
    }
    fn is_closed(&self) -> bool {
        self.closed
    }
}
