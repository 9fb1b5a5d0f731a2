//! The client half: Identify or Resume, Hello and heartbeats, Ready, the IP-discovery pause,
//! Select Protocol, Session Description, then events until the socket closes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::binary::{ClientDave, ProposalsOperation, ServerBinary, ServerDave};
use crate::close::{CloseAction, CloseCode, CloseFrame};
use crate::error::Error;
use crate::message::{ClientMessage, ServerFrame, ServerMessage};
use crate::payload::{
    ClientDisconnect, ClientFlags, ClientPlatform, ClientsConnect, DavePrepareEpoch,
    DavePrepareTransition, DaveTransition, Heartbeat, Identify, MediaSinkWants, NonceForm, Ready,
    Resume, SelectProtocol, SessionDescription, SessionUpdate, Speaking, Video,
    VoiceBackendVersion,
};
use crate::transmit::{CloseReason, Initiator, Transmit};
use crate::types::{GatewayVersion, Opcode, Seq, Ssrc, TransitionId};

/// Configuration of a [`ClientConnection`]. Build with [`ClientConfig::new`] and the `with_*`
/// methods.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Version in the URL (`?v=`); default v8.
    pub version: GatewayVersion,
    /// The Identify payload (also the source of Resume's ids and token).
    pub identify: Identify,
    /// Seed of the first-heartbeat jitter (`interval * random[0,1)`); pass a random value.
    pub jitter_seed: u64,
    /// Added to the milliseconds since creation to form heartbeat nonces; pass the Unix time
    /// in milliseconds to look like other clients. Default 0.
    pub nonce_base: u64,
    /// Close and resume after this many heartbeats in a row went unacknowledged (discord.js: 3).
    pub max_missed_heartbeats: u32,
    /// Largest accepted WebSocket message in bytes; larger ones close the socket.
    pub max_message_size: usize,
    /// Most events that may wait for [`ClientConnection::poll_event`]; more close the socket.
    pub max_queued_events: usize,
}

impl ClientConfig {
    /// Defaults: v8, no jitter seed, 3 missed heartbeats, 1 MiB messages, 4096 queued events.
    pub fn new(identify: Identify) -> Self {
        Self {
            version: GatewayVersion::V8,
            identify,
            jitter_seed: 0,
            nonce_base: 0,
            max_missed_heartbeats: 3,
            max_message_size: 1 << 20,
            max_queued_events: 4096,
        }
    }

    /// Sets the gateway version.
    #[must_use]
    pub fn with_version(mut self, version: GatewayVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets the jitter seed.
    #[must_use]
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }

    /// Sets the nonce base.
    #[must_use]
    pub fn with_nonce_base(mut self, base: u64) -> Self {
        self.nonce_base = base;
        self
    }

    /// Sets the missed-heartbeat limit (at least 1).
    #[must_use]
    pub fn with_max_missed_heartbeats(mut self, n: u32) -> Self {
        self.max_missed_heartbeats = n.max(1);
        self
    }

    /// Sets the message size limit.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets the event queue limit (at least 16).
    #[must_use]
    pub fn with_max_queued_events(mut self, n: usize) -> Self {
        self.max_queued_events = n.max(16);
        self
    }
}

/// Where the client is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// Identify sent, waiting for Ready.
    Identifying,
    /// Ready received: run IP discovery, then call [`ClientConnection::select_protocol`].
    AwaitingSelectProtocol,
    /// Select Protocol sent, waiting for Session Description.
    AwaitingSessionDescription,
    /// Session Description received (or resumed): media may flow.
    Established,
    /// Resume sent, waiting for Resumed.
    Resuming,
    /// The socket is closed; see the last [`ClientEvent::Closed`]. Call
    /// [`ClientConnection::resume`] or [`ClientConnection::reconnect`] on a new socket.
    Closed,
}

impl ClientState {
    fn name(self) -> &'static str {
        match self {
            Self::Identifying => "identifying",
            Self::AwaitingSelectProtocol => "awaiting select protocol",
            Self::AwaitingSessionDescription => "awaiting session description",
            Self::Established => "established",
            Self::Resuming => "resuming",
            Self::Closed => "closed",
        }
    }
}

