//! The sans-IO core of one voice connection.
//!
//! It owns the protocol state of the lower crates (the gateway state machine, the DAVE session,
//! the transport cipher, one jitter buffer per remote SSRC) and glues them: gateway events drive
//! IP discovery, mode negotiation and DAVE; received datagrams are decrypted (transport, then
//! DAVE) and buffered; buffered frames come out in order as [`MediaPacket`]s. Nothing here
//! reads a clock, sleeps or touches a socket: the driver passes bytes and `now` in, and carries
//! out [`Output`]s.
//!
//! Call order: after every `handle_*` call drain [`Call::poll_output`], then call
//! [`Call::handle_timeout`] at [`Call::poll_timeout`].
//!
//! DAVE decryption happens as packets arrive, before the jitter buffer: a frame held because
//! its sender's key or SSRC mapping is not known yet is released into the jitter buffer as soon
//! as it is, with its original sequence number and timestamp, so it still plays if it is in time.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use voxwire_crypto::dave::{
    DaveEvent as CryptoDaveEvent, DaveSession, DaveSessionConfig, DaveTransmit, Decrypted,
    MediaKind,
};
use voxwire_crypto::transport::{TransportCipher, TransportMode};
use voxwire_gateway::{
    ClientConfig as GatewayConfig, ClientConnection, ClientDave, ClientEvent, ClientMessage,
    CloseAction, DaveEvent as GatewayDaveEvent, DaveTransition, GatewayVersion, Identify,
    SelectProtocol, Snowflake, SpeakingFlags, TransitionId, Transmit,
};
use voxwire_jitter::{AudioJitterBuffer, AudioPacket, JitterBufferConfig, Playout};
use voxwire_rtp::demux::DatagramKind;
use voxwire_rtp::discord::IpDiscovery;
use voxwire_rtp::{PayloadType, RtpPacket, RtpPacketBuilder, RtpTimestamp, SeqNo, Ssrc};
use voxwire_sinks::{MediaPacket, UserId};

use crate::events::{CallStats, VoiceEvent};
use crate::{ConnectionInfo, Error};

/// Opus frames are 20 ms: 960 ticks of the 48 kHz RTP clock.
pub(crate) const OPUS_FRAME_TICKS: u32 = 960;
/// The Opus silence frame sent after speech stops.
pub(crate) const SILENCE_FRAME: [u8; 3] = [0xF8, 0xFF, 0xFE];
/// Largest datagram handled.
pub(crate) const MAX_DATAGRAM: usize = 1500;
const DISCOVERY_RETRY: Duration = Duration::from_secs(1);
const DISCOVERY_ATTEMPTS: u32 = 5;
/// Sender reports go out this often while sending (protocol.md 10: 1 s to 5 s).
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(2);
/// Seconds from 1900-01-01 (NTP epoch) to 1970-01-01.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// Remote audio streams tracked at once.
const MAX_STREAMS: usize = 256;

/// What the core asks the driver to do.
#[derive(Debug)]
pub(crate) enum Output {
    /// Send this on the WebSocket.
    Ws(Transmit),
    /// Send this datagram.
    Udp { to: SocketAddr, data: Vec<u8> },
    /// Tell the user.
    Event(VoiceEvent),
    /// A received media frame, in order, for the sinks.
    Media(MediaPacket),
    /// The gateway socket ended; `action` says whether to resume, reconnect or stop.
    SocketClosed { action: CloseAction, code: u16, reason: String },
}

struct HeldMeta {
    seq: SeqNo,
    timestamp: RtpTimestamp,
    arrival: Instant,
}

/// RFC 3550 reception statistics of one remote stream, for report blocks (section 6.4.1 and
/// appendix A.3 and A.8).
#[derive(Default)]
struct Reception {
    unwrapper: voxwire_rtp::SeqUnwrapper,
    base: Option<i64>,
    highest: Option<voxwire_rtp::ExtendedSeq>,
    received: u64,
    expected_prior: i64,
    received_prior: u64,
    /// Interarrival jitter in RTP timestamp units.
    jitter: f64,
    last_transit: Option<f64>,
    /// The middle 32 bits of the last sender report's NTP time, and when it arrived.
    last_sr: Option<(u32, Instant)>,
}

impl Reception {
    fn on_packet(&mut self, seq: SeqNo, timestamp: RtpTimestamp, arrival_ticks: f64) {
        let ext = self.unwrapper.unwrap(seq);
        self.base = Some(self.base.map_or(ext.get(), |b| b.min(ext.get())));
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.received += 1;
        let transit = arrival_ticks - f64::from(timestamp.0);
        if let Some(last) = self.last_transit.replace(transit) {
            let d = (transit - last).abs();
            // Timestamps wrap at 2^32: a wrap looks like a huge jump, not jitter.
            if d < f64::from(u32::MAX / 2) {
                self.jitter += (d - self.jitter) / 16.0;
            }
        }
    }

