//! Fuzz targets for voxwire-gateway: JSON envelope and payload parsing, binary DAVE frames,
//! and arbitrary message sequences fed to the client and server state machines.

use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use voxwire_gateway::{
    ClientConfig, ClientConnection, ClientDave, ClientEvent, ClientMessage, ClientState, CloseCode,
    CloseFrame, EncryptionMode, Extra, GatewayVersion, Identify, SelectProtocol, ServerBinary,
    ServerConfig, ServerConnection, ServerEvent, ServerMessage, ServerState, Snowflake,
    SpeakingFlags, Transmit,
};

use crate::Target;

/// voxwire-gateway's targets.
pub const TARGETS: &[Target] = &[
    Target { name: "gateway_json", run: json },
    Target { name: "gateway_binary", run: binary },
    Target { name: "gateway_client_sm", run: client_state_machine },
    Target { name: "gateway_server_sm", run: server_state_machine },
];

/// Parses text as a client and as a server message. Whatever parses re-encodes, and the
/// encoding parses again to the same opcode (and `seq`).
///
/// # Panics
///
/// When a check above fails: that is the finding.
pub fn json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = ClientMessage::parse(text) {
        let again = ClientMessage::parse(&m.encode().expect("encodes")).expect("own output parses");
        assert_eq!(again.opcode(), m.opcode());
    }
    if let Ok(f) = ServerMessage::parse(text) {
        let again = ServerMessage::parse(&f.message.encode(f.seq).expect("encodes"))
            .expect("own output parses");
        assert_eq!((again.message.opcode(), again.seq), (f.message.opcode(), f.seq));
    }
}

/// Parses bytes as a server frame (with and without the sequence number) and as a client
/// frame; anything accepted is rewritten to exactly the input bytes.
///
/// # Panics
///
/// When a check above fails: that is the finding.
pub fn binary(data: &[u8]) {
    for with_seq in [true, false] {
        if let Ok(f) = ServerBinary::parse(data, with_seq) {
            assert_eq!(f.message.calculate_size(with_seq), data.len());
            assert_eq!(f.message.to_vec(f.seq), data);
        }
    }
    if let Ok(m) = ClientDave::parse(data) {
        assert_eq!(m.to_vec(), data);
    }
}

/// Server messages the state-machine targets can pick, so that the fuzzer reaches deep states.
const SERVER_TEXTS: &[&str] = &[
    r#"{"op":8,"d":{"v":8,"heartbeat_interval":13750}}"#,
    r#"{"op":8,"d":{"v":4,"heartbeat_interval":100.5}}"#,
    r#"{"op":2,"d":{"ssrc":1,"ip":"127.0.0.1","port":5000,"modes":["aead_xchacha20_poly1305_rtpsize"]},"seq":1}"#,
    r#"{"op":4,"d":{"mode":"aead_xchacha20_poly1305_rtpsize","secret_key":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"dave_protocol_version":1},"seq":2}"#,
    r#"{"op":6,"d":{"t":1}}"#,
    r#"{"op":6,"d":1}"#,
    r#"{"op":9,"d":null}"#,
    r#"{"op":3,"d":null}"#,
    r#"{"op":5,"d":{"speaking":1,"ssrc":2,"user_id":"3"},"seq":3}"#,
    r#"{"op":11,"d":{"user_ids":["3"]},"seq":4}"#,
    r#"{"op":13,"d":{"user_id":"3"},"seq":5}"#,
    r#"{"op":21,"d":{"protocol_version":1,"transition_id":0},"seq":6}"#,
    r#"{"op":15,"d":{"any":100}}"#,
    r#"{"op":99,"d":{}}"#,
];

