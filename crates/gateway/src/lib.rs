//! Discord voice gateway protocol, sans-IO: typed messages for versions 4, 8 and 9, the binary
//! DAVE frames, close codes, and the client and server state machines that drive a voice
//! WebSocket from bytes in to bytes out.
//!
//! The reference is voxwire's `docs/protocol.md` (sections 1-3, 7.2/7.3, 9, 10, 11), itself
//! drawn from Discord's developer documentation, the DAVE whitepaper and the behaviour of
//! discord.js, discord.py and songbird. The WebSocket transport (RFC 6455) is not here: the
//! input is text or binary message payloads and close frames, the output is
//! [`Transmit`]s. The DAVE MLS logic is not here either (voxwire-crypto); ops 21-31 are only
//! framed and routed.
//!
//! # Layers
//!
//! - [`ClientMessage`] / [`ServerMessage`]: every JSON opcode 0-32 as a typed payload
//!   ([`payload`]). Parsing tolerates unknown opcodes (`Unknown { op, d }`) and unknown fields
//!   (kept in each payload's `extra`).
//! - [`ServerBinary`] / [`ClientDave`]: zero-copy views of binary frames (`[u16 seq] u8 op
//!   payload` from the server on v8+, `u8 op payload` from the client), validated in `parse`,
//!   with `calculate_size` + `write` builders.
//! - [`CloseCode`] and [`CloseAction`]: what each close means (resume, reconnect, wait, stop).
//! - [`ClientConnection`] and [`ServerConnection`]: the handshake, heartbeat and resume state
//!   machines.
//!
//! # Invariants
//!
//! - Nothing panics on input; every message is bounded by a configured size, client message
//!   rates by a window, event queues by a limit, and the server's replay buffer by a message
//!   count and a byte budget. Breaching a bound closes the socket with a documented code.
//! - `seq` and binary sequence numbers are written only for v8+ clients (songbird on v4
//!   fails on a `seq` key). The counter is u16 and shared by JSON and binary messages.
//! - Time comes in as `now`; it must never go backwards. Nothing here reads a clock.
//!
//! # Call order
//!
//! For each state machine: create it when the socket opens; after every `handle_*` call (text,
//! binary, close, timeout) or command, drain `poll_transmit()` to the socket and `poll_event()`
//! to your logic, then wait until `poll_timeout()`. On a resumable close keep the value:
//! the client calls [`ClientConnection::resume`] on its next socket, the server hands the old
//! [`ServerConnection`] to [`ServerConnection::accept_resume`] of the new one.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voxwire_gateway::*;
//!
//! let now = Instant::now();
//! let identify = Identify {
//!     server_id: Snowflake(1), user_id: Snowflake(2), session_id: "s".into(), token: "t".into(),
//!     max_dave_protocol_version: Some(1), channel_id: None, video: None, streams: None,
//!     extra: Extra::new(),
//! };
//! let mut client = ClientConnection::new(ClientConfig::new(identify), now);
//! let mut server = ServerConnection::new(ServerConfig::new(GatewayVersion::V8), now);
//!
//! // Moves every queued message from one side to the other.
//! fn pump(client: &mut ClientConnection, server: &mut ServerConnection, now: Instant) {
//!     loop {
//!         let mut moved = false;
//!         while let Some(Transmit::Text(t)) = client.poll_transmit() { server.handle_text(&t, now).unwrap(); moved = true; }
//!         while let Some(Transmit::Text(t)) = server.poll_transmit() { client.handle_text(&t, now).unwrap(); moved = true; }
//!         if !moved { break; }
//!     }
//! }
//!
//! pump(&mut client, &mut server, now);
//! assert!(matches!(server.poll_event(), Some(ServerEvent::Identify(_))));
//! let ready = Ready {
//!     ssrc: Ssrc(42), ip: "127.0.0.1".into(), port: 50_000,
//!     modes: vec![EncryptionMode::AeadXChaCha20Poly1305Rtpsize], heartbeat_interval: None,
//!     experiments: None, streams: None, extra: Extra::new(),
//! };
//! server.accept_identify(ready, now).unwrap();
//! pump(&mut client, &mut server, now);
//! assert!(matches!(client.poll_event(), Some(ClientEvent::Hello { .. })));
//! assert!(matches!(client.poll_event(), Some(ClientEvent::Ready(r)) if r.ssrc == Ssrc(42)));
//!
//! // IP discovery happens here, over UDP, outside this crate.
//! client.select_protocol(SelectProtocol::udp("203.0.113.7", 50_123, EncryptionMode::AeadXChaCha20Poly1305Rtpsize), now).unwrap();
//! pump(&mut client, &mut server, now);
//! assert!(matches!(server.poll_event(), Some(ServerEvent::SelectProtocol(_))));
//! server.send_session_description(SessionDescription {
//!     mode: EncryptionMode::AeadXChaCha20Poly1305Rtpsize, secret_key: SecretKey([7; 32]),
//!     dave_protocol_version: 1, audio_codec: Some(CodecName::Opus), video_codec: Some(CodecName::H264),
//!     media_session_id: None, keyframe_interval: None, bandwidth_estimation_experiment: None,
//!     sdp: None, extra: Extra::new(),
//! }, now).unwrap();
//! pump(&mut client, &mut server, now);
//! assert!(matches!(client.poll_event(), Some(ClientEvent::SessionDescription(sd)) if sd.dave_protocol_version == 1));
//! assert_eq!(client.state(), ClientState::Established);
//!
//! // The first heartbeat is due within one interval.
//! let due = client.poll_timeout().unwrap();
//! assert!(due <= now + Duration::from_millis(13_750));
//! ```
//!
//! # Deliberate differences
//!
//! - The first heartbeat waits `interval * random[0,1)` (seeded by the caller), then every
//!   interval, as protocol.md 10 chooses for voxwire; discord.js waits one full interval.
//! - A client whose heartbeats go unacknowledged closes with 4000 (not 1000/1001, which
//!   would end the session) and reports [`CloseAction::Resume`], like discord.js.
//! - The server tolerates unknown opcodes (an event, not close 4001): the gateway grows new
//!   opcodes and a local server should not punish newer clients.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod binary;
mod client;
mod close;
mod error;
mod message;
pub mod payload;
mod server;
mod transmit;
mod types;

pub use binary::{ClientDave, ProposalsOperation, ServerBinary, ServerDave};
pub use client::{ClientConfig, ClientConnection, ClientEvent, ClientState, DaveEvent};
pub use close::{CloseAction, CloseCode, CloseFrame};
pub use error::Error;
pub use message::{ClientMessage, ServerFrame, ServerMessage};
pub use payload::{
    ClientDisconnect, ClientFlags, ClientPlatform, ClientsConnect, DavePrepareEpoch,
    DavePrepareTransition, DaveTransition, Heartbeat, HeartbeatAck, Hello, Identify,
    MediaSinkWants, NonceForm, ProtocolData, Ready, Resume, SelectProtocol, SessionDescription,
    SessionUpdate, Speaking, UdpProtocolData, Video, VoiceBackendVersion,
};
pub use server::{
    ClientDaveEvent, MAX_REPLAY_MESSAGES, ServerConfig, ServerConnection, ServerEvent, ServerState,
};
pub use transmit::{CloseReason, Initiator, Transmit};
pub use types::{
    Codec, CodecName, EncryptionMode, Extra, GatewayVersion, MaxResolution, MediaKind, Opcode,
    Protocol, ResolutionKind, SecretKey, Seq, Snowflake, SpeakingFlags, Ssrc, Stream, StreamKind,
    TransitionId,
};