    fn block(&mut self, ssrc: u32, now: Instant) -> Option<voxwire_rtcp::ReportBlock> {
        let (base, highest) = (self.base?, self.highest?);
        let expected = highest.get() - base + 1;
        let received = i64::try_from(self.received).unwrap_or(i64::MAX);
        let expected_interval = expected - self.expected_prior;
        let received_interval = received - i64::try_from(self.received_prior).unwrap_or(i64::MAX);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval - received_interval;
        let fraction_lost = if expected_interval <= 0 || lost_interval <= 0 {
            0
        } else {
            u8::try_from((lost_interval << 8) / expected_interval).unwrap_or(u8::MAX)
        };
        let (last_sr, delay_since_last_sr) = self.last_sr.map_or((0, 0), |(mid, at)| {
            let d = now.saturating_duration_since(at);
            (mid, u32::try_from(d.as_micros() * 65_536 / 1_000_000).unwrap_or(u32::MAX))
        });
        Some(voxwire_rtcp::ReportBlock {
            ssrc: Ssrc(ssrc),
            fraction_lost,
            cumulative_lost: i32::try_from((expected - received).clamp(-0x80_0000, 0x7F_FFFF))
                .unwrap_or(0),
            extended_highest_seq: highest.to_rtcp_u32(),
            jitter: jitter_field(self.jitter),
            last_sr,
            delay_since_last_sr,
        })
    }
}

/// The report block's jitter field: non-negative by construction, saturating.
#[expect(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "clamped to the u32 range first"
)]
fn jitter_field(j: f64) -> u32 {
    j.clamp(0.0, f64::from(u32::MAX)) as u32
}

struct Stream {
    reception: Reception,
    jitter: AudioJitterBuffer,
    /// Metadata of frames DAVE holds, in arrival order.
    held: VecDeque<HeldMeta>,
    wake: Option<Instant>,
}

/// The core. See the module docs.
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts of one connection, not a state enum"
)]
pub(crate) struct Call {
    info: ConnectionInfo,
    /// Origin of the arrival clock used for interarrival jitter.
    epoch: Instant,
    modes: Vec<TransportMode>,
    dave_enabled: bool,
    gw: ClientConnection,
    dave: Option<DaveSession>,
    dave_version: u16,
    cipher: Option<TransportCipher>,
    server_udp: Option<SocketAddr>,
    ssrc: u32,
    discovery: Option<(Instant, u32)>,
    established: bool,
    /// The speaking flags last announced, re-announced on a new session.
    speaking: bool,
    // sending
    seq: SeqNo,
    timestamp: RtpTimestamp,
    /// RTP packets and payload octets sent, for sender reports (RFC 3550 6.4.1; wrap mod 2^32).
    sent_packets: u32,
    sent_octets: u32,
    last_report: Option<(Instant, u32)>,
    // receiving
    listening: bool,
    /// Users in the call (ops 11 and 13), kept even before the DAVE session exists: the gateway
    /// may announce them before op 4.
    present: std::collections::BTreeSet<u64>,
    users: HashMap<u32, u64>,
    streams: HashMap<u32, Stream>,
    /// DAVE's plaintext output, allocated when listening starts.
    plain_buf: Vec<u8>,
    out: VecDeque<Output>,
    stats: CallStats,
}

fn jitter_config() -> JitterBufferConfig {
    JitterBufferConfig { max_payload: MAX_DATAGRAM, ..JitterBufferConfig::default() }
}

impl Call {
    pub(crate) fn new(
        info: ConnectionInfo,
        modes: Vec<TransportMode>,
        dave_enabled: bool,
        now: Instant,
    ) -> Self {
        let identify = Identify {
            server_id: Snowflake(info.guild_id),
            user_id: Snowflake(info.user_id),
            session_id: info.session_id.clone(),
            token: info.token.clone(),
            max_dave_protocol_version: Some(u16::from(dave_enabled)),
            channel_id: None,
            video: None,
            streams: None,
            extra: voxwire_gateway::Extra::new(),
        };
        let gw = ClientConnection::new(
            GatewayConfig::new(identify).with_version(GatewayVersion::V8),
            now,
        );
        Self {
            info,
            epoch: now,
            modes,
            dave_enabled,
            gw,
            dave: None,
            dave_version: 0,
            cipher: None,
            server_udp: None,
            ssrc: 0,
            discovery: None,
            established: false,
            speaking: false,
            seq: SeqNo(rand::random()),
            timestamp: RtpTimestamp(rand::random()),
            sent_packets: 0,
            sent_octets: 0,
            last_report: None,
            listening: false,
            present: std::collections::BTreeSet::new(),
            users: HashMap::new(),
            streams: HashMap::new(),
            plain_buf: Vec::new(),
            out: VecDeque::new(),
            stats: CallStats::default(),
        }
    }

