//! Typed payloads (`d`) of the JSON opcodes (protocol.md 2.3). Every struct keeps the fields it
//! does not model in `extra`, so unknown fields are tolerated and surfaced, never fatal.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::types::{
    Codec, CodecName, EncryptionMode, Extra, GatewayVersion, Protocol, SecretKey, Seq, Snowflake,
    SpeakingFlags, Ssrc, Stream, TransitionId, seq_ack,
};

/// Op 0 Identify (C).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identify {
    /// Guild id, DM channel id, or Go Live `rtc_server_id`.
    pub server_id: Snowflake,
    /// Own user id.
    pub user_id: Snowflake,
    /// From `VOICE_STATE_UPDATE`.
    pub session_id: String,
    /// From `VOICE_SERVER_UPDATE`.
    pub token: String,
    /// Highest DAVE protocol version supported; absent or 0 means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_dave_protocol_version: Option<u16>,
    /// v9: the voice channel id (`rtc_channel_id` for Go Live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Snowflake>,
    /// Whether this connection can do video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<bool>,
    /// Simulcast layers offered (type, rid, quality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<Vec<Stream>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `data` of a UDP Select Protocol: the IP-discovery result and the chosen mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UdpProtocolData {
    /// Discovered external address (only used to receive).
    pub address: String,
    /// Discovered external port.
    pub port: u16,
    /// One of Ready `modes`.
    pub mode: EncryptionMode,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `data` of Select Protocol: an object for UDP, an SDP fragment string for WebRTC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProtocolData {
    /// `{address, port, mode}`.
    Udp(UdpProtocolData),
    /// An SDP fragment (WebRTC; not spoken by voxwire).
    Sdp(String),
}

/// Op 1 Select Protocol (C).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelectProtocol {
    /// `"udp"` for voxwire.
    pub protocol: Protocol,
    /// Protocol data.
    pub data: ProtocolData,
    /// Supported codecs; absent means Opus on PT 120 and no video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecs: Option<Vec<Codec>>,
    /// Random `UUIDv4`, analytics only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtc_connection_id: Option<String>,
    /// Experiments opted into, chosen from Ready `experiments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiments: Option<Vec<String>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SelectProtocol {
    /// A UDP Select Protocol with the IP-discovery result and mode, without codecs.
    pub fn udp(address: impl Into<String>, port: u16, mode: EncryptionMode) -> Self {
        Self {
            protocol: Protocol::Udp,
            data: ProtocolData::Udp(UdpProtocolData {
                address: address.into(),
                port,
                mode,
                extra: Extra::new(),
            }),
            codecs: None,
            rtc_connection_id: None,
            experiments: None,
            extra: Extra::new(),
        }
    }

    /// The chosen mode, for a UDP select.
    pub fn mode(&self) -> Option<&EncryptionMode> {
        match &self.data {
            ProtocolData::Udp(d) => Some(&d.mode),
            ProtocolData::Sdp(_) => None,
        }
    }
}

/// Op 2 Ready (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ready {
    /// This connection's audio SSRC.
    pub ssrc: Ssrc,
    /// UDP media server IPv4 address.
    pub ip: String,
    /// UDP media server port.
    pub port: u16,
    /// Offered transport encryption modes.
    pub modes: Vec<EncryptionMode>,
    /// A wrong value the docs say to ignore; kept for completeness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval: Option<f64>,
    /// Experiments on offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiments: Option<Vec<String>>,
    /// One entry per offered simulcast layer with server-assigned `ssrc`/`rtx_ssrc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<Vec<Stream>>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Whether a heartbeat nonce travelled bare (`"d": 123`, before v8) or as an object
/// (`"d": {"t": 123, ...}`, v8). A server echoes the form the client used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NonceForm {
    /// `"d": <nonce>`.
    Bare,
    /// `"d": {"t": <nonce>, ...}`.
    #[default]
    Object,
}

