//! A dropped socket and a resume with buffered replay, on v8.

mod common;

use std::time::Duration;

use common::{Pair, speaking};
use voxwire_gateway::*;

fn speaking_users(events: &[&ClientEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Speaking(s) => s.user_id.map(|u| u.0),
            _ => None,
        })
        .collect()
}

#[test]
fn messages_lost_in_flight_and_sent_while_down_are_replayed_once() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();
    pair.run_for(Duration::from_secs(20));
    let mark = pair.client_events.len();
    let now = pair.now;
    pair.server.send(&speaking(1, 101), now).unwrap();
    pair.run_for(Duration::from_millis(100)); // delivered
    // The connection dies silently: the next two are written to a dead socket.
    pair.server_to_client_up = false;
    let now = pair.now;
    pair.server.send(&speaking(2, 102), now).unwrap();
    pair.server.send_dave(ServerDave::ExternalSender(&[0xEE]), now).unwrap();
    pair.drive();
    pair.drop_socket();
    // While down, the server keeps numbering and buffering.
    let now = pair.now;
    pair.server.send(&speaking(3, 103), now).unwrap();
    assert!(pair.server.is_resumable());

    let closed = pair.client_events.iter().rev().find_map(|(_, e)| match e {
        ClientEvent::Closed(r) => Some(r.clone()),
        _ => None,
    });
    let closed = closed.unwrap();
    assert_eq!(
        (closed.code, closed.initiator, closed.action),
        (CloseCode::ABNORMAL, Initiator::Transport, CloseAction::Resume)
    );
    assert_eq!(pair.client.last_seq(), Some(Seq(3)), "Ready=1, op 4=2, speaking(1)=3");

    pair.run_for(Duration::from_secs(1));
    pair.new_socket();
    let now = pair.now;
    pair.client.resume(now).unwrap();
    pair.run_for(Duration::from_millis(200));

    let resume = pair.client_wire.iter().rev().find(|t| t.starts_with("{\"op\":7")).unwrap();
    let ClientMessage::Resume(r) = ClientMessage::parse(resume).unwrap() else { unreachable!() };
    assert_eq!(r.seq_ack, Some(Seq(3)));
    assert_eq!(r.session_id, "session-1");
    assert_eq!(r.channel_id, None, "v8 resume has no channel_id");

    let events = pair.client_events_since(mark);
    assert_eq!(speaking_users(&events), [1, 2, 3], "each message exactly once, in order");
    let resumed_at = events.iter().position(|e| matches!(e, ClientEvent::Resumed)).unwrap();
    assert!(
        events
            .iter()
            .position(|e| matches!(e, ClientEvent::Speaking(s) if s.user_id == Some(Snowflake(2))))
            .unwrap()
            > resumed_at
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Dave(DaveEvent::ExternalSender(p)) if p == &[0xEE]))
    );
    assert_eq!(pair.client.state(), ClientState::Established);
    assert_eq!(pair.server.state(), ServerState::Established);
    assert_eq!(pair.client.last_seq(), Some(Seq(6)));
    // No second Identify or Select Protocol on the new socket.
    let after_resume: Vec<Opcode> = pair
        .client_wire
        .iter()
        .skip_while(|t| !t.starts_with("{\"op\":7"))
        .map(|t| ClientMessage::parse(t).unwrap().opcode())
        .collect();
    assert!(
        !after_resume.contains(&Opcode::IDENTIFY)
            && !after_resume.contains(&Opcode::SELECT_PROTOCOL)
    );

    // Heartbeats continue on the new socket and their seq_ack trims the replay buffer.
    pair.run_for(Duration::from_secs(30));
    assert_eq!(pair.server.replay_len(), 0, "everything acknowledged was released");
    assert!(pair.client.latency().is_some());
}

#[test]
fn resume_after_the_buffer_overflowed_is_refused_and_client_reconnects() {
    let config = ServerConfig::new(GatewayVersion::V8).with_replay_capacity(4, 1 << 20);
    let mut pair =
        Pair::with_configs(ClientConfig::new(common::identify()).with_jitter_seed(3), config);
    pair.handshake();
    pair.drop_socket();
    let now = pair.now;
    for user in 0..10 {
        pair.server.send(&speaking(user, 200), now).unwrap();
    }
    assert_eq!(pair.server.replay_len(), 4);
    pair.new_socket();
    let now = pair.now;
    pair.client.resume(now).unwrap();
    pair.run_for(Duration::from_millis(200));
    let closed = pair.client_events.iter().rev().find_map(|(_, e)| match e {
        ClientEvent::Closed(r) => Some(r.clone()),
        _ => None,
    });
    let closed = closed.unwrap();
    assert_eq!((closed.code, closed.action), (CloseCode::SESSION_INVALID, CloseAction::Reconnect));
    assert!(
        speaking_users(&pair.client_events_since(0)).is_empty(),
        "nothing partial was replayed"
    );

    // Full reconnect on a fresh socket and session.
    pair.new_socket();
    pair.old_server = None;
    let now = pair.now;
    pair.client.reconnect(None, now).unwrap();
    pair.run_for(Duration::from_millis(300));
    assert_eq!(pair.client.state(), ClientState::Established);
    assert_eq!(pair.client.last_seq(), Some(Seq(2)));
}

