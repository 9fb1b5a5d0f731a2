//! Wire concepts shared by the messages: opcodes, versions, sequence numbers, snowflakes, SSRCs,
//! speaking flags, and the string enumerations (encryption modes, codecs, stream kinds).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Fields of a payload that this crate does not model, kept verbatim so that nothing is lost and
/// the caller can inspect them. Empty for every message this crate builds itself.
pub type Extra = BTreeMap<String, serde_json::Value>;

/// A voice-gateway opcode (protocol.md 2.2). Unknown values are representable on purpose: the
/// gateway adds opcodes over time and a peer must tolerate them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Opcode(pub u8);

impl Opcode {
    /// 0, C: Identify.
    pub const IDENTIFY: Self = Self(0);
    /// 1, C: Select Protocol.
    pub const SELECT_PROTOCOL: Self = Self(1);
    /// 2, S: Ready.
    pub const READY: Self = Self(2);
    /// 3, C (S may ask for one): Heartbeat.
    pub const HEARTBEAT: Self = Self(3);
    /// 4, S: Session Description.
    pub const SESSION_DESCRIPTION: Self = Self(4);
    /// 5, C/S: Speaking.
    pub const SPEAKING: Self = Self(5);
    /// 6, S: Heartbeat ACK.
    pub const HEARTBEAT_ACK: Self = Self(6);
    /// 7, C: Resume.
    pub const RESUME: Self = Self(7);
    /// 8, S: Hello.
    pub const HELLO: Self = Self(8);
    /// 9, S: Resumed.
    pub const RESUMED: Self = Self(9);
    /// 10: deprecated WebRTC P2P signal.
    pub const SIGNAL: Self = Self(10);
    /// 11, S: Clients Connect.
    pub const CLIENTS_CONNECT: Self = Self(11);
    /// 12, C/S: Video.
    pub const VIDEO: Self = Self(12);
    /// 13, S: Client Disconnect.
    pub const CLIENT_DISCONNECT: Self = Self(13);
    /// 14, C/S: Session Update ("codecs").
    pub const SESSION_UPDATE: Self = Self(14);
    /// 15, C/S: Media Sink Wants.
    pub const MEDIA_SINK_WANTS: Self = Self(15);
    /// 16, C/S: Voice Backend Version.
    pub const VOICE_BACKEND_VERSION: Self = Self(16);
    /// 17, S: Channel Options Update (deprecated, payload unknown).
    pub const CHANNEL_OPTIONS_UPDATE: Self = Self(17);
    /// 18, S: Client Flags.
    pub const CLIENT_FLAGS: Self = Self(18);
    /// 19, S: Speed Test (payload unknown).
    pub const SPEED_TEST: Self = Self(19);
    /// 20, S: Client Platform.
    pub const CLIENT_PLATFORM: Self = Self(20);
    /// 21, S, JSON: DAVE Prepare Transition.
    pub const DAVE_PREPARE_TRANSITION: Self = Self(21);
    /// 22, S, JSON: DAVE Execute Transition.
    pub const DAVE_EXECUTE_TRANSITION: Self = Self(22);
    /// 23, C, JSON: DAVE Transition Ready.
    pub const DAVE_TRANSITION_READY: Self = Self(23);
    /// 24, S, JSON: DAVE Prepare Epoch.
    pub const DAVE_PREPARE_EPOCH: Self = Self(24);
    /// 25, S, binary: DAVE MLS External Sender Package.
    pub const DAVE_MLS_EXTERNAL_SENDER: Self = Self(25);
    /// 26, C, binary: DAVE MLS Key Package.
    pub const DAVE_MLS_KEY_PACKAGE: Self = Self(26);
    /// 27, S, binary: DAVE MLS Proposals.
    pub const DAVE_MLS_PROPOSALS: Self = Self(27);
    /// 28, C, binary: DAVE MLS Commit Welcome.
    pub const DAVE_MLS_COMMIT_WELCOME: Self = Self(28);
    /// 29, S, binary: DAVE MLS Announce Commit Transition.
    pub const DAVE_MLS_ANNOUNCE_COMMIT_TRANSITION: Self = Self(29);
    /// 30, S, binary: DAVE MLS Welcome.
    pub const DAVE_MLS_WELCOME: Self = Self(30);
    /// 31, C, JSON: DAVE MLS Invalid Commit Welcome.
    pub const DAVE_MLS_INVALID_COMMIT_WELCOME: Self = Self(31);
    /// 32, C: No Route.
    pub const NO_ROUTE: Self = Self(32);

