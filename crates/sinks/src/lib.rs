//! Where received media goes: a tree of sinks fed one [`MediaPacket`] at a time.
//!
//! # Model
//!
//! The receive path (after SRTP/transport decryption, the jitter buffer and DAVE) hands each
//! audio packet or assembled video frame to the root [`Sink`] as a [`MediaPacket`]: SSRC
//! (RFC 3550), sequence number and RTP timestamp (as `voxwire-rtp` newtypes), receive time, the
//! user id once the gateway mapped the SSRC, the codec, the Opus payload (RFC 7587) or video
//! frame, decoded PCM when present, and a `lost` flag with the kind of concealment.
//!
//! Sinks form a tree: wrappers own their child (`DecodeSink::new(child, ..)`), fan-outs and
//! per-user sinks own many. [`Sink::wants`] lets the receive path skip work nobody wants (no
//! Opus decode when no sink wants [`Codec::Pcm`], no video assembly when no sink wants video);
//! every parent forwards a packet only to children that want it.
//!
//! # Call order
//!
//! `wants(media, codec)` (cache it per codec; it changes only when the tree does), then
//! `write(&packet)` for each wanted packet, `tick(now)` every 20 ms, and `cleanup()` once at the
//! end, which finalizes the whole tree (WAV headers patched, FFmpeg waited for). All times come
//! from the caller: no sink reads a clock, so tests are deterministic.
//!
//! # Sinks
//!
//! | type | does |
//! | --- | --- |
//! | [`CallbackSink`] | calls a closure |
//! | [`queue::channel`] | bounded queue read blocking or async, drop-oldest, drop counter |
//! | [`FanOut`] | every child |
//! | [`PerUserSink`] | one child per user (or SSRC until mapped, then promoted) |
//! | [`WavSink`] | one WAV file, header patched every second |
//! | [`MixedWavSink`] | everyone in one WAV, aligned on the RTP timeline |
//! | [`FfmpegSink`] | any format FFmpeg writes (MP3, Ogg, FLAC, ...) |
//! | [`DecodeSink`] | Opus to PCM with PLC and one-packet FEC recovery |
//! | [`SilenceFill`] | bounded silence for gaps |
//! | [`VolumeSink`] | volume with a shared handle |
//! | [`Filter`] | by predicate, time window, user, media type and codec |
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};
//! use voxwire_sinks::*;
//! let dir = std::env::temp_dir().join(format!("voxwire-sinks-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! // One WAV per user, from decoded Opus, gaps filled with silence.
//! let d = dir.clone();
//! let per_user = PerUserSink::new(CodecSet::PCM, move |key| {
//!     let name = match key { StreamKey::User(u) => format!("{u}.wav"), StreamKey::Ssrc(s) => format!("ssrc-{s}.wav") };
//!     Ok(Box::new(SilenceFill::new(WavSink::create(d.join(name), WavConfig::default())?, SilenceFillConfig::default())) as Box<dyn Sink>)
//! });
//! let mut root = DecodeSink::new(per_user, DecodeConfig::default());
//! assert!(root.wants(MediaType::Audio, Codec::Opus));
//! assert!(!root.wants(MediaType::Video, Codec::H264));
//! let t0 = Instant::now();
//! for i in 0..3u16 {
//!     // 0xf8 0xff 0xfe is a 20 ms Opus CELT silence frame.
//!     let p = MediaPacket::opus(Ssrc(7), SeqNo(i), RtpTimestamp(960 * u32::from(i)), t0 + Duration::from_millis(20 * u64::from(i)), vec![0xf8, 0xff, 0xfe].into())
//!         .with_user(UserId(42));
//!     root.write(&p)?;
//! }
//! root.cleanup()?;
//! let wav = std::fs::read(dir.join("42.wav"))?;
//! assert_eq!(wav.len(), 44 + 3 * 3840);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod basic;
mod decode;
mod error;
mod ffmpeg;
mod filter;
mod mixed;
mod packet;
mod per_user;
pub mod queue;
mod silence;
mod sink;
mod volume;
mod wav;

pub use basic::{CallbackSink, FanOut};
pub use decode::{DecodeConfig, DecodeSink};
pub use error::Error;
pub use ffmpeg::{FfmpegSink, FfmpegSinkConfig};
pub use filter::Filter;
pub use mixed::{MixedWavConfig, MixedWavSink};
pub use packet::{Codec, CodecSet, Concealment, MediaPacket, MediaType, StreamKey, UserId};
pub use per_user::PerUserSink;
pub use queue::{QueueReceiver, QueueSink};
pub use silence::{SilenceFill, SilenceFillConfig};
pub use sink::{Sink, forward, walk};
pub use volume::VolumeSink;
pub use voxwire_sources::VolumeHandle;
pub use wav::{DEFAULT_PATCH_INTERVAL_FRAMES, WavConfig, WavSink};
