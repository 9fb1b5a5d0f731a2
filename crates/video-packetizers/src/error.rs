//! The crate's one error type.

use crate::Codec;

/// Everything that can go wrong in this crate.
///
/// Depacketizers and readers return it for malformed input; packetizers and writers for buffers
/// or parameters that cannot hold the output. Nothing in this crate panics on input bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a structure it announced.
    #[error("{what}: truncated, expected {expected} bytes, got {actual}")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes the structure needs.
        expected: usize,
        /// Bytes that were there.
        actual: usize,
    },
    /// A frame or payload was empty where content is required.
    #[error("{what}: empty")]
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// The input violates the payload format of `codec`.
    #[error("{codec} payload malformed: {reason}")]
    Malformed {
        /// The codec whose payload format was violated.
        codec: Codec,
        /// What was wrong.
        reason: &'static str,
    },
    /// A packet of a fragmented unit arrived without its start, or a frame is incomplete.
    #[error("{codec}: fragment out of order: {reason}")]
    OutOfOrder {
        /// The codec being depacketized.
        codec: Codec,
        /// What was out of order.
        reason: &'static str,
    },
    /// The caller's output buffer cannot hold the result.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The MTU cannot hold one payload header plus one byte of media.
    #[error("MTU {mtu} too small, minimum is {minimum}")]
    MtuTooSmall {
        /// The MTU given.
        mtu: usize,
        /// The smallest MTU this packetizer works with.
        minimum: usize,
    },
    /// A reassembled frame would exceed the configured maximum size.
    #[error("frame too large: {size} bytes, limit {limit}")]
    FrameTooLarge {
        /// Size the frame would reach.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A container (IVF, Annex B) is malformed.
    #[error("{container}: {reason}")]
    Container {
        /// `"IVF"` or `"Annex B"`.
        container: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// An I/O error from a reader or writer (message only, so that `Error` stays `Clone + Eq`).
    #[error("I/O: {0}")]
    Io(String),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}
