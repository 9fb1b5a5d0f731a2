//! The server's sans-IO core: every channel, participant, voice-gateway session and UDP flow.
//!
//! The tokio driver ([`crate::driver`]) owns the sockets and a clock; it feeds this type what
//! arrives (`handle_*`, with `now`) and carries out what it asks for ([`Hub::poll_output`]),
//! then sleeps until [`Hub::poll_timeout`]. Nothing here blocks, reads a clock or touches a
//! socket, so whole calls can be tested with simulated time.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voxwire_crypto::dave::{ExternalSender, ExternalSenderConfig, ServerTransmit as DaveTransmit};
use voxwire_crypto::transport::{TransportCipher, TransportMode};
use voxwire_gateway::{
    ClientDaveEvent, ClientDisconnect, ClientsConnect, CloseAction, CloseCode, EncryptionMode,
    GatewayVersion, Ready, ServerConfig as GatewayConfig, ServerConnection, ServerDave,
    ServerEvent, ServerMessage, SessionDescription, Snowflake, Speaking, SpeakingFlags, Ssrc,
    Transmit, Video,
};
use voxwire_netsim::{Netsim, NetsimConfig};
use voxwire_rtp::demux::DatagramKind;
use voxwire_rtp::discord::IpDiscovery;

/// Identifies one WebSocket connection of the driver.
pub(crate) type ConnId = u64;

/// Largest UDP datagram the relay handles.
pub(crate) const MAX_DATAGRAM: usize = 1500;

/// Whether calls use DAVE end-to-end encryption.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DaveMode {
    /// Every client must support DAVE; one that does not is closed with 4017, as Discord does.
    #[default]
    Required,
    /// A call uses DAVE when its first participant supports it; a later client that cannot join
    /// the call's mode is closed with 4017.
    Optional,
    /// No end-to-end encryption (protocol version 0).
    Off,
}

/// Settings of the core.
#[derive(Clone, Debug)]
pub(crate) struct HubConfig {
    /// The UDP address announced in Ready.
    pub(crate) udp_addr: SocketAddr,
    /// The host clients use in the gateway endpoint (`host:port`).
    pub(crate) endpoint: String,
    /// Offered transport modes, in order of preference.
    pub(crate) modes: Vec<TransportMode>,
    pub(crate) dave: DaveMode,
    pub(crate) heartbeat_interval: Duration,
    /// How long a dropped session may be resumed before its participant leaves.
    pub(crate) resume_window: Duration,
    /// How long an unused join token stays valid.
    pub(crate) join_ttl: Duration,
    /// Default impairment applied to packets sent to each participant.
    pub(crate) impairment: Option<NetsimConfig>,
    pub(crate) seed: u64,
    /// Most participants in one channel.
    pub(crate) max_participants: usize,
    /// Most WebSocket messages a client may send per second.
    pub(crate) max_client_messages_per_second: u32,
}

/// What the core asks the driver to do.
#[derive(Debug)]
pub(crate) enum Output {
    /// Send on (or close) a WebSocket.
    Ws { conn: ConnId, transmit: Transmit },
    /// Send a UDP datagram.
    Udp { to: SocketAddr, data: Vec<u8> },
}

/// Credentials handed out by the control API, as `VOICE_STATE_UPDATE` and `VOICE_SERVER_UPDATE`
/// would carry them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JoinInfo {
    /// `host:port` of the voice gateway (no scheme), as in `VOICE_SERVER_UPDATE`.
    pub endpoint: String,
    /// The voice token.
    pub token: String,
    /// The session id, as in `VOICE_STATE_UPDATE`.
    pub session_id: String,
    /// Guild id (decimal string).
    pub guild_id: String,
    /// Channel id (decimal string).
    pub channel_id: String,
    /// User id (decimal string).
    pub user_id: String,
}

/// One participant, as the control API reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParticipantInfo {
    /// User id (decimal string).
    pub user_id: String,
    /// Audio SSRC.
    pub ssrc: u32,
    /// Negotiated transport mode, once selected.
    pub mode: Option<String>,
    /// Whether the participant's WebSocket is connected now.
    pub connected: bool,
    /// Whether its UDP address is known (IP discovery done).
    pub udp: bool,
    /// Current speaking flags.
    pub speaking: u32,
    /// DAVE protocol version of its session.
    pub dave_protocol_version: u16,
    /// RTP packets received from it.
    pub rtp_in: u64,
    /// RTCP packets received from it.
    pub rtcp_in: u64,
    /// Packets relayed to it (RTP and RTCP).
    pub relayed_out: u64,
    /// Packets from it that failed transport decryption.
    pub decrypt_failures: u64,
}

/// A channel, as the control API reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChannelInfo {
    /// Guild id (decimal string).
    pub guild_id: String,
    /// Channel id (decimal string).
    pub channel_id: String,
    /// DAVE protocol version of the call (0 = transport encryption only).
    pub dave_protocol_version: u16,
    /// DAVE epoch of the call's MLS group (0 before the group exists).
    pub dave_epoch: u64,
    /// Participants, by user id.
    pub participants: Vec<ParticipantInfo>,
}

/// Why a join request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JoinError {
    #[error("the channel is full ({0} participants)")]
    Full(usize),
}

type ChannelKey = (u64, u64);

struct PendingJoin {
    key: ChannelKey,
    user_id: u64,
    session_id: String,
    expires: Instant,
}

#[derive(Default, Clone, Copy)]
struct Counters {
    rtp_in: u64,
    rtcp_in: u64,
    relayed_out: u64,
    decrypt_failures: u64,
}

struct Member {
    session_id: String,
    token: String,
    user_id: u64,
    key: ChannelKey,
    ssrc: u32,
    conn: Option<ConnId>,
    /// The gateway session while its socket is down, kept for a resume.
    parked: Option<ServerConnection>,
    /// When a parked session is given up.
    leave_at: Option<Instant>,
    udp: Option<SocketAddr>,
    cipher: Option<TransportCipher>,
    speaking: u32,
    dave_version: u16,
    video: Option<Video>,
    impairment: Option<Netsim<Vec<u8>>>,
    counters: Counters,
}

struct Conn {
    gw: ServerConnection,
    /// The member's session id once identified or resumed.
    session: Option<String>,
}