    /// Whether this opcode travels as a binary WebSocket message (ops 25-30).
    pub const fn is_binary(self) -> bool {
        matches!(self.0, 25..=30)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The voice-gateway version from the `?v=` query parameter (protocol.md 1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GatewayVersion(pub u8);

impl GatewayVersion {
    /// v4: the oldest version the gateway still accepts; `speaking` is a bitmask.
    pub const V4: Self = Self(4);
    /// v8: server message buffering, `seq` and `seq_ack`. The recommended version.
    pub const V8: Self = Self(8);
    /// v9: `channel_id` in Identify and Resume (community-documented).
    pub const V9: Self = Self(9);
    /// The oldest version accepted since 2024-11-18.
    pub const MIN: Self = Self::V4;

    /// Whether server messages carry `seq` and clients send `seq_ack` (v8 and later).
    pub const fn has_seq(self) -> bool {
        self.0 >= 8
    }

    /// Whether Identify and Resume carry `channel_id` (v9 and later).
    pub const fn has_channel_id(self) -> bool {
        self.0 >= 9
    }

    /// Whether heartbeats use the object form `{t, seq_ack}` rather than a bare nonce.
    pub const fn has_object_heartbeat(self) -> bool {
        self.0 >= 8
    }

    /// Reads `v` from a WebSocket request path or query string such as `/?v=8`, `?v=4` or
    /// `v=9&encoding=json`. Returns `None` when `v` is missing, not a number, or below
    /// [`GatewayVersion::MIN`] (the gateway rejects such connections).
    pub fn from_query(path_or_query: &str) -> Option<Self> {
        let query = path_or_query.split_once('?').map_or(path_or_query, |(_, q)| q);
        let value = query.split('&').find_map(|pair| pair.strip_prefix("v="))?;
        let v: u8 = value.parse().ok()?;
        (v >= Self::MIN.0).then_some(Self(v))
    }
}

impl fmt::Display for GatewayVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// The v8 server message sequence number. The counter is shared by JSON `seq` and the binary
/// u16 prefix, so it is 16 bits wide and wraps.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u16);

impl Seq {
    /// The next sequence number, wrapping after 65535.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.wrapping_add(1))
    }

    /// How many steps forward `later` is from `self`, modulo 2^16.
    pub const fn distance_to(self, later: Self) -> u16 {
        later.0.wrapping_sub(self.0)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `seq_ack` in Heartbeat and Resume: the last sequence number seen, or `None` for "nothing
/// received yet" (sent as `-1`; absent and `null` also read as `None`).
pub(crate) mod seq_ack {
    use super::Seq;
    use serde::{Deserialize, Deserializer, Serializer};

    #[expect(
        clippy::ref_option,
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's serialize_with passes a reference"
    )]
    pub(crate) fn serialize<S: Serializer>(v: &Option<Seq>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(seq) => s.serialize_u16(seq.0),
            None => s.serialize_i8(-1),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Seq>, D::Error> {
        let raw = Option::<i64>::deserialize(d)?;
        match raw {
            None | Some(-1) => Ok(None),
            Some(v) => u16::try_from(v).map(|v| Some(Seq(v))).map_err(|_| {
                serde::de::Error::custom(format_args!("seq_ack {v} is not a u16 or -1"))
            }),
        }
    }
}

/// A Discord snowflake: a u64 carried on the wire as a decimal string. Integers are accepted
/// on input too, since some peers send them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Snowflake(pub u64);

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Snowflake {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Snowflake;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a snowflake (decimal string or unsigned integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                v.parse()
                    .map(Snowflake)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                Ok(Snowflake(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                u64::try_from(v)
                    .map(Snowflake)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// An RTP synchronisation source identifier as announced on the gateway (a JSON number).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Ssrc(pub u32);

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A DAVE transition id (u16; 0 is reserved for (re)initialisation).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TransitionId(pub u16);

impl TransitionId {
    /// The (re)initialisation id: execute immediately, never acknowledged with op 23.
    pub const INIT: Self = Self(0);
}

/// The `speaking` bitmask of op 5 (protocol.md 2.3.5). A pre-v4 boolean reads as
/// [`SpeakingFlags::MICROPHONE`] or empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct SpeakingFlags(pub u32);

impl SpeakingFlags {
    /// Not speaking.
    pub const NONE: Self = Self(0);
    /// Normal voice (bit 0).
    pub const MICROPHONE: Self = Self(1);
    /// Context audio for video or a stream, no speaking indicator (bit 1).
    pub const SOUNDSHARE: Self = Self(1 << 1);
    /// Priority speaker (bit 2).
    pub const PRIORITY: Self = Self(1 << 2);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for SpeakingFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl<'de> Deserialize<'de> for SpeakingFlags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SpeakingFlags;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a speaking bitmask or boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<SpeakingFlags, E> {
                Ok(if v { SpeakingFlags::MICROPHONE } else { SpeakingFlags::NONE })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SpeakingFlags, E> {
                u32::try_from(v)
                    .map(SpeakingFlags)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SpeakingFlags, E> {
                u32::try_from(v)
                    .map(SpeakingFlags)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// Defines a string enumeration whose unknown values are kept in `Other`.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $var,)*
            /// A value this crate does not know, kept verbatim. Never holds a known value:
            /// build it with `from_wire`.
            Other(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$var => $s,)*
                    Self::Other(s) => s,
                }
            }

            /// Reads the wire spelling (case-sensitive, as on the wire).
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($s => Self::$var,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

string_enum! {
    /// Transport encryption mode names (protocol.md 5.1).
    EncryptionMode {
        /// AES-256-GCM, rtpsize layout. Preferred when offered.
        AeadAes256GcmRtpsize = "aead_aes256_gcm_rtpsize",
        /// XChaCha20-Poly1305, rtpsize layout. Always offered.
        AeadXChaCha20Poly1305Rtpsize = "aead_xchacha20_poly1305_rtpsize",
        /// Deprecated.
        XSalsa20Poly1305LiteRtpsize = "xsalsa20_poly1305_lite_rtpsize",
        /// Deprecated.
        AeadAes256Gcm = "aead_aes256_gcm",
        /// Deprecated.
        XSalsa20Poly1305 = "xsalsa20_poly1305",
        /// Deprecated.
        XSalsa20Poly1305Suffix = "xsalsa20_poly1305_suffix",
        /// Deprecated.
        XSalsa20Poly1305Lite = "xsalsa20_poly1305_lite",
    }
}

string_enum! {
    /// Select Protocol `protocol`.
    Protocol {
        /// Plain RTP over UDP (what voxwire speaks).
        Udp = "udp",
        /// WebRTC with an SDP fragment.
        WebRtc = "webrtc",
    }
}

string_enum! {
    /// Codec names in Select Protocol, Session Description and Session Update. Video names are
    /// upper-case on the wire.
    CodecName {
        /// Opus audio.
        Opus = "opus",
        /// AV1.
        Av1 = "AV1",
        /// H.265 / HEVC.
        H265 = "H265",
        /// H.264 / AVC.
        H264 = "H264",
        /// VP8.
        Vp8 = "VP8",
        /// VP9.
        Vp9 = "VP9",
    }
}

string_enum! {
    /// Codec `type`.
    MediaKind {
        /// Audio.
        Audio = "audio",
        /// Video.
        Video = "video",
    }
}

string_enum! {
    /// Simulcast stream `type` (protocol.md 9.1).
    StreamKind {
        /// Camera.
        Video = "video",
        /// Go Live screen share.
        Screen = "screen",
        /// Speed test.
        Test = "test",
    }
}

string_enum! {
    /// `max_resolution.type`.
    ResolutionKind {
        /// Fixed width and height.
        Fixed = "fixed",
        /// The source resolution (width = height = 0).
        Source = "source",
    }
}

/// `max_resolution` of a simulcast stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaxResolution {
    /// `type`: fixed or source.
    #[serde(rename = "type")]
    pub kind: ResolutionKind,
    /// Width in pixels (0 for source).
    pub width: u32,
    /// Height in pixels (0 for source).
    pub height: u32,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A simulcast layer (protocol.md 9.1): offered in Identify, assigned SSRCs in Ready, announced
/// in op 12. Every field is optional because each message carries a different subset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    /// `type`: camera, screen or test.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<StreamKind>,
    /// RTP stream id, by convention the quality as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// 0-100; 100 is the full layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// Whether the layer is being sent now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Bitrate cap in bits per second (client op 12 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bitrate: Option<u64>,
    /// Frame-rate cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_framerate: Option<u32>,
    /// Resolution cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resolution: Option<MaxResolution>,
    /// Primary SSRC of the layer (assigned by the server in Ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssrc: Option<Ssrc>,
    /// RTX SSRC of the layer; if missing, `ssrc + 1` is the convention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx_ssrc: Option<Ssrc>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A codec entry of Select Protocol or Session Update (protocol.md 2.3.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Codec {
    /// Codec name.
    pub name: CodecName,
    /// `type`: audio or video.
    #[serde(rename = "type")]
    pub kind: MediaKind,
    /// Lower is preferred; multiples of 1000, unique per type.
    pub priority: u32,
    /// The dynamic RTP payload type this client uses for the codec.
    pub payload_type: u8,
    /// Video only: the RTX payload type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx_payload_type: Option<u8>,
    /// Whether this client can encode it (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode: Option<bool>,
    /// Whether this client can decode it (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<bool>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The 32-byte transport encryption key of Session Description, a JSON array of byte values on
/// the wire. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretKey(pub [u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}
