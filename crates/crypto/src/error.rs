//! The crate's one error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- transport encryption ---------------------------------------------------------------
    /// A packet, or the buffer it sits in, is shorter than the layout requires.
    #[error("truncated packet: need {expected} bytes, have {actual}")]
    Truncated {
        /// Bytes the layout needs.
        expected: usize,
        /// Bytes available.
        actual: usize,
    },
    /// The caller's buffer has no room for the encryption overhead.
    #[error("buffer too small: need {needed} bytes, capacity {capacity}")]
    BufferTooSmall {
        /// Bytes needed (plain length plus overhead).
        needed: usize,
        /// The buffer's length.
        capacity: usize,
    },
    /// The first byte does not carry RTP/RTCP version 2.
    #[error("RTP/RTCP version {version}, expected 2")]
    Version {
        /// The version bits found.
        version: u8,
    },
    /// The header extension's length (in 32-bit words) runs past the end of the packet.
    #[error("header extension of {words} words overruns the packet ({available} bytes left)")]
    ExtensionOverrun {
        /// The preamble's length field.
        words: u16,
        /// Bytes available after the preamble.
        available: usize,
    },
    /// The P bit is set but the last byte is not a valid padding count.
    #[error("invalid RTP padding count {count} ({available} bytes after the header)")]
    Padding {
        /// The padding count byte.
        count: u8,
        /// Bytes after the header and extension.
        available: usize,
    },
    /// The packet is longer than the cipher can process in one call.
    #[error("packet of {len} bytes is too long to encrypt")]
    PacketTooLong {
        /// The length to encrypt.
        len: usize,
    },
    /// Authentication failed: wrong key, corrupted or forged packet. Drop the packet.
    #[error("packet failed authentication")]
    Authentication,
    /// The nonce counter has used all 2^32 values under this key. Re-key (reconnect the voice
    /// session) before sending more; reusing a nonce would break the cipher.
    #[error("nonce space exhausted after {used} packets under one key; re-key the connection")]
    NonceExhausted {
        /// Packets encrypted under this key.
        used: u64,
    },
    /// The transport key does not have 32 bytes.
    #[error("transport key must be 32 bytes, got {actual}")]
    KeyLength {
        /// The key's length.
        actual: usize,
    },
    /// A mode name that this crate does not know.
    #[error("unknown transport encryption mode {name:?}")]
    UnknownMode {
        /// The name as offered.
        name: String,
    },
    /// None of the offered transport modes is acceptable.
    #[error("no acceptable transport encryption mode among those offered")]
    NoCommonMode,
    /// The RTP header could not be read (a case other than truncation or version).
    #[error("RTP header: {0}")]
    Rtp(#[source] voxwire_rtp::Error),
    /// The requested backend was not compiled in (see the crate's cargo features).
    #[error("transport backend {backend:?} is not compiled in")]
    BackendUnavailable {
        /// The backend asked for.
        backend: crate::transport::Backend,
    },

    // --- DAVE -------------------------------------------------------------------------------
    /// DAVE: no key to encrypt with yet (no group, or the transition not executed).
    #[error("DAVE session has no sender key yet")]
    DaveNotReady,
    /// DAVE: the caller's output buffer is too small for the frame.
    #[error("DAVE frame buffer too small: need {needed} bytes, capacity {capacity}")]
    DaveBufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// The buffer's length.
        capacity: usize,
    },
    /// DAVE: the ratchet already passed this generation's key.
    #[error("DAVE key generation {generation} is no longer available")]
    DaveGenerationExpired {
        /// The generation asked for.
        generation: u32,
    },
    /// DAVE: clear ranges not ascending, overlapping, or outside the frame.
    #[error("DAVE clear ranges are not ascending and inside the frame")]
    DaveBadClearRanges,
    /// DAVE: the ranges do not fit the 255-byte supplemental data.
    #[error("DAVE frame has too many clear ranges ({count}) for the supplemental data")]
    DaveTooManyRanges {
        /// Number of ranges.
        count: usize,
    },
    /// DAVE: every encryption attempt of an H.264/H.265 frame produced a start code.
    #[error("DAVE encryption kept producing start codes; frame dropped")]
    DaveStartCodeCollision,
    /// DAVE: the input does not allow a displayable code of this shape.
    #[error("cannot make a {total_digits}-digit code in groups of {group} from {len} bytes")]
    DaveDisplayableCode {
        /// Input bytes.
        len: usize,
        /// Digits asked for.
        total_digits: usize,
        /// Digits per group.
        group: usize,
    },
    /// DAVE: the pairwise fingerprint could not be computed.
    #[error("DAVE pairwise fingerprint failed")]
    DaveFingerprint,
    /// DAVE: a binary opcode payload is malformed.
    #[error("malformed DAVE op {opcode} payload: {reason}")]
    DaveMalformed {
        /// The voice gateway opcode.
        opcode: u8,
        /// What was wrong.
        reason: &'static str,
    },
    /// DAVE: the MLS layer rejected a message or failed an operation.
    #[error("DAVE MLS {operation} failed: {reason}")]
    DaveMls {
        /// What was being done.
        operation: &'static str,
        /// The MLS library's error, rendered.
        reason: String,
    },
    /// DAVE: a protocol version this crate does not implement.
    #[error("unsupported DAVE protocol version {version}")]
    DaveUnsupportedVersion {
        /// The version offered.
        version: u16,
    },
    /// DAVE: the user is not (or no longer) in the group.
    #[error("user {user_id} is not a member of the DAVE group")]
    DaveUnknownUser {
        /// The user id.
        user_id: u64,
    },
    /// DAVE: the codec's frame rules refused the frame (an empty frame).
    #[error("DAVE video frame: {0}")]
    DaveVideo(#[source] voxwire_video::Error),
    /// DAVE: a key package the gateway must refuse.
    #[error("DAVE key package rejected: {reason}")]
    DaveKeyPackage {
        /// Why.
        reason: String,
    },
}
