//! What voxwire plays: sources of 20 ms audio frames (PCM or Opus) and, optionally, encoded
//! video frames.
//!
//! # Model
//!
//! Every source implements [`MediaSource`]. Its audio lane yields one frame per 20 ms tick into
//! a caller-owned [`AudioFrame`]: either 48 kHz stereo signed 16-bit PCM ([`FRAME_LEN`]
//! interleaved samples, [`FRAME_SAMPLES`] per channel) or one Opus packet (RFC 6716, RFC 7587
//! payload) that the sender forwards without re-encoding. The encoding is fixed per source
//! ([`MediaSource::audio_kind`]). A video lane ([`MediaSource::has_video`],
//! [`MediaSource::read_video`]) carries already-encoded frames, so audio and video share one
//! source type and a player needs one code path.
//!
//! # Call order
//!
//! `audio_kind()` once; then per tick `read_audio(&mut frame)` (and `read_video()` when video is
//! sent) until [`AudioRead::End`] / [`MediaSource::is_finished`]; then `cleanup()`. Dropping a
//! source also releases everything (an FFmpeg child is killed); `cleanup` reports failures.
//!
//! # Sources
//!
//! | type | plays |
//! | --- | --- |
//! | [`PcmSource`] | raw s16le PCM from any `Read` |
//! | [`WavSource`] | a 48 kHz stereo 16-bit WAV stream, without FFmpeg |
//! | [`PcmFrames`], [`OpusFrames`] | frames from an iterator |
//! | [`ffmpeg::FfmpegPcmSource`], [`ffmpeg::FfmpegOpusSource`] | anything FFmpeg reads; Opus input is copied, not re-encoded, after probing |
//! | [`MixSource`] | the sum of any number of PCM sources (a sole Opus source passes through) |
//! | [`CompositeSource`] | audio from one source, video from another |
//! | [`Volume`] | a PCM source scaled by a [`VolumeHandle`] any thread can change |
//!
//! Mixing and volume share [`dsp`]: 32-bit sums and a soft clipper (identity up to
//! [`dsp::SOFT_CLIP_KNEE`]) instead of hard clipping, and linear gain ramps over one frame.
//!
//! ```
//! use voxwire_sources::{AudioFrame, AudioRead, MediaSource, MixSource, PcmSource, Volume};
//! // Two raw PCM inputs (any `Read`): 1.5 frames of a constant and 1 frame of another.
//! let a: Vec<u8> = std::iter::repeat(1000i16.to_le_bytes()).take(2880).flatten().collect();
//! let b: Vec<u8> = std::iter::repeat(500i16.to_le_bytes()).take(1920).flatten().collect();
//! let mix = MixSource::new(vec![
//!     Box::new(PcmSource::new(std::io::Cursor::new(a))),
//!     Box::new(PcmSource::new(std::io::Cursor::new(b))),
//! ])?;
//! let mut player = Volume::new(mix, 0.5)?;
//! let mut frame = AudioFrame::new();
//! let mut peaks = Vec::new();
//! while player.read_audio(&mut frame)? == AudioRead::Frame {
//!     peaks.push(frame.pcm()[0]);
//! }
//! assert_eq!(peaks, [750, 500]);
//! player.cleanup()?;
//! # Ok::<(), voxwire_sources::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod composite;
pub mod dsp;
mod error;
pub mod ffmpeg;
mod frame;
mod mix;
mod pcm;
mod source;
mod volume;
pub mod wav;

pub use composite::CompositeSource;
pub use dsp::VolumeHandle;
pub use error::Error;
pub use frame::{
    AudioData, AudioFrame, AudioKind, AudioRead, VideoCodec, VideoConfig, VideoFrame, VideoRead,
};
pub use mix::MixSource;
pub use pcm::{OpusFrames, PcmFrames, PcmSource};
pub use source::MediaSource;
pub use volume::Volume;
pub use wav::WavSource;

/// Sample rate of every PCM frame.
pub const SAMPLE_RATE: u32 = 48_000;
/// Channels of every PCM frame (interleaved left, right).
pub const CHANNELS: usize = 2;
/// Samples per channel in one 20 ms frame.
pub const FRAME_SAMPLES: usize = 960;
/// Interleaved samples in one 20 ms frame.
pub const FRAME_LEN: usize = FRAME_SAMPLES * CHANNELS;
/// Bytes in one 20 ms s16le frame.
pub const FRAME_BYTES: usize = FRAME_LEN * 2;
/// Duration of one frame.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);
/// Largest Opus packet accepted (RFC 6716 allows 1275 bytes per frame, up to 3 frames in 20 ms
/// with code 3 packing plus headers).
pub const MAX_OPUS_PACKET: usize = 4000;
