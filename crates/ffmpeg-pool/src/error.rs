//! The crate's one error type.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The executable does not exist (not on `PATH`, or the configured path is wrong).
    #[error("{program} not found: install FFmpeg or configure its path in ToolsConfig")]
    NotFound {
        /// The program that was looked up.
        program: PathBuf,
    },
    /// The executable exists but could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading from or writing to a child failed.
    #[error("i/o with {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// A child exited unsuccessfully (or was killed by a signal).
    #[error("{program} failed ({status}): {stderr}")]
    Exited {
        /// The program.
        program: String,
        /// Its exit status.
        status: ExitStatus,
        /// The tail of its standard error (bounded).
        stderr: String,
    },
    /// ffprobe's JSON did not have the expected shape.
    #[error("cannot parse ffprobe output: {0}")]
    ProbeJson(#[from] serde_json::Error),
    /// A capture pattern `OggS` was expected at the start of a page.
    #[error("ogg: no capture pattern at byte {offset}")]
    OggCapture {
        /// Offset in the stream.
        offset: u64,
    },
    /// The Ogg page's stream structure version is not 0.
    #[error("ogg: unsupported page version {version}")]
    OggVersion {
        /// The version byte.
        version: u8,
    },
    /// A multiplexed Ogg stream began more logical streams than a reader follows.
    #[error("ogg: more than {max} logical streams in one physical stream")]
    OggStreams {
        /// The most logical streams followed.
        max: usize,
    },
    /// The page's CRC does not match its contents.
    #[error("ogg: CRC mismatch (page says {expected:#010x}, computed {actual:#010x})")]
    OggCrc {
        /// CRC in the page header.
        expected: u32,
        /// CRC computed over the page.
        actual: u32,
    },
    /// Input ended inside a page or packet.
    #[error("truncated: expected {expected} bytes, have {actual}")]
    Truncated {
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
    /// The Opus stream is malformed (bad `OpusHead`, TOC or frame count).
    #[error("opus: {reason}")]
    Opus {
        /// What is wrong.
        reason: &'static str,
    },
    /// A capability listing (`ffmpeg -encoders`, ...) did not have the expected shape.
    #[error("cannot parse `{listing}` output at line {line}")]
    Capabilities {
        /// Which listing.
        listing: &'static str,
        /// 1-based line number.
        line: usize,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    InvalidConfig(&'static str),
    /// The input cannot be used for this job (for example a one-shot pipe where a seekable input
    /// is needed).
    #[error("input not usable here: {0}")]
    Input(&'static str),
    /// The pool has been shut down.
    #[error("the FFmpeg pool is shut down")]
    PoolClosed,
    /// The job was cancelled (its handle or reader was dropped, or the pool shut down).
    #[error("job cancelled")]
    Cancelled,
    /// A failure shared by every reader of the same cached track.
    #[error(transparent)]
    Shared(Arc<Self>),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