/// Op 3 Heartbeat (C).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// Any integer; clients use Unix milliseconds.
    pub nonce: u64,
    /// v8: last sequence number seen; `None` is sent as `-1`. Not sent in the bare form.
    pub seq_ack: Option<Seq>,
    /// Bare or object form.
    pub form: NonceForm,
}

/// Op 6 Heartbeat ACK (S).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatAck {
    /// The nonce of the heartbeat being acknowledged.
    pub nonce: u64,
    /// Bare or object form.
    pub form: NonceForm,
}

/// The two shapes of a heartbeat `d`, read without buffering (this is the hottest message).
struct NonceVisitor;

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum NonceField {
    T,
    SeqAck,
    #[serde(other)]
    Other,
}

impl<'de> Visitor<'de> for NonceVisitor {
    type Value = (u64, Option<Seq>, NonceForm);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a nonce or an object {t, seq_ack}")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok((v, None, NonceForm::Bare))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map(|v| (v, None, NonceForm::Bare))
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut t = None;
        let mut ack = None;
        while let Some(key) = map.next_key::<NonceField>()? {
            match key {
                NonceField::T if t.is_none() => t = Some(map.next_value::<u64>()?),
                NonceField::SeqAck if ack.is_none() => {
                    ack = Some(map.next_value::<SeqAckValue>()?.0);
                }
                NonceField::T => return Err(de::Error::duplicate_field("t")),
                NonceField::SeqAck => return Err(de::Error::duplicate_field("seq_ack")),
                NonceField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let t = t.ok_or_else(|| de::Error::missing_field("t"))?;
        Ok((t, ack.flatten(), NonceForm::Object))
    }
}

/// A `seq_ack` value on its own (`-1`, `null` or a u16).
struct SeqAckValue(Option<Seq>);

impl<'de> Deserialize<'de> for SeqAckValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        seq_ack::deserialize(d).map(SeqAckValue)
    }
}

#[derive(Serialize)]
struct HeartbeatObject {
    t: u64,
    #[serde(with = "seq_ack")]
    seq_ack: Option<Seq>,
}

#[derive(Serialize)]
struct AckObject {
    t: u64,
}

impl Serialize for Heartbeat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.form {
            NonceForm::Bare => s.serialize_u64(self.nonce),
            NonceForm::Object => {
                HeartbeatObject { t: self.nonce, seq_ack: self.seq_ack }.serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Heartbeat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (nonce, seq_ack, form) = d.deserialize_any(NonceVisitor)?;
        Ok(Self { nonce, seq_ack, form })
    }
}

impl Serialize for HeartbeatAck {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.form {
            NonceForm::Bare => s.serialize_u64(self.nonce),
            NonceForm::Object => AckObject { t: self.nonce }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for HeartbeatAck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (nonce, _, form) = d.deserialize_any(NonceVisitor)?;
        Ok(Self { nonce, form })
    }
}

/// Op 4 Session Description (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// The selected transport encryption mode.
    pub mode: EncryptionMode,
    /// The 32-byte transport key.
    pub secret_key: SecretKey,
    /// Initial DAVE version (0 = transport encryption only). Absent reads as 0.
    #[serde(default)]
    pub dave_protocol_version: u16,
    /// Audio codec, `"opus"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<CodecName>,
    /// The video codec this client must send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<CodecName>,
    /// 32 hex characters, analytics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_session_id: Option<String>,
    /// Keyframe interval in milliseconds (fixed-keyframe experiment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyframe_interval: Option<u32>,
    /// Optional experiment name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_estimation_experiment: Option<String>,
    /// WebRTC only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 5 Speaking (C/S). The client sends `speaking`, `delay`, `ssrc`; the server sends
