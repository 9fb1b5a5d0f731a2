//! A client and a server joined by a simulated socket, on a virtual clock.
//!
//! `drive_bounded` moves messages and answers handshake events until nothing moves, and fails
//! if that takes more than a bound (livelock). `advance` jumps the clock to the next deadline
//! (a timer or a message in flight).
#![allow(dead_code, unreachable_pub, reason = "each test file uses a different part")]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use voxwire_gateway::*;

/// The epoch of a virtual clock. Only its identity matters: tests move it forward by hand.
#[expect(clippy::disallowed_methods, reason = "one clock read as the origin of virtual time")]
pub fn epoch() -> Instant {
    Instant::now()
}

pub fn identify() -> Identify {
    Identify {
        server_id: Snowflake(41_771_983_423_143_937),
        user_id: Snowflake(80_351_110_224_678_912),
        session_id: "session-1".into(),
        token: "token-1".into(),
        max_dave_protocol_version: Some(1),
        channel_id: Some(Snowflake(41_771_983_423_143_938)),
        video: None,
        streams: None,
        extra: Extra::new(),
    }
}

pub fn ready() -> Ready {
    Ready {
        ssrc: Ssrc(23_584),
        ip: "127.0.0.1".into(),
        port: 50_010,
        modes: vec![
            EncryptionMode::AeadAes256GcmRtpsize,
            EncryptionMode::AeadXChaCha20Poly1305Rtpsize,
        ],
        heartbeat_interval: None,
        experiments: None,
        streams: None,
        extra: Extra::new(),
    }
}

pub fn session_description() -> SessionDescription {
    SessionDescription {
        mode: EncryptionMode::AeadXChaCha20Poly1305Rtpsize,
        secret_key: SecretKey([9; 32]),
        dave_protocol_version: 1,
        audio_codec: Some(CodecName::Opus),
        video_codec: Some(CodecName::H264),
        media_session_id: None,
        keyframe_interval: None,
        bandwidth_estimation_experiment: None,
        sdp: None,
        extra: Extra::new(),
    }
}

pub fn speaking(user: u64, ssrc: u32) -> ServerMessage {
    ServerMessage::Speaking(Speaking {
        speaking: SpeakingFlags::MICROPHONE,
        ssrc: Ssrc(ssrc),
        delay: None,
        user_id: Some(Snowflake(user)),
        extra: Extra::new(),
    })
}

pub struct Pair {
    pub start: Instant,
    pub now: Instant,
    pub client: ClientConnection,
    pub server: ServerConnection,
    pub server_config: ServerConfig,
    /// The previous server connection of this session, kept for a resume.
    pub old_server: Option<ServerConnection>,
    /// One-way delay of the simulated socket.
    pub delay: Duration,
    to_server: VecDeque<(Instant, Transmit)>,
    to_client: VecDeque<(Instant, Transmit)>,
    /// While false, what the server sends is lost (a dead TCP connection).
    pub server_to_client_up: bool,
    /// While false, what the client sends is lost.
    pub client_to_server_up: bool,
    /// Every text the server put on the wire, in order.
    pub server_wire: Vec<String>,
    /// Every text the client put on the wire, in order.
    pub client_wire: Vec<String>,
    pub client_events: Vec<(Instant, ClientEvent)>,
    pub server_events: Vec<(Instant, ServerEvent)>,
    /// Answer Identify/Resume/Select Protocol/Ready automatically.
    pub auto: bool,
}

impl Pair {
    pub fn new(version: GatewayVersion) -> Self {
        Self::with_configs(
            ClientConfig::new(identify()).with_version(version).with_jitter_seed(7),
            ServerConfig::new(version),
        )
    }

    pub fn with_configs(client: ClientConfig, server: ServerConfig) -> Self {
        let start = epoch();
        Self {
            start,
            now: start,
            client: ClientConnection::new(client, start),
            server: ServerConnection::new(server.clone(), start),
            server_config: server,
            old_server: None,
            delay: Duration::from_millis(20),
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            server_to_client_up: true,
            client_to_server_up: true,
            server_wire: Vec::new(),
            client_wire: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            auto: true,
        }
    }

