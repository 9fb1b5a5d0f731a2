//! The unit every sink receives: [`MediaPacket`].

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use voxwire_rtp::{RtpTimestamp, SeqNo, Ssrc};

/// A Discord user id (a snowflake).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub u64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Audio or video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// Audio.
    Audio,
    /// Video.
    Video,
}

/// What a packet carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// An Opus packet in [`MediaPacket::payload`].
    Opus,
    /// Decoded 48 kHz stereo PCM in [`MediaPacket::pcm`] (the Opus payload may still be present).
    Pcm,
    /// An H.264 access unit.
    H264,
    /// An H.265 access unit.
    H265,
    /// A VP8 frame.
    Vp8,
    /// A VP9 frame.
    Vp9,
    /// An AV1 temporal unit.
    Av1,
}

impl Codec {
    /// The media type of this codec.
    pub const fn media_type(self) -> MediaType {
        match self {
            Self::Opus | Self::Pcm => MediaType::Audio,
            Self::H264 | Self::H265 | Self::Vp8 | Self::Vp9 | Self::Av1 => MediaType::Video,
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of codecs, the currency of [`Sink::wants`](crate::Sink::wants). `Copy`, a bitmask.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CodecSet(u16);

impl fmt::Debug for CodecSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all =
            [Codec::Opus, Codec::Pcm, Codec::H264, Codec::H265, Codec::Vp8, Codec::Vp9, Codec::Av1];
        f.debug_set().entries(all.iter().filter(|c| self.contains(**c))).finish()
    }
}

impl CodecSet {
    /// No codec.
    pub const NONE: Self = Self(0);
    /// Every codec.
    pub const ALL: Self = Self(0x7f);
    /// Opus and PCM.
    pub const AUDIO: Self = Self(Codec::Opus.bit() | Codec::Pcm.bit());
    /// Every video codec.
    pub const VIDEO: Self = Self(Self::ALL.0 & !Self::AUDIO.0);
    /// Decoded PCM only.
    pub const PCM: Self = Self(Codec::Pcm.bit());
    /// Opus only.
    pub const OPUS: Self = Self(Codec::Opus.bit());

    /// The set holding `codecs`.
    pub fn of(codecs: &[Codec]) -> Self {
        Self(codecs.iter().fold(0, |m, c| m | c.bit()))
    }

    /// Every codec of `media`.
    pub const fn media(media: MediaType) -> Self {
        match media {
            MediaType::Audio => Self::AUDIO,
            MediaType::Video => Self::VIDEO,
        }
    }

    /// Whether `codec` is in the set.
    pub const fn contains(self, codec: Codec) -> bool {
        self.0 & codec.bit() != 0
    }

    /// Whether the set holds `codec` of `media` (false when the codec is not of that media).
    pub const fn wants(self, media: MediaType, codec: Codec) -> bool {
        codec.media_type() as u8 == media as u8 && self.contains(codec)
    }

    /// The union.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The intersection.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// How a packet's PCM was produced when the packet itself was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Concealment {
    /// Opus packet-loss concealment (extrapolated from earlier audio).
    Plc,
    /// Recovered from the in-band FEC (LBRR) data of the following packet.
    Fec,
    /// Synthetic silence inserted for a gap by [`SilenceFill`](crate::SilenceFill).
    Silence,
}

/// Who a stream belongs to: the user when known, else the SSRC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKey {
    /// A mapped user.
    User(UserId),
    /// An SSRC not (yet) mapped to a user.
    Ssrc(Ssrc),
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(u) => write!(f, "user {u}"),
            Self::Ssrc(s) => write!(f, "ssrc {s}"),
        }
    }
}

/// One received media record: an audio packet (Opus and/or decoded PCM) or a complete video
/// frame, with the RTP fields of the packet that carried (or completed) it.
///
/// Cloning is cheap: the payload is [`Bytes`] and the PCM an [`Arc`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaPacket {
    /// The user, once the gateway has mapped the SSRC.
    pub user_id: Option<UserId>,
    /// The media SSRC.
    pub ssrc: Ssrc,
    /// The RTP sequence number.
    pub sequence: SeqNo,
    /// The RTP timestamp (48 kHz for audio, 90 kHz for video).
    pub timestamp: RtpTimestamp,
    /// When the packet was received (or, for a lost packet, declared lost).
    pub received_at: Instant,
    /// What the packet carries; its [`Codec::media_type`] is the packet's media type.
    pub codec: Codec,
    /// The Opus packet or encoded video frame; empty when [`lost`](Self::lost).
    pub payload: Bytes,
    /// Decoded interleaved stereo 48 kHz PCM, present when `codec` is [`Codec::Pcm`].
    pub pcm: Option<Arc<[i16]>>,
    /// The packet never arrived: `payload` is empty and `pcm`, if present, is concealment.
    pub lost: bool,
    /// How the PCM of a lost packet was made, if it was.
    pub concealment: Option<Concealment>,
}

impl MediaPacket {
    /// A received Opus packet.
    pub fn opus(
        ssrc: Ssrc,
        sequence: SeqNo,
        timestamp: RtpTimestamp,
        received_at: Instant,
        payload: Bytes,
    ) -> Self {
        Self {
            user_id: None,
            ssrc,
            sequence,
            timestamp,
            received_at,
            codec: Codec::Opus,
            payload,
            pcm: None,
            lost: false,
            concealment: None,
        }
    }

    /// A decoded PCM packet.
    pub fn pcm(
        ssrc: Ssrc,
        sequence: SeqNo,
        timestamp: RtpTimestamp,
        received_at: Instant,
        pcm: Arc<[i16]>,
    ) -> Self {
        Self {
            codec: Codec::Pcm,
            pcm: Some(pcm),
            ..Self::opus(ssrc, sequence, timestamp, received_at, Bytes::new())
        }
    }

    /// A lost Opus packet, as the jitter buffer reports it.
    pub fn lost(ssrc: Ssrc, sequence: SeqNo, timestamp: RtpTimestamp, at: Instant) -> Self {
        Self { lost: true, ..Self::opus(ssrc, sequence, timestamp, at, Bytes::new()) }
    }

    /// Sets the user.
    #[must_use]
    pub fn with_user(mut self, user: UserId) -> Self {
        self.user_id = Some(user);
        self
    }

    /// The media type.
    pub fn media_type(&self) -> MediaType {
        self.codec.media_type()
    }

    /// The key per-user sinks route by: the user if known, else the SSRC.
    pub fn stream_key(&self) -> StreamKey {
        self.user_id.map_or(StreamKey::Ssrc(self.ssrc), StreamKey::User)
    }

    /// Number of PCM samples per channel this packet carries.
    pub fn pcm_frames(&self) -> usize {
        self.pcm.as_ref().map_or(0, |p| p.len() / 2)
    }
}
