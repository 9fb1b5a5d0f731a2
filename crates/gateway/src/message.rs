//! The JSON envelope `{"op", "d", "seq"?}` and the two directions' message enums.
//!
//! Parsing never fails on an opcode it does not know, or on a known opcode travelling the other
//! way: those come back as `Unknown` with the raw `d`. It fails only on text that is not an
//! envelope, or on a known opcode whose `d` lacks a required field.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::payload::{
    ClientDisconnect, ClientFlags, ClientPlatform, ClientsConnect, DavePrepareEpoch,
    DavePrepareTransition, DaveTransition, Heartbeat, HeartbeatAck, Hello, Identify,
    MediaSinkWants, Ready, Resume, SelectProtocol, SessionDescription, SessionUpdate, Speaking,
    Video, VoiceBackendVersion,
};
use crate::types::{Extra, Opcode, Seq};

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    op: u64,
    #[serde(borrow, default)]
    d: Option<&'a RawValue>,
    #[serde(default)]
    seq: Option<i64>,
}

/// A parsed envelope before the payload is typed.
struct Envelope<'a> {
    op: Opcode,
    d: &'a str,
    seq: Option<Seq>,
}

fn envelope(text: &str) -> Result<Envelope<'_>, Error> {
    let raw: RawEnvelope<'_> =
        serde_json::from_str(text).map_err(|source| Error::Envelope { source })?;
    let op = u8::try_from(raw.op)
        .map(Opcode)
        .map_err(|_| Error::OutOfRange { field: "op", value: raw.op.to_string() })?;
    let seq = match raw.seq {
        None => None,
        Some(v) => Some(Seq(u16::try_from(v)
            .map_err(|_| Error::OutOfRange { field: "seq", value: v.to_string() })?)),
    };
    Ok(Envelope { op, d: raw.d.map_or("null", RawValue::get), seq })
}

fn payload<T: DeserializeOwned>(op: Opcode, d: &str) -> Result<T, Error> {
    serde_json::from_str(d).map_err(|source| Error::Payload { op, source })
}

fn unknown(op: Opcode, d: &str) -> Result<(Opcode, serde_json::Value), Error> {
    Ok((op, serde_json::from_str(d).map_err(|source| Error::Payload { op, source })?))
}

/// Writes `{"op":N,"d":<payload>[,"seq":S]}`. `op` comes first and `seq` last: songbird's v4
/// parser reads `op` then `d` and stops there.
fn write_envelope(
    op: Opcode,
    d: &impl serde::Serialize,
    seq: Option<Seq>,
) -> Result<String, Error> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"{\"op\":");
    out.extend_from_slice(op.0.to_string().as_bytes());
    out.extend_from_slice(b",\"d\":");
    serde_json::to_writer(&mut out, d).map_err(|source| Error::Encode { op, source })?;
    if let Some(seq) = seq {
        out.extend_from_slice(b",\"seq\":");
        out.extend_from_slice(seq.0.to_string().as_bytes());
    }
    out.push(b'}');
    // serde_json writes UTF-8 and the rest is ASCII.
    String::from_utf8(out).map_err(|e| Error::OutOfRange { field: "json", value: e.to_string() })
}

/// Messages a client sends (JSON opcodes; the binary ones are in [`crate::binary`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientMessage {
    /// Op 0.
    Identify(Identify),
    /// Op 1.
    SelectProtocol(SelectProtocol),
    /// Op 3.
    Heartbeat(Heartbeat),
    /// Op 5.
    Speaking(Speaking),
    /// Op 7.
    Resume(Resume),
    /// Op 12.
    Video(Video),
    /// Op 14 (`codecs`).
    SessionUpdate(SessionUpdate),
    /// Op 15.
    MediaSinkWants(MediaSinkWants),
    /// Op 16 (`{}`).
    VoiceBackendVersion(VoiceBackendVersion),
    /// Op 23.
    DaveTransitionReady(DaveTransition),
    /// Op 31.
    DaveInvalidCommitWelcome(DaveTransition),
    /// Op 32 (`{}`).
    NoRoute(Extra),
    /// Any other opcode, including server-only opcodes, with its raw `d`.
    Unknown {
        /// The opcode.
        op: Opcode,
        /// The payload as received.
        d: serde_json::Value,
    },
}