struct Channel {
    members: BTreeSet<String>,
    dave_version: u16,
    dave: Option<ExternalSender>,
}

/// The core. See the module docs.
pub(crate) struct Hub {
    config: HubConfig,
    pending: HashMap<String, PendingJoin>,
    conns: HashMap<ConnId, Conn>,
    members: HashMap<String, Member>,
    channels: BTreeMap<ChannelKey, Channel>,
    by_addr: HashMap<SocketAddr, String>,
    by_ssrc: HashMap<u32, String>,
    out: VecDeque<Output>,
    next_ssrc: u32,
    rng: voxwire_netsim::Rng,
    scratch: Vec<u8>,
    udp_ignored: u64,
}

fn gateway_mode(m: TransportMode) -> EncryptionMode {
    EncryptionMode::from_wire(m.name())
}

impl Hub {
    pub(crate) fn new(config: HubConfig) -> Self {
        let rng = voxwire_netsim::Rng::new(config.seed);
        Self {
            config,
            pending: HashMap::new(),
            conns: HashMap::new(),
            members: HashMap::new(),
            channels: BTreeMap::new(),
            by_addr: HashMap::new(),
            by_ssrc: HashMap::new(),
            out: VecDeque::new(),
            next_ssrc: 1000,
            rng,
            scratch: vec![0; MAX_DATAGRAM + 64],
            udp_ignored: 0,
        }
    }

