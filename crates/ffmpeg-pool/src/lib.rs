//! A global pool of supervised FFmpeg workers with a transcode-once Opus cache, streaming
//! read-ahead, probing, and encoder, decoder and hardware-acceleration capability detection.
//!
//! # What runs where
//!
//! - [`Pool`] owns worker *threads* (never tokio workers). Each runs one job at a time and a job
//!   owns at most one FFmpeg child, so at most `min(per_core * cores, hard_cap)` children are
//!   alive ([`PoolConfig`]). Workers start when a job finds none idle and exit after
//!   [`PoolConfig::idle_timeout`]. A full pool queues jobs by [`Priority`] (a player waiting now
//!   beats a prefetch), first come first served within a priority; a queued job reports
//!   [`JobStatus::Queued`] and [`PacketReader::is_waiting_for_worker`].
//! - [`Pool::play`] is the transcode-once cache: the same input (file path or URL) with the same
//!   [`OpusConfig`] is encoded once and every reader shares the packets (reference-counted
//!   [`bytes::Bytes`] slices of the Ogg pages FFmpeg wrote, never copied). Readers start as soon
//!   as the first packets exist. The cache is bounded by bytes ([`PoolConfig::cache_budget`]),
//!   evicts finished, unused tracks least-recently-used first, and can spill them to disk
//!   ([`PoolConfig::spill_dir`]).
//! - [`Pool::stream`] holds no whole track: a seekable input is encoded in *segments* (FFmpeg
//!   started at an offset with `-ss`/`-t`, exiting after each), refilled when less than
//!   [`StreamConfig::read_ahead`] is buffered; a one-shot pipe is read by one process held back
//!   by its full pipe. Segment k > 0 starts one frame early and drops the encoder's warm-up
//!   packet, so its packets line up with a whole-file encode. Segments of different streams
//!   that wait at the same time are encoded by one FFmpeg run ([`StreamConfig::batch`]): one
//!   input and one Ogg logical stream per segment, pages routed by the order of their
//!   beginning-of-stream pages. FFmpeg's start-up (loading over 200 shared libraries in the
//!   Debian build, some 90 ms of CPU) is then paid once per batch, and a few processes each
//!   encoding many streams faster than real time replace one process per player.
//! - [`Pool::decode_pcm`] (s16le, 48 kHz, stereo, [`std::io::Read`]), [`Pool::probe`] and
//!   [`Pool::capabilities`] (with `_async` variants) run on the same workers.
//!
//! Supervision: every child's stderr is drained into a bounded [`StderrTail`]; a failed exit
//! becomes [`Error::Exited`] with that tail; a missing executable is [`Error::NotFound`];
//! dropping a reader (or [`JobHandle`]) kills its child and the worker reaps it, so a crash or
//! kill fails only its job and leaves no zombie.
//!
//! Formats: Ogg (RFC 3533) carrying Opus (RFC 7845), packet durations from the TOC byte
//! (RFC 6716 section 3.1). See [`ogg`] for why the demuxer is hand-written.
//!
//! # Call order
//!
//! Create one [`Pool`] (or use [`Pool::global`] / [`Pool::init_global`]), then per track call
//! [`Pool::play`] or [`Pool::stream`] and read the [`PacketReader`]: blocking
//! ([`PacketReader::next_packet`], or as an iterator), non-blocking from a 20 ms send tick
//! ([`PacketReader::try_next_packet`]: `Pending` means the encoder is behind) or async
//! ([`PacketReader::next_packet_async`]). Every packet is 20 ms (960 samples at 48 kHz) of
//! FFmpeg's libopus output, ready for RTP.
//!
//! ```
//! use voxwire_ffmpeg::{Input, OpusConfig, Pool, PoolConfig, Priority};
//!
//! let pool = Pool::new(PoolConfig::new());
//! // One second of a 440 Hz tone from FFmpeg's lavfi source.
//! let input = Input::Url("sine=frequency=440:duration=1".into());
//! let cfg = OpusConfig::new().bitrate(96_000)?.input_options(["-f", "lavfi"]);
//! let mut reader = pool.play(input, &cfg, Priority::Playback)?;
//! let mut packets = 0;
//! while let Some(packet) = reader.next_packet()? {
//!     assert_eq!(packet.samples, 960);
//!     packets += 1;
//! }
//! assert!((50..=51).contains(&packets)); // 1 s, plus the encoder's lookahead
//! assert_eq!(pool.stats().spawned_total, 1);
//! # Ok::<(), voxwire_ffmpeg::Error>(())
//! ```
//!
//! # Deliberate differences from the pooled-FFmpeg design this crate follows
//!
//! - The pool bounds *concurrent FFmpeg children*, not long-lived processes: FFmpeg cannot take a
//!   second input once started, so a "pooled process" is a worker slot that starts one child per
//!   job.
//! - Whole tracks are cached only when shared ([`Pool::play`]); a player that is alone on a
//!   track uses [`Pool::stream`] and holds a few seconds of read-ahead.
//! - Pages are not copied into per-packet buffers; packets are slices of the page.
//! - Streams do not each keep an FFmpeg process: a few short-lived processes each encode the
//!   waiting segments of up to [`StreamConfig::batch`] streams, faster than real time. One
//!   Debian FFmpeg 5.1 process costs about 50 MB (40 MB of library pages that further FFmpeg
//!   processes share, 10 MB of relocations and heap of its own), so the number alive at once,
//!   not the number of players, sets the memory.
//! - The `FFmpeg` to run is a setting ([`ToolsConfig`], or `VOXWIRE_FFMPEG` through
//!   [`ToolsConfig::from_env`]). `cargo xtask ffmpeg-minimal` builds a static one with only
//!   what these jobs use: 5 MB per process instead of 50, and no start-up cost. The README
//!   measures both.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod buffer;
mod cache;
pub mod capabilities;
mod config;
mod error;
pub mod input;
mod jobs;
pub mod ogg;
mod pool;
pub mod probe;
pub mod process;
mod reader;

pub use capabilities::{Capabilities, CodecEntry, MediaKind};
pub use config::{OpusConfig, PCM_CHANNELS, PCM_FRAME_BYTES, PCM_RATE, StreamConfig};
pub use error::{Error, Result};
pub use input::Input;
pub use ogg::{OggOpusDemuxer, OpusHead, OpusPacket};
pub use pool::{JobHandle, JobStatus, Pool, PoolConfig, PoolStats, Priority};
pub use probe::{CodecType, FormatInfo, ProbeInfo, StreamInfo, probe};
pub use process::{StderrTail, Supervised, ToolsConfig};
pub use reader::{PacketReader, PcmReader};

fn pool_cache(pool: &Pool) -> std::sync::MutexGuard<'_, cache::Cache> {
    pool.shared.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