impl ClientMessage {
    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        match self {
            Self::Identify(_) => Opcode::IDENTIFY,
            Self::SelectProtocol(_) => Opcode::SELECT_PROTOCOL,
            Self::Heartbeat(_) => Opcode::HEARTBEAT,
            Self::Speaking(_) => Opcode::SPEAKING,
            Self::Resume(_) => Opcode::RESUME,
            Self::Video(_) => Opcode::VIDEO,
            Self::SessionUpdate(_) => Opcode::SESSION_UPDATE,
            Self::MediaSinkWants(_) => Opcode::MEDIA_SINK_WANTS,
            Self::VoiceBackendVersion(_) => Opcode::VOICE_BACKEND_VERSION,
            Self::DaveTransitionReady(_) => Opcode::DAVE_TRANSITION_READY,
            Self::DaveInvalidCommitWelcome(_) => Opcode::DAVE_MLS_INVALID_COMMIT_WELCOME,
            Self::NoRoute(_) => Opcode::NO_ROUTE,
            Self::Unknown { op, .. } => *op,
        }
    }

    /// Parses a text WebSocket message sent by a client. A `seq` key, which clients never
    /// send, is ignored.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let Envelope { op, d, .. } = envelope(text)?;
        Ok(match op {
            Opcode::IDENTIFY => Self::Identify(payload(op, d)?),
            Opcode::SELECT_PROTOCOL => Self::SelectProtocol(payload(op, d)?),
            Opcode::HEARTBEAT => Self::Heartbeat(payload(op, d)?),
            Opcode::SPEAKING => Self::Speaking(payload(op, d)?),
            Opcode::RESUME => Self::Resume(payload(op, d)?),
            Opcode::VIDEO => Self::Video(payload(op, d)?),
            Opcode::SESSION_UPDATE => Self::SessionUpdate(payload(op, d)?),
            Opcode::MEDIA_SINK_WANTS => Self::MediaSinkWants(payload(op, d)?),
            Opcode::VOICE_BACKEND_VERSION => Self::VoiceBackendVersion(null_as_default(op, d)?),
            Opcode::DAVE_TRANSITION_READY => Self::DaveTransitionReady(payload(op, d)?),
            Opcode::DAVE_MLS_INVALID_COMMIT_WELCOME => {
                Self::DaveInvalidCommitWelcome(payload(op, d)?)
            }
            Opcode::NO_ROUTE => Self::NoRoute(null_as_default(op, d)?),
            _ => {
                let (op, d) = unknown(op, d)?;
                Self::Unknown { op, d }
            }
        })
    }

    /// Encodes the message as the text of a WebSocket message.
    pub fn encode(&self) -> Result<String, Error> {
        let op = self.opcode();
        match self {
            Self::Identify(p) => write_envelope(op, p, None),
            Self::SelectProtocol(p) => write_envelope(op, p, None),
            Self::Heartbeat(p) => write_envelope(op, p, None),
            Self::Speaking(p) => write_envelope(op, p, None),
            Self::Resume(p) => write_envelope(op, p, None),
            Self::Video(p) => write_envelope(op, p, None),
            Self::SessionUpdate(p) => write_envelope(op, p, None),
            Self::MediaSinkWants(p) => write_envelope(op, p, None),
            Self::VoiceBackendVersion(p) => write_envelope(op, p, None),
            Self::DaveTransitionReady(p) | Self::DaveInvalidCommitWelcome(p) => {
                write_envelope(op, p, None)
            }
            Self::NoRoute(p) => write_envelope(op, p, None),
            Self::Unknown { d, .. } => write_envelope(op, d, None),
        }
    }
}

