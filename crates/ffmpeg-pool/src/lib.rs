//! A global pool of supervised FFmpeg workers with a transcode-once Opus cache, streaming
//! read-ahead, probing, and encoder, decoder and hardware-acceleration capability detection.
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
