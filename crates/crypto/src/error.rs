//! The crate's one error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- transport encryption ---------------------------------------------------------------

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
    /// DAVE: a key package the gateway must refuse.
    #[error("DAVE key package rejected: {reason}")]
    DaveKeyPackage {
        /// Why.
        reason: String,
    },
}