fn null_as_default<T: DeserializeOwned + Default>(op: Opcode, d: &str) -> Result<T, Error> {
    if d.trim() == "null" { Ok(T::default()) } else { payload(op, d) }
}

/// Messages a server sends (JSON opcodes; the binary ones are in [`crate::binary`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerMessage {
    /// Op 2.
    Ready(Ready),
    /// Op 3: the server asks for an immediate heartbeat. Its `d` is kept raw.
    HeartbeatRequest(serde_json::Value),
    /// Op 4.
    SessionDescription(SessionDescription),
    /// Op 5.
    Speaking(Speaking),
    /// Op 6.
    HeartbeatAck(HeartbeatAck),
    /// Op 8.
    Hello(Hello),
    /// Op 9 (`d` is null).
    Resumed,
    /// Op 11.
    ClientsConnect(ClientsConnect),
    /// Op 12.
    Video(Video),
    /// Op 13.
    ClientDisconnect(ClientDisconnect),
    /// Op 14.
    SessionUpdate(SessionUpdate),
    /// Op 15.
    MediaSinkWants(MediaSinkWants),
    /// Op 16.
    VoiceBackendVersion(VoiceBackendVersion),
    /// Op 18.
    ClientFlags(ClientFlags),
    /// Op 20.
    ClientPlatform(ClientPlatform),
    /// Op 21.
    DavePrepareTransition(DavePrepareTransition),
    /// Op 22.
    DaveExecuteTransition(DaveTransition),
    /// Op 24.
    DavePrepareEpoch(DavePrepareEpoch),
    /// Any other opcode (10, 17, 19, client-only ones, future ones) with its raw `d`.
    Unknown {
        /// The opcode.
        op: Opcode,
        /// The payload as received.
        d: serde_json::Value,
    },
}

/// A server message as received: the message and, on v8+, its sequence number.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerFrame {
    /// The `seq` key, if present.
    pub seq: Option<Seq>,
    /// The message.
    pub message: ServerMessage,
}

