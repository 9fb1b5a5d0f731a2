//! Everyone mixed into one WAV file, aligned on the RTP timeline.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use voxwire_rtp::{RtpTimestamp, Ssrc};
use voxwire_sources::dsp::soft_clip;

use crate::wav::{WavConfig, WavWriter};
use crate::{Codec, Error, MediaPacket, MediaType, Sink, UserId};

const RATE: u64 = 48_000;

/// Settings of a [`MixedWavSink`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixedWavConfig {
    /// Record only these users (packets of unmapped SSRCs are then skipped); `None` records all.
    pub users: Option<HashSet<UserId>>,
    /// How long audio stays in the mix buffer before it is written, so late packets of one user
    /// still land next to the others. Default 200 ms.
    pub latency: Duration,
    /// A stream whose RTP position drifts from its arrival time by more than this is re-anchored
    /// (the sender restarted or jumped its clock). Default 2 s.
    pub resync_after: Duration,
    /// Header patching.
    pub wav: WavConfig,
}

impl Default for MixedWavConfig {
    fn default() -> Self {
        Self {
            users: None,
            latency: Duration::from_millis(200),
            resync_after: Duration::from_secs(2),
            wav: WavConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    ts: RtpTimestamp,
    pos: i64,
}

/// Mixes the decoded PCM of every stream into one WAV file, each packet placed on the output
/// timeline by its RTP timestamp.
///
/// Each SSRC is anchored once: its first packet goes where its arrival time falls (relative to
/// the first packet of the recording), every later packet at `anchor + (timestamp - first
/// timestamp)`. So jitter and reordering do not move audio, a speaker's pauses stay pauses, and
/// two users who spoke at the same moment are at the same place in the file. The sum is
/// soft-clipped. Gaps with nobody speaking are written as silence as the timeline advances (on
/// packets and on [`Sink::tick`]).
#[derive(Debug)]
pub struct MixedWavSink {
    writer: Option<WavWriter<BufWriter<File>>>,
    path: PathBuf,
    config: MixedWavConfig,
    start: Option<Instant>,
    anchors: HashMap<Ssrc, Anchor>,
    /// Accumulated interleaved samples from frame `base` on.
    acc: VecDeque<i32>,
    base: i64,
    latest: i64,
    out: Vec<i16>,
}

fn frames_of(d: Duration) -> i64 {
    i64::try_from(d.as_nanos() * u128::from(RATE) / 1_000_000_000).unwrap_or(i64::MAX)
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Longest stretch held in memory before it is written regardless of latency (60 s).
const MAX_BUFFERED: i64 = 60 * 48_000;

impl MixedWavSink {
    /// Creates (truncates) the file at `path`.
    pub fn create(path: impl AsRef<Path>, config: MixedWavConfig) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let file =
            File::create(&path).map_err(|source| Error::File { path: path.clone(), source })?;
        let writer = WavWriter::new(
            BufWriter::with_capacity(64 * 1024, file),
            config.wav.patch_interval_frames,
        )
        .map_err(|source| Error::File { path: path.clone(), source })?;
        Ok(Self {
            writer: Some(writer),
            path,
            config,
            start: None,
            anchors: HashMap::new(),
            acc: VecDeque::new(),
            base: 0,
            latest: 0,
            out: Vec::with_capacity(2 * 4800),
        })
    }

    fn file_err(&self, source: std::io::Error) -> Error {
        Error::File { path: self.path.clone(), source }
    }

    /// Writes everything before frame `until`.
    fn flush_until(&mut self, until: i64) -> Result<(), Error> {
        let Some(writer) = self.writer.as_mut() else { return Ok(()) };
        while self.base < until {
            let n = (until - self.base).min(4800);
            let from_acc = usize::try_from(n).unwrap_or(0).min(self.acc.len() / 2);
            self.out.clear();
            self.out.extend(self.acc.drain(..from_acc * 2).map(soft_clip));
            let r = writer
                .write(&self.out)
                .and_then(|()| writer.write_silence(n.unsigned_abs() - from_acc as u64));
            if let Err(e) = r {
                return Err(Error::File { path: self.path.clone(), source: e });
            }
            self.base += n;
        }
        Ok(())
    }
}

impl Sink for MixedWavSink {
    fn name(&self) -> &'static str {
        "mixed-wav"
    }
    fn wants(&self, media: MediaType, codec: Codec) -> bool {
        self.writer.is_some() && media == MediaType::Audio && codec == Codec::Pcm
    }
    fn write(&mut self, packet: &MediaPacket) -> Result<(), Error> {
        if self.writer.is_none() {
            return Err(Error::Closed("mixed-wav"));
        }
        let Some(pcm) = &packet.pcm else { return Ok(()) };
        if let Some(users) = &self.config.users
            && !packet.user_id.is_some_and(|u| users.contains(&u))
        {
            return Ok(());
        }
        let start = *self.start.get_or_insert(packet.received_at);
        let arrival = frames_of(packet.received_at.saturating_duration_since(start)).max(self.base);
        let anchor = *self
            .anchors
            .entry(packet.ssrc)
            .or_insert(Anchor { ts: packet.timestamp, pos: arrival });
        let mut pos = anchor.pos + i64::from(packet.timestamp.diff(anchor.ts));
        if (pos - arrival).abs() > frames_of(self.config.resync_after) {
            self.anchors.insert(packet.ssrc, Anchor { ts: packet.timestamp, pos: arrival });
            pos = arrival;
        }
        let frames = len_i64(pcm.len() / 2);
        let end = pos + frames;
        if end > self.base + MAX_BUFFERED {
            self.flush_until(end - MAX_BUFFERED)?;
        }
        let skip = (self.base - pos).max(0);
        if skip < frames {
            let offset = usize::try_from((pos + skip - self.base) * 2).unwrap_or(0);
            let samples = pcm.get(usize::try_from(skip * 2).unwrap_or(0)..).unwrap_or_default();
            let needed = offset + samples.len();
            if self.acc.len() < needed {
                self.acc.resize(needed, 0);
            }
            for (a, &s) in self.acc.range_mut(offset..).zip(samples) {
                *a += i32::from(s);
            }
        }
        self.latest = self.latest.max(end);
        self.flush_until(self.latest - frames_of(self.config.latency))
    }
    fn tick(&mut self, now: Instant) -> Result<(), Error> {
        let Some(start) = self.start else { return Ok(()) };
        let now_pos = frames_of(now.saturating_duration_since(start));
        self.latest = self.latest.max(now_pos);
        self.flush_until(now_pos - frames_of(self.config.latency))
    }
    fn finish(&mut self) -> Result<(), Error> {
        let end = self.base + len_i64(self.acc.len() / 2);
        let flushed = self.flush_until(end);
        let patched = match self.writer.take() {
            Some(mut w) => w.patch().map_err(|e| self.file_err(e)),
            None => Ok(()),
        };
        flushed.and(patched)
    }
    fn is_closed(&self) -> bool {
        self.writer.is_none()
    }
}

impl Drop for MixedWavSink {
    fn drop(&mut self) {
        if let Some(w) = self.writer.as_mut() {
            let _ = w.patch();
        }
    }
}
