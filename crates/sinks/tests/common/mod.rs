//! Helpers shared by the integration tests: FFmpeg detection, temp dirs, test media, analysis.
#![allow(dead_code, unreachable_pub, reason = "each test binary uses a subset")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether ffmpeg and ffprobe run.
pub fn ffmpeg_available() -> bool {
    ["ffmpeg", "ffprobe"]
        .iter()
        .all(|p| Command::new(p).arg("-version").output().is_ok_and(|o| o.status.success()))
}

/// Returns early (passing) with a printed reason when FFmpeg is absent.
#[macro_export]
macro_rules! require_ffmpeg {
    () => {
        if !common::ffmpeg_available() {
            eprintln!("skipped: ffmpeg/ffprobe not found on PATH");
            return;
        }
    };
}

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "voxwire-sinks-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `secs` of a `freq` Hz sine (lavfi) to `path`, stereo, with extra output options
/// (codec, rate). The format follows the extension.
pub fn sine(path: &Path, freq: u32, secs: f64, rate: u32, extra: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency={freq}:sample_rate={rate}:duration={secs}"))
        .args(["-ac", "2"])
        .args(extra)
        .arg(path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg failed to generate {}", path.display());
}

/// Frequency of the left channel estimated from zero crossings.
pub fn tone_hz(interleaved: &[i16]) -> f64 {
    let left: Vec<i16> = interleaved.iter().step_by(2).copied().collect();
    let crossings = left.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (left.len() as f64 / 48_000.0)
}

/// Root mean square of the samples.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// Power of `freq` in the left channel (Goertzel), normalised by length.
pub fn goertzel(interleaved: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 48_000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut n = 0usize;
    for &x in interleaved.iter().step_by(2) {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
        n += 1;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2).sqrt() / n.max(1) as f64
}

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
use voxwire_sinks::MediaPacket;
use voxwire_sources::ffmpeg::{FfmpegOpusSource, FfmpegSourceConfig, OpusMode};
use voxwire_sources::{AudioFrame, AudioRead, MediaSource, WavSource};

/// Opus packets (20 ms each) of a `freq` Hz tone, encoded by FFmpeg from a lavfi sine.
pub fn opus_tone(dir: &TempDir, freq: u32, secs: f64) -> Vec<Bytes> {
    let path = dir.join(&format!("tone-{freq}-{secs}.wav"));
    sine(&path, freq, secs, 48_000, &[]);
    let mut src =
        FfmpegOpusSource::new(path.as_path(), &FfmpegSourceConfig::default(), OpusMode::Encode)
            .unwrap();
    let mut frame = AudioFrame::new();
    let mut out = Vec::new();
    while src.read_audio(&mut frame).unwrap() == AudioRead::Frame {
        out.push(Bytes::copy_from_slice(frame.opus()));
    }
    out
}

/// PCM of a WAV file written by a sink (through the crate's own WAV reader).
pub fn read_wav(path: &Path) -> Vec<i16> {
    let mut src = WavSource::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut frame = AudioFrame::new();
    let mut out = Vec::new();
    while src.read_audio(&mut frame).unwrap() == AudioRead::Frame {
        out.extend_from_slice(frame.pcm());
    }
    // The reader pads the last frame; the sinks write whole frames, so nothing to trim.
    out
}

/// (duration s, sample rate, channels, codec) of the first audio stream, by ffprobe.
pub fn probe(path: &Path) -> (f64, u32, u32, String) {
    let info = voxwire_ffmpeg::probe(&voxwire_ffmpeg::ToolsConfig::default(), path.into()).unwrap();
    let a = info.audio().expect("an audio stream").clone();
    (
        info.duration().map_or(0.0, |d| d.as_secs_f64()),
        a.sample_rate.unwrap_or(0),
        a.channels.unwrap_or(0),
        a.codec_name.unwrap_or_default(),
    )
}

/// An Opus packet record as the receive path would hand it over.
pub fn packet(ssrc: u32, seq: u16, ts: u32, at: Instant, payload: Bytes) -> MediaPacket {
    MediaPacket::opus(Ssrc(ssrc), SeqNo(seq), RtpTimestamp(ts), at, payload)
}

/// `t0 + i * 20 ms`.
pub fn tick(t0: Instant, i: usize) -> Instant {
    t0 + Duration::from_millis(20 * i as u64)
}

/// 20 ms of constant PCM.
pub fn pcm_frame(v: i16) -> Arc<[i16]> {
    Arc::from(vec![v; 1920])
}