/// Client messages the server target can pick.
const CLIENT_TEXTS: &[&str] = &[
    r#"{"op":0,"d":{"server_id":"1","user_id":"2","session_id":"s","token":"t","max_dave_protocol_version":1}}"#,
    r#"{"op":7,"d":{"server_id":"1","session_id":"s","token":"t","seq_ack":2}}"#,
    r#"{"op":1,"d":{"protocol":"udp","data":{"address":"1.2.3.4","port":1,"mode":"aead_xchacha20_poly1305_rtpsize"}}}"#,
    r#"{"op":1,"d":{"protocol":"udp","data":{"address":"1.2.3.4","port":1,"mode":"xsalsa20_poly1305"}}}"#,
    r#"{"op":3,"d":{"t":5,"seq_ack":2}}"#,
    r#"{"op":3,"d":5}"#,
    r#"{"op":5,"d":{"speaking":1,"delay":0,"ssrc":1}}"#,
    r#"{"op":12,"d":{"audio_ssrc":1,"video_ssrc":0,"rtx_ssrc":0,"streams":[]}}"#,
    r#"{"op":23,"d":{"transition_id":3}}"#,
    r#"{"op":16,"d":{}}"#,
    r#"{"op":42,"d":[]}"#,
];

#[derive(Arbitrary, Debug)]
enum ClientOp {
    Known(u8),
    Text(String),
    Binary(Vec<u8>),
    Close(Option<u16>),
    Advance(u16),
    SelectProtocol,
    Speaking,
    SendKeyPackage(Vec<u8>),
    Resume,
    Reconnect,
    Leave,
}

fn identify() -> Identify {
    Identify {
        server_id: Snowflake(1),
        user_id: Snowflake(2),
        session_id: "s".into(),
        token: "t".into(),
        max_dave_protocol_version: Some(1),
        channel_id: Some(Snowflake(4)),
        video: None,
        streams: None,
        extra: Extra::new(),
    }
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list.get(usize::from(i) % list.len()).copied().unwrap_or_default()
}

/// Feeds an arbitrary sequence of server messages, closes, clock jumps and caller commands to
/// a client. Checks: no panic; time-outs never lie in the past after `handle_timeout`; a
/// closed client has no deadline; queues stay bounded.
///
/// # Panics
///
/// When a check above fails: that is the finding.
pub fn client_state_machine(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(v8) = u.arbitrary::<bool>() else { return };
    let version = if v8 { GatewayVersion::V8 } else { GatewayVersion::V4 };
    let config = ClientConfig::new(identify())
        .with_version(version)
        .with_max_queued_events(64)
        .with_max_message_size(4096);
    // The epoch is arbitrary: only differences matter.
    let mut now = epoch();
    let mut c = ClientConnection::new(config, now);
    for _ in 0..256 {
        if u.is_empty() {
            break;
        }
        let Ok(op) = u.arbitrary::<ClientOp>() else { break };
        match op {
            ClientOp::Known(i) => drop(c.handle_text(pick(SERVER_TEXTS, i), now)),
            ClientOp::Text(t) => drop(c.handle_text(&t, now)),
            ClientOp::Binary(b) => drop(c.handle_binary(&b, now)),
            ClientOp::Close(code) => {
                c.handle_close(code.map(|c| CloseFrame::new(CloseCode(c), "")), now);
            }
            ClientOp::Advance(ms) => {
                now += Duration::from_millis(u64::from(ms));
                c.handle_timeout(now);
                if let Some(t) = c.poll_timeout() {
                    assert!(t > now, "a deadline at or before now survived handle_timeout");
                }
            }
            ClientOp::SelectProtocol => {
                let _ = c.select_protocol(
                    SelectProtocol::udp("1.2.3.4", 1, EncryptionMode::AeadXChaCha20Poly1305Rtpsize),
                    now,
                );
            }
            ClientOp::Speaking => drop(c.send_speaking(SpeakingFlags::MICROPHONE, now)),
            ClientOp::SendKeyPackage(p) => drop(c.send_dave(ClientDave::KeyPackage(&p), now)),
            ClientOp::Resume => drop(c.resume(now)),
            ClientOp::Reconnect => drop(c.reconnect(None, now)),
            ClientOp::Leave => c.close(now),
        }
        let mut transmits = 0;
        while let Some(t) = c.poll_transmit() {
            transmits += 1;
            if let Transmit::Text(text) = t {
                ClientMessage::parse(&text).expect("the client's own output parses");
            }
        }
        assert!(transmits <= 8, "one input produced {transmits} transmits");
        let mut closed = false;
        while let Some(e) = c.poll_event() {
            closed |= matches!(e, ClientEvent::Closed(_));
        }
        if closed || c.state() == ClientState::Closed {
            assert_eq!(c.poll_timeout(), None);
        }
    }
}

