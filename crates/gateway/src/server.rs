//! The server half: Hello, Identify validation by the caller, Ready, Select Protocol to
//! Session Description, heartbeat ACKs, resume with replay from a bounded buffer, close codes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::binary::{ClientDave, ServerDave};
use crate::close::{CloseAction, CloseCode, CloseFrame};
use crate::error::Error;
use crate::message::{ClientMessage, ServerMessage};
use crate::payload::{
    Heartbeat, HeartbeatAck, Hello, Identify, MediaSinkWants, Ready, Resume, SelectProtocol,
    SessionDescription, SessionUpdate, Speaking, Video, VoiceBackendVersion,
};
use crate::transmit::{CloseReason, Initiator, RateWindow, Transmit};
use crate::types::{Extra, GatewayVersion, Opcode, Protocol, Seq, TransitionId};

/// The largest replay buffer in messages: half the sequence space, so that "after `seq_ack`"
/// is never ambiguous across the u16 wrap.
pub const MAX_REPLAY_MESSAGES: usize = 1 << 15;

/// Configuration of a [`ServerConnection`]. Build with [`ServerConfig::new`] and `with_*`.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The version the client asked for ([`GatewayVersion::from_query`]). Decides whether
    /// `seq` and binary sequence numbers are sent (v8+ only).
    pub version: GatewayVersion,
    /// Heartbeat interval announced in Hello (default 13750 ms, as observed).
    pub heartbeat_interval: Duration,
    /// Close with 4009 when nothing arrives for this long (default: 2 intervals + 5 s, which
    /// covers discord.js's first heartbeat one full interval after Hello).
    pub receive_timeout: Duration,
    /// Close with 4009 when neither Identify nor Resume arrived within this time (default 30 s).
    pub identify_timeout: Duration,
    /// Largest accepted message in bytes; larger ones close with 4002 (default 1 MiB).
    pub max_message_size: usize,
    /// Most client messages per `rate_window`; more close with 4021 (default 240 per 10 s).
    pub rate_limit: u32,
    /// The window of `rate_limit`.
    pub rate_window: Duration,
    /// Most messages kept for replay (default 1024, at most [`MAX_REPLAY_MESSAGES`]).
    pub replay_messages: usize,
    /// Most bytes kept for replay (default 1 MiB). The oldest are dropped first; a resume that
    /// needs a dropped message is refused with 4006.
    pub replay_bytes: usize,
    /// Most events that may wait for [`ServerConnection::poll_event`] (default 4096).
    pub max_queued_events: usize,
}

impl ServerConfig {
    /// Defaults for a client that connected with `version`.
    pub fn new(version: GatewayVersion) -> Self {
        let heartbeat_interval = Duration::from_millis(13_750);
        Self {
            version,
            heartbeat_interval,
            receive_timeout: heartbeat_interval * 2 + Duration::from_secs(5),
            identify_timeout: Duration::from_secs(30),
            max_message_size: 1 << 20,
            rate_limit: 240,
            rate_window: Duration::from_secs(10),
            replay_messages: 1024,
            replay_bytes: 1 << 20,
            max_queued_events: 4096,
        }
    }

    /// Sets the heartbeat interval and derives the receive timeout from it.
    #[must_use]
    pub fn with_heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval.clamp(Hello::MIN_INTERVAL, Hello::MAX_INTERVAL);
        self.receive_timeout = self.heartbeat_interval * 2 + Duration::from_secs(5);
        self
    }

    /// Sets the receive timeout.
    #[must_use]
    pub fn with_receive_timeout(mut self, timeout: Duration) -> Self {
        self.receive_timeout = timeout;
        self
    }

    /// Sets the identify timeout.
    #[must_use]
    pub fn with_identify_timeout(mut self, timeout: Duration) -> Self {
        self.identify_timeout = timeout;
        self
    }

    /// Sets the message size limit.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets the rate limit.
    #[must_use]
    pub fn with_rate_limit(mut self, messages: u32, window: Duration) -> Self {
        self.rate_limit = messages;
        self.rate_window = window;
        self
    }

    /// Sets the replay buffer bounds.
    #[must_use]
    pub fn with_replay_capacity(mut self, messages: usize, bytes: usize) -> Self {
        self.replay_messages = messages.min(MAX_REPLAY_MESSAGES);
        self.replay_bytes = bytes;
        self
    }

    /// Sets the event queue limit (at least 16).
    #[must_use]
    pub fn with_max_queued_events(mut self, n: usize) -> Self {
        self.max_queued_events = n.max(16);
        self
    }
}