    /// The URL path and query of the gateway WebSocket.
    pub(crate) fn gateway_query(&self) -> String {
        format!("/?v={}", self.gw.version().0)
    }

    pub(crate) fn stats(&self) -> CallStats {
        let mut s = self.stats.clone();
        s.ssrc = self.ssrc;
        s.mode = self.cipher.as_ref().map(|c| c.mode().name().to_owned());
        s.dave_protocol_version = self.dave_version;
        s.dave_epoch = self.dave.as_ref().map_or(0, DaveSession::epoch);
        s.privacy_code = self.dave.as_ref().and_then(|d| d.privacy_code().map(str::to_owned));
        s.gateway_latency = self.gw.latency();
        if let Some(d) = &self.dave {
            s.dave_dropped = d.stats().dropped();
        }
        s.streams = self
            .streams
            .iter()
            .map(|(ssrc, st)| crate::events::StreamStats {
                ssrc: *ssrc,
                user_id: self.users.get(ssrc).copied(),
                jitter: st.jitter.stats(),
            })
            .collect();
        s.streams.sort_by_key(|st| st.ssrc);
        s
    }

    pub(crate) fn set_listening(&mut self, on: bool) {
        self.listening = on;
        if on && self.plain_buf.is_empty() {
            self.plain_buf = vec![0; MAX_DATAGRAM + 64];
        }
        if !on {
            self.streams.clear();
        }
    }

    // ---- gateway --------------------------------------------------------------------------------

    pub(crate) fn handle_ws_text(&mut self, text: &str, now: Instant) {
        if let Err(e) = self.gw.handle_text(text, now) {
            tracing::debug!("gateway message refused: {e}");
        }
        self.drain_gateway(now);
    }

    pub(crate) fn handle_ws_binary(&mut self, data: &[u8], now: Instant) {
        if let Err(e) = self.gw.handle_binary(data, now) {
            tracing::debug!("gateway binary message refused: {e}");
        }
        self.drain_gateway(now);
    }

    pub(crate) fn handle_ws_closed(
        &mut self,
        frame: Option<voxwire_gateway::CloseFrame>,
        now: Instant,
    ) {
        self.gw.handle_close(frame, now);
        self.drain_gateway(now);
    }

    /// On a new socket after a resumable close: queue Resume.
    pub(crate) fn resume(&mut self, now: Instant) -> Result<(), Error> {
        self.gw.resume(now)?;
        self.drain_gateway(now);
        Ok(())
    }

    /// On a new socket after a close that needs a fresh session: queue Identify.
    pub(crate) fn reconnect(
        &mut self,
        info: Option<ConnectionInfo>,
        now: Instant,
    ) -> Result<(), Error> {
        let identify = info.map(|i| {
            self.info = i;
            Identify {
                server_id: Snowflake(self.info.guild_id),
                user_id: Snowflake(self.info.user_id),
                session_id: self.info.session_id.clone(),
                token: self.info.token.clone(),
                max_dave_protocol_version: Some(u16::from(self.dave_enabled)),
                channel_id: None,
                video: None,
                streams: None,
                extra: voxwire_gateway::Extra::new(),
            }
        });
        self.established = false;
        self.cipher = None;
        self.discovery = None;
        // A new session means a new MLS membership: start DAVE afresh at op 4.
        self.dave = None;
        self.dave_version = 0;
        self.users.clear();
        self.present.clear();
        self.streams.clear();
        if self.gw.state() != voxwire_gateway::ClientState::Closed {
            // A server move while connected: end the old session quietly (its socket is gone).
            self.gw.close(now);
            while self.gw.poll_transmit().is_some() {}
            while self.gw.poll_event().is_some() {}
        }
        self.gw.reconnect(identify, now)?;
        self.drain_gateway(now);
        Ok(())
    }

    /// Closes the session normally.
    pub(crate) fn close(&mut self, now: Instant) {
        self.gw.close(now);
        self.drain_gateway(now);
    }

