//! The crate's one error type.

/// What can go wrong in this crate: only the RTX payload codec fails; the buffers report what
/// they did with a packet in their return values instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is shorter than its structure requires.
    #[error("truncated {what}: need {expected} bytes, have {actual}")]
    Truncated {
        /// Which structure was being read.
        what: &'static str,
        /// Bytes required.
        expected: usize,
        /// Bytes available.
        actual: usize,
    },
    /// The output buffer is too small.
    #[error("output buffer too small: need {expected} bytes, have {actual}")]
    BufferTooSmall {
        /// Bytes required.
        expected: usize,
        /// Bytes available.
        actual: usize,
    },
}