#[test]
fn byte_budget_bounds_the_replay_buffer() {
    let config = ServerConfig::new(GatewayVersion::V8).with_replay_capacity(1000, 600);
    let mut pair = Pair::with_configs(ClientConfig::new(common::identify()), config);
    pair.handshake();
    pair.drop_socket();
    let now = pair.now;
    let big = vec![0u8; 250];
    for _ in 0..10 {
        pair.server.send_dave(ServerDave::ExternalSender(&big), now).unwrap();
    }
    assert_eq!(pair.server.replay_len(), 2, "2 x 253 bytes fit in 600, 3 do not");
}

#[test]
fn resume_with_wrong_token_is_refused() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.handshake();
    pair.drop_socket();
    pair.new_socket();
    pair.auto = false;
    let now = pair.now;
    pair.client.resume(now).unwrap();
    pair.run_for(Duration::from_millis(50));
    let ServerEvent::Resume(r) = &pair.server_events.last().unwrap().1 else { panic!() };
    assert_eq!(r.token, "token-1");
    // A different session's connection is offered instead.
    let mut other = ServerConnection::new(ServerConfig::new(GatewayVersion::V8), now);
    let mut id = common::identify();
    id.token = "other".into();
    other.handle_text(&ClientMessage::Identify(id).encode().unwrap(), now).unwrap();
    other.accept_identify(common::ready(), now).unwrap();
    other.handle_close(None, now);
    let err = pair.server.accept_resume(other, now).unwrap_err();
    assert!(matches!(err, Error::ResumeRefused { .. }), "{err}");
    pair.run_for(Duration::from_millis(50));
    assert_eq!(pair.client.state(), ClientState::Closed);
}

#[test]
fn seq_wraps_and_resume_still_replays_the_right_messages() {
    let config = ServerConfig::new(GatewayVersion::V8)
        .with_replay_capacity(100, 1 << 24)
        .with_rate_limit(u32::MAX, Duration::from_secs(1));
    let mut pair = Pair::with_configs(ClientConfig::new(common::identify()), config);
    pair.handshake();
    // Push the counter to the edge of the u16 space, acknowledging as we go.
    for round in 0..660u64 {
        let now = pair.now;
        for i in 0..100 {
            pair.server.send(&speaking(round * 100 + i, 1), now).unwrap();
        }
        pair.run_for(Duration::from_secs(14));
    }
    let last = pair.client.last_seq().unwrap();
    assert!(last.0 < 2000, "the counter wrapped: {last}");
    pair.drop_socket();
    let now = pair.now;
    for i in 0..5 {
        pair.server.send(&speaking(1_000_000 + i, 1), now).unwrap();
    }
    pair.new_socket();
    let mark = pair.client_events.len();
    let now = pair.now;
    pair.client.resume(now).unwrap();
    pair.run_for(Duration::from_millis(200));
    assert_eq!(
        speaking_users(&pair.client_events_since(mark)),
        [1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_004]
    );
}

#[test]
fn resume_before_session_description_returns_to_select_protocol() {
    let mut pair = Pair::new(GatewayVersion::V8);
    pair.auto = false;
    pair.run_for(Duration::from_millis(50));
    let now = pair.now;
    pair.server.accept_identify(common::ready(), now).unwrap();
    pair.run_for(Duration::from_millis(50));
    assert_eq!(pair.client.state(), ClientState::AwaitingSelectProtocol);
    pair.drop_socket();
    pair.new_socket();
    pair.auto = true;
    let now = pair.now;
    pair.client.resume(now).unwrap();
    pair.run_for(Duration::from_millis(100));
    assert_eq!(pair.client.state(), ClientState::AwaitingSelectProtocol);
    assert_eq!(pair.server.state(), ServerState::AwaitingSelectProtocol);
    let now = pair.now;
    pair.client
        .select_protocol(
            SelectProtocol::udp("203.0.113.7", 1, EncryptionMode::AeadAes256GcmRtpsize),
            now,
        )
        .unwrap();
    pair.run_for(Duration::from_millis(100));
    assert_eq!(pair.client.state(), ClientState::Established);
    assert_eq!(pair.server.state(), ServerState::Established);
}