    /// One round: collect transmits, deliver what is due, handle events. True if anything moved.
    pub fn step(&mut self) -> bool {
        let mut moved = false;
        while let Some(t) = self.client.poll_transmit() {
            moved = true;
            if let Transmit::Text(s) = &t {
                self.client_wire.push(s.clone());
            }
            if self.client_to_server_up {
                self.to_server.push_back((self.now + self.delay, t));
            }
        }
        while let Some(t) = self.server.poll_transmit() {
            moved = true;
            if let Transmit::Text(s) = &t {
                self.server_wire.push(s.clone());
            }
            if self.server_to_client_up {
                self.to_client.push_back((self.now + self.delay, t));
            }
        }
        while self.to_server.front().is_some_and(|(at, _)| *at <= self.now) {
            let Some((_, t)) = self.to_server.pop_front() else { break };
            moved = true;
            let now = self.now;
            let _ = match t {
                Transmit::Text(s) => self.server.handle_text(&s, now),
                Transmit::Binary(b) => self.server.handle_binary(&b, now),
                Transmit::Close(f) => {
                    self.server.handle_close(Some(f), now);
                    Ok(())
                }
            };
        }
        while self.to_client.front().is_some_and(|(at, _)| *at <= self.now) {
            let Some((_, t)) = self.to_client.pop_front() else { break };
            moved = true;
            let now = self.now;
            let _ = match t {
                Transmit::Text(s) => self.client.handle_text(&s, now),
                Transmit::Binary(b) => self.client.handle_binary(&b, now),
                Transmit::Close(f) => {
                    self.client.handle_close(Some(f), now);
                    Ok(())
                }
            };
        }
        while let Some(e) = self.server.poll_event() {
            moved = true;
            if self.auto {
                self.answer_server(&e);
            }
            self.server_events.push((self.now, e));
        }
        while let Some(e) = self.client.poll_event() {
            moved = true;
            if let (true, ClientEvent::Ready(r)) = (self.auto, &e) {
                let select = SelectProtocol::udp("203.0.113.7", 50_123, r.modes[1].clone());
                self.client.select_protocol(select, self.now).expect("select protocol after Ready");
            }
            self.client_events.push((self.now, e));
        }
        moved
    }

    fn answer_server(&mut self, e: &ServerEvent) {
        let now = self.now;
        match e {
            ServerEvent::Identify(_) => {
                self.server.accept_identify(ready(), now).expect("accept identify");
            }
            ServerEvent::Resume(_) => {
                let old = self.old_server.take().expect("a previous server connection to resume");
                let _ = self.server.accept_resume(old, now);
            }
            ServerEvent::SelectProtocol(_) => {
                self.server
                    .send_session_description(session_description(), now)
                    .expect("session description");
            }
            _ => {}
        }
    }

    /// Steps until nothing moves; panics after `max_steps` (livelock).
    pub fn drive_bounded(&mut self, max_steps: usize) {
        for _ in 0..max_steps {
            if !self.step() {
                return;
            }
        }
        panic!("livelock: still busy after {max_steps} steps at {:?}", self.now - self.start);
    }

    pub fn drive(&mut self) {
        self.drive_bounded(1000);
    }

    /// The next instant something is due: a timer on either side or a message in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.client.poll_timeout(),
            self.server.poll_timeout(),
            self.to_server.front().map(|(at, _)| *at),
            self.to_client.front().map(|(at, _)| *at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Jumps to the next deadline (if it is before `limit`), fires timers, drives. False when
    /// nothing is due before `limit`.
    pub fn advance(&mut self, limit: Instant) -> bool {
        self.drive();
        match self.next_deadline() {
            Some(t) if t <= limit => {
                self.now = self.now.max(t);
                self.client.handle_timeout(self.now);
                self.server.handle_timeout(self.now);
                self.drive();
                true
            }
            _ => false,
        }
    }

    /// Advances until `limit`, then sets the clock to it. Bounded against timer storms.
    pub fn run_until(&mut self, limit: Instant) {
        let mut steps = 0;
        while self.advance(limit) {
            steps += 1;
            assert!(steps < 100_000, "timer livelock before {:?}", limit - self.start);
        }
        self.now = self.now.max(limit);
    }

    pub fn run_for(&mut self, d: Duration) {
        let limit = self.now + d;
        self.run_until(limit);
    }

    /// The handshake through Session Description.
    pub fn handshake(&mut self) {
        self.run_for(Duration::from_millis(200));
        assert_eq!(
            self.client.state(),
            ClientState::Established,
            "client events: {:?}",
            self.client_events
        );
        assert_eq!(self.server.state(), ServerState::Established);
    }

    /// The transport dies under both ends: messages in flight are lost, both see 1006.
    pub fn drop_socket(&mut self) {
        self.drive();
        self.to_client.clear();
        self.to_server.clear();
        let now = self.now;
        self.client.handle_close(None, now);
        self.server.handle_close(None, now);
        self.drive();
    }

    /// Opens a new socket: a new server connection (the old one kept for `accept_resume`).
    pub fn new_socket(&mut self) {
        self.server_to_client_up = true;
        self.client_to_server_up = true;
        let fresh = ServerConnection::new(self.server_config.clone(), self.now);
        let old = std::mem::replace(&mut self.server, fresh);
        self.old_server = Some(old);
    }

    pub fn client_events_since(&self, i: usize) -> Vec<&ClientEvent> {
        self.client_events[i..].iter().map(|(_, e)| e).collect()
    }
}