/// Where the server is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Hello sent; waiting for Identify or Resume.
    AwaitingIdentify,
    /// [`ServerEvent::Identify`] raised; waiting for [`ServerConnection::accept_identify`] or
    /// [`ServerConnection::reject`].
    ValidatingIdentify,
    /// [`ServerEvent::Resume`] raised; waiting for [`ServerConnection::accept_resume`] or
    /// [`ServerConnection::reject`].
    ValidatingResume,
    /// Ready sent; waiting for Select Protocol.
    AwaitingSelectProtocol,
    /// [`ServerEvent::SelectProtocol`] raised; waiting for
    /// [`ServerConnection::send_session_description`].
    AwaitingSessionDescription,
    /// Session Description sent.
    Established,
    /// The socket is closed. If resumable, keep this value for
    /// [`ServerConnection::accept_resume`] on the client's next socket.
    Closed,
}

impl ServerState {
    fn name(self) -> &'static str {
        match self {
            Self::AwaitingIdentify => "awaiting identify",
            Self::ValidatingIdentify => "validating identify",
            Self::ValidatingResume => "validating resume",
            Self::AwaitingSelectProtocol => "awaiting select protocol",
            Self::AwaitingSessionDescription => "awaiting session description",
            Self::Established => "established",
            Self::Closed => "closed",
        }
    }
}

/// A DAVE message from the client, for the server's MLS external sender logic.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientDaveEvent {
    /// Op 23.
    TransitionReady(TransitionId),
    /// Op 31.
    InvalidCommitWelcome(TransitionId),
    /// Op 26: a bare TLS-encoded `KeyPackage`.
    KeyPackage(Vec<u8>),
    /// Op 28: commit `MLSMessage`, optionally followed by a Welcome.
    CommitWelcome(Vec<u8>),
}

/// What the server reports to its caller.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// Op 0: check the credentials, then [`ServerConnection::accept_identify`] with the Ready
    /// to send, or [`ServerConnection::reject`] (4004 for a bad token).
    Identify(Identify),
    /// Op 7: find the previous [`ServerConnection`] of `session_id` and call
    /// [`ServerConnection::accept_resume`], or reject with 4006.
    Resume(Resume),
    /// Op 1 (already checked: protocol `udp`, mode one of Ready `modes`): answer with
    /// [`ServerConnection::send_session_description`].
    SelectProtocol(SelectProtocol),
    /// Op 3, already acknowledged.
    Heartbeat(Heartbeat),
    /// Op 5.
    Speaking(Speaking),
    /// Op 12.
    Video(Video),
    /// Op 14 (`codecs`).
    SessionUpdate(SessionUpdate),
    /// Op 15.
    MediaSinkWants(MediaSinkWants),
    /// Op 16 request; answer with [`ServerMessage::VoiceBackendVersion`] if wanted.
    VoiceBackendVersion(VoiceBackendVersion),
    /// Op 32.
    NoRoute(Extra),
    /// DAVE ops 23, 26, 28, 31.
    Dave(ClientDaveEvent),
    /// A JSON opcode the server does not handle (tolerated, not closed).
    UnknownJson {
        /// Opcode.
        op: Opcode,
        /// Raw `d`.
        d: serde_json::Value,
    },
    /// A binary opcode the server does not handle.
    UnknownBinary {
        /// Opcode.
        op: Opcode,
        /// Payload after the opcode.
        payload: Vec<u8>,
    },
    /// The socket ended. `action` is [`CloseAction::Resume`] when the session may be resumed.
    Closed(CloseReason),
}

/// The session state that survives a socket: the replay buffer and what was negotiated.
#[derive(Debug)]
struct Session {
    identify: Identify,
    ready: Ready,
    next_seq: Seq,
    sent: u64,
    dropped: u64,
    replay: VecDeque<(Seq, Transmit)>,
    replay_bytes: usize,
    /// Session Description has been sent.
    described: bool,
}