/// `speaking`, `ssrc`, `user_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Speaking {
    /// Flags; must be non-zero while audio is sent.
    pub speaking: SpeakingFlags,
    /// The audio SSRC.
    pub ssrc: Ssrc,
    /// Client only; bots send 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<u32>,
    /// Server only: the speaking user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Snowflake>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 7 Resume (C).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// As in Identify.
    pub server_id: Snowflake,
    /// As in Identify.
    pub session_id: String,
    /// As in Identify.
    pub token: String,
    /// v8: last sequence number seen (`None` is sent as `-1`).
    #[serde(default, with = "seq_ack")]
    pub seq_ack: Option<Seq>,
    /// v9: the channel id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Snowflake>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 8 Hello (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The negotiated version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<GatewayVersion>,
    /// Heartbeat interval in milliseconds; sometimes a float (`13750.0`). Written as an integer
    /// when it is whole.
    #[serde(serialize_with = "serialize_ms")]
    pub heartbeat_interval: f64,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Hello {
    /// The largest interval accepted: one hour.
    pub const MAX_INTERVAL: Duration = Duration::from_hours(1);
    /// The smallest interval accepted: 100 ms (anything shorter would be a heartbeat flood).
    pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

    /// A Hello with a whole-millisecond interval.
    pub fn new(v: GatewayVersion, interval: Duration) -> Self {
        // Whole milliseconds and their fraction added separately: `as_secs_f64() * 1000.0`
        // turns 1_027_676 ms into 1_027_675.999…, which would go on the wire as a fraction.
        #[expect(clippy::cast_precision_loss, reason = "an interval in ms is far below 2^52")]
        let ms = interval.as_millis() as f64;
        let fraction = f64::from(interval.subsec_nanos() % 1_000_000) / 1e6;
        Self { v: Some(v), heartbeat_interval: ms + fraction, extra: Extra::new() }
    }

    /// The interval, if it is within [`Hello::MIN_INTERVAL`]..=[`Hello::MAX_INTERVAL`].
    pub fn interval(&self) -> Option<Duration> {
        let ms = self.heartbeat_interval;
        let range =
            Self::MIN_INTERVAL.as_secs_f64() * 1000.0..=Self::MAX_INTERVAL.as_secs_f64() * 1000.0;
        range.contains(&ms).then(|| Duration::from_secs_f64(ms / 1000.0))
    }
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's serialize_with passes a reference")]
fn serialize_ms<S: Serializer>(ms: &f64, s: S) -> Result<S::Ok, S::Error> {
    #[expect(clippy::cast_sign_loss, reason = "checked non-negative and whole just before")]
    if ms.fract() == 0.0 && *ms >= 0.0 && *ms <= 9_007_199_254_740_992.0 {
        s.serialize_u64(*ms as u64)
    } else {
        s.serialize_f64(*ms)
    }
}

/// Op 11 Clients Connect (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientsConnect {
    /// Users present (on connect) or arriving.
    pub user_ids: Vec<Snowflake>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 12 Video (C/S).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Video {
    /// Audio SSRC (own for C, remote for S).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_ssrc: Option<Ssrc>,
    /// Primary video SSRC, 0 to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_ssrc: Option<Ssrc>,
    /// RTX SSRC paired with `video_ssrc`, or 0 (C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx_ssrc: Option<Ssrc>,
    /// Full layer state; `[]` when video is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<Vec<Stream>>,
    /// Server only: the remote user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Snowflake>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 13 Client Disconnect (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientDisconnect {
    /// The user who left.
    pub user_id: Snowflake,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 14 Session Update (C/S): the client sends `codecs`; the server sends codec choices.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionUpdate {
    /// C: the supported codecs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecs: Option<Vec<Codec>>,
    /// S: audio codec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<CodecName>,
    /// S: the video codec this client must now send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<CodecName>,
    /// S: analytics id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_session_id: Option<String>,
    /// S: keyframe interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyframe_interval: Option<u32>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 15 Media Sink Wants (C/S, protocol.md 9.3): a flat object of `"<ssrc>": quality`,
/// `"any": quality` and `"pixelCounts": {"<ssrc>": number}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaSinkWants {
    /// Wanted quality (0-100) per primary SSRC.
    pub wants: BTreeMap<Ssrc, u8>,
    /// Default quality for streams not listed.
    pub any: Option<u8>,
    /// Approximate rendered pixel count per SSRC.
    pub pixel_counts: Option<BTreeMap<Ssrc, f64>>,
    /// Keys that are neither an SSRC with an integer quality, `any`, nor `pixelCounts`.
    pub extra: Extra,
}

impl Serialize for MediaSinkWants {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = self.wants.len()
            + usize::from(self.any.is_some())
            + usize::from(self.pixel_counts.is_some());
        let mut map = s.serialize_map(Some(len + self.extra.len()))?;
        if let Some(any) = self.any {
            map.serialize_entry("any", &any)?;
        }
        for (ssrc, q) in &self.wants {
            map.serialize_entry(&ssrc.0.to_string(), q)?;
        }
        if let Some(pc) = &self.pixel_counts {
            let pc: BTreeMap<String, f64> = pc.iter().map(|(k, v)| (k.0.to_string(), *v)).collect();
            map.serialize_entry("pixelCounts", &pc)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MediaSinkWants {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let mut out = Self::default();
        for (key, value) in raw {
            let quality = value.as_u64().and_then(|q| u8::try_from(q).ok());
            match (key.as_str(), quality) {
                ("any", Some(q)) => out.any = Some(q),
                ("pixelCounts", _) if value.is_object() => {
                    let mut pc = BTreeMap::new();
                    let mut leftover = serde_json::Map::new();
                    for (k, v) in value.as_object().into_iter().flatten() {
                        match (k.parse::<u32>(), v.as_f64()) {
                            (Ok(ssrc), Some(n)) => {
                                pc.insert(Ssrc(ssrc), n);
                            }
                            _ => {
                                leftover.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    if leftover.is_empty() {
                        out.pixel_counts = Some(pc);
                    } else {
                        out.extra.insert(key, value);
                    }
                }
                (k, Some(q)) if k.parse::<u32>().is_ok_and(|s| s.to_string() == k) => {
                    if let Ok(ssrc) = k.parse::<u32>() {
                        out.wants.insert(Ssrc(ssrc), q);
                    }
                }
                _ => {
                    out.extra.insert(key, value);
                }
            }
        }
        Ok(out)
    }
}

/// Op 16 Voice Backend Version (C/S). The client sends `{}`; the server fills both fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VoiceBackendVersion {
    /// Voice server version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// RTC worker version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtc_worker: Option<String>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 18 Client Flags (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientFlags {
    /// The user.
    pub user_id: Snowflake,
    /// Voice flags: 1 clips enabled, 2 allow voice recording, 4 allow any viewer clips.
    #[serde(default)]
    pub flags: Option<u64>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 20 Client Platform (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientPlatform {
    /// The user.
    pub user_id: Snowflake,
    /// 0 desktop, 1 mobile, 2 Xbox, 3 `PlayStation`.
    #[serde(default)]
    pub platform: Option<u64>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Op 21 DAVE Prepare Transition (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DavePrepareTransition {
    /// Protocol version after the transition (0 = downgrade).
    pub protocol_version: u16,
    /// Transition id; 0 means execute now without op 23.
    pub transition_id: TransitionId,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Ops 22 Execute Transition (S), 23 Transition Ready (C) and 31 Invalid Commit Welcome (C):
/// a bare transition id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DaveTransition {
    /// The transition id.
    pub transition_id: TransitionId,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl DaveTransition {
    /// A payload with just the id.
    pub fn new(transition_id: TransitionId) -> Self {
        Self { transition_id, extra: Extra::new() }
    }
}

/// Op 24 DAVE Prepare Epoch (S).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DavePrepareEpoch {
    /// Protocol version.
    pub protocol_version: u16,
    /// Epoch; 1 means a new group is being created.
    pub epoch: u64,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Extra,
}
