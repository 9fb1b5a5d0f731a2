//! The crate's one error type.

/// Everything that can go wrong when parsing or writing RTP, header extensions or Discord's UDP
/// control packets. Every variant says where and by how much.
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
    /// The RTP version field is not 2.
    #[error("unsupported RTP version {version} (expected 2)")]
    BadVersion {
        /// The version found.
        version: u8,
    },
    /// The padding count is zero or larger than the space after the header.
    #[error(
        "invalid RTP padding: last byte says {padding}, but only {available} bytes follow the header"
    )]
    BadPadding {
        /// Padding count from the last byte.
        padding: u8,
        /// Bytes between the end of the header (with extension) and the end of the packet.
        available: usize,
    },
    /// A payload type outside `0..=127`.
    #[error("payload type {value} is out of range 0..=127")]
    InvalidPayloadType {
        /// The value given.
        value: u8,
    },
    /// The header extension profile is neither one-byte (`0xBEDE`) nor two-byte (`0x100X`).
    #[error("unsupported header extension profile {profile:#06x}")]
    UnsupportedExtensionProfile {
        /// The profile found.
        profile: u16,
    },
    /// A header-extension element overruns the extension block.
    #[error(
        "header extension element id {id} at offset {offset} with length {len} overruns the {block_len}-byte block"
    )]
    ExtensionOverrun {
        /// Element id.
        id: u8,
        /// Offset of the element's header within the block.
        offset: usize,
        /// Declared data length.
        len: usize,
        /// Length of the element area.
        block_len: usize,
    },
    /// An extension element cannot be written in the chosen form (id or length out of range).
    #[error("extension element id {id} with {len} data bytes cannot be written in the {form} form")]
    ExtensionNotEncodable {
        /// Element id.
        id: u8,
        /// Data length.
        len: usize,
        /// `"one-byte"` or `"two-byte"`.
        form: &'static str,
    },
    /// Too many CSRCs (at most 15).
    #[error("{count} CSRCs given, at most 15 fit")]
    TooManyCsrcs {
        /// Number given.
        count: usize,
    },
    /// A value does not fit its wire field.
    #[error("{what} is {value}, more than the field's maximum {max}")]
    FieldOverflow {
        /// Which field.
        what: &'static str,
        /// Value given.
        value: usize,
        /// Largest value that fits.
        max: usize,
    },
    /// The output buffer is too small for what is being written.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A Discord UDP control packet (IP discovery, ping) has the wrong size or marker.
    #[error("malformed {what}: field {field} is {actual:#x}, expected {expected:#x}")]
    Malformed {
        /// Which packet.
        what: &'static str,
        /// Which field.
        field: &'static str,
        /// Value expected.
        expected: u32,
        /// Value found.
        actual: u32,
    },
    /// The IP-discovery address is not NUL-terminated ASCII, or too long.
    #[error("IP discovery address is invalid: {reason}")]
    BadAddress {
        /// Why.
        reason: &'static str,
    },
}