/// The sans-IO voice-gateway server side of one client session.
///
/// Call order: create it when a client's socket opens (it queues Hello); feed received
/// messages to [`handle_text`](Self::handle_text) / [`handle_binary`](Self::handle_binary),
/// the socket's end to [`handle_close`](Self::handle_close), expired deadlines to
/// [`handle_timeout`](Self::handle_timeout); answer [`ServerEvent::Identify`],
/// [`ServerEvent::Resume`] and [`ServerEvent::SelectProtocol`]; after each call drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event). `now` must
/// never go backwards.
///
/// Messages sent with [`send`](Self::send) while the socket is down (state `Closed`, resumable)
/// are numbered and buffered, and reach the client on resume.
#[derive(Debug)]
pub struct ServerConnection {
    config: ServerConfig,
    state: ServerState,
    resumable: bool,
    session: Option<Session>,
    pending_identify: Option<Identify>,
    pending_resume: Option<Resume>,
    created: Instant,
    last_receive: Instant,
    rate: RateWindow,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ServerEvent>,
}

impl ServerConnection {
    /// Starts serving a socket that has just opened: queues Hello.
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        let rate = RateWindow::new(config.rate_limit, config.rate_window);
        let mut this = Self {
            state: ServerState::AwaitingIdentify,
            resumable: false,
            session: None,
            pending_identify: None,
            pending_resume: None,
            created: now,
            last_receive: now,
            rate,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            config,
        };
        let hello = Hello::new(this.config.version, this.config.heartbeat_interval);
        this.send_unsequenced(&ServerMessage::Hello(hello));
        this
    }

    /// The handshake state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The client's version.
    pub fn version(&self) -> GatewayVersion {
        self.config.version
    }

    /// The accepted Identify (after [`accept_identify`](Self::accept_identify) or a resume).
    pub fn identify(&self) -> Option<&Identify> {
        self.session.as_ref().map(|s| &s.identify)
    }

    /// The Ready sent to this client.
    pub fn ready(&self) -> Option<&Ready> {
        self.session.as_ref().map(|s| &s.ready)
    }

    /// Whether a closed connection may still be resumed.
    pub fn is_resumable(&self) -> bool {
        self.state == ServerState::Closed && self.resumable && self.session.is_some()
    }

    /// Messages currently held for replay.
    pub fn replay_len(&self) -> usize {
        self.session.as_ref().map_or(0, |s| s.replay.len())
    }

    /// The next message to send on the socket.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the caller.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            ServerState::Closed => None,
            ServerState::AwaitingIdentify => Some(
                (self.created + self.config.identify_timeout)
                    .min(self.last_receive + self.config.receive_timeout),
            ),
            _ => Some(self.last_receive + self.config.receive_timeout),
        }
    }

    /// Closes the socket with 4009 when the client went silent or never identified.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.poll_timeout() else { return };
        if now >= deadline {
            self.close_with(CloseCode::SESSION_TIMEOUT, "session timeout", false);
        }
    }

    /// Handles a text message from the client. Protocol violations close the socket with the
    /// documented code and are returned as errors too; unknown opcodes become events.
    pub fn handle_text(&mut self, text: &str, now: Instant) -> Result<(), Error> {
        self.admit(text.len(), now)?;
        let message = match ClientMessage::parse(text) {
            Ok(m) => m,
            Err(e) => {
                self.close_with(CloseCode::DECODE_ERROR, "failed to decode payload", true);
                return Err(e);
            }
        };
        self.on_message(message, now)
    }

    /// Handles a binary message from the client (DAVE ops 26 and 28).
    pub fn handle_binary(&mut self, data: &[u8], now: Instant) -> Result<(), Error> {
        self.admit(data.len(), now)?;
        let message = match ClientDave::parse(data) {
            Ok(m) => m,
            Err(e) => {
                self.close_with(CloseCode::DECODE_ERROR, "failed to decode payload", true);
                return Err(e);
            }
        };
        if !self.is_authenticated() {
            self.close_with(CloseCode::NOT_AUTHENTICATED, "not authenticated", false);
            return Err(Error::UnexpectedMessage {
                op: message.opcode(),
                state: self.state.name(),
            });
        }
        let event = match message {
            ClientDave::KeyPackage(p) => ServerEvent::Dave(ClientDaveEvent::KeyPackage(p.to_vec())),
            ClientDave::CommitWelcome(p) => {
                ServerEvent::Dave(ClientDaveEvent::CommitWelcome(p.to_vec()))
            }
            ClientDave::Unknown { op, payload } => {
                ServerEvent::UnknownBinary { op, payload: payload.to_vec() }
            }
        };
        self.push_event(event)
    }

    /// Handles the end of the socket: `Some(frame)` when the client sent a close frame, `None`
    /// when the transport dropped. A client's 1000/1001 ends the session; other closes leave
    /// it resumable.
    pub fn handle_close(&mut self, frame: Option<CloseFrame>, now: Instant) {
        let _ = now;
        if self.state == ServerState::Closed {
            return;
        }
        let (code, reason, initiator) = match frame {
            Some(f) => (f.code, f.reason, Initiator::Remote),
            None => (CloseCode::ABNORMAL, String::new(), Initiator::Transport),
        };
        self.resumable =
            self.session.is_some() && code != CloseCode::NORMAL && code != CloseCode::GOING_AWAY;
        self.state = ServerState::Closed;
        self.transmits.clear();
        let action = if self.resumable { CloseAction::Resume } else { CloseAction::Stop };
        self.events.push_back(ServerEvent::Closed(CloseReason { code, reason, initiator, action }));
    }

    /// Accepts the pending Identify: sends Ready and waits for Select Protocol.
    pub fn accept_identify(&mut self, ready: Ready, now: Instant) -> Result<(), Error> {
        let _ = now;
        if self.state != ServerState::ValidatingIdentify {
            return Err(self.invalid("accept identify"));
        }
        let Some(identify) = self.take_pending_identify() else {
            return Err(self.invalid("accept identify"));
        };
        self.session = Some(Session {
            identify,
            ready: ready.clone(),
            next_seq: Seq(1),
            sent: 0,
            dropped: 0,
            replay: VecDeque::new(),
            replay_bytes: 0,
            described: false,
        });
        self.state = ServerState::AwaitingSelectProtocol;
        self.send_sequenced(&ServerMessage::Ready(ready))
    }

    /// Accepts the pending Resume, taking over `previous` (the connection of the client's
    /// previous socket): sends Resumed, then every buffered message after the client's
    /// `seq_ack`. If the ids or token do not match, `previous` is not resumable, or the buffer
    /// no longer holds a missed message, closes with 4006 and returns
    /// [`Error::ResumeRefused`].
    pub fn accept_resume(&mut self, previous: Self, now: Instant) -> Result<(), Error> {
        let _ = now;
        if self.state != ServerState::ValidatingResume {
            return Err(self.invalid("accept resume"));
        }
        let Some(resume) = self.pending_resume.take() else {
            return Err(self.invalid("accept resume"));
        };
        let refuse = |this: &mut Self, reason: &'static str| {
            this.close_with(CloseCode::SESSION_INVALID, "session no longer valid", false);
            Err(Error::ResumeRefused { reason })
        };
        let resumable = previous.is_resumable()
            || (previous.state != ServerState::Closed && previous.session.is_some());
        let Some(mut session) = previous.session.filter(|_| resumable) else {
            return refuse(self, "previous connection is not resumable");
        };
        if session.identify.session_id != resume.session_id
            || session.identify.token != resume.token
            || session.identify.server_id != resume.server_id
        {
            return refuse(self, "session id, server id or token mismatch");
        }
        let replay_from = if self.config.version.has_seq() {
            match replay_start(&session, resume.seq_ack) {
                Some(i) => i,
                None => return refuse(self, "missed messages are no longer buffered"),
            }
        } else {
            session.replay.len()
        };
        self.send_unsequenced(&ServerMessage::Resumed);
        self.transmits.extend(session.replay.iter().skip(replay_from).map(|(_, t)| t.clone()));
        // What the client acknowledged is no longer needed.
        for _ in 0..replay_from {
            if let Some((_, t)) = session.replay.pop_front() {
                session.replay_bytes -= t.len();
                session.dropped += 1;
            }
        }
        // Before Session Description the client still has to select a protocol on this socket.
        self.state = if session.described {
            ServerState::Established
        } else {
            ServerState::AwaitingSelectProtocol
        };
        self.session = Some(session);
        Ok(())
    }

    /// Refuses the pending Identify or Resume (or ends any session) with `code`:
    /// [`CloseCode::AUTHENTICATION_FAILED`], [`CloseCode::SESSION_INVALID`],
    /// [`CloseCode::E2EE_REQUIRED`], ...
    pub fn reject(&mut self, code: CloseCode, reason: &str, now: Instant) {
        let _ = now;
        self.pending_resume = None;
        self.close_with(code, reason, false);
    }

    /// Closes the socket with `code`. With a resumable code (e.g. 4015) the session stays
    /// resumable and later [`send`](Self::send)s are buffered for replay.
    pub fn close(&mut self, code: CloseCode, reason: &str, now: Instant) {
        let _ = now;
        self.close_with(code, reason, code.is_resumable());
    }

    /// Answers Select Protocol with op 4.
    pub fn send_session_description(
        &mut self,
        description: SessionDescription,
        now: Instant,
    ) -> Result<(), Error> {
        let _ = now;
        if !matches!(self.state, ServerState::AwaitingSessionDescription | ServerState::Established)
        {
            return Err(self.invalid("send session description"));
        }
        self.state = ServerState::Established;
        if let Some(session) = self.session.as_mut() {
            session.described = true;
        }
        self.send_sequenced(&ServerMessage::SessionDescription(description))
    }

    /// Sends any announcement (ops 5, 11, 12, 13, 14, 15, 16, 18, 20, 21, 22, 24, or unknown)
    /// after Ready. Numbered and buffered on v8+; buffered only while the socket is down.
    /// Hello, Ready, Session Description, Resumed and Heartbeat ACK belong to the handshake and
    /// are refused here.
    pub fn send(&mut self, message: &ServerMessage, now: Instant) -> Result<(), Error> {
        let _ = now;
        match message {
            ServerMessage::Hello(_)
            | ServerMessage::Ready(_)
            | ServerMessage::SessionDescription(_)
            | ServerMessage::Resumed
            | ServerMessage::HeartbeatAck(_) => {
                return Err(Error::InvalidState {
                    action: "sending a handshake message by hand",
                    state: self.state.name(),
                });
            }
            ServerMessage::HeartbeatRequest(_) => {
                self.send_unsequenced(message);
                return Ok(());
            }
            _ => {}
        }
        self.require_session("send")?;
        self.send_sequenced(message)
    }

    /// Sends a binary DAVE message (ops 25, 27, 29, 30), with the u16 sequence prefix on v8+.
    pub fn send_dave(&mut self, message: ServerDave<'_>, now: Instant) -> Result<(), Error> {
        let _ = now;
        self.require_session("send DAVE")?;
        let with_seq = self.config.version.has_seq();
        let seq = self.session.as_ref().map(|s| s.next_seq).filter(|_| with_seq);
        let frame = Transmit::Binary(message.to_vec(seq));
        self.record_and_send(frame);
        Ok(())
    }

    fn require_session(&self, action: &'static str) -> Result<(), Error> {
        if self.session.is_none() || (self.state == ServerState::Closed && !self.resumable) {
            return Err(self.invalid(action));
        }
        Ok(())
    }

    fn invalid(&self, action: &'static str) -> Error {
        Error::InvalidState { action, state: self.state.name() }
    }

    fn is_authenticated(&self) -> bool {
        matches!(
            self.state,
            ServerState::AwaitingSelectProtocol
                | ServerState::AwaitingSessionDescription
                | ServerState::Established
        )
    }

    fn take_pending_identify(&mut self) -> Option<Identify> {
        self.pending_identify.take()
    }

    fn admit(&mut self, len: usize, now: Instant) -> Result<(), Error> {
        if self.state == ServerState::Closed {
            return Err(Error::Closed);
        }
        self.last_receive = now;
        if len > self.config.max_message_size {
            self.close_with(CloseCode::DECODE_ERROR, "message too large", true);
            return Err(Error::MessageTooLarge {
                limit: self.config.max_message_size,
                actual: len,
            });
        }
        if !self.rate.admit(now) {
            self.close_with(CloseCode::RATE_LIMITED, "rate limited", false);
            return Err(Error::Flood {
                what: "client message rate",
                code: CloseCode::RATE_LIMITED,
            });
        }
        Ok(())
    }

    fn push_event(&mut self, event: ServerEvent) -> Result<(), Error> {
        if self.events.len() >= self.config.max_queued_events {
            let code = CloseCode(1008);
            self.close_with(code, "event queue full", true);
            return Err(Error::Flood { what: "server event queue not drained", code });
        }
        self.events.push_back(event);
        Ok(())
    }

    fn close_with(&mut self, code: CloseCode, reason: &str, keep_session: bool) {
        if self.state == ServerState::Closed {
            return;
        }
        self.resumable = keep_session && self.session.is_some();
        self.transmits.push_back(Transmit::Close(CloseFrame::new(code, reason)));
        self.state = ServerState::Closed;
        let action = if self.resumable { CloseAction::Resume } else { CloseAction::Stop };
        self.events.push_back(ServerEvent::Closed(CloseReason {
            code,
            reason: reason.to_owned(),
            initiator: Initiator::Local,
            action,
        }));
    }

    fn send_unsequenced(&mut self, message: &ServerMessage) {
        if self.state == ServerState::Closed {
            return;
        }
        match message.encode(None) {
            Ok(text) => self.transmits.push_back(Transmit::Text(text)),
            Err(_) => self.close_with(CloseCode(1011), "internal error", false),
        }
    }

    fn send_sequenced(&mut self, message: &ServerMessage) -> Result<(), Error> {
        let seq = if self.config.version.has_seq() && message.is_sequenced() {
            self.session.as_ref().map(|s| s.next_seq)
        } else {
            None
        };
        let text = message.encode(seq)?;
        if seq.is_some() {
            self.record_and_send(Transmit::Text(text));
        } else if self.state != ServerState::Closed {
            self.transmits.push_back(Transmit::Text(text));
        }
        Ok(())
    }

    /// Numbers, buffers (v8+) and, if the socket is up, queues a sequenced frame.
    fn record_and_send(&mut self, frame: Transmit) {
        let up = self.state != ServerState::Closed;
        let with_seq = self.config.version.has_seq();
        let (max_messages, max_bytes) = (self.config.replay_messages, self.config.replay_bytes);
        if let Some(session) = self.session.as_mut().filter(|_| with_seq) {
            let seq = session.next_seq;
            session.next_seq = seq.next();
            session.sent += 1;
            session.replay_bytes += frame.len();
            session.replay.push_back((seq, frame.clone()));
            while session.replay.len() > max_messages
                || (session.replay_bytes > max_bytes && !session.replay.is_empty())
            {
                if let Some((_, old)) = session.replay.pop_front() {
                    session.replay_bytes -= old.len();
                    session.dropped += 1;
                }
            }
        }
        if up {
            self.transmits.push_back(frame);
        }
    }

    fn trim_acked(&mut self, ack: Seq) {
        let Some(session) = self.session.as_mut() else { return };
        while let Some((seq, _)) = session.replay.front() {
            // `seq` is at or before `ack` when `ack` is less than half the space ahead.
            if usize::from(seq.distance_to(ack)) < MAX_REPLAY_MESSAGES {
                if let Some((_, t)) = session.replay.pop_front() {
                    session.replay_bytes -= t.len();
                    session.dropped += 1;
                }
            } else {
                break;
            }
        }
    }

    fn on_heartbeat(&mut self, heartbeat: Heartbeat) -> Result<(), Error> {
        let ack = HeartbeatAck { nonce: heartbeat.nonce, form: heartbeat.form };
        self.send_unsequenced(&ServerMessage::HeartbeatAck(ack));
        if let (Some(seq), true) = (heartbeat.seq_ack, self.config.version.has_seq()) {
            // Only trim what was actually sent: a seq_ack beyond the last sent is ignored.
            let last_sent = self.session.as_ref().map(|s| Seq(s.next_seq.0.wrapping_sub(1)));
            if last_sent
                .is_some_and(|last| usize::from(seq.distance_to(last)) < MAX_REPLAY_MESSAGES)
            {
                self.trim_acked(seq);
            }
        }
        self.push_event(ServerEvent::Heartbeat(heartbeat))
    }

    fn on_message(&mut self, message: ClientMessage, now: Instant) -> Result<(), Error> {
        let _ = now;
        let op = message.opcode();
        match message {
            ClientMessage::Heartbeat(h) => return self.on_heartbeat(h),
            ClientMessage::Identify(identify) => {
                if self.state != ServerState::AwaitingIdentify {
                    self.close_with(
                        CloseCode::ALREADY_AUTHENTICATED,
                        "already authenticated",
                        true,
                    );
                    return Err(Error::UnexpectedMessage { op, state: self.state.name() });
                }
                self.state = ServerState::ValidatingIdentify;
                self.pending_identify = Some(identify.clone());
                return self.push_event(ServerEvent::Identify(identify));
            }
            ClientMessage::Resume(resume) => {
                if self.state != ServerState::AwaitingIdentify {
                    self.close_with(
                        CloseCode::ALREADY_AUTHENTICATED,
                        "already authenticated",
                        true,
                    );
                    return Err(Error::UnexpectedMessage { op, state: self.state.name() });
                }
                self.state = ServerState::ValidatingResume;
                self.pending_resume = Some(resume.clone());
                return self.push_event(ServerEvent::Resume(resume));
            }
            _ => {}
        }
        if !self.is_authenticated() {
            self.close_with(CloseCode::NOT_AUTHENTICATED, "not authenticated", false);
            return Err(Error::UnexpectedMessage { op, state: self.state.name() });
        }
        let event = match message {
            ClientMessage::SelectProtocol(select) => {
                if select.protocol != Protocol::Udp {
                    self.close_with(CloseCode::UNKNOWN_PROTOCOL, "unknown protocol", false);
                    return Err(Error::UnexpectedMessage { op, state: self.state.name() });
                }
                let offered = self
                    .session
                    .as_ref()
                    .is_some_and(|s| select.mode().is_some_and(|m| s.ready.modes.contains(m)));
                if !offered {
                    self.close_with(
                        CloseCode::UNKNOWN_ENCRYPTION_MODE,
                        "unknown encryption mode",
                        false,
                    );
                    return Err(Error::UnexpectedMessage { op, state: self.state.name() });
                }
                self.state = ServerState::AwaitingSessionDescription;
                ServerEvent::SelectProtocol(select)
            }
            ClientMessage::Speaking(s) => ServerEvent::Speaking(s),
            ClientMessage::Video(v) => ServerEvent::Video(v),
            ClientMessage::SessionUpdate(u) => ServerEvent::SessionUpdate(u),
            ClientMessage::MediaSinkWants(w) => ServerEvent::MediaSinkWants(w),
            ClientMessage::VoiceBackendVersion(v) => ServerEvent::VoiceBackendVersion(v),
            ClientMessage::DaveTransitionReady(t) => {
                ServerEvent::Dave(ClientDaveEvent::TransitionReady(t.transition_id))
            }
            ClientMessage::DaveInvalidCommitWelcome(t) => {
                ServerEvent::Dave(ClientDaveEvent::InvalidCommitWelcome(t.transition_id))
            }
            ClientMessage::NoRoute(extra) => ServerEvent::NoRoute(extra),
            ClientMessage::Unknown { op, d } => ServerEvent::UnknownJson { op, d },
            ClientMessage::Heartbeat(_) | ClientMessage::Identify(_) | ClientMessage::Resume(_) => {
                return Ok(());
            }
        };
        self.push_event(event)
    }
}

/// Index of the first buffered message the client has not seen, or `None` if one it has not
/// seen was already dropped.
fn replay_start(session: &Session, seq_ack: Option<Seq>) -> Option<usize> {
    let last_sent = Seq(session.next_seq.0.wrapping_sub(1));
    match seq_ack {
        None => (session.dropped == 0).then_some(0),
        Some(ack) if session.sent > 0 && ack == last_sent => Some(session.replay.len()),
        Some(ack) => {
            let want = ack.next();
            session.replay.iter().position(|(seq, _)| *seq == want)
        }
    }
}