#[derive(Arbitrary, Debug)]
enum ServerOp {
    Known(u8),
    Text(String),
    Binary(Vec<u8>),
    Close(Option<u16>),
    Advance(u16),
    AcceptIdentify,
    AcceptResume,
    SessionDescription,
    Announce,
    Reject(u16),
}

/// Feeds an arbitrary sequence of client messages and caller decisions to a server, with a
/// second connection standing by for resumes. Checks: no panic; every text it writes parses;
/// the replay buffer never exceeds its bound.
///
/// # Panics
///
/// When a check above fails: that is the finding.
pub fn server_state_machine(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(v8) = u.arbitrary::<bool>() else { return };
    let version = if v8 { GatewayVersion::V8 } else { GatewayVersion::V4 };
    let config = ServerConfig::new(version)
        .with_replay_capacity(8, 4096)
        .with_max_message_size(4096)
        .with_max_queued_events(64);
    let mut now = epoch();
    let mut s = ServerConnection::new(config.clone(), now);
    let mut previous: Option<ServerConnection> = None;
    for _ in 0..256 {
        if u.is_empty() {
            break;
        }
        let Ok(op) = u.arbitrary::<ServerOp>() else { break };
        match op {
            ServerOp::Known(i) => drop(s.handle_text(pick(CLIENT_TEXTS, i), now)),
            ServerOp::Text(t) => drop(s.handle_text(&t, now)),
            ServerOp::Binary(b) => drop(s.handle_binary(&b, now)),
            ServerOp::Close(code) => {
                s.handle_close(code.map(|c| CloseFrame::new(CloseCode(c), "")), now);
                // The client comes back on a new socket.
                previous =
                    Some(std::mem::replace(&mut s, ServerConnection::new(config.clone(), now)));
            }
            ServerOp::Advance(ms) => {
                now += Duration::from_millis(u64::from(ms));
                s.handle_timeout(now);
            }
            ServerOp::AcceptIdentify => {
                let ready = voxwire_gateway::Ready {
                    ssrc: voxwire_gateway::Ssrc(1),
                    ip: "127.0.0.1".into(),
                    port: 1,
                    modes: vec![EncryptionMode::AeadXChaCha20Poly1305Rtpsize],
                    heartbeat_interval: None,
                    experiments: None,
                    streams: None,
                    extra: Extra::new(),
                };
                let _ = s.accept_identify(ready, now);
            }
            ServerOp::AcceptResume => {
                if let Some(p) = previous.take() {
                    let _ = s.accept_resume(p, now);
                }
            }
            ServerOp::SessionDescription => {
                let sd = voxwire_gateway::SessionDescription {
                    mode: EncryptionMode::AeadXChaCha20Poly1305Rtpsize,
                    secret_key: voxwire_gateway::SecretKey([1; 32]),
                    dave_protocol_version: 0,
                    audio_codec: None,
                    video_codec: None,
                    media_session_id: None,
                    keyframe_interval: None,
                    bandwidth_estimation_experiment: None,
                    sdp: None,
                    extra: Extra::new(),
                };
                let _ = s.send_session_description(sd, now);
            }
            ServerOp::Announce => {
                let m = ServerMessage::ClientDisconnect(voxwire_gateway::ClientDisconnect {
                    user_id: Snowflake(9),
                    extra: Extra::new(),
                });
                let _ = s.send(&m, now);
            }
            ServerOp::Reject(code) => s.reject(CloseCode(code), "", now),
        }
        assert!(s.replay_len() <= 8);
        while let Some(t) = s.poll_transmit() {
            if let Transmit::Text(text) = t {
                ServerMessage::parse(&text).expect("the server's own output parses");
            }
        }
        let mut closed = false;
        while let Some(e) = s.poll_event() {
            closed |= matches!(e, ServerEvent::Closed(_));
        }
        if closed {
            assert_eq!(s.state(), ServerState::Closed);
            assert_eq!(s.poll_timeout(), None);
        }
    }
}

/// The origin of the targets' virtual clock.
fn epoch() -> Instant {
    Instant::now()
}
