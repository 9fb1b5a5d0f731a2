//! The crate's one error type.

/// Everything that can go wrong when parsing or writing RTCP. Every variant says where and by
/// how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input (or a part of it) is shorter than its structure requires.
    #[error("truncated {what}: need {expected} bytes, have {actual}")]
    Truncated {
        /// Which structure was being read.
        what: &'static str,
        /// Bytes required.
        expected: usize,
        /// Bytes available.
        actual: usize,
    },
    /// The RTCP version field is not 2.
    #[error("unsupported RTCP version {version} (expected 2)")]
    BadVersion {
        /// The version found.
        version: u8,
    },
    /// The padding count is zero or larger than the packet body.
    #[error("invalid RTCP padding: last byte says {padding}, but the body has {available} bytes")]
    BadPadding {
        /// Padding count from the last byte.
        padding: u8,
        /// Body bytes available.
        available: usize,
    },
    /// A packet's body does not have the length its type and count require.
    #[error("{what}: body is {actual} bytes, expected {expected}")]
    BadLength {
        /// Which packet.
        what: &'static str,
        /// Length the header fields imply.
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// A packet type where a specific one was required.
    #[error("expected RTCP packet type {expected}, found {actual}")]
    WrongPacketType {
        /// Packet type expected.
        expected: u8,
        /// Packet type found.
        actual: u8,
    },
    /// A field holds a value the format forbids.
    #[error("{what}: invalid value {value}")]
    InvalidValue {
        /// Which field.
        what: &'static str,
        /// Value found.
        value: u32,
    },
    /// A value does not fit its wire field.
    #[error("{what} is {value}, more than the field's maximum {max}")]
    FieldOverflow {
        /// Which field.
        what: &'static str,
        /// Value given.
        value: u64,
        /// Largest value that fits.
        max: u64,
    },
    /// The output buffer is too small for what is being written.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
}