/// A DAVE message from the server, for the MLS session (voxwire-crypto).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaveEvent {
    /// Op 21.
    PrepareTransition {
        /// Protocol version after the transition.
        protocol_version: u16,
        /// Transition id (0: execute now, no op 23).
        transition_id: TransitionId,
    },
    /// Op 22.
    ExecuteTransition {
        /// Transition id.
        transition_id: TransitionId,
    },
    /// Op 24.
    PrepareEpoch {
        /// Protocol version.
        protocol_version: u16,
        /// Epoch (1: a new group).
        epoch: u64,
    },
    /// Op 25: TLS-encoded `ExternalSender`.
    ExternalSender(Vec<u8>),
    /// Op 27.
    Proposals {
        /// Append or revoke.
        operation: ProposalsOperation,
        /// The proposals or refs vector.
        data: Vec<u8>,
    },
    /// Op 29.
    AnnounceCommitTransition {
        /// Transition id.
        transition_id: TransitionId,
        /// Commit `MLSMessage`.
        commit: Vec<u8>,
    },
    /// Op 30.
    Welcome {
        /// Transition id.
        transition_id: TransitionId,
        /// Bare Welcome.
        welcome: Vec<u8>,
    },
}

/// What the client reports to its caller.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Op 8: heartbeating has started.
    Hello {
        /// The heartbeat interval.
        interval: Duration,
        /// The version the server reports.
        version: Option<GatewayVersion>,
    },
    /// Op 2: run IP discovery against `ip:port` with `ssrc`, then call
    /// [`ClientConnection::select_protocol`].
    Ready(Ready),
    /// Op 4: the transport key and mode; send Speaking before any media.
    SessionDescription(SessionDescription),
    /// Op 9: the session continues; missed messages follow as ordinary events.
    Resumed,
    /// Op 6 for the outstanding heartbeat.
    HeartbeatAck {
        /// Round trip from sending the heartbeat to receiving its ACK.
        latency: Duration,
    },
    /// Op 5: a remote user's speaking state and audio SSRC.
    Speaking(Speaking),
    /// Op 11.
    ClientsConnect(ClientsConnect),
    /// Op 13.
    ClientDisconnect(ClientDisconnect),
    /// Op 12.
    Video(Video),
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
    /// DAVE ops 21, 22, 24, 25, 27, 29, 30.
    Dave(DaveEvent),
    /// A JSON opcode this client does not handle, with its raw payload.
    UnknownJson {
        /// Opcode.
        op: Opcode,
        /// Raw `d`.
        d: serde_json::Value,
    },
    /// A binary opcode this client does not handle.
    UnknownBinary {
        /// Opcode.
        op: Opcode,
        /// Payload after the opcode.
        payload: Vec<u8>,
    },
    /// The socket ended; `action` says what to do next.
    Closed(CloseReason),
}

/// Per-socket heartbeat state.
#[derive(Clone, Debug, Default)]
struct Heartbeats {
    interval: Option<Duration>,
    next: Option<Instant>,
    outstanding: Option<(u64, Instant)>,
    missed: u32,
    last_nonce: u64,
}

/// The sans-IO voice-gateway client. One value lives for the whole voice session, across
/// sockets: after a close, open a new socket and call [`ClientConnection::resume`] or
/// [`ClientConnection::reconnect`].
///
/// Call order: create it when the socket opens; feed every received message to
/// [`handle_text`](Self::handle_text) / [`handle_binary`](Self::handle_binary), a close or drop
/// to [`handle_close`](Self::handle_close), and expired deadlines to
/// [`handle_timeout`](Self::handle_timeout); after each, drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event), then sleep until
/// [`poll_timeout`](Self::poll_timeout). `now` must never go backwards.
#[derive(Debug)]
pub struct ClientConnection {
    config: ClientConfig,
    state: ClientState,
    epoch: Instant,
    rng: u64,
    heartbeats: Heartbeats,
    last_seq: Option<Seq>,
    ready: Option<Ready>,
    session: Option<SessionDescription>,
    latency: Option<Duration>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
}

impl ClientConnection {
    /// Starts a session on a socket that has just opened: queues Identify.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let rng = config.jitter_seed;
        let mut this = Self {
            config,
            state: ClientState::Identifying,
            epoch: now,
            rng,
            heartbeats: Heartbeats::default(),
            last_seq: None,
            ready: None,
            session: None,
            latency: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        this.queue_identify();
        this
    }