impl ServerMessage {
    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        match self {
            Self::Ready(_) => Opcode::READY,
            Self::HeartbeatRequest(_) => Opcode::HEARTBEAT,
            Self::SessionDescription(_) => Opcode::SESSION_DESCRIPTION,
            Self::Speaking(_) => Opcode::SPEAKING,
            Self::HeartbeatAck(_) => Opcode::HEARTBEAT_ACK,
            Self::Hello(_) => Opcode::HELLO,
            Self::Resumed => Opcode::RESUMED,
            Self::ClientsConnect(_) => Opcode::CLIENTS_CONNECT,
            Self::Video(_) => Opcode::VIDEO,
            Self::ClientDisconnect(_) => Opcode::CLIENT_DISCONNECT,
            Self::SessionUpdate(_) => Opcode::SESSION_UPDATE,
            Self::MediaSinkWants(_) => Opcode::MEDIA_SINK_WANTS,
            Self::VoiceBackendVersion(_) => Opcode::VOICE_BACKEND_VERSION,
            Self::ClientFlags(_) => Opcode::CLIENT_FLAGS,
            Self::ClientPlatform(_) => Opcode::CLIENT_PLATFORM,
            Self::DavePrepareTransition(_) => Opcode::DAVE_PREPARE_TRANSITION,
            Self::DaveExecuteTransition(_) => Opcode::DAVE_EXECUTE_TRANSITION,
            Self::DavePrepareEpoch(_) => Opcode::DAVE_PREPARE_EPOCH,
            Self::Unknown { op, .. } => *op,
        }
    }

    /// Whether a v8 server numbers and buffers this message for replay on resume. Hello,
    /// Heartbeat ACK, Resumed and heartbeat requests belong to one socket and are not replayed.
    pub fn is_sequenced(&self) -> bool {
        !matches!(
            self,
            Self::Hello(_) | Self::HeartbeatAck(_) | Self::Resumed | Self::HeartbeatRequest(_)
        )
    }

    /// Parses a text WebSocket message sent by a server.
    pub fn parse(text: &str) -> Result<ServerFrame, Error> {
        let Envelope { op, d, seq } = envelope(text)?;
        let message = match op {
            Opcode::READY => Self::Ready(payload(op, d)?),
            Opcode::HEARTBEAT => Self::HeartbeatRequest(payload(op, d)?),
            Opcode::SESSION_DESCRIPTION => Self::SessionDescription(payload(op, d)?),
            Opcode::SPEAKING => Self::Speaking(payload(op, d)?),
            Opcode::HEARTBEAT_ACK => Self::HeartbeatAck(payload(op, d)?),
            Opcode::HELLO => Self::Hello(payload(op, d)?),
            Opcode::RESUMED => Self::Resumed,
            Opcode::CLIENTS_CONNECT => Self::ClientsConnect(payload(op, d)?),
            Opcode::VIDEO => Self::Video(payload(op, d)?),
            Opcode::CLIENT_DISCONNECT => Self::ClientDisconnect(payload(op, d)?),
            Opcode::SESSION_UPDATE => Self::SessionUpdate(payload(op, d)?),
            Opcode::MEDIA_SINK_WANTS => Self::MediaSinkWants(payload(op, d)?),
            Opcode::VOICE_BACKEND_VERSION => Self::VoiceBackendVersion(null_as_default(op, d)?),
            Opcode::CLIENT_FLAGS => Self::ClientFlags(payload(op, d)?),
            Opcode::CLIENT_PLATFORM => Self::ClientPlatform(payload(op, d)?),
            Opcode::DAVE_PREPARE_TRANSITION => Self::DavePrepareTransition(payload(op, d)?),
            Opcode::DAVE_EXECUTE_TRANSITION => Self::DaveExecuteTransition(payload(op, d)?),
            Opcode::DAVE_PREPARE_EPOCH => Self::DavePrepareEpoch(payload(op, d)?),
            _ => {
                let (op, d) = unknown(op, d)?;
                Self::Unknown { op, d }
            }
        };
        Ok(ServerFrame { seq, message })
    }

    /// Encodes the message as the text of a WebSocket message, with `seq` when given. Give
    /// `seq` only to v8+ clients (songbird on v4 fails on it).
    pub fn encode(&self, seq: Option<Seq>) -> Result<String, Error> {
        let op = self.opcode();
        match self {
            Self::Ready(p) => write_envelope(op, p, seq),
            Self::HeartbeatRequest(p) => write_envelope(op, p, seq),
            Self::SessionDescription(p) => write_envelope(op, p, seq),
            Self::Speaking(p) => write_envelope(op, p, seq),
            Self::HeartbeatAck(p) => write_envelope(op, p, seq),
            Self::Hello(p) => write_envelope(op, p, seq),
            Self::Resumed => write_envelope(op, &(), seq),
            Self::ClientsConnect(p) => write_envelope(op, p, seq),
            Self::Video(p) => write_envelope(op, p, seq),
            Self::ClientDisconnect(p) => write_envelope(op, p, seq),
            Self::SessionUpdate(p) => write_envelope(op, p, seq),
            Self::MediaSinkWants(p) => write_envelope(op, p, seq),
            Self::VoiceBackendVersion(p) => write_envelope(op, p, seq),
            Self::ClientFlags(p) => write_envelope(op, p, seq),
            Self::ClientPlatform(p) => write_envelope(op, p, seq),
            Self::DavePrepareTransition(p) => write_envelope(op, p, seq),
            Self::DaveExecuteTransition(p) => write_envelope(op, p, seq),
            Self::DavePrepareEpoch(p) => write_envelope(op, p, seq),
            Self::Unknown { d, .. } => write_envelope(op, d, seq),
        }
    }
}
