//! Newtypes for RTP wire identifiers.

use core::fmt;

/// A synchronization source identifier (RFC 3550 §5.1), also used for CSRCs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Ssrc(pub u32);

impl Ssrc {
    /// Wraps a raw wire value.
    #[inline]
    pub const fn new(v: u32) -> Self {
        Self(v)
    }

    /// The raw wire value.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl From<u32> for Ssrc {
    #[inline]
    fn from(v: u32) -> Self {
        Self(v)
    }
}

impl From<Ssrc> for u32 {
    #[inline]
    fn from(v: Ssrc) -> Self {
        v.0
    }
}

impl fmt::Debug for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssrc({:#010x})", self.0)
    }
}

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// An RTP payload type: 7 bits, `0..=127` (RFC 3550 §5.1). The invariant is enforced by the
/// constructors, so a `PayloadType` can always be written to the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct PayloadType(u8);

impl PayloadType {
    /// The largest payload type.
    pub const MAX: Self = Self(127);

    /// Opus as voxwire announces it on Discord's UDP transport (protocol.md 6.3).
    pub const DISCORD_OPUS: Self = Self(120);

    /// `Some` when `v <= 127`.
    #[inline]
    pub const fn new(v: u8) -> Option<Self> {
        if v <= 127 { Some(Self(v)) } else { None }
    }

    /// Keeps the low 7 bits of `v` (the wire's marker bit, if present, is dropped).
    #[inline]
    pub const fn from_masked(v: u8) -> Self {
        Self(v & 0x7F)
    }

    /// The raw value, `0..=127`.
    #[inline]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for PayloadType {
    type Error = crate::Error;

    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Self::new(v).ok_or(crate::Error::InvalidPayloadType { value: v })
    }
}

impl From<PayloadType> for u8 {
    #[inline]
    fn from(v: PayloadType) -> Self {
        v.0
    }
}

impl fmt::Debug for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PayloadType({})", self.0)
    }
}

impl fmt::Display for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
