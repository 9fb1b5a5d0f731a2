//! Helpers shared by the integration tests: FFmpeg detection, temp dirs, test media, analysis
//! (from voxwire-testkit), and the sinks' own: Opus tones, WAV reading, probing, packet records.
#![allow(dead_code, unreachable_pub, unused_imports, reason = "each test binary uses a subset")]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
use voxwire_sinks::MediaPacket;
use voxwire_sources::ffmpeg::{FfmpegOpusSource, FfmpegSourceConfig, OpusMode};
use voxwire_sources::{AudioFrame, AudioRead, MediaSource, WavSource};
pub use voxwire_testkit::{TempDir, ffmpeg_available, goertzel, rms, sine, tone_hz};

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