    /// The handshake state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The configured gateway version.
    pub fn version(&self) -> GatewayVersion {
        self.config.version
    }

    /// The Ready payload of this session, once received.
    pub fn ready(&self) -> Option<&Ready> {
        self.ready.as_ref()
    }

    /// Own audio SSRC, once Ready arrived.
    pub fn ssrc(&self) -> Option<Ssrc> {
        self.ready.as_ref().map(|r| r.ssrc)
    }

    /// The Session Description of this session, once received.
    pub fn session_description(&self) -> Option<&SessionDescription> {
        self.session.as_ref()
    }

    /// The last heartbeat round trip.
    pub fn latency(&self) -> Option<Duration> {
        self.latency
    }

    /// The last server sequence number seen (JSON `seq` or binary prefix): the next `seq_ack`.
    pub fn last_seq(&self) -> Option<Seq> {
        self.last_seq
    }

    /// The next message to send on the socket.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the caller.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next (the next heartbeat).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == ClientState::Closed { None } else { self.heartbeats.next }
    }

    /// Handles the passage of time: sends due heartbeats, or closes the socket after
    /// `max_missed_heartbeats` unacknowledged ones.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(next) = self.heartbeats.next else { return };
        if self.state == ClientState::Closed || now < next {
            return;
        }
        let Some(interval) = self.heartbeats.interval else { return };
        if self.heartbeats.outstanding.is_some() {
            self.heartbeats.missed += 1;
            if self.heartbeats.missed >= self.config.max_missed_heartbeats {
                self.close_local(
                    CloseCode::CLIENT_RESUME,
                    "heartbeat ACK timeout",
                    CloseAction::Resume,
                );
                return;
            }
        }
        self.send_heartbeat(now);
        // Keep the cadence even if the caller was late, but never schedule in the past.
        let mut due = next + interval;
        if due <= now {
            due = now + interval;
        }
        self.heartbeats.next = Some(due);
    }

    /// Handles a text WebSocket message. A decode error leaves the connection as it was (the
    /// message is skipped); a message larger than the limit closes the socket.
    pub fn handle_text(&mut self, text: &str, now: Instant) -> Result<(), Error> {
        self.check_open_and_size(text.len())?;
        let ServerFrame { seq, message } = ServerMessage::parse(text)?;
        if seq.is_some() {
            self.last_seq = seq;
        }
        self.on_message(message, now)
    }

    /// Handles a binary WebSocket message (DAVE ops 25-30).
    pub fn handle_binary(&mut self, data: &[u8], now: Instant) -> Result<(), Error> {
        let _ = now;
        self.check_open_and_size(data.len())?;
        let ServerBinary { seq, message } =
            ServerBinary::parse(data, self.config.version.has_seq())?;
        if seq.is_some() {
            self.last_seq = seq;
        }
        let event = match message {
            ServerDave::ExternalSender(p) => {
                ClientEvent::Dave(DaveEvent::ExternalSender(p.to_vec()))
            }
            ServerDave::Proposals { operation, data } => {
                ClientEvent::Dave(DaveEvent::Proposals { operation, data: data.to_vec() })
            }
            ServerDave::AnnounceCommitTransition { transition_id, commit } => {
                ClientEvent::Dave(DaveEvent::AnnounceCommitTransition {
                    transition_id,
                    commit: commit.to_vec(),
                })
            }
            ServerDave::Welcome { transition_id, welcome } => {
                ClientEvent::Dave(DaveEvent::Welcome { transition_id, welcome: welcome.to_vec() })
            }
            ServerDave::Unknown { op, payload } => {
                ClientEvent::UnknownBinary { op, payload: payload.to_vec() }
            }
        };
        self.push_event(event)
    }

    /// Handles the end of the socket: `Some(frame)` when the server sent a close frame, `None`
    /// when the transport dropped. Emits [`ClientEvent::Closed`] unless this side closed first.
    pub fn handle_close(&mut self, frame: Option<CloseFrame>, now: Instant) {
        let _ = now;
        if self.state == ClientState::Closed {
            return;
        }
        let (code, reason, initiator) = match frame {
            Some(f) => (f.code, f.reason, Initiator::Remote),
            None => (CloseCode::ABNORMAL, String::new(), Initiator::Transport),
        };
        let mut action = code.action();
        if action == CloseAction::Resume && self.ready.is_none() {
            // Nothing to resume before the server accepted Identify.
            action = CloseAction::Reconnect;
        }
        self.enter_closed();
        self.events.push_back(ClientEvent::Closed(CloseReason { code, reason, initiator, action }));
    }

    /// Sends Select Protocol after IP discovery. Valid once, after [`ClientEvent::Ready`].
    pub fn select_protocol(&mut self, select: SelectProtocol, now: Instant) -> Result<(), Error> {
        let _ = now;
        if self.state != ClientState::AwaitingSelectProtocol {
            return Err(self.invalid("select protocol"));
        }
        self.queue(&ClientMessage::SelectProtocol(select))?;
        self.state = ClientState::AwaitingSessionDescription;
        Ok(())
    }

    /// Sends any other JSON message (Speaking, Video, Media Sink Wants, Session Update, op 16,
    /// DAVE ops 23/31, ...) once Ready has arrived. Identify, Resume, Select Protocol and
    /// Heartbeat are sent by the state machine itself and are refused here.
    pub fn send(&mut self, message: &ClientMessage, now: Instant) -> Result<(), Error> {
        let _ = now;
        if matches!(
            message,
            ClientMessage::Identify(_)
                | ClientMessage::Resume(_)
                | ClientMessage::Heartbeat(_)
                | ClientMessage::SelectProtocol(_)
        ) {
            return Err(Error::InvalidState {
                action: "sending a handshake message by hand",
                state: self.state.name(),
            });
        }
        if !matches!(
            self.state,
            ClientState::AwaitingSelectProtocol
                | ClientState::AwaitingSessionDescription
                | ClientState::Established
        ) {
            return Err(self.invalid("send"));
        }
        self.queue(message)
    }

    /// Sends op 5 Speaking with the own SSRC and `delay: 0`.
    pub fn send_speaking(
        &mut self,
        flags: crate::types::SpeakingFlags,
        now: Instant,
    ) -> Result<(), Error> {
        let ssrc = self.ssrc().ok_or_else(|| self.invalid("speaking"))?;
        let speaking = Speaking {
            speaking: flags,
            ssrc,
            delay: Some(0),
            user_id: None,
            extra: crate::Extra::new(),
        };
        self.send(&ClientMessage::Speaking(speaking), now)
    }

    /// Sends a binary DAVE message (op 26 Key Package, op 28 Commit Welcome).
    pub fn send_dave(&mut self, message: ClientDave<'_>, now: Instant) -> Result<(), Error> {
        let _ = now;
        if !matches!(
            self.state,
            ClientState::AwaitingSessionDescription
                | ClientState::Established
                | ClientState::AwaitingSelectProtocol
        ) {
            return Err(self.invalid("send DAVE"));
        }
        self.transmits.push_back(Transmit::Binary(message.to_vec()));
        Ok(())
    }

    /// Closes the socket normally (1000): the session ends.
    pub fn close(&mut self, now: Instant) {
        let _ = now;
        if self.state != ClientState::Closed {
            self.close_local(CloseCode::NORMAL, "client leaving", CloseAction::Stop);
        }
    }

    /// On a new socket after a resumable close: queues op 7 Resume with `seq_ack`. Session
    /// state (Ready, Session Description, last sequence number) is kept.
    pub fn resume(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != ClientState::Closed || self.ready.is_none() {
            return Err(self.invalid("resume"));
        }
        self.reset_socket(now);
        let id = &self.config.identify;
        let resume = Resume {
            server_id: id.server_id,
            session_id: id.session_id.clone(),
            token: id.token.clone(),
            seq_ack: if self.config.version.has_seq() { self.last_seq } else { None },
            channel_id: if self.config.version.has_channel_id() { id.channel_id } else { None },
            extra: crate::Extra::new(),
        };
        self.queue(&ClientMessage::Resume(resume))?;
        self.state = ClientState::Resuming;
        Ok(())
    }

    /// On a new socket: starts over with Identify, forgetting the session. Pass new
    /// credentials (a 4004/4006 close needs a fresh token) or `None` to reuse the old ones.
    pub fn reconnect(&mut self, identify: Option<Identify>, now: Instant) -> Result<(), Error> {
        if self.state != ClientState::Closed {
            return Err(self.invalid("reconnect"));
        }
        if let Some(identify) = identify {
            self.config.identify = identify;
        }
        self.reset_socket(now);
        self.ready = None;
        self.session = None;
        self.last_seq = None;
        self.state = ClientState::Identifying;
        self.queue_identify();
        Ok(())
    }

    fn reset_socket(&mut self, now: Instant) {
        let _ = now;
        self.heartbeats =
            Heartbeats { last_nonce: self.heartbeats.last_nonce, ..Heartbeats::default() };
        self.transmits.clear();
    }

    fn queue_identify(&mut self) {
        let mut identify = self.config.identify.clone();
        if !self.config.version.has_channel_id() {
            identify.channel_id = None;
        }
        // Encoding our own Identify cannot fail (string keys only); if it ever did, the
        // socket would just wait for a server timeout, so the error is not lost silently.
        if let Err(e) = self.queue(&ClientMessage::Identify(identify)) {
            self.events.push_back(ClientEvent::Closed(CloseReason {
                code: CloseCode::BAD_REQUEST,
                reason: e.to_string(),
                initiator: Initiator::Local,
                action: CloseAction::Stop,
            }));
        }
    }

    fn queue(&mut self, message: &ClientMessage) -> Result<(), Error> {
        self.transmits.push_back(Transmit::Text(message.encode()?));
        Ok(())
    }

    fn invalid(&self, action: &'static str) -> Error {
        Error::InvalidState { action, state: self.state.name() }
    }

    fn check_open_and_size(&mut self, len: usize) -> Result<(), Error> {
        if self.state == ClientState::Closed {
            return Err(Error::Closed);
        }
        if len > self.config.max_message_size {
            self.close_local(CloseCode::MESSAGE_TOO_BIG, "message too big", CloseAction::Reconnect);
            return Err(Error::MessageTooLarge {
                limit: self.config.max_message_size,
                actual: len,
            });
        }
        Ok(())
    }

    fn push_event(&mut self, event: ClientEvent) -> Result<(), Error> {
        if self.events.len() >= self.config.max_queued_events {
            let code = CloseCode(1008);
            self.close_local(code, "event queue full", CloseAction::Reconnect);
            return Err(Error::Flood { what: "client event queue not drained", code });
        }
        self.events.push_back(event);
        Ok(())
    }

    fn enter_closed(&mut self) {
        self.state = ClientState::Closed;
        self.heartbeats.next = None;
        self.heartbeats.outstanding = None;
    }

    fn close_local(&mut self, code: CloseCode, reason: &str, mut action: CloseAction) {
        if action == CloseAction::Resume && self.ready.is_none() {
            action = CloseAction::Reconnect;
        }
        self.transmits.push_back(Transmit::Close(CloseFrame::new(code, reason)));
        self.enter_closed();
        // The Closed event bypasses the queue limit: it is the last one for this socket.
        self.events.push_back(ClientEvent::Closed(CloseReason {
            code,
            reason: reason.to_owned(),
            initiator: Initiator::Local,
            action,
        }));
    }

    fn next_jitter(&mut self) -> f64 {
        // SplitMix64: a fixed, well-distributed sequence per seed, so tests are reproducible.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[expect(clippy::cast_precision_loss, reason = "53 bits fit an f64 mantissa exactly")]
        let frac = (z >> 11) as f64 / (1u64 << 53) as f64;
        frac
    }

    fn send_heartbeat(&mut self, now: Instant) {
        let elapsed = u64::try_from(now.saturating_duration_since(self.epoch).as_millis())
            .unwrap_or(u64::MAX);
        let nonce = self
            .config
            .nonce_base
            .wrapping_add(elapsed)
            .max(self.heartbeats.last_nonce.wrapping_add(1));
        self.heartbeats.last_nonce = nonce;
        let object = self.config.version.has_object_heartbeat();
        let heartbeat = Heartbeat {
            nonce,
            seq_ack: if object { self.last_seq } else { None },
            form: if object { NonceForm::Object } else { NonceForm::Bare },
        };
        if self.queue(&ClientMessage::Heartbeat(heartbeat)).is_ok()
            && self.heartbeats.outstanding.is_none()
        {
            self.heartbeats.outstanding = Some((nonce, now));
        }
    }

    fn on_message(&mut self, message: ServerMessage, now: Instant) -> Result<(), Error> {
        let event = match message {
            ServerMessage::Hello(hello) => {
                let interval = hello.interval().ok_or_else(|| Error::OutOfRange {
                    field: "heartbeat_interval",
                    value: hello.heartbeat_interval.to_string(),
                })?;
                self.heartbeats.interval = Some(interval);
                self.heartbeats.next = Some(now + interval.mul_f64(self.next_jitter()));
                ClientEvent::Hello { interval, version: hello.v }
            }
            ServerMessage::Ready(ready) => {
                if self.state != ClientState::Identifying {
                    return Err(Error::UnexpectedMessage {
                        op: Opcode::READY,
                        state: self.state.name(),
                    });
                }
                self.ready = Some(ready.clone());
                self.state = ClientState::AwaitingSelectProtocol;
                ClientEvent::Ready(ready)
            }
            ServerMessage::SessionDescription(sd) => {
                if !matches!(
                    self.state,
                    ClientState::AwaitingSessionDescription | ClientState::Established
                ) {
                    return Err(Error::UnexpectedMessage {
                        op: Opcode::SESSION_DESCRIPTION,
                        state: self.state.name(),
                    });
                }
                self.session = Some(sd.clone());
                self.state = ClientState::Established;
                ClientEvent::SessionDescription(sd)
            }
            ServerMessage::Resumed => {
                if self.state != ClientState::Resuming {
                    return Err(Error::UnexpectedMessage {
                        op: Opcode::RESUMED,
                        state: self.state.name(),
                    });
                }
                // A resume can land between Ready and Session Description; pick up where it was.
                self.state = if self.session.is_some() {
                    ClientState::Established
                } else if self.ready.is_some() {
                    ClientState::AwaitingSelectProtocol
                } else {
                    ClientState::Identifying
                };
                ClientEvent::Resumed
            }
            ServerMessage::HeartbeatAck(_) => {
                // discord.js and discord.py do not match the nonce either: any ACK answers the
                // outstanding heartbeat (servers have echoed it in both forms).
                let Some((_, sent)) = self.heartbeats.outstanding.take() else { return Ok(()) };
                self.heartbeats.missed = 0;
                let latency = now.saturating_duration_since(sent);
                self.latency = Some(latency);
                ClientEvent::HeartbeatAck { latency }
            }
            ServerMessage::HeartbeatRequest(_) => {
                self.send_heartbeat(now);
                return Ok(());
            }
            ServerMessage::Speaking(s) => ClientEvent::Speaking(s),
            ServerMessage::ClientsConnect(c) => ClientEvent::ClientsConnect(c),
            ServerMessage::ClientDisconnect(c) => ClientEvent::ClientDisconnect(c),
            ServerMessage::Video(v) => ClientEvent::Video(v),
            ServerMessage::SessionUpdate(u) => ClientEvent::SessionUpdate(u),
            ServerMessage::MediaSinkWants(w) => ClientEvent::MediaSinkWants(w),
            ServerMessage::VoiceBackendVersion(v) => ClientEvent::VoiceBackendVersion(v),
            ServerMessage::ClientFlags(f) => ClientEvent::ClientFlags(f),
            ServerMessage::ClientPlatform(p) => ClientEvent::ClientPlatform(p),
            ServerMessage::DavePrepareTransition(DavePrepareTransition {
                protocol_version,
                transition_id,
                ..
            }) => {
                ClientEvent::Dave(DaveEvent::PrepareTransition { protocol_version, transition_id })
            }
            ServerMessage::DaveExecuteTransition(DaveTransition { transition_id, .. }) => {
                ClientEvent::Dave(DaveEvent::ExecuteTransition { transition_id })
            }
            ServerMessage::DavePrepareEpoch(DavePrepareEpoch {
                protocol_version, epoch, ..
            }) => ClientEvent::Dave(DaveEvent::PrepareEpoch { protocol_version, epoch }),
            ServerMessage::Unknown { op, d } => ClientEvent::UnknownJson { op, d },
        };
        self.push_event(event)
    }
}