    fn random_hex(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes * 2);
        for _ in 0..bytes {
            let b = self.rng.below(256);
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    // ---- control API ------------------------------------------------------------------------

    /// Registers a join and returns the credentials a main gateway would dispatch.
    pub(crate) fn join(
        &mut self,
        guild: u64,
        channel: u64,
        user: u64,
        now: Instant,
    ) -> Result<JoinInfo, JoinError> {
        self.pending.retain(|_, p| p.expires > now);
        if let Some(ch) = self.channels.get(&(guild, channel)) {
            let others = ch
                .members
                .iter()
                .filter(|s| self.members.get(*s).is_some_and(|m| m.user_id != user))
                .count();
            if others >= self.config.max_participants {
                return Err(JoinError::Full(others));
            }
        }
        let token = self.random_hex(8);
        let session_id = self.random_hex(16);
        self.pending.insert(
            token.clone(),
            PendingJoin {
                key: (guild, channel),
                user_id: user,
                session_id: session_id.clone(),
                expires: now + self.config.join_ttl,
            },
        );
        Ok(JoinInfo {
            endpoint: self.config.endpoint.clone(),
            token,
            session_id,
            guild_id: guild.to_string(),
            channel_id: channel.to_string(),
            user_id: user.to_string(),
        })
    }

    /// What the control API reports for a channel.
    pub(crate) fn channel_info(&self, guild: u64, channel: u64) -> Option<ChannelInfo> {
        let ch = self.channels.get(&(guild, channel))?;
        let participants = ch
            .members
            .iter()
            .filter_map(|s| self.members.get(s))
            .map(|m| ParticipantInfo {
                user_id: m.user_id.to_string(),
                ssrc: m.ssrc,
                mode: m.cipher.as_ref().map(|c| c.mode().name().to_owned()),
                connected: m.conn.is_some(),
                udp: m.udp.is_some(),
                speaking: m.speaking,
                dave_protocol_version: m.dave_version,
                rtp_in: m.counters.rtp_in,
                rtcp_in: m.counters.rtcp_in,
                relayed_out: m.counters.relayed_out,
                decrypt_failures: m.counters.decrypt_failures,
            })
            .collect();
        Some(ChannelInfo {
            guild_id: guild.to_string(),
            channel_id: channel.to_string(),
            dave_protocol_version: ch.dave_version,
            dave_epoch: ch.dave.as_ref().map_or(0, ExternalSender::epoch),
            participants,
        })
    }

    /// Sets the impairment of packets sent to `user` (or to everyone in the channel).
    pub(crate) fn set_impairment(
        &mut self,
        guild: u64,
        channel: u64,
        user: Option<u64>,
        config: Option<NetsimConfig>,
        seed: u64,
    ) -> usize {
        let Some(ch) = self.channels.get(&(guild, channel)) else { return 0 };
        let mut n = 0;
        for s in &ch.members {
            if let Some(m) = self.members.get_mut(s)
                && user.is_none_or(|u| u == m.user_id)
            {
                m.impairment = config.map(|c| Netsim::new(c, seed ^ m.user_id));
                n += 1;
            }
        }
        n
    }

    /// Forcibly drops a participant's WebSocket with `code` (4015 to exercise a resume, 4014 to
    /// disconnect it).
    pub(crate) fn drop_connection(
        &mut self,
        guild: u64,
        channel: u64,
        user: u64,
        code: CloseCode,
        now: Instant,
    ) -> bool {
        let Some(conn) = self
            .members
            .values()
            .find(|m| m.key == (guild, channel) && m.user_id == user)
            .and_then(|m| m.conn)
        else {
            return false;
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.gw.close(code, "closed by the server's control API", now);
        }
        self.drain_conn(conn, now);
        true
    }

    // ---- WebSocket ---------------------------------------------------------------------------

    /// A WebSocket opened with gateway version `version`.
    pub(crate) fn handle_ws_open(&mut self, conn: ConnId, version: GatewayVersion, now: Instant) {
        let cfg = GatewayConfig::new(version)
            .with_heartbeat_interval(self.config.heartbeat_interval)
            .with_rate_limit(self.config.max_client_messages_per_second, Duration::from_secs(1));
        self.conns.insert(conn, Conn { gw: ServerConnection::new(cfg, now), session: None });
        self.drain_conn(conn, now);
    }

    /// A text message arrived.
    pub(crate) fn handle_ws_text(&mut self, conn: ConnId, text: &str, now: Instant) {
        if let Some(c) = self.conns.get_mut(&conn) {
            // Errors close the socket inside the state machine; the close is drained below.
            let _ = c.gw.handle_text(text, now);
        }
        self.drain_conn(conn, now);
    }

    /// A binary message arrived.
    pub(crate) fn handle_ws_binary(&mut self, conn: ConnId, data: &[u8], now: Instant) {
        if let Some(c) = self.conns.get_mut(&conn) {
            let _ = c.gw.handle_binary(data, now);
        }
        self.drain_conn(conn, now);
    }

    /// The WebSocket ended (close frame, error or EOF).
    pub(crate) fn handle_ws_closed(
        &mut self,
        conn: ConnId,
        frame: Option<voxwire_gateway::CloseFrame>,
        now: Instant,
    ) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.gw.handle_close(frame, now);
        }
        self.drain_conn(conn, now);
        // Whatever the state machine decided, the socket is gone.
        if let Some(c) = self.conns.remove(&conn) {
            self.socket_gone(c, now);
        }
    }

    /// Moves a connection's transmits to the output and acts on its events.
    fn drain_conn(&mut self, conn: ConnId, now: Instant) {
        loop {
            let Some(c) = self.conns.get_mut(&conn) else { return };
            let mut progressed = false;
            while let Some(t) = c.gw.poll_transmit() {
                self.out.push_back(Output::Ws { conn, transmit: t });
                progressed = true;
            }
            let Some(c) = self.conns.get_mut(&conn) else { return };
            if let Some(ev) = c.gw.poll_event() {
                self.on_event(conn, ev, now);
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
    }

    fn on_event(&mut self, conn: ConnId, ev: ServerEvent, now: Instant) {
        match ev {
            ServerEvent::Identify(id) => self.on_identify(conn, &id, now),
            ServerEvent::Resume(r) => self.on_resume(conn, &r, now),
            ServerEvent::SelectProtocol(sp) => self.on_select_protocol(conn, &sp, now),
            ServerEvent::Speaking(s) => self.on_speaking(conn, &s, now),
            ServerEvent::Video(v) => self.on_video(conn, v, now),
            ServerEvent::Dave(d) => self.on_dave(conn, d, now),
            ServerEvent::Closed(reason) => {
                if reason.action != CloseAction::Resume
                    && let Some(c) = self.conns.get_mut(&conn)
                    && let Some(s) = c.session.take()
                {
                    self.leave(&s, now);
                }
            }
            _ => {}
        }
    }

    /// The socket of `c` is gone: park a resumable session, or let the participant leave.
    fn socket_gone(&mut self, c: Conn, now: Instant) {
        let Some(session) = c.session else { return };
        let resume_window = self.config.resume_window;
        if c.gw.is_resumable()
            && let Some(m) = self.members.get_mut(&session)
        {
            m.conn = None;
            m.parked = Some(c.gw);
            m.leave_at = Some(now + resume_window);
            return;
        }
        self.leave(&session, now);
    }

    fn reject(&mut self, conn: ConnId, code: CloseCode, reason: &str, now: Instant) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.gw.reject(code, reason, now);
        }
    }

    fn on_identify(&mut self, conn: ConnId, id: &voxwire_gateway::Identify, now: Instant) {
        let token_ok = self.pending.get(&id.token).is_some_and(|p| {
            p.expires > now
                && p.user_id == id.user_id.0
                && p.key.0 == id.server_id.0
                && p.session_id == id.session_id
        });
        if !token_ok {
            self.reject(conn, CloseCode::AUTHENTICATION_FAILED, "invalid token or session", now);
            return;
        }
        let Some(p) = self.pending.remove(&id.token) else { return };
        let client_dave = id.max_dave_protocol_version.unwrap_or(0);
        let call_dave =
            self.channels.get(&p.key).filter(|c| !c.members.is_empty()).map(|c| c.dave_version);
        let dave_version = match (self.config.dave, call_dave) {
            (DaveMode::Off, _) => 0,
            (DaveMode::Required, _) if client_dave == 0 => {
                self.reject(
                    conn,
                    CloseCode::E2EE_REQUIRED,
                    "DAVE end-to-end encryption is required",
                    now,
                );
                return;
            }
            (DaveMode::Required, _) => 1,
            (DaveMode::Optional, Some(v)) if (v > 0) != (client_dave > 0) => {
                self.reject(
                    conn,
                    CloseCode::E2EE_REQUIRED,
                    "this call's end-to-end encryption mode differs",
                    now,
                );
                return;
            }
            (DaveMode::Optional, _) => u16::from(client_dave > 0),
        };
        // A user has one session per channel: a new one replaces the old.
        let old: Vec<String> = self
            .members
            .values()
            .filter(|m| m.user_id == p.user_id && m.key == p.key)
            .map(|m| m.session_id.clone())
            .collect();
        for s in old {
            if let Some(c) = self.members.get(&s).and_then(|m| m.conn) {
                self.reject(c, CloseCode::DISCONNECTED, "replaced by a new session", now);
                self.drain_conn(c, now);
            }
            self.leave(&s, now);
        }

        let ssrc = self.allocate_ssrc();
        let ready = self.ready_for(ssrc);
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if c.gw.accept_identify(ready, now).is_err() {
            return;
        }
        c.session = Some(p.session_id.clone());
        self.by_ssrc.insert(ssrc, p.session_id.clone());
        let impairment =
            self.config.impairment.map(|cfg| Netsim::new(cfg, self.config.seed ^ p.user_id));
        self.members.insert(
            p.session_id.clone(),
            Member {
                session_id: p.session_id.clone(),
                token: id.token.clone(),
                user_id: p.user_id,
                key: p.key,
                ssrc,
                conn: Some(conn),
                parked: None,
                leave_at: None,
                udp: None,
                cipher: None,
                speaking: 0,
                dave_version,
                video: None,
                impairment,
                counters: Counters::default(),
            },
        );
        let channel = self.channels.entry(p.key).or_insert_with(|| Channel {
            members: BTreeSet::new(),
            dave_version,
            dave: None,
        });
        if channel.members.is_empty() {
            channel.dave_version = dave_version;
            channel.dave = None;
        }
        let others: Vec<String> = channel.members.iter().cloned().collect();
        channel.members.insert(p.session_id.clone());

        self.announce_join(&p.session_id, p.user_id, &others, now);
    }

    /// Tells the newcomer who is here, and everyone else that it came.
    fn announce_join(&mut self, session: &str, user: u64, others: &[String], now: Instant) {
        let other_users: Vec<Snowflake> = others
            .iter()
            .filter_map(|s| self.members.get(s))
            .map(|m| Snowflake(m.user_id))
            .collect();
        if !other_users.is_empty() {
            self.send_to_session(
                session,
                &ServerMessage::ClientsConnect(ClientsConnect {
                    user_ids: other_users,
                    extra: voxwire_gateway::Extra::new(),
                }),
                now,
            );
        }
        for s in others {
            let Some(m) = self.members.get(s) else { continue };
            let speaking = ServerMessage::Speaking(Speaking {
                speaking: SpeakingFlags(m.speaking),
                ssrc: Ssrc(m.ssrc),
                delay: None,
                user_id: Some(Snowflake(m.user_id)),
                extra: voxwire_gateway::Extra::new(),
            });
            let video = m.video.clone().map(ServerMessage::Video);
            self.send_to_session(session, &speaking, now);
            if let Some(v) = video {
                self.send_to_session(session, &v, now);
            }
            self.send_to_session(
                s,
                &ServerMessage::ClientsConnect(ClientsConnect {
                    user_ids: vec![Snowflake(user)],
                    extra: voxwire_gateway::Extra::new(),
                }),
                now,
            );
        }
    }

    fn ready_for(&self, ssrc: u32) -> Ready {
        Ready {
            ssrc: Ssrc(ssrc),
            ip: self.config.udp_addr.ip().to_string(),
            port: self.config.udp_addr.port(),
            modes: self.config.modes.iter().map(|m| gateway_mode(*m)).collect(),
            heartbeat_interval: None,
            experiments: Some(vec!["fixed_keyframe_interval".to_owned()]),
            streams: None,
            extra: voxwire_gateway::Extra::new(),
        }
    }

    fn allocate_ssrc(&mut self) -> u32 {
        loop {
            self.next_ssrc = self.next_ssrc.wrapping_add(1).max(1000);
            // Leave room for simulcast layers and their RTX streams after the audio SSRC.
            let s = self.next_ssrc;
            self.next_ssrc = self.next_ssrc.wrapping_add(8);
            if !self.by_ssrc.contains_key(&s) {
                return s;
            }
        }
    }

    fn on_resume(&mut self, conn: ConnId, r: &voxwire_gateway::Resume, now: Instant) {
        let found = self
            .members
            .get_mut(&r.session_id)
            .filter(|m| m.token == r.token && m.key.0 == r.server_id.0 && m.parked.is_some());
        let Some(m) = found else {
            self.reject(conn, CloseCode::SESSION_INVALID, "unknown or expired session", now);
            return;
        };
        let Some(previous) = m.parked.take() else { return };
        m.leave_at = None;
        m.conn = Some(conn);
        let session = m.session_id.clone();
        if let Some(c) = self.conns.get_mut(&conn) {
            if c.gw.accept_resume(previous, now).is_ok() {
                c.session = Some(session);
            } else {
                c.session = None;
                self.leave(&session, now);
            }
        }
    }

    fn session_of(&self, conn: ConnId) -> Option<String> {
        self.conns.get(&conn).and_then(|c| c.session.clone())
    }

    fn on_select_protocol(
        &mut self,
        conn: ConnId,
        sp: &voxwire_gateway::SelectProtocol,
        now: Instant,
    ) {
        let Some(session) = self.session_of(conn) else { return };
        let voxwire_gateway::ProtocolData::Udp(data) = &sp.data else {
            self.reject(conn, CloseCode::UNKNOWN_PROTOCOL, "only the udp protocol is served", now);
            return;
        };
        let Ok(mode) = data.mode.as_str().parse::<TransportMode>() else {
            self.reject(conn, CloseCode::UNKNOWN_ENCRYPTION_MODE, "unknown encryption mode", now);
            return;
        };
        let mut key = [0u8; 32];
        for b in &mut key {
            *b = self.rng.below(256) as u8;
        }
        let Ok(cipher) = TransportCipher::new(mode, &key) else {
            self.reject(
                conn,
                CloseCode::UNKNOWN_ENCRYPTION_MODE,
                "unsupported encryption mode",
                now,
            );
            return;
        };
        let media_session_id = self.random_hex(16);
        let Some(m) = self.members.get_mut(&session) else { return };
        m.cipher = Some(cipher);
        let description = SessionDescription {
            mode: gateway_mode(mode),
            secret_key: voxwire_gateway::SecretKey(key),
            dave_protocol_version: m.dave_version,
            audio_codec: Some(voxwire_gateway::CodecName::from_wire("opus")),
            video_codec: Some(voxwire_gateway::CodecName::from_wire("H264")),
            media_session_id: Some(media_session_id),
            keyframe_interval: None,
            bandwidth_estimation_experiment: None,
            sdp: None,
            extra: voxwire_gateway::Extra::new(),
        };
        let dave = m.dave_version > 0;
        let (key_ch, user) = (m.key, m.user_id);
        if let Some(c) = self.conns.get_mut(&conn) {
            let _ = c.gw.send_session_description(description, now);
        }
        if dave {
            self.dave_join(key_ch, user, now);
        }
    }

    fn on_speaking(&mut self, conn: ConnId, s: &Speaking, now: Instant) {
        let Some(session) = self.session_of(conn) else { return };
        let Some(m) = self.members.get_mut(&session) else { return };
        m.speaking = s.speaking.0;
        let msg = ServerMessage::Speaking(Speaking {
            speaking: s.speaking,
            ssrc: Ssrc(m.ssrc),
            delay: None,
            user_id: Some(Snowflake(m.user_id)),
            extra: voxwire_gateway::Extra::new(),
        });
        self.broadcast_others(&session, &msg, now);
    }

    fn on_video(&mut self, conn: ConnId, mut v: Video, now: Instant) {
        let Some(session) = self.session_of(conn) else { return };
        let Some(m) = self.members.get_mut(&session) else { return };
        v.user_id = Some(Snowflake(m.user_id));
        m.video = Some(v.clone());
        self.broadcast_others(&session, &ServerMessage::Video(v), now);
    }

    // ---- DAVE ----------------------------------------------------------------------------------

    fn dave_join(&mut self, key: ChannelKey, user: u64, now: Instant) {
        let Some(ch) = self.channels.get_mut(&key) else { return };
        if ch.dave.is_none() {
            match ExternalSender::new(ExternalSenderConfig::new(key.1)) {
                Ok(ext) => ch.dave = Some(ext),
                Err(e) => {
                    tracing::error!("cannot create the DAVE external sender: {e}");
                    return;
                }
            }
        }
        if let Some(ext) = ch.dave.as_mut() {
            ext.handle_join(user, now);
        }
        self.drain_dave(key, now);
    }

    fn on_dave(&mut self, conn: ConnId, d: ClientDaveEvent, now: Instant) {
        let Some(session) = self.session_of(conn) else { return };
        let Some(m) = self.members.get(&session) else { return };
        let (key, user) = (m.key, m.user_id);
        let Some(ext) = self.channels.get_mut(&key).and_then(|c| c.dave.as_mut()) else { return };
        let result = match d {
            ClientDaveEvent::KeyPackage(kp) => ext.handle_key_package(user, &kp, now),
            ClientDaveEvent::CommitWelcome(cw) => ext.handle_commit_welcome(user, &cw, now),
            ClientDaveEvent::TransitionReady(tid) => {
                ext.handle_transition_ready(user, tid.0, now);
                Ok(())
            }
            ClientDaveEvent::InvalidCommitWelcome(tid) => {
                ext.handle_invalid_commit_welcome(user, tid.0, now)
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::debug!("DAVE message from {user} refused: {e}");
        }
        self.drain_dave(key, now);
    }

    fn drain_dave(&mut self, key: ChannelKey, now: Instant) {
        // The external sender's events (commits, transitions, recoveries) are for the log; left
        // in its queue they would pile up for as long as the call lasts.
        if let Some(ext) = self.channels.get_mut(&key).and_then(|c| c.dave.as_mut()) {
            while let Some(ev) = ext.poll_event() {
                tracing::debug!(guild = key.0, channel = key.1, "DAVE: {ev:?}");
            }
        }
        while let Some(t) = self
            .channels
            .get_mut(&key)
            .and_then(|c| c.dave.as_mut())
            .and_then(ExternalSender::poll_transmit)
        {
            let to = t.to();
            let Some(session) = self.channels.get(&key).and_then(|c| {
                c.members
                    .iter()
                    .find(|s| self.members.get(*s).is_some_and(|m| m.user_id == to))
                    .cloned()
            }) else {
                continue;
            };
            match t {
                DaveTransmit::PrepareTransition { protocol_version, transition_id, .. } => {
                    let msg = ServerMessage::DavePrepareTransition(
                        voxwire_gateway::DavePrepareTransition {
                            protocol_version,
                            transition_id: voxwire_gateway::TransitionId(transition_id),
                            extra: voxwire_gateway::Extra::new(),
                        },
                    );
                    self.send_to_session(&session, &msg, now);
                }
                DaveTransmit::ExecuteTransition { transition_id, .. } => {
                    let msg =
                        ServerMessage::DaveExecuteTransition(voxwire_gateway::DaveTransition {
                            transition_id: voxwire_gateway::TransitionId(transition_id),
                            extra: voxwire_gateway::Extra::new(),
                        });
                    self.send_to_session(&session, &msg, now);
                }
                DaveTransmit::PrepareEpoch { protocol_version, epoch, .. } => {
                    let msg = ServerMessage::DavePrepareEpoch(voxwire_gateway::DavePrepareEpoch {
                        protocol_version,
                        epoch,
                        extra: voxwire_gateway::Extra::new(),
                    });
                    self.send_to_session(&session, &msg, now);
                }
                DaveTransmit::Binary { opcode, payload, .. } => {
                    let mut framed = Vec::with_capacity(1 + payload.len());
                    framed.push(opcode);
                    framed.extend_from_slice(&payload);
                    if let Ok(frame) = voxwire_gateway::ServerBinary::parse(&framed, false) {
                        self.send_dave_to_session(&session, frame.message, now);
                    }
                }
            }
        }
    }

    // ---- sending ------------------------------------------------------------------------------

    fn conn_of_session(&self, session: &str) -> Option<ConnId> {
        self.members.get(session).and_then(|m| m.conn)
    }

    fn send_to_session(&mut self, session: &str, msg: &ServerMessage, now: Instant) {
        if let Some(conn) = self.conn_of_session(session) {
            if let Some(c) = self.conns.get_mut(&conn) {
                let _ = c.gw.send(msg, now);
            }
            self.drain_conn(conn, now);
        } else if let Some(gw) = self.members.get_mut(session).and_then(|m| m.parked.as_mut()) {
            // Buffered for the resume.
            let _ = gw.send(msg, now);
        }
    }

    fn send_dave_to_session(&mut self, session: &str, msg: ServerDave<'_>, now: Instant) {
        if let Some(conn) = self.conn_of_session(session) {
            if let Some(c) = self.conns.get_mut(&conn) {
                let _ = c.gw.send_dave(msg, now);
            }
            self.drain_conn(conn, now);
        } else if let Some(gw) = self.members.get_mut(session).and_then(|m| m.parked.as_mut()) {
            let _ = gw.send_dave(msg, now);
        }
    }

    fn broadcast_others(&mut self, session: &str, msg: &ServerMessage, now: Instant) {
        let Some(key) = self.members.get(session).map(|m| m.key) else { return };
        let others: Vec<String> = self
            .channels
            .get(&key)
            .map(|c| c.members.iter().filter(|s| s.as_str() != session).cloned().collect())
            .unwrap_or_default();
        for s in others {
            self.send_to_session(&s, msg, now);
        }
    }

    fn leave(&mut self, session: &str, now: Instant) {
        let Some(m) = self.members.remove(session) else { return };
        self.by_ssrc.remove(&m.ssrc);
        if let Some(a) = m.udp {
            self.by_addr.remove(&a);
        }
        if let Some(conn) = m.conn
            && let Some(c) = self.conns.get_mut(&conn)
        {
            c.session = None;
        }
        let remaining = self.channels.get_mut(&m.key).map(|c| {
            c.members.remove(session);
            c.members.len()
        });
        let msg = ServerMessage::ClientDisconnect(ClientDisconnect {
            user_id: Snowflake(m.user_id),
            extra: voxwire_gateway::Extra::new(),
        });
        let others: Vec<String> = self
            .channels
            .get(&m.key)
            .map(|c| c.members.iter().cloned().collect())
            .unwrap_or_default();
        for s in &others {
            self.send_to_session(s, &msg, now);
        }
        if let Some(ext) = self.channels.get_mut(&m.key).and_then(|c| c.dave.as_mut())
            && let Err(e) = ext.handle_leave(m.user_id, now)
        {
            tracing::debug!("DAVE leave of {}: {e}", m.user_id);
        }
        self.drain_dave(m.key, now);
        if remaining == Some(0) {
            self.channels.remove(&m.key);
        }
    }

    // ---- UDP ------------------------------------------------------------------------------------

    /// A datagram arrived on the media socket.
    pub(crate) fn handle_udp(&mut self, from: SocketAddr, data: &[u8], now: Instant) {
        match voxwire_rtp::demux::classify(data) {
            DatagramKind::IpDiscoveryRequest => self.on_ip_discovery(from, data),
            DatagramKind::Rtp => self.relay(from, data, false, now),
            DatagramKind::Rtcp => self.relay(from, data, true, now),
            _ => self.udp_ignored += 1,
        }
    }

    fn on_ip_discovery(&mut self, from: SocketAddr, data: &[u8]) {
        let Ok(req) = IpDiscovery::parse(data) else { return };
        let Some(session) = self.by_ssrc.get(&req.ssrc.0).cloned() else { return };
        let Some(m) = self.members.get_mut(&session) else { return };
        if let Some(old) = m.udp.replace(from)
            && old != from
        {
            self.by_addr.remove(&old);
        }
        self.by_addr.insert(from, session);
        let ip = from.ip().to_string();
        if let Ok(reply) = IpDiscovery::response(req.ssrc, &ip, from.port()).to_bytes() {
            self.out.push_back(Output::Udp { to: from, data: reply.to_vec() });
        }
    }

    fn relay(&mut self, from: SocketAddr, data: &[u8], rtcp: bool, now: Instant) {
        let Some(session) = self.by_addr.get(&from).cloned() else {
            self.udp_ignored += 1;
            return;
        };
        let Some(sender) = self.members.get_mut(&session) else { return };
        let Some(cipher) = sender.cipher.as_ref() else { return };
        if data.len() > MAX_DATAGRAM {
            sender.counters.decrypt_failures += 1;
            return;
        }
        let buf = &mut self.scratch[..data.len()];
        buf.copy_from_slice(data);
        let plain_len =
            if rtcp { cipher.decrypt_rtcp(buf) } else { cipher.decrypt_rtp(buf).map(|d| d.len) };
        let Ok(plain_len) = plain_len else {
            sender.counters.decrypt_failures += 1;
            return;
        };
        if rtcp {
            sender.counters.rtcp_in += 1;
        } else {
            sender.counters.rtp_in += 1;
        }
        let key = sender.key;
        let Some(ch) = self.channels.get(&key) else { return };
        for s in &ch.members {
            if *s == session {
                continue;
            }
            let Some(r) = self.members.get_mut(s) else { continue };
            let (Some(to), Some(cipher)) = (r.udp, r.cipher.as_mut()) else { continue };
            let mut out = Vec::with_capacity(plain_len + cipher.overhead());
            out.extend_from_slice(&self.scratch[..plain_len]);
            out.resize(plain_len + cipher.overhead(), 0);
            let sealed = if rtcp {
                cipher.encrypt_rtcp(&mut out, plain_len)
            } else {
                cipher.encrypt_rtp(&mut out, plain_len)
            };
            let Ok(n) = sealed else { continue };
            out.truncate(n);
            r.counters.relayed_out += 1;
            match r.impairment.as_mut() {
                Some(net) => net.send(out, now),
                None => self.out.push_back(Output::Udp { to, data: out }),
            }
        }
        self.flush_impairment(now);
    }

    fn flush_impairment(&mut self, now: Instant) {
        for m in self.members.values_mut() {
            let (Some(net), Some(to)) = (m.impairment.as_mut(), m.udp) else { continue };
            while let Some(d) = net.poll(now) {
                self.out.push_back(Output::Udp { to, data: d.packet });
            }
        }
    }

    // ---- time -------------------------------------------------------------------------------------

    /// The next output, if any.
    #[must_use]
    pub(crate) fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Hub::handle_timeout`] must be called next.
    #[must_use]
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let conns = self.conns.values().filter_map(|c| c.gw.poll_timeout());
        let members = self.members.values().flat_map(|m| {
            [
                m.leave_at,
                m.parked.as_ref().and_then(ServerConnection::poll_timeout),
                m.impairment.as_ref().and_then(Netsim::poll_timeout),
            ]
        });
        let dave = self
            .channels
            .values()
            .filter_map(|c| c.dave.as_ref().and_then(ExternalSender::poll_timeout));
        conns.chain(members.flatten()).chain(dave).min()
    }

    /// Deadlines up to `now` have passed.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            if let Some(c) = self.conns.get_mut(&conn)
                && c.gw.poll_timeout().is_some_and(|t| t <= now)
            {
                c.gw.handle_timeout(now);
                self.drain_conn(conn, now);
            }
        }
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| m.leave_at.is_some_and(|t| t <= now))
            .map(|m| m.session_id.clone())
            .collect();
        for s in expired {
            self.leave(&s, now);
        }
        let keys: Vec<ChannelKey> = self.channels.keys().copied().collect();
        for key in keys {
            if let Some(ext) = self.channels.get_mut(&key).and_then(|c| c.dave.as_mut())
                && ext.poll_timeout().is_some_and(|t| t <= now)
            {
                ext.handle_timeout(now);
            }
            self.drain_dave(key, now);
        }
        self.flush_impairment(now);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::{Ipv4Addr, SocketAddr};
    use std::time::{Duration, Instant};

    use voxwire_crypto::transport::{TransportCipher, TransportMode};
    use voxwire_gateway::{
        ClientConfig, ClientConnection, ClientEvent, CloseCode, EncryptionMode, Extra,
        GatewayVersion, Identify, SelectProtocol, Snowflake, Transmit,
    };
    use voxwire_rtp::discord::IpDiscovery;
    use voxwire_rtp::{PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, SeqNo, Ssrc};

    use super::{ConnId, DaveMode, Hub, HubConfig, Output};

    const GUILD: u64 = 10;
    const CHANNEL: u64 = 20;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    struct Harness {
        hub: Hub,
        now: Instant,
        clients: HashMap<ConnId, ClientConnection>,
        events: HashMap<ConnId, Vec<ClientEvent>>,
        closes: HashMap<ConnId, u16>,
        udp: Vec<(SocketAddr, Vec<u8>)>,
    }

    impl Harness {
        fn new(dave: DaveMode) -> Self {
            let hub = Hub::new(HubConfig {
                udp_addr: addr(50_000),
                endpoint: "127.0.0.1:443".into(),
                modes: vec![
                    TransportMode::AeadAes256GcmRtpsize,
                    TransportMode::AeadXChaCha20Poly1305Rtpsize,
                ],
                dave,
                heartbeat_interval: Duration::from_secs(5),
                resume_window: Duration::from_secs(30),
                join_ttl: Duration::from_mins(1),
                impairment: None,
                seed: 1,
                max_participants: 10,
                max_client_messages_per_second: 100,
            });
            Self {
                hub,
                now: Instant::now(),
                clients: HashMap::new(),
                events: HashMap::new(),
                closes: HashMap::new(),
                udp: Vec::new(),
            }
        }

        /// Opens a socket for `user` with fresh credentials (or the given token) and pumps.
        fn connect(&mut self, conn: ConnId, user: u64, dave: bool, token: Option<&str>) {
            let join = self.hub.join(GUILD, CHANNEL, user, self.now).expect("join");
            let identify = Identify {
                server_id: Snowflake(GUILD),
                user_id: Snowflake(user),
                session_id: join.session_id,
                token: token.map_or(join.token, str::to_owned),
                max_dave_protocol_version: Some(u16::from(dave)),
                channel_id: None,
                video: None,
                streams: None,
                extra: Extra::new(),
            };
            let client = ClientConnection::new(
                ClientConfig::new(identify).with_version(GatewayVersion::V8),
                self.now,
            );
            self.clients.insert(conn, client);
            self.hub.handle_ws_open(conn, GatewayVersion::V8, self.now);
            self.pump();
        }

        /// Moves messages both ways until nothing moves.
        fn pump(&mut self) {
            for _ in 0..1000 {
                let mut moved = false;
                while let Some(o) = self.hub.poll_output() {
                    moved = true;
                    match o {
                        Output::Ws { conn, transmit } => {
                            let Some(c) = self.clients.get_mut(&conn) else { continue };
                            match transmit {
                                Transmit::Text(t) => {
                                    let _ = c.handle_text(&t, self.now);
                                }
                                Transmit::Binary(b) => {
                                    let _ = c.handle_binary(&b, self.now);
                                }
                                Transmit::Close(f) => {
                                    self.closes.insert(conn, f.code.0);
                                    c.handle_close(Some(f), self.now);
                                }
                            }
                        }
                        Output::Udp { to, data } => self.udp.push((to, data)),
                    }
                }
                for (conn, c) in &mut self.clients {
                    while let Some(t) = c.poll_transmit() {
                        moved = true;
                        match t {
                            Transmit::Text(t) => self.hub.handle_ws_text(*conn, &t, self.now),
                            Transmit::Binary(b) => self.hub.handle_ws_binary(*conn, &b, self.now),
                            Transmit::Close(f) => {
                                self.hub.handle_ws_closed(*conn, Some(f), self.now);
                            }
                        }
                    }
                    while let Some(e) = c.poll_event() {
                        moved = true;
                        self.events.entry(*conn).or_default().push(e);
                    }
                }
                if !moved {
                    return;
                }
            }
            panic!("livelock: messages kept moving");
        }

        /// Advances the virtual clock to `now + d`, deadline by deadline, so heartbeats and
        /// timers on both sides fire in order.
        fn advance(&mut self, d: Duration) {
            let end = self.now + d;
            for _ in 0..10_000 {
                let next = self
                    .clients
                    .values()
                    .filter_map(ClientConnection::poll_timeout)
                    .chain(self.hub.poll_timeout())
                    .min();
                let Some(next) = next.filter(|t| *t <= end) else { break };
                self.now = next.max(self.now);
                for c in self.clients.values_mut() {
                    if c.poll_timeout().is_some_and(|t| t <= self.now) {
                        c.handle_timeout(self.now);
                    }
                }
                self.hub.handle_timeout(self.now);
                self.pump();
            }
            self.now = end;
            self.hub.handle_timeout(self.now);
            self.pump();
        }

        /// IP discovery and Select Protocol for `conn`, from UDP address `port`; returns the key.
        fn establish(&mut self, conn: ConnId, port: u16, mode: TransportMode) -> [u8; 32] {
            let ssrc = self.clients[&conn].ssrc().expect("ready").0;
            let req = IpDiscovery::request(Ssrc(ssrc)).to_bytes().expect("request");
            self.hub.handle_udp(addr(port), &req, self.now);
            self.pump();
            let (to, reply) = self.udp.pop().expect("discovery reply");
            assert_eq!(to, addr(port));
            let reply = IpDiscovery::parse(&reply).expect("74-byte reply");
            assert_eq!((reply.ssrc.0, reply.address, reply.port), (ssrc, "127.0.0.1", port));
            let select =
                SelectProtocol::udp("127.0.0.1", port, EncryptionMode::from_wire(mode.name()));
            self.clients
                .get_mut(&conn)
                .expect("client")
                .select_protocol(select, self.now)
                .expect("select");
            self.pump();
            self.clients[&conn].session_description().expect("session description").secret_key.0
        }
    }

    #[test]
    fn a_bad_token_is_closed_with_4004() {
        let mut h = Harness::new(DaveMode::Off);
        h.connect(1, 100, false, Some("not-the-token"));
        assert_eq!(h.closes.get(&1), Some(&CloseCode::AUTHENTICATION_FAILED.0));
        assert!(h.hub.channel_info(GUILD, CHANNEL).is_none(), "nobody joined");
    }

    #[test]
    fn dave_required_refuses_a_client_without_dave_with_4017() {
        let mut h = Harness::new(DaveMode::Required);
        h.connect(1, 100, false, None);
        assert_eq!(h.closes.get(&1), Some(&CloseCode::E2EE_REQUIRED.0));
        h.connect(2, 101, true, None);
        assert!(!h.closes.contains_key(&2));
        assert!(h.clients[&2].ready().is_some());
    }

    #[test]
    fn media_is_decrypted_and_reencrypted_for_each_receiver() {
        let mut h = Harness::new(DaveMode::Off);
        h.connect(1, 100, false, None);
        h.connect(2, 101, false, None);
        h.connect(3, 102, false, None);
        let key_a = h.establish(1, 40_001, TransportMode::AeadAes256GcmRtpsize);
        let key_b = h.establish(2, 40_002, TransportMode::AeadXChaCha20Poly1305Rtpsize);
        let key_c = h.establish(3, 40_003, TransportMode::AeadAes256GcmRtpsize);
        // Everyone learned about everyone (op 11), and newcomers got op 5 for those present.
        assert!(h.events[&1].iter().any(
            |e| matches!(e, ClientEvent::ClientsConnect(c) if c.user_ids.contains(&Snowflake(102)))
        ));
        assert!(
            h.events[&3].iter().any(
                |e| matches!(e, ClientEvent::Speaking(s) if s.user_id == Some(Snowflake(100)))
            )
        );

        let ssrc_a = h.clients[&1].ssrc().expect("ready").0;
        let mut sender =
            TransportCipher::new(TransportMode::AeadAes256GcmRtpsize, &key_a).expect("key");
        let mut buf = [0u8; 256];
        let opus = [0xFC, 1, 2, 3, 4, 5, 6, 7];
        let n = RtpPacketBuilder::new(
            PayloadType::DISCORD_OPUS,
            SeqNo(7),
            RtpTimestamp(960),
            Ssrc(ssrc_a),
        )
        .payload(&opus)
        .write_into(&mut buf)
        .expect("rtp");
        let n = sender.encrypt_rtp(&mut buf, n).expect("encrypt");
        h.udp.clear();
        h.hub.handle_udp(addr(40_001), &buf[..n], h.now);
        h.pump();
        assert_eq!(h.udp.len(), 2, "relayed to both others, not echoed");
        for (to, key, mode) in [
            (40_002, key_b, TransportMode::AeadXChaCha20Poly1305Rtpsize),
            (40_003, key_c, TransportMode::AeadAes256GcmRtpsize),
        ] {
            let (_, mut data) = h.udp.iter().find(|(a, _)| *a == addr(to)).cloned().expect("sent");
            assert_ne!(&data[..], &buf[..n], "re-encrypted, not forwarded");
            let receiver = TransportCipher::new(mode, &key).expect("key");
            let d = receiver.decrypt_rtp(&mut data).expect("the receiver's own key opens it");
            let pkt = RtpPacket::parse(&data[..d.len]).expect("rtp");
            assert_eq!(
                (pkt.ssrc().0, pkt.sequence_number(), pkt.payload()),
                (ssrc_a, SeqNo(7), &opus[..])
            );
        }
        // A packet under the wrong key is counted and dropped.
        let mut wrong =
            TransportCipher::new(TransportMode::AeadAes256GcmRtpsize, &[9; 32]).expect("key");
        let n = RtpPacketBuilder::new(
            PayloadType::DISCORD_OPUS,
            SeqNo(8),
            RtpTimestamp(1920),
            Ssrc(ssrc_a),
        )
        .payload(&opus)
        .write_into(&mut buf)
        .expect("rtp");
        let n = wrong.encrypt_rtp(&mut buf, n).expect("encrypt");
        h.udp.clear();
        h.hub.handle_udp(addr(40_001), &buf[..n], h.now);
        h.pump();
        assert!(h.udp.is_empty());
        let info = h.hub.channel_info(GUILD, CHANNEL).expect("channel");
        let a = info.participants.iter().find(|p| p.user_id == "100").expect("a");
        assert_eq!((a.rtp_in, a.decrypt_failures), (1, 1));
        // Garbage and unknown senders never reach anyone.
        h.hub.handle_udp(addr(40_009), &buf[..n], h.now);
        h.hub.handle_udp(addr(40_001), &[0xFF; 3], h.now);
        h.pump();
        assert!(h.udp.is_empty());
    }

    #[test]
    fn a_dropped_session_can_resume_until_the_window_closes() {
        let mut h = Harness::new(DaveMode::Off);
        h.connect(1, 100, false, None);
        h.connect(2, 101, false, None);
        h.establish(1, 40_001, TransportMode::AeadAes256GcmRtpsize);
        // The socket of user 101 drops without a close frame: resumable.
        h.hub.handle_ws_closed(2, None, h.now);
        h.clients.get_mut(&2).expect("client").handle_close(None, h.now);
        h.pump();
        let info = h.hub.channel_info(GUILD, CHANNEL).expect("channel");
        assert!(
            info.participants.iter().any(|p| p.user_id == "101" && !p.connected),
            "kept for a resume"
        );
        // It resumes on a new socket.
        let mut client = h.clients.remove(&2).expect("client");
        client.resume(h.now).expect("resume");
        h.clients.insert(4, client);
        h.hub.handle_ws_open(4, GatewayVersion::V8, h.now);
        h.pump();
        assert!(h.events[&4].iter().any(|e| matches!(e, ClientEvent::Resumed)));
        assert!(
            h.hub
                .channel_info(GUILD, CHANNEL)
                .expect("channel")
                .participants
                .iter()
                .all(|p| p.connected)
        );
        // Dropped again, and this time the window passes: the participant leaves and the others
        // are told (op 13).
        h.hub.handle_ws_closed(4, None, h.now);
        h.clients.get_mut(&4).expect("client").handle_close(None, h.now);
        h.pump();
        h.clients.remove(&4);
        h.advance(Duration::from_secs(31));
        let info = h.hub.channel_info(GUILD, CHANNEL).expect("channel");
        assert!(info.participants.iter().all(|p| p.user_id != "101"));
        assert!(
            h.events[&1].iter().any(
                |e| matches!(e, ClientEvent::ClientDisconnect(d) if d.user_id == Snowflake(101))
            )
        );
    }
}