    pub(crate) fn set_speaking(&mut self, on: bool, now: Instant) {
        self.speaking = on;
        let flags = if on { SpeakingFlags::MICROPHONE } else { SpeakingFlags::NONE };
        if self.gw.send_speaking(flags, now).is_ok() {
            self.drain_gateway(now);
        }
    }

    fn drain_gateway(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.gw.poll_transmit() {
                self.out.push_back(Output::Ws(t));
                progressed = true;
            }
            if let Some(ev) = self.gw.poll_event() {
                self.on_gateway_event(ev, now);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
    }

    fn on_gateway_event(&mut self, ev: ClientEvent, now: Instant) {
        match ev {
            ClientEvent::Ready(r) => {
                self.ssrc = r.ssrc.0;
                let addr = r.ip.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, r.port));
                self.server_udp = addr;
                if addr.is_none() {
                    self.out.push_back(Output::Event(VoiceEvent::Error(format!(
                        "Ready carries a bad address {}:{}",
                        r.ip, r.port
                    ))));
                }
                self.discovery = Some((now, 0));
                self.send_discovery(now);
            }
            ClientEvent::SessionDescription(sd) => self.on_session_description(&sd, now),
            ClientEvent::Resumed => {
                // Keys, SSRC and the DAVE group survive a resume.
                self.established = self.cipher.is_some();
                self.out.push_back(Output::Event(VoiceEvent::Resumed));
            }
            ClientEvent::Speaking(s) => {
                if let Some(user) = s.user_id {
                    self.users.insert(s.ssrc.0, user.0);
                    if let Some(d) = self.dave.as_mut() {
                        d.map_ssrc(s.ssrc.0, user.0);
                    }
                    self.release_held(now);
                    self.out.push_back(Output::Event(VoiceEvent::Speaking {
                        user_id: user.0,
                        ssrc: s.ssrc.0,
                        flags: s.speaking.0,
                    }));
                }
            }
            ClientEvent::ClientsConnect(c) => {
                let ids: Vec<u64> = c.user_ids.iter().map(|u| u.0).collect();
                self.present.extend(ids.iter().copied());
                if let Some(d) = self.dave.as_mut() {
                    d.handle_clients_connect(&ids);
                }
                for id in ids {
                    self.out.push_back(Output::Event(VoiceEvent::UserJoined(id)));
                }
                self.drain_dave(now);
            }
            ClientEvent::ClientDisconnect(c) => {
                let user = c.user_id.0;
                self.present.remove(&user);
                if let Some(d) = self.dave.as_mut() {
                    d.handle_client_disconnect(user);
                }
                let gone: Vec<u32> =
                    self.users.iter().filter(|(_, u)| **u == user).map(|(s, _)| *s).collect();
                for s in gone {
                    self.users.remove(&s);
                    self.streams.remove(&s);
                    if let Some(d) = self.dave.as_mut() {
                        d.unmap_ssrc(s);
                    }
                }
                self.out.push_back(Output::Event(VoiceEvent::UserLeft(user)));
                self.drain_dave(now);
            }
            ClientEvent::Dave(d) => self.on_gateway_dave(d, now),
            ClientEvent::HeartbeatAck { latency } => self.stats.gateway_latency = Some(latency),
            ClientEvent::Closed(reason) => {
                self.established = false;
                self.out.push_back(Output::SocketClosed {
                    action: reason.action,
                    code: reason.code.0,
                    reason: reason.reason,
                });
            }
            _ => {}
        }
    }

    fn send_discovery(&mut self, now: Instant) {
        let Some(to) = self.server_udp else { return };
        if let Ok(req) = IpDiscovery::request(Ssrc(self.ssrc)).to_bytes() {
            self.out.push_back(Output::Udp { to, data: req.to_vec() });
        }
        if let Some((_, n)) = self.discovery {
            self.discovery = Some((now + DISCOVERY_RETRY, n + 1));
        }
    }

    fn on_discovery_response(&mut self, data: &[u8], now: Instant) {
        if self.discovery.is_none() {
            return;
        }
        let Ok(resp) = IpDiscovery::parse(data) else { return };
        if resp.ssrc.0 != self.ssrc {
            return;
        }
        self.discovery = None;
        let offered: Vec<String> = self
            .gw
            .ready()
            .map(|r| r.modes.iter().map(|m| m.as_str().to_owned()).collect())
            .unwrap_or_default();
        let mode =
            match TransportMode::negotiate_with(offered.iter().map(String::as_str), &self.modes) {
                Ok(m) => m,
                Err(e) => {
                    self.out.push_back(Output::Event(VoiceEvent::Error(format!(
                        "no common transport mode: {e}"
                    ))));
                    self.gw.close(now);
                    self.drain_gateway(now);
                    return;
                }
            };
        let select = SelectProtocol::udp(
            resp.address,
            resp.port,
            voxwire_gateway::EncryptionMode::from_wire(mode.name()),
        );
        if let Err(e) = self.gw.select_protocol(select, now) {
            self.out.push_back(Output::Event(VoiceEvent::Error(format!("select protocol: {e}"))));
        }
        self.drain_gateway(now);
    }

    fn on_session_description(&mut self, sd: &voxwire_gateway::SessionDescription, now: Instant) {
        let mode = match sd.mode.as_str().parse::<TransportMode>() {
            Ok(m) => m,
            Err(e) => {
                self.out.push_back(Output::Event(VoiceEvent::Error(format!(
                    "server chose an unknown mode: {e}"
                ))));
                return;
            }
        };
        match TransportCipher::new(mode, &sd.secret_key.0) {
            Ok(c) => self.cipher = Some(c),
            Err(e) => {
                self.out.push_back(Output::Event(VoiceEvent::Error(format!("transport key: {e}"))));
                return;
            }
        }
        self.dave_version = sd.dave_protocol_version;
        if self.dave_enabled {
            let dave = self.dave.get_or_insert_with(|| {
                DaveSession::new(DaveSessionConfig::new(self.info.user_id, self.info.channel_id))
            });
            let present: Vec<u64> = self.present.iter().copied().collect();
            dave.handle_clients_connect(&present);
            for (ssrc, user) in &self.users {
                dave.map_ssrc(*ssrc, *user);
            }
            if let Err(e) = dave.handle_session_description(sd.dave_protocol_version, now) {
                self.out.push_back(Output::Event(VoiceEvent::Error(format!("DAVE: {e}"))));
            }
            self.drain_dave(now);
        }
        self.established = true;
        if self.speaking {
            // A new session (server move, full reconnect): receivers learn the new SSRC from op 5.
            self.set_speaking(true, now);
        }
        self.out.push_back(Output::Event(VoiceEvent::Connected {
            ssrc: self.ssrc,
            mode: mode.name().to_owned(),
            dave_protocol_version: sd.dave_protocol_version,
        }));
    }

    fn on_gateway_dave(&mut self, ev: GatewayDaveEvent, now: Instant) {
        let Some(dave) = self.dave.as_mut() else { return };
        let result = match ev {
            GatewayDaveEvent::PrepareTransition { protocol_version, transition_id } => {
                dave.handle_prepare_transition(protocol_version, transition_id.0, now)
            }
            GatewayDaveEvent::ExecuteTransition { transition_id } => {
                dave.handle_execute_transition(transition_id.0, now)
            }
            GatewayDaveEvent::PrepareEpoch { protocol_version, epoch } => {
                dave.handle_prepare_epoch(protocol_version, epoch, now)
            }
            GatewayDaveEvent::ExternalSender(p) => dave.handle_external_sender(&p, now),
            GatewayDaveEvent::Proposals { operation, data } => {
                let mut payload = Vec::with_capacity(1 + data.len());
                payload.push(operation.0);
                payload.extend_from_slice(&data);
                dave.handle_proposals(&payload, now)
            }
            GatewayDaveEvent::AnnounceCommitTransition { transition_id, commit } => {
                let mut payload = Vec::with_capacity(2 + commit.len());
                payload.extend_from_slice(&transition_id.0.to_be_bytes());
                payload.extend_from_slice(&commit);
                dave.handle_announce_commit(&payload, now)
            }
            GatewayDaveEvent::Welcome { transition_id, welcome } => {
                let mut payload = Vec::with_capacity(2 + welcome.len());
                payload.extend_from_slice(&transition_id.0.to_be_bytes());
                payload.extend_from_slice(&welcome);
                dave.handle_welcome(&payload, now)
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::debug!("DAVE message refused: {e}");
        }
        self.drain_dave(now);
    }

    fn drain_dave(&mut self, now: Instant) {
        let Some(dave) = self.dave.as_mut() else { return };
        let mut transmits = Vec::new();
        while let Some(t) = dave.poll_transmit() {
            transmits.push(t);
        }
        let mut events = Vec::new();
        while let Some(e) = dave.poll_event() {
            events.push(e);
        }
        for t in transmits {
            let sent = match t {
                DaveTransmit::TransitionReady { transition_id } => self.gw.send(
                    &ClientMessage::DaveTransitionReady(DaveTransition {
                        transition_id: TransitionId(transition_id),
                        extra: voxwire_gateway::Extra::new(),
                    }),
                    now,
                ),
                DaveTransmit::InvalidCommitWelcome { transition_id } => self.gw.send(
                    &ClientMessage::DaveInvalidCommitWelcome(DaveTransition {
                        transition_id: TransitionId(transition_id),
                        extra: voxwire_gateway::Extra::new(),
                    }),
                    now,
                ),
                DaveTransmit::KeyPackage(kp) => self.gw.send_dave(ClientDave::KeyPackage(&kp), now),
                DaveTransmit::CommitWelcome(cw) => {
                    self.gw.send_dave(ClientDave::CommitWelcome(&cw), now)
                }
            };
            if let Err(e) = sent {
                tracing::debug!("DAVE message not sent: {e}");
            }
        }
        for e in events {
            let ev = match e {
                CryptoDaveEvent::Ready => VoiceEvent::DaveReady,
                CryptoDaveEvent::EpochChanged { epoch, privacy_code } => {
                    VoiceEvent::DaveEpoch { epoch, privacy_code }
                }
                CryptoDaveEvent::TransitionExecuted { transition_id, protocol_version } => {
                    self.dave_version = protocol_version;
                    VoiceEvent::DaveTransition { transition_id, protocol_version }
                }
                CryptoDaveEvent::MlsError { opcode, error } => {
                    VoiceEvent::Error(format!("DAVE op {opcode}: {error}"))
                }
            };
            self.out.push_back(Output::Event(ev));
        }
        // Gateway transmits queued above.
        while let Some(t) = self.gw.poll_transmit() {
            self.out.push_back(Output::Ws(t));
        }
        self.release_held(now);
    }

    /// Whether the DAVE session can encrypt (or DAVE is off for this call).
    pub(crate) fn can_send(&self) -> bool {
        self.established
            && (self.dave_version == 0 || self.dave.as_ref().is_some_and(DaveSession::is_ready))
    }

    // ---- sending ---------------------------------------------------------------------------------

    /// Builds the next audio packet from one Opus frame into `out` and returns where to send it
    /// and its length; `scratch` (at least [`MAX_DATAGRAM`] bytes) takes the DAVE frame. Nothing
    /// is allocated, and the buffers belong to the caller, so one pair serves every connection.
    pub(crate) fn build_audio(
        &mut self,
        opus: &[u8],
        out: &mut [u8],
        scratch: &mut [u8],
    ) -> Result<Option<(SocketAddr, usize)>, Error> {
        let (Some(to), true) = (self.server_udp, self.established) else { return Ok(None) };
        let Some(cipher) = self.cipher.as_mut() else { return Ok(None) };
        let payload: &[u8] = match self.dave.as_mut() {
            Some(dave) if self.dave_version > 0 => {
                let n = dave.encrypt_opus(opus, scratch)?;
                &scratch[..n]
            }
            _ => opus,
        };
        let payload_len = payload.len();
        let builder = RtpPacketBuilder::new(
            PayloadType::DISCORD_OPUS,
            self.seq,
            self.timestamp,
            Ssrc(self.ssrc),
        )
        .payload(payload);
        let len = builder.write_into(out)?;
        let sent = cipher.encrypt_rtp(out, len)?;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(OPUS_FRAME_TICKS);
        self.stats.packets_sent += 1;
        self.sent_packets = self.sent_packets.wrapping_add(1);
        self.sent_octets = self.sent_octets.wrapping_add(payload_len as u32);
        Ok(Some((to, sent)))
    }

    /// A sender report, when one is due (every [`REPORT_INTERVAL`] while sending), written into
    /// `out` and encrypted: where to send it and its length. `wall` reads the wall clock for the NTP
    /// timestamp, `now` the monotonic clock of the rest of the core.
    pub(crate) fn poll_report(
        &mut self,
        now: Instant,
        wall: impl FnOnce() -> std::time::SystemTime,
        out: &mut [u8],
    ) -> Result<Option<(SocketAddr, usize)>, Error> {
        let (Some(to), true) = (self.server_udp, self.established) else { return Ok(None) };
        let sending = self.sent_packets > 0
            && self.last_report.is_none_or(|(_, packets)| packets != self.sent_packets);
        let receiving = !self.streams.is_empty();
        let due = self.last_report.is_none_or(|(at, _)| now.duration_since(at) >= REPORT_INTERVAL);
        if !due || !(sending || receiving) || self.cipher.is_none() {
            return Ok(None);
        }
        // At most 31 report blocks fit one report (RFC 3550 6.4).
        let mut blocks = [voxwire_rtcp::ReportBlock::default(); 31];
        let mut n = 0;
        for (ssrc, stream) in &mut self.streams {
            if n == blocks.len() {
                break;
            }
            if let Some(b) = stream.reception.block(*ssrc, now) {
                blocks[n] = b;
                n += 1;
            }
        }
        let blocks = &blocks[..n];
        let len = if sending {
            let since_1900 = wall().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
                + Duration::from_secs(NTP_UNIX_OFFSET);
            let ntp = (since_1900.as_secs() << 32)
                | ((u64::from(since_1900.subsec_nanos()) << 32) / 1_000_000_000);
            let sr = voxwire_rtcp::SenderReportBuilder {
                sender_ssrc: Ssrc(self.ssrc),
                info: voxwire_rtcp::SenderInfo {
                    ntp_timestamp: ntp,
                    // The timestamp of the next packet: the media time "now".
                    rtp_timestamp: self.timestamp.0,
                    packet_count: self.sent_packets,
                    octet_count: self.sent_octets,
                },
                report_blocks: blocks,
            };
            voxwire_rtcp::WriteRtcp::write_into(&sr, out)
        } else {
            let rr = voxwire_rtcp::ReceiverReportBuilder {
                sender_ssrc: Ssrc(self.ssrc),
                report_blocks: blocks,
            };
            voxwire_rtcp::WriteRtcp::write_into(&rr, out)
        }
        .map_err(|e| Error::InvalidArgument(format!("RTCP report: {e}")))?;
        let Some(cipher) = self.cipher.as_mut() else { return Ok(None) };
        let sent = cipher.encrypt_rtcp(out, len)?;
        self.last_report = Some((now, self.sent_packets));
        self.stats.reports_sent += 1;
        Ok(Some((to, sent)))
    }

    /// Skips one frame of RTP time (a paused or empty tick), so the receiver sees the gap.
    pub(crate) fn skip_frame(&mut self) {
        self.timestamp = self.timestamp.wrapping_add(OPUS_FRAME_TICKS);
    }

    // ---- receiving -------------------------------------------------------------------------------

    /// A received datagram, decrypted in place in `data`.
    pub(crate) fn handle_udp(&mut self, data: &mut [u8], now: Instant) {
        match voxwire_rtp::demux::classify(data) {
            DatagramKind::IpDiscoveryResponse => self.on_discovery_response(data, now),
            DatagramKind::Rtp => self.on_rtp(data, now),
            DatagramKind::Rtcp => self.on_rtcp(data, now),
            _ => self.stats.udp_ignored += 1,
        }
    }

    fn on_rtp(&mut self, data: &mut [u8], now: Instant) {
        let Some(cipher) = self.cipher.as_ref() else { return };
        let Ok(d) = cipher.decrypt_rtp(data) else {
            self.stats.decrypt_failures += 1;
            return;
        };
        let data = &*data;
        let Ok(pkt) = RtpPacket::parse(&data[..d.len]) else {
            self.stats.decrypt_failures += 1;
            return;
        };
        self.stats.packets_received += 1;
        if pkt.payload_type() != PayloadType::DISCORD_OPUS || !self.listening {
            return;
        }
        let (ssrc, seq, ts) = (pkt.ssrc().0, pkt.sequence_number(), pkt.timestamp());
        let Some(payload) = data.get(d.payload) else { return };
        if !self.streams.contains_key(&ssrc) && self.streams.len() >= MAX_STREAMS {
            self.stats.udp_ignored += 1;
            return;
        }
        let arrival_ticks = now.saturating_duration_since(self.epoch).as_secs_f64() * 48_000.0;
        let stream = self.streams.entry(ssrc).or_insert_with(|| Stream {
            reception: Reception::default(),
            jitter: AudioJitterBuffer::new(jitter_config()),
            held: VecDeque::new(),
            wake: None,
        });
        stream.reception.on_packet(seq, ts, arrival_ticks);
        match self.dave.as_mut() {
            Some(dave) if self.dave_version > 0 || dave.protocol_version() > 0 => {
                match dave.decrypt(ssrc, MediaKind::Audio, payload, &mut self.plain_buf, now) {
                    Ok(Decrypted::Frame { len, .. } | Decrypted::Passthrough { len }) => {
                        let p = AudioPacket {
                            ssrc: Ssrc(ssrc),
                            seq,
                            timestamp: ts,
                            payload: &self.plain_buf[..len],
                        };
                        let _ = stream.jitter.push(&p, now);
                        stream.wake = Some(now);
                    }
                    Ok(Decrypted::Held) => {
                        if stream.held.len() < 512 {
                            stream.held.push_back(HeldMeta { seq, timestamp: ts, arrival: now });
                        }
                    }
                    Ok(Decrypted::Dropped(_)) | Err(_) => self.stats.dave_failures += 1,
                }
            }
            _ => {
                let p = AudioPacket { ssrc: Ssrc(ssrc), seq, timestamp: ts, payload };
                let _ = stream.jitter.push(&p, now);
                stream.wake = Some(now);
            }
        }
        self.release_held(now);
    }

    fn on_rtcp(&mut self, data: &mut [u8], now: Instant) {
        let Some(cipher) = self.cipher.as_ref() else { return };
        let Ok(len) = cipher.decrypt_rtcp(data) else {
            self.stats.decrypt_failures += 1;
            return;
        };
        self.stats.rtcp_received += 1;
        let Some(plain) = data.get(..len) else { return };
        let Ok(compound) = voxwire_rtcp::Compound::parse(plain) else { return };
        for packet in compound.packets() {
            if let voxwire_rtcp::RtcpPacket::SenderReport(sr) = packet
                && let Some(stream) = self.streams.get_mut(&sr.sender_ssrc.0)
            {
                stream.reception.last_sr = Some(((sr.info.ntp_timestamp >> 16) as u32, now));
            }
        }
    }

    /// Moves frames DAVE has released into their jitter buffers.
    fn release_held(&mut self, now: Instant) {
        let Some(dave) = self.dave.as_mut() else { return };
        while let Some(r) = dave.poll_frame(&mut self.plain_buf, now) {
            let Some(stream) = self.streams.get_mut(&r.ssrc) else { continue };
            let Some(meta) = stream.held.pop_front() else { continue };
            let (Decrypted::Frame { len, .. } | Decrypted::Passthrough { len }) = r.outcome else {
                self.stats.dave_failures += 1;
                continue;
            };
            let _ = meta.arrival;
            let p = AudioPacket {
                ssrc: Ssrc(r.ssrc),
                seq: meta.seq,
                timestamp: meta.timestamp,
                payload: &self.plain_buf[..len],
            };
            let _ = stream.jitter.push(&p, now);
            stream.wake = Some(now);
        }
    }

    /// Frames due by `now` come out as [`Output::Media`].
    fn poll_media(&mut self, now: Instant) {
        for (ssrc, stream) in &mut self.streams {
            if stream.wake.is_some_and(|t| t > now) {
                continue;
            }
            stream.wake = None;
            loop {
                let user_id = self.users.get(ssrc).map(|u| UserId(*u));
                match stream.jitter.poll(now) {
                    Playout::Ready(f) => {
                        self.stats.frames_received += 1;
                        let p = MediaPacket::opus(
                            f.ssrc,
                            f.seq,
                            f.timestamp,
                            f.arrival,
                            Bytes::copy_from_slice(f.payload),
                        );
                        self.out.push_back(Output::Media(MediaPacket { user_id, ..p }));
                    }
                    Playout::Lost(l) => {
                        self.stats.frames_lost += 1;
                        let p = MediaPacket::lost(l.ssrc, l.seq, l.timestamp, l.deadline);
                        self.out.push_back(Output::Media(MediaPacket { user_id, ..p }));
                    }
                    Playout::Wait(t) => {
                        stream.wake = Some(t);
                        break;
                    }
                    Playout::Empty => break,
                }
            }
        }
    }

    // ---- time ------------------------------------------------------------------------------------

    #[must_use]
    pub(crate) fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Whether [`Call::poll_output`] has something.
    #[must_use]
    pub(crate) fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    #[must_use]
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let streams = self.streams.values().filter_map(|s| s.wake);
        [
            self.gw.poll_timeout(),
            self.dave.as_ref().and_then(DaveSession::poll_timeout),
            self.discovery.map(|(t, _)| t),
        ]
        .into_iter()
        .flatten()
        .chain(streams)
        .min()
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.gw.poll_timeout().is_some_and(|t| t <= now) {
            self.gw.handle_timeout(now);
            self.drain_gateway(now);
        }
        if let Some(d) = self.dave.as_mut()
            && d.poll_timeout().is_some_and(|t| t <= now)
        {
            d.handle_timeout(now);
            self.drain_dave(now);
        }
        if let Some((t, n)) = self.discovery
            && t <= now
        {
            if n >= DISCOVERY_ATTEMPTS {
                self.discovery = None;
                self.out.push_back(Output::Event(VoiceEvent::Error(
                    "IP discovery got no answer".into(),
                )));
                self.gw.close(now);
                self.drain_gateway(now);
            } else {
                self.send_discovery(now);
            }
        }
        self.poll_media(now);
    }
}
